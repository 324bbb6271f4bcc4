// Scalar integer dot products: quantized weights x int8 activations (ActBlockQ8), block by
// block as sum_blocks d_w * d_x * sum_i q_w[i] * q_x[i]. The oracle for the SIMD versions.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <type_traits>

#include "core/quant/k_quants.h"
#include "core/quant/q4.h"
#include "core/quant/q8_0.h"
#include "kernels/kernels.h"

namespace gemma {

void QuantizeActivationsQ8(const float* x, ActBlockQ8* y, int64_t n) {
  for (int64_t b = 0; b < n / ActBlockQ8::kElems; ++b) {
    const float* xb = x + b * ActBlockQ8::kElems;
    float amax = 0.f;
    for (int i = 0; i < ActBlockQ8::kElems; ++i) amax = std::max(amax, std::fabs(xb[i]));
    const float d = amax / 127.f;
    const float inv = d != 0.f ? 1.f / d : 0.f;
    y[b].d = d;
    for (int i = 0; i < ActBlockQ8::kElems; ++i) {
      // Round half to even, as lrintf in the default rounding mode, without its libm call
      // (which kept this loop scalar): adding 1.5 * 2^23 leaves no fraction bits, so the FPU
      // rounds; exact for |x/d| <= 127.
      constexpr float kRound = 12582912.f;
      y[b].qs[i] = static_cast<int8_t>(static_cast<int>((xb[i] * inv + kRound) - kRound));
    }
  }
}

void QuantizeActivationsScalar(const float* x, ActBlockQ8* y, int64_t n, int32_t* pair_sums) {
  QuantizeActivationsQ8(x, y, n);
  for (int64_t b = 0; pair_sums != nullptr && b < n / ActBlockQ8::kElems; ++b) {
    Int8PairSums(y[b], pair_sums + 2 * b);
  }
}

namespace {

void DotRowsQ8_0Q8(const uint8_t* w, uint64_t row_bytes, int64_t n_rows, const void* xv, int64_t n,
                   float* y) {
  const auto* x = static_cast<const ActBlockQ8*>(xv);
  for (int64_t r = 0; r < n_rows; ++r) {
    const uint8_t* row = w + static_cast<uint64_t>(r) * row_bytes;
    float sum = 0.f;
    for (int64_t b = 0; b < n / 32; ++b) {
      QuantBlockQ8_0 wb;
      std::memcpy(&wb, row + b * sizeof(QuantBlockQ8_0), sizeof(wb));
      int32_t acc = 0;
      for (int i = 0; i < 32; ++i) acc += int32_t{wb.qs[i]} * x[b].qs[i];
      sum += F16ToF32(wb.d) * x[b].d * static_cast<float>(acc);
    }
    y[r] = sum;
  }
}

void DotRowsQ4_0Q8(const uint8_t* w, uint64_t row_bytes, int64_t n_rows, const void* xv, int64_t n,
                   float* y) {
  const auto* x = static_cast<const ActBlockQ8*>(xv);
  for (int64_t r = 0; r < n_rows; ++r) {
    const uint8_t* row = w + static_cast<uint64_t>(r) * row_bytes;
    float sum = 0.f;
    for (int64_t b = 0; b < n / 32; ++b) {
      QuantBlockQ4_0 wb;
      std::memcpy(&wb, row + b * sizeof(QuantBlockQ4_0), sizeof(wb));
      int32_t acc = 0;
      for (int i = 0; i < 16; ++i) {
        acc += (int32_t{wb.qs[i] & 0x0F} - 8) * x[b].qs[i];
        acc += (int32_t{wb.qs[i] >> 4} - 8) * x[b].qs[i + 16];
      }
      sum += F16ToF32(wb.d) * x[b].d * static_cast<float>(acc);
    }
    y[r] = sum;
  }
}

// Q5_0 / Q4_1 / Q5_1: the block's integer quants (element j: nibble j % 16 of qs, low then high,
// plus bit j of qh as 16 for the 5-bit types), scale d and minimum m (0 for Q5_0, whose quants
// are q - 16): sum d * d_x * sum_i q_i x_i + m * d_x * sum_i x_i.
template <int kBytes, bool kFifthBit, bool kHasMin>
void DotRowsBlock32Q8(const uint8_t* w, uint64_t row_bytes, int64_t n_rows, const void* xv,
                      int64_t n, float* y) {
  const auto* x = static_cast<const ActBlockQ8*>(xv);
  const int qh_at = kHasMin ? 4 : 2;
  const int qs_at = qh_at + (kFifthBit ? 4 : 0);
  for (int64_t r = 0; r < n_rows; ++r) {
    const uint8_t* row = w + static_cast<uint64_t>(r) * row_bytes;
    float sum = 0.f;
    for (int64_t b = 0; b < n / 32; ++b) {
      const uint8_t* block = row + b * kBytes;
      uint16_t d, m = 0;
      uint32_t qh = 0;
      std::memcpy(&d, block, 2);
      if (kHasMin) std::memcpy(&m, block + 2, 2);
      if (kFifthBit) std::memcpy(&qh, block + qh_at, 4);
      int32_t dot = 0, x_sum = 0;
      for (int i = 0; i < 32; ++i) {
        const uint8_t byte = block[qs_at + i % 16];
        int32_t q = i < 16 ? (byte & 0x0F) : (byte >> 4);
        if (kFifthBit) q |= static_cast<int32_t>((qh >> i) & 1u) << 4;
        if (kFifthBit && !kHasMin) q -= 16;
        dot += q * x[b].qs[i];
        x_sum += x[b].qs[i];
      }
      sum += F16ToF32(d) * x[b].d * static_cast<float>(dot);
      if (kHasMin) sum += F16ToF32(m) * x[b].d * static_cast<float>(x_sum);
    }
    y[r] = sum;
  }
}

// Q4_K / Q5_K: activation block j is sub-block j % 8 of super-block j / 8:
// sum_j d_x[j] * (d * sc[j] * sum_i q_i x_i - dmin * m[j] * sum_i x_i); Q5_K's quants take bit j
// of qh[i] as 16.
template <typename Block>
void DotRowsK4Q8(const uint8_t* w, uint64_t row_bytes, int64_t n_rows, const void* xv, int64_t n,
                 float* y) {
  constexpr bool kFifthBit = std::is_same_v<Block, QuantBlockQ5_K>;
  const auto* x = static_cast<const ActBlockQ8*>(xv);
  for (int64_t r = 0; r < n_rows; ++r) {
    const uint8_t* row = w + static_cast<uint64_t>(r) * row_bytes;
    float sum = 0.f;
    for (int64_t b = 0; b < n / kQK_K; ++b) {
      Block blk;
      std::memcpy(&blk, row + b * sizeof(blk), sizeof(blk));
      for (int j = 0; j < 8; ++j) {
        uint8_t sc, m;
        UnpackScaleMinK4(j, blk.scales, &sc, &m);
        const ActBlockQ8& xb = x[8 * b + j];
        int32_t dot = 0, x_sum = 0;
        for (int i = 0; i < 32; ++i) {
          const uint8_t byte = blk.qs[32 * (j / 2) + i];
          int32_t q = j % 2 == 0 ? byte & 0x0F : byte >> 4;
          if constexpr (kFifthBit) q += ((blk.qh[i] >> j) & 1) * 16;
          dot += q * xb.qs[i];
          x_sum += xb.qs[i];
        }
        sum += xb.d * (F16ToF32(blk.d) * sc * static_cast<float>(dot) -
                       F16ToF32(blk.dmin) * m * static_cast<float>(x_sum));
      }
    }
    y[r] = sum;
  }
}

// Q6_K: sum_j d_x[j] * d * sum over activation block j's two 16-element groups k of
// sc[k] * sum_i (q_i - 32) x_i, with the quants as DequantizeBlockQ6_K unpacks them.
void DotRowsQ6_KQ8(const uint8_t* w, uint64_t row_bytes, int64_t n_rows, const void* xv, int64_t n,
                   float* y) {
  const auto* x = static_cast<const ActBlockQ8*>(xv);
  for (int64_t r = 0; r < n_rows; ++r) {
    const uint8_t* row = w + static_cast<uint64_t>(r) * row_bytes;
    float sum = 0.f;
    for (int64_t b = 0; b < n / kQK_K; ++b) {
      QuantBlockQ6_K blk;
      std::memcpy(&blk, row + b * sizeof(blk), sizeof(blk));
      int q[kQK_K];
      for (int half = 0; half < 2; ++half) {
        const uint8_t* ql = blk.ql + 64 * half;
        const uint8_t* qh = blk.qh + 32 * half;
        for (int l = 0; l < 32; ++l) {
          q[128 * half + l] = ((ql[l] & 0x0F) | (((qh[l] >> 0) & 3) << 4)) - 32;
          q[128 * half + l + 32] = ((ql[l + 32] & 0x0F) | (((qh[l] >> 2) & 3) << 4)) - 32;
          q[128 * half + l + 64] = ((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
          q[128 * half + l + 96] = ((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;
        }
      }
      for (int j = 0; j < 8; ++j) {
        const ActBlockQ8& xb = x[8 * b + j];
        int32_t dot = 0;
        for (int i = 0; i < 32; ++i) dot += blk.scales[2 * j + i / 16] * q[32 * j + i] * xb.qs[i];
        sum += xb.d * F16ToF32(blk.d) * static_cast<float>(dot);
      }
    }
    y[r] = sum;
  }
}

}  // namespace

DotRowsFn ReferenceDotQ8(DType weights) {
  switch (weights) {
    case DType::kQ8_0:
      return &DotRowsQ8_0Q8;
    case DType::kQ4_0:
      return &DotRowsQ4_0Q8;
    case DType::kQ5_0:
      return &DotRowsBlock32Q8<22, true, false>;
    case DType::kQ4_1:
      return &DotRowsBlock32Q8<20, false, true>;
    case DType::kQ5_1:
      return &DotRowsBlock32Q8<24, true, true>;
    case DType::kQ4_K:
      return &DotRowsK4Q8<QuantBlockQ4_K>;
    case DType::kQ5_K:
      return &DotRowsK4Q8<QuantBlockQ5_K>;
    case DType::kQ6_K:
      return &DotRowsQ6_KQ8;
    default:
      return nullptr;
  }
}

}  // namespace gemma
