// How user text becomes prompt ids: the model's chat format (ChatFormat: Gemma 1-3 fold a
// system text into the user turn, Gemma 4 gives it a system turn) or the raw text after <bos>;
// and prompt templates with a {text} slot (batch).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "cli/chat_format.h"
#include "model/model.h"
#include "tokenizer/tokenizer.h"

namespace gemma::cli {

// Chat format when forced, raw when forced, else chat when the checkpoint ships a chat template
// (an instruction-tuned model). Usage error when both are forced.
bool UseChatFormat(const Model& model, bool force_chat, bool force_raw);

class PromptBuilder {
 public:
  // `chat`: prompts in `format`'s chat markup, else raw (the system text then precedes the
  // user text, separated by a blank line).
  PromptBuilder(const Tokenizer& tokenizer, int bos_id, bool chat, ChatFormat format,
                std::string system = "");
  // The whole prompt for one user message, ending where the model's answer starts.
  std::vector<int> Build(std::string_view user_text) const;
  bool chat() const { return chat_; }
  const ChatFormat& format() const { return format_; }

 private:
  const Tokenizer& tokenizer_;
  int bos_id_;
  bool chat_;
  ChatFormat format_;
  std::string system_;
};

inline constexpr std::string_view kTextSlot = "{text}";

// Replaces every {text} in `tmpl` with `text`.
std::string ApplyTemplate(std::string_view tmpl, std::string_view text);

}  // namespace gemma::cli
