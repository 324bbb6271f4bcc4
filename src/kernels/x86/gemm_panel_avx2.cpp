// AVX2 panel GEMM (see PanelGemmFn): an outer-product micro-kernel of 16 rows x up to 6 tokens.
// Per k: two loads of the k-major panel, one broadcast per token, 12 FMAs into 12 accumulators,
// so the FMA units, not the loads, set the pace; no horizontal sums, and each token's 16 outputs
// are stored as two vectors.
#include "kernels/token_count.h"
#include "kernels/x86/avx2_common.h"
#include "kernels/x86/avx2_kernels.h"

namespace gemma {
namespace {

static_assert(kPanelRows == 16 && kPanelTokens == 6, "the micro-kernel is written for 16 x 6");

// Twelve named accumulators (not an array: GCC spills arrays indexed after the loop to the
// stack on every iteration, which costs a third of the speed).
template <int NT>
void Micro(const float* panel, int64_t kc, const float* x, int64_t ldx, int64_t n_rows, float* y,
           int64_t ldy, bool accumulate) {
  __m256 l0 = _mm256_setzero_ps(), h0 = l0, l1 = l0, h1 = l0, l2 = l0, h2 = l0, l3 = l0, h3 = l0,
         l4 = l0, h4 = l0, l5 = l0, h5 = l0;
  const float* x0 = x;
  const float* x1 = x + ldx;
  const float* x2 = x + 2 * ldx;
  const float* x3 = x + 3 * ldx;
  const float* x4 = x + 4 * ldx;
  const float* x5 = x + 5 * ldx;
  for (int64_t k = 0; k < kc; ++k) {
    const __m256 w0 = _mm256_loadu_ps(panel + k * kPanelRows);
    const __m256 w1 = _mm256_loadu_ps(panel + k * kPanelRows + 8);
    __m256 xb = _mm256_broadcast_ss(x0 + k);
    l0 = _mm256_fmadd_ps(w0, xb, l0);
    h0 = _mm256_fmadd_ps(w1, xb, h0);
    if constexpr (NT > 1) {
      xb = _mm256_broadcast_ss(x1 + k);
      l1 = _mm256_fmadd_ps(w0, xb, l1);
      h1 = _mm256_fmadd_ps(w1, xb, h1);
    }
    if constexpr (NT > 2) {
      xb = _mm256_broadcast_ss(x2 + k);
      l2 = _mm256_fmadd_ps(w0, xb, l2);
      h2 = _mm256_fmadd_ps(w1, xb, h2);
    }
    if constexpr (NT > 3) {
      xb = _mm256_broadcast_ss(x3 + k);
      l3 = _mm256_fmadd_ps(w0, xb, l3);
      h3 = _mm256_fmadd_ps(w1, xb, h3);
    }
    if constexpr (NT > 4) {
      xb = _mm256_broadcast_ss(x4 + k);
      l4 = _mm256_fmadd_ps(w0, xb, l4);
      h4 = _mm256_fmadd_ps(w1, xb, h4);
    }
    if constexpr (NT > 5) {
      xb = _mm256_broadcast_ss(x5 + k);
      l5 = _mm256_fmadd_ps(w0, xb, l5);
      h5 = _mm256_fmadd_ps(w1, xb, h5);
    }
  }
  avx2::StoreRows16(l0, h0, y, n_rows, accumulate);
  if constexpr (NT > 1) avx2::StoreRows16(l1, h1, y + ldy, n_rows, accumulate);
  if constexpr (NT > 2) avx2::StoreRows16(l2, h2, y + 2 * ldy, n_rows, accumulate);
  if constexpr (NT > 3) avx2::StoreRows16(l3, h3, y + 3 * ldy, n_rows, accumulate);
  if constexpr (NT > 4) avx2::StoreRows16(l4, h4, y + 4 * ldy, n_rows, accumulate);
  if constexpr (NT > 5) avx2::StoreRows16(l5, h5, y + 5 * ldy, n_rows, accumulate);
}

void PanelGemmAvx2(const float* panel, int64_t kc, const float* x, int64_t ldx, int64_t n_tokens,
                   int64_t n_rows, float* y, int64_t ldy, bool accumulate) {
  ForTokenGroups<kPanelTokens>(n_tokens, [&]<int NT>(int64_t t0) {
    Micro<NT>(panel, kc, x + t0 * ldx, ldx, n_rows, y + t0 * ldy, ldy, accumulate);
  });
}

}  // namespace

void FillAvx2PanelKernels(KernelTable* table) {
  table->panel_gemm = &PanelGemmAvx2;
}

}  // namespace gemma
