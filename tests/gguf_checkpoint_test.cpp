// GGUF -> Checkpoint: ModelConfig per architecture, tokenizer/special ids, error cases, and the
// golden files against their Hugging Face twins.
#include "formats/gguf_checkpoint.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <set>
#include <string>
#include <vector>

#include "core/quant/dequantize.h"
#include "core/quant/quantize.h"
#include "formats/checkpoint.h"
#include "formats/gguf_reader.h"
#include "gemma/error.h"
#include "gguf_builder.h"
#include "test_util.h"

namespace gemma {
namespace {

using test::GgufBuilder;

constexpr int kD = 32;

const std::vector<std::string> kTokens = {"<pad>", "<eos>", "<bos>",         "<unk>",
                                          "a",     "b",     "<end_of_turn>", "c"};

// A minimal model file: metadata for `arch` and a token embedding. Keys named in `skip` are left
// out (by full name).
GgufBuilder ModelBuilder(const std::string& arch, int n_layers,
                         const std::set<std::string>& skip = {},
                         const std::vector<std::string>& tokens = kTokens) {
  GgufBuilder b;
  auto has = [&](const std::string& k) { return skip.count(k) == 0; };
  if (has("general.architecture")) b.Str("general.architecture", arch);
  const std::string a = arch + ".";
  if (has(a + "context_length")) b.U32(a + "context_length", 4096);
  if (has(a + "embedding_length")) b.U32(a + "embedding_length", kD);
  if (has(a + "block_count")) b.U32(a + "block_count", static_cast<uint32_t>(n_layers));
  if (has(a + "feed_forward_length")) b.U32(a + "feed_forward_length", 64);
  if (has(a + "attention.head_count")) b.U32(a + "attention.head_count", 2);
  if (has(a + "attention.head_count_kv")) b.U32(a + "attention.head_count_kv", 1);
  if (has(a + "attention.key_length")) b.U32(a + "attention.key_length", 16);
  if (has(a + "attention.layer_norm_rms_epsilon"))
    b.F32(a + "attention.layer_norm_rms_epsilon", 1e-6f);
  if (has("tokenizer.ggml.model")) b.Str("tokenizer.ggml.model", "llama");
  if (has("tokenizer.ggml.tokens")) b.StrArray("tokenizer.ggml.tokens", tokens);
  if (has("tokenizer.ggml.scores")) {
    b.Array("tokenizer.ggml.scores", test::kTF32, std::vector<float>(tokens.size(), -1.f));
  }
  if (has("tokenizer.ggml.token_type")) {
    b.Array("tokenizer.ggml.token_type", test::kTI32, std::vector<int32_t>(tokens.size(), 1));
  }
  if (has("tokenizer.ggml.bos_token_id")) b.U32("tokenizer.ggml.bos_token_id", 2);
  if (has("tokenizer.ggml.eos_token_id")) b.U32("tokenizer.ggml.eos_token_id", 1);
  if (has("token_embd.weight")) {
    b.Tensor("token_embd.weight", {kD, tokens.size()}, test::kGgmlF32,
             std::vector<float>(kD * tokens.size(), 0.25f));
  }
  return b;
}

class GgufCheckpointTest : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = test::MakeTempDir("ckpt"); }

  Checkpoint Open(const GgufBuilder& b, const std::string& name = "model.gguf") {
    const std::string path = dir_ + "/" + name;
    test::WriteFileBytes(path, b.Build());
    return OpenGgufCheckpoint(path);
  }

  void ExpectError(const GgufBuilder& b, ErrorKind kind, const std::string& needle) {
    try {
      Open(b);
      ADD_FAILURE() << "expected an error containing '" << needle << "'";
    } catch (const Error& e) {
      const std::string msg = e.what();
      EXPECT_EQ(static_cast<int>(e.kind()), static_cast<int>(kind)) << msg;
      EXPECT_NE(msg.find(needle), std::string::npos) << msg;
      EXPECT_EQ(msg.find('\n'), std::string::npos) << msg;
    }
  }

  std::string dir_;
};

