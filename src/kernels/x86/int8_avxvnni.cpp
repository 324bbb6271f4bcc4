// AVX-VNNI (256-bit vpdpbusd, on cores without AVX-512: Alder Lake and later) kernels for Q8_0 /
// Q4_0 weights against int8 activations, on top of the avx2 table: decode dot products
// and the Q4_0 prefill panel tile. As in int8_vnni_avx512.cpp, the quants go in unsigned (Q4_0
// as stored, Q8_0 with its sign bit flipped) and the offset times the activations' sum is the
// int32 sums' starting value, so each block's integer dot product is exact. Compiled with
// -mavx2 -mfma -mf16c -mavxvnni, or against SIMDe for the tests (x86_intrinsics.h).
#include <vector>

#include "kernels/int8_panel_tokens.h"
#include "kernels/x86/avx2_common.h"
#include "kernels/x86/x86_intrinsics.h"

namespace gemma::GEMMA_X86_NS {
namespace {

// Per activation block: -offset * (sum of the four activations of each int32 lane).
struct alignas(32) LaneCorrection {
  int32_t v[8];
};

template <int kOffset>
const LaneCorrection* PrepareCorrections(const ActBlockQ8* x, int64_t nb) {
  thread_local std::vector<LaneCorrection> corr;
  corr.resize(static_cast<size_t>(nb));
  const __m256i offset = _mm256_set1_epi8(static_cast<char>(kOffset));
  for (int64_t b = 0; b < nb; ++b) {
    const __m256i q = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x[b].qs));
    const __m256i sums = _mm256_dpbusd_avx_epi32(_mm256_setzero_si256(), offset, q);
    _mm256_store_si256(reinterpret_cast<__m256i*>(corr[static_cast<size_t>(b)].v),
                       _mm256_sub_epi32(_mm256_setzero_si256(), sums));
  }
  return corr.data();
}

// A block's 32 quants as unsigned bytes in element order.
struct UnsignedQ8_0 {
  static constexpr int kBytes = 34;
  static constexpr int kOffset = 128;
  static __m256i Quants(const uint8_t* b) {
    const __m256i q = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b + 2));
    return _mm256_xor_si256(q, _mm256_set1_epi8(static_cast<char>(0x80)));
  }
};
struct UnsignedQ4_0 {
  static constexpr int kBytes = 18;
  static constexpr int kOffset = 8;
  static __m256i Quants(const uint8_t* b) {
    const __m128i packed = _mm_loadu_si128(reinterpret_cast<const __m128i*>(b + 2));
    const __m256i both = _mm256_set_m128i(_mm_srli_epi16(packed, 4), packed);
    return _mm256_and_si256(both, _mm256_set1_epi8(0x0F));
  }
};

template <typename B>
void DotRows(const uint8_t* w, uint64_t row_bytes, int64_t n_rows, const void* xv, int64_t n,
             float* y) {
  const auto* x = static_cast<const ActBlockQ8*>(xv);
  const int64_t nb = n / 32;
  const LaneCorrection* corr = PrepareCorrections<B::kOffset>(x, nb);
  auto block_term = [&](const uint8_t* block, int64_t b, __m256 acc) {
    const __m256i s = _mm256_dpbusd_avx_epi32(
        _mm256_load_si256(reinterpret_cast<const __m256i*>(corr[b].v)), B::Quants(block),
        _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x[b].qs)));
    return _mm256_fmadd_ps(_mm256_set1_ps(avx2::LoadF16(block) * x[b].d), _mm256_cvtepi32_ps(s),
                           acc);
  };
  for (int64_t r = 0; r < n_rows; ++r) {
    const uint8_t* row = w + static_cast<uint64_t>(r) * row_bytes;
    __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
    int64_t b = 0;
    for (; b + 2 <= nb; b += 2) {
      const uint8_t* b0 = row + b * B::kBytes;
      avx2::PrefetchAhead<2 * B::kBytes>(b0);
      acc0 = block_term(b0, b, acc0);
      acc1 = block_term(b0 + B::kBytes, b + 1, acc1);
    }
    if (b < nb) acc0 = block_term(row + b * B::kBytes, b, acc0);
    y[r] = avx2::HorizontalSum(_mm256_add_ps(acc0, acc1));
  }
}

