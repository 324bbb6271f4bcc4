#include "core/quant/q4.h"

#include <algorithm>
#include <cfloat>
#include <cmath>

#include "core/dtype.h"

namespace gemma {
namespace {

constexpr int kQk = 32;

// trunc(v) clamped to [0, 15]; v is finite and >= 0 for finite inputs.
uint8_t Nibble(float v) {
  return static_cast<uint8_t>(std::clamp(static_cast<int>(std::clamp(v, 0.f, 16.f)), 0, 15));
}

}  // namespace

void DequantizeBlockQ4_0(const QuantBlockQ4_0& b, float* y) {
  const float d = F16ToF32(b.d);
  for (int j = 0; j < kQk / 2; ++j) {
    y[j] = static_cast<float>((b.qs[j] & 0x0F) - 8) * d;
    y[j + kQk / 2] = static_cast<float>((b.qs[j] >> 4) - 8) * d;
  }
}

void DequantizeBlockQ4_1(const QuantBlockQ4_1& b, float* y) {
  const float d = F16ToF32(b.d);
  const float m = F16ToF32(b.m);
  for (int j = 0; j < kQk / 2; ++j) {
    y[j] = static_cast<float>(b.qs[j] & 0x0F) * d + m;
    y[j + kQk / 2] = static_cast<float>(b.qs[j] >> 4) * d + m;
  }
}

void DequantizeRowQ4_0(const QuantBlockQ4_0* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n / kQk; ++i) DequantizeBlockQ4_0(x[i], y + i * kQk);
}

void DequantizeRowQ4_1(const QuantBlockQ4_1* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n / kQk; ++i) DequantizeBlockQ4_1(x[i], y + i * kQk);
}

void QuantizeRowQ4_0(const float* x, QuantBlockQ4_0* y, int64_t n) {
  for (int64_t i = 0; i < n / kQk; ++i) {
    const float* xb = x + i * kQk;
    float amax = 0.f;
    float max = 0.f;
    for (int j = 0; j < kQk; ++j) {
      if (amax < std::fabs(xb[j])) {
        amax = std::fabs(xb[j]);
        max = xb[j];
      }
    }
    const float d = max / -8.f;
    const float id = d != 0.f ? 1.f / d : 0.f;
    y[i].d = F32ToF16(d);
    for (int j = 0; j < kQk / 2; ++j) {
      const uint8_t q0 = Nibble(xb[j] * id + 8.5f);
      const uint8_t q1 = Nibble(xb[j + kQk / 2] * id + 8.5f);
      y[i].qs[j] = static_cast<uint8_t>(q0 | (q1 << 4));
    }
  }
}

void QuantizeRowQ4_1(const float* x, QuantBlockQ4_1* y, int64_t n) {
  for (int64_t i = 0; i < n / kQk; ++i) {
    const float* xb = x + i * kQk;
    float min = FLT_MAX;
    float max = -FLT_MAX;
    for (int j = 0; j < kQk; ++j) {
      min = std::min(min, xb[j]);
      max = std::max(max, xb[j]);
    }
    const float d = (max - min) / 15.f;
    const float id = d != 0.f ? 1.f / d : 0.f;
    y[i].d = F32ToF16(d);
    y[i].m = F32ToF16(min);
    for (int j = 0; j < kQk / 2; ++j) {
      const uint8_t q0 = Nibble((xb[j] - min) * id + 0.5f);
      const uint8_t q1 = Nibble((xb[j + kQk / 2] - min) * id + 0.5f);
      y[i].qs[j] = static_cast<uint8_t>(q0 | (q1 << 4));
    }
  }
}

}  // namespace gemma
