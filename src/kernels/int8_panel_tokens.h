// The token loop every Int8PanelGemmFn shares: tokens in groups of Tile::kTokens (the most the
// ISA's registers hold), each group handed to the ISA's tile, Tile::Run<NT>(panel, n_blocks, x,
// x_corr, x_stride, y[NT], n_rows, accumulate), with NT a constant (WithTokenCount) so the
// tile's accumulators stay in registers; a last, smaller group gets its own NT.
#pragma once

#include <cstdint>

#include "kernels/kernels.h"
#include "kernels/token_count.h"

namespace gemma {

template <typename Tile>
void Int8PanelOverTokens(const Int8PanelBlock* panel, int64_t n_blocks, const ActBlockQ8* x,
                         const Int8PairCorr* x_corr, int64_t x_stride, int64_t n_tokens,
                         int64_t n_rows, float* y, int64_t ldy, bool accumulate) {
  ForTokenGroups<Tile::kTokens>(n_tokens, [&]<int NT>(int64_t t0) {
    float* ys[NT];
    for (int t = 0; t < NT; ++t) ys[t] = y + (t0 + t) * ldy;
    Tile::template Run<NT>(panel, n_blocks, x + t0 * x_stride, x_corr + t0 * x_stride, x_stride, ys,
                           n_rows, accumulate);
  });
}

}  // namespace gemma
