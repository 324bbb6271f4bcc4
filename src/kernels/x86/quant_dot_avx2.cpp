// AVX2 integer kernels: Q8_0 / Q4_0 weights x int8 activations (ActBlockQ8), for decode and
// prefill tiles. Per block of 32: DotBytes, then one FMA with the product of the two scales.
// Same integer math as the scalar references in dot_q8_scalar.cpp. Used by the "avx2-int8"
// table (the automatic choice on AVX2).
#include <vector>

#include "kernels/x86/avx2_common.h"
#include "kernels/x86/avx2_kernels.h"

namespace gemma {
namespace {

using namespace avx2;

inline __m256 BlockTerm(const uint8_t* block, __m256i wq, const ActBlockQ8& x, __m256 acc) {
  const __m256i p = DotBytes(wq, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x.qs)));
  return _mm256_fmadd_ps(_mm256_set1_ps(LoadF16(block) * x.d), _mm256_cvtepi32_ps(p), acc);
}

template <typename B>
void DotRows(const uint8_t* w, uint64_t row_bytes, int64_t n_rows, const void* xv, int64_t n,
             float* y) {
  const auto* x = static_cast<const ActBlockQ8*>(xv);
  const int64_t nb = n / 32;
  for (int64_t r = 0; r < n_rows; ++r) {
    const uint8_t* row = w + static_cast<uint64_t>(r) * row_bytes;
    // Two accumulators hide the FMA latency.
    __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
    int64_t b = 0;
    for (; b + 2 <= nb; b += 2) {
      const uint8_t* b0 = row + b * B::kBytes;
      const uint8_t* b1 = b0 + B::kBytes;
      acc0 = BlockTerm(b0, B::Quants(b0), x[b], acc0);
      acc1 = BlockTerm(b1, B::Quants(b1), x[b + 1], acc1);
    }
    if (b < nb) acc0 = BlockTerm(row + b * B::kBytes, B::Quants(row + b * B::kBytes), x[b], acc0);
    y[r] = HorizontalSum(_mm256_add_ps(acc0, acc1));
  }
}

// One weight row against NT tokens: each block is unpacked once.
template <typename B>
struct QuantRowTokens {
  template <int NT>
  static void Run(const uint8_t* row, const ActBlockQ8* const* x, int64_t n, float* const* y) {
    __m256 acc[NT];
    for (int t = 0; t < NT; ++t) acc[t] = _mm256_setzero_ps();
    for (int64_t b = 0; b < n / 32; ++b) {
      const uint8_t* block = row + b * B::kBytes;
      const __m256i wq = B::Quants(block);
      for (int t = 0; t < NT; ++t) acc[t] = BlockTerm(block, wq, x[t][b], acc[t]);
    }
    for (int t = 0; t < NT; ++t) *y[t] = HorizontalSum(acc[t]);
  }
};

// Q4_0 decode without the sign tricks: the nibbles are used unsigned (0..15) as maddubs' first
// operand, and the "- 8" comes back per block as 8 * dx * sum(xq), summed once per call into
// x_sums (x is shared by every row) and subtracted with the weight scale: the same integer dot
// per block, three fewer instructions.
void DotRowsQ4_0(const uint8_t* w, uint64_t row_bytes, int64_t n_rows, const void* xv, int64_t n,
                 float* y) {
  const auto* x = static_cast<const ActBlockQ8*>(xv);
  const int64_t nb = n / 32;
  thread_local std::vector<float> x_offsets;
  x_offsets.resize(static_cast<size_t>(nb));
  const __m256i ones8 = _mm256_set1_epi8(1), ones16 = _mm256_set1_epi16(1);
  for (int64_t b = 0; b < nb; ++b) {
    const __m256i xq = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x[b].qs));
    const __m256i s = _mm256_madd_epi16(_mm256_maddubs_epi16(ones8, xq), ones16);
    __m128i t = _mm_add_epi32(_mm256_castsi256_si128(s), _mm256_extracti128_si256(s, 1));
    t = _mm_add_epi32(t, _mm_shuffle_epi32(t, 0x4E));
    t = _mm_add_epi32(t, _mm_shuffle_epi32(t, 0xB1));
    x_offsets[static_cast<size_t>(b)] = 8.f * x[b].d * static_cast<float>(_mm_cvtsi128_si32(t));
  }
  const __m256i low4 = _mm256_set1_epi8(0x0F);
  for (int64_t r = 0; r < n_rows; ++r) {
    const uint8_t* row = w + static_cast<uint64_t>(r) * row_bytes;
    __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
    float offset = 0;
    auto term = [&](int64_t b, __m256 acc) {
      const uint8_t* block = row + b * BlockQ4_0::kBytes;
      const __m128i packed = _mm_loadu_si128(reinterpret_cast<const __m128i*>(block + 2));
      const __m256i q = _mm256_and_si256(_mm256_set_m128i(_mm_srli_epi16(packed, 4), packed), low4);
      const __m256i xq = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x[b].qs));
      const __m256i p = _mm256_madd_epi16(_mm256_maddubs_epi16(q, xq), ones16);
      const float dw = LoadF16(block);
      offset += dw * x_offsets[static_cast<size_t>(b)];
      return _mm256_fmadd_ps(_mm256_set1_ps(dw * x[b].d), _mm256_cvtepi32_ps(p), acc);
    };
    int64_t b = 0;
    for (; b + 2 <= nb; b += 2) {
      acc0 = term(b, acc0);
      acc1 = term(b + 1, acc1);
    }
    if (b < nb) acc0 = term(b, acc0);
    y[r] = HorizontalSum(_mm256_add_ps(acc0, acc1)) - offset;
  }
}

template <typename B>
void SetSlot(KernelTable* table, DType type) {
  table->dot_rows[static_cast<size_t>(type)] = &DotRows<B>;
  table->gemm_tile[static_cast<size_t>(type)] = &TileOverTokens<ActBlockQ8, QuantRowTokens<B>>;
  table->activation[static_cast<size_t>(type)] = ActivationType::kQ8;
}

}  // namespace

void FillAvx2QuantInt8Kernels(KernelTable* table) {
  SetSlot<BlockQ8_0>(table, DType::kQ8_0);
  SetSlot<BlockQ4_0>(table, DType::kQ4_0);
  table->dot_rows[static_cast<size_t>(DType::kQ4_0)] = &DotRowsQ4_0;
}

}  // namespace gemma
