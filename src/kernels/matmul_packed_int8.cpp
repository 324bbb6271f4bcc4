// Int8 prefill for Q4_0, Q5_0, Q4_1, Q5_1, Q4_K, Q5_K and (VNNI tables) Q8_0 and Q6_K weights:
// PackedMatMul's loop order (matmul_packed.cpp) with int8 panels and activations. Per k block, each
// panel of kInt8PanelRows rows is repacked once into Int8PanelBlocks (L1) by the table's
// int8_panel_pack and meets every token of the block through its int8_panel_gemm; the token block's
// activations are quantized once per call, k block by k block (L2). A K-quant sub-block of 32 is
// one panel block (scale d * sc[j]); its minimum (and Q4_1/Q5_1's), and the offset its quants are
// stored with, come back through a bias per row and block that the f32 panel kernel multiplies with
// each token's activation block sums (a product 32 times smaller than the int8 one). Tables with
// signed panels (VNNI) turn each packed panel signed and take the activations as q + 128; Q6_K
// packs straight into signed split panels there (one scale per 16-element half).
#include <algorithm>
#include <vector>

#include "gemma/error.h"
#include "kernels/matmul_packed.h"

namespace gemma {
namespace {

// A k block is at most this many 32-element blocks (a 23 KiB panel that stays in L1 while every
// token of the block meets it); rows are cut into equal k blocks, so 1152 and 2304 run whole
// (36 blocks) and 6912 in six.
constexpr int64_t kMaxKBlocks = 40;
constexpr int64_t kTokenBlock = 88 * kInt8PanelTokens;  // 264, as the f32 path
// Up to 16 panels per pool chunk: a chunk's first panel is packed without a prefetch ahead of it
// (the next chunk is not known), and 8 left that cold start in 2-5 % of Q8_0 prefill on Zen 5.
constexpr int64_t kMaxChunkPanels = 16;

// A pool thread's packed panel (each packs into its own), reused across calls.
struct PanelBuffers {
  std::vector<Int8PanelBlock> panel;
  std::vector<float> bias;  // biased types: per row and block, k-major (a PanelGemmFn panel)
  std::vector<Int8SplitPanelBlock> split;  // Q6_K on split panels
};
thread_local PanelBuffers t_panel;

}  // namespace

uint64_t PackedMatMulInt8ScratchBytes(int64_t widest_input, int64_t max_tokens, int n_threads) {
  const auto activations =
      static_cast<uint64_t>(std::min(kTokenBlock, max_tokens) * (widest_input / 32)) *
      (sizeof(ActBlockQ8) + sizeof(Int8PairCorr) + sizeof(float));
  return static_cast<uint64_t>(n_threads) * kMaxKBlocks *
             (sizeof(Int8PanelBlock) + sizeof(Int8SplitPanelBlock) +
              kInt8PanelRows * sizeof(float)) +
         activations;
}

void PackedMatMulInt8(const KernelTable& k, ThreadPool& pool, std::span<const MatMulTarget> targets,
                      const float* x, int64_t n_tokens, int64_t ldx) {
  const TensorView& w0 = *targets.front().w;  // every target's type and row length
  const int64_t n = w0.row_elems();
  const int64_t token_block = EqualTokenBlock(n_tokens, kTokenBlock, kInt8PanelTokens);
  const int quant_offset = Int8PanelQuantOffset(w0.dtype);
  const bool split = Int8SplitPanelTakes(k, w0.dtype);
  const Int8PanelPackFn pack = k.int8_panel_pack[static_cast<size_t>(w0.dtype)];
  if (pack == nullptr && !split) throw Error(ErrorKind::kInternal, "no int8 panel for this type");
  const bool biased = Int8PanelBiased(w0.dtype);
  const Int8PanelToSignedFn to_signed = k.int8_panel_to_signed;
  const bool signed_panels = split || to_signed != nullptr;
  const int64_t blocks = n / 32;
  const int64_t k_chunks = (blocks + kMaxKBlocks - 1) / kMaxKBlocks;
  const int64_t chunk_blocks = (blocks + k_chunks - 1) / k_chunks;
  // One token block's activations, k block by k block: k block c holds [token][block] with kcb
  // blocks per token, starting at c * chunk_blocks * nt.
  thread_local std::vector<ActBlockQ8> qx;
  thread_local std::vector<Int8PairCorr> corr;
  thread_local std::vector<float> dsum;  // biased types: d_x * sum of the block's quants
  qx.resize(static_cast<size_t>(std::min(token_block, n_tokens) * blocks));
  if (!signed_panels) corr.resize(qx.size());  // signed panels carry their correction per row
  if (biased) dsum.resize(qx.size());
  // The workers see these through pointers: a thread_local named inside a lambda would be
  // the worker's own.
  ActBlockQ8* const xq_all = qx.data();
  Int8PairCorr* const corr_all = corr.data();
  float* const dsum_all = dsum.data();
  PackedLoop(
      pool, targets, n_tokens, {kInt8PanelRows, token_block, 32 * chunk_blocks, kMaxChunkPanels},
      [&](int64_t t0, int64_t nt, int64_t a, int64_t b) {
        thread_local std::vector<int32_t> pair_sums;
        pair_sums.resize(static_cast<size_t>(2 * chunk_blocks));
        for (int64_t t = a; t < b; ++t) {
          for (int64_t b0 = 0; b0 < blocks; b0 += chunk_blocks) {
            const int64_t kcb = std::min(chunk_blocks, blocks - b0);
            const int64_t at = b0 * nt + t * kcb;
            k.quantize_activations(x + (t0 + t) * ldx + b0 * 32, xq_all + at, kcb * 32,
                                   pair_sums.data());
            for (int64_t i = 0; i < kcb; ++i) {
              const int32_t* sums = &pair_sums[static_cast<size_t>(2 * i)];
              if (signed_panels) {
                for (int8_t& q : xq_all[at + i].qs) q = static_cast<int8_t>(q ^ 0x80);  // q + 128
              } else {
                corr_all[at + i] = MakeInt8PairCorr(sums, quant_offset);
              }
              if (biased)
                dsum_all[at + i] = xq_all[at + i].d * static_cast<float>(sums[0] + sums[1]);
            }
          }
        }
      },
      [&](const PanelStep& p) {
        const int64_t b0 = p.k0 / 32, kcb = p.kc / 32;
        const TensorView& w = *p.target->w;
        const uint8_t* const rows_at = w.data + static_cast<uint64_t>(p.r0) * w.row_bytes();
        PanelBuffers& s = t_panel;
        if (split) {
          s.split.resize(static_cast<size_t>(chunk_blocks));
          k.q6_k_split_panel_pack(rows_at, w.row_bytes(), p.rows, b0, kcb, s.split.data());
          return;
        }
        s.panel.resize(static_cast<size_t>(chunk_blocks));
        s.bias.resize(static_cast<size_t>(chunk_blocks * kInt8PanelRows));
        pack(rows_at, w.row_bytes(), p.rows, b0, kcb, s.panel.data(), s.bias.data());
        if (to_signed != nullptr) to_signed(s.panel.data(), kcb, quant_offset);
      },
      [&](const PanelStep& p, const TokenSlice& ts) {
        const int64_t b0 = p.k0 / 32, kcb = p.kc / 32, nt = ts.b - ts.a;
        const int64_t at = b0 * ts.nt + ts.a * kcb;  // the slice's first activation block
        const int64_t ldy = p.target->ldy;
        float* const y_slice = p.target->y + (ts.t0 + ts.a) * ldy + p.r0;
        const PanelBuffers& s = t_panel;
        if (split) {
          k.int8_split_panel_gemm(s.split.data(), kcb, xq_all + at, kcb, nt, p.rows, y_slice, ldy,
                                  /*accumulate=*/b0 > 0);
          return;
        }
        k.int8_panel_gemm(s.panel.data(), kcb, xq_all + at, signed_panels ? nullptr : corr_all + at,
                          kcb, nt, p.rows, y_slice, ldy, /*accumulate=*/b0 > 0);
        if (!biased) return;
        // The bias panel (k-major, as PanelGemmFn wants) against the tokens' block sums.
        k.panel_gemm(s.bias.data(), kcb, dsum_all + at, kcb, nt, p.rows, y_slice, ldy,
                     /*accumulate=*/true);
      });
}

}  // namespace gemma
