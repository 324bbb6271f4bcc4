// GGUF export (gemma quantize) against llama.cpp on the golden models: our F32 export of each HF
// case reads back as the same config and bit-identical tensors as llama.cpp's converter output;
// our Q8_0/Q4_0 tensors equal llama-quantize's byte for byte and run to the reference logits.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <cstring>

#include "formats/checkpoint.h"
#include "formats/gguf_export.h"
#include "formats/gguf_reader.h"
#include "gemma/error.h"
#include "model/model.h"
#include "model/session.h"
#include "test_util.h"

namespace gemma {
namespace {

const std::vector<std::string> kCases = {
    "gemma1-2b-like-mqa", "gemma1-7b-like-mha", "gemma2-2b-like", "gemma2-27b-like",
    "gemma3-1b-like",     "gemma3-4b-like",     "gemma3-27b-like"};

std::string CaseDir(const std::string& c) {
  return test::TestDataDir() + "/golden/" + c;
}

std::string Export(const std::string& in, const std::string& type, const std::string& tag) {
  const std::string out = test::MakeTempDir("quantize_" + tag + "_" + type) + "/out.gguf";
  ExportOptions o;
  o.type = type;
  o.n_threads = 2;
  o.chunk_bytes = 4096;  // many chunks even on tiny tensors
  const ExportStats s = ExportGguf(OpenCheckpoint(in), out, o);
  EXPECT_TRUE(s.notes.empty()) << s.notes[0];
  return out;
}

void ExpectSameConfig(const ModelConfig& a, const ModelConfig& b) {
  EXPECT_EQ(a.family, b.family);
  EXPECT_EQ(a.architecture, b.architecture);
  EXPECT_EQ(a.d_model, b.d_model);
  EXPECT_EQ(a.n_layers, b.n_layers);
  EXPECT_EQ(a.vocab_size, b.vocab_size);
  EXPECT_EQ(a.context_length, b.context_length);
  EXPECT_EQ(a.rms_norm_eps, b.rms_norm_eps);
  EXPECT_EQ(a.norm_weight_offset, b.norm_weight_offset);
  EXPECT_EQ(a.post_norms, b.post_norms);
  EXPECT_EQ(a.qk_norm, b.qk_norm);
  EXPECT_EQ(a.query_scale, b.query_scale);
  EXPECT_EQ(a.attn_softcap, b.attn_softcap);
  EXPECT_EQ(a.final_softcap, b.final_softcap);
  EXPECT_EQ(a.bos_id, b.bos_id);
  EXPECT_EQ(a.pad_id, b.pad_id);
  EXPECT_EQ(a.eos_ids, b.eos_ids);
  ASSERT_EQ(a.layers.size(), b.layers.size());
  for (size_t i = 0; i < a.layers.size(); ++i) {
    const LayerConfig &x = a.layers[i], &y = b.layers[i];
    EXPECT_EQ(x.attention, y.attention) << i;
    EXPECT_EQ(x.sliding_window, y.sliding_window) << i;
    EXPECT_EQ(x.n_heads, y.n_heads) << i;
    EXPECT_EQ(x.n_kv_heads, y.n_kv_heads) << i;
    EXPECT_EQ(x.head_dim, y.head_dim) << i;
    EXPECT_EQ(x.ff_dim, y.ff_dim) << i;
    EXPECT_EQ(x.rope.base, y.rope.base) << i;
    EXPECT_EQ(x.rope.position_divisor, y.rope.position_divisor) << i;
  }
}

// Every tensor of `golden` exists in `ours` with the same type, shape and bytes.
void ExpectSameTensors(const Checkpoint& ours, const Checkpoint& golden) {
  EXPECT_EQ(ours.tensors.size(), golden.tensors.size());
  for (const auto& [name, g] : golden.tensors) {
    const NamedTensor* t = ours.Find(name);
    ASSERT_NE(t, nullptr) << name;
    EXPECT_EQ(DTypeName(t->view.dtype), DTypeName(g.view.dtype)) << name;
    EXPECT_EQ(t->view.ShapeString(), g.view.ShapeString()) << name;
    ASSERT_EQ(t->view.n_bytes, g.view.n_bytes) << name;
    EXPECT_EQ(std::memcmp(t->view.data, g.view.data, g.view.n_bytes), 0) << name << " differs";
  }
}

class QuantizeGolden : public ::testing::TestWithParam<std::string> {};

TEST_P(QuantizeGolden, F32ExportMatchesLlamaCppConverter) {
  GEMMA_REQUIRE_TESTDATA();
  const std::string dir = CaseDir(GetParam());
  const std::string out = Export(dir + "/hf", "f32", GetParam());
  const Checkpoint ours = OpenCheckpoint(out);
  const Checkpoint golden = OpenCheckpoint(dir + "/model-f32.gguf");
  ExpectSameConfig(ours.config, golden.config);
  ExpectSameTensors(ours, golden);
  EXPECT_EQ(ours.tokenizer.gguf_model, golden.tokenizer.gguf_model);
  EXPECT_EQ(ours.tokenizer.gguf_tokens, golden.tokenizer.gguf_tokens);
  EXPECT_EQ(ours.tokenizer.gguf_scores, golden.tokenizer.gguf_scores);
  EXPECT_EQ(ours.tokenizer.gguf_token_types, golden.tokenizer.gguf_token_types);
  EXPECT_EQ(ours.chat_template, golden.chat_template);
  const GgufFile f = GgufFile::Open(out);
  EXPECT_EQ(f.Find("general.file_type")->ToInt(), 0);
  EXPECT_EQ(f.Find("tokenizer.ggml.add_bos_token")->ToBool(), true);
  EXPECT_EQ(f.Find("tokenizer.ggml.add_space_prefix")->ToBool(), false);
}

// Dequantize-and-compute in F32 against gemma_pytorch on the same dequantized weights:
// case.json's 1e-3 max abs holds once our bytes equal llama-quantize's.
constexpr double kMaxAbsQuant = 1e-3;

struct Diff {
  double max_abs = INFINITY, mean_abs = INFINITY;
};

// Runs the prompt of case `name` on `model_path`; returns the logit error against `ref_file`.
Diff LogitError(const std::string& name, const std::string& model_path, const std::string& ref_file,
                const std::string& type) {
  const std::string dir = CaseDir(name);
  const auto meta = nlohmann::json::parse(test::ReadFileBytes(dir + "/case.json"));
  const std::vector<int> prompt = meta.at("prompt_ids").get<std::vector<int>>();
  const std::vector<float> ref = test::ReadF32File(dir + "/" + ref_file);
  auto model = Model::Load(model_path);
  SessionOptions so;
  so.n_threads = 2;
  so.isa = test::ExactIsa();  // the weights are under test, not int8 activations
  Session s(model, so);
  std::vector<float> logits(prompt.size() * static_cast<size_t>(model->config().vocab_size));
  s.Forward(prompt, logits.data());
  EXPECT_EQ(logits.size(), ref.size());
  if (logits.size() != ref.size()) return {};
  double max_abs = 0, mean_abs = 0;
  for (size_t i = 0; i < ref.size(); ++i) {
    const double e = std::fabs(static_cast<double>(logits[i]) - ref[i]);
    max_abs = std::max(max_abs, std::isnan(e) ? INFINITY : e);
    mean_abs += e;
  }
  mean_abs /= static_cast<double>(ref.size());
  std::printf("[quantize] %-20s %-5s vs %-28s max_abs %.3g mean_abs %.3g\n", name.c_str(),
              type.c_str(), ref_file.c_str(), max_abs, mean_abs);
  return {max_abs, mean_abs};
}

void CheckQuantized(const std::string& name, const std::string& type) {
  const std::string dir = CaseDir(name);
  const std::string out = Export(dir + "/hf", type, name);
  const Checkpoint ours = OpenCheckpoint(out);
  const Checkpoint golden = OpenCheckpoint(dir + "/model-" + type + ".gguf");
  ExpectSameTensors(ours, golden);
  EXPECT_EQ(GgufFile::Open(out).Find("general.file_type")->ToInt(),
            GgufFile::Open(dir + "/model-" + type + ".gguf").Find("general.file_type")->ToInt());
  EXPECT_LE(LogitError(name, out, "gemma_pytorch-deq-" + type + ".f32", type).max_abs,
            kMaxAbsQuant);
}

// Types without a llama-quantize golden file: against the F32 reference logits.f32. These tiny
// random models amplify weight rounding (gemma_pytorch on the dequantized Q4_0 weights is itself
// ~11 max abs / ~1.6 mean abs from logits.f32), so the bounds are 1.4-2.5x the worst
// measurement over all cases: f16 0.081/0.0094, bf16 0.93/0.105, q5_0 11.1/1.32, q5_1 10.0/1.41,
// q4_1 14.4/1.81 (max/mean abs). They catch a broken conversion, not a subtle one.
TEST_P(QuantizeGolden, OtherTypesRunCloseToF32Reference) {
  GEMMA_REQUIRE_TESTDATA();
  struct Tol {
    const char* type;
    double max_abs, mean_abs;
  };
  const Tol kTypes[] = {{"f16", 0.2, 0.02},
                        {"bf16", 2.0, 0.25},
                        {"q5_1", 16, 2.0},
                        {"q5_0", 16, 2.0},
                        {"q4_1", 30, 3.5}};
  for (const Tol& t : kTypes) {
    const std::string out = Export(CaseDir(GetParam()) + "/hf", t.type, GetParam());
    const Diff d = LogitError(GetParam(), out, "logits.f32", t.type);
    EXPECT_LE(d.max_abs, t.max_abs) << t.type;
    EXPECT_LE(d.mean_abs, t.mean_abs) << t.type;
  }
}

TEST_P(QuantizeGolden, Q8_0ExportMatchesLlamaQuantizeAndReference) {
  GEMMA_REQUIRE_TESTDATA();
  CheckQuantized(GetParam(), "q8_0");
}

TEST_P(QuantizeGolden, Q4_0ExportMatchesLlamaQuantizeAndReference) {
  GEMMA_REQUIRE_TESTDATA();
  CheckQuantized(GetParam(), "q4_0");
}

TEST_P(QuantizeGolden, GgufF32ToQ8_0MatchesLlamaQuantize) {
  GEMMA_REQUIRE_TESTDATA();
  const std::string dir = CaseDir(GetParam());
  const std::string out = Export(dir + "/model-f32.gguf", "q8_0", GetParam() + "_gguf");
  const Checkpoint ours = OpenCheckpoint(out);
  const Checkpoint golden = OpenCheckpoint(dir + "/model-q8_0.gguf");
  ExpectSameConfig(ours.config, golden.config);
  ExpectSameTensors(ours, golden);
  EXPECT_EQ(ours.tokenizer.gguf_tokens, golden.tokenizer.gguf_tokens);
}

INSTANTIATE_TEST_SUITE_P(Quantize, QuantizeGolden, ::testing::ValuesIn(kCases),
                         [](const auto& info) {
                           std::string n = info.param;
                           for (char& ch : n) {
                             if (ch == '-') ch = '_';
                           }
                           return n;
                         });

TEST(QuantizePresets, Q2Q3KAreUnsupportedAndUnknownNamesAreUsageErrors) {
  EXPECT_EQ(FindQuantPreset("Q8_0").dtype, DType::kQ8_0);
  EXPECT_EQ(FindQuantPreset("bf16").file_type, 32u);
  for (const char* k : {"q2_k", "q3_k_s", "q3_k_m", "q3_k_l"}) {
    try {
      FindQuantPreset(k);
      ADD_FAILURE() << k;
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), ErrorKind::kUnsupported) << k;
    }
  }
  try {
    FindQuantPreset("q3_0");
    ADD_FAILURE();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kUsage);
  }
}

TEST(QuantizePresets, TensorTypesFollowLlamaQuantize) {
  TensorView norm, mat, odd;
  norm.n_dims = 1;
  norm.shape = {64};
  mat.n_dims = 2;
  mat.shape = {8, 64};
  odd.n_dims = 2;
  odd.shape = {8, 48};
  const QuantPreset& q4 = FindQuantPreset("q4_0");
  EXPECT_EQ(ExportTensorType("blk.0.attn_norm.weight", norm, q4, 1), DType::kF32);
  EXPECT_EQ(ExportTensorType("blk.0.attn_q.weight", mat, q4, 1), DType::kQ4_0);
  EXPECT_EQ(ExportTensorType("token_embd.weight", mat, q4, 1), DType::kQ8_0);
  EXPECT_EQ(ExportTensorType("token_embd.weight", mat, FindQuantPreset("f16"), 1), DType::kF16);
  EXPECT_EQ(ExportTensorType("blk.0.attn_q.weight", odd, q4, 1), DType::kF32);
}

}  // namespace
}  // namespace gemma
