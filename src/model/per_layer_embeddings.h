// Per-layer input embeddings (PLE; Gemma 3n and Gemma 4 E-models, gemma-models.md §2.5 step 2
// and the per-layer injection of §2.5/§2.6): every layer gets a P-wide token-dependent input,
// mixed from a second token table and a projection of the main embedding, and feeds it through
// a small gated branch whose output joins the residual stream.
#pragma once

#include <cstdint>

#include "gemma/model_config.h"
#include "kernels/kernels.h"
#include "kernels/thread_pool.h"
#include "model/weights.h"

namespace gemma {

// ple[t][l][:] (n tokens x L layers x P) =
//   (rms_norm(W_proj . e_t * d^-1/2)[l] + E_ple[tok_t][l] * sqrt(P)) * 2^-1/2
// with e_t the scaled token embeddings (rows d apart). Ids beyond the per-layer table use row 0
// (HF). `proj` is scratch of n * L * P floats.
void ComputePerLayerInputs(const KernelTable& kernels, ThreadPool& pool, const ModelConfig& c,
                           const ModelWeights& w, const int* tokens, const float* embeddings, int n,
                           float* proj, float* ple);

// out[t] = post_norm(W_proj_l (gelu_tanh(W_gate_l in[t]) * ple[t][layer])) for n tokens (in and
// out rows d apart). `gate` is scratch of n * P floats.
void PerLayerBranch(const KernelTable& kernels, ThreadPool& pool, const ModelConfig& c,
                    const LayerWeights& L, int layer, const float* in, const float* ple, int n,
                    float* gate, float* out);

}  // namespace gemma
