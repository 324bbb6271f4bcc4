// AVX2 Q4_K, Q5_K and Q6_K decode against int8 activations (ActBlockQ8: one activation block
// per K-quant sub-block of 32), as llama.cpp multiplies K-quants: per sub-block j of a
// super-block, d_x[j] * (d * sc[j] * sum_i q_i x_i - dmin * m[j] * sum_i x_i), the quant dots in
// int32 (maddubs of the unsigned quants, exact). The eight sub-blocks' int32 sums are folded by
// hadds into one vector, so each super-block needs one scale FMA. Part of the "avx2" table.
#include <cstddef>
#include <type_traits>

#include "core/quant/k_quants.h"
#include "kernels/activation_scales.h"
#include "kernels/x86/avx2_common.h"
#include "kernels/x86/avx2_kernels.h"

namespace gemma {
namespace {

using namespace avx2;

// Eight int32 partial sums of 32 unsigned quants times the activation block's 32 int8 values.
inline __m256i SubBlockDot(__m256i q, const ActBlockQ8& x) {
  const __m256i xq = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x.qs));
  return _mm256_madd_epi16(_mm256_maddubs_epi16(q, xq), _mm256_set1_epi16(1));
}

// The eight vectors' lane sums, in order: [sum p[0], ..., sum p[7]].
inline __m256i LaneSums8(const __m256i p[8]) {
  const __m256i a = _mm256_hadd_epi32(_mm256_hadd_epi32(p[0], p[1]), _mm256_hadd_epi32(p[2], p[3]));
  const __m256i b = _mm256_hadd_epi32(_mm256_hadd_epi32(p[4], p[5]), _mm256_hadd_epi32(p[6], p[7]));
  // a holds p[0..3]'s sums over lanes 0-3 in its low half and over lanes 4-7 in its high half.
  return _mm256_add_epi32(_mm256_permute2x128_si256(a, b, 0x20),
                          _mm256_permute2x128_si256(a, b, 0x31));
}

// Bit j of every byte of qh, moved to bit 4 (16 added to a Q5_K quant). The 16-bit shifts never
// carry a neighbouring byte's bit into bit 4.
template <int j>
inline __m256i FifthBit(__m256i qh) {
  const __m256i bit4 = _mm256_set1_epi8(0x10);
  if constexpr (j <= 4) return _mm256_and_si256(_mm256_slli_epi16(qh, 4 - j), bit4);
  return _mm256_and_si256(_mm256_srli_epi16(qh, j - 4), bit4);
}

// Q4_K, or Q5_K (kFifthBit: bit j of qh byte i adds 16 to element i of sub-block j; quants
// 0..31 keep maddubs' pair sums within 2 * 31 * 127).
template <bool kFifthBit>
void DotRowsK4(const uint8_t* w, uint64_t row_bytes, int64_t n_rows, const void* xv, int64_t n,
               float* y) {
  using Block = std::conditional_t<kFifthBit, QuantBlockQ5_K, QuantBlockQ4_K>;
  const auto* x = static_cast<const ActBlockQ8*>(xv);
  const int64_t nb = n / 256;
  const ActScales xs = GatherActScales(x, n / 32, /*with_sums=*/true);
  const __m256i low4 = _mm256_set1_epi8(0x0F);
  for (int64_t r = 0; r < n_rows; ++r) {
    const uint8_t* row = w + static_cast<uint64_t>(r) * row_bytes;
    __m256 acc = _mm256_setzero_ps(), acc_min = _mm256_setzero_ps();
    for (int64_t b = 0; b < nb; ++b) {
      const uint8_t* blk = row + b * sizeof(Block);
      PrefetchAhead<sizeof(Block)>(blk);
      const ActBlockQ8* xb = x + 8 * b;
      const __m128i sm = UnpackScaleMin8(blk + 4);
      const __m256 scales =
          _mm256_mul_ps(_mm256_set1_ps(LoadF16(blk)), _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(sm)));
      const __m256 mins =
          _mm256_mul_ps(_mm256_set1_ps(LoadF16(blk + 2)),
                        _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_srli_si128(sm, 8))));
      acc_min = _mm256_fmadd_ps(mins, _mm256_loadu_ps(xs.d_sum + 8 * b), acc_min);
      __m256i qh = _mm256_setzero_si256();
      if constexpr (kFifthBit) {
        qh = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(blk + offsetof(Block, qh)));
      }
      __m256i p[8];
      const uint8_t* qs = blk + offsetof(Block, qs);
      // 64 elements per chunk c: sub-block 2c in the low nibbles, 2c + 1 in the high ones.
      auto chunk = [&]<int c>() {
        const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(qs + 32 * c));
        __m256i lo = _mm256_and_si256(v, low4),
                hi = _mm256_and_si256(_mm256_srli_epi16(v, 4), low4);
        if constexpr (kFifthBit) {
          lo = _mm256_or_si256(lo, FifthBit<2 * c>(qh));
          hi = _mm256_or_si256(hi, FifthBit<2 * c + 1>(qh));
        }
        p[2 * c] = SubBlockDot(lo, xb[2 * c]);
        p[2 * c + 1] = SubBlockDot(hi, xb[2 * c + 1]);
      };
      chunk.template operator()<0>();
      chunk.template operator()<1>();
      chunk.template operator()<2>();
      chunk.template operator()<3>();
      const __m256 dots = _mm256_cvtepi32_ps(LaneSums8(p));
      acc = _mm256_fmadd_ps(_mm256_mul_ps(scales, _mm256_loadu_ps(xs.d + 8 * b)), dots, acc);
    }
    y[r] = HorizontalSum(_mm256_sub_ps(acc, acc_min));
  }
}

