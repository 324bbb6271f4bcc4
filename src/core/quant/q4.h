// Q4_0 and Q4_1: blocks of 32 elements with 4-bit quants, two per byte. Byte j holds element j
// in its low nibble and element j + 16 in its high nibble.
//   Q4_0: x = (q - 8) * d           (f16 d)
//   Q4_1: x = q * d + m             (f16 d, f16 m)
// Layout and reference quantizers follow ggml (ggml-common.h block_q4_0/block_q4_1,
// ggml-quants.c quantize_row_q4_0_ref, quantize_row_q4_1_ref, dequantize_row_q4_*).
#pragma once

#include <cstdint>

namespace gemma {

struct QuantBlockQ4_0 {
  static constexpr int kElems = 32;
  uint16_t d;  // f16 scale
  uint8_t qs[kElems / 2];
};
static_assert(sizeof(QuantBlockQ4_0) == 18, "Q4_0 block must be 18 bytes");

struct QuantBlockQ4_1 {
  static constexpr int kElems = 32;
  uint16_t d;  // f16 scale
  uint16_t m;  // f16 minimum
  uint8_t qs[kElems / 2];
};
static_assert(sizeof(QuantBlockQ4_1) == 20, "Q4_1 block must be 20 bytes");

void DequantizeBlockQ4_0(const QuantBlockQ4_0& b, float* y);
void DequantizeBlockQ4_1(const QuantBlockQ4_1& b, float* y);
// `n` is a multiple of 32.
void DequantizeRowQ4_0(const QuantBlockQ4_0* x, float* y, int64_t n);
void DequantizeRowQ4_1(const QuantBlockQ4_1* x, float* y, int64_t n);

// Reference quantizers. Q4_0: the element of largest magnitude (with its sign) maps to -8, so
// d = max / -8; q = min(15, trunc(x / d + 8.5)). Q4_1: d = (max - min) / 15, m = min,
// q = min(15, trunc((x - min) / d + 0.5)).
void QuantizeRowQ4_0(const float* x, QuantBlockQ4_0* y, int64_t n);
void QuantizeRowQ4_1(const float* x, QuantBlockQ4_1* y, int64_t n);

}  // namespace gemma
