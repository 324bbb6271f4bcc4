// AVX2 attention over cached K/V rows (F32, F16, BF16 or Q8_0 cache), see KvScoresFn and
// KvAccumulateFn.
#include "kernels/attention_heads.h"
#include "kernels/x86/avx2_common.h"
#include "kernels/x86/avx2_kernels.h"

namespace gemma {
namespace {

using namespace avx2;

// Four keys at a time share the q loads; each key sums over head_dim in order of 8-lane chunks.
template <typename W>
void Scores(const float* q, const void* kv, int64_t stride, int64_t n_keys, int64_t head_dim,
            float* scores) {
  const auto* k = static_cast<const typename W::T*>(kv);
  const int64_t vec_end = head_dim / 8 * 8;
  int64_t j = 0;
  for (; j + 4 <= n_keys; j += 4) {
    const typename W::T* r[4] = {k + j * stride, k + (j + 1) * stride, k + (j + 2) * stride,
                                 k + (j + 3) * stride};
    __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
    for (int64_t i = 0; i < vec_end; i += 8) {
      const __m256 qv = _mm256_loadu_ps(q + i);
      a0 = _mm256_fmadd_ps(qv, W::Load(r[0] + i), a0);
      a1 = _mm256_fmadd_ps(qv, W::Load(r[1] + i), a1);
      a2 = _mm256_fmadd_ps(qv, W::Load(r[2] + i), a2);
      a3 = _mm256_fmadd_ps(qv, W::Load(r[3] + i), a3);
    }
    float s[4] = {HorizontalSum(a0), HorizontalSum(a1), HorizontalSum(a2), HorizontalSum(a3)};
    for (int64_t i = vec_end; i < head_dim; ++i) {
      for (int u = 0; u < 4; ++u) s[u] += q[i] * W::Scalar(r[u] + i);
    }
    for (int u = 0; u < 4; ++u) scores[j + u] = s[u];
  }
  for (; j < n_keys; ++j) {
    const typename W::T* r = k + j * stride;
    __m256 a = _mm256_setzero_ps();
    for (int64_t i = 0; i < vec_end; i += 8)
      a = _mm256_fmadd_ps(_mm256_loadu_ps(q + i), W::Load(r + i), a);
    float s = HorizontalSum(a);
    for (int64_t i = vec_end; i < head_dim; ++i) s += q[i] * W::Scalar(r + i);
    scores[j] = s;
  }
}

// out[i0 .. i0+32) stays in four registers while every key's V row is added in.
template <typename W>
void Accumulate(const float* p, const void* vv, int64_t stride, int64_t n_keys, int64_t head_dim,
                float* out) {
  const auto* v = static_cast<const typename W::T*>(vv);
  int64_t i0 = 0;
  for (; i0 + 32 <= head_dim; i0 += 32) {
    __m256 o0 = _mm256_loadu_ps(out + i0), o1 = _mm256_loadu_ps(out + i0 + 8),
           o2 = _mm256_loadu_ps(out + i0 + 16), o3 = _mm256_loadu_ps(out + i0 + 24);
    for (int64_t j = 0; j < n_keys; ++j) {
      const typename W::T* r = v + j * stride + i0;
      const __m256 pj = _mm256_set1_ps(p[j]);
      o0 = _mm256_fmadd_ps(pj, W::Load(r), o0);
      o1 = _mm256_fmadd_ps(pj, W::Load(r + 8), o1);
      o2 = _mm256_fmadd_ps(pj, W::Load(r + 16), o2);
      o3 = _mm256_fmadd_ps(pj, W::Load(r + 24), o3);
    }
    _mm256_storeu_ps(out + i0, o0);
    _mm256_storeu_ps(out + i0 + 8, o1);
    _mm256_storeu_ps(out + i0 + 16, o2);
    _mm256_storeu_ps(out + i0 + 24, o3);
  }
  for (; i0 + 8 <= head_dim; i0 += 8) {
    __m256 o = _mm256_loadu_ps(out + i0);
    for (int64_t j = 0; j < n_keys; ++j) {
      o = _mm256_fmadd_ps(_mm256_set1_ps(p[j]), W::Load(v + j * stride + i0), o);
    }
    _mm256_storeu_ps(out + i0, o);
  }
  for (; i0 < head_dim; ++i0) {
    float o = out[i0];
    for (int64_t j = 0; j < n_keys; ++j) o += p[j] * W::Scalar(v + j * stride + i0);
    out[i0] = o;
  }
}

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
  t->kv_scores[static_cast<size_t>(type)] = &ScoresPerHead<&Scores<W>>;
  t->kv_accumulate[static_cast<size_t>(type)] = &AccumulatePerHead<&Accumulate<W>>;
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
