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

}  // namespace

void FillAvx512PanelKernels(KernelTable* table) {
  table->panel_gemm = &PanelGemmAvx512;
}

}  // namespace gemma::GEMMA_X86_NS
