// Unit tests of the Gemma 3n / Gemma 4 building blocks on small hand-computed examples:
// proportional RoPE, MoE routing, AltUp predict/correct, Gaussian top-k, and (through a tiny
// in-memory model run by the real Session) K=V attention and the layer scalar.
#include <gtest/gtest.h>

#include <cmath>
#include <memory>

#include "kernels/ops.h"
#include "model/altup.h"
#include "model/gate_sparsity.h"
#include "model/model.h"
#include "model/moe.h"
#include "model/session.h"

namespace gemma {
namespace {

TEST(ProportionalRope, OnlyTheFirstPairsRotateWithTheFullHeadDimExponent) {
  LayerConfig l;
  l.head_dim = 8;
  l.rope.base = 10000.f;
  l.rope.rotated_pairs = 2;
  const std::vector<float> inv = LayerInverseFrequencies(l);
  ASSERT_EQ(inv.size(), 4u);
  EXPECT_FLOAT_EQ(inv[0], 1.f);
  EXPECT_FLOAT_EQ(inv[1], 0.1f);  // 10000^(-2/8): exponent over 8, not over 2 * rotated_pairs
  EXPECT_EQ(inv[2], 0.f);
  EXPECT_EQ(inv[3], 0.f);
  float x[8] = {1, 2, 3, 4, 5, 6, 7, 8};
  ApplyRope(x, 8, 1.f, inv.data());
  // Pairs (0,4) by 1 rad and (1,5) by 0.1 rad; (2,6) and (3,7) unchanged.
  EXPECT_NEAR(x[0], 1 * std::cos(1.0) - 5 * std::sin(1.0), 1e-6);
  EXPECT_NEAR(x[4], 5 * std::cos(1.0) + 1 * std::sin(1.0), 1e-6);
  EXPECT_NEAR(x[1], 2 * std::cos(0.1) - 6 * std::sin(0.1), 1e-6);
  EXPECT_NEAR(x[5], 6 * std::cos(0.1) + 2 * std::sin(0.1), 1e-6);
  EXPECT_EQ(x[2], 3.f);
  EXPECT_EQ(x[6], 7.f);
  EXPECT_EQ(x[3], 4.f);
  EXPECT_EQ(x[7], 8.f);
}

TEST(MoeRouting, SoftmaxTopKRenormalisedThenPerExpertScale) {
  const float logits[4] = {1, 2, 3, 0};
  const float scale[4] = {1, 1, 2, 1};
  const std::vector<ExpertChoice> r = RouteExperts(logits, 4, 2, scale);
  ASSERT_EQ(r.size(), 2u);
  // Top-2 are experts 2 and 1; renormalised p = e^3 / (e^2 + e^3) and e^2 / (e^2 + e^3); the
  // scale multiplies after renormalisation.
  const double p2 = 1 / (1 + std::exp(-1.0)), p1 = 1 - p2;
  EXPECT_EQ(r[0].expert, 2);
  EXPECT_NEAR(r[0].weight, 2 * p2, 1e-6);  // 1.462117
  EXPECT_EQ(r[1].expert, 1);
  EXPECT_NEAR(r[1].weight, p1, 1e-6);  // 0.268941
}

TEST(AltUp, PredictAndCorrectByHand) {
  // S = 2 streams of d = 2.
  const float s0[2] = {1, 2}, s1[2] = {3, 4};
  const float* streams[2] = {s0, s1};
  const float modalities[2] = {0.5f, -1.f};
  // prediction_coefs [S*S, S]: row i*S + j holds the weights over modalities of mixing s_j into i.
  const float predict_coef[8] = {1, 0, /*i0 j1*/ 0, 1, /*i1 j0*/ 2, 0, /*i1 j1*/ 0, 0};
  float p0[2], p1[2];
  float* pred[2] = {p0, p1};
  AltupPredict(streams, 2, 2, modalities, predict_coef, pred);
  // pred0 = s0 + 0.5 s0 - 1 s1 = (-1.5, -1); pred1 = s1 + 1 s0 + 0 s1 = (4, 6).
  EXPECT_FLOAT_EQ(p0[0], -1.5f);
  EXPECT_FLOAT_EQ(p0[1], -1.f);
  EXPECT_FLOAT_EQ(p1[0], 4.f);
  EXPECT_FLOAT_EQ(p1[1], 6.f);

  const float activated[2] = {0, 0};
  const float correct_coef[4] = {1, 0, 0, 2};
  float c0[2], c1[2];
  float* corrected[2] = {c0, c1};
  const float* cpred[2] = {p0, p1};
  AltupCorrect(cpred, 2, /*active=*/0, 2, activated, modalities, correct_coef, corrected);
  // innovation = activated - pred0 = (1.5, 1); factors 1 + 0.5 = 1.5 and 1 + (-2) = -1.
  EXPECT_FLOAT_EQ(c0[0], 0.75f);
  EXPECT_FLOAT_EQ(c0[1], 0.5f);
  EXPECT_FLOAT_EQ(c1[0], 2.5f);
  EXPECT_FLOAT_EQ(c1[1], 5.f);
}

TEST(AltUp, RescaleMatchesTheTargetMagnitude) {
  float v[2] = {3, 4};  // rms = sqrt(12.5)
  RescaleToRms(v, 2, 1.f);
  EXPECT_NEAR(RootMeanSquare(v, 2), 1.f, 1e-6);
  EXPECT_NEAR(v[0] / v[1], 0.75f, 1e-6);
}

TEST(GaussianTopK, CutsAtMeanPlusPopulationStd) {
  float x[4] = {1, 2, 3, 4};
  GaussianTopK(x, 4, 1.f);
  // mean 2.5, population std sqrt(1.25) = 1.118034 (n-1 would give 1.290994 and 0.209006).
  EXPECT_EQ(x[0], 0.f);
  EXPECT_EQ(x[1], 0.f);
  EXPECT_EQ(x[2], 0.f);
  EXPECT_NEAR(x[3], 4 - 2.5 - std::sqrt(1.25), 1e-6);  // 0.381966
}

TEST(NormalQuantile, GivesTheGemma3nCutOff) {
  EXPECT_NEAR(NormalQuantile(0.95), 1.6448536, 1e-6);
  EXPECT_NEAR(NormalQuantile(0.5), 0.0, 1e-9);
}

// A one-layer Gemma 4 model (d = 2, one head of dim 2, vocab 2) held in memory.
class TinyGemma4 {
 public:
  TinyGemma4() {
    ModelConfig& c = ck_.config;
    c.family = ModelFamily::kGemma4;
    c.architecture = "gemma4";
    c.d_model = 2;
    c.n_layers = 1;
    c.context_length = 16;
    c.rms_norm_eps = 1.f;  // large, so the final norm does not hide the residual's scale
    c.post_norms = c.qk_norm = c.v_norm = c.layer_scalar = true;
    LayerConfig l;
    l.n_heads = l.n_kv_heads = 1;
    l.head_dim = 2;
    l.ff_dim = 2;
    c.layers.push_back(l);
    ck_.path = "tiny";
    ck_.format = "synthetic";
    Add("token_embd.weight", {2, 2}, {1, 0, 0, 1});
    Add("output_norm.weight", {2}, {1, 1});
    for (const char* n : {"attn_norm", "ffn_norm", "post_attention_norm", "post_ffw_norm"}) {
      Add(std::string("blk.0.") + n + ".weight", {2}, {1, 1});
    }
    Add("blk.0.attn_q_norm.weight", {2}, {1, 1});
    Add("blk.0.attn_k_norm.weight", {2}, {1, 1});
    Add("blk.0.attn_q.weight", {2, 2}, {1, 0.5f, -0.25f, 1});
    Add("blk.0.attn_k.weight", {2, 2}, {0.5f, 1, 1, -1});
    Add("blk.0.attn_output.weight", {2, 2}, {1, 0, 0, 1});
    Add("blk.0.ffn_gate.weight", {2, 2}, {0, 0, 0, 0});
    Add("blk.0.ffn_up.weight", {2, 2}, {0, 0, 0, 0});
    Add("blk.0.ffn_down.weight", {2, 2}, {0, 0, 0, 0});
    Add("blk.0.layer_output_scale.weight", {1}, {1});
  }