// The int8 prefill tiles' block step on signed panels (kernels.h), as int8_vnni_avx512.cpp's in
// two halves: for groups [g0, g1) of four quants, two 256-bit loads of signed quants (rows 0-7,
// 8-15) and, per token, two vpdpbusd against its four activation bytes (+ 128, unsigned)
// broadcast, into int32 sums that start at the rows' correction `corr`; the sums, times the rows'
// scales `d` and the token's, are added into acc. A whole block is groups 0-8; a split (Q6_K)
// block's halves are groups 0-4 and 4-8, each with its own scales and correction.
template <int NT>
inline void AddGroupSums(const uint8_t (*q)[4 * kInt8PanelRows], int g0, int g1,
                         const int32_t* corr, const float* d, const ActBlockQ8* x, int64_t x_stride,
                         int64_t b, __m256 acc_lo[NT], __m256 acc_hi[NT]) {
  const __m256i corr_lo = _mm256_load_si256(reinterpret_cast<const __m256i*>(corr));
  const __m256i corr_hi = _mm256_load_si256(reinterpret_cast<const __m256i*>(corr + 8));
  __m256i s_lo[NT], s_hi[NT];
  for (int t = 0; t < NT; ++t) {
    s_lo[t] = corr_lo;
    s_hi[t] = corr_hi;
  }
  for (int g = g0; g < g1; ++g) {
    const __m256i w_lo = _mm256_load_si256(reinterpret_cast<const __m256i*>(q[g]));
    const __m256i w_hi = _mm256_load_si256(reinterpret_cast<const __m256i*>(q[g] + 32));
    for (int t = 0; t < NT; ++t) {
      int32_t four;
      std::memcpy(&four, x[t * x_stride + b].qs + 4 * g, 4);
      const __m256i a = _mm256_set1_epi32(four);
      s_lo[t] = _mm256_dpbusd_avx_epi32(s_lo[t], a, w_lo);
      s_hi[t] = _mm256_dpbusd_avx_epi32(s_hi[t], a, w_hi);
    }
  }
  const __m256 d_lo = _mm256_load_ps(d), d_hi = _mm256_load_ps(d + 8);
  for (int t = 0; t < NT; ++t) {
    const __m256 dx = _mm256_set1_ps(x[t * x_stride + b].d);
    acc_lo[t] = _mm256_fmadd_ps(_mm256_mul_ps(d_lo, dx), _mm256_cvtepi32_ps(s_lo[t]), acc_lo[t]);
    acc_hi[t] = _mm256_fmadd_ps(_mm256_mul_ps(d_hi, dx), _mm256_cvtepi32_ps(s_hi[t]), acc_hi[t]);
  }
}

// The int8 prefill tile on signed panels: 16 x 3 fills the sixteen registers.
struct Int8TileAvxVnni {
  static_assert(kInt8PanelRows == 16, "two 8-row halves per group");
  static constexpr int kTokens = kInt8PanelTokens;
  template <int NT>
  static void Run(const Int8PanelBlock* panel, int64_t n_blocks, const ActBlockQ8* x,
                  const Int8PairCorr* /*x_corr*/, int64_t x_stride, float* const* y, int64_t n_rows,
                  bool accumulate) {
    __m256 acc_lo[NT], acc_hi[NT];
    for (int t = 0; t < NT; ++t) acc_lo[t] = acc_hi[t] = _mm256_setzero_ps();
    for (int64_t b = 0; b < n_blocks; ++b) {
      const Int8PanelBlock& pb = panel[b];
      AddGroupSums<NT>(pb.q, 0, 8, pb.row_corr, pb.d, x, x_stride, b, acc_lo, acc_hi);
    }
    for (int t = 0; t < NT; ++t) {
      avx2::StoreRows16(acc_lo[t], acc_hi[t], y[t], n_rows, accumulate);
    }
  }
};

