// AVX2 decode dots for the K-quant weight types (Q2_K..Q6_K) against f32 activations. As for
// Q8_0/Q4_0 (quant_f32_avx2.cpp), the integer quants and the integer sub-block scales/minimums
// are widened exactly to f32, so results equal f32 math on the dequantized weights up to
// summation order. Per sub-block we form sum q*x and scale it once; the minimum terms of
// Q2_K/Q4_K/Q5_K use sums of x per sub-block, computed once per call (x is shared by all rows).
#include <vector>

#include "kernels/x86/avx2_common.h"
#include "kernels/x86/avx2_kernels.h"

namespace gemma {
namespace {

using namespace avx2;

// Eight bytes zero-extended to eight int32 lanes (any alignment).
inline __m256i Load8(const uint8_t* p) {
  return _mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(p)));
}
inline __m256 ToF32(__m256i v) {
  return _mm256_cvtepi32_ps(v);
}
inline __m256 X(const float* p) {
  return _mm256_loadu_ps(p);
}
inline __m256i Set(int v) {
  return _mm256_set1_epi32(v);
}

// Sixteen Q3_K scales (UnpackScaleQ3_K, all at once) as bytes still offset by 32.
inline __m128i UnpackScalesQ3K(const uint8_t* packed) {
  constexpr uint32_t kLow4 = 0x0f0f0f0f, kLow2 = 0x03030303;
  uint32_t a[4];
  std::memcpy(a, packed, 12);
  const uint32_t hi = a[2];
  a[2] = ((a[0] >> 4) & kLow4) | (((hi >> 4) & kLow2) << 4);
  a[3] = ((a[1] >> 4) & kLow4) | (((hi >> 6) & kLow2) << 4);
  a[0] = (a[0] & kLow4) | ((hi & kLow2) << 4);
  a[1] = (a[1] & kLow4) | (((hi >> 2) & kLow2) << 4);
  return _mm_loadu_si128(reinterpret_cast<const __m128i*>(a));
}

// scale * 16 unsigned bytes as two vectors of eight f32, stored to out[0..15].
inline void StoreScaled16(__m256 scale, __m128i bytes, float* out) {
  _mm256_storeu_ps(out, _mm256_mul_ps(scale, ToF32(_mm256_cvtepu8_epi32(bytes))));
  _mm256_storeu_ps(out + 8,
                   _mm256_mul_ps(scale, ToF32(_mm256_cvtepu8_epi32(_mm_srli_si128(bytes, 8)))));
}

// Each kernel: kBytes per 256-element block, kSumGroup (elements per entry of the x sums it
// needs, 0 for none) and Row(row, x, sums, blocks) = the dot of one row.
struct KernelQ4K {
  static constexpr int kBytes = 144;
  static constexpr int kSumGroup = 32;
  static float Row(const uint8_t* row, const float* x, const float* sums, int64_t nb) {
    __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps(), acc_min = _mm256_setzero_ps();
    const __m256i low4 = Set(0x0F);
    for (int64_t b = 0; b < nb; ++b) {
      const uint8_t* blk = row + b * kBytes;
      PrefetchAhead<kBytes>(blk);
      const float* xb = x + 256 * b;
      const __m128i sm = UnpackScaleMin8(blk + 4);
      alignas(32) float sc[8];
      _mm256_store_ps(sc,
                      _mm256_mul_ps(_mm256_set1_ps(LoadF16(blk)), ToF32(_mm256_cvtepu8_epi32(sm))));
      const __m256 mins = ToF32(_mm256_cvtepu8_epi32(_mm_srli_si128(sm, 8)));
      acc_min = _mm256_fmadd_ps(_mm256_mul_ps(_mm256_set1_ps(LoadF16(blk + 2)), mins),
                                _mm256_loadu_ps(sums + 8 * b), acc_min);
      const uint8_t* qs = blk + 16;
      for (int c = 0; c < 4; ++c) {  // 64 elements: low nibbles of 32 bytes, then high nibbles
        const uint8_t* q = qs + 32 * c;
        const float* xc = xb + 64 * c;
        __m256i v = Load8(q);
        __m256 lo = _mm256_mul_ps(ToF32(_mm256_and_si256(v, low4)), X(xc));
        __m256 hi = _mm256_mul_ps(ToF32(_mm256_srli_epi32(v, 4)), X(xc + 32));
        for (int g = 1; g < 4; ++g) {
          v = Load8(q + 8 * g);
          lo = _mm256_fmadd_ps(ToF32(_mm256_and_si256(v, low4)), X(xc + 8 * g), lo);
          hi = _mm256_fmadd_ps(ToF32(_mm256_srli_epi32(v, 4)), X(xc + 32 + 8 * g), hi);
        }
        acc0 = _mm256_fmadd_ps(_mm256_set1_ps(sc[2 * c]), lo, acc0);
        acc1 = _mm256_fmadd_ps(_mm256_set1_ps(sc[2 * c + 1]), hi, acc1);
      }
    }
    return HorizontalSum(_mm256_add_ps(acc0, acc1)) - HorizontalSum(acc_min);
  }
};

