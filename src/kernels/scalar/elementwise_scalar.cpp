// Scalar element-wise ops: the libm-based functions of ops.cpp (std::tanh, std::exp) and the f16
// conversion of core/dtype.h, which are the oracle the SIMD versions are tested against.
#include "core/dtype.h"
#include "kernels/kernels.h"
#include "kernels/ops.h"

namespace gemma {
namespace {

void F16FromF32Scalar(const float* x, int64_t n, uint16_t* out) {
  for (int64_t i = 0; i < n; ++i) out[i] = F32ToF16(x[i]);
}

void Bf16PairsFromF32Scalar(const float* x, int64_t n_pairs, uint32_t* out) {
  for (int64_t p = 0; p < n_pairs; ++p) {
    out[p] = static_cast<uint32_t>(F32ToBF16(x[2 * p])) |
             static_cast<uint32_t>(F32ToBF16(x[2 * p + 1])) << 16;
  }
}

}  // namespace

void FillScalarElementwiseKernels(KernelTable* table) {
  table->gelu_tanh_mul = &GeluTanhMul;
  table->soft_cap = &SoftCap;
  table->softmax = &Softmax;
  table->f16_from_f32 = &F16FromF32Scalar;
  table->bf16_pairs_from_f32 = &Bf16PairsFromF32Scalar;
}

}  // namespace gemma
