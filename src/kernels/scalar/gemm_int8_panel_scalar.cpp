// The scalar Q4_0 x int8 panel product: the oracle for the SIMD panel kernels.
#include "kernels/kernels.h"

namespace gemma {

void Int8PanelGemmScalar(const Int8PanelBlock* panel, int64_t n_blocks, const ActBlockQ8* x,
                         const Int8PairCorr* x_corr, int64_t x_stride, int64_t n_tokens,
                         int64_t n_rows, float* y, int64_t ldy, bool accumulate) {
  for (int64_t t = 0; t < n_tokens; ++t) {
    const ActBlockQ8* xt = x + t * x_stride;
    const Int8PairCorr* ct = x_corr + t * x_stride;
    for (int64_t r = 0; r < n_rows; ++r) {
      float sum = 0.f;
      for (int64_t b = 0; b < n_blocks; ++b) {
        int32_t acc = ct[b].pair[0] + ct[b].pair[1];
        for (int i = 0; i < 32; ++i) acc += panel[b].q[i / 4][4 * r + i % 4] * xt[b].qs[i];
        sum += panel[b].d[r] * xt[b].d * static_cast<float>(acc);
      }
      float& out = y[t * ldy + r];
      out = accumulate ? out + sum : sum;
    }
  }
}

}  // namespace gemma
