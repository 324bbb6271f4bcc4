// Scalar reference quantization (f32 -> block format), bit-identical to ggml's reference
// quantizers (what llama-quantize runs without an importance matrix): Q8_0, Q4_0, Q4_1, Q5_0,
// Q5_1, the K-quants Q4_K, Q5_K, Q6_K, plus F32/F16/BF16 conversion. Q2_K/Q3_K are not here.
#pragma once

#include <cstdint>

#include "core/dtype.h"

namespace gemma {

bool HasQuantizer(DType dtype);

// Converts `n` f32 values to `dtype` at `dst` (RowBytes(dtype, n) bytes, any alignment). `n` must
// be a multiple of the block size. Throws Error(kUnsupported) for types without a quantizer.
void QuantizeRow(DType dtype, const float* src, uint8_t* dst, int64_t n);

}  // namespace gemma
