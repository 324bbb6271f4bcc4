// Q8_0: blocks of 32 elements, one f16 scale `d` and 32 signed 8-bit quants; x = q * d.
// Layout and reference quantizer follow ggml (ggml-common.h block_q8_0,
// ggml-quants.c quantize_row_q8_0_ref / dequantize_row_q8_0).
#pragma once

#include <cstdint>

namespace gemma {

struct QuantBlockQ8_0 {
  static constexpr int kElems = 32;
  uint16_t d;  // f16 scale
  int8_t qs[kElems];
};
static_assert(sizeof(QuantBlockQ8_0) == 34, "Q8_0 block must be 34 bytes");

void DequantizeBlockQ8_0(const QuantBlockQ8_0& b, float* y);
// `n` is a multiple of 32.
void DequantizeRowQ8_0(const QuantBlockQ8_0* x, float* y, int64_t n);
// Round-to-nearest reference: d = amax / 127, q = round(x / d) (halves away from zero).
void QuantizeRowQ8_0(const float* x, QuantBlockQ8_0* y, int64_t n);

}  // namespace gemma
