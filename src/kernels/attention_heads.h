// Adapts one-head attention kernels (scores of one query, or one head's weighted sum of V rows)
// to the KvScoresFn / KvAccumulateFn slots, which take every query head of a KV head at once:
// the head loop, for tables whose kernels read the cached rows once per head.
#pragma once

#include <cstdint>

#include "kernels/token_count.h"

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

// Tables that do up to kMaxHeads heads at once: Tiles::kScores<H> and Tiles::kAccumulate<H> are
// their kernels for H heads (a OneHead*Fn shape with the head count fixed and, for accumulate,
// the score rows ld apart); these cut n_q heads into such groups.
template <typename Tiles, int kMaxHeads>
void ScoresByHeadGroups(const float* q, int64_t n_q, const void* k, int64_t stride, int64_t n_keys,
                        int64_t head_dim, float* scores, int64_t ld) {
  ForTokenGroups<kMaxHeads>(n_q, [&]<int H>(int64_t h0) {
    Tiles::template kScores<H>(q + h0 * head_dim, k, stride, n_keys, head_dim, scores + h0 * ld,
                               ld);
  });
}

template <typename Tiles, int kMaxHeads>
void AccumulateByHeadGroups(const float* p, int64_t ld, int64_t n_q, const void* v, int64_t stride,
                            int64_t n_keys, int64_t head_dim, float* out) {
  ForTokenGroups<kMaxHeads>(n_q, [&]<int H>(int64_t h0) {
    Tiles::template kAccumulate<H>(p + h0 * ld, ld, v, stride, n_keys, head_dim,
                                   out + h0 * head_dim);
  });
}

// The elements [i0, head_dim) of n_heads outputs one at a time (the tail a vector kernel leaves;
// W::Scalar reads one cached element).
template <typename W>
void AccumulateColumns(const float* p, int64_t ld, int n_heads, const typename W::T* v,
                       int64_t stride, int64_t n_keys, int64_t head_dim, float* out, int64_t i0) {
  for (; i0 < head_dim; ++i0) {
    for (int h = 0; h < n_heads; ++h) {
      float o = out[h * head_dim + i0];
      for (int64_t j = 0; j < n_keys; ++j) o += p[h * ld + j] * W::Scalar(v + j * stride + i0);
      out[h * head_dim + i0] = o;
    }
  }
}

}  // namespace gemma
