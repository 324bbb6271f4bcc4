// Gemma chat template: the 12 reference conversations (text and ids), role errors, trimming.
#include "tokenizer/chat_template.h"
#include "gemma/error.h"
#include "tokenizer_test_util.h"

namespace gemma::test {
namespace {

TEST(ChatTemplate, ReferenceCases) {
  GEMMA_REQUIRE_TESTDATA();
  const Tokenizer& tok = Gemma3ModelTokenizer();
  int n = 0;
  for (const auto& j : ReadJsonLines(TokenizerDataDir() + "/chat_template_cases.jsonl")) {
    const std::string name = j.at("name").get<std::string>();
    const std::vector<ChatMessage> messages = ParseChatMessagesJson(j.at("messages").dump(), name);
    const bool gen = j.at("add_generation_prompt").get<bool>();
    const std::string text = RenderGemmaChat(messages, gen);
    EXPECT_EQ(text, j.at("text").get<std::string>()) << name;
    const auto ids = j.at("ids").get<std::vector<int>>();
    EXPECT_EQ(TokenizeRenderedChat(tok, text), ids) << name;
    EXPECT_EQ(EncodeGemmaChat(tok, messages, gen), ids) << name;
    // HF-style special splitting agrees here too (the text starts with <bos>).
    EXPECT_EQ(tok.EncodeWithSpecialTokenText(text), ids) << name;
    ++n;
  }
  EXPECT_EQ(n, 12);
}

TEST(ChatTemplate, RolesMustAlternate) {
  const std::vector<std::vector<ChatMessage>> bad = {
      {{"assistant", "hi"}},
      {{"user", "a"}, {"user", "b"}},
      {{"system", "s"}, {"assistant", "a"}},
      {{"user", "a"}, {"assistant", "b"}, {"assistant", "c"}},
  };
  for (const auto& msgs : bad) {
    try {
      RenderGemmaChat(msgs, true);
      ADD_FAILURE() << "no error";
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), ErrorKind::kUsage);
      EXPECT_STREQ(e.what(), "Conversation roles must alternate user/assistant/user/assistant/...");
    }
  }
  // Other non-user roles pass the template's check and keep their name.
  EXPECT_EQ(RenderGemmaChat({{"user", "a"}, {"model", "b"}}, false),
            "<bos><start_of_turn>user\na<end_of_turn>\n<start_of_turn>model\nb<end_of_turn>\n");
  EXPECT_EQ(RenderGemmaChat({}, true), "<bos><start_of_turn>model\n");
  EXPECT_EQ(RenderGemmaChat({{"system", "only"}}, false), "<bos>");
}

TEST(ChatTemplate, SystemAndListContent) {
  ChatMessage sys{"system", "", {{"text", " Keep me "}, {"text", "ignored"}}};
  ChatMessage user{"user", "", {{"image", ""}, {"text", "  What?  "}, {"image", ""}}};
  EXPECT_EQ(RenderGemmaChat({sys, user}, true),
            "<bos><start_of_turn>user\n Keep me \n\n<start_of_image>What?<start_of_image>"
            "<end_of_turn>\n<start_of_turn>model\n");
}

TEST(ChatTemplate, PythonStripSemantics) {
  EXPECT_EQ(PythonStrip("  a b \t\n"), "a b");
  EXPECT_EQ(PythonStrip(""), "");
  EXPECT_EQ(PythonStrip(" \n "), "");
  // U+001C..U+001F and U+0085 are whitespace to Python; U+FEFF and U+200B are not.
  EXPECT_EQ(PythonStrip("\x1C\x1Fx\xC2\x85"), "x");
  EXPECT_EQ(PythonStrip("\xEF\xBB\xBFx\xEF\xBB\xBF"), "\xEF\xBB\xBFx\xEF\xBB\xBF");
  EXPECT_EQ(PythonStrip("\xE2\x80\x8Bx"), "\xE2\x80\x8Bx");
  // U+3000, U+00A0, U+2003, U+2028, U+2029, U+1680, U+202F, U+205F.
  EXPECT_EQ(PythonStrip("\xE3\x80\x80\xC2\xA0\xE2\x80\x83x\xE2\x80\xA8\xE2\x80\xA9"), "x");
  EXPECT_EQ(PythonStrip("\xE1\x9A\x80\xE2\x80\xAFx\xE2\x81\x9F"), "x");
  // Invalid bytes are kept.
  EXPECT_EQ(PythonStrip(" \xFF "), "\xFF");
}

TEST(ChatTemplate, ParseMessagesErrors) {
  EXPECT_THROW(ParseChatMessagesJson("{", "m.json"), Error);
  EXPECT_THROW(ParseChatMessagesJson("[{\"content\": \"x\"}]", "m.json"), Error);
  EXPECT_THROW(ParseChatMessagesJson("[{\"role\": \"user\", \"content\": 5}]", "m.json"), Error);
  const auto msgs = ParseChatMessagesJson(
      R"({"messages": [{"role": "user", "content": [{"type": "text", "text": "hi"}]}]})", "m");
  ASSERT_EQ(msgs.size(), 1u);
  ASSERT_EQ(msgs[0].parts.size(), 1u);
  EXPECT_EQ(msgs[0].parts[0].text, "hi");
}

}  // namespace
}  // namespace gemma::test
