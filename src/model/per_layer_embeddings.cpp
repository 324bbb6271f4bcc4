#include "model/per_layer_embeddings.h"

#include <cmath>

#include "core/quant/dequantize.h"
#include "kernels/ops.h"

namespace gemma {

void ComputePerLayerInputs(const KernelTable& kernels, ThreadPool& pool, const ModelConfig& c,
                           const ModelWeights& w, const int* tokens, const float* embeddings, int n,
                           float* proj, float* ple) {
  const int64_t d = c.d_model, P = c.per_layer_input_dim, LP = P * c.n_layers;
  MatMul(kernels, pool, w.per_layer_model_proj, embeddings, n, d, proj, LP);
  const float proj_scale = 1.f / std::sqrt(static_cast<float>(d));
  const float tok_scale = std::sqrt(static_cast<float>(P));
  const float mix_scale = 1.f / std::sqrt(2.f);
  const int64_t rows = w.per_layer_token_embd.dim(0);
  for (int t = 0; t < n; ++t) {
    float* pt = ple + t * LP;
    const int64_t id = tokens[t] < rows ? tokens[t] : 0;
    DequantizeRow(w.per_layer_token_embd.dtype, w.per_layer_token_embd.row(id), pt, LP);
    float* qt = proj + t * LP;
    for (int64_t i = 0; i < LP; ++i) qt[i] *= proj_scale;
    for (int l = 0; l < c.n_layers; ++l) {
      float* q = qt + l * P;
      RmsNorm(q, w.per_layer_proj_norm.data(), c.rms_norm_eps, P, q);
      float* p = pt + l * P;
      for (int64_t i = 0; i < P; ++i) p[i] = (q[i] + p[i] * tok_scale) * mix_scale;
    }
  }
}

void PerLayerBranch(const KernelTable& kernels, ThreadPool& pool, const ModelConfig& c,
                    const LayerWeights& L, int layer, const float* in, const float* ple, int n,
                    float* gate, float* out) {
  const int64_t d = c.d_model, P = c.per_layer_input_dim, LP = P * c.n_layers;
  MatMul(kernels, pool, L.ple_gate, in, n, d, gate, P);
  for (int t = 0; t < n; ++t) {
    kernels.gelu_tanh_mul(gate + t * P, ple + t * LP + layer * P, P, gate + t * P);
  }
  MatMul(kernels, pool, L.ple_proj, gate, n, P, out, d);
  for (int t = 0; t < n; ++t)
    RmsNorm(out + t * d, L.ple_post_norm.data(), c.rms_norm_eps, d, out + t * d);
}

}  // namespace gemma
