// AVX2 prefill tiles: each weight row is loaded (and unpacked or widened) once and multiplied
// with up to four tokens, instead of once per token. Same per-element math as the dot products
// in dot_avx2.cpp / quant_dot_avx2.cpp, so results match them up to summation order.
#include <immintrin.h>

#include <algorithm>
#include <cstring>

#include "core/dtype.h"
#include "kernels/x86/avx2_kernels.h"

namespace gemma {
namespace {

constexpr int kTokens = 4;

inline float HorizontalSum(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

// ---- plain float weights -------------------------------------------------------------------

struct WidenF32 {
  using T = float;
  static __m256 Load(const float* p) { return _mm256_loadu_ps(p); }
  static float Scalar(const float* p) { return *p; }
};
struct WidenBF16 {
  using T = uint16_t;
  static __m256 Load(const uint16_t* p) {
    const __m128i h = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(h), 16));
  }
  static float Scalar(const uint16_t* p) { return BF16ToF32(*p); }
};
struct WidenF16 {
  using T = uint16_t;
  static __m256 Load(const uint16_t* p) {
    return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
  }
  static float Scalar(const uint16_t* p) { return F16ToF32(*p); }
};

template <typename W, int NT>
void FloatRowTokens(const typename W::T* w, const float* const* x, int64_t n, float* const* y) {
  __m256 acc[NT][2];
  for (int t = 0; t < NT; ++t) acc[t][0] = acc[t][1] = _mm256_setzero_ps();
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const __m256 w0 = W::Load(w + i), w1 = W::Load(w + i + 8);
    for (int t = 0; t < NT; ++t) {
      acc[t][0] = _mm256_fmadd_ps(w0, _mm256_loadu_ps(x[t] + i), acc[t][0]);
      acc[t][1] = _mm256_fmadd_ps(w1, _mm256_loadu_ps(x[t] + i + 8), acc[t][1]);
    }
  }
  for (; i + 8 <= n; i += 8) {
    const __m256 w0 = W::Load(w + i);
    for (int t = 0; t < NT; ++t) acc[t][0] = _mm256_fmadd_ps(w0, _mm256_loadu_ps(x[t] + i), acc[t][0]);
  }
  for (int t = 0; t < NT; ++t) {
    float s = HorizontalSum(_mm256_add_ps(acc[t][0], acc[t][1]));
    for (int64_t j = i; j < n; ++j) s += W::Scalar(w + j) * x[t][j];
    *y[t] = s;
  }
}

// ---- int8 weights x int8 activations -------------------------------------------------------

inline __m256i DotBytes(__m256i abs_w, __m256i w, __m256i x) {
  const __m256i pairs = _mm256_maddubs_epi16(abs_w, _mm256_sign_epi8(x, w));
  return _mm256_madd_epi16(pairs, _mm256_set1_epi16(1));
}

inline float LoadF16(const uint8_t* p) {
  uint16_t h;
  std::memcpy(&h, p, 2);
  return _cvtsh_ss(h);
}

struct UnpackQ8_0 {
  static constexpr int kBytes = 34;
  static __m256i Quants(const uint8_t* b) {
    return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b + 2));
  }
};
struct UnpackQ4_0 {
  static constexpr int kBytes = 18;
  static __m256i Quants(const uint8_t* b) {
    const __m128i packed = _mm_loadu_si128(reinterpret_cast<const __m128i*>(b + 2));
    const __m256i both = _mm256_set_m128i(_mm_srli_epi16(packed, 4), packed);
    return _mm256_sub_epi8(_mm256_and_si256(both, _mm256_set1_epi8(0x0F)), _mm256_set1_epi8(8));
  }
};

