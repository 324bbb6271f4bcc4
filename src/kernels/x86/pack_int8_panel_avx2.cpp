// AVX2 int8 panel packers for Q4_0, Q5_0, Q8_0, Q4_K and Q5_K (Int8PanelPackFn) and Q6_K's split
// panels (Int8SplitPanelPackFn, for the VNNI tables built on this one), byte for byte the scalar
// ones (pack_int8_panel_scalar.cpp). A row's block becomes one register of its eight 4-quant
// groups (groups 0-3 in the low lane, 4-7 in the high one: Q4_0's low and high nibbles, with
// Q5_0's fifth bits spread from its 32-bit mask, Q8_0's bytes as stored), and four rows at a time
// are transposed by 32-bit words into the panel's group-major layout; the sixteen f16 scales
// convert in two instructions. The scalar loops spent ~15 % of Q4_0 prefill here.
#include <cstring>

#include <immintrin.h>

#include "core/dtype.h"
#include "core/quant/k_quants.h"
#include "kernels/x86/avx2_kernels.h"

namespace gemma {
namespace {

// Rows a, b, c, d (each: groups 0-3 | groups 4-7) into group g's bytes 16 r0 .. 16 r0 + 15.
template <typename Block>
inline void StoreFourRows(__m256i a, __m256i b, __m256i c, __m256i d, Block& pb, int64_t r0) {
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

// Every row of a panel block into pb's group-major layout, four at a time: row r's 32 quants in
// element order are load(r, block) for block = rows + r * row_bytes + at; rows past n_rows zero.
template <typename Block, typename Load>
void PackRows(const uint8_t* rows, uint64_t row_bytes, int64_t n_rows, uint64_t at, Block& pb,
              Load&& load) {
  for (int64_t r0 = 0; r0 < kInt8PanelRows; r0 += 4) {
    __m256i v[4];
    for (int64_t i = 0; i < 4; ++i) {
      const int64_t r = r0 + i;
      v[i] = r < n_rows ? load(r, rows + static_cast<uint64_t>(r) * row_bytes + at)
                        : _mm256_setzero_si256();
    }
    StoreFourRows(v[0], v[1], v[2], v[3], pb, r0);
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
    PackRows(rows, row_bytes, n_rows, at, pb, [&](int64_t r, const uint8_t* blk) {
      std::memcpy(&scales[r], blk, 2);
      return Groups::Load(blk);
    });
    for (int h = 0; h < 2; ++h) {
      const __m128i half = _mm_load_si128(reinterpret_cast<const __m128i*>(scales + 8 * h));
      _mm256_storeu_ps(pb.d + 8 * h, _mm256_cvtph_ps(half));
    }
  }
}

// Q6_K split panels (Int8SplitPanelBlock): a row's 32 quants of block j (elements 32 j..) in
// element order from its ql nibbles and qh bit pairs (Q6KQuant in the scalar packer), less 32;
// the rows transposed four at a time as above; each half's row sums from the transposed groups
// (maddubs against bytes of 1, then pairs of int16 added into int32).
void PackQ6KSplitPanel(const uint8_t* rows, uint64_t row_bytes, int64_t n_rows, int64_t b0,
                       int64_t nb, Int8SplitPanelBlock* out) {
  constexpr uint64_t kBlockBytes = 210;  // ql[128], qh[64], scales[16], f16 d
  constexpr uint64_t kQh = 128, kScales = 192, kD = 208;
  const __m256i low4 = _mm256_set1_epi8(0x0F), low2 = _mm256_set1_epi8(0x03);
  const __m256i bias = _mm256_set1_epi8(32), ones8 = _mm256_set1_epi8(1);
  const __m256i ones16 = _mm256_set1_epi16(1);
  for (int64_t b = 0; b < nb; ++b) {
    Int8SplitPanelBlock& pb = out[b];
    const int64_t sub = b0 + b, j = sub % 8, n = j / 4, k = j % 4;
    const uint64_t at = static_cast<uint64_t>(sub / 8) * kBlockBytes;
    PackRows(rows, row_bytes, n_rows, at, pb, [&](int64_t, const uint8_t* blk) {
      __m256i ql =
          _mm256_loadu_si256(reinterpret_cast<const __m256i*>(blk + 64 * n + 32 * (k % 2)));
      if (k >= 2) ql = _mm256_srli_epi16(ql, 4);
      const __m256i qh = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(blk + kQh + 32 * n));
      const __m256i high = _mm256_slli_epi16(
          _mm256_and_si256(_mm256_srli_epi16(qh, static_cast<int>(2 * k)), low2), 4);
      return _mm256_sub_epi8(_mm256_or_si256(_mm256_and_si256(ql, low4), high), bias);
    });
    for (int h = 0; h < 2; ++h) {
      for (int rh = 0; rh < 2; ++rh) {  // rows 0-7, 8-15
        __m256i sums = _mm256_setzero_si256();
        for (int g = 4 * h; g < 4 * h + 4; ++g) {
          const __m256i w = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(pb.q[g] + 32 * rh));
          sums = _mm256_add_epi32(sums, _mm256_madd_epi16(_mm256_maddubs_epi16(ones8, w), ones16));
        }
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(pb.row_corr[h] + 8 * rh),
                            _mm256_slli_epi32(_mm256_sub_epi32(_mm256_setzero_si256(), sums), 7));
      }
    }
    for (int64_t r = 0; r < kInt8PanelRows; ++r) {
      float d = 0.f;
      int8_t sc[2] = {0, 0};
      if (r < n_rows) {
        const uint8_t* blk = rows + static_cast<uint64_t>(r) * row_bytes + at;
        uint16_t h;
        std::memcpy(&h, blk + kD, 2);
        d = F16ToF32(h);
        std::memcpy(sc, blk + kScales + 2 * j, 2);
      }
      pb.d[0][r] = d * static_cast<float>(sc[0]);
      pb.d[1][r] = d * static_cast<float>(sc[1]);
    }
  }
}

