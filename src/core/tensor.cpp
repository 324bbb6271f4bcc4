#include "core/tensor.h"

#include <limits>

namespace gemma {

std::string TensorView::ShapeString() const {
  std::string s = "[";
  for (int i = 0; i < n_dims; ++i) {
    if (i) s += ", ";
    s += std::to_string(shape[static_cast<size_t>(i)]);
  }
  return s + "]";
}

bool ComputeTensorBytes(DType dtype, int n_dims, const int64_t* shape, uint64_t* bytes,
                        std::string* why) {
  if (n_dims < 0 || n_dims > TensorView::kMaxDims) {
    *why = "unsupported number of dimensions " + std::to_string(n_dims);
    return false;
  }
  // A cap far above any real tensor keeps every later multiplication free of overflow.
  constexpr uint64_t kMaxElements = uint64_t{1} << 48;
  uint64_t n = 1;
  for (int i = 0; i < n_dims; ++i) {
    if (shape[i] <= 0) {
      *why = "dimension " + std::to_string(i) + " is " + std::to_string(shape[i]);
      return false;
    }
    const uint64_t d = static_cast<uint64_t>(shape[i]);
    if (d > kMaxElements || n > kMaxElements / d) {
      *why = "element count overflows";
      return false;
    }
    n *= d;
  }
  const uint64_t inner = n_dims == 0 ? 1 : static_cast<uint64_t>(shape[n_dims - 1]);
  if (!RowSizeValid(dtype, inner)) {
    *why = "row of " + std::to_string(inner) + " elements is not a whole number of " +
           std::string(DTypeName(dtype)) + " blocks";
    return false;
  }
  *bytes = RowBytes(dtype, inner) * (n / inner);
  return true;
}

}  // namespace gemma
