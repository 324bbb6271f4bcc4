#include "core/quant/k_quants.h"

#include "core/dtype.h"

namespace gemma {

int UnpackScaleQ3_K(int j, const uint8_t* scales) {
  // Low 4 bits: scales 0-7 in the low nibbles of bytes 0-7, scales 8-15 in their high nibbles.
  // High 2 bits: bytes 8-11 hold them for scale j at bit position 2 * (j / 4) of byte 8 + j % 4.
  const int low = j < 8 ? (scales[j] & 0x0F) : (scales[j - 8] >> 4);
  const int high = (scales[8 + j % 4] >> (2 * (j / 4))) & 3;
  return (low | (high << 4)) - 32;
}

void DequantizeBlockQ2_K(const QuantBlockQ2_K& b, float* y) {
  const float d = F16ToF32(b.d);
  const float dmin = F16ToF32(b.dmin);
  for (int half = 0; half < 2; ++half) {
    const uint8_t* q = b.qs + 32 * half;
    for (int plane = 0; plane < 4; ++plane) {  // bits 2*plane..2*plane+1 of each byte
      for (int part = 0; part < 2; ++part) {   // bytes 0-15 and 16-31 of the half
        const uint8_t sc = b.scales[8 * half + 2 * plane + part];
        const float dl = d * static_cast<float>(sc & 0x0F);
        const float ml = dmin * static_cast<float>(sc >> 4);
        float* out = y + 128 * half + 32 * plane + 16 * part;
        for (int l = 0; l < 16; ++l) {
          out[l] = dl * static_cast<float>((q[16 * part + l] >> (2 * plane)) & 3) - ml;
        }
      }
    }
  }
}

void DequantizeBlockQ3_K(const QuantBlockQ3_K& b, float* y) {
  const float d = F16ToF32(b.d);
  for (int half = 0; half < 2; ++half) {
    const uint8_t* q = b.qs + 32 * half;
    for (int plane = 0; plane < 4; ++plane) {
      const uint8_t hbit = static_cast<uint8_t>(1u << (4 * half + plane));
      for (int part = 0; part < 2; ++part) {
        const float dl =
            d * static_cast<float>(UnpackScaleQ3_K(8 * half + 2 * plane + part, b.scales));
        float* out = y + 128 * half + 32 * plane + 16 * part;
        for (int l = 0; l < 16; ++l) {
          const int low = (q[16 * part + l] >> (2 * plane)) & 3;
          const int sub = (b.hmask[16 * part + l] & hbit) ? 0 : 4;
          out[l] = dl * static_cast<float>(low - sub);
        }
      }
    }
  }
}

void DequantizeBlockQ4_K(const QuantBlockQ4_K& b, float* y) {
  const float d = F16ToF32(b.d);
  const float dmin = F16ToF32(b.dmin);
  for (int chunk = 0; chunk < 4; ++chunk) {  // 64 elements: low nibbles, then high nibbles
    const uint8_t* q = b.qs + 32 * chunk;
    uint8_t sc, m;
    UnpackScaleMinK4(2 * chunk, b.scales, &sc, &m);
    const float d1 = d * sc, m1 = dmin * m;
    UnpackScaleMinK4(2 * chunk + 1, b.scales, &sc, &m);
    const float d2 = d * sc, m2 = dmin * m;
    float* out = y + 64 * chunk;
    for (int l = 0; l < 32; ++l) out[l] = d1 * static_cast<float>(q[l] & 0x0F) - m1;
    for (int l = 0; l < 32; ++l) out[32 + l] = d2 * static_cast<float>(q[l] >> 4) - m2;
  }
}

void DequantizeBlockQ5_K(const QuantBlockQ5_K& b, float* y) {
  const float d = F16ToF32(b.d);
  const float dmin = F16ToF32(b.dmin);
  for (int chunk = 0; chunk < 4; ++chunk) {
    const uint8_t* q = b.qs + 32 * chunk;
    const uint8_t u1 = static_cast<uint8_t>(1u << (2 * chunk));
    const uint8_t u2 = static_cast<uint8_t>(2u << (2 * chunk));
    uint8_t sc, m;
    UnpackScaleMinK4(2 * chunk, b.scales, &sc, &m);
    const float d1 = d * sc, m1 = dmin * m;
    UnpackScaleMinK4(2 * chunk + 1, b.scales, &sc, &m);
    const float d2 = d * sc, m2 = dmin * m;
    float* out = y + 64 * chunk;
    for (int l = 0; l < 32; ++l) {
      out[l] = d1 * static_cast<float>((q[l] & 0x0F) + ((b.qh[l] & u1) ? 16 : 0)) - m1;
    }
    for (int l = 0; l < 32; ++l) {
      out[32 + l] = d2 * static_cast<float>((q[l] >> 4) + ((b.qh[l] & u2) ? 16 : 0)) - m2;
    }
  }
}

void DequantizeBlockQ6_K(const QuantBlockQ6_K& b, float* y) {
  const float d = F16ToF32(b.d);
  for (int half = 0; half < 2; ++half) {
    const uint8_t* ql = b.ql + 64 * half;
    const uint8_t* qh = b.qh + 32 * half;
    const int8_t* sc = b.scales + 8 * half;
    float* out = y + 128 * half;
    for (int l = 0; l < 32; ++l) {
      const int is = l / 16;
      const int q1 = ((ql[l] & 0x0F) | (((qh[l] >> 0) & 3) << 4)) - 32;
      const int q2 = ((ql[l + 32] & 0x0F) | (((qh[l] >> 2) & 3) << 4)) - 32;
      const int q3 = ((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
      const int q4 = ((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;
      out[l] = d * static_cast<float>(sc[is + 0]) * static_cast<float>(q1);
      out[l + 32] = d * static_cast<float>(sc[is + 2]) * static_cast<float>(q2);
      out[l + 64] = d * static_cast<float>(sc[is + 4]) * static_cast<float>(q3);
      out[l + 96] = d * static_cast<float>(sc[is + 6]) * static_cast<float>(q4);
    }
  }
}

}  // namespace gemma
