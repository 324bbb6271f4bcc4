// Int8 prefill for Q4_0 weights: PackedMatMul's loop order (matmul_packed.cpp) with int8
// panels and activations. Per k block, each panel of kQ4PanelRows rows is repacked once into
// Q4PanelBlocks (L1) and meets every token of the block through the table's q4_panel_gemm;
// the token block's activations are quantized once per call, k block by k block (L2).
#include <algorithm>
#include <cstring>
#include <vector>

#include "kernels/matmul_packed.h"

namespace gemma {
namespace {

constexpr int64_t kKBlock = kPackedKBlock;            // elements: eight 32-element blocks
constexpr int64_t kKBlocks = kKBlock / 32;            // blocks per k block
constexpr int64_t kTokenBlock = 66 * kQ4PanelTokens;  // 264, as the f32 path
constexpr int64_t kMaxChunkPanels = 8;
constexpr int kQ4BlockBytes = 18;  // f16 scale, 16 bytes of nibbles

// Repacks blocks [b0, b0 + nb) of rows [r0, r0 + n_rows) of a Q4_0 matrix; rows past n_rows
// are zero.
void PackQ4Panel(const TensorView& w, int64_t r0, int64_t n_rows, int64_t b0, int64_t nb,
                 Q4PanelBlock* out) {
  for (int64_t b = 0; b < nb; ++b) {
    Q4PanelBlock& pb = out[b];
    if (n_rows < kQ4PanelRows) std::memset(&pb, 0, sizeof pb);
    for (int64_t r = 0; r < n_rows; ++r) {
      const uint8_t* blk = w.data + static_cast<uint64_t>(r0 + r) * w.row_bytes() +
                           static_cast<uint64_t>(b0 + b) * kQ4BlockBytes;
      uint16_t h;
      std::memcpy(&h, blk, 2);
      pb.d[r] = F16ToF32(h);
      // Byte i holds element i (low nibble) and element i + 16 (high nibble).
      for (int i = 0; i < 16; ++i) {
        const uint8_t byte = blk[2 + i];
        pb.q[i / 4][4 * r + i % 4] = byte & 0x0F;
        pb.q[(i + 16) / 4][4 * r + i % 4] = byte >> 4;
      }
    }
  }
}

}  // namespace

uint64_t PackedMatMulQ4ScratchBytes(int64_t widest_input, int64_t max_tokens, int n_threads) {
  const auto activations =
      static_cast<uint64_t>(std::min(kTokenBlock, max_tokens) * (widest_input / 32)) *
      (sizeof(ActBlockQ8) + sizeof(int32_t));
  return static_cast<uint64_t>(n_threads) * kKBlocks * sizeof(Q4PanelBlock) + activations;
}

void PackedMatMulQ4(const KernelTable& k, ThreadPool& pool, const TensorView& w, const float* x,
                    int64_t n_tokens, int64_t ldx, float* y, int64_t ldy) {
  const int64_t n_rows = w.n_rows();
  const int64_t n = w.row_elems();
  const int64_t n_panels = (n_rows + kQ4PanelRows - 1) / kQ4PanelRows;
  const int64_t grain = std::clamp<int64_t>(n_panels / (4 * pool.size()), 1, kMaxChunkPanels);
  const int64_t token_block = EqualTokenBlock(n_tokens, kTokenBlock, kQ4PanelTokens);
  const Q4PanelGemmFn gemm = k.q4_panel_gemm;
  // One token block's activations, k block by k block: k block kb holds [token][block] with
  // kcb blocks per token, starting at kb * kKBlocks * nt.
  thread_local std::vector<ActBlockQ8> qx;
  thread_local std::vector<int32_t> corr;
  const int64_t blocks = n / 32;
  qx.resize(static_cast<size_t>(std::min(token_block, n_tokens) * blocks));
  corr.resize(qx.size());
  // The workers see these through pointers: a thread_local named inside a lambda would be
  // the worker's own.
  ActBlockQ8* const xq_all = qx.data();
  int32_t* const corr_all = corr.data();
  for (int64_t t0 = 0; t0 < n_tokens; t0 += token_block) {
    const int64_t nt = std::min(token_block, n_tokens - t0);
    pool.ParallelFor(nt, 8, [&](int64_t a, int64_t b, int) {
      for (int64_t t = a; t < b; ++t) {
        for (int64_t k0 = 0; k0 < n; k0 += kKBlock) {
          const int64_t kcb = std::min(kKBlock, n - k0) / 32;
          const int64_t at = k0 / 32 * nt + t * kcb;
          QuantizeActivationsQ8(x + (t0 + t) * ldx + k0, xq_all + at, kcb * 32);
          for (int64_t i = 0; i < kcb; ++i) {
            int32_t sum = 0;
            for (int8_t q : xq_all[at + i].qs) sum += q;
            corr_all[at + i] = 8 * sum;
          }
        }
      }
    });
    pool.ParallelFor(n_panels, grain, [&](int64_t p0, int64_t p1, int) {
      thread_local std::vector<Q4PanelBlock> panel;
      panel.resize(kKBlocks);
      for (int64_t k0 = 0; k0 < n; k0 += kKBlock) {
        const int64_t kcb = std::min(kKBlock, n - k0) / 32;
        const ActBlockQ8* xk = xq_all + k0 / 32 * nt;
        const int32_t* ck = corr_all + k0 / 32 * nt;
        for (int64_t p = p0; p < p1; ++p) {
          const int64_t r0 = p * kQ4PanelRows;
          const int64_t rows = std::min<int64_t>(kQ4PanelRows, n_rows - r0);
          PackQ4Panel(w, r0, rows, k0 / 32, kcb, panel.data());
          for (int64_t t = 0; t < nt; t += kQ4PanelTokens) {
            gemm(panel.data(), kcb, xk + t * kcb, ck + t * kcb, kcb,
                 std::min<int64_t>(kQ4PanelTokens, nt - t), rows, y + (t0 + t) * ldy + r0, ldy,
                 /*accumulate=*/k0 > 0);
          }
        }
      }
    });
  }
}

}  // namespace gemma
