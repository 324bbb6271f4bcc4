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

// Python's str.strip() with no arguments, on UTF-8 text (invalid bytes are kept).
std::string PythonStrip(std::string_view text);

// Parses an OpenAI-style message list: [{"role": ..., "content": "..." | [{"type": ...}]}].
// Throws Error(kUsage) naming `origin` when it is not one.
std::vector<ChatMessage> ParseChatMessagesJson(std::string_view json_text,
                                               const std::string& origin);

}  // namespace gemma
