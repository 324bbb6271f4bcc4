// Scalar reference dot products: plain loops over plain floats, or the block dequantizer for
// quantized types. The SIMD tables are tested against these.
#include <utility>
#include <vector>

#include "core/quant/dequantize.h"
#include "kernels/kernels.h"

namespace gemma {
namespace {

// Eight partial sums: a fixed summation order that stays accurate on long rows.
float DotF32(const float* a, const float* b, int64_t n) {
  float acc[8] = {};
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    for (int k = 0; k < 8; ++k) acc[k] += a[i + k] * b[i + k];
  }
  for (int k = 0; i < n; ++i, ++k) acc[k] += a[i] * b[i];
  return ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
}

void DotRowsF32(const uint8_t* w, uint64_t row_bytes, int64_t n_rows, const void* xv, int64_t n,
                float* y) {
  const auto* x = static_cast<const float*>(xv);
  for (int64_t r = 0; r < n_rows; ++r) {
    y[r] = DotF32(reinterpret_cast<const float*>(w + static_cast<uint64_t>(r) * row_bytes), x, n);
  }
}

// Any other type: dequantize the row, then the f32 dot.
template <DType kType>
void DotRowsDequant(const uint8_t* w, uint64_t row_bytes, int64_t n_rows, const void* xv, int64_t n,
                    float* y) {
  const auto* x = static_cast<const float*>(xv);
  thread_local std::vector<float> row;
  row.resize(static_cast<size_t>(n));
  for (int64_t r = 0; r < n_rows; ++r) {
    DequantizeRow(kType, w + static_cast<uint64_t>(r) * row_bytes, row.data(), n);
    y[r] = DotF32(row.data(), x, n);
  }
}

template <DType kType>
void DequantizeRowOf(const uint8_t* src, float* dst, int64_t n) {
  DequantizeRow(kType, src, dst, n);
}

template <size_t... I>
void FillDequantSlots(KernelTable* t, std::index_sequence<I...>) {
  ((t->dot_rows[I] = &DotRowsDequant<static_cast<DType>(I)>), ...);
  ((t->dequantize_row[I] = &DequantizeRowOf<static_cast<DType>(I)>), ...);
}

}  // namespace

void FillScalarKernels(KernelTable* table) {
  table->isa = Isa::kScalar;
  FillDequantSlots(table, std::make_index_sequence<static_cast<size_t>(DType::kCount)>());
  table->dot_rows[static_cast<size_t>(DType::kF32)] = &DotRowsF32;
  table->quantize_activations = &QuantizeActivationsScalar;
  table->panel_gemm = &PanelGemmScalar;
  table->panel_transpose = &PanelTransposeScalar;
  FillScalarAttentionKernels(table);
  FillScalarElementwiseKernels(table);
  FillScalarInt8PanelPackers(table);
}

}  // namespace gemma
