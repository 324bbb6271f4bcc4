#include "core/quant/quantize.h"

#include <cstring>
#include <string>

#include "core/quant/k_quantize.h"
#include "core/quant/q4.h"
#include "core/quant/q5.h"
#include "core/quant/q8_0.h"
#include "gemma/error.h"

namespace gemma {
namespace {

// Quantizes block by block into an aligned local, then copies it out (dst may be unaligned).
template <typename Block, void (*kQuantizeRow)(const float*, Block*, int64_t)>
void QuantizeBlocks(const float* src, uint8_t* dst, int64_t n) {
  constexpr int kElems = Block::kElems;
  Block b;
  for (int64_t i = 0; i < n / kElems; ++i) {
    kQuantizeRow(src + i * kElems, &b, kElems);
    std::memcpy(dst + static_cast<size_t>(i) * sizeof(Block), &b, sizeof(Block));
  }
}

// The same for K-quant super-blocks (256 elements each).
template <typename Block, void (*kQuantizeBlock)(const float*, Block*)>
void QuantizeSuperBlocks(const float* src, uint8_t* dst, int64_t n) {
  Block b;
  for (int64_t i = 0; i < n / kQK_K; ++i) {
    kQuantizeBlock(src + i * kQK_K, &b);
    std::memcpy(dst + static_cast<size_t>(i) * sizeof(Block), &b, sizeof(Block));
  }
}

}  // namespace

bool HasQuantizer(DType dtype) {
  switch (dtype) {
    case DType::kF32:
    case DType::kF16:
    case DType::kBF16:
    case DType::kQ8_0:
    case DType::kQ4_0:
    case DType::kQ4_1:
    case DType::kQ5_0:
    case DType::kQ5_1:
    case DType::kQ4_K:
    case DType::kQ5_K:
    case DType::kQ6_K:
      return true;
    default:
      return false;
  }
}

void QuantizeRow(DType dtype, const float* src, uint8_t* dst, int64_t n) {
  const DTypeInfo& info = GetDTypeInfo(dtype);
  if (n < 0 || n % info.block_elems != 0) {
    Fail(ErrorKind::kInternal, "QuantizeRow: " + std::to_string(n) + " elements of " +
                                   std::string(info.name) + " is not a whole number of blocks");
  }
  switch (dtype) {
    case DType::kF32:
      std::memcpy(dst, src, static_cast<size_t>(n) * sizeof(float));
      return;
    case DType::kF16:
      for (int64_t i = 0; i < n; ++i) {
        const uint16_t h = F32ToF16(src[i]);
        std::memcpy(dst + 2 * i, &h, 2);
      }
      return;
    case DType::kBF16:
      for (int64_t i = 0; i < n; ++i) {
        const uint16_t h = F32ToBF16(src[i]);
        std::memcpy(dst + 2 * i, &h, 2);
      }
      return;
    case DType::kQ8_0:
      return QuantizeBlocks<QuantBlockQ8_0, QuantizeRowQ8_0>(src, dst, n);
    case DType::kQ4_0:
      return QuantizeBlocks<QuantBlockQ4_0, QuantizeRowQ4_0>(src, dst, n);
    case DType::kQ4_1:
      return QuantizeBlocks<QuantBlockQ4_1, QuantizeRowQ4_1>(src, dst, n);
    case DType::kQ5_0:
      return QuantizeBlocks<QuantBlockQ5_0, QuantizeRowQ5_0>(src, dst, n);
    case DType::kQ5_1:
      return QuantizeBlocks<QuantBlockQ5_1, QuantizeRowQ5_1>(src, dst, n);
    case DType::kQ4_K:
      return QuantizeSuperBlocks<QuantBlockQ4_K, QuantizeBlockQ4_K>(src, dst, n);
    case DType::kQ5_K:
      return QuantizeSuperBlocks<QuantBlockQ5_K, QuantizeBlockQ5_K>(src, dst, n);
    case DType::kQ6_K:
      return QuantizeSuperBlocks<QuantBlockQ6_K, QuantizeBlockQ6_K>(src, dst, n);
    default:
      break;
  }
  Fail(ErrorKind::kUnsupported, "quantizing to " + std::string(info.name) +
                                    " is not supported (supported: F32, F16, BF16, "
                                    "Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, Q4_K, Q5_K, Q6_K)");
}

}  // namespace gemma
