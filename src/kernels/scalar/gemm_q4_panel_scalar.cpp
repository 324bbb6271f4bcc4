// The scalar Q4_0 x int8 panel product: the oracle for the SIMD panel kernels.
#include "kernels/kernels.h"

namespace gemma {

void Q4PanelGemmScalar(const Q4PanelBlock* panel, int64_t n_blocks, const ActBlockQ8* x,
                       const int32_t* x_corr, int64_t x_stride, int64_t n_tokens, int64_t n_rows,
                       float* y, int64_t ldy, bool accumulate) {
  for (int64_t t = 0; t < n_tokens; ++t) {
    const ActBlockQ8* xt = x + t * x_stride;
    const int32_t* ct = x_corr + t * x_stride;
    for (int64_t r = 0; r < n_rows; ++r) {
      float sum = 0.f;
      for (int64_t b = 0; b < n_blocks; ++b) {
        int32_t acc = 0;
        for (int i = 0; i < 32; ++i) acc += panel[b].q[i / 4][4 * r + i % 4] * xt[b].qs[i];
        sum += panel[b].d[r] * xt[b].d * static_cast<float>(acc - ct[b]);
      }
      float& out = y[t * ldy + r];
      out = accumulate ? out + sum : sum;
    }
  }
}

}  // namespace gemma
