#include "kernels/activation_scales.h"

#include <vector>

namespace gemma {

ActScales GatherActScales(const ActBlockQ8* x, int64_t n_blocks, bool with_sums) {
  thread_local std::vector<float> d, d_sum;
  const auto count = static_cast<size_t>(n_blocks);
  d.resize(count);
  for (size_t j = 0; j < count; ++j) d[j] = x[j].d;
  if (!with_sums) return {d.data(), nullptr};
  d_sum.resize(count);
  for (size_t j = 0; j < count; ++j) d_sum[j] = ScaledSum(x[j]);
  return {d.data(), d_sum.data()};
}

}  // namespace gemma
