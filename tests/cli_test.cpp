// End-to-end tests of the `gemma` binary on golden models: outputs, streams and exit codes.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <sstream>

#include "model/model.h"
#include "model/session.h"
#include "test_util.h"
#include "tokenizer/tokenizer.h"

namespace gemma {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using test::RunCli;

std::string Golden(const std::string& name) {
  return test::TestDataDir() + "/golden/" + name;
}

int CountLines(const std::string& s) {
  return static_cast<int>(std::count(s.begin(), s.end(), '\n'));
}

TEST(Cli, RunGreedyPrintsTheLibraryGreedyText) {
  GEMMA_REQUIRE_TESTDATA();
  const std::string model_dir = Golden("gemma3-1b-like") + "/hf";
  const test::CliResult r =
      RunCli("run -m '" + model_dir + "' -p 'the cat sat' -n 12 --temp 0 --raw");
  ASSERT_EQ(r.exit_code, 0) << r.err;

  // The same greedy continuation through the library.
  auto model = Model::Load(model_dir);
  TokenizerSource src = model->checkpoint().tokenizer;
  const Tokenizer tok = Tokenizer::Load(src);
  std::vector<int> ids = {2};
  for (int id : tok.Encode("the cat sat")) ids.push_back(id);
  Session s(model, {});
  s.Forward(ids);
  std::vector<int> out;
  for (int i = 0; i < 12; ++i) {
    const auto& l = s.logits();
    const int next = static_cast<int>(std::max_element(l.begin(), l.end()) - l.begin());
    if (next == 1 || next == 106) break;  // the config's eos ids
    out.push_back(next);
    s.Forward(&next, 1);
  }
  EXPECT_EQ(r.out, tok.Decode(out) + "\n");
  // Timings go to stderr, never stdout.
  EXPECT_NE(r.err.find("generated:"), std::string::npos) << r.err;
}

TEST(Cli, PromptFromStdinAndFileAndSeedsAreReproducible) {
  GEMMA_REQUIRE_TESTDATA();
  const std::string m = "-m '" + Golden("gemma2-2b-like") + "/hf' -n 10 --raw";
  const test::CliResult a = RunCli("run " + m + " --seed 7", "once upon a time");
  const test::CliResult b = RunCli("run " + m + " --seed 7 -p 'once upon a time'");
  const std::string file = test::MakeTempDir("prompt") + "/p.txt";
  test::WriteFileBytes(file, "once upon a time");
  const test::CliResult c = RunCli("run " + m + " --seed 7 -f '" + file + "'");
  ASSERT_EQ(a.exit_code, 0) << a.err;
  EXPECT_EQ(a.out, b.out);
  EXPECT_EQ(a.out, c.out);
  EXPECT_FALSE(a.out.empty());
  const test::CliResult q = RunCli("run " + m + " --seed 7 -q -p 'once upon a time'");
  EXPECT_EQ(q.out, a.out);
  EXPECT_EQ(q.err, "");  // -q: nothing but errors on stderr
}

TEST(Cli, ExitCodesAndOneLineErrors) {
  GEMMA_REQUIRE_TESTDATA();
  auto expect = [](const test::CliResult& r, int code, const std::string& needle) {
    EXPECT_EQ(r.exit_code, code) << r.err;
    EXPECT_NE(r.err.find(needle), std::string::npos) << r.err;
    EXPECT_EQ(r.out, "");
  };
  const test::CliResult missing = RunCli("run -m /nonexistent/dir -p hi");
  expect(missing, 1, "/nonexistent/dir");
  EXPECT_EQ(CountLines(missing.err), 1) << missing.err;
  expect(RunCli("run -p hi"), 2, "model");
  expect(RunCli("run -m x --no-such-flag"), 2, "no-such-flag");
  expect(RunCli("frobnicate"), 2, "subcommand");
  const std::string m = "-m '" + Golden("gemma3-1b-like") + "/hf'";
  const test::CliResult overflow =
      RunCli("run " + m + " -c 8 --raw -p 'this prompt is much longer than eight tokens for sure'");
  expect(overflow, 3, "context holds 8 tokens");
  EXPECT_NE(overflow.err.find("the prompt is "), std::string::npos);
  expect(RunCli("logits " + m + " --ids 2,abc -o /tmp/x.npy"), 2, "abc");
  expect(RunCli("logits " + m + " --ids 2,99999 -o /tmp/x.npy"), 2, "outside the vocabulary");
  expect(RunCli("run " + m + " -p hi --top-p 7"), 2, "top-p");

  // A corrupt checkpoint is a runtime error naming the file.
  const std::string dir = test::MakeTempDir("bad");
  fs::copy_file(Golden("gemma3-1b-like") + "/hf/config.json", dir + "/config.json");
  test::WriteFileBytes(dir + "/model.safetensors", "garbage!");
  expect(RunCli("run -m '" + dir + "' -p hi"), 1, "model.safetensors");
  test::WriteFileBytes(dir + "/config.json", R"({"model_type": "llama"})");
  expect(RunCli("info -m '" + dir + "'"), 1, "unsupported model_type 'llama'");
}

std::vector<float> ReadNpyF32(const std::string& path, std::vector<int64_t>* shape) {
  const std::string bytes = test::ReadFileBytes(path);
  EXPECT_EQ(bytes.substr(0, 6), "\x93NUMPY");
  uint16_t hlen = 0;
  std::memcpy(&hlen, bytes.data() + 8, 2);
  const std::string header = bytes.substr(10, hlen);
  EXPECT_NE(header.find("'descr': '<f4'"), std::string::npos) << header;
  EXPECT_EQ((10 + hlen) % 64, 0);
  const size_t open = header.find('('), close = header.find(')');
  std::stringstream dims(header.substr(open + 1, close - open - 1));
  std::string d;
  while (std::getline(dims, d, ',')) {
    if (d.find_first_not_of(' ') != std::string::npos) shape->push_back(std::stoll(d));
  }
  std::vector<float> v((bytes.size() - 10 - hlen) / 4);
  std::memcpy(v.data(), bytes.data() + 10 + hlen, v.size() * 4);
  return v;
}

TEST(Cli, LogitsWritesNpyMatchingTheReference) {
  GEMMA_REQUIRE_TESTDATA();
  const std::string dir = Golden("gemma2-27b-like");
  const json meta = json::parse(test::ReadFileBytes(dir + "/case.json"));
  std::string ids;
  for (int id : meta.at("prompt_ids")) {
    if (!ids.empty()) ids += ',';
    ids += std::to_string(id);
  }
  const std::string out = test::MakeTempDir("npy") + "/l.npy";
  const test::CliResult r = RunCli("logits -m '" + dir + "/hf' --ids " + ids + " -o '" + out + "'");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::vector<int64_t> shape;
  const std::vector<float> got = ReadNpyF32(out, &shape);
  ASSERT_EQ(shape, (std::vector<int64_t>{40, 512}));
  const std::vector<float> ref = test::ReadF32File(dir + "/logits.f32");
  ASSERT_EQ(got.size(), ref.size());
  double max_abs = 0;
  for (size_t i = 0; i < got.size(); ++i)
    max_abs = std::max(max_abs, double(std::fabs(got[i] - ref[i])));
  EXPECT_LE(max_abs, 2e-4);
}

TEST(Cli, TokenizeModesAndJsonl) {
  GEMMA_REQUIRE_TESTDATA();
  const std::string tok = test::TestDataDir() + "/tokenizer/gemma3-tokenizer.model";
  const test::CliResult ids = RunCli("tokenize --tokenizer '" + tok + "' 'Hello world'");
  ASSERT_EQ(ids.exit_code, 0) << ids.err;
  EXPECT_EQ(json::parse(ids.out), json::parse("[9259, 1902]"));
  const test::CliResult bos = RunCli("tokenize --tokenizer '" + tok + "' --bos 'Hello world'");
  EXPECT_EQ(json::parse(bos.out), json::parse("[2, 9259, 1902]"));
  const test::CliResult pieces =
      RunCli("tokenize --tokenizer '" + tok + "' --pieces 'Hello world'");
  EXPECT_EQ(pieces.out, "9259\t\"Hello\"\n1902\t\"▁world\"\n");
  const test::CliResult jl =
      RunCli("tokenize --tokenizer '" + tok + "' --jsonl",
             "{\"text\": \"Hello world\"}\n{\"text\": \"<start_of_turn>\"}\n");
  ASSERT_EQ(jl.exit_code, 0) << jl.err;
  std::stringstream lines(jl.out);
  std::string line;
  std::vector<json> rows;
  while (std::getline(lines, line)) rows.push_back(json::parse(line));
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0]["ids"], json::parse("[9259, 1902]"));
  EXPECT_EQ(rows[1]["ids"], json::parse("[105]"));
  EXPECT_EQ(RunCli("tokenize --tokenizer '" + tok + "' --jsonl", "not json\n").exit_code, 2);
  // From a model directory too.
  const test::CliResult m = RunCli("tokenize -m '" + Golden("gemma1-2b-like-mqa") + "/hf' 'ab'");
  EXPECT_EQ(m.exit_code, 0) << m.err;
}

