// AVX2 integer kernels: Q8_0 / Q4_0 / Q5_0 / Q4_1 / Q5_1 weights x int8 activations (ActBlockQ8),
// for decode and prefill tiles. Per block of 32: DotBytes, then one FMA with the product of the two
// scales. Same integer math as the scalar references in dot_q8_scalar.cpp. Used by the "avx2" table
// (the automatic choice on AVX2).
#include <cstring>
#include <type_traits>
#include <vector>

#include "kernels/activation_scales.h"
#include "kernels/x86/avx2_common.h"
#include "kernels/x86/avx2_kernels.h"

namespace gemma {
namespace {

using namespace avx2;

// d_w d_x sum_i q_i x_i over one block, added to acc. The signed types' quants go through
// DotBytes' sign tricks; the types with a minimum keep theirs unsigned, maddubs' first operand
// as it is (|pair sum| <= 2 * 31 * 127: no saturation).
template <typename B>
inline __m256 BlockTerm(const uint8_t* block, __m256i wq, const ActBlockQ8& x, __m256 acc) {
  const __m256i xq = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x.qs));
  const __m256i p = HasMin<B>
                        ? _mm256_madd_epi16(_mm256_maddubs_epi16(wq, xq), _mm256_set1_epi16(1))
                        : DotBytes(wq, xq);
  return _mm256_fmadd_ps(_mm256_set1_ps(LoadF16(block) * x.d), _mm256_cvtepi32_ps(p), acc);
}

// BlockTerm plus, for the types with a minimum, m d_x sum_i x_i (sum_i (d q_i + m) d_x x_i).
// Prefill tiles (a few tokens per weight row) sum each token's block here; decode takes the
// sums once per call instead (DotRows).
template <typename B>
inline __m256 Term(const uint8_t* block, __m256i wq, const ActBlockQ8& x, __m256 acc) {
  acc = BlockTerm<B>(block, wq, x, acc);
  if constexpr (HasMin<B>) {
    const __m256i xq = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x.qs));
    const __m256i sum =
        _mm256_madd_epi16(_mm256_maddubs_epi16(_mm256_set1_epi8(1), xq), _mm256_set1_epi16(1));
    acc = _mm256_fmadd_ps(_mm256_set1_ps(LoadF16(block + 2) * x.d), _mm256_cvtepi32_ps(sum), acc);
  }
  return acc;
}

template <typename B>
void DotRows(const uint8_t* w, uint64_t row_bytes, int64_t n_rows, const void* xv, int64_t n,
             float* y) {
  const auto* x = static_cast<const ActBlockQ8*>(xv);
  const int64_t nb = n / 32;
  // Types with a minimum add m_w * (d_x * sum_i x_i) per block: the bracket is per call.
  const float* x_dsum = HasMin<B> ? GatherActScales(x, nb, /*with_sums=*/true).d_sum : nullptr;
  auto min_term = [&](const uint8_t* block, int64_t b) {
    if constexpr (HasMin<B>) return LoadF16(block + 2) * x_dsum[b];
    return 0.f;
  };
  for (int64_t r = 0; r < n_rows; ++r) {
    const uint8_t* row = w + static_cast<uint64_t>(r) * row_bytes;
    // Two accumulators hide the FMA latency.
    __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
    float min_sum = 0.f;
    int64_t b = 0;
    for (; b + 2 <= nb; b += 2) {
      const uint8_t* b0 = row + b * B::kBytes;
      PrefetchAhead<2 * B::kBytes>(b0);
      const uint8_t* b1 = b0 + B::kBytes;
      acc0 = BlockTerm<B>(b0, B::Quants(b0), x[b], acc0);
      acc1 = BlockTerm<B>(b1, B::Quants(b1), x[b + 1], acc1);
      min_sum += min_term(b0, b) + min_term(b1, b + 1);
    }
    if (b < nb) {
      const uint8_t* b0 = row + b * B::kBytes;
      acc0 = BlockTerm<B>(b0, B::Quants(b0), x[b], acc0);
      min_sum += min_term(b0, b);
    }
    y[r] = HorizontalSum(_mm256_add_ps(acc0, acc1)) + min_sum;
  }
}

