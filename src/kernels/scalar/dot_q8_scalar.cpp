// Scalar integer dot products: quantized weights x int8 activations (ActBlockQ8), block by
// block as sum_blocks d_w * d_x * sum_i q_w[i] * q_x[i]. The oracle for the SIMD versions.
#include <algorithm>
#include <cmath>
#include <cstring>

#include "core/quant/q4.h"
#include "core/quant/q8_0.h"
#include "kernels/kernels.h"

namespace gemma {

void QuantizeActivationsQ8(const float* x, ActBlockQ8* y, int64_t n) {
  for (int64_t b = 0; b < n / ActBlockQ8::kElems; ++b) {
    const float* xb = x + b * ActBlockQ8::kElems;
    float amax = 0.f;
    for (int i = 0; i < ActBlockQ8::kElems; ++i) amax = std::max(amax, std::fabs(xb[i]));
    const float d = amax / 127.f;
    const float inv = d != 0.f ? 1.f / d : 0.f;
    y[b].d = d;
    for (int i = 0; i < ActBlockQ8::kElems; ++i) {
      // Round half to even, as lrintf in the default rounding mode, without its libm call
      // (which kept this loop scalar): adding 1.5 * 2^23 leaves no fraction bits, so the FPU
      // rounds; exact for |x/d| <= 127.
      constexpr float kRound = 12582912.f;
      y[b].qs[i] = static_cast<int8_t>(static_cast<int>((xb[i] * inv + kRound) - kRound));
    }
  }
}

namespace {

void DotRowsQ8_0Q8(const uint8_t* w, uint64_t row_bytes, int64_t n_rows, const void* xv, int64_t n,
                   float* y) {
  const auto* x = static_cast<const ActBlockQ8*>(xv);
  for (int64_t r = 0; r < n_rows; ++r) {
    const uint8_t* row = w + static_cast<uint64_t>(r) * row_bytes;
    float sum = 0.f;
    for (int64_t b = 0; b < n / 32; ++b) {
      QuantBlockQ8_0 wb;
      std::memcpy(&wb, row + b * sizeof(QuantBlockQ8_0), sizeof(wb));
      int32_t acc = 0;
      for (int i = 0; i < 32; ++i) acc += int32_t{wb.qs[i]} * x[b].qs[i];
      sum += F16ToF32(wb.d) * x[b].d * static_cast<float>(acc);
    }
    y[r] = sum;
  }
}

void DotRowsQ4_0Q8(const uint8_t* w, uint64_t row_bytes, int64_t n_rows, const void* xv, int64_t n,
                   float* y) {
  const auto* x = static_cast<const ActBlockQ8*>(xv);
  for (int64_t r = 0; r < n_rows; ++r) {
    const uint8_t* row = w + static_cast<uint64_t>(r) * row_bytes;
    float sum = 0.f;
    for (int64_t b = 0; b < n / 32; ++b) {
      QuantBlockQ4_0 wb;
      std::memcpy(&wb, row + b * sizeof(QuantBlockQ4_0), sizeof(wb));
      int32_t acc = 0;
      for (int i = 0; i < 16; ++i) {
        acc += (int32_t{wb.qs[i] & 0x0F} - 8) * x[b].qs[i];
        acc += (int32_t{wb.qs[i] >> 4} - 8) * x[b].qs[i + 16];
      }
      sum += F16ToF32(wb.d) * x[b].d * static_cast<float>(acc);
    }
    y[r] = sum;
  }
}

}  // namespace

DotRowsFn ReferenceDotQ8(DType weights) {
  switch (weights) {
    case DType::kQ8_0:
      return &DotRowsQ8_0Q8;
    case DType::kQ4_0:
      return &DotRowsQ4_0Q8;
    default:
      return nullptr;
  }
}

}  // namespace gemma
