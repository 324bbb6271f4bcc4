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

}  // namespace gemma::neon
