// Registration hooks between the AVX2 kernel files (all compiled with -mavx2 -mfma -mf16c).
#pragma once

#include "kernels/kernels.h"

namespace gemma {

// Q8_0/Q4_0 x f32 activations, exact (the default AVX2 table).
void FillAvx2QuantF32Kernels(KernelTable* table);
// Q8_0/Q4_0 x int8 activations (the opt-in "avx2-int8" table): dots and prefill tiles.
void FillAvx2QuantInt8Kernels(KernelTable* table);
void FillAvx2KQuantKernels(KernelTable* table);  // Q2_K..Q6_K x f32, exact (kquant_f32_avx2.cpp)

// The f32 panel GEMM used for prefill of every weight type.
void FillAvx2PanelKernels(KernelTable* table);
// Attention over an F32/F16/BF16 KV cache.
void FillAvx2AttentionKernels(KernelTable* table);

}  // namespace gemma
