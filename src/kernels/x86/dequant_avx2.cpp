// AVX2 panel packing for prefill (see DequantizeRowFn / PanelTransposeFn): row dequantizers for
// the plain float types, Q8_0 / Q4_0 / Q5_0 / Q4_1 / Q5_1 and Q4_K / Q5_K / Q6_K (each value is
// the same f32 operations as the scalar dequantizer's, so panels are bit-identical), and the 16-row
// transpose done as 8 x 8 register transposes. Scalar packing cost about a third of the prefill
// GEMM's time.
#include "core/quant/k_quants.h"
#include "kernels/x86/avx2_common.h"
#include "kernels/x86/avx2_kernels.h"

namespace gemma {
namespace {

using namespace avx2;

template <typename Widen>
void DequantizeFloats(const uint8_t* src, float* dst, int64_t n) {
  const auto* p = reinterpret_cast<const typename Widen::T*>(src);
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) _mm256_storeu_ps(dst + i, Widen::Load(p + i));
  for (; i < n; ++i) dst[i] = Widen::Scalar(p + i);
}

void DequantizeF32(const uint8_t* src, float* dst, int64_t n) {
  std::memcpy(dst, src, static_cast<size_t>(n) * sizeof(float));
}

// The 32 quants of a block times its f16 scale, plus its f16 minimum for Q4_1 / Q5_1 (a product,
// then a sum, as the scalar dequantizers), as four stores of eight f32. Their unsigned quants
// (0..31) widen as signed bytes unchanged.
template <typename B>
void DequantizeBlocks(const uint8_t* src, float* dst, int64_t n) {
  for (int64_t b = 0; b < n / 32; ++b, src += B::kBytes, dst += 32) {
    const __m256 d = _mm256_set1_ps(LoadF16(src));
    __m256 m = _mm256_setzero_ps();
    if constexpr (HasMin<B>) m = _mm256_set1_ps(LoadF16(src + 2));
    const __m256i q = B::Quants(src);
    const __m128i lo = _mm256_castsi256_si128(q), hi = _mm256_extracti128_si256(q, 1);
    const __m128i parts[4] = {lo, _mm_srli_si128(lo, 8), hi, _mm_srli_si128(hi, 8)};
    for (int j = 0; j < 4; ++j) {
      __m256 v = _mm256_mul_ps(d, _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(parts[j])));
      if constexpr (HasMin<B>) v = _mm256_add_ps(v, m);
      _mm256_storeu_ps(dst + 8 * j, v);
    }
  }
}

// K-quants, 256 elements per block, with the scalar dequantizers' exact operation order
// (k_quants.cpp): Q4_K/Q5_K d1 * q - m1 (a product, then a difference: no FMA), Q6_K
// (d * sc) * q.
inline __m256i Bytes8(const uint8_t* p) {
  return _mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(p)));
}
inline void StoreAffine(float* dst, __m256i q, float scale, float min) {
  const __m256 v = _mm256_mul_ps(_mm256_set1_ps(scale), _mm256_cvtepi32_ps(q));
  _mm256_storeu_ps(dst, _mm256_sub_ps(v, _mm256_set1_ps(min)));
}

// Q4_K and Q5_K (kFifthBit): 64 elements per chunk, low nibbles then high nibbles.
template <typename Block, bool kFifthBit>
void DequantizeQ4KQ5K(const uint8_t* src, float* dst, int64_t n) {
  const __m256i low4 = _mm256_set1_epi32(0x0F);
  for (int64_t b = 0; b < n / 256; ++b, src += sizeof(Block), dst += 256) {
    Block blk;
    std::memcpy(&blk, src, sizeof(Block));
    const float d = F16ToF32(blk.d), dmin = F16ToF32(blk.dmin);
    for (int chunk = 0; chunk < 4; ++chunk) {
      uint8_t sc, m;
      UnpackScaleMinK4(2 * chunk, blk.scales, &sc, &m);
      const float d1 = d * sc, m1 = dmin * m;
      UnpackScaleMinK4(2 * chunk + 1, blk.scales, &sc, &m);
      const float d2 = d * sc, m2 = dmin * m;
      const uint8_t* q = blk.qs + 32 * chunk;
      float* out = dst + 64 * chunk;
      for (int l = 0; l < 32; l += 8) {
        const __m256i bytes = Bytes8(q + l);
        __m256i lo = _mm256_and_si256(bytes, low4), hi = _mm256_srli_epi32(bytes, 4);
        if constexpr (kFifthBit) {
          const __m256i h = Bytes8(blk.qh + l);
          const __m256i b1 = _mm256_set1_epi32(1 << (2 * chunk)), b2 = _mm256_slli_epi32(b1, 1);
          // 16 where the chunk's bit is set: (h & bit) == bit gives all-ones, masked to 16.
          const __m256i sixteen = _mm256_set1_epi32(16);
          lo = _mm256_add_epi32(
              lo, _mm256_and_si256(_mm256_cmpeq_epi32(_mm256_and_si256(h, b1), b1), sixteen));
          hi = _mm256_add_epi32(
              hi, _mm256_and_si256(_mm256_cmpeq_epi32(_mm256_and_si256(h, b2), b2), sixteen));
        }
        StoreAffine(out + l, lo, d1, m1);
        StoreAffine(out + 32 + l, hi, d2, m2);
      }
    }
  }
}

