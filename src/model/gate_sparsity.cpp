#include "model/gate_sparsity.h"

#include <algorithm>
#include <cmath>

namespace gemma {

void GaussianTopK(float* x, int64_t n, float std_mul) {
  double sum = 0;
  for (int64_t i = 0; i < n; ++i) sum += x[i];
  const double mean = sum / static_cast<double>(n);
  double ss = 0;
  for (int64_t i = 0; i < n; ++i) ss += (x[i] - mean) * (x[i] - mean);
  const double stddev = std::sqrt(ss / static_cast<double>(n));  // population std
  const float cutoff = static_cast<float>(mean + static_cast<double>(std_mul) * stddev);
  for (int64_t i = 0; i < n; ++i) x[i] = std::max(0.f, x[i] - cutoff);
}

}  // namespace gemma
