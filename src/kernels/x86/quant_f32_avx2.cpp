// AVX2 dot products and prefill tiles for Q8_0 / Q4_0 weights against f32 activations: each
// block is widened to f32 and multiplied exactly, so results equal f32 math on the dequantized
// weights (the scalar oracle) up to summation order. This is the default; the int8-activation
// kernels (quant_dot_avx2.cpp) trade that exactness for fewer instructions.
#include <immintrin.h>

#include <algorithm>
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

inline float LoadF16(const uint8_t* p) {
  uint16_t h;
  std::memcpy(&h, p, 2);
  return _cvtsh_ss(h);
}

// The 32 weights of one block as four vectors of 8 f32 (unscaled quants).
struct Q8_0Block {
  static constexpr int kBytes = 34;
  static void Widen(const uint8_t* b, __m256 w[4]) {
    for (int i = 0; i < 4; ++i) {
      const __m128i q = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(b + 2 + 8 * i));
      w[i] = _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(q));
    }
  }
};
struct Q4_0Block {
  static constexpr int kBytes = 18;
  static void Widen(const uint8_t* b, __m256 w[4]) {
    const __m128i packed = _mm_loadu_si128(reinterpret_cast<const __m128i*>(b + 2));
    const __m128i mask = _mm_set1_epi8(0x0F), eight = _mm_set1_epi8(8);
    const __m128i lo = _mm_sub_epi8(_mm_and_si128(packed, mask), eight);  // elements 0-15
    const __m128i hi = _mm_sub_epi8(_mm_and_si128(_mm_srli_epi16(packed, 4), mask), eight);
    w[0] = _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(lo));
    w[1] = _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_srli_si128(lo, 8)));
    w[2] = _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(hi));
    w[3] = _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_srli_si128(hi, 8)));
  }
};

// sum_i w[i] * x[i] over one block, unscaled.
inline __m256 BlockDot(const __m256 w[4], const float* x) {
  __m256 s = _mm256_mul_ps(w[0], _mm256_loadu_ps(x));
  s = _mm256_fmadd_ps(w[1], _mm256_loadu_ps(x + 8), s);
  s = _mm256_fmadd_ps(w[2], _mm256_loadu_ps(x + 16), s);
  return _mm256_fmadd_ps(w[3], _mm256_loadu_ps(x + 24), s);
}

template <typename B>
void DotRows(const uint8_t* w, uint64_t row_bytes, int64_t n_rows, const void* xv, int64_t n,
             float* y) {
  const auto* x = static_cast<const float*>(xv);
  const int64_t nb = n / 32;
  for (int64_t r = 0; r < n_rows; ++r) {
    const uint8_t* row = w + static_cast<uint64_t>(r) * row_bytes;
    __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
    int64_t b = 0;
    for (; b + 2 <= nb; b += 2) {
      __m256 w0[4], w1[4];
      B::Widen(row + b * B::kBytes, w0);
      B::Widen(row + (b + 1) * B::kBytes, w1);
      acc0 = _mm256_fmadd_ps(_mm256_set1_ps(LoadF16(row + b * B::kBytes)), BlockDot(w0, x + 32 * b), acc0);
      acc1 = _mm256_fmadd_ps(_mm256_set1_ps(LoadF16(row + (b + 1) * B::kBytes)),
                             BlockDot(w1, x + 32 * (b + 1)), acc1);
    }
    for (; b < nb; ++b) {
      __m256 w0[4];
      B::Widen(row + b * B::kBytes, w0);
      acc0 = _mm256_fmadd_ps(_mm256_set1_ps(LoadF16(row + b * B::kBytes)), BlockDot(w0, x + 32 * b), acc0);
    }
    y[r] = HorizontalSum(_mm256_add_ps(acc0, acc1));
  }
}

// Prefill: widen each block once, use it for up to four tokens.
template <typename B, int NT>
void RowTokens(const uint8_t* row, const float* const* x, int64_t n, float* const* y) {
  __m256 acc[NT];
  for (int t = 0; t < NT; ++t) acc[t] = _mm256_setzero_ps();
  for (int64_t b = 0; b < n / 32; ++b) {
    __m256 w[4];
    B::Widen(row + b * B::kBytes, w);
    const __m256 d = _mm256_set1_ps(LoadF16(row + b * B::kBytes));
    for (int t = 0; t < NT; ++t) acc[t] = _mm256_fmadd_ps(d, BlockDot(w, x[t] + 32 * b), acc[t]);
  }
  for (int t = 0; t < NT; ++t) *y[t] = HorizontalSum(acc[t]);
}

template <typename B>
void Tile(const uint8_t* w, uint64_t row_bytes, int64_t n_rows, const void* x, int64_t x_stride,
          int64_t n_tokens, int64_t n, float* y, int64_t ldy) {
  constexpr int kTokens = 4;
  for (int64_t t0 = 0; t0 < n_tokens; t0 += kTokens) {
    const int nt = static_cast<int>(std::min<int64_t>(kTokens, n_tokens - t0));
    const float* xs[kTokens];
    for (int t = 0; t < nt; ++t) {
      xs[t] = reinterpret_cast<const float*>(static_cast<const uint8_t*>(x) + (t0 + t) * x_stride);
    }
    for (int64_t r = 0; r < n_rows; ++r) {
      float* ys[kTokens];
      for (int t = 0; t < nt; ++t) ys[t] = y + (t0 + t) * ldy + r;
      const uint8_t* row = w + static_cast<uint64_t>(r) * row_bytes;
      switch (nt) {
        case 1: RowTokens<B, 1>(row, xs, n, ys); break;
        case 2: RowTokens<B, 2>(row, xs, n, ys); break;
        case 3: RowTokens<B, 3>(row, xs, n, ys); break;
        default: RowTokens<B, 4>(row, xs, n, ys); break;
      }
    }
  }
}

}  // namespace

void FillAvx2QuantF32Kernels(KernelTable* table) {
  const auto q8 = static_cast<size_t>(DType::kQ8_0), q4 = static_cast<size_t>(DType::kQ4_0);
  table->dot_rows[q8] = &DotRows<Q8_0Block>;
  table->gemm_tile[q8] = &Tile<Q8_0Block>;
  table->activation[q8] = ActivationType::kF32;
  table->dot_rows[q4] = &DotRows<Q4_0Block>;
  table->gemm_tile[q4] = &Tile<Q4_0Block>;
  table->activation[q4] = ActivationType::kF32;
}

}  // namespace gemma
