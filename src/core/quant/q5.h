// Q5_0 and Q5_1: blocks of 32 elements with 5-bit quants. The low 4 bits sit in nibbles as in
// Q4_0 (byte j: element j low nibble, element j + 16 high nibble); bit 4 of element j is bit j
// of the little-endian u32 `qh`.
//   Q5_0: x = (q - 16) * d          (f16 d)
//   Q5_1: x = q * d + m             (f16 d, f16 m)
// Layout and reference quantizers follow ggml (ggml-common.h block_q5_0/block_q5_1,
// ggml-quants.c quantize_row_q5_*_ref, dequantize_row_q5_*).
#pragma once

#include <cstdint>

namespace gemma {

struct QuantBlockQ5_0 {
  static constexpr int kElems = 32;
  uint16_t d;     // f16 scale
  uint8_t qh[4];  // fifth bits, little-endian u32
  uint8_t qs[kElems / 2];
};
static_assert(sizeof(QuantBlockQ5_0) == 22, "Q5_0 block must be 22 bytes");

struct QuantBlockQ5_1 {
  static constexpr int kElems = 32;
  uint16_t d;     // f16 scale
  uint16_t m;     // f16 minimum
  uint8_t qh[4];  // fifth bits, little-endian u32
  uint8_t qs[kElems / 2];
};
static_assert(sizeof(QuantBlockQ5_1) == 24, "Q5_1 block must be 24 bytes");

void DequantizeBlockQ5_0(const QuantBlockQ5_0& b, float* y);
void DequantizeBlockQ5_1(const QuantBlockQ5_1& b, float* y);
// `n` is a multiple of 32.
void DequantizeRowQ5_0(const QuantBlockQ5_0* x, float* y, int64_t n);
void DequantizeRowQ5_1(const QuantBlockQ5_1* x, float* y, int64_t n);

// Reference quantizers (round to nearest): Q5_0 maps the element of largest magnitude to -16
// (d = max / -16); Q5_1 uses d = (max - min) / 31, m = min.
void QuantizeRowQ5_0(const float* x, QuantBlockQ5_0* y, int64_t n);
void QuantizeRowQ5_1(const float* x, QuantBlockQ5_1* y, int64_t n);

}  // namespace gemma
