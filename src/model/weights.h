// Weights bound by role. The binder looks tensors up by canonical name, checks every shape
// against the config, and turns norm weights into f32 gains with the format's offset applied
// (the only weights copied: a few KB, plus the tiny AltUp coefficient tables).
#pragma once

#include <vector>

#include "core/tensor.h"
#include "formats/checkpoint.h"

namespace gemma {

struct LayerWeights {
  std::vector<float> attn_norm;       // pre-attention norm gain, [d]
  std::vector<float> post_attn_norm;  // Gemma 2+, [d]
  std::vector<float> ffn_norm;        // pre-FFN norm gain, [d]
  std::vector<float> post_ffn_norm;   // Gemma 2+, [d]
  std::vector<float> q_norm, k_norm;  // Gemma 3+, [head_dim] (k_norm empty on KV-sharing layers)
  // [H*hd, d], [KV*hd, d], [KV*hd, d], [d, H*hd]. wk/wv are empty on KV-sharing layers, wv on K=V
  // layers.
  TensorView wq, wk, wv, wo;
  TensorView w_gate, w_up, w_down;  // [ff, d], [ff, d], [d, ff]

  float layer_scalar = 1.f;  // Gemma 4

  // Per-layer input branch (Gemma 3n, Gemma 4 E-models): gate [P, d], projection [d, P], norm.
  TensorView ple_gate, ple_proj;
  std::vector<float> ple_post_norm;

  // AltUp (Gemma 3n), S streams: router [S, d] and its norm [d], prediction coefficients
  // [S*S, S], correction coefficients [S, S], scale of the corrected active stream [d].
  std::vector<float> altup_router, altup_router_norm, altup_predict_coef, altup_correct_coef,
      altup_correct_scale;
  // LAuReL (Gemma 3n): left [r, d], right [d, r], post norm [d].
  TensorView laurel_l, laurel_r;
  std::vector<float> laurel_post_norm;

  // MoE (Gemma 4 26B-A4B). Router [E, d] with its input scale [d] and per-expert output scale
  // [E]; experts as 3-D tensors kept in the mapping: fused gate_up [E, 2I, d] (gate rows first)
  // or separate gate/up [E, I, d], and down [E, d, I].
  TensorView router;
  std::vector<float> router_scale, expert_scale;
  TensorView exp_gate_up, exp_gate, exp_up, exp_down;
  std::vector<float> pre_ffn_norm_2, post_ffn_norm_1, post_ffn_norm_2;
};

struct ModelWeights {
  TensorView token_embd;  // [V, d], also the tied output projection
  float embed_scale = 1.f;
  std::vector<float> output_norm;
  std::vector<LayerWeights> layers;

  // Per-layer inputs: token table [Vp, L*P], projection of the embedding [L*P, d], norm [P].
  TensorView per_layer_token_embd, per_layer_model_proj;
  std::vector<float> per_layer_proj_norm;
  // AltUp: projections of the embedding into streams 1..S-1 and back, each [d, d].
  std::vector<TensorView> altup_proj, altup_unembd_proj;
};

// Binds and validates; sets config->vocab_size from the embedding. Throws Error naming the
// file and tensor on a missing tensor or a wrong shape, and Error(kFormat) on a config whose
// per-layer fields contradict each other (e.g. a KV-sharing layer unlike its source).
ModelWeights BindWeights(const Checkpoint& checkpoint, ModelConfig* config);

// Weight bytes one decode step reads from `total_bytes` of weights: all of them except the
// per-layer token table (one row per token) and the experts a token does not route to (a
// mixture-of-experts layer reads n_experts_used of n_experts). The basis of decode bandwidth.
uint64_t DecodeReadBytes(const ModelWeights& w, const ModelConfig& c, uint64_t total_bytes);

// The 2-D slice `index` of a 3-D tensor [N, rows, cols] (a view into the same bytes), and
// `n_rows` rows starting at `row0` of a 2-D tensor. Neither copies.
TensorView OuterSlice(const TensorView& t, int64_t index);
TensorView RowRange(const TensorView& t, int64_t row0, int64_t n_rows);

}  // namespace gemma
