// Registration hooks between the AVX2 kernel files (all compiled with -mavx2 -mfma -mf16c).
#pragma once

#include "kernels/kernels.h"

namespace gemma {

// Q8_0/Q4_0 x f32 activations, exact (the avx2-f32 table).
void FillAvx2QuantF32Kernels(KernelTable* table);
// Q8_0/Q4_0 x int8 activations (the "avx2" table, picked by default): dots and prefill tiles.
void FillAvx2QuantInt8Kernels(KernelTable* table);
// The int8 prefill panel kernel for Q4_0 (gemm_int8_panel_avx2.cpp), part of the int8 table.
void FillAvx2Int8PanelKernels(KernelTable* table);
// Its Q4_0, Q5_0 and Q8_0 packers (pack_int8_panel_avx2.cpp).
void FillAvx2Int8PackKernels(KernelTable* table);
void FillAvx2KQuantKernels(KernelTable* table);  // Q2_K..Q6_K x f32, exact (kquant_f32_avx2.cpp)
// Q4_K x int8 activations (kquant_int8_avx2.cpp), part of the int8 table.
void FillAvx2KQuantInt8Kernels(KernelTable* table);

// The f32 panel GEMM used for prefill of every weight type.
void FillAvx2PanelKernels(KernelTable* table);
// Row dequantizers and the panel transpose that feed it (dequant_avx2.cpp).
void FillAvx2PackKernels(KernelTable* table);
// Attention over an F32/F16/BF16 KV cache.
void FillAvx2AttentionKernels(KernelTable* table);
// The activation quantizer (quantize_act_avx2.cpp).
void FillAvx2QuantizeKernels(KernelTable* table);
// GELU(tanh) x up, softcap and softmax with a polynomial exp (elementwise_avx2.cpp).
void FillAvx2ElementwiseKernels(KernelTable* table);

}  // namespace gemma
