// End-to-end tests of `gemma batch`: the JSONL schema, inputs from arguments, globs and stdin,
// failures that do not stop the batch, --output-dir, and documents longer than the context.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

#include "cli_spawn.h"
#include "test_util.h"

namespace gemma {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using test::RunCli;

std::string Model1b() {
  return "-m '" + test::TestDataDir() + "/golden/gemma3-1b-like/hf'";
}

std::vector<json> JsonLines(const std::string& out) {
  std::vector<json> rows;
  std::stringstream lines(out);
  std::string line;
  while (std::getline(lines, line)) rows.push_back(json::parse(line));
  return rows;
}

// Three short documents and one long one in a fresh folder.
std::string MakeDocs() {
  const std::string dir = test::MakeTempDir("docs");
  test::WriteFileBytes(dir + "/a.txt", "The first note is about cats.\n");
  test::WriteFileBytes(dir + "/b.txt", "The second note is about dogs and their owners.\n");
  test::WriteFileBytes(dir + "/c.txt", "A third, very short note.\n");
  std::string lng;
  for (int i = 0; i < 60; ++i) lng += "Paragraph " + std::to_string(i) + " of a long report.\n";
  test::WriteFileBytes(dir + "/long.md", lng);
  return dir;
}

void ExpectSchema(const json& row) {
  for (const char* key : {"file", "output", "finish_reason"}) {
    ASSERT_TRUE(row.contains(key) && row[key].is_string()) << key << " in " << row;
  }
  for (const char* key : {"prompt_tokens", "generated_tokens", "chunks"}) {
    ASSERT_TRUE(row.contains(key) && row[key].is_number_integer()) << key << " in " << row;
  }
  for (const char* key :
       {"tokens_per_second", "time_to_first_token_ms", "prompt_tokens_per_second"}) {
    ASSERT_TRUE(row.contains(key) && row[key].is_number()) << key << " in " << row;
  }
  ASSERT_TRUE(row.contains("truncated") && row["truncated"].is_boolean()) << row;
  ASSERT_TRUE(row.contains("error")) << row;
  const std::string reason = row["finish_reason"];
  EXPECT_TRUE(reason == "stop" || reason == "length" || reason == "error") << reason;
  EXPECT_EQ(row["error"].is_null(), reason != "error") << row;
}

TEST(CliBatch, OneJsonLinePerFileAndAFailureDoesNotStopTheBatch) {
  GEMMA_REQUIRE_TESTDATA();
  const std::string dir = MakeDocs();
  const test::CliResult r = RunCli("batch " + Model1b() + " --temp 0 -n 6 '" + dir + "/a.txt' '" +
                                   dir + "/missing.txt' '" + dir + "/b.txt'");
  EXPECT_EQ(r.exit_code, 1) << r.err;
  const std::vector<json> rows = JsonLines(r.out);
  ASSERT_EQ(rows.size(), 3u) << r.out;
  for (const json& row : rows) ExpectSchema(row);
  EXPECT_EQ(rows[0]["file"], dir + "/a.txt");
  EXPECT_EQ(rows[0]["finish_reason"], "length");
  EXPECT_EQ(rows[0]["generated_tokens"], 6);
  EXPECT_EQ(rows[1]["finish_reason"], "error");
  EXPECT_NE(rows[1]["error"].get<std::string>().find("missing.txt"), std::string::npos);
  EXPECT_EQ(rows[2]["finish_reason"], "length");
  EXPECT_NE(r.err.find("gemma: error: " + dir + "/missing.txt"), std::string::npos) << r.err;

  // The model is loaded once, yet each file gets what a separate `run` of its prompt gets.
  const std::string prompt = test::MakeTempDir("prompt") + "/p.txt";
  test::WriteFileBytes(prompt, "Summarize the following text in a few sentences.\n\n" +
                                   test::ReadFileBytes(dir + "/b.txt"));
  const test::CliResult run = RunCli("run " + Model1b() + " --temp 0 -n 6 -f '" + prompt + "'");
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(rows[2]["output"].get<std::string>() + "\n", run.out);
}

TEST(CliBatch, InputsFromAGlobAndFromStdin) {
  GEMMA_REQUIRE_TESTDATA();
  const std::string dir = MakeDocs();
  const test::CliResult g = RunCli("batch " + Model1b() + " --temp 0 -n 2 -q '" + dir + "/*.txt'");
  ASSERT_EQ(g.exit_code, 0) << g.err;
  const std::vector<json> rows = JsonLines(g.out);
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[0]["file"], dir + "/a.txt");  // sorted
  EXPECT_EQ(rows[2]["file"], dir + "/c.txt");
  EXPECT_EQ(g.err, "");

