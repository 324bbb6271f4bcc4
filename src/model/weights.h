// Weights bound by role. The binder looks tensors up by canonical name, checks every shape
// against the config, and turns norm weights into f32 gains with the format's offset applied
// (the only weights copied: a few KB).
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
  std::vector<float> q_norm, k_norm;  // Gemma 3+, [head_dim]
  TensorView wq, wk, wv, wo;          // [H*hd, d], [KV*hd, d], [KV*hd, d], [d, H*hd]
  TensorView w_gate, w_up, w_down;    // [ff, d], [ff, d], [d, ff]
};

struct ModelWeights {
  TensorView token_embd;  // [V, d], also the tied output projection
  float embed_scale = 1.f;
  std::vector<float> output_norm;
  std::vector<LayerWeights> layers;
};

// Binds and validates; sets config->vocab_size from the embedding. Throws Error naming the
// file and tensor on a missing tensor or a wrong shape.
ModelWeights BindWeights(const Checkpoint& checkpoint, ModelConfig* config);

}  // namespace gemma
