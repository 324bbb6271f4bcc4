#include "core/quant/dequantize.h"

#include <cstring>
#include <string>

#include "core/quant/k_quants.h"
#include "core/quant/q4.h"
#include "core/quant/q5.h"
#include "core/quant/q8_0.h"
#include "gemma/error.h"

namespace gemma {
namespace {

// Rows inside a mapping need not be aligned for the blocks' u16 fields, so each block is copied
// into an aligned local first (a few bytes per 32-256 elements; this is the reference path).
template <typename Block, void (*kDequantizeBlock)(const Block&, float*)>
void DequantizeBlocks(const uint8_t* src, float* dst, int64_t n, int elems_per_block) {
  const int64_t nb = n / elems_per_block;
  Block b;
  for (int64_t i = 0; i < nb; ++i) {
    std::memcpy(&b, src + static_cast<size_t>(i) * sizeof(Block), sizeof(Block));
    kDequantizeBlock(b, dst + i * elems_per_block);
  }
}

}  // namespace

void DequantizeRow(DType dtype, const uint8_t* src, float* dst, int64_t n) {
  const DTypeInfo& info = GetDTypeInfo(dtype);
  if (n < 0 || n % info.block_elems != 0) {
    Fail(ErrorKind::kInternal, "DequantizeRow: " + std::to_string(n) + " elements of " +
                                   std::string(info.name) + " is not a whole number of blocks");
  }
  switch (dtype) {
    case DType::kF32:
      std::memcpy(dst, src, static_cast<size_t>(n) * sizeof(float));
      return;
    case DType::kF16:
      for (int64_t i = 0; i < n; ++i) {
        uint16_t h;
        std::memcpy(&h, src + 2 * i, 2);
        dst[i] = F16ToF32(h);
      }
      return;
    case DType::kBF16:
      for (int64_t i = 0; i < n; ++i) {
        uint16_t h;
        std::memcpy(&h, src + 2 * i, 2);
        dst[i] = BF16ToF32(h);
      }
      return;
    case DType::kQ8_0:
      return DequantizeBlocks<QuantBlockQ8_0, DequantizeBlockQ8_0>(src, dst, n, 32);
    case DType::kQ4_0:
      return DequantizeBlocks<QuantBlockQ4_0, DequantizeBlockQ4_0>(src, dst, n, 32);
    case DType::kQ4_1:
      return DequantizeBlocks<QuantBlockQ4_1, DequantizeBlockQ4_1>(src, dst, n, 32);
    case DType::kQ5_0:
      return DequantizeBlocks<QuantBlockQ5_0, DequantizeBlockQ5_0>(src, dst, n, 32);
    case DType::kQ5_1:
      return DequantizeBlocks<QuantBlockQ5_1, DequantizeBlockQ5_1>(src, dst, n, 32);
    case DType::kQ2_K:
      return DequantizeBlocks<QuantBlockQ2_K, DequantizeBlockQ2_K>(src, dst, n, kQK_K);
    case DType::kQ3_K:
      return DequantizeBlocks<QuantBlockQ3_K, DequantizeBlockQ3_K>(src, dst, n, kQK_K);
    case DType::kQ4_K:
      return DequantizeBlocks<QuantBlockQ4_K, DequantizeBlockQ4_K>(src, dst, n, kQK_K);
    case DType::kQ5_K:
      return DequantizeBlocks<QuantBlockQ5_K, DequantizeBlockQ5_K>(src, dst, n, kQK_K);
    case DType::kQ6_K:
      return DequantizeBlocks<QuantBlockQ6_K, DequantizeBlockQ6_K>(src, dst, n, kQK_K);
    case DType::kCount:
      break;
  }
  Fail(ErrorKind::kInternal, "DequantizeRow: invalid dtype");
}

}  // namespace gemma