// Q6_K: 6-bit quants q (stored as 4 + 2 bits) with an int8 scale per 16 elements: per activation
// block j, d_x[j] * d * sum_k sc[k] * sum_i (q_i - 32) x_i over its two 16-element groups. The
// "- 32" is subtracted from maddubs' int16 pair sums (|(q - 32) x| pair sums <= 2 * 32 * 127),
// which madd then multiplies by each group's scale, so the block's sum is exact in int32.
void DotRowsQ6K(const uint8_t* w, uint64_t row_bytes, int64_t n_rows, const void* xv, int64_t n,
                float* y) {
  const auto* x = static_cast<const ActBlockQ8*>(xv);
  const int64_t nb = n / 256;
  const ActScales xs = GatherActScales(x, n / 32, /*with_sums=*/false);
  const __m256i low4 = _mm256_set1_epi8(0x0F), thirty_two = _mm256_set1_epi8(32);
  const __m256i two_bits = _mm256_set1_epi8(0x03);
  for (int64_t r = 0; r < n_rows; ++r) {
    const uint8_t* row = w + static_cast<uint64_t>(r) * row_bytes;
    __m256 acc = _mm256_setzero_ps();
    for (int64_t b = 0; b < nb; ++b) {
      const uint8_t* blk = row + b * sizeof(QuantBlockQ6_K);
      PrefetchAhead<sizeof(QuantBlockQ6_K)>(blk);
      const ActBlockQ8* xb = x + 8 * b;
      const auto* scales = reinterpret_cast<const int8_t*>(blk + 192);
      __m256i p[8];
      for (int h = 0; h < 2; ++h) {  // 128 elements: four activation blocks
        const uint8_t* ql = blk + 64 * h;
        const __m256i ql0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(ql));
        const __m256i ql1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(ql + 32));
        const __m256i qh = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(blk + 128 + 32 * h));
        // Group g: low or high nibbles of ql0 / ql1, and bits 2g, 2g + 1 of qh as bits 4-5.
        const __m256i q[4] = {
            _mm256_or_si256(_mm256_and_si256(ql0, low4),
                            _mm256_slli_epi16(_mm256_and_si256(qh, two_bits), 4)),
            _mm256_or_si256(
                _mm256_and_si256(ql1, low4),
                _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 2), two_bits), 4)),
            _mm256_or_si256(
                _mm256_and_si256(_mm256_srli_epi16(ql0, 4), low4),
                _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 4), two_bits), 4)),
            _mm256_or_si256(
                _mm256_and_si256(_mm256_srli_epi16(ql1, 4), low4),
                _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 6), two_bits), 4))};
        for (int g = 0; g < 4; ++g) {
          const int j = 4 * h + g;
          const __m256i xq = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(xb[j].qs));
          const __m256i s16 = _mm256_sub_epi16(_mm256_maddubs_epi16(q[g], xq),
                                               _mm256_maddubs_epi16(thirty_two, xq));
          const __m256i sc =
              _mm256_setr_m128i(_mm_set1_epi16(scales[2 * j]), _mm_set1_epi16(scales[2 * j + 1]));
          p[j] = _mm256_madd_epi16(s16, sc);
        }
      }
      const __m256 scale =
          _mm256_mul_ps(_mm256_set1_ps(LoadF16(blk + 208)), _mm256_loadu_ps(xs.d + 8 * b));
      acc = _mm256_fmadd_ps(scale, _mm256_cvtepi32_ps(LaneSums8(p)), acc);
    }
    y[r] = HorizontalSum(acc);
  }
}

}  // namespace

void FillAvx2KQuantInt8Kernels(KernelTable* table) {
  table->dot_rows[static_cast<size_t>(DType::kQ4_K)] = &DotRowsK4<false>;
  table->dot_rows[static_cast<size_t>(DType::kQ5_K)] = &DotRowsK4<true>;
  table->dot_rows[static_cast<size_t>(DType::kQ6_K)] = &DotRowsQ6K;
  for (DType t : {DType::kQ4_K, DType::kQ5_K, DType::kQ6_K}) {
    table->gemm_tile[static_cast<size_t>(t)] = nullptr;  // per-token dots below 8 tokens
    table->activation[static_cast<size_t>(t)] = ActivationType::kQ8;
  }
}

}  // namespace gemma
