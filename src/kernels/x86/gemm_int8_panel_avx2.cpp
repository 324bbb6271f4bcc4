// AVX2 int8 prefill kernel for Q4_0 weights (see Int8PanelBlock in kernels.h): per group of four
// quants, two 256-bit loads (rows 0-7, 8-15) meet one broadcast of four activation bytes per
// token in maddubs. The int16 sums start at the block's correction and wrap harmlessly (the
// block's result fits in int16), so a block costs, per token and eight rows, one madd, one
// conversion and one FMA. Each maddubs costs about three instructions (its share of the weight
// load and the broadcast, itself, one add): the 16 x 3 tile is as far as sixteen registers go.
#include "kernels/int8_panel_tokens.h"
#include "kernels/x86/avx2_common.h"
#include "kernels/x86/avx2_kernels.h"

namespace gemma {
namespace {

// s += m in int16 lanes, in place: written as an intrinsic, GCC adds into m's register and
// copies the sum back to s, one extra instruction per maddubs in a loop bound by issue width.
inline void AddInt16InPlace(__m256i& s, __m256i m) {
  asm("vpaddw %1, %0, %0" : "+x"(s) : "x"(m));
}

struct Int8TileAvx2 {
  static_assert(kInt8PanelRows == 16, "two 8-row halves per group");
  static constexpr int kTokens = kInt8PanelTokens;
  template <int NT>
  static void Run(const Int8PanelBlock* panel, int64_t n_blocks, const ActBlockQ8* x,
                  const Int8PairCorr* x_corr, int64_t x_stride, float* const* y, int64_t n_rows,
                  bool accumulate) {
    const ActBlockQ8* xt[NT];
    const Int8PairCorr* ct[NT];
    __m256 acc_lo[NT], acc_hi[NT];
    for (int t = 0; t < NT; ++t) {
      xt[t] = x + t * x_stride;
      ct[t] = x_corr + t * x_stride;
      acc_lo[t] = acc_hi[t] = _mm256_setzero_ps();
    }
    const __m256i ones16 = _mm256_set1_epi16(1);
    for (int64_t b = 0; b < n_blocks; ++b) {
      const Int8PanelBlock& pb = panel[b];
      __m256i s_lo[NT], s_hi[NT];
      for (int t = 0; t < NT; ++t) {
        int32_t corr;
        std::memcpy(&corr, &ct[t][b], 4);
        s_lo[t] = s_hi[t] = _mm256_set1_epi32(corr);
      }
      // Not unrolled: unrolled, GCC reassociates the int16 sums into a tree of live registers
      // and spills them to the stack.
#pragma GCC unroll 8
      for (int g = 0; g < 8; ++g) {
        const __m256i w_lo = _mm256_load_si256(reinterpret_cast<const __m256i*>(pb.q[g]));
        const __m256i w_hi = _mm256_load_si256(reinterpret_cast<const __m256i*>(pb.q[g] + 32));
        for (int t = 0; t < NT; ++t) {
          int32_t four;
          std::memcpy(&four, xt[t][b].qs + 4 * g, 4);
          const __m256i a = _mm256_set1_epi32(four);
          AddInt16InPlace(s_lo[t], _mm256_maddubs_epi16(w_lo, a));
          AddInt16InPlace(s_hi[t], _mm256_maddubs_epi16(w_hi, a));
        }
      }
      const __m256 dw_lo = _mm256_load_ps(pb.d);
      const __m256 dw_hi = _mm256_load_ps(pb.d + 8);
      for (int t = 0; t < NT; ++t) {
        const __m256 dx = _mm256_set1_ps(xt[t][b].d);
        acc_lo[t] =
            _mm256_fmadd_ps(_mm256_mul_ps(dw_lo, dx),
                            _mm256_cvtepi32_ps(_mm256_madd_epi16(s_lo[t], ones16)), acc_lo[t]);
        acc_hi[t] =
            _mm256_fmadd_ps(_mm256_mul_ps(dw_hi, dx),
                            _mm256_cvtepi32_ps(_mm256_madd_epi16(s_hi[t], ones16)), acc_hi[t]);
      }
    }
    for (int t = 0; t < NT; ++t) avx2::StoreRows16(acc_lo[t], acc_hi[t], y[t], n_rows, accumulate);
  }
};

}  // namespace

void FillAvx2Int8PanelKernels(KernelTable* table) {
  table->int8_panel_gemm = &Int8PanelOverTokens<Int8TileAvx2>;
}

}  // namespace gemma