// Q6_K's split panels (Int8SplitPanelBlock) as Int8TileAvxVnni, each 16-element half block's
// sums converted and scaled on their own (its scale times the token's, then an FMA): with 8-row
// register halves the sums and accumulators of three tokens fill the sixteen registers.
struct Int8SplitTileAvxVnni {
  static constexpr int kTokens = kInt8PanelTokens;
  template <int NT>
  static void Run(const Int8SplitPanelBlock* panel, int64_t n_blocks, const ActBlockQ8* x,
                  int64_t x_stride, float* y, int64_t ldy, int64_t n_rows, bool accumulate) {
    __m256 acc_lo[NT], acc_hi[NT];
    for (int t = 0; t < NT; ++t) acc_lo[t] = acc_hi[t] = _mm256_setzero_ps();
    for (int64_t b = 0; b < n_blocks; ++b) {
      const Int8SplitPanelBlock& pb = panel[b];
      for (int h = 0; h < 2; ++h) {
        AddGroupSums<NT>(pb.q, 4 * h, 4 * h + 4, pb.row_corr[h], pb.d[h], x, x_stride, b, acc_lo,
                         acc_hi);
      }
    }
    for (int t = 0; t < NT; ++t) {
      avx2::StoreRows16(acc_lo[t], acc_hi[t], y + t * ldy, n_rows, accumulate);
    }
  }
};

void Int8SplitPanelGemm(const Int8SplitPanelBlock* panel, int64_t n_blocks, const ActBlockQ8* x,
                        int64_t x_stride, int64_t n_tokens, int64_t n_rows, float* y, int64_t ldy,
                        bool accumulate) {
  ForTokenGroups<Int8SplitTileAvxVnni::kTokens>(n_tokens, [&]<int NT>(int64_t t0) {
    Int8SplitTileAvxVnni::Run<NT>(panel, n_blocks, x + t0 * x_stride, x_stride, y + t0 * ldy, ldy,
                                  n_rows, accumulate);
  });
}

// Int8PanelToSignedFn in 256-bit halves (see int8_vnni_avx512.cpp's).
void Int8PanelToSigned(Int8PanelBlock* panel, int64_t n_blocks, int quant_offset) {
  const __m256i offset = _mm256_set1_epi8(static_cast<char>(quant_offset));
  const __m256i ones = _mm256_set1_epi8(1);
  for (int64_t b = 0; b < n_blocks; ++b) {
    Int8PanelBlock& pb = panel[b];
    __m256i sums[2] = {_mm256_setzero_si256(), _mm256_setzero_si256()};
    for (int g = 0; g < 8; ++g) {
      for (int h = 0; h < 2; ++h) {
        auto* at = reinterpret_cast<__m256i*>(pb.q[g] + 32 * h);
        const __m256i w = _mm256_sub_epi8(_mm256_load_si256(at), offset);
        _mm256_store_si256(at, w);
        sums[h] = _mm256_dpbusd_avx_epi32(sums[h], ones, w);
      }
    }
    for (int h = 0; h < 2; ++h) {
      const __m256i corr = _mm256_slli_epi32(_mm256_sub_epi32(_mm256_setzero_si256(), sums[h]), 7);
      _mm256_store_si256(reinterpret_cast<__m256i*>(pb.row_corr + 8 * h), corr);
    }
  }
}

}  // namespace

void FillAvxVnniKernels(KernelTable* table) {
  FillAvx2Int8Kernels(table);  // every slot not replaced below
  table->isa = Isa::kAvxVnni;
  table->dot_rows[static_cast<size_t>(DType::kQ8_0)] = &DotRows<UnsignedQ8_0>;
  table->dot_rows[static_cast<size_t>(DType::kQ4_0)] = &DotRows<UnsignedQ4_0>;
  table->int8_panel_to_signed = &Int8PanelToSigned;
  table->int8_split_panel_gemm = &Int8SplitPanelGemm;
  table->int8_panel_gemm = &Int8PanelOverTokens<Int8TileAvxVnni>;
}

}  // namespace gemma::GEMMA_X86_NS