struct KernelQ5K {
  static constexpr int kBytes = 176;
  static constexpr int kSumGroup = 32;
  static float Row(const uint8_t* row, const float* x, const float* sums, int64_t nb) {
    __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps(), acc_min = _mm256_setzero_ps();
    const __m256i low4 = Set(0x0F), one = Set(1), two = Set(2);
    for (int64_t b = 0; b < nb; ++b) {
      const uint8_t* blk = row + b * kBytes;
      PrefetchAhead<kBytes>(blk);
      const float* xb = x + 256 * b;
      const __m128i sm = UnpackScaleMin8(blk + 4);
      alignas(32) float sc[8];
      _mm256_store_ps(sc,
                      _mm256_mul_ps(_mm256_set1_ps(LoadF16(blk)), ToF32(_mm256_cvtepu8_epi32(sm))));
      const __m256 mins = ToF32(_mm256_cvtepu8_epi32(_mm_srli_si128(sm, 8)));
      acc_min = _mm256_fmadd_ps(_mm256_mul_ps(_mm256_set1_ps(LoadF16(blk + 2)), mins),
                                _mm256_loadu_ps(sums + 8 * b), acc_min);
      // The fifth bits: bit 2c of qh[l] for chunk c's low nibbles, bit 2c + 1 for its high
      // ones; shifted down by two per chunk.
      __m256i qh[4];
      for (int g = 0; g < 4; ++g) qh[g] = Load8(blk + 16 + 8 * g);
      const uint8_t* qs = blk + 48;
      for (int c = 0; c < 4; ++c) {
        const uint8_t* q = qs + 32 * c;
        const float* xc = xb + 64 * c;
        __m256 lo = _mm256_setzero_ps(), hi = _mm256_setzero_ps();
        for (int g = 0; g < 4; ++g) {
          const __m256i v = Load8(q + 8 * g);
          const __m256i l5 = _mm256_or_si256(_mm256_and_si256(v, low4),
                                             _mm256_slli_epi32(_mm256_and_si256(qh[g], one), 4));
          const __m256i h5 = _mm256_or_si256(_mm256_srli_epi32(v, 4),
                                             _mm256_slli_epi32(_mm256_and_si256(qh[g], two), 3));
          qh[g] = _mm256_srli_epi32(qh[g], 2);
          lo = _mm256_fmadd_ps(ToF32(l5), X(xc + 8 * g), lo);
          hi = _mm256_fmadd_ps(ToF32(h5), X(xc + 32 + 8 * g), hi);
        }
        acc0 = _mm256_fmadd_ps(_mm256_set1_ps(sc[2 * c]), lo, acc0);
        acc1 = _mm256_fmadd_ps(_mm256_set1_ps(sc[2 * c + 1]), hi, acc1);
      }
    }
    return HorizontalSum(_mm256_add_ps(acc0, acc1)) - HorizontalSum(acc_min);
  }
};

