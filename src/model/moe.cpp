#include "model/moe.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "kernels/ops.h"

namespace gemma {

std::vector<ExpertChoice> RouteExperts(const float* logits, int n_experts, int top_k,
                                       const float* per_expert_scale) {
  std::vector<float> p(logits, logits + n_experts);
  Softmax(p.data(), n_experts);
  std::vector<int> order(static_cast<size_t>(n_experts));
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return p[a] > p[b]; });
  float sum = 0;
  for (int k = 0; k < top_k; ++k) sum += p[order[k]];
  std::vector<ExpertChoice> out;
  for (int k = 0; k < top_k; ++k) {
    const int e = order[k];
    out.push_back({e, p[e] / sum * per_expert_scale[e]});
  }
  return out;
}

void MoeForward(const KernelTable& kernels, ThreadPool& pool, const ModelConfig& c,
                const LayerWeights& L, const float* h, int n, float* out, MoeScratch& s) {
  const int64_t d = c.d_model, E = c.n_experts, I = c.expert_ff_dim;
  const auto nd = static_cast<size_t>(n * d);
  s.router_in.resize(nd);
  s.xe.resize(nd);
  s.logits.resize(static_cast<size_t>(n * E));
  const float inv_sqrt_d = 1.f / std::sqrt(static_cast<float>(d));
  for (int t = 0; t < n; ++t) {
    float* r = &s.router_in[t * d];
    RmsNormNoGain(h + t * d, c.rms_norm_eps, d, r);
    for (int64_t i = 0; i < d; ++i) r[i] = r[i] * inv_sqrt_d * L.router_scale[i];
    RmsNorm(h + t * d, L.pre_ffn_norm_2.data(), c.rms_norm_eps, d, &s.xe[t * d]);
  }
  MatMul(kernels, pool, L.router, s.router_in.data(), n, d, s.logits.data(), E);

  // Tokens per expert, so each selected expert's rows are read once per chunk.
  struct TokenWeight {
    int token;
    float weight;
  };
  std::vector<std::vector<TokenWeight>> by_expert(static_cast<size_t>(E));
  for (int t = 0; t < n; ++t) {
    for (const ExpertChoice& ch : RouteExperts(&s.logits[t * E], static_cast<int>(E),
                                               c.n_experts_used, L.expert_scale.data())) {
      by_expert[static_cast<size_t>(ch.expert)].push_back({t, ch.weight});
    }
  }
  std::fill(out, out + n * d, 0.f);
  const bool fused = !L.exp_gate_up.empty();
  for (int64_t e = 0; e < E; ++e) {
    const std::vector<TokenWeight>& tokens = by_expert[static_cast<size_t>(e)];
    if (tokens.empty()) continue;
    const auto m = static_cast<int64_t>(tokens.size());
    s.gathered.resize(static_cast<size_t>(m * d));
    for (int64_t j = 0; j < m; ++j) {
      std::copy_n(&s.xe[tokens[static_cast<size_t>(j)].token * d], d, &s.gathered[j * d]);
    }
    s.gate_up.resize(static_cast<size_t>(m * 2 * I));
    s.act.resize(static_cast<size_t>(m * I));
    if (fused) {
      // Rows 0..I-1 of the expert's slice are the gate, I..2I-1 the up projection.
      MatMul(kernels, pool, OuterSlice(L.exp_gate_up, e), s.gathered.data(), m, d, s.gate_up.data(),
             2 * I);
    } else {
      MatMul(kernels, pool, OuterSlice(L.exp_gate, e), s.gathered.data(), m, d, s.gate_up.data(),
             2 * I);
      MatMul(kernels, pool, OuterSlice(L.exp_up, e), s.gathered.data(), m, d, s.gate_up.data() + I,
             2 * I);
    }
    for (int64_t j = 0; j < m; ++j) {
      kernels.gelu_tanh_mul(&s.gate_up[j * 2 * I], &s.gate_up[j * 2 * I + I], I, &s.act[j * I]);
    }
    s.out_rows.resize(static_cast<size_t>(m * d));
    MatMul(kernels, pool, OuterSlice(L.exp_down, e), s.act.data(), m, I, s.out_rows.data(), d);
    for (int64_t j = 0; j < m; ++j) {
      const TokenWeight& tw = tokens[static_cast<size_t>(j)];
      float* o = out + tw.token * d;
      for (int64_t i = 0; i < d; ++i) o[i] += tw.weight * s.out_rows[j * d + i];
    }
  }
}

}  // namespace gemma
