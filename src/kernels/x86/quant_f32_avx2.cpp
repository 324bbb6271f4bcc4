// AVX2 kernels for Q8_0 / Q4_0 weights against f32 activations: each block's quants are widened
// to f32 and multiplied exactly, so results equal f32 math on the dequantized weights (the
// scalar oracle) up to summation order. The "avx2" table (--isa avx2): more exact than 8-bit
// activations, about half their decode speed since the widening is compute-bound.
#include "kernels/x86/avx2_common.h"
#include "kernels/x86/avx2_kernels.h"

namespace gemma {
namespace {

using namespace avx2;

// The 32 quants of a block as four vectors of 8 f32 (unscaled).
template <typename B>
inline void Widen(const uint8_t* block, __m256 w[4]) {
  const __m256i q = B::Quants(block);
  const __m128i lo = _mm256_castsi256_si128(q), hi = _mm256_extracti128_si256(q, 1);
  w[0] = _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(lo));
  w[1] = _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_srli_si128(lo, 8)));
  w[2] = _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(hi));
  w[3] = _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_srli_si128(hi, 8)));
}

// scale * sum_i w[i] * x[i] over one block, added to acc.
inline __m256 BlockTerm(const uint8_t* block, const __m256 w[4], const float* x, __m256 acc) {
  __m256 s = _mm256_mul_ps(w[0], _mm256_loadu_ps(x));
  s = _mm256_fmadd_ps(w[1], _mm256_loadu_ps(x + 8), s);
  s = _mm256_fmadd_ps(w[2], _mm256_loadu_ps(x + 16), s);
  s = _mm256_fmadd_ps(w[3], _mm256_loadu_ps(x + 24), s);
  return _mm256_fmadd_ps(_mm256_set1_ps(LoadF16(block)), s, acc);
}

template <typename B>
void DotRows(const uint8_t* w, uint64_t row_bytes, int64_t n_rows, const void* xv, int64_t n,
             float* y) {
  const auto* x = static_cast<const float*>(xv);
  const int64_t nb = n / 32;
  for (int64_t r = 0; r < n_rows; ++r) {
    const uint8_t* row = w + static_cast<uint64_t>(r) * row_bytes;
    // Two accumulators hide the FMA latency.
    __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
    int64_t b = 0;
    for (; b + 2 <= nb; b += 2) {
      const uint8_t* b0 = row + b * B::kBytes;
      const uint8_t* b1 = b0 + B::kBytes;
      PrefetchAhead<2 * B::kBytes>(b0);
      __m256 w0[4], w1[4];
      Widen<B>(b0, w0);
      Widen<B>(b1, w1);
      acc0 = BlockTerm(b0, w0, x + 32 * b, acc0);
      acc1 = BlockTerm(b1, w1, x + 32 * (b + 1), acc1);
    }
    if (b < nb) {
      __m256 w0[4];
      Widen<B>(row + b * B::kBytes, w0);
      acc0 = BlockTerm(row + b * B::kBytes, w0, x + 32 * b, acc0);
    }
    y[r] = HorizontalSum(_mm256_add_ps(acc0, acc1));
  }
}

// Prefill: widen each block once, use it for up to four tokens.
template <typename B>
struct RowTokens {
  template <int NT>
  static void Run(const uint8_t* row, const float* const* x, int64_t n, float* const* y) {
    __m256 acc[NT];
    for (int t = 0; t < NT; ++t) acc[t] = _mm256_setzero_ps();
    for (int64_t b = 0; b < n / 32; ++b) {
      const uint8_t* block = row + b * B::kBytes;
      __m256 wf[4];
      Widen<B>(block, wf);
      for (int t = 0; t < NT; ++t) acc[t] = BlockTerm(block, wf, x[t] + 32 * b, acc[t]);
    }
    for (int t = 0; t < NT; ++t) *y[t] = HorizontalSum(acc[t]);
  }
};

template <typename B>
void SetSlot(KernelTable* table, DType type) {
  table->dot_rows[static_cast<size_t>(type)] = &DotRows<B>;
  table->gemm_tile[static_cast<size_t>(type)] = &TileOverTokens<float, RowTokens<B>>;
  table->activation[static_cast<size_t>(type)] = ActivationType::kF32;
}

}  // namespace

void FillAvx2QuantF32Kernels(KernelTable* table) {
  SetSlot<BlockQ8_0>(table, DType::kQ8_0);
  SetSlot<BlockQ4_0>(table, DType::kQ4_0);
}

}  // namespace gemma
