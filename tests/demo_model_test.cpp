// The demo model in models/ (tools/train_demo_model.py): it loads, its greedy text looks like
// English, and the engine reproduces the training script's tokenization and held-out perplexity
// (models/brown-heldout.json, written by the script for models/brown-heldout.txt).
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <filesystem>

#include "model/model.h"
#include "model/session.h"
#include "test_util.h"
#include "tokenizer/tokenizer.h"

namespace gemma {
namespace {

using nlohmann::json;

const std::string kModelsDir = GEMMA_MODELS_DIR;

struct Expected {
  std::string model_path, text_path;
  int ctx = 0;
  std::vector<int> ids;
  double ppl_q8_0 = 0, ppl_f32 = 0;
};

Expected LoadExpected() {
  const json j = json::parse(test::ReadFileBytes(kModelsDir + "/brown-heldout.json"));
  Expected e;
  e.model_path = kModelsDir + "/" + j.at("model").get<std::string>();
  e.text_path = kModelsDir + "/" + j.at("file").get<std::string>();
  e.ctx = j.at("ctx").get<int>();
  e.ids = j.at("token_ids").get<std::vector<int>>();
  e.ppl_q8_0 = j.at("perplexity_q8_0").get<double>();
  e.ppl_f32 = j.at("perplexity_f32").get<double>();
  return e;
}

std::shared_ptr<const Model> LoadDemo(const Expected& e) {
  if (!std::filesystem::exists(e.model_path)) {
    ADD_FAILURE() << e.model_path << " is missing (regenerate with tools/train_demo_model.py)";
    return nullptr;
  }
  return Model::Load(e.model_path);
}

SessionOptions Options(int ctx) {
  SessionOptions o;
  o.context_length = ctx;
  o.n_threads = 1;  // a 2M-parameter model: more threads only add hand-offs
  return o;
}

// The same windowed definition as the script and `gemma perplexity`, written out again here so
// the test does not share code with what it checks.
double Perplexity(std::shared_ptr<const Model> model, const std::vector<int>& ids, int ctx) {
  Session s(model, Options(ctx));
  const int64_t V = model->config().vocab_size;
  double nll = 0;
  for (size_t b = 0; b < ids.size(); b += static_cast<size_t>(ctx)) {
    const size_t k = std::min(ids.size() - b, static_cast<size_t>(ctx));
    std::vector<int> in = {model->config().bos_id};
    in.insert(in.end(), ids.begin() + static_cast<std::ptrdiff_t>(b),
              ids.begin() + static_cast<std::ptrdiff_t>(b + k - 1));
    std::vector<float> logits(in.size() * static_cast<size_t>(V));
    s.Rewind(0);
    s.Forward(in, logits.data());
    for (size_t i = 0; i < k; ++i) {
      const float* row = &logits[i * static_cast<size_t>(V)];
      const double mx = *std::max_element(row, row + V);
      double sum = 0;
      for (int64_t v = 0; v < V; ++v) sum += std::exp(row[v] - mx);
      nll -= row[ids[b + i]] - mx - std::log(sum);
    }
  }
  return std::exp(nll / static_cast<double>(ids.size()));
}

TEST(DemoModel, TokenizesHeldOutTextLikePythonSentencePiece) {
  const Expected e = LoadExpected();
  auto model = LoadDemo(e);
  if (!model) return;
  const Tokenizer tok = Tokenizer::Load(model->checkpoint().tokenizer, e.model_path);
  EXPECT_EQ(tok.Encode(test::ReadFileBytes(e.text_path)), e.ids);
}

TEST(DemoModel, HeldOutPerplexityMatchesTheTrainingScript) {
  const Expected e = LoadExpected();
  auto model = LoadDemo(e);
  if (!model) return;
  const double ppl = Perplexity(model, e.ids, e.ctx);
  // The script scores the same Q8_0-rounded weights in float64 log-softmax: only float32
  // summation order differs, far below 0.1%.
  EXPECT_NEAR(ppl, e.ppl_q8_0, 1e-3 * e.ppl_q8_0);
  // Quantization itself costs well under 1% against the float32 model.
  EXPECT_NEAR(ppl, e.ppl_f32, 1e-2 * e.ppl_f32);
}

TEST(DemoModel, GreedyContinuationLooksLikeEnglish) {
  const Expected e = LoadExpected();
  auto model = LoadDemo(e);
  if (!model) return;
  const Tokenizer tok = Tokenizer::Load(model->checkpoint().tokenizer, e.model_path);
  std::vector<int> ids = {model->config().bos_id};
  const std::vector<int> prompt = tok.Encode("The jury said");
  ids.insert(ids.end(), prompt.begin(), prompt.end());
  Session s(model, Options(e.ctx));
  s.Forward(ids);
  std::vector<int> out;
  for (int i = 0; i < 24; ++i) {
    const std::vector<float>& l = s.logits();
    const int next = static_cast<int>(std::max_element(l.begin(), l.end()) - l.begin());
    if (next == model->config().bos_id || next == tok.eos_id()) break;
    out.push_back(next);
    s.Forward(&next, 1);
  }
  const std::string text = tok.Decode(out);
  ASSERT_FALSE(text.empty());
  const auto wordish = std::count_if(text.begin(), text.end(), [](unsigned char ch) {
    return std::isalnum(ch) || ch == ' ' || ch == '\n' || std::ispunct(ch);
  });
  // Mostly words: letters and spaces make most of it (quotes and full stops the rest).
  const auto letters = std::count_if(
      text.begin(), text.end(), [](unsigned char ch) { return std::isalpha(ch) || ch == ' '; });
  EXPECT_EQ(wordish, static_cast<long>(text.size())) << text;
  EXPECT_GT(letters * 10, static_cast<long>(text.size()) * 6) << text;
}

TEST(DemoModel, CliPerplexityPrintsTheSameFigure) {
  const Expected e = LoadExpected();
  const test::CliResult r = test::RunCli("perplexity -m '" + e.model_path + "' -f '" + e.text_path +
                                         "' --ctx " + std::to_string(e.ctx) + " -t 1 --json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const json j = json::parse(r.out);
  EXPECT_EQ(j.at("tokens").get<size_t>(), e.ids.size());
  EXPECT_NEAR(j.at("perplexity").get<double>(), e.ppl_q8_0, 1e-3 * e.ppl_q8_0);

  const test::CliResult plain =
      test::RunCli("perplexity -m '" + e.model_path + "' -f '" + e.text_path + "' -t 1 -q");
  ASSERT_EQ(plain.exit_code, 0) << plain.err;
  EXPECT_NEAR(std::stod(plain.out), e.ppl_q8_0, 1e-3 * e.ppl_q8_0);
  EXPECT_EQ(plain.err, "");

  EXPECT_EQ(test::RunCli("perplexity -m '" + e.model_path + "'").exit_code, 2);  // no -f
  const test::CliResult missing =
      test::RunCli("perplexity -m '" + e.model_path + "' -f /nonexistent/file.txt");
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_NE(missing.err.find("/nonexistent/file.txt"), std::string::npos) << missing.err;
}

}  // namespace
}  // namespace gemma