TEST_F(GgufCheckpointTest, Gemma2Config) {
  GgufBuilder b = ModelBuilder("gemma2", 4);
  b.U32("gemma2.attention.sliding_window", 8)
      .F32("gemma2.attn_logit_softcapping", 5.f)
      .F32("gemma2.final_logit_softcapping", 10.f)
      .U32("tokenizer.ggml.padding_token_id", 0)
      .Str("tokenizer.chat_template", "{{ messages }}")
      .F32("general.sampling.temp", 0.7f)
      .I32("general.sampling.top_k", 64)
      .F32("general.sampling.top_p", 0.95f);
  const Checkpoint ck = Open(b);
  const ModelConfig& c = ck.config;
  EXPECT_EQ(ck.format, "gguf");
  EXPECT_EQ(c.family, ModelFamily::kGemma2);
  EXPECT_EQ(c.architecture, "gemma2");
  EXPECT_EQ(c.d_model, kD);
  EXPECT_EQ(c.n_layers, 4);
  EXPECT_EQ(c.vocab_size, 8);
  EXPECT_EQ(c.context_length, 4096);
  EXPECT_FLOAT_EQ(c.rms_norm_eps, 1e-6f);
  EXPECT_EQ(c.norm_weight_offset, 0.f);
  EXPECT_TRUE(c.post_norms);
  EXPECT_FALSE(c.qk_norm);
  EXPECT_FLOAT_EQ(c.query_scale, 0.25f);  // head_dim 16
  EXPECT_EQ(c.attn_softcap, 5.f);
  EXPECT_EQ(c.final_softcap, 10.f);
  EXPECT_EQ(c.LayerPatternString(), "LGLG");
  ASSERT_EQ(c.layers.size(), 4u);
  EXPECT_EQ(c.layers[0].sliding_window, 8);
  EXPECT_EQ(c.layers[1].sliding_window, 0);
  for (const LayerConfig& l : c.layers) {
    EXPECT_EQ(l.n_heads, 2);
    EXPECT_EQ(l.n_kv_heads, 1);
    EXPECT_EQ(l.head_dim, 16);
    EXPECT_EQ(l.ff_dim, 64);
    EXPECT_EQ(l.rope.base, 10000.f);
    EXPECT_EQ(l.rope.position_divisor, 1.f);
  }
  EXPECT_EQ(c.bos_id, 2);
  EXPECT_EQ(c.pad_id, 0);
  EXPECT_EQ(c.eos_ids, (std::vector<int>{1, 6}));  // <eos> and the <end_of_turn> piece
  EXPECT_EQ(ck.tokenizer.gguf_model, "llama");
  EXPECT_EQ(ck.tokenizer.gguf_tokens, kTokens);
  EXPECT_EQ(ck.tokenizer.gguf_scores.size(), 8u);
  EXPECT_EQ(ck.tokenizer.gguf_token_types, std::vector<int32_t>(8, 1));
  EXPECT_EQ(ck.chat_template, "{{ messages }}");
  EXPECT_TRUE(ck.generation.has_temperature);
  EXPECT_FLOAT_EQ(ck.generation.temperature, 0.7f);
  EXPECT_TRUE(ck.generation.has_top_k);
  EXPECT_EQ(ck.generation.top_k, 64);
  EXPECT_TRUE(ck.generation.has_top_p);
  EXPECT_FALSE(ck.generation.has_min_p);
  const NamedTensor* embd = ck.Find("token_embd.weight");
  ASSERT_NE(embd, nullptr);
  EXPECT_EQ(embd->view.dim(0), 8);
  EXPECT_EQ(embd->view.dim(1), kD);
  EXPECT_EQ(ck.files.size(), 1u);
}

TEST_F(GgufCheckpointTest, Gemma2Defaults) {
  // llama.cpp defaults: window 4096, softcaps 50 / 30.
  const Checkpoint ck = Open(ModelBuilder("gemma2", 2));
  EXPECT_EQ(ck.config.layers[0].sliding_window, 4096);
  EXPECT_EQ(ck.config.attn_softcap, 50.f);
  EXPECT_EQ(ck.config.final_softcap, 30.f);
  EXPECT_FALSE(ck.generation.has_temperature);
}

