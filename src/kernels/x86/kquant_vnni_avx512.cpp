// AVX-512 VNNI decode of Q4_K and Q6_K against int8 activations (ActBlockQ8 per 32 elements).
// Q4_K as kquant_int8_avx2.cpp's DotRowsK4 computes it: per sub-block j of a super-block,
// d_x[j] * (d * sc[j] * sum_i q_i x_i - dmin * m[j] * sum_i x_i), the quant dots exact in int32.
// One 512-bit load holds 128 quants of two 64-element chunks; its low nibbles are sub-blocks 2c
// (bytes 0-31) and 2c + 2 (bytes 32-63), its high ones 2c + 1 and 2c + 3, so the activations are
// laid out to match once per call (ActSuperBlock) and four vpdpbusd take a super-block. Each sum
// register's two halves get their sub-blocks' scales by one permute of the super-block's eight
// (the AVX2 kernel folds eight sums with hadds instead). One Zen 5 core from L3: Q4_K 26 -> 35
// GB/s, Q6_K 22.5 -> 54.5 GB/s against the AVX2 kernels, which fell short of the ~35 GB/s a core
// streams from DRAM with both decoding.
#include <cstddef>
#include <vector>

#include "core/quant/k_quants.h"
#include "kernels/activation_scales.h"
#include "kernels/x86/avx512_common.h"

namespace gemma::GEMMA_X86_NS {
namespace {

// One super-block's activations in the nibble layout: pair p holds sub-blocks (0|2), (1|3), (4|6),
// (5|7), 32 bytes each (their scales and scaled sums come from GatherActScales).
struct alignas(64) ActSuperBlock {
  int8_t pair[4][64];
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
  }
  return act.data();
}

void DotRowsQ4K(const uint8_t* w, uint64_t row_bytes, int64_t n_rows, const void* xv, int64_t n,
                float* y) {
  const auto* x = static_cast<const ActBlockQ8*>(xv);
  const int64_t nb = n / 256;
  const ActSuperBlock* xs = PrepareSuperBlocks(x, nb);
  const ActScales scales_x = GatherActScales(x, n / 32, /*with_sums=*/true);
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
      PrefetchWeights<sizeof(QuantBlockQ4_K)>(blk);
      const ActSuperBlock& a = xs[b];
      alignas(16) uint8_t sm[16];  // sc[0..7], m[0..7]
      UnpackScalesMinsK4(blk + offsetof(QuantBlockQ4_K, scales), sm);
      const __m128i sm_v = _mm_load_si128(reinterpret_cast<const __m128i*>(sm));
      const __m256 sc = _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(sm_v));
      const __m256 mins = _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_srli_si128(sm_v, 8)));
      acc_min = _mm256_fmadd_ps(_mm256_mul_ps(_mm256_set1_ps(LoadF16(blk + 2)), mins),
                                _mm256_loadu_ps(scales_x.d_sum + 8 * b), acc_min);
      const __m512 scales = _mm512_castps256_ps512(_mm256_mul_ps(
          _mm256_mul_ps(_mm256_set1_ps(LoadF16(blk)), sc), _mm256_loadu_ps(scales_x.d + 8 * b)));
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

// Q6_K: each half of a super-block is one 512-bit load of ql (low nibbles: elements 0-63 of the
// half, high nibbles 64-127) and 32 bytes of qh whose bit pairs are shifted into bits 4-5 per
// 256-bit half (vpsllvw / vpsrlvw), so four vpdpbusd of unsigned 6-bit quants take a super-block.
// The "- 32" starts each int32 lane's sum (ActQ6K::corr), and every lane gets its 16-element
// group's scale times its activation block's (one permute of the sixteen scales, one multiply).
struct alignas(64) ActQ6K {
  int8_t x[4][64];      // vector v: activation blocks 2v and 2v + 1
  int32_t corr[4][16];  // -32 * the lane's four activations
  float d[4][16];       // lanes 0-7 block 2v's scale, lanes 8-15 block 2v + 1's
};

const ActQ6K* PrepareQ6K(const ActBlockQ8* x, int64_t n_super) {
  thread_local std::vector<ActQ6K> act;
  act.resize(static_cast<size_t>(n_super));
  for (int64_t b = 0; b < n_super; ++b) {
    ActQ6K& a = act[static_cast<size_t>(b)];
    const ActBlockQ8* xb = x + 8 * b;
    for (int v = 0; v < 4; ++v) {
      std::memcpy(a.x[v], xb[2 * v].qs, 32);
      std::memcpy(a.x[v] + 32, xb[2 * v + 1].qs, 32);
      for (int lane = 0; lane < 16; ++lane) {
        int32_t sum = 0;
        for (int j = 0; j < 4; ++j) sum += a.x[v][4 * lane + j];
        a.corr[v][lane] = -32 * sum;
        a.d[v][lane] = xb[2 * v + lane / 8].d;
      }
    }
  }
  return act.data();
}

