// How user text becomes prompt ids: the Gemma chat turn (a system text folded into the user
// turn, as the official Gemma 1-3 templates do) or the raw text after <bos>; and prompt
// templates with a {text} slot (batch).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "model/model.h"
#include "tokenizer/tokenizer.h"

namespace gemma::cli {

// Chat format when forced, raw when forced, else chat when the checkpoint ships a chat template
// (an instruction-tuned model). Usage error when both are forced.
bool UseChatFormat(const Model& model, bool force_chat, bool force_raw);

class PromptBuilder {
 public:
  PromptBuilder(const Tokenizer& tokenizer, int bos_id, bool chat, std::string system = "");
  // The whole prompt for one user message, ending where the model's answer starts.
  std::vector<int> Build(std::string_view user_text) const;
  bool chat() const { return chat_; }

 private:
  const Tokenizer& tokenizer_;
  int bos_id_;
  bool chat_;
  std::string system_;
};

inline constexpr std::string_view kTextSlot = "{text}";

// Replaces every {text} in `tmpl` with `text`.
std::string ApplyTemplate(std::string_view tmpl, std::string_view text);

}  // namespace gemma::cli