TEST_F(GgufCheckpointTest, Gemma2QueryScaleFollowsLlamaCpp27BRule) {
  GgufBuilder b = ModelBuilder("gemma2", 46, {"gemma2.attention.key_length"});
  b.U32("gemma2.attention.key_length", 32);
  const Checkpoint ck = Open(b);
  EXPECT_FLOAT_EQ(ck.config.query_scale, 0.25f);  // (d / H)^-1/2 = 16^-1/2, not 32^-1/2
}

TEST_F(GgufCheckpointTest, Gemma3Config) {
  GgufBuilder b = ModelBuilder("gemma3", 8);
  b.U32("gemma3.attention.sliding_window", 16)
      .F32("gemma3.rope.freq_base", 1e6f)
      .Str("gemma3.rope.scaling.type", "linear")
      .F32("gemma3.rope.scaling.factor", 8.f);
  const Checkpoint ck = Open(b);
  const ModelConfig& c = ck.config;
  EXPECT_EQ(c.family, ModelFamily::kGemma3);
  EXPECT_TRUE(c.qk_norm);
  EXPECT_TRUE(c.post_norms);
  EXPECT_EQ(c.attn_softcap, 0.f);
  EXPECT_EQ(c.final_softcap, 0.f);
  EXPECT_EQ(c.LayerPatternString(), "LLLLLGLL");
  for (const LayerConfig& l : c.layers) {
    if (l.attention == AttentionType::kGlobal) {
      EXPECT_EQ(l.rope.base, 1e6f);
      EXPECT_EQ(l.rope.position_divisor, 8.f);
      EXPECT_EQ(l.sliding_window, 0);
    } else {
      EXPECT_EQ(l.rope.base, 1e4f);  // rope.freq_base_swa absent: llama.cpp's 10000
      EXPECT_EQ(l.rope.position_divisor, 1.f);
      EXPECT_EQ(l.sliding_window, 16);
    }
  }
}

TEST_F(GgufCheckpointTest, Gemma3RopeVariants) {
  GgufBuilder b = ModelBuilder("gemma3", 6);
  b.U32("gemma3.attention.sliding_window", 16)
      .F32("gemma3.rope.freq_base_swa", 20000.f)
      .F32("gemma3.rope.scaling.factor", 4.f);  // type absent: linear, as in llama.cpp
  Checkpoint ck = Open(b);
  EXPECT_EQ(ck.config.layers[0].rope.base, 20000.f);
  EXPECT_EQ(ck.config.layers[5].rope.base, 1e6f);  // default global θ for gemma3
  EXPECT_EQ(ck.config.layers[5].rope.position_divisor, 4.f);

  b = ModelBuilder("gemma3", 6);
  b.Str("gemma3.rope.scaling.type", "none").F32("gemma3.rope.scaling.factor", 8.f);
  ck = Open(b);
  EXPECT_EQ(ck.config.layers[5].rope.position_divisor, 1.f);

  b = ModelBuilder("gemma3", 6);
  b.Str("gemma3.rope.scaling.type", "yarn").F32("gemma3.rope.scaling.factor", 8.f);
  ExpectError(b, ErrorKind::kUnsupported, "rope scaling type 'yarn' is not supported");

  b = ModelBuilder("gemma2", 2);
  b.F32("gemma2.rope.scaling.factor", 2.f);
  ExpectError(b, ErrorKind::kUnsupported, "rope scaling is not supported for Gemma 2");
}

TEST_F(GgufCheckpointTest, Gemma3WithoutSlidingWindowIsAllGlobal) {
  const Checkpoint ck = Open(ModelBuilder("gemma3", 6));
  EXPECT_EQ(ck.config.LayerPatternString(), "GGGGGG");
  EXPECT_EQ(ck.config.MaxSlidingWindow(), 0);
}

