// Gemma 3n activation sparsity ("Gaussian top-k"): on its first layers the MLP gate keeps only
// the values above mean + Phi^-1(p) * std of the row, shifted down by that cut-off
// (gemma-models.md §2.5). The std is the population std (HF unbiased=False, JAX ddof 0);
// llama.cpp divides by n-1 (golden README, Known deviations 1).
#pragma once

#include <cstdint>

namespace gemma {

// x[i] = max(0, x[i] - (mean + std_mul * std)) over one row of n values.
void GaussianTopK(float* x, int64_t n, float std_mul);

}  // namespace gemma