// One weight row against NT tokens: each block is unpacked once.
template <typename B>
struct QuantRowTokens {
  template <int NT>
  static void Run(const uint8_t* row, const ActBlockQ8* const* x, int64_t n, float* const* y) {
    __m256 acc[NT];
#pragma GCC unroll 16
    for (int t = 0; t < NT; ++t) acc[t] = _mm256_setzero_ps();
    for (int64_t b = 0; b < n / 32; ++b) {
      const uint8_t* block = row + b * B::kBytes;
      const __m256i wq = B::Quants(block);
      for (int t = 0; t < NT; ++t) acc[t] = Term<B>(block, wq, x[t][b], acc[t]);
    }
    for (int t = 0; t < NT; ++t) *y[t] = HorizontalSum(acc[t]);
  }
};

// Q4_0 and Q5_0 decode work on pairs of blocks. One 256-bit load holds both blocks' 16 packed
// bytes, so its low nibbles are elements 0-15 of the two blocks and its high nibbles elements
// 16-31: the activations are laid out to match once per call (ActPair), and each 128-bit half of
// the product is one block. The quants are used unsigned (Q4_0 0..15; Q5_0 0..31, its fifth bits
// added as 16) as maddubs' first operand; the "- 8" / "- 16" comes back as precomputed int32
// corrections (offset * the activations each lane covers): integer-exact. Per block this issues
// about half the vector loads and ALU work of one block at a time (the loads into vector
// registers were the bottleneck on Zen 3).
struct alignas(32) ActPair {
  int8_t lo[32];    // block b elements 0-15, then block b+1 elements 0-15
  int8_t hi[32];    // elements 16-31 of both blocks
  int32_t corr[8];  // lanes 0-3 block b, 4-7 block b+1
  float d[8];       // block b's scale in lanes 0-3, block b+1's in 4-7
};

template <int kOffset>
const ActPair* PrepareActivationPairs(const ActBlockQ8* x, int64_t n_pairs) {
  thread_local std::vector<ActPair> pairs;
  pairs.resize(static_cast<size_t>(n_pairs));
  const __m256i offset = _mm256_set1_epi8(kOffset), ones16 = _mm256_set1_epi16(1);
  for (int64_t i = 0; i < n_pairs; ++i) {
    const ActBlockQ8& a = x[2 * i];
    const ActBlockQ8& b = x[2 * i + 1];
    const __m256i qa = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(a.qs));
    const __m256i qb = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b.qs));
    const __m256i lo = _mm256_permute2x128_si256(qa, qb, 0x20);
    const __m256i hi = _mm256_permute2x128_si256(qa, qb, 0x31);
    ActPair& p = pairs[static_cast<size_t>(i)];
    _mm256_store_si256(reinterpret_cast<__m256i*>(p.lo), lo);
    _mm256_store_si256(reinterpret_cast<__m256i*>(p.hi), hi);
    // |pair sums| <= 2 * 16 * 128: no saturation.
    const __m256i sums =
        _mm256_add_epi16(_mm256_maddubs_epi16(offset, lo), _mm256_maddubs_epi16(offset, hi));
    _mm256_store_si256(reinterpret_cast<__m256i*>(p.corr), _mm256_madd_epi16(sums, ones16));
    _mm256_store_ps(p.d, _mm256_setr_m128(_mm_set1_ps(a.d), _mm_set1_ps(b.d)));
  }
  return pairs.data();
}

// The fifth bits of two Q5_0 blocks in the pair layout, as 0x10 per byte: `lo` for elements
// 0-15 (bytes 0-15 block b, bytes 16-31 block b + 1), `hi` for elements 16-31. Each byte picks
// the qh byte holding its bit (shuffle within 128-bit lanes), then tests it.
inline void PairFifthBitsQ5_0(const uint8_t* block, __m256i* lo, __m256i* hi) {
  uint32_t h0, h1;
  std::memcpy(&h0, block + 2, 4);
  std::memcpy(&h1, block + BlockQ5_0::kBytes + 2, 4);
  const __m256i both = _mm256_set1_epi64x(static_cast<int64_t>(h0 | uint64_t{h1} << 32));
  const __m256i bit = _mm256_set1_epi64x(static_cast<int64_t>(0x8040201008040201ull));
  const __m256i sixteen = _mm256_set1_epi8(0x10);
  auto spread = [&](__m256i control) {
    const __m256i picked = _mm256_and_si256(_mm256_shuffle_epi8(both, control), bit);
    return _mm256_and_si256(_mm256_cmpeq_epi8(picked, bit), sixteen);
  };
  *lo = spread(_mm256_setr_epi8(0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1,  //
                                4, 4, 4, 4, 4, 4, 4, 4, 5, 5, 5, 5, 5, 5, 5, 5));
  *hi = spread(_mm256_setr_epi8(2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3,  //
                                6, 6, 6, 6, 6, 6, 6, 6, 7, 7, 7, 7, 7, 7, 7, 7));
}

