#include "cli/conversation.h"

#include <nlohmann/json.hpp>

#include <fstream>

#include "cli/common.h"
#include "cli/terminal.h"
#include "gemma/error.h"

namespace gemma::cli {

Conversation::Conversation(Session& session, Sampler& sampler, const Tokenizer& tokenizer,
                           GenerateOptions options, ChatFormat format, std::string system)
    : session_(session),
      sampler_(sampler),
      tokenizer_(tokenizer),
      options_(std::move(options)),
      format_(std::move(format)),
      system_(std::move(system)) {}

std::vector<int> Conversation::TurnTokens(const std::string& user_text) const {
  if (fed_.empty()) {
    std::vector<ChatMessage> messages;
    if (!system_.empty()) messages.push_back({"system", system_, {}});
    messages.push_back({"user", user_text, {}});
    return format_.Encode(tokenizer_, messages, /*add_generation_prompt=*/true);
  }
  if (refeed_answer_) {
    // The answer again as the history holds it, closed, then the new turn, tokenized as one
    // text like the rendered conversation is.
    return tokenizer_.Encode(format_.ModelTurnEnd(turns_.back().content) +
                             format_.UserTurn(user_text));
  }
  const std::string text =
      (model_turn_open_ ? format_.ModelTurnEnd("") : std::string()) + format_.UserTurn(user_text);
  std::vector<int> ids = unfed_;
  const std::vector<int> rest = tokenizer_.Encode(text);
  ids.insert(ids.end(), rest.begin(), rest.end());
  return ids;
}

void Conversation::FailTooLong(size_t needed) const {
  const int left = session_.context_length() - static_cast<int>(fed_.size());
  Fail(ErrorKind::kContextOverflow,
       "this turn needs " + std::to_string(needed) + " tokens (and room for an answer) but " +
           std::to_string(left) + " of the context's " + std::to_string(session_.context_length()) +
           " tokens are left; /clear starts a new conversation (or raise -c/--ctx-size)");
}

void Conversation::RestoreTo(size_t n_tokens) {
  try {
    session_.Rewind(static_cast<int>(n_tokens));
  } catch (const Error&) {
    // A sliding-window ring no longer holds what the position needs: prefill again.
    session_.Rewind(0);
    if (n_tokens > 0) session_.Forward(fed_.data(), static_cast<int>(n_tokens));
  }
  fed_.resize(n_tokens);
}

TextGeneration Conversation::Say(const std::string& user_text, const TextSink& on_text) {
  const std::vector<int> delta = TurnTokens(user_text);
  const size_t start = refeed_answer_ ? answer_start_ : fed_.size();
  if (static_cast<int>(start + delta.size()) + 1 > session_.context_length()) {
    FailTooLong(delta.size());
  }
  if (start < fed_.size()) RestoreTo(start);
  GenerateOptions g = options_;
  g.on_prefill_progress = MakeProgressBar("prefill", static_cast<int>(delta.size()));
  std::string raw_answer;
  TextGeneration gen =
      GenerateShownText(session_, sampler_, tokenizer_, delta, g, format_, on_text, &raw_answer);
  const size_t pos = static_cast<size_t>(session_.position());
  if (pos < start + delta.size()) {  // cancelled during the prefill: forget the turn
    RestoreTo(start);
    return gen;
  }
  fed_.insert(fed_.end(), delta.begin(), delta.end());
  answer_start_ = fed_.size();
  const size_t n_fed = std::min(gen.ids.size(), pos - fed_.size());
  fed_.insert(fed_.end(), gen.ids.begin(), gen.ids.begin() + static_cast<ptrdiff_t>(n_fed));
  unfed_.clear();
  // A cancelled answer's last id was shown: feed it with the next turn. A stop string's was
  // cut from the text: drop it.
  if (!gen.stopped_by_string)
    unfed_.assign(gen.ids.begin() + static_cast<ptrdiff_t>(n_fed), gen.ids.end());
  std::string answer = format_.WithoutThinking(raw_answer);
  refeed_answer_ = answer != raw_answer;
  turns_.push_back({"user", user_text, {}});
  turns_.push_back({"assistant", std::move(answer), {}});
  model_turn_open_ = true;
  return gen;
}

void Conversation::Clear() {
  session_.Rewind(0);
  sampler_.Reset();
  fed_.clear();
  unfed_.clear();
  turns_.clear();
  model_turn_open_ = false;
  refeed_answer_ = false;
}

void Conversation::Save(const std::string& path) const {
  nlohmann::ordered_json messages = nlohmann::ordered_json::array();
  if (!system_.empty()) messages.push_back({{"role", "system"}, {"content", system_}});
  for (const ChatMessage& m : turns_) {
    messages.push_back({{"role", m.role}, {"content", m.content}});
  }
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << messages.dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace) << '\n';
  out.close();
  if (!out) Fail(ErrorKind::kIo, path + ": cannot write the conversation");
}

bool Conversation::Load(const std::string& path, const TextSink& on_text, TextGeneration* answer) {
  std::vector<ChatMessage> messages = ParseChatMessagesJson(ReadFileOrThrow(path), path);
  std::string system;
  if (!messages.empty() && messages[0].role == "system") system = messages[0].content;
  format_.Render(messages, false);  // Gemma 1-3: throws Error(kUsage) when roles do not alternate
  std::vector<ChatMessage> turns = messages;
  if (!turns.empty() && turns[0].role == "system") turns.erase(turns.begin());
  for (ChatMessage& m : turns) {  // as Say keeps answers (the rendering drops thinking anyway)
    if (m.role == "assistant" || m.role == "model") m.content = format_.WithoutThinking(m.content);
  }
  std::string last_user;
  const bool ends_with_user = !turns.empty() && turns.back().role == "user";
  if (ends_with_user) {
    last_user = turns.back().content;
    turns.pop_back();
  }
  std::vector<int> ids;
  if (!turns.empty()) {
    std::vector<ChatMessage> closed;
    if (!system.empty()) closed.push_back({"system", system, {}});
    closed.insert(closed.end(), turns.begin(), turns.end());
    ids = format_.Encode(tokenizer_, closed, /*add_generation_prompt=*/false);
    if (static_cast<int>(ids.size()) + 1 > session_.context_length()) {
      Fail(ErrorKind::kContextOverflow,
           path + ": the conversation is " + std::to_string(ids.size()) +
               " tokens but the context holds " + std::to_string(session_.context_length()) +
               " (raise -c/--ctx-size)");
    }
  }
  Clear();
  system_ = system;
  if (!ids.empty()) {
    session_.Forward(ids);
    for (int id : ids) sampler_.Accept(id);
    fed_ = ids;
    turns_ = turns;
  }
  if (!ends_with_user) return false;
  *answer = Say(last_user, on_text);
  return true;
}

}  // namespace gemma::cli
