// The chat format a model speaks, chosen once from its family, and what of its output a user
// sees. Gemma 1-3(n) use <start_of_turn>/<end_of_turn> turns and have no system role (a system
// text is folded into the first user turn); Gemma 4 uses <|turn>/<turn|> turns with a native
// system turn, may think first (<|channel>thought ... <channel|>), and that thinking is hidden
// unless asked for (gemma-models.md §4.3). PromptBuilder (run, batch), Conversation (chat) and
// the stop ids all ask a ChatFormat instead of knowing the markup themselves.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "gemma/model_config.h"
#include "model/generator.h"
#include "model/session.h"
#include "sampling/sampler.h"
#include "tokenizer/chat_template.h"
#include "tokenizer/tokenizer.h"

namespace CLI {
class App;
}

namespace gemma::cli {

enum class ChatMarkup {
  kGemma,   // Gemma 1, 2, 3, 3n: RenderGemmaChat
  kGemma4,  // RenderGemma4Chat
};

// The markup of a model family.
ChatMarkup ChatMarkupFor(ModelFamily family);

// --think and --show-thinking (run, chat, batch); only Gemma 4 models think.
struct ThinkingFlags {
  bool think = false;
  bool show_thinking = false;
};
void AddThinkingFlags(CLI::App& app, ThinkingFlags* flags);

class ChatFormat {
 public:
  // The family's markup; thinking options only where the markup has them (Gemma 4).
  ChatFormat(ModelFamily family, const ThinkingFlags& flags);

  ChatMarkup markup() const { return markup_; }

  // The message list in the template's text, starting with "<bos>"; with add_generation_prompt
  // it ends where the model's answer starts. Throws Error(kUsage) for roles Gemma 1-3 reject.
  std::string Render(const std::vector<ChatMessage>& messages, bool add_generation_prompt) const;
  // Render + TokenizeRenderedChat.
  std::vector<int> Encode(const Tokenizer& tokenizer, const std::vector<ChatMessage>& messages,
                          bool add_generation_prompt) const;

  // The piece that ends a turn: <end_of_turn> or <turn|>. The model ends its answer with it
  // (a stop token), and the text after an answer starts with it.
  std::string_view turn_end() const;

  // Pieces of a conversation whose KV cache is fed turn by turn, each exactly as Render writes
  // it inside the whole conversation:
  // - UserTurn: one more user turn and the start of the model's turn (the generation prompt).
  // - ModelTurnEnd: the rest of a model turn after the generation prompt: `answer` as the
  //   template writes a previous answer (trimmed; Gemma 4: without thinking) and the turn end.
  //   ModelTurnEnd("") closes an answer whose tokens are already in the cache: its turn end
  //   was sampled as a stop token, never fed.
  std::string UserTurn(std::string_view user_text) const;
  std::string ModelTurnEnd(std::string_view answer) const;

  // Gemma 4: `text` without its thinking blocks, as the template renders previous answers, so
  // an answer kept in a conversation or fed to a later prompt never holds thinking. Other
  // formats: `text` unchanged.
  std::string WithoutThinking(std::string_view text) const;

  // True when generated text is shown without its thinking blocks (Gemma 4 without
  // --show-thinking).
  bool hides_thinking() const { return markup_ == ChatMarkup::kGemma4 && !show_thinking_; }

 private:
  std::string RenderedAddition(const std::vector<ChatMessage>& shorter,
                               bool shorter_generation_prompt,
                               const std::vector<ChatMessage>& longer,
                               bool longer_generation_prompt) const;

  ChatMarkup markup_;
  Gemma4ChatOptions gemma4_;
  bool show_thinking_ = false;
};

// Generated text on its way to the user: thinking blocks removed when the format hides them,
// everything else unchanged. Feed streamed text as it comes; Finish at the end.
class OutputFilter {
 public:
  explicit OutputFilter(const ChatFormat& format) : hide_thinking_(format.hides_thinking()) {}
  std::string Feed(std::string_view text);
  std::string Finish();

 private:
  bool hide_thinking_;
  Gemma4ThinkingFilter thinking_;
};

// GenerateText whose output goes through an OutputFilter: `on_text` (may be empty) receives the
// shown text as it becomes final and the result's `text` is the shown text. `raw_text`, when
// given, receives everything generated (thinking included).
TextGeneration GenerateShownText(Session& session, Sampler& sampler, const Tokenizer& tokenizer,
                                 const std::vector<int>& prompt, const GenerateOptions& options,
                                 const ChatFormat& format,
                                 const std::function<void(std::string_view)>& on_text,
                                 std::string* raw_text = nullptr);

}  // namespace gemma::cli
