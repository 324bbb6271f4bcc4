// NEON kernels (baseline AArch64 SIMD, so every 64-bit ARM core runs them): float dots for
// F32/BF16/F16 weights, exact Q8_0/Q4_0 x f32 dots (quants widened to f32, as on AVX2), and the
// 16-row x 6-token panel GEMM for prefill. Tested against the scalar table under qemu-aarch64
// (tools/neon-test.sh).
#include <arm_neon.h>

#include <cstring>

#include "core/dtype.h"
#include "kernels/arm/neon_common.h"
#include "kernels/attention_heads.h"
#include "kernels/kernels.h"
#include "kernels/token_count.h"

namespace gemma {
namespace {

using namespace neon;

template <typename W>
void DotRowsFloat(const uint8_t* w, uint64_t row_bytes, int64_t n_rows, const void* xv, int64_t n,
                  float* y) {
  const auto* x = static_cast<const float*>(xv);
  for (int64_t r = 0; r < n_rows; ++r) {
    const auto* row =
        reinterpret_cast<const typename W::T*>(w + static_cast<uint64_t>(r) * row_bytes);
    float32x4_t a0 = vdupq_n_f32(0), a1 = a0, a2 = a0, a3 = a0;
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) {
      a0 = vfmaq_f32(a0, W::Load(row + i), vld1q_f32(x + i));
      a1 = vfmaq_f32(a1, W::Load(row + i + 4), vld1q_f32(x + i + 4));
      a2 = vfmaq_f32(a2, W::Load(row + i + 8), vld1q_f32(x + i + 8));
      a3 = vfmaq_f32(a3, W::Load(row + i + 12), vld1q_f32(x + i + 12));
    }
    for (; i + 4 <= n; i += 4) a0 = vfmaq_f32(a0, W::Load(row + i), vld1q_f32(x + i));
    float sum = vaddvq_f32(vaddq_f32(vaddq_f32(a0, a1), vaddq_f32(a2, a3)));
    for (; i < n; ++i) sum += W::Scalar(row + i) * x[i];
    y[r] = sum;
  }
}

// sum_i q[i] * x[i] over 16 quants, added to acc (q widened exactly to f32).
inline float32x4_t Dot16(int8x16_t q, const float* x, float32x4_t acc) {
  const int16x8_t lo = vmovl_s8(vget_low_s8(q)), hi = vmovl_s8(vget_high_s8(q));
  acc = vfmaq_f32(acc, vcvtq_f32_s32(vmovl_s16(vget_low_s16(lo))), vld1q_f32(x));
  acc = vfmaq_f32(acc, vcvtq_f32_s32(vmovl_s16(vget_high_s16(lo))), vld1q_f32(x + 4));
  acc = vfmaq_f32(acc, vcvtq_f32_s32(vmovl_s16(vget_low_s16(hi))), vld1q_f32(x + 8));
  return vfmaq_f32(acc, vcvtq_f32_s32(vmovl_s16(vget_high_s16(hi))), vld1q_f32(x + 12));
}

template <typename B>
void DotRowsQuant(const uint8_t* w, uint64_t row_bytes, int64_t n_rows, const void* xv, int64_t n,
                  float* y) {
  const auto* x = static_cast<const float*>(xv);
  const int64_t nb = n / 32;
  for (int64_t r = 0; r < n_rows; ++r) {
    const uint8_t* row = w + static_cast<uint64_t>(r) * row_bytes;
    float32x4_t acc = vdupq_n_f32(0);
    for (int64_t b = 0; b < nb; ++b) {
      const uint8_t* block = row + b * B::kBytes;
      int8x16_t q[2];
      B::Quants(block, q);
      float32x4_t s = Dot16(q[0], x + 32 * b, vdupq_n_f32(0));
      s = Dot16(q[1], x + 32 * b + 16, s);
      acc = vfmaq_n_f32(acc, s, BlockScale(block));
      if constexpr (HasMin<B>) {
        const float* xb = x + 32 * b;
        float32x4_t sum = vld1q_f32(xb);
        for (int i = 4; i < 32; i += 4) sum = vaddq_f32(sum, vld1q_f32(xb + i));
        acc = vfmaq_n_f32(acc, sum, BlockMin(block));
      }
    }
    y[r] = vaddvq_f32(acc);
  }
}

// Panel GEMM (PanelGemmFn): 16 rows as four vectors, up to six tokens: 24 accumulators.
template <int NT>
void PanelMicro(const float* panel, int64_t kc, const float* x, int64_t ldx, int64_t n_rows,
                float* y, int64_t ldy, bool accumulate) {
  float32x4_t acc[NT][4];
  for (int t = 0; t < NT; ++t) {
    for (int j = 0; j < 4; ++j) acc[t][j] = vdupq_n_f32(0);
  }
  for (int64_t k = 0; k < kc; ++k) {
    const float* p = panel + k * kPanelRows;
    const float32x4_t w0 = vld1q_f32(p), w1 = vld1q_f32(p + 4), w2 = vld1q_f32(p + 8),
                      w3 = vld1q_f32(p + 12);
    for (int t = 0; t < NT; ++t) {
      const float xv = x[t * ldx + k];
      acc[t][0] = vfmaq_n_f32(acc[t][0], w0, xv);
      acc[t][1] = vfmaq_n_f32(acc[t][1], w1, xv);
      acc[t][2] = vfmaq_n_f32(acc[t][2], w2, xv);
      acc[t][3] = vfmaq_n_f32(acc[t][3], w3, xv);
    }
  }
  for (int t = 0; t < NT; ++t) {
    float tmp[kPanelRows];
    for (int j = 0; j < 4; ++j) vst1q_f32(tmp + 4 * j, acc[t][j]);
    float* out = y + t * ldy;
    for (int64_t r = 0; r < n_rows; ++r) out[r] = accumulate ? out[r] + tmp[r] : tmp[r];
  }
}

void PanelGemmNeon(const float* panel, int64_t kc, const float* x, int64_t ldx, int64_t n_tokens,
                   int64_t n_rows, float* y, int64_t ldy, bool accumulate) {
  static_assert(kPanelRows == 16 && kPanelTokens == 6, "the micro-kernel is written for 16 x 6");
  ForTokenGroups<kPanelTokens>(n_tokens, [&]<int NT>(int64_t t0) {
    PanelMicro<NT>(panel, kc, x + t0 * ldx, ldx, n_rows, y + t0 * ldy, ldy, accumulate);
  });
}

// Attention over cached rows (KvScoresFn / KvAccumulateFn).
template <typename W>
void KvScores(const float* q, const void* kv, int64_t stride, int64_t n_keys, int64_t head_dim,
              float* scores) {
  const auto* k = static_cast<const typename W::T*>(kv);
  const int64_t vec_end = head_dim / 4 * 4;
  for (int64_t j = 0; j < n_keys; ++j) {
    const typename W::T* r = k + j * stride;
    float32x4_t a = vdupq_n_f32(0);
    for (int64_t i = 0; i < vec_end; i += 4) a = vfmaq_f32(a, vld1q_f32(q + i), W::Load(r + i));
    float s = vaddvq_f32(a);
    for (int64_t i = vec_end; i < head_dim; ++i) s += q[i] * W::Scalar(r + i);
    scores[j] = s;
  }
}

template <typename W>
void KvAccumulate(const float* p, const void* vv, int64_t stride, int64_t n_keys, int64_t head_dim,
                  float* out) {
  const auto* v = static_cast<const typename W::T*>(vv);
  int64_t i0 = 0;
  for (; i0 + 16 <= head_dim; i0 += 16) {
    float32x4_t o0 = vld1q_f32(out + i0), o1 = vld1q_f32(out + i0 + 4),
                o2 = vld1q_f32(out + i0 + 8), o3 = vld1q_f32(out + i0 + 12);
    for (int64_t j = 0; j < n_keys; ++j) {
      const typename W::T* r = v + j * stride + i0;
      o0 = vfmaq_n_f32(o0, W::Load(r), p[j]);
      o1 = vfmaq_n_f32(o1, W::Load(r + 4), p[j]);
      o2 = vfmaq_n_f32(o2, W::Load(r + 8), p[j]);
      o3 = vfmaq_n_f32(o3, W::Load(r + 12), p[j]);
    }
    vst1q_f32(out + i0, o0);
    vst1q_f32(out + i0 + 4, o1);
    vst1q_f32(out + i0 + 8, o2);
    vst1q_f32(out + i0 + 12, o3);
  }
  for (; i0 < head_dim; ++i0) {
    float o = out[i0];
    for (int64_t j = 0; j < n_keys; ++j) o += p[j] * W::Scalar(v + j * stride + i0);
    out[i0] = o;
  }
}

// A Q8_0 cache (head_dim and stride multiples of 32): each block's 32 products with the f32
// query summed, then scaled once; V blocks added in with p[j] times the block's scale.
inline void WidenBlockQ8(const uint8_t* block, float32x4_t f[8]) {
  int8x16_t q[2];
  BlockQ8_0::Quants(block, q);
  for (int h = 0; h < 2; ++h) {
    const int16x8_t lo = vmovl_s8(vget_low_s8(q[h])), hi = vmovl_s8(vget_high_s8(q[h]));
    f[4 * h + 0] = vcvtq_f32_s32(vmovl_s16(vget_low_s16(lo)));
    f[4 * h + 1] = vcvtq_f32_s32(vmovl_s16(vget_high_s16(lo)));
    f[4 * h + 2] = vcvtq_f32_s32(vmovl_s16(vget_low_s16(hi)));
    f[4 * h + 3] = vcvtq_f32_s32(vmovl_s16(vget_high_s16(hi)));
  }
}

void KvScoresQ8_0(const float* q, const void* kv, int64_t stride, int64_t n_keys, int64_t head_dim,
                  float* scores) {
  const int64_t row_bytes = stride / 32 * BlockQ8_0::kBytes;
  for (int64_t j = 0; j < n_keys; ++j) {
    const uint8_t* r = static_cast<const uint8_t*>(kv) + j * row_bytes;
    float32x4_t acc = vdupq_n_f32(0);
    for (int64_t b = 0; b < head_dim / 32; ++b) {
      const uint8_t* block = r + b * BlockQ8_0::kBytes;
      float32x4_t f[8];
      WidenBlockQ8(block, f);
      float32x4_t s = vdupq_n_f32(0);
      for (int u = 0; u < 8; ++u) s = vfmaq_f32(s, vld1q_f32(q + 32 * b + 4 * u), f[u]);
      acc = vfmaq_n_f32(acc, s, BlockScale(block));
    }
    scores[j] = vaddvq_f32(acc);
  }
}

void KvAccumulateQ8_0(const float* p, const void* vv, int64_t stride, int64_t n_keys,
                      int64_t head_dim, float* out) {
  const int64_t row_bytes = stride / 32 * BlockQ8_0::kBytes;
  for (int64_t b = 0; b < head_dim / 32; ++b) {
    float32x4_t o[8];
    for (int u = 0; u < 8; ++u) o[u] = vld1q_f32(out + 32 * b + 4 * u);
    for (int64_t j = 0; j < n_keys; ++j) {
      const uint8_t* block =
          static_cast<const uint8_t*>(vv) + j * row_bytes + b * BlockQ8_0::kBytes;
      float32x4_t f[8];
      WidenBlockQ8(block, f);
      const float pd = p[j] * BlockScale(block);
      for (int u = 0; u < 8; ++u) o[u] = vfmaq_n_f32(o[u], f[u], pd);
    }
    for (int u = 0; u < 8; ++u) vst1q_f32(out + 32 * b + 4 * u, o[u]);
  }
}

template <typename W>
void SetKvSlots(KernelTable* table, DType type) {
  table->kv_scores[static_cast<size_t>(type)] = &ScoresPerHead<&KvScores<W>>;
  table->kv_accumulate[static_cast<size_t>(type)] = &AccumulatePerHead<&KvAccumulate<W>>;
}

template <DotRowsFn Fn>
void SetSlot(KernelTable* table, DType type) {
  table->dot_rows[static_cast<size_t>(type)] = Fn;
  table->gemm_tile[static_cast<size_t>(type)] = nullptr;  // per-token dots below 8 tokens
  table->activation[static_cast<size_t>(type)] = ActivationType::kF32;
}

}  // namespace