struct KernelQ6K {
  static constexpr int kBytes = 210;
  static constexpr int kSumGroup = 0;  // the -32 offset is applied to the integers
  static float Row(const uint8_t* row, const float* x, const float*, int64_t nb) {
    __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
    const __m256i low4 = Set(0x0F), bits45 = Set(0x30), off = Set(32);
    for (int64_t b = 0; b < nb; ++b) {
      const uint8_t* blk = row + b * kBytes;
      PrefetchAhead<kBytes>(blk);
      const __m128i s8 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(blk + 192));
      const __m256 d = _mm256_set1_ps(LoadF16(blk + 208));
      alignas(32) float sc[16];
      _mm256_store_ps(sc, _mm256_mul_ps(d, ToF32(_mm256_cvtepi8_epi32(s8))));
      _mm256_store_ps(sc + 8, _mm256_mul_ps(d, ToF32(_mm256_cvtepi8_epi32(_mm_srli_si128(s8, 8)))));
      for (int h = 0; h < 2; ++h) {  // 128 elements from ql[64], qh[32], scales[8]
        const uint8_t* ql = blk + 64 * h;
        const uint8_t* qhp = blk + 128 + 32 * h;
        const float* xh = x + 256 * b + 128 * h;
        const float* sh = sc + 8 * h;
        for (int k = 0; k < 2; ++k) {  // l in [16k, 16k + 16): sub-blocks k, k+2, k+4, k+6
          __m256 s[4] = {_mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps(),
                         _mm256_setzero_ps()};
          for (int g = 2 * k; g < 2 * k + 2; ++g) {
            const __m256i a = Load8(ql + 8 * g), c = Load8(ql + 32 + 8 * g);
            const __m256i hb = Load8(qhp + 8 * g);
            // (qh >> 2j & 3) << 4 for the four 2-bit fields, then minus 32.
            const __m256i q1 = _mm256_or_si256(_mm256_and_si256(a, low4),
                                               _mm256_and_si256(_mm256_slli_epi32(hb, 4), bits45));
            const __m256i q2 = _mm256_or_si256(_mm256_and_si256(c, low4),
                                               _mm256_and_si256(_mm256_slli_epi32(hb, 2), bits45));
            const __m256i q3 =
                _mm256_or_si256(_mm256_srli_epi32(a, 4), _mm256_and_si256(hb, bits45));
            const __m256i q4 = _mm256_or_si256(_mm256_srli_epi32(c, 4),
                                               _mm256_and_si256(_mm256_srli_epi32(hb, 2), bits45));
            const int l = 8 * g;
            s[0] = _mm256_fmadd_ps(ToF32(_mm256_sub_epi32(q1, off)), X(xh + l), s[0]);
            s[1] = _mm256_fmadd_ps(ToF32(_mm256_sub_epi32(q2, off)), X(xh + 32 + l), s[1]);
            s[2] = _mm256_fmadd_ps(ToF32(_mm256_sub_epi32(q3, off)), X(xh + 64 + l), s[2]);
            s[3] = _mm256_fmadd_ps(ToF32(_mm256_sub_epi32(q4, off)), X(xh + 96 + l), s[3]);
          }
          acc0 = _mm256_fmadd_ps(_mm256_set1_ps(sh[k]), s[0], acc0);
          acc1 = _mm256_fmadd_ps(_mm256_set1_ps(sh[k + 2]), s[1], acc1);
          acc0 = _mm256_fmadd_ps(_mm256_set1_ps(sh[k + 4]), s[2], acc0);
          acc1 = _mm256_fmadd_ps(_mm256_set1_ps(sh[k + 6]), s[3], acc1);
        }
      }
    }
    return HorizontalSum(_mm256_add_ps(acc0, acc1));
  }
};

struct KernelQ2K {
  static constexpr int kBytes = 84;
  static constexpr int kSumGroup = 16;
  static float Row(const uint8_t* row, const float* x, const float* sums, int64_t nb) {
    __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps(), acc_min = _mm256_setzero_ps();
    const __m256i three = Set(3);
    for (int64_t b = 0; b < nb; ++b) {
      const uint8_t* blk = row + b * kBytes;
      PrefetchAhead<kBytes>(blk);
      const __m128i packed = _mm_loadu_si128(reinterpret_cast<const __m128i*>(blk));
      const __m128i nib = _mm_set1_epi8(0x0F);
      alignas(32) float sc[16];
      StoreScaled16(_mm256_set1_ps(LoadF16(blk + 80)), _mm_and_si128(packed, nib), sc);
      const __m128i mins = _mm_and_si128(_mm_srli_epi16(packed, 4), nib);
      const __m256 dmin = _mm256_set1_ps(LoadF16(blk + 82));
      acc_min = _mm256_fmadd_ps(_mm256_mul_ps(dmin, ToF32(_mm256_cvtepu8_epi32(mins))),
                                _mm256_loadu_ps(sums + 16 * b), acc_min);
      acc_min =
          _mm256_fmadd_ps(_mm256_mul_ps(dmin, ToF32(_mm256_cvtepu8_epi32(_mm_srli_si128(mins, 8)))),
                          _mm256_loadu_ps(sums + 16 * b + 8), acc_min);
      for (int h = 0; h < 2; ++h) {
        // Byte l of the half's 32 holds element 32p + l of the half at bits 2p..2p+1.
        __m256i q[4];
        for (int g = 0; g < 4; ++g) q[g] = Load8(blk + 16 + 32 * h + 8 * g);
        const float* xh = x + 256 * b + 128 * h;
        for (int p = 0; p < 4; ++p) {
          const float* xp = xh + 32 * p;
          const __m256 s0 =
              _mm256_fmadd_ps(ToF32(_mm256_and_si256(q[1], three)), X(xp + 8),
                              _mm256_mul_ps(ToF32(_mm256_and_si256(q[0], three)), X(xp)));
          const __m256 s1 =
              _mm256_fmadd_ps(ToF32(_mm256_and_si256(q[3], three)), X(xp + 24),
                              _mm256_mul_ps(ToF32(_mm256_and_si256(q[2], three)), X(xp + 16)));
          for (__m256i& v : q) v = _mm256_srli_epi32(v, 2);
          acc0 = _mm256_fmadd_ps(_mm256_set1_ps(sc[8 * h + 2 * p]), s0, acc0);
          acc1 = _mm256_fmadd_ps(_mm256_set1_ps(sc[8 * h + 2 * p + 1]), s1, acc1);
        }
      }
    }
    return HorizontalSum(_mm256_add_ps(acc0, acc1)) - HorizontalSum(acc_min);
  }
};