TEST_F(GgufCheckpointTest, Gemma1ConfigAndEotRule) {
  // Gemma 1 converters always write eot 107; it is only a stop token when it names a turn end.
  const std::vector<std::string> plain = {"<pad>", "<eos>", "<bos>", "<unk>", "a", "b", "c", "d"};
  GgufBuilder b = ModelBuilder("gemma", 3, {}, plain);
  b.U32("tokenizer.ggml.eot_token_id", 5);
  const Checkpoint ck = Open(b);
  const ModelConfig& c = ck.config;
  EXPECT_EQ(c.family, ModelFamily::kGemma1);
  EXPECT_FALSE(c.post_norms);
  EXPECT_FALSE(c.qk_norm);
  EXPECT_EQ(c.LayerPatternString(), "GGG");
  EXPECT_EQ(c.attn_softcap, 0.f);
  EXPECT_EQ(c.final_softcap, 0.f);
  EXPECT_FLOAT_EQ(c.query_scale, 0.25f);
  EXPECT_EQ(c.eos_ids, (std::vector<int>{1}));

  std::vector<std::string> turn = plain;
  turn[5] = "<end_of_turn>";
  b = ModelBuilder("gemma", 3, {}, turn);
  b.U32("tokenizer.ggml.eot_token_id", 5);
  EXPECT_EQ(Open(b).config.eos_ids, (std::vector<int>{1, 5}));

  // eos naming the turn end (IT conversions): <eos> is added by piece.
  turn[5] = "<turn|>";
  b = ModelBuilder("gemma", 3, {"tokenizer.ggml.eos_token_id"}, turn);
  b.U32("tokenizer.ggml.eos_token_id", 5);
  EXPECT_EQ(Open(b).config.eos_ids, (std::vector<int>{5, 1}));

  // No eos key at all: the <eos> piece.
  b = ModelBuilder("gemma", 3, {"tokenizer.ggml.eos_token_id"}, plain);
  EXPECT_EQ(Open(b).config.eos_ids, (std::vector<int>{1}));
}

TEST_F(GgufCheckpointTest, PerLayerArrays) {
  GgufBuilder b =
      ModelBuilder("gemma2", 4, {"gemma2.attention.head_count_kv", "gemma2.feed_forward_length"});
  b.Array("gemma2.attention.head_count_kv", test::kTI32, std::vector<int32_t>{1, 2, 1, 2})
      .Array("gemma2.feed_forward_length", test::kTU32, std::vector<uint32_t>{64, 64, 128, 128});
  const Checkpoint ck = Open(b);
  EXPECT_EQ(ck.config.layers[1].n_kv_heads, 2);
  EXPECT_EQ(ck.config.layers[2].n_kv_heads, 1);
  EXPECT_EQ(ck.config.layers[3].ff_dim, 128);

  b = ModelBuilder("gemma2", 4, {"gemma2.feed_forward_length"});
  b.Array("gemma2.feed_forward_length", test::kTU32, std::vector<uint32_t>{64, 64});
  ExpectError(b, ErrorKind::kFormat,
              "key 'gemma2.feed_forward_length' must be an integer or an array of 4 integers");

  b = ModelBuilder("gemma2", 4, {"gemma2.attention.head_count_kv"});
  b.U32("gemma2.attention.head_count_kv", 3);
  ExpectError(b, ErrorKind::kFormat, "not a multiple of 3 KV heads");
}

TEST_F(GgufCheckpointTest, RejectsOtherArchitectures) {
  ExpectError(ModelBuilder("llama", 2), ErrorKind::kUnsupported,
              "unsupported architecture 'llama' (supported: gemma, gemma2, gemma3, gemma3n, "
              "gemma4)");
  GgufBuilder b = ModelBuilder("gemma2", 2, {"general.architecture"});
  b.U32("general.architecture", 2);
  ExpectError(b, ErrorKind::kFormat, "key 'general.architecture' must be a string, not u32");
}

TEST_F(GgufCheckpointTest, RejectsMissingRequiredKeys) {
  for (const std::string& key :
       {std::string("general.architecture"), std::string("gemma3.embedding_length"),
        std::string("gemma3.block_count"), std::string("gemma3.context_length"),
        std::string("gemma3.feed_forward_length"), std::string("gemma3.attention.head_count")}) {
    SCOPED_TRACE(key);
    ExpectError(ModelBuilder("gemma3", 6, {key}), ErrorKind::kFormat, "missing key '" + key + "'");
  }
  GgufBuilder b = ModelBuilder("gemma3", 6, {"gemma3.block_count"});
  b.Str("gemma3.block_count", "six");
  ExpectError(b, ErrorKind::kFormat,
              "key 'gemma3.block_count' must be a positive integer below 2^30, not str 'six'");
  b = ModelBuilder("gemma3", 6, {"gemma3.block_count"});
  b.Scalar("gemma3.block_count", test::kTI64, int64_t{-6});
  ExpectError(b, ErrorKind::kFormat, "key 'gemma3.block_count' must be a positive integer");
}

