// AVX2 kernels for Q8_0 / Q4_0 (and Q5_0 / Q4_1 / Q5_1) weights against f32 activations: each
// block's quants become f32 exactly and are multiplied exactly, so results equal f32 math on the
// dequantized weights (the scalar oracle) up to summation order. The "avx2-f32" table (--isa
// avx2-f32): more exact than 8-bit activations. Decode masks the quants in place against
// activations rearranged once per call (no widening shuffles); prefill tiles widen each block once
// for up to four tokens (Widen, BlockTerm: also an odd last Q4_0 block in decode).
#include <vector>

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

// BlockTerm plus, for types with a minimum m, m * sum_i x[i].
template <typename B>
inline __m256 Term(const uint8_t* block, const __m256 w[4], const float* x, __m256 acc) {
  acc = BlockTerm(block, w, x, acc);
  if constexpr (HasMin<B>) {
    const __m256 sum =
        _mm256_add_ps(_mm256_add_ps(_mm256_loadu_ps(x), _mm256_loadu_ps(x + 8)),
                      _mm256_add_ps(_mm256_loadu_ps(x + 16), _mm256_loadu_ps(x + 24)));
    acc = _mm256_fmadd_ps(_mm256_set1_ps(LoadF16(block + 2)), sum, acc);
  }
  return acc;
}

// Decode for the block types without a rearranged kernel below: each block widened.
template <typename B>
void DotRowsWidened(const uint8_t* w, uint64_t row_bytes, int64_t n_rows, const void* xv, int64_t n,
                    float* y) {
  const auto* x = static_cast<const float*>(xv);
  for (int64_t r = 0; r < n_rows; ++r) {
    const uint8_t* row = w + static_cast<uint64_t>(r) * row_bytes;
    __m256 acc = _mm256_setzero_ps();
    for (int64_t b = 0; b < n / 32; ++b) {
      const uint8_t* block = row + b * B::kBytes;
      PrefetchAhead<B::kBytes>(block);
      __m256 wf[4];
      Widen<B>(block, wf);
      acc = Term<B>(block, wf, x + 32 * b, acc);
    }
    y[r] = HorizontalSum(acc);
  }
}

// Prefill: widen each block once, use it for up to four tokens.
template <typename B>
struct RowTokens {
  template <int NT>
  static void Run(const uint8_t* row, const float* const* x, int64_t n, float* const* y) {
    __m256 acc[NT];
#pragma GCC unroll 16
    for (int t = 0; t < NT; ++t) acc[t] = _mm256_setzero_ps();
    for (int64_t b = 0; b < n / 32; ++b) {
      const uint8_t* block = row + b * B::kBytes;
      __m256 wf[4];
      Widen<B>(block, wf);
      for (int t = 0; t < NT; ++t) acc[t] = Term<B>(block, wf, x[t] + 32 * b, acc[t]);
    }
    for (int t = 0; t < NT; ++t) *y[t] = HorizontalSum(acc[t]);
  }
};

// The columns of the 4 x 4 row-major matrix m (16 floats): col[s] = {m[s], m[4+s], m[8+s],
// m[12+s]}. The decode kernels below lay activations out by quant byte this way.
inline void ColumnsOf4x4(const float* m, __m128 col[4]) {
  for (int k = 0; k < 4; ++k) col[k] = _mm_loadu_ps(m + 4 * k);
  _MM_TRANSPOSE4_PS(col[0], col[1], col[2], col[3]);
}

// Q4_0 decode on pairs of blocks without widening shuffles. The 32-bit lanes of a pair's nibbles
// (PairNibbles) are masked in place: lane j, masked with 0x0F << 8s, is quant q of element
// 4 (j % 4) + s of block j / 4 times 2^(8s) (and the same on the nibbles shifted right by 4 for
// elements 16-31), an integer below 2^28 that converts to f32 exactly. The activations are laid
// out to match once per call, pre-scaled by 2^(-8s) (exact: a power of two), so each product is
// exactly q * x; the "- 8" starts each lane's sum as -8 times the activations it covers. Per
// 64 weights: one shift, eight and/convert/FMA triples and a scale FMA, where widening bytes
// took about twice the instructions, most of them on the two shuffle pipes.
struct alignas(32) ActPairQ4F32 {
  float x[8][8];  // [n * 4 + s][j]: element 16 n + 4 (j % 4) + s of block j / 4, times 2^(-8s)
  float corr[8];  // -8 times the sum of lane j's eight activations
};

