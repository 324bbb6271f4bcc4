// AVX2 integer dot products: Q8_0 / Q4_0 weights x int8 activations (ActBlockQ8). Per block of
// 32: |w| (unsigned) times sign-adjusted x with maddubs, pairs summed with madd, then one FMA of
// the block's two scales. Same integer math as the scalar references in dot_q8_scalar.cpp.
#include <immintrin.h>

#include <cstring>

#include "core/dtype.h"
#include "kernels/x86/avx2_kernels.h"

namespace gemma {
namespace {

inline float HorizontalSum(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

// Eight int32 partial sums of w[i] * x[i] for 32 signed bytes each.
inline __m256i DotBytes(__m256i w, __m256i x) {
  const __m256i abs_w = _mm256_sign_epi8(w, w);
  const __m256i signed_x = _mm256_sign_epi8(x, w);
  const __m256i pairs = _mm256_maddubs_epi16(abs_w, signed_x);  // |w| <= 127: no saturation
  return _mm256_madd_epi16(pairs, _mm256_set1_epi16(1));
}

inline float LoadF16(const uint8_t* p) {
  uint16_t h;
  std::memcpy(&h, p, 2);
  return _cvtsh_ss(h);
}

constexpr int kQ8_0Bytes = 34;
constexpr int kQ4_0Bytes = 18;

void DotRowsQ8_0(const uint8_t* w, uint64_t row_bytes, int64_t n_rows, const void* xv, int64_t n,
                 float* y) {
  const auto* x = static_cast<const ActBlockQ8*>(xv);
  const int64_t nb = n / 32;
  for (int64_t r = 0; r < n_rows; ++r) {
    const uint8_t* row = w + static_cast<uint64_t>(r) * row_bytes;
    __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
    int64_t b = 0;
    for (; b + 2 <= nb; b += 2) {
      const uint8_t* b0 = row + b * kQ8_0Bytes;
      const uint8_t* b1 = b0 + kQ8_0Bytes;
      const __m256i p0 = DotBytes(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(b0 + 2)),
                                  _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x[b].qs)));
      const __m256i p1 = DotBytes(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(b1 + 2)),
                                  _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x[b + 1].qs)));
      acc0 = _mm256_fmadd_ps(_mm256_set1_ps(LoadF16(b0) * x[b].d), _mm256_cvtepi32_ps(p0), acc0);
      acc1 = _mm256_fmadd_ps(_mm256_set1_ps(LoadF16(b1) * x[b + 1].d), _mm256_cvtepi32_ps(p1), acc1);
    }
    for (; b < nb; ++b) {
      const uint8_t* b0 = row + b * kQ8_0Bytes;
      const __m256i p0 = DotBytes(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(b0 + 2)),
                                  _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x[b].qs)));
      acc0 = _mm256_fmadd_ps(_mm256_set1_ps(LoadF16(b0) * x[b].d), _mm256_cvtepi32_ps(p0), acc0);
    }
    y[r] = HorizontalSum(_mm256_add_ps(acc0, acc1));
  }
}

// 16 bytes of nibbles -> 32 signed bytes in [-8, 7]: low nibbles are elements 0-15, high 16-31.
inline __m256i UnpackQ4_0(const uint8_t* qs) {
  const __m128i packed = _mm_loadu_si128(reinterpret_cast<const __m128i*>(qs));
  const __m256i both = _mm256_set_m128i(_mm_srli_epi16(packed, 4), packed);
  return _mm256_sub_epi8(_mm256_and_si256(both, _mm256_set1_epi8(0x0F)), _mm256_set1_epi8(8));
}

void DotRowsQ4_0(const uint8_t* w, uint64_t row_bytes, int64_t n_rows, const void* xv, int64_t n,
                 float* y) {
  const auto* x = static_cast<const ActBlockQ8*>(xv);
  const int64_t nb = n / 32;
  for (int64_t r = 0; r < n_rows; ++r) {
    const uint8_t* row = w + static_cast<uint64_t>(r) * row_bytes;
    __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
    int64_t b = 0;
    for (; b + 2 <= nb; b += 2) {
      const uint8_t* b0 = row + b * kQ4_0Bytes;
      const uint8_t* b1 = b0 + kQ4_0Bytes;
      const __m256i p0 = DotBytes(UnpackQ4_0(b0 + 2),
                                  _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x[b].qs)));
      const __m256i p1 = DotBytes(UnpackQ4_0(b1 + 2),
                                  _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x[b + 1].qs)));
      acc0 = _mm256_fmadd_ps(_mm256_set1_ps(LoadF16(b0) * x[b].d), _mm256_cvtepi32_ps(p0), acc0);
      acc1 = _mm256_fmadd_ps(_mm256_set1_ps(LoadF16(b1) * x[b + 1].d), _mm256_cvtepi32_ps(p1), acc1);
    }
    for (; b < nb; ++b) {
      const uint8_t* b0 = row + b * kQ4_0Bytes;
      const __m256i p0 = DotBytes(UnpackQ4_0(b0 + 2),
                                  _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x[b].qs)));
      acc0 = _mm256_fmadd_ps(_mm256_set1_ps(LoadF16(b0) * x[b].d), _mm256_cvtepi32_ps(p0), acc0);
    }
    y[r] = HorizontalSum(_mm256_add_ps(acc0, acc1));
  }
}

}  // namespace

void FillAvx2QuantKernels(KernelTable* table) {
  table->dot_rows[static_cast<size_t>(DType::kQ8_0)] = &DotRowsQ8_0;
  table->activation[static_cast<size_t>(DType::kQ8_0)] = ActivationType::kQ8;
  table->dot_rows[static_cast<size_t>(DType::kQ4_0)] = &DotRowsQ4_0;
  table->activation[static_cast<size_t>(DType::kQ4_0)] = ActivationType::kQ8;
}

}  // namespace gemma
