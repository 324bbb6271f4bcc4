// Scalar reference dequantization for every block format in DType. The oracle for SIMD kernels
// and the fallback for any (dtype, ISA) pair without a fused kernel.
#pragma once

#include <cstdint>

#include "core/dtype.h"

namespace gemma {

// Converts `n` elements of `dtype` starting at `src` to f32. `n` must be a multiple of the
// block size of `dtype` (the caller validated tensor shapes). Works for F32/F16/BF16 too.
void DequantizeRow(DType dtype, const uint8_t* src, float* dst, int64_t n);

}  // namespace gemma
