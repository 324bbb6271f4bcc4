#include "core/quant/q5.h"

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstring>

#include "core/dtype.h"

namespace gemma {
namespace {

constexpr int kQk = 32;

uint32_t LoadQh(const uint8_t* qh) {
  uint32_t v;
  std::memcpy(&v, qh, 4);  // little-endian hosts only
  return v;
}

void StoreQh(uint32_t v, uint8_t* qh) {
  std::memcpy(qh, &v, 4);
}

// trunc(v) clamped to [0, 31].
uint8_t Quant5(float v) {
  return static_cast<uint8_t>(std::clamp(static_cast<int>(std::clamp(v, 0.f, 32.f)), 0, 31));
}

// Unpacks the 5-bit quants of one block into q[32].
void Unpack5(const uint8_t* qs, uint32_t qh, int* q) {
  for (int j = 0; j < kQk / 2; ++j) {
    q[j] = (qs[j] & 0x0F) | static_cast<int>(((qh >> j) & 1u) << 4);
    q[j + kQk / 2] = (qs[j] >> 4) | static_cast<int>(((qh >> (j + kQk / 2)) & 1u) << 4);
  }
}

// Packs q[32] (each 0..31) into nibbles and the fifth-bit word.
void Pack5(const uint8_t* q, uint8_t* qs, uint8_t* qh_out) {
  uint32_t qh = 0;
  for (int j = 0; j < kQk / 2; ++j) {
    const uint8_t q0 = q[j], q1 = q[j + kQk / 2];
    qs[j] = static_cast<uint8_t>((q0 & 0x0F) | ((q1 & 0x0F) << 4));
    qh |= static_cast<uint32_t>((q0 >> 4) & 1u) << j;
    qh |= static_cast<uint32_t>((q1 >> 4) & 1u) << (j + kQk / 2);
  }
  StoreQh(qh, qh_out);
}

}  // namespace

void DequantizeBlockQ5_0(const QuantBlockQ5_0& b, float* y) {
  const float d = F16ToF32(b.d);
  int q[kQk];
  Unpack5(b.qs, LoadQh(b.qh), q);
  for (int j = 0; j < kQk; ++j) y[j] = static_cast<float>(q[j] - 16) * d;
}

void DequantizeBlockQ5_1(const QuantBlockQ5_1& b, float* y) {
  const float d = F16ToF32(b.d);
  const float m = F16ToF32(b.m);
  int q[kQk];
  Unpack5(b.qs, LoadQh(b.qh), q);
  for (int j = 0; j < kQk; ++j) y[j] = static_cast<float>(q[j]) * d + m;
}

void DequantizeRowQ5_0(const QuantBlockQ5_0* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n / kQk; ++i) DequantizeBlockQ5_0(x[i], y + i * kQk);
}

void DequantizeRowQ5_1(const QuantBlockQ5_1* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n / kQk; ++i) DequantizeBlockQ5_1(x[i], y + i * kQk);
}

void QuantizeRowQ5_0(const float* x, QuantBlockQ5_0* y, int64_t n) {
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
    const float d = max / -16.f;
    const float id = d != 0.f ? 1.f / d : 0.f;
    y[i].d = F32ToF16(d);
    uint8_t q[kQk];
    for (int j = 0; j < kQk; ++j) q[j] = Quant5(xb[j] * id + 16.5f);
    Pack5(q, y[i].qs, y[i].qh);
  }
}

void QuantizeRowQ5_1(const float* x, QuantBlockQ5_1* y, int64_t n) {
  for (int64_t i = 0; i < n / kQk; ++i) {
    const float* xb = x + i * kQk;
    float min = FLT_MAX;
    float max = -FLT_MAX;
    for (int j = 0; j < kQk; ++j) {
      min = std::min(min, xb[j]);
      max = std::max(max, xb[j]);
    }
    const float d = (max - min) / 31.f;
    const float id = d != 0.f ? 1.f / d : 0.f;
    y[i].d = F32ToF16(d);
    y[i].m = F32ToF16(min);
    uint8_t q[kQk];
    for (int j = 0; j < kQk; ++j) q[j] = Quant5((xb[j] - min) * id + 0.5f);
    Pack5(q, y[i].qs, y[i].qh);
  }
}

}  // namespace gemma