TEST_F(GgufCheckpointTest, RejectsUnsupportedTensorTypes) {
  GgufBuilder b = ModelBuilder("gemma2", 2);
  b.Tensor("blk.0.attn_q.weight", {256, 2}, test::kGgmlIQ2_XXS, std::string(132, '\0'))
      .Tensor("blk.1.attn_q.weight", {256, 2}, test::kGgmlIQ2_XXS, std::string(132, '\0'))
      .Tensor("blk.0.attn_k.weight", {32, 1}, 9, std::string(36, '\0'));  // Q8_1
  ExpectError(b, ErrorKind::kUnsupported,
              "tensor types not supported: IQ2_XXS (blk.0.attn_q.weight and 1 more); Q8_1 "
              "(blk.0.attn_k.weight)");
}

TEST_F(GgufCheckpointTest, ChecksEmbeddingAndIds) {
  ExpectError(ModelBuilder("gemma2", 2, {"token_embd.weight"}), ErrorKind::kFormat,
              "missing tensor 'token_embd.weight'");
  GgufBuilder b = ModelBuilder("gemma2", 2, {"token_embd.weight"});
  b.Tensor("token_embd.weight", {16, 8}, test::kGgmlF32, std::vector<float>(128));
  ExpectError(b, ErrorKind::kFormat,
              "tensor 'token_embd.weight' has shape [8, 16], expected [vocab, 32]");
  b = ModelBuilder("gemma2", 2, {"tokenizer.ggml.eos_token_id"});
  b.U32("tokenizer.ggml.eos_token_id", 8);
  ExpectError(b, ErrorKind::kFormat,
              "key 'tokenizer.ggml.eos_token_id' is 8 but the vocabulary has 8 tokens");
  b = ModelBuilder("gemma2", 2, {"tokenizer.ggml.scores"});
  b.Array("tokenizer.ggml.scores", test::kTF32, std::vector<float>(3));
  ExpectError(b, ErrorKind::kFormat, "key 'tokenizer.ggml.scores' must be an array of 8 numbers");
}

TEST_F(GgufCheckpointTest, OpenCheckpointRecognisesGgufByMagic) {
  const std::string path = dir_ + "/weights.bin";
  test::WriteFileBytes(path, ModelBuilder("gemma2", 2).Build());
  const Checkpoint ck = OpenCheckpoint(path);
  EXPECT_EQ(ck.format, "gguf");
  EXPECT_EQ(ck.config.family, ModelFamily::kGemma2);
}

// ---------------------------------------------------------------------------------------------
// Golden files: every case's GGUFs against the HF directory of the same case.

std::vector<std::string> GoldenCases() {
  std::vector<std::string> cases;
  for (const auto& e : std::filesystem::directory_iterator(test::TestDataDir() + "/golden")) {
    if (e.is_directory()) cases.push_back(e.path().string());
  }
  std::sort(cases.begin(), cases.end());
  return cases;
}

bool IsNewerFamilyCase(const std::string& dir) {
  const std::string name = std::filesystem::path(dir).filename().string();
  return name.rfind("gemma3n", 0) == 0 || name.rfind("gemma4", 0) == 0;
}

