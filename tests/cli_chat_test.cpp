// End-to-end tests of `gemma chat`: scripted stdin (one turn per line, answers only on stdout),
// the KV cache kept between turns, slash commands, context overflow, a pseudo-terminal session
// with Ctrl-C, and SIGINT while waiting for input.
#include <gtest/gtest.h>

#include <cctype>
#include <nlohmann/json.hpp>

#include <sstream>
#include <string>
#include <vector>

#include "cli_spawn.h"
#include "model/model.h"
#include "test_util.h"
#include "tokenizer/tokenizer.h"

namespace gemma {
namespace {

using nlohmann::json;
using test::RunCli;

std::string ModelDir() {
  return test::TestDataDir() + "/golden/gemma3-1b-like/hf";
}
std::string Chat(const std::string& flags) {
  return "chat -m '" + ModelDir() + "' --temp 0 " + flags;
}

std::vector<std::string> Lines(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  std::string line;
  while (std::getline(ss, line)) out.push_back(line);
  return out;
}

TEST(CliChat, ScriptedStdinGivesOneAnswerPerLineAndNothingElse) {
  GEMMA_REQUIRE_TESTDATA();
  const test::CliResult r = RunCli(Chat("-n 6"), "hello there\n\nwhat now\n");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::vector<std::string> answers = Lines(r.out);
  ASSERT_EQ(answers.size(), 2u) << r.out;                  // the empty line is no turn
  EXPECT_EQ(r.out.find("gemma chat"), std::string::npos);  // no banner
  EXPECT_NE(r.out.substr(0, 2), "> ");                     // no prompt
  EXPECT_EQ(r.out.find('\033'), std::string::npos);
  // The first answer does not depend on what follows.
  const test::CliResult one = RunCli(Chat("-n 6"), "hello there\n");
  EXPECT_EQ(Lines(one.out).at(0), answers[0]);
  EXPECT_EQ(RunCli(Chat("-n 6"), "hello there\n\nwhat now\n").out, r.out);
}

TEST(CliChat, EachTurnFeedsOnlyItsOwnTokens) {
  GEMMA_REQUIRE_TESTDATA();
  const test::CliResult r = RunCli(Chat("-n 5 --system 'Be brief.'"), "hello there\nwhat now\n");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::vector<int> sizes = test::PromptTokens(r.err);
  ASSERT_EQ(sizes.size(), 2u) << r.err;
  auto model = Model::Load(ModelDir());
  const Tokenizer tok = Tokenizer::Load(model->checkpoint().tokenizer);
  // Turn 1: <bos> and the whole first turn with the system text folded in.
  const int first = 1 + static_cast<int>(tok.Encode("<start_of_turn>user\nBe brief.\n\nhello there"
                                                    "<end_of_turn>\n<start_of_turn>model\n")
                                             .size());
  EXPECT_EQ(sizes[0], first);
  // Turn 2: the answer's unfed <end_of_turn>, then the new turn; no history again.
  const int second = static_cast<int>(
      tok.Encode(
             "<end_of_turn>\n<start_of_turn>user\nwhat now<end_of_turn>\n<start_of_turn>model\n")
          .size());
  EXPECT_EQ(sizes[1], second);
}

TEST(CliChat, SlashCommandsSaveLoadClear) {
  GEMMA_REQUIRE_TESTDATA();
  const std::string dir = test::MakeTempDir("chat");
  const std::string saved = dir + "/conv.json";
  const test::CliResult r = RunCli(Chat("-n 4 --system 'Be brief.'"),
                                   "hello there\nwhat now\n/save " + saved +
                                       "\n/clear\nhello there\n/help\n/exit\nnever answered\n");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::vector<std::string> answers = Lines(r.out);
  ASSERT_EQ(answers.size(), 3u) << r.out;
  EXPECT_EQ(answers[2], answers[0]);  // /clear starts over: the same first answer
  const json conv = json::parse(test::ReadFileBytes(saved));
  ASSERT_EQ(conv.size(), 5u) << conv;
  EXPECT_EQ(conv[0]["role"], "system");
  EXPECT_EQ(conv[0]["content"], "Be brief.");
  EXPECT_EQ(conv[1]["role"], "user");
  EXPECT_EQ(conv[1]["content"], "hello there");
  EXPECT_EQ(conv[2]["role"], "assistant");
  EXPECT_EQ(conv[4]["role"], "assistant");

  // /load of a conversation ending with a user message answers it.
  test::WriteFileBytes(dir + "/ask.json", R"([{"role": "user", "content": "hello there"}])");
  const test::CliResult l = RunCli(Chat("-n 4"), "/load " + dir + "/ask.json\n");
  ASSERT_EQ(l.exit_code, 0) << l.err;
  const test::CliResult direct = RunCli(Chat("-n 4"), "hello there\n");
  EXPECT_EQ(l.out, direct.out);
  // Scripts fail on failing commands: a missing file is a runtime error, a typo a usage error.
  EXPECT_EQ(RunCli(Chat("-n 4"), "/load " + dir + "/nope.json\n").exit_code, 1);
  EXPECT_EQ(RunCli(Chat("-n 4"), "/frobnicate\n").exit_code, 2);
}

TEST(CliChat, ContextOverflowIsReportedWithAHint) {
  GEMMA_REQUIRE_TESTDATA();
  const test::CliResult r = RunCli(Chat("-n 6 -c 64"), "hello there\nwhat now\nand then?\n");
  EXPECT_EQ(r.exit_code, 3) << r.err;
  EXPECT_NE(r.err.find("/clear"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("64"), std::string::npos) << r.err;
  EXPECT_GE(Lines(r.out).size(), 1u);  // what was answered before stays on stdout
}

TEST(CliChat, PseudoTerminalSessionWithCtrlC) {
  GEMMA_REQUIRE_TESTDATA();
  test::Child c = test::SpawnCli(
      {"chat", "-m", ModelDir(), "--temp", "0", "-c", "4096", "--no-history"}, /*terminal=*/true);
  ASSERT_GT(c.pid, 0);
  std::string seen;
  ASSERT_TRUE(test::ReadUntil(c.out, "> ", 60, &seen)) << seen;
  EXPECT_NE(seen.find("gemma chat:"), std::string::npos) << seen;  // the banner
  EXPECT_NE(seen.find("context 4096 tokens"), std::string::npos) << seen;
  // A long greedy answer, stopped by Ctrl-C: the session goes on.
  test::WriteTo(c.in, "hello\r");
  seen.clear();
  ASSERT_TRUE(test::ReadUntil(c.in, "an", 60, &seen)) << seen;
  test::WriteTo(c.in, "\x03");
  ASSERT_TRUE(test::ReadUntil(c.in, "[interrupted]", 60, &seen)) << seen;
  ASSERT_TRUE(test::ReadUntil(c.in, "> ", 60, &seen)) << seen;
  EXPECT_NE(seen.find("/4096]"), std::string::npos) << seen;  // context use after the answer
  seen.clear();
  test::WriteTo(c.in, "/help\r");
  ASSERT_TRUE(test::ReadUntil(c.in, "/save FILE", 60, &seen)) << seen;
  test::WriteTo(c.in, "/exit\r");
  EXPECT_EQ(test::WaitExit(c.pid, 60), 0);
  close(c.in);
}

TEST(CliChat, SigintWhileWaitingForInputExits130) {
  GEMMA_REQUIRE_TESTDATA();
  test::Child c = test::SpawnCli({"chat", "-m", ModelDir(), "--temp", "0", "-n", "3"});
  ASSERT_GT(c.pid, 0);
  test::WriteTo(c.in, "hello\n");
  std::string out;
  ASSERT_TRUE(test::ReadUntil(c.out, "\n", 60, &out)) << out;  // the first answer
  kill(c.pid, SIGINT);
  test::ReadUntil(c.out, "\x01never", 60, &out);
  EXPECT_EQ(test::WaitExit(c.pid, 60), 130);
  close(c.in);
  close(c.out);
}

}  // namespace
}  // namespace gemma
