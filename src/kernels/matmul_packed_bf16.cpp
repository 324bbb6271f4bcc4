// BF16 prefill in bf16 pairs (Bf16PanelGemmFn): PackedMatMul's loop order and cache blocking
// (matmul_packed.cpp) with half the bytes. A BF16 row already holds its pairs side by side, so a
// panel is a 32-bit transpose of the mapped rows (no dequantization); the token block's
// activations are rounded to bf16 pairs once per call, as llama.cpp does for BF16 weights.
#include <algorithm>
#include <vector>

#include "core/dtype.h"
#include "kernels/matmul_packed.h"

namespace gemma {
namespace {

constexpr int64_t kKPairs = 128;  // a k block of 256 elements, as the f32 path
// Token blocks in whole groups of the AVX512-BF16 tile (8 tokens).
constexpr int64_t kTileTokens = 8;
// 512 tokens: a whole llama-bench pp512 batch packs each panel once (two blocks of 264 packed it
// twice, 6 % of that prefill). Its activations per k block (256 KiB of pairs) and a chunk's
// outputs (128 KiB) still fit a 1 MiB L2 with the panel.
constexpr int64_t kTokenBlock = 64 * kTileTokens;
constexpr int64_t kMaxChunkPanels = 2;  // 64 rows

thread_local std::vector<uint32_t> t_panel;  // each pool thread packs into its own

}  // namespace

bool PackedMatMulBf16Takes(const KernelTable& k, const TensorView& w) {
  return k.bf16_panel_gemm != nullptr && k.bf16_panel_pack != nullptr && w.dtype == DType::kBF16 &&
         w.row_elems() % 2 == 0;
}

void PackedMatMulBf16(const KernelTable& k, ThreadPool& pool, std::span<const MatMulTarget> targets,
                      const float* x, int64_t n_tokens, int64_t ldx) {
  const int64_t pairs = targets.front().w->row_elems() / 2;
  const int64_t token_block = EqualTokenBlock(n_tokens, kTokenBlock, kTileTokens);
  // One token block's activations as bf16 pairs, k block by k block: block kb holds
  // [token][pair] with row length kp, starting at p0 * nt.
  thread_local std::vector<uint32_t> packed_x;
  packed_x.resize(static_cast<size_t>(std::min(token_block, n_tokens) * pairs));
  uint32_t* const px = packed_x.data();
  PackedLoop(
      pool, targets, n_tokens, {kBf16PanelRows, token_block, 2 * kKPairs, kMaxChunkPanels},
      [&](int64_t t0, int64_t nt, int64_t a, int64_t b) {
        for (int64_t t = a; t < b; ++t) {
          const float* xt = x + (t0 + t) * ldx;
          for (int64_t p0 = 0; p0 < pairs; p0 += kKPairs) {
            const int64_t kp = std::min(kKPairs, pairs - p0);
            uint32_t* out = px + p0 * nt + t * kp;
            k.bf16_pairs_from_f32(xt + 2 * p0, kp, out);
          }
        }
      },
      [&](const PanelStep& p) {
        t_panel.resize(static_cast<size_t>(kKPairs * kBf16PanelRows));
        const TensorView& w = *p.target->w;
        k.bf16_panel_pack(w.data + static_cast<uint64_t>(p.r0) * w.row_bytes(), w.row_bytes(),
                          p.rows, p.k0 / 2, p.kc / 2, t_panel.data());
      },
      [&](const PanelStep& p, const TokenSlice& ts) {
        const int64_t p0 = p.k0 / 2, kp = p.kc / 2;
        k.bf16_panel_gemm(t_panel.data(), kp, px + p0 * ts.nt + ts.a * kp, kp, ts.b - ts.a, p.rows,
                          p.target->y + (ts.t0 + ts.a) * p.target->ldy + p.r0, p.target->ldy,
                          /*accumulate=*/p0 > 0);
      });
}

}  // namespace gemma
