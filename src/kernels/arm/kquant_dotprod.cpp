// NEON Q4_K, Q5_K and Q6_K decode against int8 activations (ActBlockQ8: one activation block per
// Q4_K sub-block of 32) through SDOT (ARMv8.2 dot product): the "neon-dotprod" table's K-quant
// slots, the ARM counterpart of x86/kquant_int8_avx2.cpp and the same integer math as the scalar
// references (dot_q8_scalar.cpp). Each activation block's quant dot is exact in int32; the eight
// blocks of a super-block are folded by pairwise adds into two vectors, so a super-block costs
// two int-to-float conversions and two scale FMAs (plus two for Q4_K/Q5_K's minimums).
#include <arm_neon.h>

#include <cstddef>
#include <cstring>
#include <type_traits>

#include "core/quant/k_quants.h"
#include "kernels/activation_scales.h"
#include "kernels/kernels.h"

// The short fixed loops below are unrolled (pragmas) so their per-sub-block vectors stay in
// registers at -O2 as well.
namespace gemma {
namespace {

// An f16 at any byte address, converted by the FPU (exact) rather than by an out-of-line call.
inline float LoadF16(const uint8_t* p) {
  float16_t h;
  std::memcpy(&h, p, sizeof h);
  return h;
}

// The four vectors' lane sums, in order: [sum p0, sum p1, sum p2, sum p3].
inline int32x4_t LaneSums4(int32x4_t p0, int32x4_t p1, int32x4_t p2, int32x4_t p3) {
  return vpaddq_s32(vpaddq_s32(p0, p1), vpaddq_s32(p2, p3));
}

// Four int32 partial sums of 32 quants (q0: elements 0-15, q1: 16-31) times an activation block.
inline int32x4_t Dot32(int8x16_t q0, int8x16_t q1, const ActBlockQ8& x) {
  return vdotq_s32(vdotq_s32(vdupq_n_s32(0), q0, vld1q_s8(x.qs)), q1, vld1q_s8(x.qs + 16));
}

// The eight 6-bit scales and minimums of a Q4_K/Q5_K super-block, as UnpackScalesMinsK4 but in
// registers (no store-to-load round trip): scales as int32 (sub-blocks 0-3, 4-7), minimums as
// f32. Reads 16 bytes at `packed`: the 12 packed bytes and 4 of the block's next field.
inline void UnpackScalesMins(const uint8_t* packed, int32x4_t scales[2], float32x4_t mins[2]) {
  const uint8x16_t v = vld1q_u8(packed);
  const uint8x8_t a = vget_low_u8(v);  // bytes 0-7: scales 0-3, mins 0-3 in their low 6 bits
  const uint8x8_t c = vreinterpret_u8_u32(vdup_laneq_u32(vreinterpretq_u32_u8(v), 2));
  // Sub-blocks 4-7: low 4 bits from bytes 8-11 (scales: low nibbles, mins: high nibbles), top
  // 2 bits from the top bits of bytes 0-3 (scales) and 4-7 (mins).
  const int8x8_t nibble_shift = {0, 0, 0, 0, -4, -4, -4, -4};
  const uint8x8_t low = vand_u8(vshl_u8(c, nibble_shift), vdup_n_u8(0x0F));
  const uint8x8_t first = vand_u8(a, vdup_n_u8(0x3F));
  const uint8x8_t second = vsli_n_u8(low, vshr_n_u8(a, 6), 4);
  const uint32x2_t f = vreinterpret_u32_u8(first), s = vreinterpret_u32_u8(second);
  const uint16x8_t sc = vmovl_u8(vreinterpret_u8_u32(vzip1_u32(f, s)));
  const uint16x8_t m = vmovl_u8(vreinterpret_u8_u32(vzip2_u32(f, s)));
  scales[0] = vreinterpretq_s32_u32(vmovl_u16(vget_low_u16(sc)));
  scales[1] = vreinterpretq_s32_u32(vmovl_high_u16(sc));
  mins[0] = vcvtq_f32_u32(vmovl_u16(vget_low_u16(m)));
  mins[1] = vcvtq_f32_u32(vmovl_high_u16(m));
}

// Q4_K, or Q5_K (a fifth bit per quant from qh): per sub-block j,
// d_x[j] * (d * sc[j] * sum_i q_i x_i - dmin * m[j] * sum_i x_i). Quants 0..31 are the same
// values as signed bytes; sc[j] * dot stays exact in int32 (and in f32: 63 * 32 * 31 * 128 <
// 2^24), so the scales go in before the conversion.
template <typename Block>
void DotRowsK4(const uint8_t* w, uint64_t row_bytes, int64_t n_rows, const void* xv, int64_t n,
               float* y) {
  constexpr bool kFifthBit = std::is_same_v<Block, QuantBlockQ5_K>;
  const auto* x = static_cast<const ActBlockQ8*>(xv);
  const int64_t nb = n / kQK_K;
  const ActScales xs = GatherActScales(x, n / ActBlockQ8::kElems, /*with_sums=*/true);
  const uint8x16_t low4 = vdupq_n_u8(0x0F), one = vdupq_n_u8(1), sixteen = vdupq_n_u8(16);
  for (int64_t r = 0; r < n_rows; ++r) {
    const uint8_t* row = w + static_cast<uint64_t>(r) * row_bytes;
    float32x4_t acc[2] = {vdupq_n_f32(0.f), vdupq_n_f32(0.f)};
    for (int64_t b = 0; b < nb; ++b) {
      const uint8_t* blk = row + b * sizeof(Block);
      const uint8_t* qs = blk + offsetof(Block, qs);
      const ActBlockQ8* xb = x + 8 * b;
      int32x4_t scales[2];
      float32x4_t mins[2];
      UnpackScalesMins(blk + 4, scales, mins);
      // Q5_K: bits 2c and 2c + 1 of qh[i] are the fifth bits of element i of sub-blocks 2c and
      // 2c + 1; shifted down by two per chunk.
      [[maybe_unused]] uint8x16_t qh[2];
      if constexpr (kFifthBit) {
        qh[0] = vld1q_u8(blk + offsetof(Block, qh));
        qh[1] = vld1q_u8(blk + offsetof(Block, qh) + 16);
      }
      int32x4_t p[8];
#pragma GCC unroll 4
      for (int c = 0; c < 4; ++c) {  // 64 elements: sub-block 2c in low nibbles, 2c + 1 in high
        uint8x16_t lo[2], hi[2];
#pragma GCC unroll 2
        for (int i = 0; i < 2; ++i) {  // elements 16i..16i+15 of both sub-blocks
          const uint8x16_t q = vld1q_u8(qs + 32 * c + 16 * i);
          if constexpr (kFifthBit) {
            lo[i] = vsliq_n_u8(q, vandq_u8(qh[i], one), 4);
            hi[i] = vsriq_n_u8(vandq_u8(vshlq_n_u8(qh[i], 3), sixteen), q, 4);
            qh[i] = vshrq_n_u8(qh[i], 2);
          } else {
            lo[i] = vandq_u8(q, low4);
            hi[i] = vshrq_n_u8(q, 4);
          }
        }
        p[2 * c] = Dot32(vreinterpretq_s8_u8(lo[0]), vreinterpretq_s8_u8(lo[1]), xb[2 * c]);
        p[2 * c + 1] = Dot32(vreinterpretq_s8_u8(hi[0]), vreinterpretq_s8_u8(hi[1]), xb[2 * c + 1]);
      }
      const float d = LoadF16(blk), dmin = LoadF16(blk + 2);
#pragma GCC unroll 4
      for (int h = 0; h < 2; ++h) {  // sub-blocks 4h..4h+3
        const int32x4_t dots =
            vmulq_s32(LaneSums4(p[4 * h], p[4 * h + 1], p[4 * h + 2], p[4 * h + 3]), scales[h]);
        acc[h] =
            vfmaq_f32(acc[h], vcvtq_f32_s32(dots), vmulq_n_f32(vld1q_f32(xs.d + 8 * b + 4 * h), d));
        acc[h] = vfmsq_f32(acc[h], mins[h], vmulq_n_f32(vld1q_f32(xs.d_sum + 8 * b + 4 * h), dmin));
      }
    }
    y[r] = vaddvq_f32(vaddq_f32(acc[0], acc[1]));
  }
}

// Q6_K: 6-bit quants q (4 bits in ql, 2 in qh) with an int8 scale per 16 elements: per
// activation block j, d_x[j] * d * sum over its two groups k of sc[k] * sum_i (q_i - 32) x_i.
// q - 32 fits a signed byte, so SDOT takes it directly; each group gets its own SDOT sum, which
// is scaled in int32 (|sc * sum| <= 128 * 16 * 32 * 128 = 2^23 per group), so the block's sum is
// exact and equals the reference's before the same conversion to f32.
void DotRowsQ6K(const uint8_t* w, uint64_t row_bytes, int64_t n_rows, const void* xv, int64_t n,
                float* y) {
  const auto* x = static_cast<const ActBlockQ8*>(xv);
  const int64_t nb = n / kQK_K;
  const ActScales xs = GatherActScales(x, n / ActBlockQ8::kElems, /*with_sums=*/false);
  const uint8x16_t three = vdupq_n_u8(0x03), bits45 = vdupq_n_u8(0x30);
  const int8x16_t thirty_two = vdupq_n_s8(32);
  for (int64_t r = 0; r < n_rows; ++r) {
    const uint8_t* row = w + static_cast<uint64_t>(r) * row_bytes;
    float32x4_t acc[2] = {vdupq_n_f32(0.f), vdupq_n_f32(0.f)};
    for (int64_t b = 0; b < nb; ++b) {
      const uint8_t* blk = row + b * sizeof(QuantBlockQ6_K);
      const ActBlockQ8* xb = x + 8 * b;
      const int8x16_t sc8 = vld1q_s8(reinterpret_cast<const int8_t*>(blk + 192));
      const int16x8_t sc16[2] = {vmovl_s8(vget_low_s8(sc8)), vmovl_high_s8(sc8)};
      const float d = LoadF16(blk + 208);
#pragma GCC unroll 4
      for (int h = 0; h < 2; ++h) {  // 128 elements: activation blocks 4h..4h+3
        const uint8_t* ql = blk + 64 * h;
        const uint8_t* qh = blk + 128 + 32 * h;
        int32x4_t g[8];  // g[2 * m + k]: group k of the half's activation block m
#pragma GCC unroll 4
        for (int k = 0; k < 2; ++k) {  // elements 16k..16k+15 of each activation block
          const uint8x16_t a = vld1q_u8(ql + 16 * k), c = vld1q_u8(ql + 32 + 16 * k);
          const uint8x16_t hb = vld1q_u8(qh + 16 * k), hb2 = vshrq_n_u8(hb, 2);
          // Low or high nibbles of a / c, with bits 2m, 2m + 1 of qh inserted as bits 4-5.
          const uint8x16_t q[4] = {
              vsliq_n_u8(a, vandq_u8(hb, three), 4), vsliq_n_u8(c, vandq_u8(hb2, three), 4),
              vsriq_n_u8(vandq_u8(hb, bits45), a, 4), vsriq_n_u8(vandq_u8(hb2, bits45), c, 4)};
#pragma GCC unroll 4
          for (int m = 0; m < 4; ++m) {
            const int8x16_t qs = vsubq_s8(vreinterpretq_s8_u8(q[m]), thirty_two);
            g[2 * m + k] = vdotq_s32(vdupq_n_s32(0), qs, vld1q_s8(xb[4 * h + m].qs + 16 * k));
          }
        }
        // Groups 8h..8h+7 times their scales, then pairs of groups summed into blocks.
        const int32x4_t s0 =
            vmulq_s32(LaneSums4(g[0], g[1], g[2], g[3]), vmovl_s16(vget_low_s16(sc16[h])));
        const int32x4_t s1 = vmulq_s32(LaneSums4(g[4], g[5], g[6], g[7]), vmovl_high_s16(sc16[h]));
        acc[h] = vfmaq_f32(acc[h], vcvtq_f32_s32(vpaddq_s32(s0, s1)),
                           vmulq_n_f32(vld1q_f32(xs.d + 8 * b + 4 * h), d));
      }
    }
    y[r] = vaddvq_f32(vaddq_f32(acc[0], acc[1]));
  }
}

}  // namespace

void FillNeonDotprodKQuantKernels(KernelTable* table) {
  table->dot_rows[static_cast<size_t>(DType::kQ4_K)] = &DotRowsK4<QuantBlockQ4_K>;
  table->dot_rows[static_cast<size_t>(DType::kQ5_K)] = &DotRowsK4<QuantBlockQ5_K>;
  table->dot_rows[static_cast<size_t>(DType::kQ6_K)] = &DotRowsQ6K;
  for (DType t : {DType::kQ4_K, DType::kQ5_K, DType::kQ6_K}) {
    table->gemm_tile[static_cast<size_t>(t)] = nullptr;  // per-token dots below 8 tokens
    table->activation[static_cast<size_t>(t)] = ActivationType::kQ8;
  }
}

}  // namespace gemma
