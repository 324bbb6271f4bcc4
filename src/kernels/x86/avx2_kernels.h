// Registration hooks between the AVX2 kernel files (all compiled with -mavx2 -mfma -mf16c).
#pragma once

#include "kernels/kernels.h"

namespace gemma {

void FillAvx2QuantKernels(KernelTable* table);
void FillAvx2GemmKernels(KernelTable* table);  // needs the quant slots' activation types

}  // namespace gemma
