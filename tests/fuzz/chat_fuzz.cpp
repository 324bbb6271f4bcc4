// libFuzzer target: an OpenAI-style messages JSON -> ParseChatMessagesJson -> RenderGemmaChat
// (with and without the generation prompt), plus PythonStrip on the raw bytes (invalid UTF-8).
#include <cstddef>
#include <cstdint>
#include <string>

#include "fuzz_util.h"
#include "gemma/error.h"
#include "tokenizer/chat_template.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace gemma;
  const std::string_view text = fuzz::AsText(data, size);
  (void)PythonStrip(text);
  try {
    const std::vector<ChatMessage> messages = ParseChatMessagesJson(text, "messages.json");
    (void)RenderGemmaChat(messages, true);
    (void)RenderGemmaChat(messages, false);
  } catch (const Error&) {
  }
  return 0;
}
