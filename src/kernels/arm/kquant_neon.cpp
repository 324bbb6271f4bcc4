// NEON decode dots for the K-quant weight types (Q2_K..Q6_K) against f32 activations, baseline
// AArch64 Advanced SIMD. As on AVX2 (kquant_f32_avx2.cpp), quants and integer sub-block
// scales/minimums are widened exactly to f32, so results equal f32 math on the dequantized
// weights up to summation order. Bit fields are unpacked on 16 bytes at a time, then widened.
#include <arm_neon.h>

#include <cstring>
#include <vector>

#include "core/dtype.h"
#include "core/quant/k_quants.h"
#include "kernels/kernels.h"

namespace gemma {
namespace {

inline float LoadF16(const uint8_t* p) {
  uint16_t h;
  std::memcpy(&h, p, 2);
  return F16ToF32(h);
}

// sum_i q[i] * x[i] over 16 unsigned quants (exactly widened), added to acc.
inline float32x4_t Dot16u(uint8x16_t q, const float* x, float32x4_t acc) {
  const uint16x8_t lo = vmovl_u8(vget_low_u8(q)), hi = vmovl_u8(vget_high_u8(q));
  acc = vfmaq_f32(acc, vcvtq_f32_u32(vmovl_u16(vget_low_u16(lo))), vld1q_f32(x));
  acc = vfmaq_f32(acc, vcvtq_f32_u32(vmovl_u16(vget_high_u16(lo))), vld1q_f32(x + 4));
  acc = vfmaq_f32(acc, vcvtq_f32_u32(vmovl_u16(vget_low_u16(hi))), vld1q_f32(x + 8));
  return vfmaq_f32(acc, vcvtq_f32_u32(vmovl_u16(vget_high_u16(hi))), vld1q_f32(x + 12));
}

// The same over 16 signed quants.
inline float32x4_t Dot16s(int8x16_t q, const float* x, float32x4_t acc) {
  const int16x8_t lo = vmovl_s8(vget_low_s8(q)), hi = vmovl_s8(vget_high_s8(q));
  acc = vfmaq_f32(acc, vcvtq_f32_s32(vmovl_s16(vget_low_s16(lo))), vld1q_f32(x));
  acc = vfmaq_f32(acc, vcvtq_f32_s32(vmovl_s16(vget_high_s16(lo))), vld1q_f32(x + 4));
  acc = vfmaq_f32(acc, vcvtq_f32_s32(vmovl_s16(vget_low_s16(hi))), vld1q_f32(x + 8));
  return vfmaq_f32(acc, vcvtq_f32_s32(vmovl_s16(vget_high_s16(hi))), vld1q_f32(x + 12));
}

// Sixteen Q3_K scales (UnpackScaleQ3_K), still offset by 32.
inline void UnpackScalesQ3K(const uint8_t* packed, uint8_t out[16]) {
  constexpr uint32_t kLow4 = 0x0f0f0f0f, kLow2 = 0x03030303;
  uint32_t a[4];
  std::memcpy(a, packed, 12);
  const uint32_t hi = a[2];
  a[2] = ((a[0] >> 4) & kLow4) | (((hi >> 4) & kLow2) << 4);
  a[3] = ((a[1] >> 4) & kLow4) | (((hi >> 6) & kLow2) << 4);
  a[0] = (a[0] & kLow4) | ((hi & kLow2) << 4);
  a[1] = (a[1] & kLow4) | (((hi >> 2) & kLow2) << 4);
  std::memcpy(out, a, 16);
}

// dmin * sum_j min[j] * sums[j] over eight minimums (unsigned bytes).
inline float32x4_t MinTerm8(uint8x8_t mins, float dmin, const float* sums, float32x4_t acc) {
  const uint16x8_t m = vmovl_u8(mins);
  acc =
      vfmaq_f32(acc, vmulq_n_f32(vcvtq_f32_u32(vmovl_u16(vget_low_u16(m))), dmin), vld1q_f32(sums));
  return vfmaq_f32(acc, vmulq_n_f32(vcvtq_f32_u32(vmovl_u16(vget_high_u16(m))), dmin),
                   vld1q_f32(sums + 4));
}

// Each kernel: kBytes per 256-element block, kSumGroup (elements per entry of the x sums it
// needs, 0 for none) and Row(row, x, sums, blocks) = the dot of one row.
struct KernelQ4K {
  static constexpr int kBytes = 144;
  static constexpr int kSumGroup = 32;
  static float Row(const uint8_t* row, const float* x, const float* sums, int64_t nb) {
    float32x4_t acc = vdupq_n_f32(0), acc_min = vdupq_n_f32(0);
    const uint8x16_t low4 = vdupq_n_u8(0x0F);
    for (int64_t b = 0; b < nb; ++b) {
      const uint8_t* blk = row + b * kBytes;
      const float* xb = x + 256 * b;
      const float d = LoadF16(blk);
      uint8_t sm[16];
      UnpackScalesMinsK4(blk + 4, sm);
      acc_min = MinTerm8(vld1_u8(sm + 8), LoadF16(blk + 2), sums + 8 * b, acc_min);
      for (int c = 0; c < 4; ++c) {  // 64 elements: low nibbles of 32 bytes, then high nibbles
        const uint8x16_t q0 = vld1q_u8(blk + 16 + 32 * c), q1 = vld1q_u8(blk + 32 + 32 * c);
        const float* xc = xb + 64 * c;
        float32x4_t lo = Dot16u(vandq_u8(q0, low4), xc, vdupq_n_f32(0));
        lo = Dot16u(vandq_u8(q1, low4), xc + 16, lo);
        float32x4_t hi = Dot16u(vshrq_n_u8(q0, 4), xc + 32, vdupq_n_f32(0));
        hi = Dot16u(vshrq_n_u8(q1, 4), xc + 48, hi);
        acc = vfmaq_n_f32(acc, lo, d * static_cast<float>(sm[2 * c]));
        acc = vfmaq_n_f32(acc, hi, d * static_cast<float>(sm[2 * c + 1]));
      }
    }
    return vaddvq_f32(acc) - vaddvq_f32(acc_min);
  }
};

struct KernelQ5K {
  static constexpr int kBytes = 176;
  static constexpr int kSumGroup = 32;
  static float Row(const uint8_t* row, const float* x, const float* sums, int64_t nb) {
    float32x4_t acc = vdupq_n_f32(0), acc_min = vdupq_n_f32(0);
    const uint8x16_t low4 = vdupq_n_u8(0x0F), one = vdupq_n_u8(1), two = vdupq_n_u8(2);
    for (int64_t b = 0; b < nb; ++b) {
      const uint8_t* blk = row + b * kBytes;
      const float* xb = x + 256 * b;
      const float d = LoadF16(blk);
      uint8_t sm[16];
      UnpackScalesMinsK4(blk + 4, sm);
      acc_min = MinTerm8(vld1_u8(sm + 8), LoadF16(blk + 2), sums + 8 * b, acc_min);
      // Fifth bits: bit 2c of qh[l] for chunk c's low nibbles, 2c + 1 for its high ones;
      // shifted down by two per chunk.
      uint8x16_t h0 = vld1q_u8(blk + 16), h1 = vld1q_u8(blk + 32);
      for (int c = 0; c < 4; ++c) {
        const uint8x16_t q0 = vld1q_u8(blk + 48 + 32 * c), q1 = vld1q_u8(blk + 64 + 32 * c);
        const float* xc = xb + 64 * c;
        const uint8x16_t l0 = vorrq_u8(vandq_u8(q0, low4), vshlq_n_u8(vandq_u8(h0, one), 4));
        const uint8x16_t l1 = vorrq_u8(vandq_u8(q1, low4), vshlq_n_u8(vandq_u8(h1, one), 4));
        const uint8x16_t u0 = vorrq_u8(vshrq_n_u8(q0, 4), vshlq_n_u8(vandq_u8(h0, two), 3));
        const uint8x16_t u1 = vorrq_u8(vshrq_n_u8(q1, 4), vshlq_n_u8(vandq_u8(h1, two), 3));
        h0 = vshrq_n_u8(h0, 2);
        h1 = vshrq_n_u8(h1, 2);
        const float32x4_t lo = Dot16u(l1, xc + 16, Dot16u(l0, xc, vdupq_n_f32(0)));
        const float32x4_t hi = Dot16u(u1, xc + 48, Dot16u(u0, xc + 32, vdupq_n_f32(0)));
        acc = vfmaq_n_f32(acc, lo, d * static_cast<float>(sm[2 * c]));
        acc = vfmaq_n_f32(acc, hi, d * static_cast<float>(sm[2 * c + 1]));
      }
    }
    return vaddvq_f32(acc) - vaddvq_f32(acc_min);
  }
};

struct KernelQ6K {
  static constexpr int kBytes = 210;
  static constexpr int kSumGroup = 0;  // the -32 offset is applied to the integers
  static float Row(const uint8_t* row, const float* x, const float*, int64_t nb) {
    float32x4_t acc0 = vdupq_n_f32(0), acc1 = vdupq_n_f32(0);
    const uint8x16_t low4 = vdupq_n_u8(0x0F), bits45 = vdupq_n_u8(0x30);
    const int8x16_t off = vdupq_n_s8(32);
    for (int64_t b = 0; b < nb; ++b) {
      const uint8_t* blk = row + b * kBytes;
      const float d = LoadF16(blk + 208);
      const auto* sc = reinterpret_cast<const int8_t*>(blk + 192);
      for (int h = 0; h < 2; ++h) {  // 128 elements from ql[64], qh[32], scales[8]
        const uint8_t* ql = blk + 64 * h;
        const uint8_t* qh = blk + 128 + 32 * h;
        const float* xh = x + 256 * b + 128 * h;
        const int8_t* sh = sc + 8 * h;
        for (int k = 0; k < 2; ++k) {  // l in [16k, 16k + 16): sub-blocks k, k+2, k+4, k+6
          const uint8x16_t a = vld1q_u8(ql + 16 * k), c = vld1q_u8(ql + 32 + 16 * k);
          const uint8x16_t hb = vld1q_u8(qh + 16 * k);
          // (qh >> 2j & 3) << 4 for the four 2-bit fields, then minus 32.
          const uint8x16_t q1 = vorrq_u8(vandq_u8(a, low4), vandq_u8(vshlq_n_u8(hb, 4), bits45));
          const uint8x16_t q2 = vorrq_u8(vandq_u8(c, low4), vandq_u8(vshlq_n_u8(hb, 2), bits45));
          const uint8x16_t q3 = vorrq_u8(vshrq_n_u8(a, 4), vandq_u8(hb, bits45));
          const uint8x16_t q4 = vorrq_u8(vshrq_n_u8(c, 4), vandq_u8(vshrq_n_u8(hb, 2), bits45));
          const float* xl = xh + 16 * k;
          const auto s = [&](uint8x16_t q, const float* xp) {
            return Dot16s(vsubq_s8(vreinterpretq_s8_u8(q), off), xp, vdupq_n_f32(0));
          };
          acc0 = vfmaq_n_f32(acc0, s(q1, xl), d * static_cast<float>(sh[k]));
          acc1 = vfmaq_n_f32(acc1, s(q2, xl + 32), d * static_cast<float>(sh[k + 2]));
          acc0 = vfmaq_n_f32(acc0, s(q3, xl + 64), d * static_cast<float>(sh[k + 4]));
          acc1 = vfmaq_n_f32(acc1, s(q4, xl + 96), d * static_cast<float>(sh[k + 6]));
        }
      }
    }
    return vaddvq_f32(vaddq_f32(acc0, acc1));
  }
};

struct KernelQ2K {
  static constexpr int kBytes = 84;
  static constexpr int kSumGroup = 16;
  static float Row(const uint8_t* row, const float* x, const float* sums, int64_t nb) {
    float32x4_t acc = vdupq_n_f32(0), acc_min = vdupq_n_f32(0);
    const uint8x16_t three = vdupq_n_u8(3);
    for (int64_t b = 0; b < nb; ++b) {
      const uint8_t* blk = row + b * kBytes;
      const float d = LoadF16(blk + 80), dmin = LoadF16(blk + 82);
      const uint8x16_t packed = vld1q_u8(blk);
      const uint8x16_t mins = vshrq_n_u8(packed, 4);
      acc_min = MinTerm8(vget_low_u8(mins), dmin, sums + 16 * b, acc_min);
      acc_min = MinTerm8(vget_high_u8(mins), dmin, sums + 16 * b + 8, acc_min);
      for (int h = 0; h < 2; ++h) {
        // Byte l of the half's 32 holds element 32p + l of the half at bits 2p..2p+1.
        uint8x16_t q0 = vld1q_u8(blk + 16 + 32 * h), q1 = vld1q_u8(blk + 32 + 32 * h);
        const float* xh = x + 256 * b + 128 * h;
        for (int p = 0; p < 4; ++p) {
          const int j = 8 * h + 2 * p;
          const float* xp = xh + 32 * p;
          acc = vfmaq_n_f32(acc, Dot16u(vandq_u8(q0, three), xp, vdupq_n_f32(0)),
                            d * static_cast<float>(blk[j] & 0x0F));
          acc = vfmaq_n_f32(acc, Dot16u(vandq_u8(q1, three), xp + 16, vdupq_n_f32(0)),
                            d * static_cast<float>(blk[j + 1] & 0x0F));
          q0 = vshrq_n_u8(q0, 2);
          q1 = vshrq_n_u8(q1, 2);
        }
      }
    }
    return vaddvq_f32(acc) - vaddvq_f32(acc_min);
  }
};

struct KernelQ3K {
  static constexpr int kBytes = 110;
  static constexpr int kSumGroup = 0;  // the -4 offset is applied to the integers
  static float Row(const uint8_t* row, const float* x, const float*, int64_t nb) {
    float32x4_t acc = vdupq_n_f32(0);
    const uint8x16_t three = vdupq_n_u8(3), four = vdupq_n_u8(4), one = vdupq_n_u8(1);
    for (int64_t b = 0; b < nb; ++b) {
      const uint8_t* blk = row + b * kBytes;
      const float d = LoadF16(blk + 108);
      uint8_t sc[16];
      UnpackScalesQ3K(blk + 96, sc);
      // hmask[l] bit 4h + p is the high bit of element 128h + 32p + l; shifted down by one per
      // plane across both halves.
      uint8x16_t m0 = vld1q_u8(blk), m1 = vld1q_u8(blk + 16);
      for (int h = 0; h < 2; ++h) {
        uint8x16_t q0 = vld1q_u8(blk + 32 + 32 * h), q1 = vld1q_u8(blk + 48 + 32 * h);
        const float* xh = x + 256 * b + 128 * h;
        for (int p = 0; p < 4; ++p) {
          const int j = 8 * h + 2 * p;
          const float* xp = xh + 32 * p;
          const auto w = [&](uint8x16_t q, uint8x16_t m) {
            const uint8x16_t v = vorrq_u8(vandq_u8(q, three), vshlq_n_u8(vandq_u8(m, one), 2));
            return vsubq_s8(vreinterpretq_s8_u8(v), vreinterpretq_s8_u8(four));
          };
          acc = vfmaq_n_f32(acc, Dot16s(w(q0, m0), xp, vdupq_n_f32(0)),
                            d * static_cast<float>(static_cast<int>(sc[j]) - 32));
          acc = vfmaq_n_f32(acc, Dot16s(w(q1, m1), xp + 16, vdupq_n_f32(0)),
                            d * static_cast<float>(static_cast<int>(sc[j + 1]) - 32));
          q0 = vshrq_n_u8(q0, 2);
          q1 = vshrq_n_u8(q1, 2);
          m0 = vshrq_n_u8(m0, 1);
          m1 = vshrq_n_u8(m1, 1);
        }
      }
    }
    return vaddvq_f32(acc);
  }
};

// Sums of x over consecutive groups of G elements (G = 16 or 32), for the minimum terms.
template <int G>
void GroupSums(const float* x, int64_t n, float* out) {
  for (int64_t i = 0; i < n; i += G) {
    float32x4_t s = vaddq_f32(vaddq_f32(vld1q_f32(x + i), vld1q_f32(x + i + 4)),
                              vaddq_f32(vld1q_f32(x + i + 8), vld1q_f32(x + i + 12)));
    for (int k = 16; k < G; k += 8) {
      s = vaddq_f32(s, vaddq_f32(vld1q_f32(x + i + k), vld1q_f32(x + i + k + 4)));
    }
    out[i / G] = vaddvq_f32(s);
  }
}

template <typename K>
void DotRows(const uint8_t* w, uint64_t row_bytes, int64_t n_rows, const void* xv, int64_t n,
             float* y) {
  const auto* x = static_cast<const float*>(xv);
  // The x sums are reused by every row of the call; on the stack up to 16K-32K elements.
  float stack_sums[1024];
  std::vector<float> heap_sums;
  float* sums = stack_sums;
  if constexpr (K::kSumGroup > 0) {
    const int64_t groups = n / K::kSumGroup;
    if (groups > 1024) {
      heap_sums.resize(static_cast<size_t>(groups));
      sums = heap_sums.data();
    }
    GroupSums<K::kSumGroup>(x, n, sums);
  }
  const int64_t nb = n / 256;
  for (int64_t r = 0; r < n_rows; ++r) {
    y[r] = K::Row(w + static_cast<uint64_t>(r) * row_bytes, x, sums, nb);
  }
}

template <typename K>
void SetSlot(KernelTable* table, DType type) {
  table->dot_rows[static_cast<size_t>(type)] = &DotRows<K>;
  table->gemm_tile[static_cast<size_t>(type)] = nullptr;  // per-token dots below 8 tokens
  table->activation[static_cast<size_t>(type)] = ActivationType::kF32;
}

}  // namespace

void FillNeonKQuantKernels(KernelTable* table) {
  SetSlot<KernelQ2K>(table, DType::kQ2_K);
  SetSlot<KernelQ3K>(table, DType::kQ3_K);
  SetSlot<KernelQ4K>(table, DType::kQ4_K);
  SetSlot<KernelQ5K>(table, DType::kQ5_K);
  SetSlot<KernelQ6K>(table, DType::kQ6_K);
}

}  // namespace gemma
