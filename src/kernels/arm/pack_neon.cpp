// NEON panel packing for prefill (see DequantizeRowFn / PanelTransposeFn): row dequantizers for
// the plain float types and Q8_0 / Q4_0 (the same single f32 product d * q as the scalar
// dequantizer, so panels are bit-identical) and the 16-row transpose as 4 x 4 register
// transposes. K-quants keep the scalar dequantizers.
#include <arm_neon.h>

#include <cstring>

#include "kernels/arm/neon_common.h"
#include "kernels/kernels.h"

namespace gemma {
namespace {

using namespace neon;

template <typename Widen>
void DequantizeFloats(const uint8_t* src, float* dst, int64_t n) {
  const auto* p = reinterpret_cast<const typename Widen::T*>(src);
  int64_t i = 0;
  for (; i + 4 <= n; i += 4) vst1q_f32(dst + i, Widen::Load(p + i));
  for (; i < n; ++i) dst[i] = Widen::Scalar(p + i);
}

void DequantizeF32(const uint8_t* src, float* dst, int64_t n) {
  std::memcpy(dst, src, static_cast<size_t>(n) * sizeof(float));
}

// Sixteen quants times d, plus m for the types with a minimum (a product, then a sum, as the
// scalar dequantizers), as four stores of four f32. Their unsigned quants (0..31) widen as
// signed bytes unchanged.
template <bool kWithMin>
inline void Store16(int8x16_t q, float32x4_t d, float32x4_t m, float* dst) {
  const int16x8_t lo = vmovl_s8(vget_low_s8(q)), hi = vmovl_s8(vget_high_s8(q));
  const int32x4_t parts[4] = {vmovl_s16(vget_low_s16(lo)), vmovl_s16(vget_high_s16(lo)),
                              vmovl_s16(vget_low_s16(hi)), vmovl_s16(vget_high_s16(hi))};
  for (int j = 0; j < 4; ++j) {
    float32x4_t v = vmulq_f32(d, vcvtq_f32_s32(parts[j]));
    if constexpr (kWithMin) v = vaddq_f32(v, m);
    vst1q_f32(dst + 4 * j, v);
  }
}

template <typename B>
void DequantizeBlocks(const uint8_t* src, float* dst, int64_t n) {
  for (int64_t b = 0; b < n / 32; ++b, src += B::kBytes, dst += 32) {
    const float32x4_t d = vdupq_n_f32(BlockScale(src));
    float32x4_t m = vdupq_n_f32(0.f);
    if constexpr (HasMin<B>) m = vdupq_n_f32(BlockMin(src));
    int8x16_t q[2];
    B::Quants(src, q);
    Store16<HasMin<B>>(q[0], d, m, dst);
    Store16<HasMin<B>>(q[1], d, m, dst + 16);
  }
}

// Columns k..k+3 of rows r..r+3 (row i at src + i * ld) stored as panel rows k..k+3, lanes
// r..r+3.
inline void Transpose4x4(const float* src, int64_t ld, float* dst) {
  const float32x4_t r0 = vld1q_f32(src), r1 = vld1q_f32(src + ld), r2 = vld1q_f32(src + 2 * ld),
                    r3 = vld1q_f32(src + 3 * ld);
  const float64x2_t t0 = vreinterpretq_f64_f32(vtrn1q_f32(r0, r1)),
                    t1 = vreinterpretq_f64_f32(vtrn2q_f32(r0, r1)),
                    t2 = vreinterpretq_f64_f32(vtrn1q_f32(r2, r3)),
                    t3 = vreinterpretq_f64_f32(vtrn2q_f32(r2, r3));
  vst1q_f32(dst + 0 * kPanelRows, vreinterpretq_f32_f64(vtrn1q_f64(t0, t2)));
  vst1q_f32(dst + 1 * kPanelRows, vreinterpretq_f32_f64(vtrn1q_f64(t1, t3)));
  vst1q_f32(dst + 2 * kPanelRows, vreinterpretq_f32_f64(vtrn2q_f64(t0, t2)));
  vst1q_f32(dst + 3 * kPanelRows, vreinterpretq_f32_f64(vtrn2q_f64(t1, t3)));
}

void PanelTransposeNeon(const float* rows, int64_t ld, int64_t kc, float* panel) {
  int64_t k = 0;
  for (; k + 4 <= kc; k += 4) {
    for (int64_t g = 0; g < kPanelRows; g += 4) {
      Transpose4x4(rows + g * ld + k, ld, panel + k * kPanelRows + g);
    }
  }
  for (; k < kc; ++k) {
    for (int64_t r = 0; r < kPanelRows; ++r) panel[k * kPanelRows + r] = rows[r * ld + k];
  }
}

}  // namespace

void FillNeonPackKernels(KernelTable* table) {
  auto slot = [&](DType t) -> DequantizeRowFn& {
    return table->dequantize_row[static_cast<size_t>(t)];
  };
  slot(DType::kF32) = &DequantizeF32;
  slot(DType::kF16) = &DequantizeFloats<WidenF16>;
  slot(DType::kBF16) = &DequantizeFloats<WidenBF16>;
  slot(DType::kQ8_0) = &DequantizeBlocks<BlockQ8_0>;
  slot(DType::kQ4_0) = &DequantizeBlocks<BlockQ4_0>;
  slot(DType::kQ5_0) = &DequantizeBlocks<BlockQ5_0>;
  slot(DType::kQ4_1) = &DequantizeBlocks<BlockQ4_1>;
  slot(DType::kQ5_1) = &DequantizeBlocks<BlockQ5_1>;
  table->panel_transpose = &PanelTransposeNeon;
}

}  // namespace gemma