  void Add(const std::string& name, std::vector<int64_t> shape, std::vector<float> values) {
    auto data = std::make_shared<std::vector<float>>(std::move(values));
    TensorView v;
    v.dtype = DType::kF32;
    v.n_dims = static_cast<int>(shape.size());
    for (size_t i = 0; i < shape.size(); ++i) v.shape[i] = shape[i];
    v.data = reinterpret_cast<const uint8_t*>(data->data());
    v.n_bytes = data->size() * sizeof(float);
    ck_.tensors[name] = NamedTensor{v, "tiny", name};
    ck_.owned_memory.push_back(data);
  }
  // Shares the bytes of `from` under another name.
  void Alias(const std::string& name, const std::string& from) {
    ck_.tensors[name] = ck_.tensors[from];
  }

  Checkpoint& checkpoint() { return ck_; }

  std::vector<float> Logits(const std::vector<int>& ids) {
    SessionOptions o;
    o.n_threads = 1;
    Session s(Model::FromCheckpoint(ck_), o);
    std::vector<float> out(ids.size() * 2);
    s.Forward(ids, out.data());
    return out;
  }

 private:
  Checkpoint ck_;
};

TEST(LayerScalar, MultipliesTheWholeResidualStream) {
  // Attention output and MLP are zero, so the layer output is scalar * x with x = sqrt(2) e_t;
  // final norm with eps 1: logit = s sqrt(2) / sqrt(s^2 + 1) for the token's own row.
  TinyGemma4 m;
  m.Alias("blk.0.attn_v.weight", "blk.0.attn_k.weight");
  m.Add("blk.0.attn_output.weight", {2, 2}, {0, 0, 0, 0});
  m.Add("blk.0.layer_output_scale.weight", {1}, {3});
  const std::vector<float> out = m.Logits({0});
  EXPECT_NEAR(out[0], 3 * std::sqrt(2.0) / std::sqrt(10.0), 1e-5);  // 1.341641
  EXPECT_NEAR(out[1], 0.f, 1e-6);
  m.checkpoint().config.layer_scalar = false;
  EXPECT_NEAR(m.Logits({0})[0], 1.0, 1e-5);  // sqrt(2) / sqrt(2)
}

TEST(KEqualsV, VIsTheRawKProjection) {
  TinyGemma4 k_eq_v;
  k_eq_v.checkpoint().config.layers[0].has_v_proj = false;  // no attn_v tensor at all
  TinyGemma4 v_is_k;  // an explicit v_proj holding the k_proj weights
  v_is_k.Alias("blk.0.attn_v.weight", "blk.0.attn_k.weight");
  TinyGemma4 other_v;
  other_v.Add("blk.0.attn_v.weight", {2, 2}, {1, 0, 0, 1});
  const std::vector<int> ids = {0, 1, 1, 0};
  const std::vector<float> a = k_eq_v.Logits(ids), b = v_is_k.Logits(ids), c = other_v.Logits(ids);
  double same = 0, differs = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    same = std::max(same, std::fabs(double{a[i]} - b[i]));
    differs = std::max(differs, std::fabs(double{a[i]} - c[i]));
  }
  EXPECT_EQ(same, 0.0);  // V taken before k-norm and RoPE, like a v_proj equal to k_proj
  EXPECT_GT(differs, 1e-3);
}

}  // namespace
}  // namespace gemma