  const test::CliResult s =
      RunCli("batch " + Model1b() + " --temp 0 -n 2 -q", dir + "/c.txt\n\n" + dir + "/a.txt\n");
  ASSERT_EQ(s.exit_code, 0) << s.err;
  const std::vector<json> from_stdin = JsonLines(s.out);
  ASSERT_EQ(from_stdin.size(), 2u);
  EXPECT_EQ(from_stdin[0]["file"], dir + "/c.txt");
  EXPECT_EQ(from_stdin[0]["output"], rows[2]["output"]);
  EXPECT_EQ(from_stdin[1]["output"], rows[0]["output"]);

  // A glob that matches nothing is a failed input, not a usage error.
  const test::CliResult none = RunCli("batch " + Model1b() + " -n 2 -q '" + dir + "/*.nothing'");
  EXPECT_EQ(none.exit_code, 1);
  EXPECT_NE(none.out.find("no file matches"), std::string::npos) << none.out;
}

TEST(CliBatch, OutputDirWritesOneFilePerInputInstead) {
  GEMMA_REQUIRE_TESTDATA();
  const std::string dir = MakeDocs();
  const std::string out = test::MakeTempDir("out") + "/results";
  const std::string files = "'" + dir + "/a.txt' '" + dir + "/b.txt'";
  const test::CliResult r =
      RunCli("batch " + Model1b() + " --temp 0 -n 4 --output-dir '" + out + "' " + files);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "");
  const test::CliResult j = RunCli("batch " + Model1b() + " --temp 0 -n 4 " + files);
  const std::vector<json> rows = JsonLines(j.out);
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(test::ReadFileBytes(out + "/a.txt"), rows[0]["output"].get<std::string>() + "\n");
  EXPECT_EQ(test::ReadFileBytes(out + "/b.txt"), rows[1]["output"].get<std::string>() + "\n");
  // Never over an input.
  const test::CliResult self =
      RunCli("batch " + Model1b() + " -n 2 --output-dir '" + dir + "' '" + dir + "/a.txt'");
  EXPECT_EQ(self.exit_code, 2) << self.err;
}

