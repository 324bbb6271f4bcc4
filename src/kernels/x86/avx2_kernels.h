// Registration hooks between the AVX2 kernel files (all compiled with -mavx2 -mfma -mf16c).
#pragma once

#include "kernels/kernels.h"

namespace gemma {

void FillAvx2QuantKernels(KernelTable* table);

}  // namespace gemma
