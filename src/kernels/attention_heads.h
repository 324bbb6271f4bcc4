// Adapts one-head attention kernels (scores of one query, or one head's weighted sum of V rows)
// to the KvScoresFn / KvAccumulateFn slots, which take every query head of a KV head at once:
// the head loop, for tables whose kernels read the cached rows once per head.
#pragma once

#include <cstdint>

namespace gemma {

using OneHeadScoresFn = void (*)(const float* q, const void* k, int64_t stride, int64_t n_keys,
                                 int64_t head_dim, float* scores);
using OneHeadAccumulateFn = void (*)(const float* p, const void* v, int64_t stride, int64_t n_keys,
                                     int64_t head_dim, float* out);

template <OneHeadScoresFn kScores>
void ScoresPerHead(const float* q, int64_t n_q, const void* k, int64_t stride, int64_t n_keys,
                   int64_t head_dim, float* scores, int64_t ld) {
  for (int64_t h = 0; h < n_q; ++h)
    kScores(q + h * head_dim, k, stride, n_keys, head_dim, scores + h * ld);
}

template <OneHeadAccumulateFn kAccumulate>
void AccumulatePerHead(const float* p, int64_t ld, int64_t n_q, const void* v, int64_t stride,
                       int64_t n_keys, int64_t head_dim, float* out) {
  for (int64_t h = 0; h < n_q; ++h)
    kAccumulate(p + h * ld, v, stride, n_keys, head_dim, out + h * head_dim);
}

}  // namespace gemma