void DequantizeQ6K(const uint8_t* src, float* dst, int64_t n) {
  const __m256i low4 = _mm256_set1_epi32(0x0F), low2 = _mm256_set1_epi32(3),
                bias = _mm256_set1_epi32(32);
  for (int64_t b = 0; b < n / 256; ++b, src += sizeof(QuantBlockQ6_K), dst += 256) {
    QuantBlockQ6_K blk;
    std::memcpy(&blk, src, sizeof(blk));
    const float d = F16ToF32(blk.d);
    for (int half = 0; half < 2; ++half) {
      const uint8_t* ql = blk.ql + 64 * half;
      const uint8_t* qh = blk.qh + 32 * half;
      const int8_t* sc = blk.scales + 8 * half;
      float* out = dst + 128 * half;
      for (int l = 0; l < 32; l += 8) {
        const int is = l / 16;
        const __m256i a = Bytes8(ql + l), c = Bytes8(ql + l + 32), h = Bytes8(qh + l);
        const __m256i q[4] = {
            _mm256_or_si256(_mm256_and_si256(a, low4),
                            _mm256_slli_epi32(_mm256_and_si256(h, low2), 4)),
            _mm256_or_si256(_mm256_and_si256(c, low4),
                            _mm256_slli_epi32(_mm256_and_si256(_mm256_srli_epi32(h, 2), low2), 4)),
            _mm256_or_si256(_mm256_srli_epi32(a, 4),
                            _mm256_slli_epi32(_mm256_and_si256(_mm256_srli_epi32(h, 4), low2), 4)),
            _mm256_or_si256(_mm256_srli_epi32(c, 4),
                            _mm256_slli_epi32(_mm256_srli_epi32(h, 6), 4))};
        for (int j = 0; j < 4; ++j) {
          const float scale = d * static_cast<float>(sc[is + 2 * j]);
          const __m256 v = _mm256_cvtepi32_ps(_mm256_sub_epi32(q[j], bias));
          _mm256_storeu_ps(out + 32 * j + l, _mm256_mul_ps(_mm256_set1_ps(scale), v));
        }
      }
    }
  }
}

// Columns k..k+7 of rows r..r+7 (row i at src + i * ld) stored as panel rows k..k+7, lanes r..r+7.
inline void Transpose8x8(const float* src, int64_t ld, float* dst) {
  const __m256 r0 = _mm256_loadu_ps(src), r1 = _mm256_loadu_ps(src + ld),
               r2 = _mm256_loadu_ps(src + 2 * ld), r3 = _mm256_loadu_ps(src + 3 * ld),
               r4 = _mm256_loadu_ps(src + 4 * ld), r5 = _mm256_loadu_ps(src + 5 * ld),
               r6 = _mm256_loadu_ps(src + 6 * ld), r7 = _mm256_loadu_ps(src + 7 * ld);
  const __m256 t0 = _mm256_unpacklo_ps(r0, r1), t1 = _mm256_unpackhi_ps(r0, r1),
               t2 = _mm256_unpacklo_ps(r2, r3), t3 = _mm256_unpackhi_ps(r2, r3),
               t4 = _mm256_unpacklo_ps(r4, r5), t5 = _mm256_unpackhi_ps(r4, r5),
               t6 = _mm256_unpacklo_ps(r6, r7), t7 = _mm256_unpackhi_ps(r6, r7);
  const __m256 u0 = _mm256_shuffle_ps(t0, t2, 0x44), u1 = _mm256_shuffle_ps(t0, t2, 0xEE),
               u2 = _mm256_shuffle_ps(t1, t3, 0x44), u3 = _mm256_shuffle_ps(t1, t3, 0xEE),
               u4 = _mm256_shuffle_ps(t4, t6, 0x44), u5 = _mm256_shuffle_ps(t4, t6, 0xEE),
               u6 = _mm256_shuffle_ps(t5, t7, 0x44), u7 = _mm256_shuffle_ps(t5, t7, 0xEE);
  _mm256_storeu_ps(dst + 0 * kPanelRows, _mm256_permute2f128_ps(u0, u4, 0x20));
  _mm256_storeu_ps(dst + 1 * kPanelRows, _mm256_permute2f128_ps(u1, u5, 0x20));
  _mm256_storeu_ps(dst + 2 * kPanelRows, _mm256_permute2f128_ps(u2, u6, 0x20));
  _mm256_storeu_ps(dst + 3 * kPanelRows, _mm256_permute2f128_ps(u3, u7, 0x20));
  _mm256_storeu_ps(dst + 4 * kPanelRows, _mm256_permute2f128_ps(u0, u4, 0x31));
  _mm256_storeu_ps(dst + 5 * kPanelRows, _mm256_permute2f128_ps(u1, u5, 0x31));
  _mm256_storeu_ps(dst + 6 * kPanelRows, _mm256_permute2f128_ps(u2, u6, 0x31));
  _mm256_storeu_ps(dst + 7 * kPanelRows, _mm256_permute2f128_ps(u3, u7, 0x31));
}

static_assert(kPanelRows == 16, "two 8-row halves");

void PanelTransposeAvx2(const float* rows, int64_t ld, int64_t kc, float* panel) {
  int64_t k = 0;
  for (; k + 8 <= kc; k += 8) {
    Transpose8x8(rows + k, ld, panel + k * kPanelRows);
    Transpose8x8(rows + 8 * ld + k, ld, panel + k * kPanelRows + 8);
  }
  for (; k < kc; ++k) {
    for (int64_t r = 0; r < kPanelRows; ++r) panel[k * kPanelRows + r] = rows[r * ld + k];
  }
}

}  // namespace

void FillAvx2PackKernels(KernelTable* table) {
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
  slot(DType::kQ4_K) = &DequantizeQ4KQ5K<QuantBlockQ4_K, false>;
  slot(DType::kQ5_K) = &DequantizeQ4KQ5K<QuantBlockQ5_K, true>;
  slot(DType::kQ6_K) = &DequantizeQ6K;
  table->panel_transpose = &PanelTransposeAvx2;
}

}  // namespace gemma
