// Building blocks shared by the AVX2 kernel files (each compiled with -mavx2 -mfma -mf16c; include
// only from those files).
#pragma once

#include <immintrin.h>

#include <algorithm>
#include <cstdint>
#include <cstring>

#include "core/dtype.h"
#include "core/quant/k_quants.h"
#include "kernels/kernels.h"

namespace gemma::avx2 {

inline float HorizontalSum(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

// Stores (or adds to) one token's 16 outputs of a 16-row tile (prefill panels); a partial
// panel writes only the first n_rows.
inline void StoreRows16(__m256 lo, __m256 hi, float* out, int64_t n_rows, bool accumulate) {
  if (n_rows == 16) {
    if (accumulate) {
      lo = _mm256_add_ps(lo, _mm256_loadu_ps(out));
      hi = _mm256_add_ps(hi, _mm256_loadu_ps(out + 8));
    }
    _mm256_storeu_ps(out, lo);
    _mm256_storeu_ps(out + 8, hi);
    return;
  }
  alignas(32) float tmp[16];
  _mm256_store_ps(tmp, lo);
  _mm256_store_ps(tmp + 8, hi);
  for (int64_t r = 0; r < n_rows; ++r) out[r] = accumulate ? out[r] + tmp[r] : tmp[r];
}

// Decode streams the weights from DRAM once per token. For the block-quantized types a software
// prefetch this far ahead keeps more misses in flight than the hardware prefetcher alone
// (kernels_bench, DRAM-sized product on both Zen 3 cores: Q4_0 ~16 -> ~24 GB/s, Q8_0 ~18 ->
// ~21, Q4_K ~11 -> ~13). The plain float kernels stream fast enough that it only costs them
// (F32 ~24 -> ~19 GB/s), so they do not use it. Prefetches never fault: running past the end of
// the weights is harmless.
inline constexpr int kPrefetchBytes = 4096;

// Prefetches the cache lines kPrefetchBytes ahead of [p, p + bytes).
template <int kBytes>
inline void PrefetchAhead(const void* p) {
  const char* ahead = static_cast<const char*>(p) + kPrefetchBytes;
  for (int off = 0; off < kBytes; off += 64) _mm_prefetch(ahead + off, _MM_HINT_T0);
}

// An f16 scale stored at an arbitrary (unaligned) address inside a block.
inline float LoadF16(const uint8_t* p) {
  uint16_t h;
  std::memcpy(&h, p, 2);
  return _cvtsh_ss(h);
}

// Plain float weight types: 8 weights widened to f32, and one for tails.
struct WidenF32 {
  using T = float;
  static __m256 Load(const float* p) { return _mm256_loadu_ps(p); }
  static float Scalar(const float* p) {
    float v;
    std::memcpy(&v, p, sizeof v);  // rows may sit at any byte address
    return v;
  }
};
struct WidenBF16 {
  using T = uint16_t;
  static __m256 Load(const uint16_t* p) {
    const __m128i h = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(h), 16));
  }
  static float Scalar(const uint16_t* p) {
    uint16_t h;
    std::memcpy(&h, p, sizeof h);
    return BF16ToF32(h);
  }
};
struct WidenF16 {
  using T = uint16_t;
  static __m256 Load(const uint16_t* p) {
    return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
  }
  static float Scalar(const uint16_t* p) {
    uint16_t h;
    std::memcpy(&h, p, sizeof h);
    return F16ToF32(h);
  }
};

// 32 nibbles at p as bytes: low nibbles are elements 0-15, high nibbles 16-31 (unsigned).
inline __m256i Nibbles32(const uint8_t* p) {
  const __m128i packed = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
  const __m256i both = _mm256_set_m128i(_mm_srli_epi16(packed, 4), packed);
  return _mm256_and_si256(both, _mm256_set1_epi8(0x0F));
}

// Block formats of 32 weights with an f16 scale first: the quants as 32 signed bytes.
struct BlockQ8_0 {
  static constexpr int kBytes = 34;
  static __m256i Quants(const uint8_t* b) {
    return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b + 2));
  }
};
struct BlockQ4_0 {
  static constexpr int kBytes = 18;
  static constexpr int kQuantsAt = 2;
  // Low nibbles are elements 0-15, high nibbles 16-31; values q - 8 in [-8, 7].
  static __m256i Quants(const uint8_t* b) {
    return _mm256_sub_epi8(Nibbles32(b + kQuantsAt), _mm256_set1_epi8(8));
  }
};

// The fifth bits of a Q5 block (a little-endian u32 at p, bit j for element j) as 0x10 in byte j.
inline __m256i FifthBits(const uint8_t* p) {
  uint32_t bits;
  std::memcpy(&bits, p, 4);
  // Byte j takes byte j / 8 of the word, then keeps bit j % 8.
  const __m256i spread =
      _mm256_shuffle_epi8(_mm256_set1_epi32(static_cast<int>(bits)),
                          _mm256_setr_epi8(0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2,
                                           2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3));
  const __m256i bit = _mm256_set1_epi64x(static_cast<int64_t>(0x8040201008040201ull));
  const __m256i set = _mm256_cmpeq_epi8(_mm256_and_si256(spread, bit), bit);
  return _mm256_and_si256(set, _mm256_set1_epi8(0x10));
}