const ActPairQ4F32* PrepareActivationPairsQ4F32(const float* x, int64_t n_pairs) {
  thread_local std::vector<ActPairQ4F32> pairs;
  pairs.resize(static_cast<size_t>(n_pairs));
  const float scale[4] = {1.f, 1.f / 256, 1.f / 65536, 1.f / 16777216};
  for (int64_t p = 0; p < n_pairs; ++p) {
    ActPairQ4F32& out = pairs[static_cast<size_t>(p)];
    __m256 sum = _mm256_setzero_ps();
    for (int n = 0; n < 2; ++n) {
      // Elements 16 n + 4 k + s of both blocks, as columns s.
      __m128 a[4], b[4];
      ColumnsOf4x4(x + 64 * p + 16 * n, a);
      ColumnsOf4x4(x + 64 * p + 32 + 16 * n, b);
      for (int sh = 0; sh < 4; ++sh) {
        const __m256 column = _mm256_set_m128(b[sh], a[sh]);
        sum = _mm256_add_ps(sum, column);
        _mm256_store_ps(out.x[4 * n + sh], _mm256_mul_ps(column, _mm256_set1_ps(scale[sh])));
      }
    }
    _mm256_store_ps(out.corr, _mm256_mul_ps(sum, _mm256_set1_ps(-8.f)));
  }
  return pairs.data();
}

void DotRowsQ4_0(const uint8_t* w, uint64_t row_bytes, int64_t n_rows, const void* xv, int64_t n,
                 float* y) {
  const auto* x = static_cast<const float*>(xv);
  const int64_t nb = n / 32, n_pairs = nb / 2;
  const ActPairQ4F32* xp = PrepareActivationPairsQ4F32(x, n_pairs);
  const __m256i masks[4] = {_mm256_set1_epi32(0x0F), _mm256_set1_epi32(0x0F00),
                            _mm256_set1_epi32(0x0F0000), _mm256_set1_epi32(0x0F000000)};
  for (int64_t r = 0; r < n_rows; ++r) {
    const uint8_t* row = w + static_cast<uint64_t>(r) * row_bytes;
    __m256 total = _mm256_setzero_ps();
    for (int64_t p = 0; p < n_pairs; ++p) {
      const uint8_t* block = row + 2 * p * BlockQ4_0::kBytes;
      PrefetchAhead<2 * BlockQ4_0::kBytes>(block);
      const ActPairQ4F32& xa = xp[p];
      const __m256i lo = PairNibbles<BlockQ4_0>(block), hi = _mm256_srli_epi32(lo, 4);
      // Four chains: eight dependent FMAs would wait on each other's latency.
      __m256 acc[4];
      for (int sh = 0; sh < 4; ++sh) {
        acc[sh] = _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_and_si256(lo, masks[sh])),
                                _mm256_load_ps(xa.x[sh]));
        acc[sh] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(_mm256_and_si256(hi, masks[sh])),
                                  _mm256_load_ps(xa.x[4 + sh]), acc[sh]);
      }
      const __m256 sum = _mm256_add_ps(_mm256_add_ps(acc[0], acc[1]),
                                       _mm256_add_ps(acc[2], _mm256_load_ps(xa.corr)));
      total = _mm256_fmadd_ps(PairScales<BlockQ4_0>(block), _mm256_add_ps(sum, acc[3]), total);
    }
    float sum = HorizontalSum(total);
    if (nb % 2 != 0) {  // an odd last block, widened
      const uint8_t* block = row + (nb - 1) * BlockQ4_0::kBytes;
      __m256 wf[4];
      Widen<BlockQ4_0>(block, wf);
      sum += HorizontalSum(BlockTerm(block, wf, x + 32 * (nb - 1), _mm256_setzero_ps()));
    }
    y[r] = sum;
  }
}

// Q8_0 decode the same way: lane j of a block's 32 bytes holds elements 4j..4j+3; shifted left
// so byte s is on top and masked, it is the signed quant times 2^24 (exact in f32), against
// activations laid out per call as [s][j] = element 4j + s times 2^(-24).
struct alignas(32) ActBlockQ8F32 {
  float x[4][8];
};

