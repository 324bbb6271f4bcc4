// AVX-512 VNNI kernels against int8 activations (ActBlockQ8): Q8_0 and Q4_0 decode dot products
// and the int8 prefill panel tiles. vpdpbusd multiplies unsigned bytes by signed bytes and adds
// each group of four products into an int32 lane. Decode puts the quants in unsigned (Q8_0 with
// its sign bit flipped, q + 128; Q4_0's nibbles as stored) and the offset times the activations'
// sum comes back as the sums' starting value; prefill puts the activations in unsigned and the
// weights signed, with the correction per row (signed panels, kernels.h). Every block's integer
// dot product is exact, as in the scalar references (dot_q8_scalar.cpp, the tests' panel
// reference).
#include <vector>

#include "kernels/int8_panel_tokens.h"
#include "kernels/x86/avx512_common.h"

namespace gemma::GEMMA_X86_NS {
namespace {

constexpr int kQ8Bytes = 34;  // f16 scale + 32 int8 quants

// Decode works on pairs of blocks, one 512-bit register of quants. The activations of each
// pair are laid out once per call to match the weights' lanes, with the offset correction and
// the activation scale per lane.
struct alignas(64) ActPairVnni {
  int8_t qs[64];
  int32_t neg_corr[16];  // -offset * (sum of the four activations in the lane)
  float d[16];
};

// Lane order of a pair: block b's 32 quants then block b + 1's (lanes 0-7, 8-15).
const ActPairVnni* PrepareActivationPairs(const ActBlockQ8* x, int64_t nb) {
  constexpr int kOffset = 128;
  thread_local std::vector<ActPairVnni> pairs;
  const int64_t n_pairs = (nb + 1) / 2;
  pairs.assign(static_cast<size_t>(n_pairs), ActPairVnni{});  // an odd last block: zero partner
  for (int64_t b = 0; b < nb; ++b) {
    ActPairVnni& p = pairs[static_cast<size_t>(b / 2)];
    const int half = static_cast<int>(b % 2);
    for (int i = 0; i < 32; ++i) p.qs[32 * half + i] = x[b].qs[i];
    for (int lane = 8 * half; lane < 8 * half + 8; ++lane) {
      int32_t sum = 0;
      for (int j = 0; j < 4; ++j) sum += p.qs[4 * lane + j];
      p.neg_corr[lane] = -kOffset * sum;
      p.d[lane] = x[b].d;
    }
  }
  return pairs.data();
}

// The f16 scales of a pair's two blocks spread over their lanes; the partner of an odd last
// block (second == nullptr) scales by zero.
inline __m512 PairScales(const uint8_t* first, const uint8_t* second) {
  uint16_t h0 = 0, h1 = 0;
  std::memcpy(&h0, first, 2);
  if (second != nullptr) std::memcpy(&h1, second, 2);
  const __m128 f = _mm_cvtph_ps(_mm_cvtsi32_si128(static_cast<int>(h0 | (uint32_t{h1} << 16))));
  const __m512i spread = _mm512_setr_epi32(0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1);
  return _mm512_permutexvar_ps(spread, _mm512_castps128_ps512(f));
}

// The unsigned quants of a pair (second == nullptr: zeros).
inline __m512i PairQuants(const uint8_t* first, const uint8_t* second) {
  const __m256i a = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(first + 2));
  const __m256i b = second != nullptr
                        ? _mm256_loadu_si256(reinterpret_cast<const __m256i*>(second + 2))
                        : _mm256_set1_epi8(static_cast<char>(0x80));  // q + 128 of q = 0
  const __m512i both = _mm512_inserti64x4(_mm512_castsi256_si512(a), b, 1);
  return _mm512_xor_si512(both, _mm512_set1_epi8(static_cast<char>(0x80)));
}

void DotRowsQ8_0(const uint8_t* w, uint64_t row_bytes, int64_t n_rows, const void* xv, int64_t n,
                 float* y) {
  const auto* x = static_cast<const ActBlockQ8*>(xv);
  const int64_t nb = n / 32, n_full = nb / 2;
  constexpr int kBlockBytes = kQ8Bytes;
  const ActPairVnni* xp = PrepareActivationPairs(x, nb);
  auto pair_term = [](const uint8_t* first, const uint8_t* second, const ActPairVnni& a,
                      __m512 acc) {
    const __m512i q = PairQuants(first, second);
    const __m512i s =
        _mm512_dpbusd_epi32(_mm512_load_si512(a.neg_corr), q, _mm512_load_si512(a.qs));
    const __m512 scale = _mm512_mul_ps(PairScales(first, second), _mm512_load_ps(a.d));
    return _mm512_fmadd_ps(scale, _mm512_cvtepi32_ps(s), acc);
  };
  for (int64_t r = 0; r < n_rows; ++r) {
    const uint8_t* row = w + static_cast<uint64_t>(r) * row_bytes;
    __m512 acc0 = _mm512_setzero_ps(), acc1 = _mm512_setzero_ps();
    int64_t p = 0;
    for (; p + 2 <= n_full; p += 2) {
      const uint8_t* b0 = row + 2 * p * kBlockBytes;
      PrefetchWeights<4 * kBlockBytes>(b0);
      acc0 = pair_term(b0, b0 + kBlockBytes, xp[p], acc0);
      acc1 = pair_term(b0 + 2 * kBlockBytes, b0 + 3 * kBlockBytes, xp[p + 1], acc1);
    }
    if (p < n_full) {
      const uint8_t* b0 = row + 2 * p * kBlockBytes;
      acc0 = pair_term(b0, b0 + kBlockBytes, xp[p], acc0);
    }
    if (nb % 2 != 0) acc1 = pair_term(row + (nb - 1) * kBlockBytes, nullptr, xp[nb / 2], acc1);
    y[r] = HorizontalSum(_mm512_add_ps(acc0, acc1));
  }
}

// Q4_0 decode on quads of blocks: four blocks' 16 packed bytes fill one 512-bit register, so its
// low nibbles are elements 0-15 of the four blocks and its high nibbles elements 16-31, each
// 128-bit lane one block; the activations are laid out to match once per call (ActQuad), with
// the "- 8" times the activations each int32 lane covers as the sums' starting value. Per four
// blocks: two vpdpbusd, the nibble split, the four f16 scales widened once, one FMA. On Zen 5,
// 37.9 GB/s of Q4_0 on one core from L3 and 69.3 GB/s on two from DRAM, where the AVX2 pair
// kernel (quant_dot_avx2.cpp) ran 30.1 and 57.5 (a pairwise VNNI layout had been slower than it).
struct alignas(64) ActQuad {
  int8_t lo[64];     // elements 0-15 of blocks b .. b+3
  int8_t hi[64];     // elements 16-31
  int32_t corr[16];  // -8 * (the lane's four lo and four hi activations), lanes 4i.. block b+i
  float d[16];       // block b+i's scale in lanes 4i .. 4i+3
};

const ActQuad* PrepareActivationQuads(const ActBlockQ8* x, int64_t n_quads) {
  thread_local std::vector<ActQuad> quads;
  quads.resize(static_cast<size_t>(n_quads));
  const __m512i eights = _mm512_set1_epi8(8);
  for (int64_t i = 0; i < n_quads; ++i) {
    ActQuad& q = quads[static_cast<size_t>(i)];
    for (int k = 0; k < 4; ++k) {
      const ActBlockQ8& a = x[4 * i + k];
      std::memcpy(q.lo + 16 * k, a.qs, 16);
      std::memcpy(q.hi + 16 * k, a.qs + 16, 16);
      for (int l = 0; l < 4; ++l) q.d[4 * k + l] = a.d;
    }
    const __m512i lo = _mm512_load_si512(q.lo), hi = _mm512_load_si512(q.hi);
    const __m512i sums =
        _mm512_dpbusd_epi32(_mm512_dpbusd_epi32(_mm512_setzero_si512(), eights, lo), eights, hi);
    _mm512_store_si512(q.corr, _mm512_sub_epi32(_mm512_setzero_si512(), sums));
  }
  return quads.data();
}

constexpr int kQ4Bytes = 18;  // f16 scale + 16 bytes of nibbles

// Four blocks' scales, block i's in lanes 4i .. 4i+3.
inline __m512 QuadScales(const uint8_t* b) {
  uint16_t h[4];
  for (int k = 0; k < 4; ++k) std::memcpy(&h[k], b + k * kQ4Bytes, 2);
  uint64_t packed;
  std::memcpy(&packed, h, 8);
  const __m128 f = _mm_cvtph_ps(_mm_cvtsi64_si128(static_cast<int64_t>(packed)));
  const __m512i spread = _mm512_setr_epi32(0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3);
  return _mm512_permutexvar_ps(spread, _mm512_castps128_ps512(f));
}

inline __m512i QuadNibbles(const uint8_t* b) {
  const auto at = [&](int k) {
    return _mm_loadu_si128(reinterpret_cast<const __m128i*>(b + k * kQ4Bytes + 2));
  };
  __m512i v = _mm512_castsi128_si512(at(0));
  v = _mm512_inserti32x4(v, at(1), 1);
  v = _mm512_inserti32x4(v, at(2), 2);
  return _mm512_inserti32x4(v, at(3), 3);
}

void DotRowsQ4_0(const uint8_t* w, uint64_t row_bytes, int64_t n_rows, const void* xv, int64_t n,
                 float* y) {
  const auto* x = static_cast<const ActBlockQ8*>(xv);
  const int64_t nb = n / 32, n_quads = nb / 4;
  const ActQuad* xq = PrepareActivationQuads(x, n_quads);
  const __m512i low4 = _mm512_set1_epi8(0x0F);
  auto quad_term = [&](const uint8_t* b, const ActQuad& a, __m512 acc) {
    const __m512i packed = QuadNibbles(b);
    const __m512i lo = _mm512_and_si512(packed, low4);
    const __m512i hi = _mm512_and_si512(_mm512_srli_epi16(packed, 4), low4);
    __m512i s = _mm512_dpbusd_epi32(_mm512_load_si512(a.corr), lo, _mm512_load_si512(a.lo));
    s = _mm512_dpbusd_epi32(s, hi, _mm512_load_si512(a.hi));
    const __m512 scale = _mm512_mul_ps(QuadScales(b), _mm512_load_ps(a.d));
    return _mm512_fmadd_ps(scale, _mm512_cvtepi32_ps(s), acc);
  };
  for (int64_t r = 0; r < n_rows; ++r) {
    const uint8_t* row = w + static_cast<uint64_t>(r) * row_bytes;
    __m512 acc0 = _mm512_setzero_ps(), acc1 = _mm512_setzero_ps();
    int64_t q = 0;
    for (; q + 2 <= n_quads; q += 2) {
      const uint8_t* b0 = row + 4 * q * kQ4Bytes;
      PrefetchWeights<8 * kQ4Bytes>(b0);
      acc0 = quad_term(b0, xq[q], acc0);
      acc1 = quad_term(b0 + 4 * kQ4Bytes, xq[q + 1], acc1);
    }
    if (q < n_quads) acc0 = quad_term(row + 4 * q * kQ4Bytes, xq[q], acc0);
    float sum = HorizontalSum(_mm512_add_ps(acc0, acc1));
    for (int64_t b = 4 * n_quads; b < nb; ++b) {  // blocks past the last quad (none in Gemma)
      const uint8_t* blk = row + b * kQ4Bytes;
      int32_t dot = 0;
      for (int i = 0; i < 16; ++i) {
        dot += ((blk[2 + i] & 0x0F) - 8) * x[b].qs[i] + ((blk[2 + i] >> 4) - 8) * x[b].qs[16 + i];
      }
      sum += LoadF16(blk) * x[b].d * static_cast<float>(dot);
    }
    y[r] = sum;
  }
}

// Int8 prefill on signed 16-row panels (Int8PanelBlock after Int8PanelToSigned): a group of four
// quants of all sixteen rows is one 512-bit load of signed bytes, and one vpdpbusd per token
// against its four activation bytes (stored + 128, unsigned) broadcast adds into the rows' int32
// sums, which start at the rows' correction (-128 times their quant sum). Per block and token:
// eight vpdpbusd, one conversion, a multiply and an FMA; with the correction on the weights' side
// no per-token work starts the sums (on Zen 5: 1.44 vpdpbusd per cycle, against 1.27 with a
// per-token correction). Eight tokens keep 16 of the 32 registers as sums and accumulators.
struct Int8TileVnni {
  static_assert(kInt8PanelRows == 16, "one register of 16 rows");
  static constexpr int kTokens = 8;
  template <int NT>
  static void Run(const Int8PanelBlock* panel, int64_t n_blocks, const ActBlockQ8* x,
                  const Int8PairCorr* /*x_corr*/, int64_t x_stride, float* const* y, int64_t n_rows,
                  bool accumulate) {
    __m512 acc[NT];
#pragma GCC unroll 16
    for (int t = 0; t < NT; ++t) acc[t] = _mm512_setzero_ps();
    for (int64_t b = 0; b < n_blocks; ++b) {
      const Int8PanelBlock& pb = panel[b];
      const __m512i corr = _mm512_loadu_si512(pb.row_corr);
      __m512i s[NT];
      for (int t = 0; t < NT; ++t) s[t] = corr;
      for (int g = 0; g < 8; ++g) {
        const __m512i w = _mm512_loadu_si512(pb.q[g]);
        for (int t = 0; t < NT; ++t) {
          const __m512i a = _mm512_set1_epi32(LoadInt32(x[t * x_stride + b].qs + 4 * g));
          s[t] = _mm512_dpbusd_epi32(s[t], a, w);
        }
      }
      const __m512 dw = _mm512_loadu_ps(pb.d);
      for (int t = 0; t < NT; ++t) {
        const __m512 scale = _mm512_mul_ps(dw, _mm512_set1_ps(x[t * x_stride + b].d));
        acc[t] = _mm512_fmadd_ps(scale, _mm512_cvtepi32_ps(s[t]), acc[t]);
      }
    }
    for (int t = 0; t < NT; ++t) StoreRows16(acc[t], y[t], n_rows, accumulate);
  }
};

// Q6_K on split panels (Int8SplitPanelBlock): Int8TileVnni's sums per half block, each half
// converted and scaled on its own (a multiply, then an FMA), the token's activation scale once
// per block (an FMA): 11 instructions per block and token for 8 vpdpbusd.
struct Int8SplitTileVnni {
  static constexpr int kTokens = 8;
  template <int NT>
  static void Run(const Int8SplitPanelBlock* panel, int64_t n_blocks, const ActBlockQ8* x,
                  int64_t x_stride, float* y, int64_t ldy, int64_t n_rows, bool accumulate) {
    __m512 acc[NT];
#pragma GCC unroll 16
    for (int t = 0; t < NT; ++t) acc[t] = _mm512_setzero_ps();
    for (int64_t b = 0; b < n_blocks; ++b) {
      const Int8SplitPanelBlock& pb = panel[b];
      __m512i s[NT];
      auto sum_half = [&](int h) {
        const __m512i corr = _mm512_loadu_si512(pb.row_corr[h]);
        for (int t = 0; t < NT; ++t) s[t] = corr;
        for (int g = 4 * h; g < 4 * h + 4; ++g) {
          const __m512i w = _mm512_loadu_si512(pb.q[g]);
          for (int t = 0; t < NT; ++t) {
            const __m512i a = _mm512_set1_epi32(LoadInt32(x[t * x_stride + b].qs + 4 * g));
            s[t] = _mm512_dpbusd_epi32(s[t], a, w);
          }
        }
      };
      __m512 block[NT];
      sum_half(0);
      const __m512 d0 = _mm512_loadu_ps(pb.d[0]);
      for (int t = 0; t < NT; ++t) block[t] = _mm512_mul_ps(_mm512_cvtepi32_ps(s[t]), d0);
      sum_half(1);
      const __m512 d1 = _mm512_loadu_ps(pb.d[1]);
      for (int t = 0; t < NT; ++t)
        block[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(s[t]), d1, block[t]);
      for (int t = 0; t < NT; ++t)
        acc[t] = _mm512_fmadd_ps(block[t], _mm512_set1_ps(x[t * x_stride + b].d), acc[t]);
    }
    for (int t = 0; t < NT; ++t) StoreRows16(acc[t], y + t * ldy, n_rows, accumulate);
  }
};

void Int8SplitPanelGemm(const Int8SplitPanelBlock* panel, int64_t n_blocks, const ActBlockQ8* x,
                        int64_t x_stride, int64_t n_tokens, int64_t n_rows, float* y, int64_t ldy,
                        bool accumulate) {
  ForTokenGroups<Int8SplitTileVnni::kTokens>(n_tokens, [&]<int NT>(int64_t t0) {
    Int8SplitTileVnni::Run<NT>(panel, n_blocks, x + t0 * x_stride, x_stride, y + t0 * ldy, ldy,
                               n_rows, accumulate);
  });
}

// Int8PanelToSignedFn: a group's 64 quants less the offset in one subtraction, and the rows'
// quant sums by vpdpbusd against bytes of 1.
void Int8PanelToSigned(Int8PanelBlock* panel, int64_t n_blocks, int quant_offset) {
  const __m512i offset = _mm512_set1_epi8(static_cast<char>(quant_offset));
  const __m512i ones = _mm512_set1_epi8(1);
  for (int64_t b = 0; b < n_blocks; ++b) {
    Int8PanelBlock& pb = panel[b];
    __m512i sums = _mm512_setzero_si512();
    for (int g = 0; g < 8; ++g) {
      const __m512i w = _mm512_sub_epi8(_mm512_loadu_si512(pb.q[g]), offset);
      _mm512_storeu_si512(pb.q[g], w);
      sums = _mm512_dpbusd_epi32(sums, ones, w);
    }
    _mm512_storeu_si512(pb.row_corr,
                        _mm512_slli_epi32(_mm512_sub_epi32(_mm512_setzero_si512(), sums), 7));
  }
}

}  // namespace

void FillAvx512VnniKernels(KernelTable* table) {
  table->dot_rows[static_cast<size_t>(DType::kQ8_0)] = &DotRowsQ8_0;
  table->dot_rows[static_cast<size_t>(DType::kQ4_0)] = &DotRowsQ4_0;
  table->int8_panel_to_signed = &Int8PanelToSigned;
  table->int8_panel_gemm = &Int8PanelOverTokens<Int8TileVnni>;
  table->int8_split_panel_gemm = &Int8SplitPanelGemm;
}

}  // namespace gemma::GEMMA_X86_NS
