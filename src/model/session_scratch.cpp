#include "model/session_scratch.h"

#include <algorithm>

#include "kernels/kernels.h"
#include "kernels/matmul_packed.h"
#include "model/kv_cache.h"
#include "model/session.h"

namespace gemma {

SessionScratch::Dims SessionScratch::Measure(const ModelConfig& c, int context_length,
                                             int max_batch, int n_threads) {
  Dims dims;
  dims.max_batch = max_batch;
  dims.d_model = c.d_model;
  for (int i = 0; i < c.n_layers; ++i) {
    const LayerConfig& l = c.layers[static_cast<size_t>(i)];
    dims.q_width = std::max<int64_t>(dims.q_width, int64_t{l.n_heads} * l.head_dim);
    dims.kv_width = std::max<int64_t>(dims.kv_width, int64_t{l.n_kv_heads} * l.head_dim);
    dims.ff_width = std::max<int64_t>(dims.ff_width, l.ff_dim);
    dims.rope_stride = std::max<int64_t>(dims.rope_stride, l.head_dim / 2);
    dims.max_group = std::max<int64_t>(dims.max_group, l.n_heads / std::max(1, l.n_kv_heads));
    // A KV-sharing layer has no ring of its own; it scores its source layer's, counted there.
    dims.max_keys =
        std::max<int64_t>(dims.max_keys, KvCache::LayerCapacity(c, i, context_length, max_batch));
  }
  // RoPE groups: layers whose rotations are equal (same head_dim and inverse frequencies).
  std::vector<std::vector<float>> group_inv;
  for (int i = 0; i < c.n_layers; ++i) {
    const LayerConfig& l = c.layers[static_cast<size_t>(i)];
    const std::vector<float> inv = LayerInverseFrequencies(l);
    size_t g = 0;
    while (g < group_inv.size() &&
           !(group_inv[g] == inv &&
             c.layers[static_cast<size_t>(dims.rope_group_layer[g])].head_dim == l.head_dim)) {
      ++g;
    }
    if (g == group_inv.size()) {
      group_inv.push_back(inv);
      dims.rope_group_layer.push_back(i);
    }
    dims.rope_group.push_back(static_cast<int>(g));
  }
  dims.n_threads = n_threads;
  dims.n_layers = c.n_layers;
  dims.vocab_size = c.vocab_size;
  dims.altup_streams = c.altup_streams > 1 ? c.altup_streams : 0;
  dims.laurel_rank = c.laurel_rank;
  dims.per_layer_input_dim = c.per_layer_input_dim;
  dims.n_experts = c.n_experts;
  dims.expert_ff_dim = c.n_experts > 0 ? c.expert_ff_dim : 0;
  return dims;
}

template <typename Self, typename Visit>
void SessionScratch::ForEachBuffer(Self& s, const Dims& n, Visit&& visit) {
  const int64_t B = n.max_batch, d = n.d_model;
  auto rows = [B](int64_t width) { return static_cast<size_t>(B * width); };
  visit(s.x, rows(d));
  visit(s.normed, rows(d));
  visit(s.proj, rows(d));
  visit(s.q, rows(n.q_width));
  visit(s.attn, rows(n.q_width));
  visit(s.k, rows(n.kv_width));
  visit(s.v, rows(n.kv_width));
  visit(s.gate, rows(n.ff_width));
  visit(s.up, rows(n.ff_width));
  visit(s.altup_streams, rows(n.altup_streams * d));
  visit(s.altup_pred, rows(n.altup_streams * d));
  visit(s.laurel_mid, rows(n.laurel_rank));
  visit(s.laurel, rows(n.laurel_rank > 0 ? d : 0));
  visit(s.ple, rows(n.per_layer_input_dim * n.n_layers));
  visit(s.ple_proj, rows(n.per_layer_input_dim * n.n_layers));
  visit(s.ple_gate, rows(n.per_layer_input_dim));
  // MoE: a token picks each expert at most once, so one expert's rows (gathered inputs, fused
  // gate|up, activations, outputs) never outnumber the chunk's tokens.
  const bool moe = n.n_experts > 0;
  visit(s.moe_out, rows(moe ? d : 0));
  visit(s.moe.router_in, rows(moe ? d : 0));
  visit(s.moe.xe, rows(moe ? d : 0));
  visit(s.moe.logits, rows(n.n_experts));
  visit(s.moe.gathered, rows(moe ? d : 0));
  visit(s.moe.gate_up, rows(2 * n.expert_ff_dim));
  visit(s.moe.act, rows(n.expert_ff_dim));
  visit(s.moe.out_rows, rows(moe ? d : 0));
  visit(s.attention_scores, static_cast<size_t>(n.n_threads * n.max_group * n.max_keys));
  visit(s.rope_inv_freq_table,
        static_cast<size_t>(static_cast<int64_t>(n.rope_group_layer.size()) * n.rope_stride));
  visit(s.rope_rotations, static_cast<size_t>(static_cast<int64_t>(n.rope_group_layer.size()) * B *
                                              2 * n.rope_stride));
  visit(s.last_logits, static_cast<size_t>(n.vocab_size));
}

SessionScratch::SessionScratch(const ModelConfig& c, int context_length, int max_batch,
                               int n_threads)
    : dims_(Measure(c, context_length, max_batch, n_threads)) {
  // Every member but dims_ is a float buffer listed in ForEachBuffer (MoeScratch holds 7). A
  // buffer added to the class changes this size: list it there, then update the count.
  static_assert(sizeof(SessionScratch) == sizeof(Dims) + 28 * sizeof(std::vector<float>),
                "a SessionScratch member is missing from ForEachBuffer");
  ForEachBuffer(*this, dims_, [](std::vector<float>& buffer, size_t n) { buffer.assign(n, 0.f); });
  for (int g = 0; g < rope_groups(); ++g) {
    const std::vector<float> inv =
        LayerInverseFrequencies(c.layers[static_cast<size_t>(rope_group_layer(g))]);
    std::copy(inv.begin(), inv.end(), rope_inv_freq_table.begin() + g * dims_.rope_stride);
  }
}

uint64_t SessionScratch::PlannedBytes(const ModelConfig& c, int context_length, int max_batch,
                                      int n_threads) {
  SessionScratch empty;
  uint64_t bytes = 0;
  ForEachBuffer(empty, Measure(c, context_length, max_batch, n_threads),
                [&](const std::vector<float>&, size_t n) { bytes += n * sizeof(float); });
  return bytes;
}

uint64_t SessionScratch::allocated_bytes() const {
  uint64_t bytes = 0;
  ForEachBuffer(*this, dims_, [&](const std::vector<float>& buffer, size_t) {
    bytes += buffer.capacity() * sizeof(float);
  });
  return bytes;
}

uint64_t KernelThreadScratchBytes(const ModelConfig& c, int max_batch, int n_threads) {
  // The longest row any matrix product of the forward pass reads: its inputs are d_model,
  // attention output, MLP, expert MLP, per-layer-input and LAuReL widths.
  int64_t widest_input = std::max<int64_t>(
      {c.d_model, c.per_layer_input_dim, c.laurel_rank, c.n_experts > 0 ? c.expert_ff_dim : 0});
  for (const LayerConfig& l : c.layers) {
    widest_input =
        std::max<int64_t>({widest_input, int64_t{l.n_heads} * l.head_dim, int64_t{l.ff_dim}});
  }
  // The kernels' buffers: PackedMatMul's and PackedMatMulInt8's (their own figures); per thread,
  // the activation copies the decode kernels keep, all live at once in a model that mixes
  // types: the dequantized row of DotRowsDequant (dot_scalar.cpp) or the BF16 kernel's split
  // (dot_avx2.cpp), one float per element, plus either the int8 Q4_0 pairs (quant_dot_avx2.cpp,
  // 2 bytes per element) or the exact Q4_0 pairs and Q8_0 blocks (quant_f32_avx2.cpp, 4.5 and 4
  // bytes per element) or the VNNI pairs of both types (int8_vnni_avx512.cpp, 3 + 3 bytes per
  // element), whichever table runs; and the int8 activations of MatMul: one token's
  // (DecodeMatMul) and up to kPackedMinTokens - 1 tokens' (ops.cpp, calling thread only).
  const uint64_t packed_prefill =
      max_batch >= kPackedMinTokens
          ? PackedMatMulScratchBytes(widest_input, max_batch, n_threads) +
                PackedMatMulInt8ScratchBytes(widest_input, max_batch, n_threads)
          : 0;
  // 4 + max(2, 4.5 + 4, 3 + 3) bytes per element.
  const uint64_t decode_activations = uint64_t(widest_input) * 25 / 2;
  const uint64_t unpacked_tokens = 1 + uint64_t(std::min<int64_t>(max_batch, kPackedMinTokens - 1));
  const uint64_t int8_rows =
      uint64_t(widest_input / ActBlockQ8::kElems) * unpacked_tokens * sizeof(ActBlockQ8);
  return uint64_t(n_threads) * decode_activations + packed_prefill + int8_rows;
}

}  // namespace gemma
