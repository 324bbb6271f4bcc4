#include "kernels/matmul_packed.h"

#include <algorithm>
#include <vector>

#include "core/quant/dequantize.h"

namespace gemma {
namespace {

// k-range per pass: a 256 x 16 panel slice (16 KiB) and six tokens' 256 activations (6 KiB)
// stay in L1 while the micro-kernel runs.
constexpr int64_t kKBlock = 256;

// Dequantizes rows [r0, r0 + n_rows) of w into panel[k * kPanelRows + r]; missing rows are 0.
void PackPanel(const TensorView& w, int64_t r0, int64_t n_rows, std::vector<float>& row,
               std::vector<float>& panel) {
  const int64_t n = w.row_elems();
  row.resize(static_cast<size_t>(n));
  panel.assign(static_cast<size_t>(n * kPanelRows), 0.f);
  for (int64_t r = 0; r < n_rows; ++r) {
    DequantizeRow(w.dtype, w.data + static_cast<uint64_t>(r0 + r) * w.row_bytes(), row.data(), n);
    float* dst = panel.data() + r;
    for (int64_t k = 0; k < n; ++k) dst[k * kPanelRows] = row[static_cast<size_t>(k)];
  }
}

}  // namespace

void PackedMatMul(const KernelTable& k, ThreadPool& pool, const TensorView& w, const float* x,
                  int64_t n_tokens, int64_t ldx, float* y, int64_t ldy) {
  const int64_t n_rows = w.n_rows();
  const int64_t n = w.row_elems();
  const int64_t n_panels = (n_rows + kPanelRows - 1) / kPanelRows;
  const PanelGemmFn gemm = k.panel_gemm;
  pool.ParallelFor(n_panels, 1, [&](int64_t p0, int64_t p1, int) {
    thread_local std::vector<float> row, panel;
    for (int64_t p = p0; p < p1; ++p) {
      const int64_t r0 = p * kPanelRows;
      const int64_t rows = std::min<int64_t>(kPanelRows, n_rows - r0);
      PackPanel(w, r0, rows, row, panel);
      for (int64_t k0 = 0; k0 < n; k0 += kKBlock) {
        const int64_t kc = std::min(kKBlock, n - k0);
        for (int64_t t = 0; t < n_tokens; t += kPanelTokens) {
          gemm(panel.data() + k0 * kPanelRows, kc, x + t * ldx + k0, ldx,
               std::min<int64_t>(kPanelTokens, n_tokens - t), rows, y + t * ldy + r0, ldy,
               /*accumulate=*/k0 > 0);
        }
      }
    }
  });
}

}  // namespace gemma
