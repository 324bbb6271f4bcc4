#include "cli/prompt_builder.h"

#include "gemma/error.h"
#include "tokenizer/chat_template.h"

namespace gemma::cli {

bool UseChatFormat(const Model& model, bool force_chat, bool force_raw) {
  if (force_chat && force_raw) Fail(ErrorKind::kUsage, "--chat and --raw exclude each other");
  return force_chat || (!force_raw && !model.checkpoint().chat_template.empty());
}

PromptBuilder::PromptBuilder(const Tokenizer& tokenizer, int bos_id, bool chat, ChatFormat format,
                             std::string system)
    : tokenizer_(tokenizer),
      bos_id_(bos_id),
      chat_(chat),
      format_(std::move(format)),
      system_(std::move(system)) {}

std::vector<int> PromptBuilder::Build(std::string_view user_text) const {
  if (chat_) {
    std::vector<ChatMessage> messages;
    if (!system_.empty()) messages.push_back(ChatMessage{"system", system_, {}});
    messages.push_back(ChatMessage{"user", std::string(user_text), {}});
    return format_.Encode(tokenizer_, messages, /*add_generation_prompt=*/true);
  }
  std::vector<int> ids = {bos_id_};
  std::string text;
  if (!system_.empty()) text = system_ + "\n\n";
  text += user_text;
  const std::vector<int> body = tokenizer_.Encode(text);
  ids.insert(ids.end(), body.begin(), body.end());
  return ids;
}

std::string ApplyTemplate(std::string_view tmpl, std::string_view text) {
  std::string out;
  size_t pos = 0;
  for (;;) {
    const size_t at = tmpl.find(kTextSlot, pos);
    if (at == std::string_view::npos) break;
    out.append(tmpl.substr(pos, at - pos));
    out.append(text);
    pos = at + kTextSlot.size();
  }
  out.append(tmpl.substr(pos));
  return out;
}

}  // namespace gemma::cli
