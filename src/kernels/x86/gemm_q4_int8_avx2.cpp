// AVX2 int8 prefill kernel for Q4_0 weights (see Q4PanelBlock in kernels.h): per block, eight
// 256-bit loads of repacked quants (eight rows x four quants each) meet four broadcast
// activation bytes per token in maddubs; the int16 sums of a block stay exact (8 groups x 2
// products x 15 x 127 = 30,480 < 32,767), so each block costs one madd, one conversion and
// one FMA per token for all eight rows.
#include "kernels/x86/avx2_common.h"
#include "kernels/x86/avx2_kernels.h"

namespace gemma {
namespace {

template <int NT>
void Q4PanelTile(const Q4PanelBlock* panel, int64_t n_blocks, const ActBlockQ8* x,
                 const int32_t* x_corr, int64_t x_stride, float* const* y, int64_t n_rows,
                 bool accumulate) {
  __m256 acc[NT];
  for (int t = 0; t < NT; ++t) acc[t] = _mm256_setzero_ps();
  const __m256i ones16 = _mm256_set1_epi16(1);
  for (int64_t b = 0; b < n_blocks; ++b) {
    const Q4PanelBlock& pb = panel[b];
    __m256i sums[NT];
    for (int t = 0; t < NT; ++t) sums[t] = _mm256_setzero_si256();
    for (int g = 0; g < 8; ++g) {
      const __m256i w = _mm256_load_si256(reinterpret_cast<const __m256i*>(pb.q[g]));
      for (int t = 0; t < NT; ++t) {
        int32_t four;
        std::memcpy(&four, x[t * x_stride + b].qs + 4 * g, 4);
        sums[t] = _mm256_add_epi16(sums[t], _mm256_maddubs_epi16(w, _mm256_set1_epi32(four)));
      }
    }
    const __m256 dw = _mm256_load_ps(pb.d);
    for (int t = 0; t < NT; ++t) {
      const __m256i s32 = _mm256_sub_epi32(_mm256_madd_epi16(sums[t], ones16),
                                           _mm256_set1_epi32(x_corr[t * x_stride + b]));
      acc[t] = _mm256_fmadd_ps(_mm256_mul_ps(dw, _mm256_set1_ps(x[t * x_stride + b].d)),
                               _mm256_cvtepi32_ps(s32), acc[t]);
    }
  }
  for (int t = 0; t < NT; ++t) {
    if (n_rows == kQ4PanelRows) {
      const __m256 old = accumulate ? _mm256_loadu_ps(y[t]) : _mm256_setzero_ps();
      _mm256_storeu_ps(y[t], _mm256_add_ps(old, acc[t]));
    } else {
      alignas(32) float v[8];
      _mm256_store_ps(v, acc[t]);
      for (int64_t r = 0; r < n_rows; ++r) y[t][r] = accumulate ? y[t][r] + v[r] : v[r];
    }
  }
}

void Q4PanelGemmAvx2(const Q4PanelBlock* panel, int64_t n_blocks, const ActBlockQ8* x,
                     const int32_t* x_corr, int64_t x_stride, int64_t n_tokens, int64_t n_rows,
                     float* y, int64_t ldy, bool accumulate) {
  float* ys[kQ4PanelTokens];
  for (int64_t t = 0; t < n_tokens; ++t) ys[t] = y + t * ldy;
  switch (n_tokens) {
    case 1:
      return Q4PanelTile<1>(panel, n_blocks, x, x_corr, x_stride, ys, n_rows, accumulate);
    case 2:
      return Q4PanelTile<2>(panel, n_blocks, x, x_corr, x_stride, ys, n_rows, accumulate);
    case 3:
      return Q4PanelTile<3>(panel, n_blocks, x, x_corr, x_stride, ys, n_rows, accumulate);
    default:
      return Q4PanelTile<4>(panel, n_blocks, x, x_corr, x_stride, ys, n_rows, accumulate);
  }
}

}  // namespace

void FillAvx2Q4PanelKernels(KernelTable* table) {
  table->q4_panel_gemm = &Q4PanelGemmAvx2;
}

}  // namespace gemma
