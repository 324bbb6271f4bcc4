// The Gemma 1/2/3 chat template, rendered in C++ (no Jinja). Matches the Gemma 3
// tokenizer_config.json template as Python transformers renders it:
//
//   <bos><start_of_turn>user\n{system}\n\n{user}<end_of_turn>\n<start_of_turn>model\n{...}...
//
// - A first `system` message is folded into the first turn as "{system}\n\n" (not trimmed).
// - After it, roles must alternate user / non-user starting with user, else Error(kUsage) with the
//   template's own message.
// - `assistant` is written `model`; any other role as it is.
// - Content is trimmed with Python's str.strip() (Unicode whitespace, incl. U+001C..U+001F and
//   U+0085, not U+FEFF). In list content, text parts are trimmed one by one and image parts
//   become <start_of_image>.
// - add_generation_prompt appends "<start_of_turn>model\n".
// Gemma 1/2 templates reject a system role instead; folding it is what their docs advise.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "tokenizer/tokenizer.h"

namespace gemma {

// One item of list content: {"type": "text", "text": ...} or {"type": "image"}.
struct ChatContentPart {
  std::string type;  // "text" or "image"; other types render nothing
  std::string text;
};

struct ChatMessage {
  std::string role;
  std::string content;
  // When non-empty, the message has list content and `content` is ignored.
  std::vector<ChatContentPart> parts = {};
};

std::string RenderGemmaChat(const std::vector<ChatMessage>& messages, bool add_generation_prompt);

// Tokenizes a rendered chat: a leading "<bos>" text becomes bos_id(), the rest goes through
// Encode (so <start_of_turn> etc. map to their ids, and text <bos> elsewhere stays text).
std::vector<int> TokenizeRenderedChat(const Tokenizer& tokenizer, std::string_view rendered);

// RenderGemmaChat + TokenizeRenderedChat.
std::vector<int> EncodeGemmaChat(const Tokenizer& tokenizer,
                                 const std::vector<ChatMessage>& messages,
                                 bool add_generation_prompt);

// The Gemma 4 chat format (gemma-models.md §4.3; the official chat_template.jinja without tools):
//
//   <bos>[<|turn>system\n[<|think|>\n]{system}<turn|>\n]<|turn>user\n{user}<turn|>\n
//   <|turn>model\n{answer}<turn|>\n ... <|turn>model\n
//
// - A native system turn: a first `system` or `developer` message, or thinking enabled.
// - `assistant` is written `model`; other roles as they are (no alternation rule).
// - Content is trimmed like Python's str.strip(); previous model turns have their thinking
//   (<|channel>...<channel|>) removed; image parts become <|image|>.
// - add_generation_prompt appends "<|turn>model\n", and with `empty_thought_channel` also the
//   empty "<|channel>thought\n<channel|>" some template revisions use when thinking is off.
struct Gemma4ChatOptions {
  bool enable_thinking = false;
  bool empty_thought_channel = false;
};
std::string RenderGemma4Chat(const std::vector<ChatMessage>& messages, bool add_generation_prompt,
                             const Gemma4ChatOptions& options = {});

// Removes Gemma 4 thinking blocks ("<|channel>" ... "<channel|>") from generated text, as a
// stream: Feed() returns the text that is certainly visible so far (a possible marker prefix at
// the end is held back), Finish() the rest. Thinking is hidden by default in Gemma 4 output; a
// caller that wants to show it simply does not filter. Text inside an unterminated block is
// dropped.
class Gemma4ThinkingFilter {
 public:
  std::string Feed(std::string_view text);
  std::string Finish();
  bool in_thinking() const { return in_thinking_; }

 private:
  std::string pending_;
  bool in_thinking_ = false;
};

// Python's str.strip() with no arguments, on UTF-8 text (invalid bytes are kept).
std::string PythonStrip(std::string_view text);

// Parses an OpenAI-style message list: [{"role": ..., "content": "..." | [{"type": ...}]}].
// Throws Error(kUsage) naming `origin` when it is not one.
std::vector<ChatMessage> ParseChatMessagesJson(std::string_view json_text,
                                               const std::string& origin);

}  // namespace gemma
