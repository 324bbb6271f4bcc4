// Building blocks shared by the NEON kernel files: float weight types widened to f32 lanes and
// the Q8_0 / Q4_0 block layouts as signed bytes. Include only from src/kernels/arm/.
#pragma once

#include <arm_neon.h>

#include <cstring>

#include "core/dtype.h"

namespace gemma::neon {

struct WidenF32 {
  using T = float;
  static float32x4_t Load(const float* p) { return vld1q_f32(p); }
  static float Scalar(const float* p) {
    float v;
    std::memcpy(&v, p, sizeof v);  // rows may sit at any byte address
    return v;
  }
};
struct WidenBF16 {
  using T = uint16_t;
  static float32x4_t Load(const uint16_t* p) {
    return vreinterpretq_f32_u32(vshll_n_u16(vld1_u16(p), 16));
  }
  static float Scalar(const uint16_t* p) {
    uint16_t h;
    std::memcpy(&h, p, sizeof h);
    return BF16ToF32(h);
  }
};
struct WidenF16 {
  using T = uint16_t;
  static float32x4_t Load(const uint16_t* p) {
    return vcvt_f32_f16(vreinterpret_f16_u16(vld1_u16(p)));
  }
  static float Scalar(const uint16_t* p) {
    uint16_t h;
    std::memcpy(&h, p, sizeof h);
    return F16ToF32(h);
  }
};

inline float BlockScale(const uint8_t* block) {
  uint16_t h;
  std::memcpy(&h, block, 2);
  return F16ToF32(h);
}

// The 32 signed quants of a block as two int8x16 vectors (elements 0-15, 16-31).
struct BlockQ8_0 {
  static constexpr int kBytes = 34;
  static void Quants(const uint8_t* b, int8x16_t q[2]) {
    q[0] = vld1q_s8(reinterpret_cast<const int8_t*>(b + 2));
    q[1] = vld1q_s8(reinterpret_cast<const int8_t*>(b + 18));
  }
};
struct BlockQ4_0 {
  static constexpr int kBytes = 18;
  // Low nibbles are elements 0-15, high nibbles 16-31; values q - 8.
  static void Quants(const uint8_t* b, int8x16_t q[2]) {
    const uint8x16_t packed = vld1q_u8(b + 2);
    const int8x16_t eight = vdupq_n_s8(8);
    q[0] = vsubq_s8(vreinterpretq_s8_u8(vandq_u8(packed, vdupq_n_u8(0x0F))), eight);
    q[1] = vsubq_s8(vreinterpretq_s8_u8(vshrq_n_u8(packed, 4)), eight);
  }
};

// The nibbles of a 32-quant block (low: elements 0-15, high: 16-31) with, for the 5-bit types,
// the fifth bits (a little-endian u32, bit j for element j) as 16.
inline void Unsigned5(const uint8_t* qs, const uint8_t* qh, uint8x16_t u[2]) {
  const uint8x16_t packed = vld1q_u8(qs);
  u[0] = vandq_u8(packed, vdupq_n_u8(0x0F));
  u[1] = vshrq_n_u8(packed, 4);
  if (qh == nullptr) return;
  uint32_t bits;
  std::memcpy(&bits, qh, 4);
  const uint8x16_t bit = {1, 2, 4, 8, 16, 32, 64, 128, 1, 2, 4, 8, 16, 32, 64, 128};
  const uint8x16_t sixteen = vdupq_n_u8(16);
  for (int h = 0; h < 2; ++h) {
    const uint8x16_t spread = vcombine_u8(vdup_n_u8(static_cast<uint8_t>(bits >> (16 * h))),
                                          vdup_n_u8(static_cast<uint8_t>(bits >> (16 * h + 8))));
    u[h] = vorrq_u8(u[h], vandq_u8(vtstq_u8(spread, bit), sixteen));
  }
}

// Q5_0 (llama.cpp's fallback for Q4_K rows that are not whole super-blocks): values q - 16.
struct BlockQ5_0 {
  static constexpr int kBytes = 22;
  static void Quants(const uint8_t* b, int8x16_t q[2]) {
    uint8x16_t u[2];
    Unsigned5(b + 6, b + 2, u);
    for (int h = 0; h < 2; ++h) q[h] = vsubq_s8(vreinterpretq_s8_u8(u[h]), vdupq_n_s8(16));
  }
};

// With an f16 minimum m after the scale (value = d * q + m): Quants are q itself (0..31).
struct BlockQ4_1 {
  static constexpr int kBytes = 20;
  static constexpr bool kHasMin = true;
  static void Quants(const uint8_t* b, int8x16_t q[2]) {
    uint8x16_t u[2];
    Unsigned5(b + 4, nullptr, u);
    for (int h = 0; h < 2; ++h) q[h] = vreinterpretq_s8_u8(u[h]);
  }
};
struct BlockQ5_1 {
  static constexpr int kBytes = 24;
  static constexpr bool kHasMin = true;
  static void Quants(const uint8_t* b, int8x16_t q[2]) {
    uint8x16_t u[2];
    Unsigned5(b + 8, b + 4, u);
    for (int h = 0; h < 2; ++h) q[h] = vreinterpretq_s8_u8(u[h]);
  }
};
template <typename B>
concept HasMin = B::kHasMin;

// The f16 minimum of a block with one (after its scale).
inline float BlockMin(const uint8_t* block) {
  return BlockScale(block + 2);
}

}  // namespace gemma::neon
