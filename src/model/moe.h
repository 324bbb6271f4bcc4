// Gemma 4 mixture-of-experts branch (26B-A4B), beside the dense MLP of every layer
// (gemma-models.md §2.6, golden README Known deviations 11):
//   router input  r = rms(h) * router_scale * d^-1/2   (weight-less norm of the residual h)
//   p = softmax(W_router r) over all experts; top-k by p; w_k = p_k / sum_topk p;
//   w_k *= per_expert_scale[k]
//   out = sum_k w_k * Down_k(gelu_tanh(Gate_k xe) * Up_k xe),   xe = pre_ffw_norm_2(h)
// Expert matrices stay in the mapping: each expert's rows are read through views of the 3-D
// tensors, and only for the experts some token of the chunk selected.
#pragma once

#include <cstdint>
#include <vector>

#include "gemma/model_config.h"
#include "kernels/kernels.h"
#include "kernels/thread_pool.h"
#include "model/weights.h"

namespace gemma {

struct ExpertChoice {
  int expert;
  float weight;
};

// From router logits of one token: softmax over all n_experts, the top_k by probability (ties:
// lower index first), renormalised to sum 1, times per_expert_scale. Returns top_k choices,
// highest probability first.
std::vector<ExpertChoice> RouteExperts(const float* logits, int n_experts, int top_k,
                                       const float* per_expert_scale);

// Scratch reused across calls. MoeForward resizes each buffer to the chunk it runs; a Session
// allocates them for max_batch tokens up front (SessionScratch), so those resizes never
// allocate and the memory plan counts them.
struct MoeScratch {
  std::vector<float> router_in, logits, xe, gathered, gate_up, act, out_rows;
};

// out[t] = expert branch of h[t] for n tokens (rows d apart), before post_ffw_norm_2.
void MoeForward(const KernelTable& kernels, ThreadPool& pool, const ModelConfig& c,
                const LayerWeights& L, const float* h, int n, float* out, MoeScratch& s);

}  // namespace gemma
