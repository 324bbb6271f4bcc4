// Golden tests for Gemma 4 (dense, dense with K=V global layers, MoE) and Gemma 3n: every prompt
// position and the greedy continuation, from the HF directory and the F32/Q8_0/Q4_0 GGUF twins,
// with the scalar kernels and each SIMD table. References and tolerances come from each case's
// case.json (../shared/testdata/golden/README.md):
//  - hf/ and model-f32.gguf: logits.f32 (llama.cpp with exact GELU for Gemma 4, an HF-semantics
//    re-implementation with population std for Gemma 3n), f32_engine_exact_gelu_vs_logits_f32.
//  - Q8_0/Q4_0 with a dequantized reference (26B-A4B-like, 31B-like): llamacpp-exactgelu-deq-<q>
//    (F32 math on the dequantized weights), quantized_engine_f32_compute_vs_exactgelu_deq, and
//    that run's greedy ids.
//  - Q8_0/Q4_0 without one (gemma4-like, gemma3n-like): see LooseQuantizedCheck below.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <functional>

#include "golden_util.h"
#include "kernels/kernels.h"
#include "model/model.h"
#include "model/session.h"
#include "test_util.h"

namespace gemma {
namespace {

using nlohmann::json;

const char* const kCases[] = {"gemma4-like", "gemma4-31b-like-dense-kv", "gemma4-26b-a4b-like-moe",
                              "gemma3n-like"};

using Case = test::GoldenCase;
using test::Argmax;
using test::Compare;
using test::Diff;
using test::Greedy;
using test::RunPrompt;

// Argmax agreement wherever the reference's top-2 margin exceeds `margin`; returns the count.
int CheckConfidentArgmax(const std::vector<float>& ours, const std::vector<float>& ref, int vocab,
                         float margin) {
  int checked = 0;
  const size_t rows = ref.size() / static_cast<size_t>(vocab);
  for (size_t pos = 0; pos < rows; ++pos) {
    const float* r = &ref[pos * static_cast<size_t>(vocab)];
    std::vector<float> sorted(r, r + vocab);
    std::partial_sort(sorted.begin(), sorted.begin() + 2, sorted.end(), std::greater<float>());
    if (sorted[0] - sorted[1] < margin) continue;
    ++checked;
    EXPECT_EQ(Argmax(&ours[pos * static_cast<size_t>(vocab)], vocab), Argmax(r, vocab))
        << "position " << pos;
  }
  return checked;
}

struct Param {
  std::string case_name;
  std::string source;  // hf, f32, q8_0, q4_0
  std::string isa;
};

void PrintTo(const Param& p, std::ostream* os) {
  *os << p.case_name << "/" << p.source << "/" << p.isa;
}

std::vector<Param> Params() {
  std::vector<Param> out;
  for (const char* c : kCases) {
    for (const char* src : {"hf", "f32", "q8_0", "q4_0"}) {
      for (Isa isa : SupportedIsas()) out.push_back({c, src, IsaName(isa)});
    }
  }
  return out;
}

class GoldenNewFamilies : public ::testing::TestWithParam<Param> {};

TEST_P(GoldenNewFamilies, LogitsAndGreedyMatchReference) {
  GEMMA_REQUIRE_TESTDATA();
  const Param& p = GetParam();
  const Case c = test::LoadGoldenCase(p.case_name);
  const std::string path =
      p.source == "hf" ? c.dir + "/hf" : c.dir + "/model-" + p.source + ".gguf";
  auto model = Model::Load(path);
  ASSERT_EQ(model->config().vocab_size, c.vocab);
  const std::vector<float> logits = RunPrompt(model, c.prompt, p.isa);
  const json& tol = c.meta.at("recommended_tolerances");
  const bool quantized = p.source == "q8_0" || p.source == "q4_0";
  const bool int8_activations =
      quantized && test::UsesInt8Activations(SelectKernels(p.isa),
                                             p.source == "q8_0" ? DType::kQ8_0 : DType::kQ4_0);

  if (!quantized) {
    const Diff d = Compare(logits, c.logits);
    std::printf("[golden] %-24s %-5s %-9s max_abs %.3g mean_abs %.3g (vs logits.f32)\n",
                c.name.c_str(), p.source.c_str(), p.isa.c_str(), d.max_abs, d.mean_abs);
    const json& t = tol.at("f32_engine_exact_gelu_vs_logits_f32");
    EXPECT_LE(d.max_abs, t.at("max_abs").get<double>());
    EXPECT_LE(d.mean_abs, t.at("mean_abs").get<double>());
    EXPECT_EQ(Greedy(model, c.prompt, static_cast<int>(c.greedy.size()), p.isa), c.greedy);
    return;
  }

  const json* deq = nullptr;
  if (c.meta.contains("exact_dequantized") && c.meta.at("exact_dequantized").is_object() &&
      c.meta.at("exact_dequantized").contains(p.source)) {
    deq = &c.meta.at("exact_dequantized").at(p.source);
  }
  if (deq != nullptr && !int8_activations) {
    // Exact dequantization with F32 activations: held to the dequantized reference as tightly as
    // F32 is to logits.f32, including the greedy ids that reference produced.
    const std::vector<float> ref =
        test::ReadF32File(c.dir + "/" + deq->at("file").get<std::string>());
    const Diff d = Compare(logits, ref);
    std::printf("[golden] %-24s %-5s %-9s max_abs %.3g mean_abs %.3g (vs %s)\n", c.name.c_str(),
                p.source.c_str(), p.isa.c_str(), d.max_abs, d.mean_abs,
                deq->at("file").get<std::string>().c_str());
    const json& t = tol.at("quantized_engine_f32_compute_vs_exactgelu_deq");
    EXPECT_LE(d.max_abs, t.at("max_abs").get<double>());
    EXPECT_LE(d.mean_abs, t.at("mean_abs").get<double>());
    EXPECT_EQ(Greedy(model, c.prompt, static_cast<int>(c.greedy.size()), p.isa),
              deq->at("greedy_next_ids").get<std::vector<int>>());
    return;
  }

  // No dequantized reference (gemma4-like, gemma3n-like), or the int8-activation kernels (the AVX2
  // default): only stock llama.cpp on the same file is there, which also quantizes activations to 8
  // bits and tabulates GELU in fp16 (and for Gemma 3n uses the n-1 std). case.json gives the
  // mean-abs bound for this comparison (quantized_engine_vs_llamacpp_q: the mean shift quantization
  // itself causes; quantized_engine_like_ggml_vs_llamacpp_q where it exists); a wrong block layout
  // or scale moves logits by whole units. Argmax is compared only where llama.cpp's top-2 margin
  // exceeds 1.0, beyond the activation-quantization noise.
  const std::vector<float> ref = test::ReadF32File(c.dir + "/llamacpp-" + p.source + ".f32");
  const Diff d = Compare(logits, ref);
  const char* key = tol.contains("quantized_engine_like_ggml_vs_llamacpp_q")
                        ? "quantized_engine_like_ggml_vs_llamacpp_q"
                        : "quantized_engine_vs_llamacpp_q";
  // With F32 activations further capped at 0.15: on the two Gemma 4 cases that have a dequantized
  // reference, stock llama.cpp sits 0.082..0.148 mean abs from it (README "Quantized GGUFs"), and
  // our F32-activation path equals that reference to ~3e-6, so our distance to llama.cpp is of that
  // size too. (Not for the int8-activation kernels, which carry llama.cpp's kind of noise
  // themselves.)
  const double case_bound = tol.at(key).at(p.source + "_mean_abs").get<double>();
  EXPECT_GT(CheckConfidentArgmax(logits, ref, c.vocab, 1.0f), 0);
  if (int8_activations) {
    // Our 8-bit activations and llama.cpp's are two independent roundings of the same size, so
    // the distance between the two engines holds both: up to sqrt(2) times the case's bound (the
    // shift one rounding causes), 1.5x here (gemma3n-like Q8_0, with its sparsity threshold:
    // 0.042 against 0.038). And each engine is held to the F32 reference: ours no further from
    // it than 1.25x stock llama.cpp on the same file (which also rounds weights and activations,
    // and adds its fp16 GELU table).
    const Diff ours = Compare(logits, c.logits), theirs = Compare(ref, c.logits);
    std::printf(
        "[golden] %-24s %-5s %-9s mean_abs %.3g vs logits.f32 (llama.cpp %.3g), %.3g vs "
        "llamacpp-%s.f32\n",
        c.name.c_str(), p.source.c_str(), p.isa.c_str(), ours.mean_abs, theirs.mean_abs,
        d.mean_abs, p.source.c_str());
    EXPECT_LE(d.mean_abs, 1.5 * case_bound);
    EXPECT_LE(ours.mean_abs, 1.25 * theirs.mean_abs);
    return;
  }
  const double bound = std::min(0.15, case_bound);
  std::printf(
      "[golden] %-24s %-5s %-9s max_abs %.3g mean_abs %.3g (vs llamacpp-%s.f32, bound %.3g)\n",
      c.name.c_str(), p.source.c_str(), p.isa.c_str(), d.max_abs, d.mean_abs, p.source.c_str(),
      bound);
  EXPECT_LE(d.mean_abs, bound);
}

INSTANTIATE_TEST_SUITE_P(Cases, GoldenNewFamilies, ::testing::ValuesIn(Params()),
                         [](const auto& info) {
                           std::string n = info.param.case_name + "_" + info.param.source + "_" +
                                           info.param.isa;
                           std::replace(n.begin(), n.end(), '-', '_');
                           return n;
                         });

// Chunked prefill (sliding rings far shorter than the prompt, KV-shared layers reading rows of
// another layer written in the same chunk) and token-by-token decode equal one batch.
class GoldenNewFamiliesChunks : public ::testing::TestWithParam<std::string> {};

TEST_P(GoldenNewFamiliesChunks, ChunkedPrefillAndDecodeMatchOneBatch) {
  GEMMA_REQUIRE_TESTDATA();
  const Case c = test::LoadGoldenCase(GetParam());
  auto model = Model::Load(c.dir + "/hf");
  const std::vector<float> one = RunPrompt(model, c.prompt, "auto");
  EXPECT_LE(Compare(RunPrompt(model, c.prompt, "auto", /*max_batch=*/3), one).max_abs, 2e-4);
  SessionOptions o;
  o.n_threads = 1;
  Session s(model, o);
  const int V = model->config().vocab_size;
  std::vector<float> stepwise;
  for (int id : c.prompt) {
    s.Forward(&id, 1);
    stepwise.insert(stepwise.end(), s.logits().begin(), s.logits().begin() + V);
  }
  EXPECT_LE(Compare(stepwise, one).max_abs, 2e-4);
}

INSTANTIATE_TEST_SUITE_P(Cases, GoldenNewFamiliesChunks,
                         ::testing::ValuesIn(std::vector<std::string>(std::begin(kCases),
                                                                      std::end(kCases))),
                         [](const auto& info) {
                           std::string n = info.param;
                           std::replace(n.begin(), n.end(), '-', '_');
                           return n;
                         });

// Each new architectural feature, switched off or changed, must move the logits far beyond the
// tolerance: proof that the golden comparison would notice its loss.
struct Ablation {
  std::string name;
  std::string case_name;
  std::function<void(ModelConfig&)> edit;
};

std::vector<Ablation> Ablations() {
  auto each_layer = [](std::function<void(LayerConfig&)> f) {
    return [f](ModelConfig& c) {
      for (LayerConfig& l : c.layers) f(l);
    };
  };
  return {
      {"g4_rope_full_rotation", "gemma4-like",
       each_layer([](LayerConfig& l) { l.rope.rotated_pairs = 0; })},
      {"g4_v_norm_off", "gemma4-like", [](ModelConfig& c) { c.v_norm = false; }},
      {"g4_layer_scalar_off", "gemma4-like", [](ModelConfig& c) { c.layer_scalar = false; }},
      // The checkpoints keep k/v weights on the sharing layers, so they can compute their own.
      {"g4_kv_sharing_off", "gemma4-like",
       each_layer([](LayerConfig& l) { l.kv_source_layer = -1; })},
      {"g3n_kv_sharing_off", "gemma3n-like",
       each_layer([](LayerConfig& l) { l.kv_source_layer = -1; })},
      {"g4_final_softcap_off", "gemma4-like", [](ModelConfig& c) { c.final_softcap = 0; }},
      {"g4_query_scale_head_dim", "gemma4-like",
       [](ModelConfig& c) { c.query_scale = 1.f / std::sqrt(32.f); }},
      {"g4_moe_top1", "gemma4-26b-a4b-like-moe", [](ModelConfig& c) { c.n_experts_used = 1; }},
      {"g4_moe_all_experts", "gemma4-26b-a4b-like-moe",
       [](ModelConfig& c) { c.n_experts_used = c.n_experts; }},
      {"g3n_sparsity_off", "gemma3n-like",
       each_layer([](LayerConfig& l) { l.gate_sparsity_std_mul = 0; })},
      {"g3n_altup_correct_scale_off", "gemma3n-like",
       [](ModelConfig& c) { c.altup_correct_scale = false; }},
  };
}

void PrintTo(const Ablation& a, std::ostream* os) {
  *os << a.name << " on " << a.case_name;
}

class GoldenNewFamiliesAblation : public ::testing::TestWithParam<Ablation> {};

TEST_P(GoldenNewFamiliesAblation, RemovingTheFeatureBreaksTheMatch) {
  GEMMA_REQUIRE_TESTDATA();
  const Ablation& a = GetParam();
  const Case c = test::LoadGoldenCase(a.case_name);
  auto model = Model::LoadWithConfigEdit(c.dir + "/hf", a.edit);
  const Diff d = Compare(RunPrompt(model, c.prompt, "auto"), c.logits);
  std::printf("[ablation] %-28s on %-24s max_abs %.3g\n", a.name.c_str(), a.case_name.c_str(),
              d.max_abs);
  EXPECT_GT(d.max_abs, 0.05);
}

INSTANTIATE_TEST_SUITE_P(Features, GoldenNewFamiliesAblation, ::testing::ValuesIn(Ablations()),
                         [](const auto& info) { return info.param.name; });

// Gemma 3n with llama.cpp's n-1 std instead of the population std: the golden README's Known
// deviation 1. Scaling the cut-off multiplier by sqrt(n / (n-1)) reproduces the n-1 variant
// (std_{n-1} = std_n * sqrt(n / (n-1))), which must land on llama.cpp's exact-GELU logits, and
// the population std on logits.f32 (tested above).
TEST(GoldenNewFamiliesDetails, Gemma3nWithLlamaCppStdMatchesLlamaCppExactGelu) {
  GEMMA_REQUIRE_TESTDATA();
  const Case c = test::LoadGoldenCase("gemma3n-like");
  auto model = Model::LoadWithConfigEdit(c.dir + "/hf", [](ModelConfig& cfg) {
    for (LayerConfig& l : cfg.layers) {
      const double n = l.ff_dim;
      l.gate_sparsity_std_mul *= static_cast<float>(std::sqrt(n / (n - 1)));
    }
  });
  const Diff d = Compare(RunPrompt(model, c.prompt, "auto"),
                         test::ReadF32File(c.dir + "/llamacpp-exactgelu-f32.f32"));
  std::printf("[golden] gemma3n-like with n-1 std vs llamacpp-exactgelu-f32: max_abs %.3g\n",
              d.max_abs);
  EXPECT_LE(d.max_abs, 1e-3);
}

}  // namespace
}  // namespace gemma