struct KernelQ3K {
  static constexpr int kBytes = 110;
  static constexpr int kSumGroup = 0;  // the -4 offset is applied to the integers
  static float Row(const uint8_t* row, const float* x, const float*, int64_t nb) {
    __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
    const __m256i three = Set(3), four = Set(4);
    for (int64_t b = 0; b < nb; ++b) {
      const uint8_t* blk = row + b * kBytes;
      PrefetchAhead<kBytes>(blk);
      const __m128i s8 = _mm_sub_epi8(UnpackScalesQ3K(blk + 96), _mm_set1_epi8(32));
      const __m256 d = _mm256_set1_ps(LoadF16(blk + 108));
      alignas(32) float sc[16];
      _mm256_store_ps(sc, _mm256_mul_ps(d, ToF32(_mm256_cvtepi8_epi32(s8))));
      _mm256_store_ps(sc + 8, _mm256_mul_ps(d, ToF32(_mm256_cvtepi8_epi32(_mm_srli_si128(s8, 8)))));
      // hmask[l] bit 4h + p is the high bit of element 128h + 32p + l; shifted down by one per
      // plane across both halves.
      __m256i hm[4];
      for (int g = 0; g < 4; ++g) hm[g] = Load8(blk + 8 * g);
      for (int h = 0; h < 2; ++h) {
        __m256i q[4];
        for (int g = 0; g < 4; ++g) q[g] = Load8(blk + 32 + 32 * h + 8 * g);
        const float* xh = x + 256 * b + 128 * h;
        for (int p = 0; p < 4; ++p) {
          const float* xp = xh + 32 * p;
          __m256 w[4];
          for (int g = 0; g < 4; ++g) {
            const __m256i v = _mm256_or_si256(_mm256_and_si256(q[g], three),
                                              _mm256_and_si256(_mm256_slli_epi32(hm[g], 2), four));
            w[g] = ToF32(_mm256_sub_epi32(v, four));
            q[g] = _mm256_srli_epi32(q[g], 2);
            hm[g] = _mm256_srli_epi32(hm[g], 1);
          }
          const __m256 s0 = _mm256_fmadd_ps(w[1], X(xp + 8), _mm256_mul_ps(w[0], X(xp)));
          const __m256 s1 = _mm256_fmadd_ps(w[3], X(xp + 24), _mm256_mul_ps(w[2], X(xp + 16)));
          acc0 = _mm256_fmadd_ps(_mm256_set1_ps(sc[8 * h + 2 * p]), s0, acc0);
          acc1 = _mm256_fmadd_ps(_mm256_set1_ps(sc[8 * h + 2 * p + 1]), s1, acc1);
        }
      }
    }
    return HorizontalSum(_mm256_add_ps(acc0, acc1));
  }
};

// Sums of x over consecutive groups of G elements (G = 16 or 32), for the minimum terms.
template <int G>
void GroupSums(const float* x, int64_t n, float* out) {
  for (int64_t i = 0; i < n; i += G) {
    __m256 s = _mm256_add_ps(X(x + i), X(x + i + 8));
    if constexpr (G == 32) s = _mm256_add_ps(s, _mm256_add_ps(X(x + i + 16), X(x + i + 24)));
    out[i / G] = HorizontalSum(s);
  }
}

template <typename K>
void DotRows(const uint8_t* w, uint64_t row_bytes, int64_t n_rows, const void* xv, int64_t n,
             float* y) {
  const auto* x = static_cast<const float*>(xv);
  // Up to 16K (Q2_K) / 32K elements without touching the heap; the sums are reused by every row
  // of the call.
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
  table->activation[static_cast<size_t>(type)] = ActivationType::kF32;
}

}  // namespace

void FillAvx2KQuantKernels(KernelTable* table) {
  SetSlot<KernelQ2K>(table, DType::kQ2_K);
  SetSlot<KernelQ3K>(table, DType::kQ3_K);
  SetSlot<KernelQ4K>(table, DType::kQ4_K);
  SetSlot<KernelQ5K>(table, DType::kQ5_K);
  SetSlot<KernelQ6K>(table, DType::kQ6_K);
}

}  // namespace gemma
