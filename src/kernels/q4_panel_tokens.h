// The token loop every Q4PanelGemmFn shares: tokens in groups of kQ4PanelTokens, each group
// handed to the ISA's tile, Tile::Run<NT>(panel, n_blocks, x, x_corr, x_stride, y[NT], n_rows,
// accumulate), with NT a constant so the tile's accumulators stay in registers.
#pragma once

#include <algorithm>
#include <cstdint>

#include "kernels/kernels.h"

namespace gemma {

template <typename Tile>
void Q4PanelOverTokens(const Q4PanelBlock* panel, int64_t n_blocks, const ActBlockQ8* x,
                       const Q4PairCorr* x_corr, int64_t x_stride, int64_t n_tokens, int64_t n_rows,
                       float* y, int64_t ldy, bool accumulate) {
  static_assert(kQ4PanelTokens == 3, "tiles of 1, 2 and 3 tokens");
  for (int64_t t0 = 0; t0 < n_tokens; t0 += kQ4PanelTokens) {
    float* ys[kQ4PanelTokens];
    const int64_t nt = std::min<int64_t>(kQ4PanelTokens, n_tokens - t0);
    for (int64_t t = 0; t < nt; ++t) ys[t] = y + (t0 + t) * ldy;
    const ActBlockQ8* xt = x + t0 * x_stride;
    const Q4PairCorr* ct = x_corr + t0 * x_stride;
    if (nt == 3) {
      Tile::template Run<3>(panel, n_blocks, xt, ct, x_stride, ys, n_rows, accumulate);
    } else if (nt == 2) {
      Tile::template Run<2>(panel, n_blocks, xt, ct, x_stride, ys, n_rows, accumulate);
    } else {
      Tile::template Run<1>(panel, n_blocks, xt, ct, x_stride, ys, n_rows, accumulate);
    }
  }
}

}  // namespace gemma
