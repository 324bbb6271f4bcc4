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

}  // namespace

void FillScalarElementwiseKernels(KernelTable* table) {
  table->gelu_tanh_mul = &GeluTanhMul;
  table->soft_cap = &SoftCap;
  table->softmax = &Softmax;
  table->f16_from_f32 = &F16FromF32Scalar;
}

}  // namespace gemma
