// AVX-512 attention over an F32, F16 or BF16 KV cache (KvScoresFn, KvAccumulateFn). The query
// heads that share a KV head (GQA: four per KV head in Gemma 3 1B) go together, up to four at a
// time: each cached row is loaded and widened to f32 once for all of them, where one head at a
// time re-read and re-converted it per head. Four keys' score sums reduce in one register
// transpose instead of four horizontal sums. The Q8_0 cache keeps the AVX2 kernels.
#include <algorithm>

#include "kernels/attention_heads.h"
#include "kernels/x86/avx512_common.h"

namespace gemma::GEMMA_X86_NS {
namespace {

constexpr int kMaxHeads = 4;  // 4 heads x 4 keys (or 64 elements) = 16 accumulators

// Lane u of the result: the sum of a[u]'s sixteen lanes.
inline __m128 SumsOf4(const __m512 a[4]) {
  // Per 128-bit lane: [a0_0 + a0_2, a1_0 + a1_2, a0_1 + a0_3, a1_1 + a1_3], and a2, a3 alike.
  const __m512 s01 = _mm512_add_ps(_mm512_unpacklo_ps(a[0], a[1]), _mm512_unpackhi_ps(a[0], a[1]));
  const __m512 s23 = _mm512_add_ps(_mm512_unpacklo_ps(a[2], a[3]), _mm512_unpackhi_ps(a[2], a[3]));
  // Per 128-bit lane: the four inputs' sums over that lane.
  const __m512 t =
      _mm512_add_ps(_mm512_shuffle_ps(s01, s23, 0x44), _mm512_shuffle_ps(s01, s23, 0xEE));
  const __m256 high = _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(t), 1));
  const __m256 h = _mm256_add_ps(_mm512_castps512_ps256(t), high);
  return _mm_add_ps(_mm256_castps256_ps128(h), _mm256_extractf128_ps(h, 1));
}

// kHeads heads' scores; keys four at a time share each widened row chunk across the heads.
template <typename W, int kHeads>
void ScoresHeads(const float* q, const void* kv, int64_t stride, int64_t n_keys, int64_t head_dim,
                 float* scores, int64_t ld) {
  using T = typename W::T;
  const auto* k = static_cast<const T*>(kv);
  const int64_t vec_end = head_dim / 16 * 16;
  int64_t j = 0;
  for (; j + 4 <= n_keys; j += 4) {
    const T* r[4] = {k + j * stride, k + (j + 1) * stride, k + (j + 2) * stride,
                     k + (j + 3) * stride};
    __m512 acc[kHeads][4];
    for (int h = 0; h < kHeads; ++h)
      for (int u = 0; u < 4; ++u) acc[h][u] = _mm512_setzero_ps();
    for (int64_t i = 0; i < vec_end; i += 16) {
      __m512 kv[4];
      for (int u = 0; u < 4; ++u) kv[u] = W::Load(r[u] + i);
      for (int h = 0; h < kHeads; ++h) {
        const __m512 qv = _mm512_loadu_ps(q + h * head_dim + i);
        for (int u = 0; u < 4; ++u) acc[h][u] = _mm512_fmadd_ps(qv, kv[u], acc[h][u]);
      }
    }
    for (int h = 0; h < kHeads; ++h) {
      alignas(16) float s[4];
      _mm_store_ps(s, SumsOf4(acc[h]));
      for (int64_t i = vec_end; i < head_dim; ++i) {
        for (int u = 0; u < 4; ++u) s[u] += q[h * head_dim + i] * W::Scalar(r[u] + i);
      }
      std::copy(s, s + 4, scores + h * ld + j);
    }
  }
  for (; j < n_keys; ++j) {
    const T* r = k + j * stride;
    for (int h = 0; h < kHeads; ++h) {
      const float* qh = q + h * head_dim;
      __m512 a = _mm512_setzero_ps();
      for (int64_t i = 0; i < vec_end; i += 16)
        a = _mm512_fmadd_ps(_mm512_loadu_ps(qh + i), W::Load(r + i), a);
      float s = HorizontalSum(a);
      for (int64_t i = vec_end; i < head_dim; ++i) s += qh[i] * W::Scalar(r + i);
      scores[h * ld + j] = s;
    }
  }
}

// kHeads heads' outputs: a 64-element slice of each (4 registers per head) stays in registers
// while every key's widened V slice is added into all of them.
template <typename W, int kHeads>
void AccumulateHeads(const float* p, int64_t ld, const void* vv, int64_t stride, int64_t n_keys,
                     int64_t head_dim, float* out) {
  using T = typename W::T;
  const auto* v = static_cast<const T*>(vv);
  int64_t i0 = 0;
  for (; i0 + 64 <= head_dim; i0 += 64) {
    __m512 o[kHeads][4];
    for (int h = 0; h < kHeads; ++h)
      for (int c = 0; c < 4; ++c) o[h][c] = _mm512_loadu_ps(out + h * head_dim + i0 + 16 * c);
    for (int64_t j = 0; j < n_keys; ++j) {
      const T* r = v + j * stride + i0;
      __m512 x[4];
      for (int c = 0; c < 4; ++c) x[c] = W::Load(r + 16 * c);
      for (int h = 0; h < kHeads; ++h) {
        const __m512 pj = _mm512_set1_ps(p[h * ld + j]);
        for (int c = 0; c < 4; ++c) o[h][c] = _mm512_fmadd_ps(pj, x[c], o[h][c]);
      }
    }
    for (int h = 0; h < kHeads; ++h)
      for (int c = 0; c < 4; ++c) _mm512_storeu_ps(out + h * head_dim + i0 + 16 * c, o[h][c]);
  }
  for (; i0 + 16 <= head_dim; i0 += 16) {
    __m512 o[kHeads];
    for (int h = 0; h < kHeads; ++h) o[h] = _mm512_loadu_ps(out + h * head_dim + i0);
    for (int64_t j = 0; j < n_keys; ++j) {
      const __m512 x = W::Load(v + j * stride + i0);
      for (int h = 0; h < kHeads; ++h)
        o[h] = _mm512_fmadd_ps(_mm512_set1_ps(p[h * ld + j]), x, o[h]);
    }
    for (int h = 0; h < kHeads; ++h) _mm512_storeu_ps(out + h * head_dim + i0, o[h]);
  }
  AccumulateColumns<W>(p, ld, kHeads, v, stride, n_keys, head_dim, out, i0);
}

// The kernels above, for attention_heads.h's head groups.
template <typename W>
struct HeadTiles {
  template <int H>
  static constexpr auto kScores = &ScoresHeads<W, H>;
  template <int H>
  static constexpr auto kAccumulate = &AccumulateHeads<W, H>;
};

template <typename W>
void Set(KernelTable* t, DType type) {
  t->kv_scores[static_cast<size_t>(type)] = &ScoresByHeadGroups<HeadTiles<W>, kMaxHeads>;
  t->kv_accumulate[static_cast<size_t>(type)] = &AccumulateByHeadGroups<HeadTiles<W>, kMaxHeads>;
}

}  // namespace

void FillAvx512AttentionKernels(KernelTable* table) {
  Set<LoadF32>(table, DType::kF32);
  Set<LoadF16Row>(table, DType::kF16);
  Set<LoadBF16Row>(table, DType::kBF16);
}

}  // namespace gemma::GEMMA_X86_NS
