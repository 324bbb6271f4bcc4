// AVX-512 attention over an F32, F16 or BF16 KV cache (KvScoresFn, KvAccumulateFn): the AVX2
// kernels (attention_avx2.cpp) twice as wide. The Q8_0 cache keeps the AVX2 ones.
#include "kernels/x86/avx512_common.h"

namespace gemma::GEMMA_X86_NS {
namespace {

// Four keys at a time share the q loads; each key sums over head_dim in 16-lane chunks.
template <typename W>
void Scores(const float* q, const void* kv, int64_t stride, int64_t n_keys, int64_t head_dim,
            float* scores) {
  const auto* k = static_cast<const typename W::T*>(kv);
  const int64_t vec_end = head_dim / 16 * 16;
  int64_t j = 0;
  for (; j + 4 <= n_keys; j += 4) {
    const typename W::T* r[4] = {k + j * stride, k + (j + 1) * stride, k + (j + 2) * stride,
                                 k + (j + 3) * stride};
    __m512 a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
    for (int64_t i = 0; i < vec_end; i += 16) {
      const __m512 qv = _mm512_loadu_ps(q + i);
      a0 = _mm512_fmadd_ps(qv, W::Load(r[0] + i), a0);
      a1 = _mm512_fmadd_ps(qv, W::Load(r[1] + i), a1);
      a2 = _mm512_fmadd_ps(qv, W::Load(r[2] + i), a2);
      a3 = _mm512_fmadd_ps(qv, W::Load(r[3] + i), a3);
    }
    float s[4] = {HorizontalSum(a0), HorizontalSum(a1), HorizontalSum(a2), HorizontalSum(a3)};
    for (int64_t i = vec_end; i < head_dim; ++i) {
      for (int u = 0; u < 4; ++u) s[u] += q[i] * W::Scalar(r[u] + i);
    }
    for (int u = 0; u < 4; ++u) scores[j + u] = s[u];
  }
  for (; j < n_keys; ++j) {
    const typename W::T* r = k + j * stride;
    __m512 a = _mm512_setzero_ps();
    for (int64_t i = 0; i < vec_end; i += 16)
      a = _mm512_fmadd_ps(_mm512_loadu_ps(q + i), W::Load(r + i), a);
    float s = HorizontalSum(a);
    for (int64_t i = vec_end; i < head_dim; ++i) s += q[i] * W::Scalar(r + i);
    scores[j] = s;
  }
}

// out[i0 .. i0+64) stays in four registers while every key's V row is added in.
template <typename W>
void Accumulate(const float* p, const void* vv, int64_t stride, int64_t n_keys, int64_t head_dim,
                float* out) {
  const auto* v = static_cast<const typename W::T*>(vv);
  int64_t i0 = 0;
  for (; i0 + 64 <= head_dim; i0 += 64) {
    __m512 o0 = _mm512_loadu_ps(out + i0), o1 = _mm512_loadu_ps(out + i0 + 16),
           o2 = _mm512_loadu_ps(out + i0 + 32), o3 = _mm512_loadu_ps(out + i0 + 48);
    for (int64_t j = 0; j < n_keys; ++j) {
      const typename W::T* r = v + j * stride + i0;
      const __m512 pj = _mm512_set1_ps(p[j]);
      o0 = _mm512_fmadd_ps(pj, W::Load(r), o0);
      o1 = _mm512_fmadd_ps(pj, W::Load(r + 16), o1);
      o2 = _mm512_fmadd_ps(pj, W::Load(r + 32), o2);
      o3 = _mm512_fmadd_ps(pj, W::Load(r + 48), o3);
    }
    _mm512_storeu_ps(out + i0, o0);
    _mm512_storeu_ps(out + i0 + 16, o1);
    _mm512_storeu_ps(out + i0 + 32, o2);
    _mm512_storeu_ps(out + i0 + 48, o3);
  }
  for (; i0 + 16 <= head_dim; i0 += 16) {
    __m512 o = _mm512_loadu_ps(out + i0);
    for (int64_t j = 0; j < n_keys; ++j) {
      o = _mm512_fmadd_ps(_mm512_set1_ps(p[j]), W::Load(v + j * stride + i0), o);
    }
    _mm512_storeu_ps(out + i0, o);
  }
  for (; i0 < head_dim; ++i0) {
    float o = out[i0];
    for (int64_t j = 0; j < n_keys; ++j) o += p[j] * W::Scalar(v + j * stride + i0);
    out[i0] = o;
  }
}

template <typename W>
void Set(KernelTable* t, DType type) {
  t->kv_scores[static_cast<size_t>(type)] = &Scores<W>;
  t->kv_accumulate[static_cast<size_t>(type)] = &Accumulate<W>;
}

}  // namespace

void FillAvx512AttentionKernels(KernelTable* table) {
  Set<LoadF32>(table, DType::kF32);
  Set<LoadF16Row>(table, DType::kF16);
  Set<LoadBF16Row>(table, DType::kBF16);
}

}  // namespace gemma::GEMMA_X86_NS
