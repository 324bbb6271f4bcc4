// AVX2 attention over cached K/V rows (F32, F16, BF16 or Q8_0 cache), see KvScoresFn and
// KvAccumulateFn. The float caches do the query heads of a KV head together; the Q8_0 cache one
// head at a time (attention_heads.h).
#include "kernels/attention_heads.h"
#include "kernels/x86/avx2_common.h"
#include "kernels/x86/avx2_kernels.h"

namespace gemma {
namespace {

using namespace avx2;

// The float caches take every query head of the KV head at once (KvScoresFn), up to four at a
// time: each cached row chunk is widened to f32 once for all of them. Sixteen registers hold
// kHeads x kKeys score sums (or kHeads x kChunks output slices), the widened chunks and one
// broadcast.
constexpr int kMaxHeads = 4;

// Lane i of the result: the sum of a[i]'s eight lanes.
inline __m256 SumsOf8(const __m256 a[8]) {
  const __m256 h01 = _mm256_hadd_ps(a[0], a[1]), h23 = _mm256_hadd_ps(a[2], a[3]);
  const __m256 h45 = _mm256_hadd_ps(a[4], a[5]), h67 = _mm256_hadd_ps(a[6], a[7]);
  const __m256 h0123 = _mm256_hadd_ps(h01, h23), h4567 = _mm256_hadd_ps(h45, h67);
  return _mm256_add_ps(_mm256_permute2f128_ps(h0123, h4567, 0x20),
                       _mm256_permute2f128_ps(h0123, h4567, 0x31));
}

template <typename W, int kHeads>
void ScoresHeads(const float* q, const void* kv, int64_t stride, int64_t n_keys, int64_t head_dim,
                 float* scores, int64_t ld) {
  using T = typename W::T;
  const auto* k = static_cast<const T*>(kv);
  constexpr int kKeys = kHeads <= 2 ? 4 : 2;
  const int64_t vec_end = head_dim / 8 * 8;
  int64_t j = 0;
  for (; j + kKeys <= n_keys; j += kKeys) {
    const T* r[kKeys];
    for (int u = 0; u < kKeys; ++u) r[u] = k + (j + u) * stride;
    __m256 acc[8];
    for (__m256& a : acc) a = _mm256_setzero_ps();
    for (int64_t i = 0; i < vec_end; i += 8) {
      __m256 kv[kKeys];
      for (int u = 0; u < kKeys; ++u) kv[u] = W::Load(r[u] + i);
      for (int h = 0; h < kHeads; ++h) {
        const __m256 qv = _mm256_loadu_ps(q + h * head_dim + i);
        for (int u = 0; u < kKeys; ++u)
          acc[h * kKeys + u] = _mm256_fmadd_ps(qv, kv[u], acc[h * kKeys + u]);
      }
    }
    alignas(32) float s[8];
    _mm256_store_ps(s, SumsOf8(acc));
    for (int h = 0; h < kHeads; ++h) {
      for (int u = 0; u < kKeys; ++u) {
        float sum = s[h * kKeys + u];
        for (int64_t i = vec_end; i < head_dim; ++i)
          sum += q[h * head_dim + i] * W::Scalar(r[u] + i);
        scores[h * ld + j + u] = sum;
      }
    }
  }
  for (; j < n_keys; ++j) {
    const T* r = k + j * stride;
    for (int h = 0; h < kHeads; ++h) {
      const float* qh = q + h * head_dim;
      __m256 a = _mm256_setzero_ps();
      for (int64_t i = 0; i < vec_end; i += 8)
        a = _mm256_fmadd_ps(_mm256_loadu_ps(qh + i), W::Load(r + i), a);
      float sum = HorizontalSum(a);
      for (int64_t i = vec_end; i < head_dim; ++i) sum += qh[i] * W::Scalar(r + i);
      scores[h * ld + j] = sum;
    }
  }
}

template <typename W, int kHeads>
void AccumulateHeads(const float* p, int64_t ld, const void* vv, int64_t stride, int64_t n_keys,
                     int64_t head_dim, float* out) {
  using T = typename W::T;
  const auto* v = static_cast<const T*>(vv);
  constexpr int kChunks = kHeads <= 2 ? 4 : 2;  // 8-lane slices of each head's output
  constexpr int kWidth = 8 * kChunks;
  int64_t i0 = 0;
  for (; i0 + kWidth <= head_dim; i0 += kWidth) {
    __m256 o[kHeads][kChunks];
    for (int h = 0; h < kHeads; ++h)
      for (int c = 0; c < kChunks; ++c) o[h][c] = _mm256_loadu_ps(out + h * head_dim + i0 + 8 * c);
    for (int64_t j = 0; j < n_keys; ++j) {
      const T* r = v + j * stride + i0;
      __m256 x[kChunks];
      for (int c = 0; c < kChunks; ++c) x[c] = W::Load(r + 8 * c);
      for (int h = 0; h < kHeads; ++h) {
        const __m256 pj = _mm256_set1_ps(p[h * ld + j]);
        for (int c = 0; c < kChunks; ++c) o[h][c] = _mm256_fmadd_ps(pj, x[c], o[h][c]);
      }
    }
    for (int h = 0; h < kHeads; ++h)
      for (int c = 0; c < kChunks; ++c) _mm256_storeu_ps(out + h * head_dim + i0 + 8 * c, o[h][c]);
  }
  for (; i0 + 8 <= head_dim; i0 += 8) {
    __m256 o[kHeads];
    for (int h = 0; h < kHeads; ++h) o[h] = _mm256_loadu_ps(out + h * head_dim + i0);
    for (int64_t j = 0; j < n_keys; ++j) {
      const __m256 x = W::Load(v + j * stride + i0);
      for (int h = 0; h < kHeads; ++h)
        o[h] = _mm256_fmadd_ps(_mm256_set1_ps(p[h * ld + j]), x, o[h]);
    }
    for (int h = 0; h < kHeads; ++h) _mm256_storeu_ps(out + h * head_dim + i0, o[h]);
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

// A Q8_0 cache: rows of 34-byte blocks (f16 scale, 32 int8), head_dim and stride multiples of
// 32. The query stays f32; each block's 32 products are summed, then scaled once.
constexpr int64_t kQ8Bytes = 34;

inline __m256 WidenInt8(const uint8_t* p) {
  return _mm256_cvtepi32_ps(
      _mm256_cvtepi8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(p))));
}

void ScoresQ8_0(const float* q, const void* kv, int64_t stride, int64_t n_keys, int64_t head_dim,
                float* scores) {
  const auto* k = static_cast<const uint8_t*>(kv);
  const int64_t row_bytes = stride / 32 * kQ8Bytes;
  for (int64_t j = 0; j < n_keys; ++j) {
    const uint8_t* r = k + j * row_bytes;
    __m256 acc = _mm256_setzero_ps();
    for (int64_t b = 0; b < head_dim / 32; ++b) {
      const uint8_t* blk = r + b * kQ8Bytes;
      const float* qb = q + b * 32;
      __m256 s = _mm256_mul_ps(_mm256_loadu_ps(qb), WidenInt8(blk + 2));
      s = _mm256_fmadd_ps(_mm256_loadu_ps(qb + 8), WidenInt8(blk + 10), s);
      s = _mm256_fmadd_ps(_mm256_loadu_ps(qb + 16), WidenInt8(blk + 18), s);
      s = _mm256_fmadd_ps(_mm256_loadu_ps(qb + 24), WidenInt8(blk + 26), s);
      acc = _mm256_fmadd_ps(_mm256_set1_ps(LoadF16(blk)), s, acc);
    }
    scores[j] = HorizontalSum(acc);
  }
}

// out[i0 .. i0+32) (one block of every V row) stays in four registers while the keys are added.
void AccumulateQ8_0(const float* p, const void* vv, int64_t stride, int64_t n_keys,
                    int64_t head_dim, float* out) {
  const auto* v = static_cast<const uint8_t*>(vv);
  const int64_t row_bytes = stride / 32 * kQ8Bytes;
  for (int64_t b = 0; b < head_dim / 32; ++b) {
    float* o = out + b * 32;
    __m256 o0 = _mm256_loadu_ps(o), o1 = _mm256_loadu_ps(o + 8), o2 = _mm256_loadu_ps(o + 16),
           o3 = _mm256_loadu_ps(o + 24);
    for (int64_t j = 0; j < n_keys; ++j) {
      const uint8_t* blk = v + j * row_bytes + b * kQ8Bytes;
      const __m256 pd = _mm256_set1_ps(p[j] * LoadF16(blk));
      o0 = _mm256_fmadd_ps(pd, WidenInt8(blk + 2), o0);
      o1 = _mm256_fmadd_ps(pd, WidenInt8(blk + 10), o1);
      o2 = _mm256_fmadd_ps(pd, WidenInt8(blk + 18), o2);
      o3 = _mm256_fmadd_ps(pd, WidenInt8(blk + 26), o3);
    }
    _mm256_storeu_ps(o, o0);
    _mm256_storeu_ps(o + 8, o1);
    _mm256_storeu_ps(o + 16, o2);
    _mm256_storeu_ps(o + 24, o3);
  }
}

template <typename W>
void Set(KernelTable* t, DType type) {
  t->kv_scores[static_cast<size_t>(type)] = &ScoresByHeadGroups<HeadTiles<W>, kMaxHeads>;
  t->kv_accumulate[static_cast<size_t>(type)] = &AccumulateByHeadGroups<HeadTiles<W>, kMaxHeads>;
}

}  // namespace

void FillAvx2AttentionKernels(KernelTable* table) {
  Set<WidenF32>(table, DType::kF32);
  Set<WidenF16>(table, DType::kF16);
  Set<WidenBF16>(table, DType::kBF16);
  table->kv_scores[static_cast<size_t>(DType::kQ8_0)] = &ScoresPerHead<&ScoresQ8_0>;
  table->kv_accumulate[static_cast<size_t>(DType::kQ8_0)] = &AccumulatePerHead<&AccumulateQ8_0>;
}

}  // namespace gemma