template <typename U, int NT>
void QuantRowTokens(const uint8_t* row, const ActBlockQ8* const* x, int64_t n, float* const* y) {
  __m256 acc[NT];
  for (int t = 0; t < NT; ++t) acc[t] = _mm256_setzero_ps();
  for (int64_t b = 0; b < n / 32; ++b) {
    const uint8_t* blk = row + b * U::kBytes;
    const __m256i wq = U::Quants(blk);
    const __m256i abs_w = _mm256_sign_epi8(wq, wq);
    const float dw = LoadF16(blk);
    for (int t = 0; t < NT; ++t) {
      const ActBlockQ8& xb = x[t][b];
      const __m256i p = DotBytes(abs_w, wq, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(xb.qs)));
      acc[t] = _mm256_fmadd_ps(_mm256_set1_ps(dw * xb.d), _mm256_cvtepi32_ps(p), acc[t]);
    }
  }
  for (int t = 0; t < NT; ++t) *y[t] = HorizontalSum(acc[t]);
}

// ---- the tile loop: groups of up to four tokens, every row of the block per group ----------

template <typename XT, void (*F1)(const uint8_t*, const XT* const*, int64_t, float* const*),
          void (*F2)(const uint8_t*, const XT* const*, int64_t, float* const*),
          void (*F3)(const uint8_t*, const XT* const*, int64_t, float* const*),
          void (*F4)(const uint8_t*, const XT* const*, int64_t, float* const*)>
void Tile(const uint8_t* w, uint64_t row_bytes, int64_t n_rows, const void* x, int64_t x_stride,
          int64_t n_tokens, int64_t n, float* y, int64_t ldy) {
  for (int64_t t0 = 0; t0 < n_tokens; t0 += kTokens) {
    const int nt = static_cast<int>(std::min<int64_t>(kTokens, n_tokens - t0));
    const XT* xs[kTokens];
    for (int t = 0; t < nt; ++t) {
      xs[t] = reinterpret_cast<const XT*>(static_cast<const uint8_t*>(x) + (t0 + t) * x_stride);
    }
    for (int64_t r = 0; r < n_rows; ++r) {
      float* ys[kTokens];
      for (int t = 0; t < nt; ++t) ys[t] = y + (t0 + t) * ldy + r;
      const uint8_t* row = w + static_cast<uint64_t>(r) * row_bytes;
      switch (nt) {
        case 1: F1(row, xs, n, ys); break;
        case 2: F2(row, xs, n, ys); break;
        case 3: F3(row, xs, n, ys); break;
        default: F4(row, xs, n, ys); break;
      }
    }
  }
}

template <typename W, int NT>
void FloatRow(const uint8_t* row, const float* const* x, int64_t n, float* const* y) {
  FloatRowTokens<W, NT>(reinterpret_cast<const typename W::T*>(row), x, n, y);
}

template <typename W>
constexpr GemmTileFn kFloatTile =
    &Tile<float, FloatRow<W, 1>, FloatRow<W, 2>, FloatRow<W, 3>, FloatRow<W, 4>>;
template <typename U>
constexpr GemmTileFn kQuantTile = &Tile<ActBlockQ8, QuantRowTokens<U, 1>, QuantRowTokens<U, 2>,
                                        QuantRowTokens<U, 3>, QuantRowTokens<U, 4>>;

}  // namespace

void FillAvx2GemmKernels(KernelTable* table) {
  table->gemm_tile[static_cast<size_t>(DType::kF32)] = kFloatTile<WidenF32>;
  table->gemm_tile[static_cast<size_t>(DType::kBF16)] = kFloatTile<WidenBF16>;
  table->gemm_tile[static_cast<size_t>(DType::kF16)] = kFloatTile<WidenF16>;
  if (table->activation[static_cast<size_t>(DType::kQ8_0)] == ActivationType::kQ8) {
    table->gemm_tile[static_cast<size_t>(DType::kQ8_0)] = kQuantTile<UnpackQ8_0>;
  }
  if (table->activation[static_cast<size_t>(DType::kQ4_0)] == ActivationType::kQ8) {
    table->gemm_tile[static_cast<size_t>(DType::kQ4_0)] = kQuantTile<UnpackQ4_0>;
  }
}

}  // namespace gemma
