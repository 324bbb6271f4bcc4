// A multi-turn chat over one Session, in the model's ChatFormat. The KV cache always holds
// exactly the tokens of the conversation so far, so each turn feeds only its own tokens: the
// previous answer's turn end (<end_of_turn> or <turn|>: the stop token was sampled, never fed)
// and newline, the user's turn and the start of the model's turn. Gemma 1-3 have no system
// role (a system text is folded into the first user turn); Gemma 4 has a system turn. A Gemma 4
// answer that thought is kept without its thinking, as the template renders previous turns: the
// next turn feeds that answer again from where it began, so the cache matches the history.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "cli/chat_format.h"
#include "model/generator.h"
#include "model/session.h"
#include "sampling/sampler.h"
#include "tokenizer/chat_template.h"
#include "tokenizer/tokenizer.h"

namespace gemma::cli {

class Conversation {
 public:
  using TextSink = std::function<void(std::string_view)>;

  Conversation(Session& session, Sampler& sampler, const Tokenizer& tokenizer,
               GenerateOptions options, ChatFormat format, std::string system);

  // Feeds the user's turn and streams the answer (as OutputFilter shows it) to `on_text`; the
  // result's text is the shown answer. Throws Error(kContextOverflow),
  // leaving the conversation as it was, when the turn does not fit in what is left of the
  // context. When cancelled before the answer started, the turn is forgotten.
  TextGeneration Say(const std::string& user_text, const TextSink& on_text);

  // Forgets every turn (the system text stays).
  void Clear();
  // Writes the conversation as a JSON message list ([{"role": ..., "content": ...}, ...]).
  void Save(const std::string& path) const;
  // Replaces the conversation with a JSON message list (as Save writes, or OpenAI-style). When
  // it ends with a user message, that message is answered (streamed to `on_text`) and true is
  // returned. The current conversation is kept if the file is unreadable or too long.
  bool Load(const std::string& path, const TextSink& on_text, TextGeneration* answer);

  int tokens_used() const { return static_cast<int>(fed_.size()); }
  // The tokens in the KV cache, oldest first.
  const std::vector<int>& tokens() const { return fed_; }
  int context_length() const { return session_.context_length(); }
  size_t turn_count() const { return turns_.size(); }

 private:
  // The tokens the next turn feeds, from fed_.size() or, when the last answer is fed again,
  // from answer_start_.
  std::vector<int> TurnTokens(const std::string& user_text) const;
  void RestoreTo(size_t n_tokens);
  [[noreturn]] void FailTooLong(size_t needed) const;

  Session& session_;
  Sampler& sampler_;
  const Tokenizer& tokenizer_;
  GenerateOptions options_;
  ChatFormat format_;
  std::string system_;
  std::vector<ChatMessage> turns_;  // user / assistant, alternating, without the system text
  std::vector<int> fed_;            // the tokens in the KV cache: session.position() == size
  std::vector<int> unfed_;          // shown but not fed (the last id of a cancelled answer)
  bool model_turn_open_ = false;    // the last answer's turn end is not fed yet
  size_t answer_start_ = 0;         // where the last answer's tokens begin in fed_
  // The last answer's tokens hold thinking that its history text (turns_.back()) dropped.
  bool refeed_answer_ = false;
};

}  // namespace gemma::cli