void DotRowsQ6K(const uint8_t* w, uint64_t row_bytes, int64_t n_rows, const void* xv, int64_t n,
                float* y) {
  const auto* x = static_cast<const ActBlockQ8*>(xv);
  const int64_t nb = n / 256;
  const ActQ6K* xs = PrepareQ6K(x, nb);
  const __m512i low4 = _mm512_set1_epi8(0x0F), bits45 = _mm512_set1_epi8(0x30);
  // Low-nibble vectors take qh's bits 0-1 (first 256 bits) and 2-3 (second) into bits 4-5;
  // high-nibble vectors bits 4-5 and 6-7.
  const __m512i shift_lo = _mm512_setr_epi64(
      0x0004000400040004, 0x0004000400040004, 0x0004000400040004, 0x0004000400040004,
      0x0002000200020002, 0x0002000200020002, 0x0002000200020002, 0x0002000200020002);
  const __m512i shift_hi = _mm512_setr_epi64(0, 0, 0, 0, 0x0002000200020002, 0x0002000200020002,
                                             0x0002000200020002, 0x0002000200020002);
  // Vector v's lanes 4g .. 4g + 3 take scale 4v + g.
  __m512i spread[4];
  for (int v = 0; v < 4; ++v) {
    spread[v] = _mm512_setr_epi32(4 * v, 4 * v, 4 * v, 4 * v, 4 * v + 1, 4 * v + 1, 4 * v + 1,
                                  4 * v + 1, 4 * v + 2, 4 * v + 2, 4 * v + 2, 4 * v + 2, 4 * v + 3,
                                  4 * v + 3, 4 * v + 3, 4 * v + 3);
  }
  for (int64_t r = 0; r < n_rows; ++r) {
    const uint8_t* row = w + static_cast<uint64_t>(r) * row_bytes;
    __m512 acc0 = _mm512_setzero_ps(), acc1 = _mm512_setzero_ps();
    for (int64_t b = 0; b < nb; ++b) {
      const uint8_t* blk = row + b * sizeof(QuantBlockQ6_K);
      PrefetchWeights<sizeof(QuantBlockQ6_K)>(blk);
      const ActQ6K& a = xs[b];
      const __m512 scales = _mm512_mul_ps(
          _mm512_set1_ps(LoadF16(blk + offsetof(QuantBlockQ6_K, d))),
          _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_loadu_si128(
              reinterpret_cast<const __m128i*>(blk + offsetof(QuantBlockQ6_K, scales))))));
      auto term = [&](int v, __m512i q, __m512 acc) {
        const __m512i s =
            _mm512_dpbusd_epi32(_mm512_load_si512(a.corr[v]), q, _mm512_load_si512(a.x[v]));
        const __m512 f =
            _mm512_mul_ps(_mm512_permutexvar_ps(spread[v], scales), _mm512_load_ps(a.d[v]));
        return _mm512_fmadd_ps(f, _mm512_cvtepi32_ps(s), acc);
      };
      for (int h = 0; h < 2; ++h) {
        const __m512i ql = _mm512_loadu_si512(blk + offsetof(QuantBlockQ6_K, ql) + 64 * h);
        const __m512i qh = _mm512_broadcast_i64x4(_mm256_loadu_si256(
            reinterpret_cast<const __m256i*>(blk + offsetof(QuantBlockQ6_K, qh) + 32 * h)));
        const __m512i q_lo = _mm512_or_si512(
            _mm512_and_si512(ql, low4), _mm512_and_si512(_mm512_sllv_epi16(qh, shift_lo), bits45));
        const __m512i q_hi =
            _mm512_or_si512(_mm512_and_si512(_mm512_srli_epi16(ql, 4), low4),
                            _mm512_and_si512(_mm512_srlv_epi16(qh, shift_hi), bits45));
        acc0 = term(2 * h, q_lo, acc0);
        acc1 = term(2 * h + 1, q_hi, acc1);
      }
    }
    y[r] = HorizontalSum(_mm512_add_ps(acc0, acc1));
  }
}

}  // namespace

void FillAvx512KQuantKernels(KernelTable* table) {
  table->dot_rows[static_cast<size_t>(DType::kQ4_K)] = &DotRowsQ4K;
  table->dot_rows[static_cast<size_t>(DType::kQ6_K)] = &DotRowsQ6K;
}

}  // namespace gemma::GEMMA_X86_NS
