// AVX512-BF16 panel GEMM (Bf16PanelGemmFn): the 16 rows of a panel as bf16 pairs are one 512-bit
// register, and vdpbf16ps adds both products of a pair into each row's f32 sum: per pair of k,
// one load and one instruction per token for 32 MACs (an f32 FMA does 16). Twelve tokens at a
// time, as the f32 AVX-512 kernel (gemm_panel_avx512.cpp).
#include <cstring>

#include "kernels/token_count.h"
#include "kernels/x86/avx512_common.h"

namespace gemma::GEMMA_X86_NS {
namespace {

static_assert(kPanelRows == 16, "a panel row block is one 512-bit register");
constexpr int kTokens = 2 * kPanelTokens;

inline __m512bh AsBf16Pairs(__m512i v) {
  __m512bh r;
  std::memcpy(&r, &v, sizeof r);
  return r;
}

template <int NT>
void Micro(const uint32_t* panel, int64_t kc_pairs, const uint32_t* x, int64_t ldx, int64_t n_rows,
           float* y, int64_t ldy, bool accumulate) {
  __m512 acc[NT];
  for (int t = 0; t < NT; ++t) acc[t] = _mm512_setzero_ps();
  for (int64_t p = 0; p < kc_pairs; ++p) {
    const __m512bh w = AsBf16Pairs(_mm512_loadu_si512(panel + p * kPanelRows));
    for (int t = 0; t < NT; ++t) {
      const __m512bh a = AsBf16Pairs(_mm512_set1_epi32(static_cast<int32_t>(x[t * ldx + p])));
      acc[t] = _mm512_dpbf16_ps(acc[t], w, a);
    }
  }
  for (int t = 0; t < NT; ++t) StoreRows16(acc[t], y + t * ldy, n_rows, accumulate);
}

void Bf16PanelGemmAvx512(const uint32_t* panel, int64_t kc_pairs, const uint32_t* x, int64_t ldx,
                         int64_t n_tokens, int64_t n_rows, float* y, int64_t ldy, bool accumulate) {
  ForTokenGroups<kTokens>(n_tokens, [&]<int NT>(int64_t t0) {
    Micro<NT>(panel, kc_pairs, x + t0 * ldx, ldx, n_rows, y + t0 * ldy, ldy, accumulate);
  });
}

}  // namespace

void FillAvx512Bf16Kernels(KernelTable* table) {
  table->bf16_panel_gemm = &Bf16PanelGemmAvx512;
}

}  // namespace gemma::GEMMA_X86_NS
