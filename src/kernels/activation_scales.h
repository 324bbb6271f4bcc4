// Per-call side arrays of int8 activation blocks, for kernels that apply one scale FMA to
// several blocks at once (K-quants: eight blocks per super-block) or that need each block's
// sum (weight types with a minimum: m_w * d_x * sum q_x). Computed once per dot-product call,
// not once per weight row.
#pragma once

#include <cstdint>

#include "kernels/kernels.h"

namespace gemma {

struct ActScales {
  const float* d;      // d[j] = x[j].d
  const float* d_sum;  // d_sum[j] = x[j].d * sum_i x[j].qs[i]; null unless asked for
};

// d * (sum of the block's quants): the activations' sum, in the block's scale.
inline float ScaledSum(const ActBlockQ8& x) {
  int32_t sum = 0;
  for (int8_t q : x.qs) sum += q;
  return x.d * static_cast<float>(sum);
}

// Fills this thread's arrays for x[0, n_blocks); valid until the thread's next call.
ActScales GatherActScales(const ActBlockQ8* x, int64_t n_blocks, bool with_sums);

}  // namespace gemma
