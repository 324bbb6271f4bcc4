#include "cli/chat_format.h"

#include <CLI/CLI.hpp>

#include "gemma/error.h"

namespace gemma::cli {

ChatMarkup ChatMarkupFor(ModelFamily family) {
  return family == ModelFamily::kGemma4 ? ChatMarkup::kGemma4 : ChatMarkup::kGemma;
}

void AddThinkingFlags(CLI::App& app, ThinkingFlags* flags) {
  app.add_flag("--think", flags->think,
               "Gemma 4: ask the model to think before it answers (<|think|> in the system turn "
               "of a chat-format prompt); no effect on other models or with --raw");
  app.add_flag("--show-thinking", flags->show_thinking,
               "Gemma 4: print the model's thinking (<|channel>thought ... <channel|>) instead of "
               "hiding it; no effect on other models");
}

ChatFormat::ChatFormat(ModelFamily family, const ThinkingFlags& flags)
    : markup_(ChatMarkupFor(family)) {
  if (markup_ == ChatMarkup::kGemma4) {
    gemma4_.enable_thinking = flags.think;
    show_thinking_ = flags.show_thinking;
  }
}

std::string ChatFormat::Render(const std::vector<ChatMessage>& messages,
                               bool add_generation_prompt) const {
  if (markup_ == ChatMarkup::kGemma4) {
    return RenderGemma4Chat(messages, add_generation_prompt, gemma4_);
  }
  return RenderGemmaChat(messages, add_generation_prompt);
}

std::vector<int> ChatFormat::Encode(const Tokenizer& tokenizer,
                                    const std::vector<ChatMessage>& messages,
                                    bool add_generation_prompt) const {
  return TokenizeRenderedChat(tokenizer, Render(messages, add_generation_prompt));
}

std::string_view ChatFormat::turn_end() const {
  return markup_ == ChatMarkup::kGemma4 ? "<turn|>" : "<end_of_turn>";
}

// What rendering `longer` adds to rendering `shorter`, a conversation it extends. The text
// before the addition ("<bos>", a Gemma 4 system turn for --think, earlier turns) does not
// depend on what is added, so the pieces fed one at a time add up to the rendered whole.
std::string ChatFormat::RenderedAddition(const std::vector<ChatMessage>& shorter,
                                         bool shorter_generation_prompt,
                                         const std::vector<ChatMessage>& longer,
                                         bool longer_generation_prompt) const {
  const std::string before = Render(shorter, shorter_generation_prompt);
  const std::string after = Render(longer, longer_generation_prompt);
  if (after.compare(0, before.size(), before) != 0) {
    Fail(ErrorKind::kInternal, "the chat template does not render a turn as an addition");
  }
  return after.substr(before.size());
}

std::string ChatFormat::UserTurn(std::string_view user_text) const {
  return RenderedAddition({}, false, {ChatMessage{"user", std::string(user_text), {}}}, true);
}

std::string ChatFormat::ModelTurnEnd(std::string_view answer) const {
  // Any user text will do: the model turn's rendering does not depend on it.
  const ChatMessage user{"user", "?", {}};
  return RenderedAddition({user}, true, {user, ChatMessage{"assistant", std::string(answer), {}}},
                          false);
}

std::string ChatFormat::WithoutThinking(std::string_view text) const {
  if (markup_ != ChatMarkup::kGemma4) return std::string(text);
  Gemma4ThinkingFilter filter;
  std::string visible = filter.Feed(text);
  visible.append(filter.Finish());
  return visible;
}

std::string OutputFilter::Feed(std::string_view text) {
  return hide_thinking_ ? thinking_.Feed(text) : std::string(text);
}

std::string OutputFilter::Finish() {
  return hide_thinking_ ? thinking_.Finish() : std::string();
}

TextGeneration GenerateShownText(Session& session, Sampler& sampler, const Tokenizer& tokenizer,
                                 const std::vector<int>& prompt, const GenerateOptions& options,
                                 const ChatFormat& format,
                                 const std::function<void(std::string_view)>& on_text,
                                 std::string* raw_text) {
  OutputFilter filter(format);
  std::string shown;
  auto show = [&](const std::string& text) {
    if (text.empty()) return;
    shown.append(text);
    if (on_text) on_text(text);
  };
  TextGeneration result = GenerateText(session, sampler, tokenizer, prompt, options,
                                       [&](std::string_view text) { show(filter.Feed(text)); });
  show(filter.Finish());
  if (raw_text != nullptr) *raw_text = std::move(result.text);
  result.text = std::move(shown);
  return result;
}

}  // namespace gemma::cli