void FillNeonKernels(KernelTable* table) {
  table->isa = Isa::kNeon;
  SetSlot<&DotRowsFloat<WidenF32>>(table, DType::kF32);
  SetSlot<&DotRowsFloat<WidenBF16>>(table, DType::kBF16);
  SetSlot<&DotRowsFloat<WidenF16>>(table, DType::kF16);
  SetSlot<&DotRowsQuant<BlockQ8_0>>(table, DType::kQ8_0);
  SetSlot<&DotRowsQuant<BlockQ4_0>>(table, DType::kQ4_0);
  SetSlot<&DotRowsQuant<BlockQ5_0>>(table, DType::kQ5_0);
  SetSlot<&DotRowsQuant<BlockQ4_1>>(table, DType::kQ4_1);
  SetSlot<&DotRowsQuant<BlockQ5_1>>(table, DType::kQ5_1);
  FillNeonKQuantKernels(table);
  FillNeonElementwiseKernels(table);
  table->panel_gemm = &PanelGemmNeon;
  FillNeonPackKernels(table);
  SetKvSlots<WidenF32>(table, DType::kF32);
  SetKvSlots<WidenF16>(table, DType::kF16);
  SetKvSlots<WidenBF16>(table, DType::kBF16);
  table->kv_scores[static_cast<size_t>(DType::kQ8_0)] = &ScoresPerHead<&KvScoresQ8_0>;
  table->kv_accumulate[static_cast<size_t>(DType::kQ8_0)] = &AccumulatePerHead<&KvAccumulateQ8_0>;
}

}  // namespace gemma