TEST(Cli, InfoDescribesTheModel) {
  GEMMA_REQUIRE_TESTDATA();
  const test::CliResult r = RunCli("info -m '" + Golden("gemma3-4b-like") + "/hf'");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("gemma3"), std::string::npos);
  EXPECT_NE(r.out.find("LLLLLGLL"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("linear÷8"), std::string::npos) << r.out;
  const test::CliResult j = RunCli("info --json -m '" + Golden("gemma3-4b-like") + "/hf'");
  ASSERT_EQ(j.exit_code, 0) << j.err;
  const json info = json::parse(j.out);
  EXPECT_EQ(info["n_layers"], 8);
  EXPECT_EQ(info["vocab_size"], 512);
  EXPECT_EQ(info["layer_pattern"], "LLLLLGLL");
}

// llama-bench's field names, one row per test and ISA, and the decode row's roofline is its own
// bandwidth against the probe taken with it.
TEST(Cli, BenchWritesLlamaBenchRows) {
  GEMMA_REQUIRE_TESTDATA();
  const std::string model = Golden("gemma3-1b-like") + "/hf";
  const test::CliResult r =
      RunCli("bench -m '" + model + "' -p 8 -n 4 -r 2 -t 1 --isa auto,scalar -o jsonl");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::stringstream lines(r.out);
  std::string line;
  std::vector<json> rows;
  while (std::getline(lines, line)) rows.push_back(json::parse(line));
  ASSERT_EQ(rows.size(), 4u) << r.out;
  for (const json& row : rows) {
    for (const char* field : {"model_type", "model_size", "n_threads", "n_prompt", "n_gen",
                              "n_depth", "avg_ts", "stddev_ts", "samples_ts"})
      EXPECT_TRUE(row.contains(field)) << field;
    EXPECT_EQ(row["samples_ts"].size(), 2u);
    EXPECT_GT(row["avg_ts"].get<double>(), 0);
    if (row["n_gen"] == 4) {
      EXPECT_EQ(row["test"], "tg4");
      const double probe = row["measured_bandwidth_gbs"].get<double>();
      ASSERT_GT(probe, 0);
      EXPECT_NEAR(row["roofline_pct"].get<double>(),
                  100 * row["bandwidth_gbs"].get<double>() / probe, 1e-6);
    } else {
      EXPECT_EQ(row["test"], "pp8");
    }
  }
  EXPECT_EQ(rows[2]["isa"], "scalar");
  EXPECT_EQ(RunCli("bench -m '" + model + "' -p 8 -n 0 -r 1 --isa avx2-int8").exit_code, 2);
}

