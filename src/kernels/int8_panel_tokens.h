// The token loop every Int8PanelGemmFn shares: tokens in groups of Tile::kTokens (the most the
// ISA's registers hold), each group handed to the ISA's tile, Tile::Run<NT>(panel, n_blocks, x,
// x_corr, x_stride, y[NT], n_rows, accumulate), with NT a constant (WithTokenCount) so the
// tile's accumulators stay in registers; a last, smaller group gets its own NT.
#pragma once

#include <algorithm>
#include <cstdint>

#include "kernels/kernels.h"
#include "kernels/token_count.h"

namespace gemma {

template <typename Tile>
void Int8PanelOverTokens(const Int8PanelBlock* panel, int64_t n_blocks, const ActBlockQ8* x,
                         const Int8PairCorr* x_corr, int64_t x_stride, int64_t n_tokens,
                         int64_t n_rows, float* y, int64_t ldy, bool accumulate) {
  constexpr int kTokens = Tile::kTokens;
  for (int64_t t0 = 0; t0 < n_tokens; t0 += kTokens) {
    float* ys[kTokens];
    const int64_t nt = std::min<int64_t>(kTokens, n_tokens - t0);
    for (int64_t t = 0; t < nt; ++t) ys[t] = y + (t0 + t) * ldy;
    WithTokenCount<kTokens>(nt, [&]<int NT>() {
      Tile::template Run<NT>(panel, n_blocks, x + t0 * x_stride, x_corr + t0 * x_stride, x_stride,
                             ys, n_rows, accumulate);
    });
  }
}

}  // namespace gemma
