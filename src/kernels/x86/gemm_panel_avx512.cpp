// AVX-512 panel GEMM (see PanelGemmFn): the 16 rows of a panel are one 512-bit register, so per
// k one load of the k-major panel feeds one FMA per token against that token's broadcast
// activation. Twelve tokens at a time: with an FMA latency of 4 cycles and two FMA units (Zen 5),
// eight independent accumulators are the least that keeps both busy; six ran at ~70 % of that.
// Each output is one lane summed over k in order, as every ISA's version.
#include "kernels/token_count.h"
#include "kernels/x86/avx512_common.h"

namespace gemma::GEMMA_X86_NS {
namespace {

static_assert(kPanelRows == 16, "a panel row block is one 512-bit register");
constexpr int kTokens = 2 * kPanelTokens;

template <int NT>
void Micro(const float* panel, int64_t kc, const float* x, int64_t ldx, int64_t n_rows, float* y,
           int64_t ldy, bool accumulate) {
  __m512 acc[NT];
#pragma GCC unroll 16
  for (int t = 0; t < NT; ++t) acc[t] = _mm512_setzero_ps();
  for (int64_t k = 0; k < kc; ++k) {
    const __m512 w = _mm512_loadu_ps(panel + k * kPanelRows);
    for (int t = 0; t < NT; ++t)
      acc[t] = _mm512_fmadd_ps(w, _mm512_set1_ps(x[t * ldx + k]), acc[t]);
  }
  for (int t = 0; t < NT; ++t) StoreRows16(acc[t], y + t * ldy, n_rows, accumulate);
}

void PanelGemmAvx512(const float* panel, int64_t kc, const float* x, int64_t ldx, int64_t n_tokens,
                     int64_t n_rows, float* y, int64_t ldy, bool accumulate) {
  ForTokenGroups<kTokens>(n_tokens, [&]<int NT>(int64_t t0) {
    Micro<NT>(panel, kc, x + t0 * ldx, ldx, n_rows, y + t0 * ldy, ldy, accumulate);
  });
}

// Two panels (32 rows) by 8 tokens: the two weight loads and eight broadcasts per k feed 16
// FMAs, where 16 x 12 needs 13 loads for 12 (the loads, not the FMAs, bounded it at ~1.5 FMAs
// per cycle on Zen 5; the bf16 tile measured 1.61 -> 1.97 per cycle for the same change).
template <int NT>
void MicroPair(const float* low, const float* high, int64_t kc, const float* x, int64_t ldx,
               int64_t n_rows, float* y, int64_t ldy, bool accumulate) {
  __m512 lo[NT], hi[NT];
#pragma GCC unroll 16
  for (int t = 0; t < NT; ++t) lo[t] = hi[t] = _mm512_setzero_ps();
  for (int64_t k = 0; k < kc; ++k) {
    const __m512 w_lo = _mm512_loadu_ps(low + k * kPanelRows);
    const __m512 w_hi = _mm512_loadu_ps(high + k * kPanelRows);
    for (int t = 0; t < NT; ++t) {
      const __m512 a = _mm512_set1_ps(x[t * ldx + k]);
      lo[t] = _mm512_fmadd_ps(w_lo, a, lo[t]);
      hi[t] = _mm512_fmadd_ps(w_hi, a, hi[t]);
    }
  }
  const int64_t rows_lo = n_rows < kPanelRows ? n_rows : kPanelRows, rows_hi = n_rows - rows_lo;
  for (int t = 0; t < NT; ++t) {
    StoreRows16(lo[t], y + t * ldy, rows_lo, accumulate);
    if (rows_hi > 0) StoreRows16(hi[t], y + t * ldy + kPanelRows, rows_hi, accumulate);
  }
}

void PanelGemmPairAvx512(const float* low, const float* high, int64_t kc, const float* x,
                         int64_t ldx, int64_t n_tokens, int64_t n_rows, float* y, int64_t ldy,
                         bool accumulate) {
  ForTokenGroups<8>(n_tokens, [&]<int NT>(int64_t t0) {
    MicroPair<NT>(low, high, kc, x + t0 * ldx, ldx, n_rows, y + t0 * ldy, ldy, accumulate);
  });
}

}  // namespace

void FillAvx512PanelKernels(KernelTable* table) {
  table->panel_gemm = &PanelGemmAvx512;
  table->panel_gemm_pair = &PanelGemmPairAvx512;
}

}  // namespace gemma::GEMMA_X86_NS