TEST(CliBatch, LongDocumentsAreRefusedTruncatedOrChunked) {
  GEMMA_REQUIRE_TESTDATA();
  const std::string dir = MakeDocs();
  const std::string base = "batch " + Model1b() + " --temp 0 -n 8 -c 160 '" + dir + "/long.md'";
  const test::CliResult refused = RunCli(base);
  EXPECT_EQ(refused.exit_code, 3) << refused.err;
  const std::vector<json> r0 = JsonLines(refused.out);
  ASSERT_EQ(r0.size(), 1u);
  ExpectSchema(r0[0]);
  EXPECT_EQ(r0[0]["finish_reason"], "error");
  EXPECT_NE(r0[0]["error"].get<std::string>().find("--chunked"), std::string::npos);

  for (const char* side : {"head", "tail"}) {
    const test::CliResult t = RunCli(base + " --truncate " + side);
    ASSERT_EQ(t.exit_code, 0) << t.err;
    const json row = JsonLines(t.out).at(0);
    ExpectSchema(row);
    EXPECT_EQ(row["truncated"], true);
    EXPECT_LE(row["prompt_tokens"].get<int>(), 160 - 8);
    EXPECT_GT(row["prompt_tokens"].get<int>(), 100);
  }

  const test::CliResult chunked = RunCli(base + " --chunked");
  ASSERT_EQ(chunked.exit_code, 0) << chunked.err;
  const json row = JsonLines(chunked.out).at(0);
  ExpectSchema(row);
  EXPECT_GT(row["chunks"].get<int>(), 1);
  // Every chunk and the final pass generated (at most 8 tokens each).
  EXPECT_GT(row["generated_tokens"].get<int>(), row["chunks"].get<int>());
  EXPECT_GT(row["prompt_tokens"].get<int>(), 160);  // summed over the passes

  EXPECT_EQ(RunCli(base + " --truncate middle").exit_code, 2);
  EXPECT_EQ(RunCli(base + " --truncate head --chunked").exit_code, 2);
  // A short file next to a refused one: exit 3 only when every failure is a long file.
  const test::CliResult mixed = RunCli(base + " '" + dir + "/a.txt'");
  EXPECT_EQ(mixed.exit_code, 3);
  EXPECT_EQ(JsonLines(mixed.out).size(), 2u);
}

TEST(CliBatch, SigintStopsTheBatchWithCompleteLinesAndExit130) {
  GEMMA_REQUIRE_TESTDATA();
  const std::string dir = MakeDocs();
  std::vector<std::string> args = {
      "batch",  "-m", test::TestDataDir() + "/golden/gemma3-1b-like/hf",
      "--temp", "0",  "-n",
      "3000",   "-c", "4096"};
  for (int i = 0; i < 8; ++i) args.push_back(dir + "/a.txt");
  test::Child c = test::SpawnCli(args);
  ASSERT_GT(c.pid, 0);
  close(c.in);
  std::string out;
  ASSERT_TRUE(test::ReadUntil(c.out, "\n", 120, &out)) << "no first line";
  kill(c.pid, SIGINT);
  test::ReadUntil(c.out, "\x01never", 60, &out);
  EXPECT_EQ(test::WaitExit(c.pid, 60), 130);
  close(c.out);
  const std::vector<json> rows = JsonLines(out);  // every line is whole JSON
  EXPECT_GE(rows.size(), 1u);
  EXPECT_LT(rows.size(), 8u);
}

TEST(CliBatch, PromptTemplatesAndHelp) {
  GEMMA_REQUIRE_TESTDATA();
  const std::string dir = MakeDocs();
  const std::string a = " '" + dir + "/a.txt'";
  const test::CliResult no_slot = RunCli("batch " + Model1b() + " -p 'no slot here'" + a);
  EXPECT_EQ(no_slot.exit_code, 2);
  EXPECT_NE(no_slot.err.find("{text}"), std::string::npos);

  const std::string tmpl = dir + "/tmpl.txt";
  test::WriteFileBytes(tmpl, "Title: {text}");
  const test::CliResult f =
      RunCli("batch " + Model1b() + " --temp 0 -n 3 --prompt-file '" + tmpl + "'" + a);
  const test::CliResult p = RunCli("batch " + Model1b() + " --temp 0 -n 3 -p 'Title: {text}'" + a);
  ASSERT_EQ(f.exit_code, 0) << f.err;
  EXPECT_EQ(JsonLines(f.out).at(0)["output"], JsonLines(p.out).at(0)["output"]);

  const test::CliResult h = RunCli("batch --help");
  EXPECT_EQ(h.exit_code, 0);
  EXPECT_NE(h.out.find("Examples:"), std::string::npos);
  EXPECT_NE(h.out.find("by default a file whose prompt does not fit"), std::string::npos);
}

}  // namespace
}  // namespace gemma