void ExpectSameConfig(const ModelConfig& hf, const ModelConfig& gg) {
  EXPECT_EQ(gg.family, hf.family);
  EXPECT_EQ(gg.architecture, hf.architecture);
  EXPECT_EQ(gg.d_model, hf.d_model);
  EXPECT_EQ(gg.n_layers, hf.n_layers);
  EXPECT_EQ(gg.vocab_size, hf.vocab_size);
  EXPECT_EQ(gg.context_length, hf.context_length);
  EXPECT_FLOAT_EQ(gg.rms_norm_eps, hf.rms_norm_eps);
  // HF Gemma 1-3 store w, the GGUF converter stored 1 + w; Gemma 3n/4 use w in both.
  const bool newer = hf.family == ModelFamily::kGemma3n || hf.family == ModelFamily::kGemma4;
  EXPECT_EQ(hf.norm_weight_offset, newer ? 0.f : 1.f);
  EXPECT_EQ(gg.norm_weight_offset, 0.f);
  EXPECT_EQ(gg.v_norm, hf.v_norm);
  EXPECT_EQ(gg.layer_scalar, hf.layer_scalar);
  EXPECT_EQ(gg.per_layer_input_dim, hf.per_layer_input_dim);
  EXPECT_EQ(gg.altup_streams, hf.altup_streams);
  EXPECT_EQ(gg.altup_active, hf.altup_active);
  EXPECT_EQ(gg.laurel_rank, hf.laurel_rank);
  EXPECT_EQ(gg.n_experts, hf.n_experts);
  EXPECT_EQ(gg.n_experts_used, hf.n_experts_used);
  EXPECT_EQ(gg.expert_ff_dim, hf.expert_ff_dim);
  EXPECT_EQ(gg.post_norms, hf.post_norms);
  EXPECT_EQ(gg.qk_norm, hf.qk_norm);
  EXPECT_NEAR(gg.query_scale, hf.query_scale, 1e-7f * hf.query_scale);
  EXPECT_EQ(gg.attn_softcap, hf.attn_softcap);
  EXPECT_EQ(gg.final_softcap, hf.final_softcap);
  EXPECT_EQ(gg.bos_id, hf.bos_id);
  EXPECT_EQ(gg.LayerPatternString(), hf.LayerPatternString());
  ASSERT_EQ(gg.layers.size(), hf.layers.size());
  for (size_t i = 0; i < hf.layers.size(); ++i) {
    SCOPED_TRACE("layer " + std::to_string(i));
    const LayerConfig &a = hf.layers[i], &b = gg.layers[i];
    EXPECT_EQ(b.sliding_window, a.sliding_window);
    EXPECT_EQ(b.n_heads, a.n_heads);
    EXPECT_EQ(b.n_kv_heads, a.n_kv_heads);
    EXPECT_EQ(b.head_dim, a.head_dim);
    EXPECT_EQ(b.ff_dim, a.ff_dim);
    EXPECT_EQ(b.rope.base, a.rope.base);
    EXPECT_EQ(b.rope.position_divisor, a.rope.position_divisor);
    EXPECT_EQ(b.rope.rotated_pairs, a.rope.rotated_pairs);
    EXPECT_EQ(b.kv_source_layer, a.kv_source_layer);
    EXPECT_EQ(b.has_v_proj, a.has_v_proj);
    // GGUF stores Phi^-1(0.95) as f32; HF gives the probability.
    EXPECT_NEAR(b.gate_sparsity_std_mul, a.gate_sparsity_std_mul, 1e-6);
  }
  EXPECT_FALSE(gg.eos_ids.empty());
  EXPECT_EQ(gg.eos_ids[0], 1);
}

TEST(GgufCheckpointGolden, ConfigsMatchHuggingFace) {
  GEMMA_REQUIRE_TESTDATA();
  int opened = 0;
  for (const std::string& dir : GoldenCases()) {
    for (const char* q : {"f32", "q8_0", "q4_0"}) {
      const std::string path = dir + "/model-" + q + ".gguf";
      SCOPED_TRACE(path);
      const Checkpoint gg = OpenGgufCheckpoint(path);
      const Checkpoint hf = OpenCheckpoint(dir + "/hf");
      ExpectSameConfig(hf.config, gg.config);
      const bool gemma3n = dir.find("gemma3n") != std::string::npos;
      EXPECT_EQ(gg.tokenizer.gguf_tokens.size(), gemma3n ? 64u : 512u);
      EXPECT_EQ(gg.tokenizer.gguf_scores.size(), gemma3n ? 64u : 512u);
      EXPECT_EQ(gg.tokenizer.gguf_model, IsNewerFamilyCase(dir) && !gemma3n ? "gemma4" : "llama");
      ++opened;
    }
  }
  EXPECT_EQ(opened, 11 * 3);
}