// Q4_K and Q5_K panels: sub-block j of a super-block is the low (j even) or high (j odd)
// nibbles of its 32 bytes of quants at 32 (j / 2), Q5_K's fifth bit bit j of each qh byte; per
// row the scale d sc[j] and bias offset d sc[j] - dmin m[j] as the scalar packer computes them
// (PackK4Panel there). The scalar loops were a sixth of a Gemma 3 4B Q4_K_M prefill.
template <bool kFifthBit>
void PackK4PanelAvx2(const uint8_t* rows, uint64_t row_bytes, int64_t n_rows, int64_t b0,
                     int64_t nb, Int8PanelBlock* out, float* bias) {
  constexpr uint64_t kBlockBytes = kFifthBit ? 176 : 144;  // QuantBlockQ5_K / QuantBlockQ4_K
  constexpr uint64_t kQh = 16, kQs = kFifthBit ? 48 : 16;
  constexpr float offset = kFifthBit ? 16.f : 0.f;  // Int8PanelQuantOffset
  const __m256i low4 = _mm256_set1_epi8(0x0F), one = _mm256_set1_epi8(1);
  for (int64_t b = 0; b < nb; ++b) {
    Int8PanelBlock& pb = out[b];
    float* const row_bias = bias + b * kInt8PanelRows;
    const int64_t sub = b0 + b, j = sub % 8;
    const uint64_t at = static_cast<uint64_t>(sub / 8) * kBlockBytes;
    PackRows(rows, row_bytes, n_rows, at, pb, [&](int64_t r, const uint8_t* blk) {
      uint16_t d16, dmin16;
      std::memcpy(&d16, blk, 2);
      std::memcpy(&dmin16, blk + 2, 2);
      uint8_t sc, m;
      UnpackScaleMinK4(static_cast<int>(j), blk + 4, &sc, &m);
      pb.d[r] = _cvtsh_ss(d16) * sc;  // F16C: exactly F16ToF32
      row_bias[r] = offset * pb.d[r] - _cvtsh_ss(dmin16) * m;
      __m256i q = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(blk + kQs + 32 * (j / 2)));
      if (j % 2 != 0) q = _mm256_srli_epi16(q, 4);
      q = _mm256_and_si256(q, low4);
      if constexpr (kFifthBit) {
        const __m256i qh = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(blk + kQh));
        const __m256i bit = _mm256_and_si256(_mm256_srli_epi16(qh, static_cast<int>(j)), one);
        q = _mm256_or_si256(q, _mm256_slli_epi16(bit, 4));
      }
      return q;
    });
    for (int64_t r = n_rows; r < kInt8PanelRows; ++r) pb.d[r] = row_bias[r] = 0.f;
  }
}

}  // namespace

void FillAvx2Int8PackKernels(KernelTable* table) {
  table->int8_panel_pack[static_cast<size_t>(DType::kQ4_K)] = &PackK4PanelAvx2<false>;
  table->int8_panel_pack[static_cast<size_t>(DType::kQ5_K)] = &PackK4PanelAvx2<true>;
  table->q6_k_split_panel_pack = &PackQ6KSplitPanel;
  table->int8_panel_pack[static_cast<size_t>(DType::kQ4_0)] = &PackPanel<GroupsQ4_0>;
  table->int8_panel_pack[static_cast<size_t>(DType::kQ5_0)] = &PackPanel<GroupsQ5_0>;
  table->int8_panel_pack[static_cast<size_t>(DType::kQ8_0)] = &PackPanel<GroupsQ8_0>;
}

}  // namespace gemma
