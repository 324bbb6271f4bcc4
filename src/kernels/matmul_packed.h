// Prefill matrix product for any weight type: each block of kPanelRows weight rows is
// dequantized once into an f32 k-major panel, then the table's panel kernel multiplies it with
// every token of the batch. The dequantization cost is paid once per batch instead of once per
// token, which makes quantized and K-quant prefill run at f32 FMA speed.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <span>

#include "core/tensor.h"
#include "kernels/kernels.h"
#include "kernels/ops.h"
#include "kernels/thread_pool.h"

namespace gemma {

// Below this many tokens the per-type tiles/dots win (packing costs about one token's work).
constexpr int64_t kPackedMinTokens = 8;
// The most targets one packed product takes (q, k, v).
constexpr size_t kMaxPackedTargets = 3;

// The token block both packed products use for n_tokens: equal blocks of at most about
// max_block tokens, each a whole number of micro-kernel groups of `group` tokens (a short last
// block would pay a full panel packing for a fraction of the work).
int64_t EqualTokenBlock(int64_t n_tokens, int64_t max_block, int64_t group);

// One step of the packed loop: rows [r0, r0 + rows) of a target's weights at k range
// [k0, k0 + kc).
struct PanelStep {
  const MatMulTarget* target;
  int64_t r0, rows, k0, kc;
};
// Tokens [a, b) of the token block [t0, t0 + nt) (a and b relative to t0).
struct TokenSlice {
  int64_t t0, nt, a, b;
};

// A panel is multiplied in slices of this many tokens (a multiple of every tile's token group:
// 3, 6, 8), with a part of the next panel's prefetch before each (PackedLoop).
constexpr int64_t kPrefetchSliceTokens = 48;

// Asks the memory for part `part` of n_parts (by rows) of panel q (rows q * panel_rows on) of w
// at k range [k0, k0 + kc): the panel a thread packs next. A panel's rows are scattered DRAM
// lines, which the packers, walking them row by row, would otherwise wait on (a quarter of BF16
// prefill without prefetch). Spread over the multiply, not asked in one burst: a burst of a whole
// panel's lines still left the BF16 pack at 5 % of prefill, spread out 2.4 %.
void PrefetchPanel(const TensorView& w, int64_t panel_rows, int64_t q, int64_t k0, int64_t kc,
                   int64_t part, int64_t n_parts);

// The loop order (BLIS) and cache blocking every packed product shares, over the targets' rows
// (all of one row length: products of the same input) in panels of panel_rows, and their k range
// (elements) in blocks of k_block:
//   per token block [t0, t0 + nt) of token_block tokens:
//     prepare_tokens(t0, nt, a, b) readies tokens [a, b) of the block (split over the pool);
//     then per chunk of up to max_chunk_panels panels (a pool job; the targets' panels are one
//     sequence, so q, k and v share one pass over the pool), per k block and per panel of the
//     chunk: pack_panel(PanelStep) packs the panel (the thread's own buffer), then
//     multiply_panel(PanelStep, TokenSlice) multiplies it with each slice of the token block, a
//     part of the next panel's prefetch (the chunk's next, or its first at the next k block)
//     before each slice.
// The activations' k block (L2) meets every panel of a chunk; a panel (L1) meets every token.
struct PackedLoopShape {
  int64_t panel_rows;
  int64_t token_block;
  int64_t k_block;
  int64_t max_chunk_panels;
};
template <typename PrepareTokens, typename PackPanel, typename MultiplyPanel>
void PackedLoop(ThreadPool& pool, std::span<const MatMulTarget> targets, int64_t n_tokens,
                const PackedLoopShape& s, PrepareTokens&& prepare_tokens, PackPanel&& pack_panel,
                MultiplyPanel&& multiply_panel) {
  const int64_t n = targets.front().w->row_elems();
  // Global panel q is panel q - first[i] of target i, for first[i] <= q < first[i + 1].
  std::array<int64_t, kMaxPackedTargets + 1> first{};
  for (size_t i = 0; i < targets.size(); ++i) {
    first[i + 1] = first[i] + (targets[i].w->n_rows() + s.panel_rows - 1) / s.panel_rows;
  }
  const int64_t n_panels = first[targets.size()];
  auto step_of = [&](int64_t q, int64_t k0) {
    size_t i = 0;
    while (q >= first[i + 1]) ++i;
    const int64_t r0 = (q - first[i]) * s.panel_rows;
    return PanelStep{&targets[i], r0, std::min(s.panel_rows, targets[i].w->n_rows() - r0), k0,
                     std::min(s.k_block, n - k0)};
  };
  // About four chunks of panels per thread at least, to even out uneven progress.
  const int64_t grain = std::clamp<int64_t>(n_panels / (4 * pool.size()), 1, s.max_chunk_panels);
  for (int64_t t0 = 0; t0 < n_tokens; t0 += s.token_block) {
    const int64_t nt = std::min(s.token_block, n_tokens - t0);
    const int64_t n_slices = (nt + kPrefetchSliceTokens - 1) / kPrefetchSliceTokens;
    pool.ParallelFor(nt, 8, [&](int64_t a, int64_t b, int) { prepare_tokens(t0, nt, a, b); });
    pool.ParallelFor(n_panels, grain, [&](int64_t q0, int64_t q1, int) {
      for (int64_t k0 = 0; k0 < n; k0 += s.k_block) {
        for (int64_t q = q0; q < q1; ++q) {
          const PanelStep step = step_of(q, k0);
          pack_panel(step);
          const bool last = q + 1 == q1 && k0 + s.k_block >= n;
          const PanelStep next = last         ? step
                                 : q + 1 < q1 ? step_of(q + 1, k0)
                                              : step_of(q0, k0 + s.k_block);
          for (int64_t i = 0; i < n_slices; ++i) {
            if (!last) {
              PrefetchPanel(*next.target->w, s.panel_rows, next.r0 / s.panel_rows, next.k0, next.kc,
                            i, n_slices);
            }
            const int64_t a = i * kPrefetchSliceTokens;
            multiply_panel(step, TokenSlice{t0, nt, a, std::min(nt, a + kPrefetchSliceTokens)});
          }
        }
      }
    });
  }
}

// Bytes of the buffers PackedMatMul keeps (thread_local, reused across calls) in a pool of
// n_threads for products of at most max_tokens tokens with rows of at most widest_input: the
// memory plan counts them.
uint64_t PackedMatMulScratchBytes(int64_t widest_input, int64_t max_tokens, int n_threads);

// The packed products take 1..kMaxPackedTargets targets of one weight type and row length (the
// products of one input: MatMulSameInput), whose outputs they write as MatMul would; x as MatMul's.
void PackedMatMul(const KernelTable& k, ThreadPool& pool, std::span<const MatMulTarget> targets,
                  const float* x, int64_t n_tokens, int64_t ldx);

// Weights of a type Int8PanelTakes(k, type), on the table's int8 panel kernel: activations
// quantized to int8 per 32 (matmul_packed_int8.cpp).
void PackedMatMulInt8(const KernelTable& k, ThreadPool& pool, std::span<const MatMulTarget> targets,
                      const float* x, int64_t n_tokens, int64_t ldx);
// Its thread-local buffers, as PackedMatMulScratchBytes.
uint64_t PackedMatMulInt8ScratchBytes(int64_t widest_input, int64_t max_tokens, int n_threads);

// BF16 weights on the table's bf16 pair kernel (k.bf16_panel_gemm), activations rounded to bf16
// (matmul_packed_bf16.cpp); its buffers are no larger than PackedMatMul's.
bool PackedMatMulBf16Takes(const KernelTable& k, const TensorView& w);
void PackedMatMulBf16(const KernelTable& k, ThreadPool& pool, std::span<const MatMulTarget> targets,
                      const float* x, int64_t n_tokens, int64_t ldx);

}  // namespace gemma
