// Reference quantizers for the K-quants Q4_K, Q5_K and Q6_K, bit-identical to ggml's
// quantize_row_q{4,5,6}_K_ref (ggml-quants.c), which is what llama-quantize runs when no
// importance matrix is given. The scale searches (make_qkx2_quants for Q4_K/Q5_K,
// make_qx_quants for Q6_K) are iterative, so bit-identity needs ggml's exact float operation
// order and its nearest_int rounding: these files must be built without FMA contraction or
// -ffast-math (the project builds C++20 without GNU extensions, where GCC does not contract).
#pragma once

#include "core/quant/k_quants.h"

namespace gemma {

// Quantizes one super-block of kQK_K floats.
void QuantizeBlockQ4_K(const float* x, QuantBlockQ4_K* y);
void QuantizeBlockQ5_K(const float* x, QuantBlockQ5_K* y);
void QuantizeBlockQ6_K(const float* x, QuantBlockQ6_K* y);

}  // namespace gemma
