// AVX-512 VNNI Q4_K decode against int8 activations, as kquant_int8_avx2.cpp's DotRowsK4 computes
// it: per sub-block j of a super-block, d_x[j] * (d * sc[j] * sum_i q_i x_i - dmin * m[j] *
// sum_i x_i), the quant dots exact in int32. One 512-bit load holds 128 quants of two 64-element
// chunks; its low nibbles are sub-blocks 2c (bytes 0-31) and 2c + 2 (bytes 32-63), its high ones
// 2c + 1 and 2c + 3, so the activations are laid out to match once per call (ActSuperBlock) and
// four vpdpbusd take a super-block. Each sum register's two halves get their sub-blocks' scales by
// one permute of the super-block's eight (the AVX2 kernel folds eight sums with hadds instead).
// On Zen 5 the AVX2 kernel ran 26 GB/s of Q4_K on one core from L3, short of the ~35 GB/s a core
// streams from DRAM with both decoding.
#include <cstddef>
#include <vector>

#include "core/quant/k_quants.h"
#include "kernels/x86/avx512_common.h"

namespace gemma::GEMMA_X86_NS {
namespace {

// One super-block's activations in the nibble layout: pair p holds sub-blocks (0|2), (1|3), (4|6),
// (5|7), 32 bytes each; d and d_sum the eight sub-blocks' scales and scaled sums (ScaledSum).
struct alignas(64) ActSuperBlock {
  int8_t pair[4][64];
  float d[8];
  float d_sum[8];
};

const ActSuperBlock* PrepareSuperBlocks(const ActBlockQ8* x, int64_t n_super) {
  thread_local std::vector<ActSuperBlock> act;
  act.resize(static_cast<size_t>(n_super));
  constexpr int kFirst[4] = {0, 1, 4, 5};  // pair p: sub-blocks kFirst[p] and kFirst[p] + 2
  for (int64_t b = 0; b < n_super; ++b) {
    ActSuperBlock& a = act[static_cast<size_t>(b)];
    const ActBlockQ8* xb = x + 8 * b;
    for (int p = 0; p < 4; ++p) {
      std::memcpy(a.pair[p], xb[kFirst[p]].qs, 32);
      std::memcpy(a.pair[p] + 32, xb[kFirst[p] + 2].qs, 32);
    }
    for (int j = 0; j < 8; ++j) {
      int32_t sum = 0;
      for (int8_t q : xb[j].qs) sum += q;
      a.d[j] = xb[j].d;
      a.d_sum[j] = xb[j].d * static_cast<float>(sum);
    }
  }
  return act.data();
}

void DotRowsQ4K(const uint8_t* w, uint64_t row_bytes, int64_t n_rows, const void* xv, int64_t n,
                float* y) {
  const auto* x = static_cast<const ActBlockQ8*>(xv);
  const int64_t nb = n / 256;
  const ActSuperBlock* xs = PrepareSuperBlocks(x, nb);
  const __m512i low4 = _mm512_set1_epi8(0x0F);
  // Lanes 0-7 take sub-block kFirst[p]'s scale, lanes 8-15 sub-block kFirst[p] + 2's.
  const __m512i spread[4] = {_mm512_setr_epi32(0, 0, 0, 0, 0, 0, 0, 0, 2, 2, 2, 2, 2, 2, 2, 2),
                             _mm512_setr_epi32(1, 1, 1, 1, 1, 1, 1, 1, 3, 3, 3, 3, 3, 3, 3, 3),
                             _mm512_setr_epi32(4, 4, 4, 4, 4, 4, 4, 4, 6, 6, 6, 6, 6, 6, 6, 6),
                             _mm512_setr_epi32(5, 5, 5, 5, 5, 5, 5, 5, 7, 7, 7, 7, 7, 7, 7, 7)};
  for (int64_t r = 0; r < n_rows; ++r) {
    const uint8_t* row = w + static_cast<uint64_t>(r) * row_bytes;
    __m512 acc0 = _mm512_setzero_ps(), acc1 = _mm512_setzero_ps();
    __m256 acc_min = _mm256_setzero_ps();
    for (int64_t b = 0; b < nb; ++b) {
      const uint8_t* blk = row + b * sizeof(QuantBlockQ4_K);
      _mm_prefetch(reinterpret_cast<const char*>(blk) + kDecodePrefetchBytes, _MM_HINT_T0);
      _mm_prefetch(reinterpret_cast<const char*>(blk) + kDecodePrefetchBytes + 64, _MM_HINT_T0);
      _mm_prefetch(reinterpret_cast<const char*>(blk) + kDecodePrefetchBytes + 128, _MM_HINT_T0);
      const ActSuperBlock& a = xs[b];
      alignas(16) uint8_t sm[16];  // sc[0..7], m[0..7]
      UnpackScalesMinsK4(blk + offsetof(QuantBlockQ4_K, scales), sm);
      const __m128i sm_v = _mm_load_si128(reinterpret_cast<const __m128i*>(sm));
      const __m256 sc = _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(sm_v));
      const __m256 mins = _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_srli_si128(sm_v, 8)));
      acc_min = _mm256_fmadd_ps(_mm256_mul_ps(_mm256_set1_ps(LoadF16(blk + 2)), mins),
                                _mm256_loadu_ps(a.d_sum), acc_min);
      const __m512 scales = _mm512_castps256_ps512(
          _mm256_mul_ps(_mm256_mul_ps(_mm256_set1_ps(LoadF16(blk)), sc), _mm256_load_ps(a.d)));
      const uint8_t* qs = blk + offsetof(QuantBlockQ4_K, qs);
      const __m512i v0 = _mm512_loadu_si512(qs), v1 = _mm512_loadu_si512(qs + 64);
      const __m512i q[4] = {
          _mm512_and_si512(v0, low4), _mm512_and_si512(_mm512_srli_epi16(v0, 4), low4),
          _mm512_and_si512(v1, low4), _mm512_and_si512(_mm512_srli_epi16(v1, 4), low4)};
      for (int p = 0; p < 4; ++p) {
        const __m512i s =
            _mm512_dpbusd_epi32(_mm512_setzero_si512(), q[p], _mm512_load_si512(a.pair[p]));
        const __m512 f = _mm512_permutexvar_ps(spread[p], scales);
        if (p % 2 == 0) {
          acc0 = _mm512_fmadd_ps(f, _mm512_cvtepi32_ps(s), acc0);
        } else {
          acc1 = _mm512_fmadd_ps(f, _mm512_cvtepi32_ps(s), acc1);
        }
      }
    }
    // acc_min in the low eight lanes (the cast leaves the high ones undefined: masked to zero).
    const __m512 mins =
        _mm512_mask_mov_ps(_mm512_setzero_ps(), 0x00ff, _mm512_castps256_ps512(acc_min));
    y[r] = HorizontalSum(_mm512_sub_ps(_mm512_add_ps(acc0, acc1), mins));
  }
}

}  // namespace

void FillAvx512KQuantKernels(KernelTable* table) {
  table->dot_rows[static_cast<size_t>(DType::kQ4_K)] = &DotRowsQ4K;
}

}  // namespace gemma::GEMMA_X86_NS
