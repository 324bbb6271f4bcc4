// The Gemma 4 chat format (gemma-models.md §4.3) and the thinking filter for its output.
#include <gtest/gtest.h>

#include "tokenizer/chat_template.h"

namespace gemma {
namespace {

TEST(Gemma4Chat, NativeSystemTurnAndModelRole) {
  const std::vector<ChatMessage> m = {{"system", "  Be brief. "},
                                      {"user", "Hi\n"},
                                      {"assistant", "Hello!"},
                                      {"user", "Name a colour."}};
  EXPECT_EQ(RenderGemma4Chat(m, true),
            "<bos><|turn>system\nBe brief.<turn|>\n<|turn>user\nHi<turn|>\n"
            "<|turn>model\nHello!<turn|>\n<|turn>user\nName a colour.<turn|>\n<|turn>model\n");
}

TEST(Gemma4Chat, NoSystemTurnUnlessThinking) {
  const std::vector<ChatMessage> m = {{"user", "Hi"}};
  EXPECT_EQ(RenderGemma4Chat(m, true), "<bos><|turn>user\nHi<turn|>\n<|turn>model\n");
  Gemma4ChatOptions thinking;
  thinking.enable_thinking = true;
  EXPECT_EQ(RenderGemma4Chat(m, true, thinking),
            "<bos><|turn>system\n<|think|>\n<turn|>\n<|turn>user\nHi<turn|>\n<|turn>model\n");
  Gemma4ChatOptions empty_channel;
  empty_channel.empty_thought_channel = true;
  EXPECT_EQ(RenderGemma4Chat(m, true, empty_channel),
            "<bos><|turn>user\nHi<turn|>\n<|turn>model\n<|channel>thought\n<channel|>");
}

TEST(Gemma4Chat, PreviousModelTurnsLoseTheirThinking) {
  const std::vector<ChatMessage> m = {
      {"user", "2+2?"}, {"assistant", "<|channel>thought\nadd them<channel|>4"}, {"user", "ok"}};
  EXPECT_EQ(RenderGemma4Chat(m, false),
            "<bos><|turn>user\n2+2?<turn|>\n<|turn>model\n4<turn|>\n<|turn>user\nok<turn|>\n");
}

TEST(Gemma4ThinkingFilter, HidesThinkingAcrossPieceBoundaries) {
  Gemma4ThinkingFilter f;
  std::string out;
  for (const char* piece :
       {"<|chan", "nel>thought\nstep 1", " step 2<chan", "nel|>The ", "answer", " is <", "4>."}) {
    out += f.Feed(piece);
  }
  out += f.Finish();
  EXPECT_EQ(out, "The answer is <4>.");
  EXPECT_FALSE(f.in_thinking());
}

TEST(Gemma4ThinkingFilter, PassesPlainTextAndDropsAnUnterminatedBlock) {
  Gemma4ThinkingFilter f;
  EXPECT_EQ(f.Feed("plain text"), "plain text");
  EXPECT_EQ(f.Feed(" then <|channel>never closed"), " then ");
  EXPECT_TRUE(f.in_thinking());
  EXPECT_EQ(f.Finish(), "");
}

}  // namespace
}  // namespace gemma