// The F32 GGUF holds the HF tensors under canonical names, transposed only in how ne is listed,
// with 1 added to every norm weight (gemma-models.md §3.2).
TEST(GgufCheckpointGolden, F32TensorsEqualHuggingFace) {
  GEMMA_REQUIRE_TESTDATA();
  for (const std::string& dir : GoldenCases()) {
    if (IsNewerFamilyCase(dir)) continue;
    SCOPED_TRACE(dir);
    const Checkpoint gg = OpenGgufCheckpoint(dir + "/model-f32.gguf");
    const Checkpoint hf = OpenCheckpoint(dir + "/hf");
    EXPECT_EQ(gg.tensors.size(), hf.tensors.size());
    for (const auto& [name, h] : hf.tensors) {
      SCOPED_TRACE(name);
      const NamedTensor* g = gg.Find(name);
      ASSERT_NE(g, nullptr);
      ASSERT_EQ(g->view.dtype, DType::kF32);
      ASSERT_EQ(h.view.dtype, DType::kF32);
      ASSERT_EQ(g->view.ShapeString(), h.view.ShapeString());
      const bool is_norm =
          name.size() >= 11 && name.compare(name.size() - 11, 11, "norm.weight") == 0;
      const auto* a = reinterpret_cast<const float*>(h.view.data);
      const auto* b = reinterpret_cast<const float*>(g->view.data);
      for (int64_t i = 0; i < h.view.n_elements(); ++i) {
        if (is_norm) {
          ASSERT_EQ(b[i], a[i] + 1.f) << i;
        } else {
          ASSERT_EQ(b[i], a[i]) << i;
        }
      }
    }
  }
}

// Quantized files: Q8_0 and Q4_0 tensors dequantize to within one quantization step of the F32
// file's weights, and our reference quantizers reproduce llama-quantize's bytes.
TEST(GgufCheckpointGolden, QuantizedTensorsMatchF32) {
  GEMMA_REQUIRE_TESTDATA();
  int q8_tensors = 0, q4_tensors = 0;
  for (const std::string& dir : GoldenCases()) {
    if (IsNewerFamilyCase(dir)) continue;
    const GgufFile f32 = GgufFile::Open(dir + "/model-f32.gguf");
    for (const char* q : {"q8_0", "q4_0"}) {
      const GgufFile fq = GgufFile::Open(dir + "/model-" + q + ".gguf");
      SCOPED_TRACE(fq.path());
      for (const GgufTensorInfo& t : fq.tensors()) {
        if (t.dtype != DType::kQ8_0 && t.dtype != DType::kQ4_0) continue;
        SCOPED_TRACE(t.name);
        const GgufTensorInfo* ref = f32.FindTensor(t.name);
        ASSERT_NE(ref, nullptr);
        ASSERT_EQ(ref->view.ShapeString(), t.view.ShapeString());
        const int64_t n = t.view.n_elements();
        std::vector<float> deq(static_cast<size_t>(n));
        DequantizeRow(t.dtype, t.view.data, deq.data(), n);
        const auto* x = reinterpret_cast<const float*>(ref->view.data);
        const bool q8 = t.dtype == DType::kQ8_0;
        (q8 ? q8_tensors : q4_tensors)++;
        for (int64_t b = 0; b < n / 32; ++b) {
          float amax = 0;
          for (int j = 0; j < 32; ++j) amax = std::max(amax, std::fabs(x[32 * b + j]));
          const float bound = q8 ? amax * (1.f / 254 + 1.f / 1024) : amax / 8 * 1.02f;
          for (int j = 0; j < 32; ++j) {
            ASSERT_LE(std::fabs(deq[32 * b + j] - x[32 * b + j]), bound + 1e-7f)
                << "block " << b << " element " << j;
          }
        }
        std::vector<uint8_t> requant(t.n_bytes);
        QuantizeRow(t.dtype, x, requant.data(), n);
        EXPECT_EQ(std::memcmp(requant.data(), t.view.data, t.n_bytes), 0)
            << "reference quantizer differs from llama-quantize";
      }
    }
  }
  EXPECT_GT(q8_tensors, 100);
  EXPECT_GT(q4_tensors, 100);
}

}  // namespace
}  // namespace gemma
