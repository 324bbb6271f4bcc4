// Measures sustained DRAM read bandwidth the way decode reads weights: streaming a buffer far
// larger than the caches through the dot-product kernel on `n_threads` threads.
#pragma once

#include "kernels/kernels.h"

namespace gemma {

// Returns bytes per second (best of a few passes over a 1 GiB buffer).
double MeasureReadBandwidth(const KernelTable& kernels, int n_threads);

}  // namespace gemma
