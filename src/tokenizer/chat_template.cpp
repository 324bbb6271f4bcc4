#include "tokenizer/chat_template.h"

#include <nlohmann/json.hpp>

#include "gemma/error.h"

namespace gemma {
namespace {

// Decodes the code point starting at s[i] (UTF-8); invalid bytes decode as themselves with length
// 1, which never counts as whitespace.
uint32_t DecodeAt(std::string_view s, size_t i, size_t* len) {
  const auto b = [&](size_t k) { return static_cast<uint8_t>(s[k]); };
  const uint8_t c = b(i);
  auto trail = [&](size_t k) { return k < s.size() && (b(k) & 0xC0) == 0x80; };
  if (c < 0x80) {
    *len = 1;
    return c;
  }
  if ((c & 0xE0) == 0xC0 && trail(i + 1)) {
    *len = 2;
    return ((c & 0x1Fu) << 6) | (b(i + 1) & 0x3Fu);
  }
  if ((c & 0xF0) == 0xE0 && trail(i + 1) && trail(i + 2)) {
    *len = 3;
    return ((c & 0x0Fu) << 12) | ((b(i + 1) & 0x3Fu) << 6) | (b(i + 2) & 0x3Fu);
  }
  if ((c & 0xF8) == 0xF0 && trail(i + 1) && trail(i + 2) && trail(i + 3)) {
    *len = 4;
    return ((c & 0x07u) << 18) | ((b(i + 1) & 0x3Fu) << 12) | ((b(i + 2) & 0x3Fu) << 6) |
           (b(i + 3) & 0x3Fu);
  }
  *len = 1;
  return 0xFFFFFFFFu;
}

// Python's str.isspace(): bidi class WS, B or S, or category Zs.
bool IsPythonSpace(uint32_t cp) {
  return (cp >= 0x09 && cp <= 0x0D) || (cp >= 0x1C && cp <= 0x20) || cp == 0x85 || cp == 0xA0 ||
         cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 || cp == 0x2029 ||
         cp == 0x202F || cp == 0x205F || cp == 0x3000;
}

const char kRoleError[] = "Conversation roles must alternate user/assistant/user/assistant/...";

}  // namespace

std::string PythonStrip(std::string_view text) {
  // Split into code points once; strip from both ends.
  std::vector<std::pair<size_t, size_t>> chars;  // (offset, length)
  std::vector<bool> space;
  for (size_t i = 0; i < text.size();) {
    size_t len;
    const uint32_t cp = DecodeAt(text, i, &len);
    chars.emplace_back(i, len);
    space.push_back(IsPythonSpace(cp));
    i += len;
  }
  size_t first = 0, last = chars.size();
  while (first < last && space[first]) ++first;
  while (last > first && space[last - 1]) --last;
  if (first == last) return std::string();
  const size_t begin = chars[first].first;
  const size_t end = chars[last - 1].first + chars[last - 1].second;
  return std::string(text.substr(begin, end - begin));
}

std::string RenderGemmaChat(const std::vector<ChatMessage>& messages, bool add_generation_prompt) {
  std::string out = "<bos>";
  std::string first_user_prefix;
  size_t begin = 0;
  if (!messages.empty() && messages[0].role == "system") {
    const ChatMessage& sys = messages[0];
    first_user_prefix = (sys.parts.empty() ? sys.content : sys.parts[0].text) + "\n\n";
    begin = 1;
  }
  for (size_t i = begin; i < messages.size(); ++i) {
    const ChatMessage& m = messages[i];
    const size_t index0 = i - begin;
    if ((m.role == "user") != (index0 % 2 == 0)) Fail(ErrorKind::kUsage, kRoleError);
    const std::string role = m.role == "assistant" ? "model" : m.role;
    out += "<start_of_turn>" + role + "\n";
    if (index0 == 0) out += first_user_prefix;
    if (m.parts.empty()) {
      out += PythonStrip(m.content);
    } else {
      for (const ChatContentPart& part : m.parts) {
        if (part.type == "image") {
          out += "<start_of_image>";
        } else if (part.type == "text") {
          out += PythonStrip(part.text);
        }
      }
    }
    out += "<end_of_turn>\n";
  }
  if (add_generation_prompt) out += "<start_of_turn>model\n";
  return out;
}

namespace {

constexpr std::string_view kChannelOpen = "<|channel>";
constexpr std::string_view kChannelClose = "<channel|>";

std::string StripThinking(std::string_view text) {
  Gemma4ThinkingFilter f;
  return f.Feed(text) + f.Finish();
}

std::string RenderGemma4Content(const ChatMessage& m, bool strip_thinking) {
  if (m.parts.empty()) {
    return PythonStrip(strip_thinking ? StripThinking(m.content) : m.content);
  }
  std::string out;
  for (const ChatContentPart& part : m.parts) {
    if (part.type == "image") {
      out += "<|image|>";
    } else if (part.type == "text") {
      out += PythonStrip(strip_thinking ? StripThinking(part.text) : part.text);
    }
  }
  return out;
}

}  // namespace

std::string RenderGemma4Chat(const std::vector<ChatMessage>& messages, bool add_generation_prompt,
                             const Gemma4ChatOptions& options) {
  std::string out = "<bos>";
  size_t begin = 0;
  const bool has_system =
      !messages.empty() && (messages[0].role == "system" || messages[0].role == "developer");
  if (has_system || options.enable_thinking) {
    out += "<|turn>system\n";
    if (options.enable_thinking) out += "<|think|>\n";
    if (has_system) {
      out += RenderGemma4Content(messages[0], false);
      begin = 1;
    }
    out += "<turn|>\n";
  }
  for (size_t i = begin; i < messages.size(); ++i) {
    const ChatMessage& m = messages[i];
    const std::string role = m.role == "assistant" ? "model" : m.role;
    out += "<|turn>" + role + "\n" + RenderGemma4Content(m, role == "model") + "<turn|>\n";
  }
  if (add_generation_prompt) {
    out += "<|turn>model\n";
    if (options.empty_thought_channel && !options.enable_thinking) {
      out += "<|channel>thought\n<channel|>";
    }
  }
  return out;
}

std::string Gemma4ThinkingFilter::Feed(std::string_view text) {
  pending_ += text;
  std::string out;
  for (;;) {
    const std::string_view marker = in_thinking_ ? kChannelClose : kChannelOpen;
    const size_t at = pending_.find(marker);
    if (at != std::string::npos) {
      if (!in_thinking_) out += pending_.substr(0, at);
      pending_.erase(0, at + marker.size());
      in_thinking_ = !in_thinking_;
      continue;
    }
    // Keep back the longest tail that could start the marker.
    size_t keep = std::min(pending_.size(), marker.size() - 1);
    while (keep > 0 &&
           pending_.compare(pending_.size() - keep, keep, marker.substr(0, keep)) != 0) {
      --keep;
    }
    if (!in_thinking_) out += pending_.substr(0, pending_.size() - keep);
    pending_.erase(0, pending_.size() - keep);
    return out;
  }
}

std::string Gemma4ThinkingFilter::Finish() {
  std::string out = in_thinking_ ? std::string() : pending_;
  pending_.clear();
  return out;
}

std::vector<int> TokenizeRenderedChat(const Tokenizer& tokenizer, std::string_view rendered) {
  constexpr std::string_view kBos = "<bos>";
  std::vector<int> ids;
  if (rendered.substr(0, kBos.size()) == kBos && tokenizer.bos_id() >= 0) {
    ids.push_back(tokenizer.bos_id());
    rendered.remove_prefix(kBos.size());
  }
  const std::vector<int> rest = tokenizer.Encode(rendered);
  ids.insert(ids.end(), rest.begin(), rest.end());
  return ids;
}

std::vector<int> EncodeGemmaChat(const Tokenizer& tokenizer,
                                 const std::vector<ChatMessage>& messages,
                                 bool add_generation_prompt) {
  return TokenizeRenderedChat(tokenizer, RenderGemmaChat(messages, add_generation_prompt));
}

std::vector<ChatMessage> ParseChatMessagesJson(std::string_view json_text,
                                               const std::string& origin) {
  using nlohmann::json;
  auto bad = [&](const std::string& what) {
    Fail(ErrorKind::kUsage, origin + ": not a chat message list (" + what + ")");
  };
  json root;
  try {
    root = json::parse(json_text.begin(), json_text.end());
  } catch (const json::exception& e) {
    bad(e.what());
  }
  if (root.is_object() && root.contains("messages")) root = root["messages"];
  if (!root.is_array()) bad("expected an array of messages");
  std::vector<ChatMessage> out;
  for (const json& m : root) {
    if (!m.is_object() || !m.contains("role") || !m["role"].is_string()) {
      bad("a message has no string \"role\"");
    }
    ChatMessage msg;
    msg.role = m["role"].get<std::string>();
    const json content = m.value("content", json());
    if (content.is_string()) {
      msg.content = content.get<std::string>();
    } else if (content.is_array()) {
      for (const json& p : content) {
        if (!p.is_object() || !p.contains("type") || !p["type"].is_string()) {
          bad("a content part has no string \"type\"");
        }
        ChatContentPart part;
        part.type = p["type"].get<std::string>();
        if (p.contains("text") && p["text"].is_string()) part.text = p["text"].get<std::string>();
        msg.parts.push_back(std::move(part));
      }
    } else if (!content.is_null()) {
      bad("\"content\" must be a string or a list");
    }
    out.push_back(std::move(msg));
  }
  return out;
}

}  // namespace gemma
