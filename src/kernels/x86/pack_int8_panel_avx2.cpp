// AVX2 int8 panel packers for Q4_0, Q5_0 and Q8_0 (Int8PanelPackFn), byte for byte the scalar
// ones (pack_int8_panel_scalar.cpp). A row's block becomes one register of its eight 4-quant
// groups (groups 0-3 in the low lane, 4-7 in the high one: Q4_0's low and high nibbles, with
// Q5_0's fifth bits spread from its 32-bit mask, Q8_0's bytes as stored), and four rows at a time
// are transposed by 32-bit words into the panel's group-major layout; the sixteen f16 scales
// convert in two instructions. The scalar loops spent ~15 % of Q4_0 prefill here.
#include <cstring>

#include <immintrin.h>
#include "kernels/x86/avx2_kernels.h"

namespace gemma {
namespace {

// Rows a, b, c, d (each: groups 0-3 | groups 4-7) into group g's bytes 16 r0 .. 16 r0 + 15.
inline void StoreFourRows(__m256i a, __m256i b, __m256i c, __m256i d, Int8PanelBlock& pb,
                          int64_t r0) {
  const __m256i ab_lo = _mm256_unpacklo_epi32(a, b), ab_hi = _mm256_unpackhi_epi32(a, b);
  const __m256i cd_lo = _mm256_unpacklo_epi32(c, d), cd_hi = _mm256_unpackhi_epi32(c, d);
  const __m256i g[4] = {_mm256_unpacklo_epi64(ab_lo, cd_lo), _mm256_unpackhi_epi64(ab_lo, cd_lo),
                        _mm256_unpacklo_epi64(ab_hi, cd_hi), _mm256_unpackhi_epi64(ab_hi, cd_hi)};
  for (int k = 0; k < 4; ++k) {
    _mm_storeu_si128(reinterpret_cast<__m128i*>(&pb.q[k][4 * r0]), _mm256_castsi256_si128(g[k]));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(&pb.q[k + 4][4 * r0]),
                     _mm256_extracti128_si256(g[k], 1));
  }
}

// The eight groups of one row's block.
struct GroupsQ4_0 {
  static constexpr int kBlockBytes = 2 + 16;
  static __m256i Load(const uint8_t* blk) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(blk + 2));
    const __m128i low = _mm_set1_epi8(0x0F);
    return _mm256_set_m128i(_mm_and_si128(_mm_srli_epi16(v, 4), low), _mm_and_si128(v, low));
  }
};
struct GroupsQ5_0 {
  static constexpr int kBlockBytes = 2 + 4 + 16;
  // 16 (the fifth bit) in byte i where bit `first + i` of qh is set, for i < 16.
  static __m128i FifthBits(__m128i qh, int first_byte) {
    const __m128i spread = _mm_shuffle_epi8(
        qh, _mm_add_epi8(_mm_setr_epi8(0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1),
                         _mm_set1_epi8(static_cast<char>(first_byte))));
    const __m128i bit = _mm_setr_epi8(1, 2, 4, 8, 16, 32, 64, -128, 1, 2, 4, 8, 16, 32, 64, -128);
    const __m128i set = _mm_cmpeq_epi8(_mm_and_si128(spread, bit), bit);
    return _mm_and_si128(set, _mm_set1_epi8(16));
  }
  static __m256i Load(const uint8_t* blk) {
    int32_t bits;
    std::memcpy(&bits, blk + 2, 4);
    const __m128i qh = _mm_cvtsi32_si128(bits);
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(blk + 6));
    const __m128i low = _mm_set1_epi8(0x0F);
    const __m128i lo = _mm_or_si128(_mm_and_si128(v, low), FifthBits(qh, 0));
    const __m128i hi = _mm_or_si128(_mm_and_si128(_mm_srli_epi16(v, 4), low), FifthBits(qh, 2));
    return _mm256_set_m128i(hi, lo);
  }
};
struct GroupsQ8_0 {
  static constexpr int kBlockBytes = 2 + 32;
  static __m256i Load(const uint8_t* blk) {
    const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(blk + 2));
    return _mm256_xor_si256(v, _mm256_set1_epi8(static_cast<char>(0x80)));  // q + 128
  }
};

// Q4_0, Q5_0 and Q8_0 panels (no bias).
template <typename Groups>
void PackPanel(const uint8_t* rows, uint64_t row_bytes, int64_t n_rows, int64_t b0, int64_t nb,
               Int8PanelBlock* out, float* /*bias*/) {
  for (int64_t b = 0; b < nb; ++b) {
    Int8PanelBlock& pb = out[b];
    const uint64_t at = static_cast<uint64_t>(b0 + b) * Groups::kBlockBytes;
    alignas(32) uint16_t scales[kInt8PanelRows] = {};
    for (int64_t r0 = 0; r0 < kInt8PanelRows; r0 += 4) {
      __m256i v[4];
      for (int64_t i = 0; i < 4; ++i) {
        const int64_t r = r0 + i;
        if (r >= n_rows) {
          v[i] = _mm256_setzero_si256();
          continue;
        }
        const uint8_t* blk = rows + static_cast<uint64_t>(r) * row_bytes + at;
        std::memcpy(&scales[r], blk, 2);
        v[i] = Groups::Load(blk);
      }
      StoreFourRows(v[0], v[1], v[2], v[3], pb, r0);
    }
    for (int h = 0; h < 2; ++h) {
      const __m128i half = _mm_load_si128(reinterpret_cast<const __m128i*>(scales + 8 * h));
      _mm256_storeu_ps(pb.d + 8 * h, _mm256_cvtph_ps(half));
    }
  }
}

}  // namespace

void FillAvx2Int8PackKernels(KernelTable* table) {
  table->int8_panel_pack[static_cast<size_t>(DType::kQ4_0)] = &PackPanel<GroupsQ4_0>;
  table->int8_panel_pack[static_cast<size_t>(DType::kQ5_0)] = &PackPanel<GroupsQ5_0>;
  table->int8_panel_pack[static_cast<size_t>(DType::kQ8_0)] = &PackPanel<GroupsQ8_0>;
}

}  // namespace gemma
