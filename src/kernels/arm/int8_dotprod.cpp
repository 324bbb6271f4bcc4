// NEON kernels with the dot-product extension (ARMv8.2 SDOT, every Apple M-series core and most
// ARM servers): Q8_0 / Q4_0 weights against int8 activations (ActBlockQ8) for decode, and the
// int8 Q4_0 prefill panel kernel. The "neon-dotprod" table, picked by default where the CPU has
// the extension (its K-quant slots come from kquant_dotprod.cpp). Same integer math as the scalar
// references (dot_q8_scalar.cpp, the tests' panel reference); only *_dotprod.cpp files are built
// with +dotprod.
#include <arm_neon.h>

#include <algorithm>

#include "kernels/activation_scales.h"
#include "kernels/arm/neon_common.h"
#include "kernels/int8_panel_tokens.h"
#include "kernels/kernels.h"

namespace gemma {
namespace {

using namespace neon;

// One block of 32 products, exact in int32 (32 x 128 x 127 < 2^31).
inline int32x4_t BlockDot(const int8x16_t q[2], const ActBlockQ8& x) {
  const int32x4_t s = vdotq_s32(vdupq_n_s32(0), q[0], vld1q_s8(x.qs));
  return vdotq_s32(s, q[1], vld1q_s8(x.qs + 16));
}

// One block's term: d_w d_x sum q x.
inline float32x4_t BlockTerm(const uint8_t* block, const int8x16_t q[2], const ActBlockQ8& x,
                             float32x4_t acc) {
  return vfmaq_n_f32(acc, vcvtq_f32_s32(BlockDot(q, x)), BlockScale(block) * x.d);
}

// The types with a minimum also add m_w * (d_x sum x) per block, the bracket taken once per call.
template <typename B>
void DotRowsQ8(const uint8_t* w, uint64_t row_bytes, int64_t n_rows, const void* xv, int64_t n,
               float* y) {
  const auto* x = static_cast<const ActBlockQ8*>(xv);
  const int64_t nb = n / 32;
  const float* x_dsum = HasMin<B> ? GatherActScales(x, nb, /*with_sums=*/true).d_sum : nullptr;
  auto min_term = [&](const uint8_t* block, int64_t b) {
    if constexpr (HasMin<B>) return BlockMin(block) * x_dsum[b];
    return 0.f;
  };
  for (int64_t r = 0; r < n_rows; ++r) {
    const uint8_t* row = w + static_cast<uint64_t>(r) * row_bytes;
    // Two accumulators hide the FMA latency.
    float32x4_t acc0 = vdupq_n_f32(0.f), acc1 = vdupq_n_f32(0.f);
    float min_sum = 0.f;
    int64_t b = 0;
    for (; b + 2 <= nb; b += 2) {
      const uint8_t* b0 = row + b * B::kBytes;
      const uint8_t* b1 = b0 + B::kBytes;
      int8x16_t q0[2], q1[2];
      B::Quants(b0, q0);
      B::Quants(b1, q1);
      acc0 = BlockTerm(b0, q0, x[b], acc0);
      acc1 = BlockTerm(b1, q1, x[b + 1], acc1);
      min_sum += min_term(b0, b) + min_term(b1, b + 1);
    }
    if (b < nb) {
      const uint8_t* b0 = row + b * B::kBytes;
      int8x16_t q0[2];
      B::Quants(b0, q0);
      acc0 = BlockTerm(b0, q0, x[b], acc0);
      min_sum += min_term(b0, b);
    }
    y[r] = vaddvq_f32(vaddq_f32(acc0, acc1)) + min_sum;
  }
}

// Four groups of four quants (one 16-byte activation load) against the four row vectors of a
// panel group; the lane picks the group, so it must be a constant.
template <int kLane, int NT>
inline void GroupDots(const Int8PanelBlock& pb, int g, const int8x16_t* xv, int32x4_t s[][4]) {
  for (int v = 0; v < 4; ++v) {
    const int8x16_t w = vld1q_s8(reinterpret_cast<const int8_t*>(pb.q[g]) + 16 * v);
    for (int t = 0; t < NT; ++t) s[t][v] = vdotq_laneq_s32(s[t][v], w, xv[t], kLane);
  }
}

// The 16-row panel against NT tokens: per group, four 16-byte loads hold four quants of each
// row (rows 4v..4v+3 in vector v); SDOT by lane multiplies them with one group of four
// activation bytes. Quants are 0..15, the same values as signed bytes; the sums start at the
// block's correction and are exact in int32.
struct Int8TileDotprod {
  static_assert(kInt8PanelRows == 16, "four row vectors of four rows");
  static constexpr int kTokens = kInt8PanelTokens;
  template <int NT>
  static void Run(const Int8PanelBlock* panel, int64_t n_blocks, const ActBlockQ8* x,
                  const Int8PairCorr* x_corr, int64_t x_stride, float* const* y, int64_t n_rows,
                  bool accumulate) {
    float32x4_t acc[NT][4];
    for (int t = 0; t < NT; ++t)
      for (int v = 0; v < 4; ++v) acc[t][v] = vdupq_n_f32(0.f);
    for (int64_t b = 0; b < n_blocks; ++b) {
      const Int8PanelBlock& pb = panel[b];
      int32x4_t s[NT][4];
      for (int t = 0; t < NT; ++t) {
        const Int8PairCorr& c = x_corr[t * x_stride + b];
        const int32x4_t start = vdupq_n_s32(int32_t{c.pair[0]} + c.pair[1]);
        for (int v = 0; v < 4; ++v) s[t][v] = start;
      }
      for (int h = 0; h < 2; ++h) {
        int8x16_t xv[NT];
        for (int t = 0; t < NT; ++t) xv[t] = vld1q_s8(x[t * x_stride + b].qs + 16 * h);
        GroupDots<0, NT>(pb, 4 * h, xv, s);
        GroupDots<1, NT>(pb, 4 * h + 1, xv, s);
        GroupDots<2, NT>(pb, 4 * h + 2, xv, s);
        GroupDots<3, NT>(pb, 4 * h + 3, xv, s);
      }
      for (int v = 0; v < 4; ++v) {
        const float32x4_t dw = vld1q_f32(pb.d + 4 * v);
        for (int t = 0; t < NT; ++t) {
          acc[t][v] =
              vfmaq_f32(acc[t][v], vcvtq_f32_s32(s[t][v]), vmulq_n_f32(dw, x[t * x_stride + b].d));
        }
      }
    }
    for (int t = 0; t < NT; ++t) {
      float v[kInt8PanelRows];
      for (int i = 0; i < 4; ++i) vst1q_f32(v + 4 * i, acc[t][i]);
      for (int64_t r = 0; r < n_rows; ++r) y[t][r] = accumulate ? y[t][r] + v[r] : v[r];
    }
  }
};

}  // namespace

void FillNeonDotprodKernels(KernelTable* table) {
  table->isa = Isa::kNeonDotprod;
  for (DType t : {DType::kQ8_0, DType::kQ4_0, DType::kQ5_0, DType::kQ4_1, DType::kQ5_1}) {
    table->activation[static_cast<size_t>(t)] = ActivationType::kQ8;
    table->gemm_tile[static_cast<size_t>(t)] = nullptr;  // per-token dots below 8 tokens
  }
  table->dot_rows[static_cast<size_t>(DType::kQ8_0)] = &DotRowsQ8<BlockQ8_0>;
  table->dot_rows[static_cast<size_t>(DType::kQ4_0)] = &DotRowsQ8<BlockQ4_0>;
  table->dot_rows[static_cast<size_t>(DType::kQ5_0)] = &DotRowsQ8<BlockQ5_0>;
  table->dot_rows[static_cast<size_t>(DType::kQ4_1)] = &DotRowsQ8<BlockQ4_1>;
  table->dot_rows[static_cast<size_t>(DType::kQ5_1)] = &DotRowsQ8<BlockQ5_1>;
  table->int8_panel_gemm = &Int8PanelOverTokens<Int8TileDotprod>;
  FillNeonDotprodKQuantKernels(table);
}

}  // namespace gemma
