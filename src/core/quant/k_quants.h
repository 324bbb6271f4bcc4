// K-quants: super-blocks of 256 elements split into sub-blocks (16 of 16 or 8 of 32) whose
// scales (and for some types minimums) are themselves quantized against f16 super-block scales.
// Layouts follow ggml's ggml-common.h (block_q2_K ... block_q6_K); the element order and scale
// packing follow ggml-quants.c dequantize_row_q*_K. Within each 128-element half, the quants of
// consecutive 32-element groups are interleaved by bit position, which is why the loops below
// walk "shift" planes rather than elements. Quantizers: k_quantize.h.
#pragma once

#include <cstdint>
#include <cstring>

namespace gemma {

inline constexpr int kQK_K = 256;

// Q2_K: 16 sub-blocks of 16. scales[i]: low nibble = scale, high nibble = minimum;
// x = d * (sc & 15) * q - dmin * (sc >> 4), q in 0..3.
struct QuantBlockQ2_K {
  uint8_t scales[kQK_K / 16];
  uint8_t qs[kQK_K / 4];  // 2-bit quants
  uint16_t d;             // f16 super-block scale for the scales
  uint16_t dmin;          // f16 super-block scale for the minimums
};
static_assert(sizeof(QuantBlockQ2_K) == 84, "Q2_K block must be 84 bytes");

// Q3_K: 16 sub-blocks of 16. Signed 6-bit scales (stored +32) packed into 12 bytes;
// x = d * (scale - 32) * (q - (hmask bit set ? 0 : 4)), q = low 2 bits in 0..3.
struct QuantBlockQ3_K {
  uint8_t hmask[kQK_K / 8];  // high bit of each quant
  uint8_t qs[kQK_K / 4];     // low 2 bits
  uint8_t scales[12];        // 16 x 6-bit scales
  uint16_t d;                // f16 super-block scale
};
static_assert(sizeof(QuantBlockQ3_K) == 110, "Q3_K block must be 110 bytes");

// Q4_K: 8 sub-blocks of 32. 6-bit scales and minimums packed into 12 bytes;
// x = d * scale * q - dmin * min, q in 0..15.
struct QuantBlockQ4_K {
  uint16_t d;
  uint16_t dmin;
  uint8_t scales[12];
  uint8_t qs[kQK_K / 2];
};
static_assert(sizeof(QuantBlockQ4_K) == 144, "Q4_K block must be 144 bytes");

// Q5_K: as Q4_K plus a fifth bit per element in qh; q in 0..31.
struct QuantBlockQ5_K {
  uint16_t d;
  uint16_t dmin;
  uint8_t scales[12];
  uint8_t qh[kQK_K / 8];
  uint8_t qs[kQK_K / 2];
};
static_assert(sizeof(QuantBlockQ5_K) == 176, "Q5_K block must be 176 bytes");

// Q6_K: 16 sub-blocks of 16 with signed 8-bit scales; x = d * scale * (q - 32), q in 0..63
// (low 4 bits in ql, high 2 bits in qh).
struct QuantBlockQ6_K {
  uint8_t ql[kQK_K / 2];
  uint8_t qh[kQK_K / 4];
  int8_t scales[kQK_K / 16];
  uint16_t d;
};
static_assert(sizeof(QuantBlockQ6_K) == 210, "Q6_K block must be 210 bytes");

// Scale and minimum of sub-block j (0..7) of a Q4_K/Q5_K block: j < 4 use the low 6 bits of
// bytes j and j + 4; j >= 4 take their low 4 bits from byte j + 4 (nibbles) and their top 2 bits
// from the top bits of bytes j - 4 (scale) and j (minimum).
// (Inline: the prefill packers call it per row and sub-block.)
inline void UnpackScaleMinK4(int j, const uint8_t* q, uint8_t* scale, uint8_t* min) {
  if (j < 4) {
    *scale = q[j] & 63;
    *min = q[j + 4] & 63;
  } else {
    *scale = static_cast<uint8_t>((q[j + 4] & 0x0F) | ((q[j - 4] >> 6) << 4));
    *min = static_cast<uint8_t>((q[j + 4] >> 4) | ((q[j] >> 6) << 4));
  }
}
// All eight at once, word-parallel (for the SIMD kernels): out[0..7] the scales, out[8..15]
// the minimums.
inline void UnpackScalesMinsK4(const uint8_t* scales, uint8_t out[16]) {
  constexpr uint32_t kLow6 = 0x3f3f3f3f, kLow4 = 0x0f0f0f0f, kLow2 = 0x03030303;
  uint32_t u[4];
  std::memcpy(u, scales, 12);
  u[3] = ((u[2] >> 4) & kLow4) | (((u[1] >> 6) & kLow2) << 4);
  const uint32_t mins_lo = u[1] & kLow6;
  u[1] = (u[2] & kLow4) | (((u[0] >> 6) & kLow2) << 4);
  u[2] = mins_lo;
  u[0] &= kLow6;
  std::memcpy(out, u, 16);
}
// Scale j (0..15) of a Q3_K block, already minus 32.
int UnpackScaleQ3_K(int j, const uint8_t* scales);

void DequantizeBlockQ2_K(const QuantBlockQ2_K& b, float* y);
void DequantizeBlockQ3_K(const QuantBlockQ3_K& b, float* y);
void DequantizeBlockQ4_K(const QuantBlockQ4_K& b, float* y);
void DequantizeBlockQ5_K(const QuantBlockQ5_K& b, float* y);
void DequantizeBlockQ6_K(const QuantBlockQ6_K& b, float* y);

}  // namespace gemma
