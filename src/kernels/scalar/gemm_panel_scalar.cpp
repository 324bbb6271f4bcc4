// Scalar panel GEMM: the reference every SIMD panel kernel is tested against.
#include <cstring>

#include "core/dtype.h"
#include "kernels/kernels.h"

namespace gemma {

void PanelGemmScalar(const float* panel, int64_t kc, const float* x, int64_t ldx, int64_t n_tokens,
                     int64_t n_rows, float* y, int64_t ldy, bool accumulate) {
  for (int64_t t = 0; t < n_tokens; ++t) {
    for (int64_t r = 0; r < n_rows; ++r) {
      float acc = accumulate ? y[t * ldy + r] : 0.f;
      for (int64_t k = 0; k < kc; ++k) acc += panel[k * kPanelRows + r] * x[t * ldx + k];
      y[t * ldy + r] = acc;
    }
  }
}

void Bf16PanelGemmScalar(const uint32_t* panel, int64_t kc_pairs, const uint32_t* x, int64_t ldx,
                         int64_t n_tokens, int64_t n_rows, float* y, int64_t ldy, bool accumulate) {
  for (int64_t t = 0; t < n_tokens; ++t) {
    for (int64_t r = 0; r < n_rows; ++r) {
      float acc = accumulate ? y[t * ldy + r] : 0.f;
      for (int64_t p = 0; p < kc_pairs; ++p) {
        const uint32_t w = panel[p * kBf16PanelRows + r], a = x[t * ldx + p];
        acc += BF16ToF32(static_cast<uint16_t>(w)) * BF16ToF32(static_cast<uint16_t>(a));
        acc +=
            BF16ToF32(static_cast<uint16_t>(w >> 16)) * BF16ToF32(static_cast<uint16_t>(a >> 16));
      }
      y[t * ldy + r] = acc;
    }
  }
}

void Bf16PanelPackScalar(const uint8_t* rows, uint64_t row_bytes, int64_t n_rows, int64_t p0,
                         int64_t kp, uint32_t* panel) {
  for (int64_t r = 0; r < kBf16PanelRows; ++r) {
    const uint8_t* src =
        rows + static_cast<uint64_t>(r) * row_bytes + static_cast<uint64_t>(p0) * 4;
    for (int64_t p = 0; p < kp; ++p) {
      uint32_t v = 0;
      if (r < n_rows) std::memcpy(&v, src + 4 * p, 4);
      panel[p * kBf16PanelRows + r] = v;
    }
  }
}

void PanelTransposeScalar(const float* rows, int64_t ld, int64_t kc, float* panel) {
  for (int64_t k = 0; k < kc; ++k) {
    for (int64_t r = 0; r < kPanelRows; ++r) panel[k * kPanelRows + r] = rows[r * ld + k];
  }
}

}  // namespace gemma