// Memory is checked before the forward pass: GEMMA_MEMORY_LIMIT stands in for a small machine.
TEST(Cli, RefusesWhatDoesNotFitAndShrinksTheDefaultContext) {
  GEMMA_REQUIRE_TESTDATA();
  // (built with append: GCC 12 warns falsely on "'" + std::string temporaries)
  std::string model = "'";
  model.append(Golden("gemma3-1b-like")).append("/hf'");
  struct LimitGuard {
    explicit LimitGuard(const char* v) { setenv("GEMMA_MEMORY_LIMIT", v, 1); }
    ~LimitGuard() { unsetenv("GEMMA_MEMORY_LIMIT"); }
  };
  {
    LimitGuard limit("100K");  // less than the weights
    const test::CliResult r = RunCli("run -m " + model + " -p hello -n 2");
    EXPECT_EQ(r.exit_code, 1) << r.err;
    EXPECT_TRUE(r.out.empty());
    EXPECT_EQ(CountLines(r.err), 1) << r.err;
    EXPECT_NE(r.err.find("not enough memory"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("weights alone"), std::string::npos) << r.err;
    const test::CliResult info = RunCli("info --json -m " + model);
    ASSERT_EQ(info.exit_code, 0) << info.err;  // info reports, never refuses
    EXPECT_GT(json::parse(info.out)["estimated_peak_bytes"].get<uint64_t>(), 100u << 10);
  }
  // Weights + scratch fit but not the KV cache of the whole 8192-token context: the default
  // context shrinks (printed with -v) and the run succeeds; -c 8192 is refused.
  const test::CliResult full = RunCli("info --json -m " + model);
  ASSERT_EQ(full.exit_code, 0) << full.err;
  const json j = json::parse(full.out);
  ASSERT_EQ(j["context"], 8192);
  const uint64_t budget = j["weight_bytes"].get<uint64_t>() + j["scratch_bytes"].get<uint64_t>() +
                          j["kv_cache_bytes"].get<uint64_t>() / 2;
  LimitGuard limit(std::to_string(budget).c_str());
  const test::CliResult shrunk = RunCli("run -v -m " + model + " -p hello -n 2 --temp 0");
  EXPECT_EQ(shrunk.exit_code, 0) << shrunk.err;
  const size_t at = shrunk.err.find("context ");
  ASSERT_NE(at, std::string::npos) << shrunk.err;
  const int ctx = std::atoi(shrunk.err.c_str() + at + 8);
  EXPECT_GT(ctx, 1000) << shrunk.err;
  EXPECT_LT(ctx, 8192) << shrunk.err;
  const test::CliResult refused = RunCli("run -m " + model + " -c 8192 -p hello -n 2");
  EXPECT_EQ(refused.exit_code, 1) << refused.err;
  EXPECT_NE(refused.err.find("smaller context"), std::string::npos) << refused.err;
}

TEST(Cli, RefusesATokenizerLargerThanTheModel) {
  GEMMA_REQUIRE_TESTDATA();
  const std::string big = test::TestDataDir() + "/tokenizer/gemma3-tokenizer.model";
  const test::CliResult r = RunCli("run -m '" + Golden("gemma3-1b-like") + "/hf' --tokenizer '" +
                                   big + "' -p hello -n 2");
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_EQ(CountLines(r.err), 1) << r.err;
  EXPECT_NE(r.err.find("but the model's vocabulary has 512"), std::string::npos) << r.err;
  EXPECT_TRUE(r.out.empty());
}

TEST(Cli, VersionAndHelp) {
  const test::CliResult v = RunCli("--version");
  EXPECT_EQ(v.exit_code, 0);
  EXPECT_NE(v.out.find("gemma "), std::string::npos);
  const test::CliResult h = RunCli("run --help");
  EXPECT_EQ(h.exit_code, 0);
  EXPECT_NE(h.out.find("Examples:"), std::string::npos);
}

}  // namespace
}  // namespace gemma
