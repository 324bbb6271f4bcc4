// Scalar attention kernels over cached K/V rows (the oracle for the SIMD versions).
#include <cstring>

#include "core/dtype.h"
#include "kernels/attention_heads.h"
#include "kernels/kernels.h"

namespace gemma {
namespace {

template <DType kType>
float Element(const void* base, int64_t i) {
  if constexpr (kType == DType::kF32) {
    return static_cast<const float*>(base)[i];
  } else if constexpr (kType == DType::kF16) {
    return F16ToF32(static_cast<const uint16_t*>(base)[i]);
  } else if constexpr (kType == DType::kQ8_0) {
    // Element i lies in block i / 32: an f16 scale, then 32 int8 quants.
    const auto* block = static_cast<const uint8_t*>(base) + (i / 32) * 34;
    uint16_t d;
    std::memcpy(&d, block, 2);
    return F16ToF32(d) * static_cast<float>(static_cast<int8_t>(block[2 + i % 32]));
  } else {
    return BF16ToF32(static_cast<const uint16_t*>(base)[i]);
  }
}

template <DType kType>
void Scores(const float* q, const void* k, int64_t stride, int64_t n_keys, int64_t head_dim,
            float* scores) {
  for (int64_t j = 0; j < n_keys; ++j) {
    float s = 0;
    for (int64_t i = 0; i < head_dim; ++i) s += q[i] * Element<kType>(k, j * stride + i);
    scores[j] = s;
  }
}

template <DType kType>
void Accumulate(const float* p, const void* v, int64_t stride, int64_t n_keys, int64_t head_dim,
                float* out) {
  for (int64_t j = 0; j < n_keys; ++j) {
    for (int64_t i = 0; i < head_dim; ++i) out[i] += p[j] * Element<kType>(v, j * stride + i);
  }
}

template <DType kType>
void Set(KernelTable* t) {
  t->kv_scores[static_cast<size_t>(kType)] = &ScoresPerHead<&Scores<kType>>;
  t->kv_accumulate[static_cast<size_t>(kType)] = &AccumulatePerHead<&Accumulate<kType>>;
}

}  // namespace

void FillScalarAttentionKernels(KernelTable* table) {
  Set<DType::kF32>(table);
  Set<DType::kF16>(table);
  Set<DType::kBF16>(table);
  Set<DType::kQ8_0>(table);
}

}  // namespace gemma
