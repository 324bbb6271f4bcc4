#include "kernels/matmul_packed.h"

#include <algorithm>
#include <cstring>
#include <vector>

#include "core/quant/dequantize.h"

namespace gemma {
namespace {

// Cache blocking (the BLIS loop order, sized for a 32 KiB L1 and a 512 KiB L2 per core):
// - a panel slice of kKBlock x kPanelRows f32 (16 KiB) stays in L1 while every token group of
//   the token block passes over it;
// - the token block's activations for that k range (up to kTokenBlock x kKBlock f32, 264 KiB),
//   copied contiguous once per call, stay in L2 while every panel of a chunk passes over them;
//   the copy also keeps rows whose stride is a multiple of 4 KiB from sharing cache sets;
// - the outputs of a chunk (kMaxChunkPanels x kPanelRows rows x kTokenBlock tokens, 66 KiB) stay
//   in L2 too while the k blocks accumulate into them.
// A token block of 264 takes a whole default prefill chunk (256 tokens) at once, so weights are
// read from memory once per chunk. kKBlock is a multiple of every block size (32, 256), so a k
// range starts on a block boundary.
constexpr int64_t kKBlock = 256;
constexpr int64_t kTokenBlock = 44 * kPanelTokens;
constexpr int64_t kMaxChunkPanels = 4;

// Per-thread buffers, reused across calls (each pool thread packs into its own).
struct PanelScratch {
  std::vector<float> rows;   // kPanelRows dequantized row slices, row-major
  std::vector<float> panel;  // the same, k-major: panel[k * kPanelRows + r]
  std::vector<float> high;   // the next kPanelRows rows' panel, for tables with panel_gemm_pair
};
thread_local PanelScratch t_scratch;

// Dequantizes columns [k0, k0 + kc) of rows [r0, r0 + n_rows) of w into a k-major panel;
// rows past n_rows are zero so a partial panel computes on defined values.
void PackPanelSlice(const KernelTable& k, const TensorView& w, int64_t r0, int64_t n_rows,
                    int64_t k0, int64_t kc, PanelScratch& s, float* panel) {
  const uint64_t offset = RowBytes(w.dtype, static_cast<uint64_t>(k0));
  const DequantizeRowFn dequantize = k.dequantize_row[static_cast<size_t>(w.dtype)];
  for (int64_t r = 0; r < n_rows; ++r) {
    const uint8_t* src = w.data + static_cast<uint64_t>(r0 + r) * w.row_bytes() + offset;
    dequantize(src, s.rows.data() + r * kKBlock, kc);
  }
  if (n_rows < kPanelRows) std::fill(s.rows.begin() + n_rows * kKBlock, s.rows.end(), 0.f);
  k.panel_transpose(s.rows.data(), kKBlock, kc, panel);
}

}  // namespace

void PrefetchPanel(const TensorView& w, int64_t panel_rows, int64_t q, int64_t k0, int64_t kc,
                   int64_t part, int64_t n_parts) {
  const int64_t r0 = q * panel_rows;
  const int64_t rows = std::min(panel_rows, w.n_rows() - r0);
  const uint64_t begin = RowBytes(w.dtype, static_cast<uint64_t>(k0));
  const uint64_t bytes = RowBytes(w.dtype, static_cast<uint64_t>(kc));
  for (int64_t r = rows * part / n_parts; r < rows * (part + 1) / n_parts; ++r) {
    const uint8_t* src = w.data + static_cast<uint64_t>(r0 + r) * w.row_bytes() + begin;
    for (uint64_t off = 0; off < bytes; off += 64) __builtin_prefetch(src + off);
  }
}

int64_t EqualTokenBlock(int64_t n_tokens, int64_t max_block, int64_t group) {
  const int64_t n_blocks = (n_tokens + max_block - 1) / max_block;
  return ((n_tokens + n_blocks - 1) / n_blocks + group - 1) / group * group;
}

uint64_t PackedMatMulScratchBytes(int64_t widest_input, int64_t max_tokens, int n_threads) {
  const auto per_thread = static_cast<uint64_t>(3 * kPanelRows * kKBlock) * sizeof(float);
  const auto activations =
      static_cast<uint64_t>(std::min(kTokenBlock, max_tokens) * widest_input) * sizeof(float);
  return static_cast<uint64_t>(n_threads) * per_thread + activations;
}

void PackedMatMul(const KernelTable& k, ThreadPool& pool, std::span<const MatMulTarget> targets,
                  const float* x, int64_t n_tokens, int64_t ldx) {
  const int64_t n = targets.front().w->row_elems();
  const bool pairs = k.panel_gemm_pair != nullptr;
  const int64_t token_block = EqualTokenBlock(n_tokens, kTokenBlock, pairs ? 8 : kPanelTokens);
  // The caller's copy of one token block's activations, k block by k block: block kb holds
  // [token][k] with row length kc, starting at k0 * nt. (The workers see it through px: a
  // thread_local named inside a lambda would be the worker's own.)
  thread_local std::vector<float> packed_x;
  packed_x.resize(static_cast<size_t>(std::min(token_block, n_tokens) * n));
  float* const px = packed_x.data();
  // Tables with a two-panel kernel (8 tokens at a time) take rows 32 at a time; a chunk keeps
  // its row count.
  const int64_t step_rows = pairs ? 2 * kPanelRows : kPanelRows;
  PackedLoop(
      pool, targets, n_tokens,
      {step_rows, token_block, kKBlock, pairs ? kMaxChunkPanels / 2 : kMaxChunkPanels},
      [&](int64_t t0, int64_t nt, int64_t a, int64_t b) {
        for (int64_t t = a; t < b; ++t) {
          for (int64_t k0 = 0; k0 < n; k0 += kKBlock) {
            const int64_t kc = std::min(kKBlock, n - k0);
            std::copy_n(x + (t0 + t) * ldx + k0, kc, px + k0 * nt + t * kc);
          }
        }
      },
      [&](const PanelStep& p) {
        PanelScratch& s = t_scratch;
        s.rows.resize(static_cast<size_t>(kPanelRows * kKBlock));
        s.panel.resize(static_cast<size_t>(kKBlock * kPanelRows));
        s.high.resize(pairs ? s.panel.size() : 0);
        const int64_t rows_low = std::min<int64_t>(p.rows, kPanelRows);
        const TensorView& w = *p.target->w;
        PackPanelSlice(k, w, p.r0, rows_low, p.k0, p.kc, s, s.panel.data());
        if (p.rows > kPanelRows) {
          PackPanelSlice(k, w, p.r0 + kPanelRows, p.rows - kPanelRows, p.k0, p.kc, s,
                         s.high.data());
        }
      },
      [&](const PanelStep& p, const TokenSlice& ts) {
        const PanelScratch& s = t_scratch;
        const float* const x_slice = px + p.k0 * ts.nt + ts.a * p.kc;
        const int64_t ldy = p.target->ldy;
        float* const y_slice = p.target->y + (ts.t0 + ts.a) * ldy + p.r0;
        if (p.rows > kPanelRows) {
          k.panel_gemm_pair(s.panel.data(), s.high.data(), p.kc, x_slice, p.kc, ts.b - ts.a, p.rows,
                            y_slice, ldy, /*accumulate=*/p.k0 > 0);
        } else {
          k.panel_gemm(s.panel.data(), p.kc, x_slice, p.kc, ts.b - ts.a, p.rows, y_slice, ldy,
                       /*accumulate=*/p.k0 > 0);
        }
      });
}

}  // namespace gemma