// Q5_0 (llama.cpp's fallback for Q4_K rows that are not whole super-blocks, e.g. Gemma 3 1B's
// 1152-wide ones): f16 scale, fifth bits, nibbles; values q - 16 in [-16, 15].
struct BlockQ5_0 {
  static constexpr int kBytes = 22;
  static constexpr int kQuantsAt = 6;
  static __m256i Quants(const uint8_t* b) {
    return _mm256_sub_epi8(_mm256_or_si256(Nibbles32(b + kQuantsAt), FifthBits(b + 2)),
                           _mm256_set1_epi8(16));
  }
};

// Block formats with an f16 scale d, then an f16 minimum m (value = d * q + m): Quants are the
// unsigned q. Q4_1 (q in 0..15) and Q5_1 (0..31, llama.cpp's fallback for Q5_K).
struct BlockQ4_1 {
  static constexpr int kBytes = 20;
  static constexpr bool kHasMin = true;
  static __m256i Quants(const uint8_t* b) { return Nibbles32(b + 4); }
};
struct BlockQ5_1 {
  static constexpr int kBytes = 24;
  static constexpr bool kHasMin = true;
  static __m256i Quants(const uint8_t* b) {
    return _mm256_or_si256(Nibbles32(b + 8), FifthBits(b + 4));
  }
};
template <typename B>
concept HasMin = B::kHasMin;

// The f16 scales of two consecutive Q4_0 / Q5_0 blocks, as [first x4, second x4] in f32: the
// pair-of-blocks decode kernels hold block b in lanes 0-3 and block b + 1 in lanes 4-7.
template <typename B>
inline __m256 PairScales(const uint8_t* block) {
  uint16_t h0, h1;
  std::memcpy(&h0, block, 2);
  std::memcpy(&h1, block + B::kBytes, 2);
  const __m128i both = _mm_cvtsi32_si128(static_cast<int>(h0 | (static_cast<uint32_t>(h1) << 16)));
  const __m128i spread = _mm_setr_epi8(0, 1, 0, 1, 0, 1, 0, 1, 2, 3, 2, 3, 2, 3, 2, 3);
  return _mm256_cvtph_ps(_mm_shuffle_epi8(both, spread));
}

// The packed nibbles of two consecutive Q4_0 / Q5_0 blocks: block b's 16 bytes in the low 128
// bits, block b + 1's in the high 128 bits.
template <typename B>
inline __m256i PairNibbles(const uint8_t* block) {
  return _mm256_loadu2_m128i(reinterpret_cast<const __m128i*>(block + B::kBytes + B::kQuantsAt),
                             reinterpret_cast<const __m128i*>(block + B::kQuantsAt));
}

// Eight int32 partial sums of w[i] * x[i] over 32 signed bytes: |w| (unsigned) times x with w's
// sign, pairs summed by maddubs (|w| <= 128, |x| <= 127: no saturation), then madd.
inline __m256i DotBytes(__m256i w, __m256i x) {
  const __m256i pairs = _mm256_maddubs_epi16(_mm256_sign_epi8(w, w), _mm256_sign_epi8(x, w));
  return _mm256_madd_epi16(pairs, _mm256_set1_epi16(1));
}

// Unpacks the 12 bytes of Q4_K/Q5_K 6-bit scales and minimums (UnpackScaleMinK4, all eight at
// once): bytes 0-7 of the result are the scales, bytes 8-15 the minimums.
inline __m128i UnpackScaleMin8(const uint8_t* packed) {
  alignas(16) uint8_t out[16];
  UnpackScalesMinsK4(packed, out);
  return _mm_load_si128(reinterpret_cast<const __m128i*>(out));
}

// The prefill tile loop: tokens in groups of up to four, every row of the block per group.
// RowTokens::Run<NT>(row, x[NT], n, y[NT]) computes one row against NT tokens.
template <typename XT, typename RowTokens>
void TileOverTokens(const uint8_t* w, uint64_t row_bytes, int64_t n_rows, const void* x,
                    int64_t x_stride, int64_t n_tokens, int64_t n, float* y, int64_t ldy) {
  constexpr int kTokens = 4;
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
        case 1:
          RowTokens::template Run<1>(row, xs, n, ys);
          break;
        case 2:
          RowTokens::template Run<2>(row, xs, n, ys);
          break;
        case 3:
          RowTokens::template Run<3>(row, xs, n, ys);
          break;
        default:
          RowTokens::template Run<4>(row, xs, n, ys);
          break;
      }
    }
  }
}

}  // namespace gemma::avx2
