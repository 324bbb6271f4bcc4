// The scratch memory of a Session: every buffer its forward pass writes besides the KV cache,
// sized for a prefill chunk of max_batch tokens and the widest layer. One list (ForEachBuffer)
// names each buffer with its size: the constructor allocates through it and PlannedBytes counts
// through it, so the memory plan's figure is what a Session really allocates and the two cannot
// drift apart when a buffer is added.
#pragma once

#include <cstdint>
#include <vector>

#include "gemma/model_config.h"
#include "model/moe.h"

namespace gemma {

class SessionScratch {
 public:
  // Allocates (zeroed) every buffer for these resolved sizes and fills the RoPE table.
  SessionScratch(const ModelConfig& config, int context_length, int max_batch, int n_threads);

  // Bytes the constructor with the same arguments allocates, computed without allocating.
  static uint64_t PlannedBytes(const ModelConfig& config, int context_length, int max_batch,
                               int n_threads);

  // Bytes the buffers hold now, from their capacities. Equal to PlannedBytes unless the forward
  // pass grew a buffer after construction, which the memory plan would not have counted.
  uint64_t allocated_bytes() const;

  // A thread's attention scores: one row of scores_ld() per query head of a KV head.
  float* scores(int thread) {
    return attention_scores.data() + thread * dims_.max_group * dims_.max_keys;
  }
  int64_t scores_ld() const { return dims_.max_keys; }
  // RoPE group g's inverse frequencies (the group's head_dim / 2 of them).
  const float* rope_inv_freq(int group) const {
    return rope_inv_freq_table.data() + group * dims_.rope_stride;
  }
  // Token t's RoPE cos | sin in the current chunk for layers of RoPE group g (layers with the same
  // head_dim and inverse frequencies: two in Gemma 3, local and global), filled once per chunk by
  // FillRopeRotations instead of once per layer.
  float* rope_rotation(int group, int t) {
    return rope_rotations.data() + (group * dims_.max_batch + t) * 2 * dims_.rope_stride;
  }
  int rope_group(int layer) const { return dims_.rope_group[static_cast<size_t>(layer)]; }
  int rope_groups() const { return static_cast<int>(dims_.rope_group_layer.size()); }
  // The first layer of RoPE group g (its head_dim and inverse frequencies are the group's).
  int rope_group_layer(int group) const {
    return dims_.rope_group_layer[static_cast<size_t>(group)];
  }

  // Rows of max_batch tokens. x is the residual stream (with AltUp: the active stream's
  // prediction, then the layer output); proj takes every d-wide projection back to it.
  std::vector<float> x, normed, proj, q, attn, k, v, gate, up;
  std::vector<float> altup_streams, altup_pred;  // AltUp: stream s of token t at (s*B + t) * d
  std::vector<float> laurel_mid, laurel;         // LAuReL: rank-wide and d-wide rows
  std::vector<float> ple, ple_proj, ple_gate;    // per-layer inputs [B][L][P] and branch scratch
  std::vector<float> moe_out;
  MoeScratch moe;
  std::vector<float> attention_scores;     // [n_threads][max_group][max_keys]
  std::vector<float> rope_inv_freq_table;  // [rope groups][rope_stride]
  std::vector<float> rope_rotations;       // [rope groups][max_batch][2 * rope_stride]
  std::vector<float> last_logits;          // [vocab_size]

 private:
  // The widths the buffers are sized by, derived from the config and the Session's resolved
  // context length, prefill chunk (already clamped to the context) and thread count.
  struct Dims {
    int64_t max_batch = 0;
    int64_t d_model = 0;
    int64_t q_width = 0;      // widest n_heads * head_dim
    int64_t kv_width = 0;     // widest n_kv_heads * head_dim
    int64_t ff_width = 0;     // widest dense MLP
    int64_t max_keys = 0;     // longest KV cache ring: keys one query may score
    int64_t max_group = 1;    // most query heads sharing a KV head
    int64_t rope_stride = 0;  // widest head_dim / 2
    int64_t n_threads = 0;
    int64_t n_layers = 0;
    int64_t vocab_size = 0;
    int64_t altup_streams = 0;  // 0 unless AltUp runs (more than one stream)
    int64_t laurel_rank = 0;
    int64_t per_layer_input_dim = 0;
    int64_t n_experts = 0;
    int64_t expert_ff_dim = 0;
    std::vector<int> rope_group;        // per layer, its RoPE group
    std::vector<int> rope_group_layer;  // per RoPE group, its first layer
  };
  static Dims Measure(const ModelConfig& config, int context_length, int max_batch, int n_threads);

  SessionScratch() = default;  // no buffers: what PlannedBytes walks the list with

  // Calls visit(buffer, n_floats) for every buffer above; the one place their sizes are written.
  // A buffer missing here would be neither allocated nor counted, so every member is listed.
  template <typename Self, typename Visit>
  static void ForEachBuffer(Self& scratch, const Dims& dims, Visit&& visit);

  Dims dims_;
};

// Bytes the matmul kernels keep in thread_local buffers (packed-prefill panels and activation
// blocks, dequantized rows, int8 activations). They live in the threads of the Session's pool, so
// they cost memory per Session, but the kernels own them: this is an estimate from their sizing
// rules, not something a Session can measure.
uint64_t KernelThreadScratchBytes(const ModelConfig& config, int max_batch, int n_threads);

}  // namespace gemma
