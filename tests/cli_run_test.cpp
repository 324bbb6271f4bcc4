// End-to-end tests of `gemma run` additions: stop strings, --json timings, the non-interactive
// contract (pipes, nothing but text on stdout), SIGINT during generation.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cctype>
#include <string>

#include "cli_spawn.h"
#include "test_util.h"

namespace gemma {
namespace {

using nlohmann::json;
using test::RunCli;

std::string Model1b() {
  return "-m '" + test::TestDataDir() + "/golden/gemma3-1b-like/hf'";
}

// Greedy raw continuation of "the cat sat": long, with no stop token in the first thousands.
std::string Greedy(int n) {
  return Model1b() + " --raw -p 'the cat sat' --temp 0 -n " + std::to_string(n);
}

TEST(CliRun, JsonCarriesTheOutputAndTimingFields) {
  GEMMA_REQUIRE_TESTDATA();
  const test::CliResult text = RunCli("run " + Greedy(12));
  const test::CliResult j = RunCli("run " + Greedy(12) + " --json");
  ASSERT_EQ(j.exit_code, 0) << j.err;
  ASSERT_EQ(j.out.back(), '\n');
  EXPECT_EQ(j.out.find('\n'), j.out.size() - 1) << "one line of JSON";
  const json v = json::parse(j.out);
  EXPECT_EQ(v["output"], text.out.substr(0, text.out.size() - 1));
  EXPECT_EQ(v["prompt_tokens"], 6);  // <bos> + 5 pieces
  EXPECT_EQ(v["generated_tokens"], 12);
  EXPECT_EQ(v["finish_reason"], "length");
  for (const char* key :
       {"time_to_first_token_ms", "prompt_tokens_per_second", "tokens_per_second"}) {
    ASSERT_TRUE(v.contains(key)) << key;
    EXPECT_TRUE(v[key].is_number()) << key;
    EXPECT_GT(v[key].get<double>(), 0) << key;
  }
}

TEST(CliRun, StopStringsEndGenerationAndAreNotPrinted) {
  GEMMA_REQUIRE_TESTDATA();
  const test::CliResult full = RunCli("run " + Greedy(24) + " -q");
  ASSERT_EQ(full.exit_code, 0) << full.err;
  const std::string text = full.out.substr(0, full.out.size() - 1);
  // A stop string from the middle of the greedy text: ASCII letters only, so it is whole text.
  size_t at = 4;
  while (at + 2 < text.size() && !(std::isalpha(static_cast<unsigned char>(text[at])) &&
                                   std::isalpha(static_cast<unsigned char>(text[at + 1])))) {
    ++at;
  }
  ASSERT_LT(at + 2, text.size()) << text;
  const std::string stop = text.substr(at, 2);
  const std::string expected = text.substr(0, text.find(stop));
  const test::CliResult cut = RunCli("run " + Greedy(24) + " -q --stop '" + stop + "'");
  ASSERT_EQ(cut.exit_code, 0) << cut.err;
  EXPECT_EQ(cut.out, expected + "\n");
  // Repeatable: the earliest match wins; --json reports "stop".
  const test::CliResult two =
      RunCli("run " + Greedy(24) + " -q --json --stop 'zzzz-never' --stop '" + stop + "'");
  const json v = json::parse(two.out);
  EXPECT_EQ(v["output"], expected);
  EXPECT_EQ(v["finish_reason"], "stop");
  EXPECT_LT(v["generated_tokens"].get<int>(), 24);
}

TEST(CliRun, PipesCarryOnlyTextAndLogsNeverReachStdout) {
  GEMMA_REQUIRE_TESTDATA();
  const test::CliResult r = RunCli("run " + Model1b() + " --raw --temp 0 -n 8", "the cat sat");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const test::CliResult p = RunCli("run " + Greedy(8));
  EXPECT_EQ(r.out, p.out);
  EXPECT_EQ(r.out.find("info"), std::string::npos);
  // Not a terminal: no colour codes on either stream, no progress bar.
  EXPECT_EQ(r.out.find('\033'), std::string::npos);
  EXPECT_EQ(r.err.find('\033'), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find('\r'), std::string::npos) << r.err;
  // A long prompt (a prefill of many chunks) still draws no progress bar into a file.
  std::string long_prompt;
  for (int i = 0; i < 300; ++i) long_prompt += "the cat sat on the mat. ";
  const test::CliResult l = RunCli("run " + Model1b() + " --raw --temp 0 -n 2", long_prompt);
  ASSERT_EQ(l.exit_code, 0) << l.err;
  EXPECT_EQ(l.err.find('\r'), std::string::npos);
  EXPECT_EQ(l.err.find("prefill ["), std::string::npos);
}

TEST(CliRun, UsageErrorsExitWith2) {
  GEMMA_REQUIRE_TESTDATA();
  const test::CliResult both = RunCli("run " + Model1b() + " -p a -f b");
  EXPECT_EQ(both.exit_code, 2);
  const test::CliResult modes = RunCli("run " + Model1b() + " -p a --chat --raw");
  EXPECT_EQ(modes.exit_code, 2);
  EXPECT_NE(modes.err.find("--raw"), std::string::npos);
}

TEST(CliRun, NoPromptFromATerminalIsAUsageErrorNotAWait) {
  GEMMA_REQUIRE_TESTDATA();
  const std::string model = test::TestDataDir() + "/golden/gemma3-1b-like/hf";
  test::Child c = test::SpawnCli({"run", "-m", model}, /*terminal=*/true);
  ASSERT_GT(c.pid, 0);
  std::string seen;
  test::ReadUntil(c.out, "\x01never", 30, &seen);  // to EOF
  EXPECT_EQ(test::WaitExit(c.pid, 30), 2);
  EXPECT_NE(seen.find("no prompt"), std::string::npos) << seen;
  close(c.out);
}

TEST(CliRun, SigintDuringGenerationExits130) {
  GEMMA_REQUIRE_TESTDATA();
  const std::string model = test::TestDataDir() + "/golden/gemma3-1b-like/hf";
  test::Child c =
      test::SpawnCli({"run", "-m", model, "--raw", "-p", "the cat sat", "--temp", "0", "-n", "-1"});
  ASSERT_GT(c.pid, 0);
  close(c.in);
  std::string out;
  ASSERT_TRUE(test::ReadUntil(c.out, "o", 60, &out)) << "no output before the timeout";
  kill(c.pid, SIGINT);
  test::ReadUntil(c.out, "\x01never", 60, &out);  // drain stdout to EOF
  EXPECT_EQ(test::WaitExit(c.pid, 60), 130);
  close(c.out);
  ASSERT_FALSE(out.empty());
  EXPECT_EQ(out.back(), '\n');  // the partial answer is ended cleanly
  const std::string err = test::ReadFileBytes(c.err_path);
  EXPECT_NE(err.find("finish: cancelled"), std::string::npos) << err;
  EXPECT_NE(err.find("interrupted"), std::string::npos) << err;
}

}  // namespace
}  // namespace gemma