template <typename B>
void DotRowsPairs(const uint8_t* w, uint64_t row_bytes, int64_t n_rows, const void* xv, int64_t n,
                  float* y) {
  constexpr bool kFifthBit = std::is_same_v<B, BlockQ5_0>;
  const auto* x = static_cast<const ActBlockQ8*>(xv);
  const int64_t nb = n / 32, n_pairs = nb / 2;
  const ActPair* xp = PrepareActivationPairs < kFifthBit ? 16 : 8 > (x, n_pairs);
  const __m256i low4 = _mm256_set1_epi8(0x0F), ones16 = _mm256_set1_epi16(1);
  auto pair_term = [&](const uint8_t* block, const ActPair& xa, __m256 acc) {
    const __m256i packed = PairNibbles<B>(block);
    __m256i lo = _mm256_and_si256(packed, low4);
    __m256i hi = _mm256_and_si256(_mm256_srli_epi16(packed, 4), low4);
    if constexpr (kFifthBit) {
      __m256i fifth_lo, fifth_hi;
      PairFifthBitsQ5_0(block, &fifth_lo, &fifth_hi);
      lo = _mm256_or_si256(lo, fifth_lo);
      hi = _mm256_or_si256(hi, fifth_hi);
    }
    const __m256i s16 = _mm256_add_epi16(
        _mm256_maddubs_epi16(lo, _mm256_load_si256(reinterpret_cast<const __m256i*>(xa.lo))),
        _mm256_maddubs_epi16(hi, _mm256_load_si256(reinterpret_cast<const __m256i*>(xa.hi))));
    const __m256i s32 =
        _mm256_sub_epi32(_mm256_madd_epi16(s16, ones16),
                         _mm256_load_si256(reinterpret_cast<const __m256i*>(xa.corr)));
    const __m256 scale = _mm256_mul_ps(PairScales<B>(block), _mm256_load_ps(xa.d));
    return _mm256_fmadd_ps(scale, _mm256_cvtepi32_ps(s32), acc);
  };
  for (int64_t r = 0; r < n_rows; ++r) {
    const uint8_t* row = w + static_cast<uint64_t>(r) * row_bytes;
    __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
    int64_t p = 0;
    for (; p + 2 <= n_pairs; p += 2) {
      PrefetchAhead<4 * B::kBytes>(row + 2 * p * B::kBytes);
      acc0 = pair_term(row + 2 * p * B::kBytes, xp[p], acc0);
      acc1 = pair_term(row + 2 * (p + 1) * B::kBytes, xp[p + 1], acc1);
    }
    if (p < n_pairs) acc0 = pair_term(row + 2 * p * B::kBytes, xp[p], acc0);
    float sum = HorizontalSum(_mm256_add_ps(acc0, acc1));
    if (nb % 2 != 0) {  // an odd last block, with the sign tricks
      const uint8_t* block = row + (nb - 1) * B::kBytes;
      sum += HorizontalSum(BlockTerm<B>(block, B::Quants(block), x[nb - 1], _mm256_setzero_ps()));
    }
    y[r] = sum;
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
  SetSlot<BlockQ5_0>(table, DType::kQ5_0);
  SetSlot<BlockQ4_1>(table, DType::kQ4_1);
  SetSlot<BlockQ5_1>(table, DType::kQ5_1);
  table->dot_rows[static_cast<size_t>(DType::kQ4_0)] = &DotRowsPairs<BlockQ4_0>;
  table->dot_rows[static_cast<size_t>(DType::kQ5_0)] = &DotRowsPairs<BlockQ5_0>;
}

}  // namespace gemma
