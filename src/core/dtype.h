// Element types of tensors as they sit in a checkpoint, and scalar conversions.
// Block-quantized types (Q8_0, Q4_0, K-quants) describe blocks of elements; their layouts live in
// src/core/quant/ (one file per block format).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

namespace gemma {

enum class DType : uint8_t {
  kF32,
  kF16,
  kBF16,
  kQ8_0,
  kQ4_0,
  kQ4_1,
  kQ5_0,
  kQ5_1,
  kQ2_K,
  kQ3_K,
  kQ4_K,
  kQ5_K,
  kQ6_K,
  kCount,
};

struct DTypeInfo {
  std::string_view name;
  int block_elems;  // elements per block (1 for plain floats)
  int block_bytes;  // bytes per block
};

const DTypeInfo& GetDTypeInfo(DType t);
inline std::string_view DTypeName(DType t) {
  return GetDTypeInfo(t).name;
}
inline bool IsQuantized(DType t) {
  return GetDTypeInfo(t).block_elems > 1;
}

// Bytes of `n_elems` elements of type t; 0 when n_elems is not a whole number of blocks.
// Callers check divisibility with RowSizeValid first.
inline bool RowSizeValid(DType t, uint64_t n_elems) {
  return n_elems % static_cast<uint64_t>(GetDTypeInfo(t).block_elems) == 0;
}
inline uint64_t RowBytes(DType t, uint64_t n_elems) {
  const DTypeInfo& i = GetDTypeInfo(t);
  return n_elems / static_cast<uint64_t>(i.block_elems) * static_cast<uint64_t>(i.block_bytes);
}

inline float BF16ToF32(uint16_t h) {
  uint32_t bits = static_cast<uint32_t>(h) << 16;
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

// Round-to-nearest-even, NaN kept quiet.
inline uint16_t F32ToBF16(float f) {
  uint32_t bits;
  std::memcpy(&bits, &f, 4);
  if ((bits & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((bits >> 16) | 0x40);
  bits += 0x7fffu + ((bits >> 16) & 1u);
  return static_cast<uint16_t>(bits >> 16);
}

float F16ToF32(uint16_t h);
uint16_t F32ToF16(float f);

}  // namespace gemma