const ActBlockQ8F32* PrepareActivationsQ8F32(const float* x, int64_t n_blocks) {
  thread_local std::vector<ActBlockQ8F32> blocks;
  blocks.resize(static_cast<size_t>(n_blocks));
  const __m256 scale = _mm256_set1_ps(1.f / 16777216);
  for (int64_t b = 0; b < n_blocks; ++b) {
    __m128 a[4], c[4];  // elements 4j + s for j = 0-3 and 4-7, as columns s
    ColumnsOf4x4(x + 32 * b, a);
    ColumnsOf4x4(x + 32 * b + 16, c);
    for (int sh = 0; sh < 4; ++sh) {
      _mm256_store_ps(blocks[static_cast<size_t>(b)].x[sh],
                      _mm256_mul_ps(_mm256_set_m128(c[sh], a[sh]), scale));
    }
  }
  return blocks.data();
}

void DotRowsQ8_0(const uint8_t* w, uint64_t row_bytes, int64_t n_rows, const void* xv, int64_t n,
                 float* y) {
  const int64_t nb = n / 32;
  const ActBlockQ8F32* xp = PrepareActivationsQ8F32(static_cast<const float*>(xv), nb);
  const __m256i top = _mm256_set1_epi32(static_cast<int32_t>(0xFF000000u));
  // scale * sum of one block's 32 products, added to acc.
  auto block_term = [&](const uint8_t* block, const ActBlockQ8F32& xa, __m256 acc) {
    const __m256i q = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(block + 2));
    const __m256 w0 = _mm256_cvtepi32_ps(_mm256_and_si256(_mm256_slli_epi32(q, 24), top));
    const __m256 w1 = _mm256_cvtepi32_ps(_mm256_and_si256(_mm256_slli_epi32(q, 16), top));
    const __m256 w2 = _mm256_cvtepi32_ps(_mm256_and_si256(_mm256_slli_epi32(q, 8), top));
    const __m256 w3 = _mm256_cvtepi32_ps(_mm256_and_si256(q, top));
    const __m256 s01 =
        _mm256_fmadd_ps(w1, _mm256_load_ps(xa.x[1]), _mm256_mul_ps(w0, _mm256_load_ps(xa.x[0])));
    const __m256 s23 =
        _mm256_fmadd_ps(w3, _mm256_load_ps(xa.x[3]), _mm256_mul_ps(w2, _mm256_load_ps(xa.x[2])));
    return _mm256_fmadd_ps(_mm256_set1_ps(LoadF16(block)), _mm256_add_ps(s01, s23), acc);
  };
  for (int64_t r = 0; r < n_rows; ++r) {
    const uint8_t* row = w + static_cast<uint64_t>(r) * row_bytes;
    // Two chains across blocks for the FMA latency.
    __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
    int64_t b = 0;
    for (; b + 2 <= nb; b += 2) {
      const uint8_t* block = row + b * BlockQ8_0::kBytes;
      PrefetchAhead<2 * BlockQ8_0::kBytes>(block);
      acc0 = block_term(block, xp[b], acc0);
      acc1 = block_term(block + BlockQ8_0::kBytes, xp[b + 1], acc1);
    }
    if (b < nb) acc0 = block_term(row + b * BlockQ8_0::kBytes, xp[b], acc0);
    y[r] = HorizontalSum(_mm256_add_ps(acc0, acc1));
  }
}

template <typename B>
void SetSlot(KernelTable* table, DType type, DotRowsFn decode) {
  table->dot_rows[static_cast<size_t>(type)] = decode;
  table->gemm_tile[static_cast<size_t>(type)] = &TileOverTokens<float, RowTokens<B>>;
  table->activation[static_cast<size_t>(type)] = ActivationType::kF32;
}

}  // namespace

void FillAvx2QuantF32Kernels(KernelTable* table) {
  SetSlot<BlockQ8_0>(table, DType::kQ8_0, &DotRowsQ8_0);
  SetSlot<BlockQ4_0>(table, DType::kQ4_0, &DotRowsQ4_0);
  SetSlot<BlockQ5_0>(table, DType::kQ5_0, &DotRowsWidened<BlockQ5_0>);
  SetSlot<BlockQ4_1>(table, DType::kQ4_1, &DotRowsWidened<BlockQ4_1>);
  SetSlot<BlockQ5_1>(table, DType::kQ5_1, &DotRowsWidened<BlockQ5_1>);
}

}  // namespace gemma
