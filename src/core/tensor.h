// TensorView: a typed, shaped, non-owning view of tensor bytes, usually pointing into a memory
// mapping. Every format reader produces these and every kernel consumes them.
//
// Shapes are outermost-first, like PyTorch: a Linear weight is {out_features, in_features} and
// its rows are contiguous. (GGUF lists dims innermost-first; its reader reverses them.)
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>

#include "core/dtype.h"

namespace gemma {

struct TensorView {
  static constexpr int kMaxDims = 4;

  DType dtype = DType::kF32;
  int n_dims = 0;
  std::array<int64_t, kMaxDims> shape{};  // outermost first
  const uint8_t* data = nullptr;
  uint64_t n_bytes = 0;

  bool empty() const { return data == nullptr; }
  int64_t dim(int i) const { return shape[static_cast<size_t>(i)]; }
  int64_t n_elements() const {
    int64_t n = 1;
    for (int i = 0; i < n_dims; ++i) n *= shape[static_cast<size_t>(i)];
    return n;
  }
  // Innermost extent (elements per row) and number of rows (product of the outer dims).
  int64_t row_elems() const { return n_dims == 0 ? 1 : shape[static_cast<size_t>(n_dims - 1)]; }
  int64_t n_rows() const { return n_dims == 0 ? 1 : n_elements() / row_elems(); }
  uint64_t row_bytes() const { return RowBytes(dtype, static_cast<uint64_t>(row_elems())); }
  const uint8_t* row(int64_t r) const { return data + static_cast<uint64_t>(r) * row_bytes(); }

  std::string ShapeString() const;
};

// Bytes a tensor of this dtype and shape occupies, or an error message when the shape is
// invalid (non-positive dims, overflow, innermost dim not a multiple of the block size).
// Returns false and fills `why` on failure.
bool ComputeTensorBytes(DType dtype, int n_dims, const int64_t* shape, uint64_t* bytes,
                        std::string* why);

}  // namespace gemma
