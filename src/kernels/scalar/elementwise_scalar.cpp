// Scalar element-wise ops: the libm-based functions of ops.cpp (std::tanh, std::exp), which are
// the oracle the SIMD versions are tested against.
#include "kernels/kernels.h"
#include "kernels/ops.h"

namespace gemma {

void FillScalarElementwiseKernels(KernelTable* table) {
  table->gelu_tanh_mul = &GeluTanhMul;
  table->soft_cap = &SoftCap;
  table->softmax = &Softmax;
}

}  // namespace gemma
