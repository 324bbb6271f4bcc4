// Int8 prefill for Q4_0, Q5_0, Q4_1, Q5_1, Q4_K, Q5_K and (VNNI tables) Q8_0 weights:
// PackedMatMul's loop order (matmul_packed.cpp) with int8 panels and activations. Per k block, each
// panel of kInt8PanelRows rows is repacked once into Int8PanelBlocks (L1) and meets every token of
// the block through the table's int8_panel_gemm; the token block's activations are quantized once
// per call, k block by k block (L2). A K-quant sub-block of 32 is one panel block (scale
// d * sc[j]); its minimum (and Q4_1/Q5_1's), and the offset its quants are stored with, come
// back through a bias per row and block that the f32 panel kernel multiplies with each token's
// activation block sums (a product 32 times smaller than the int8 one); so does Q8_0's "- 128".
#include <algorithm>
#include <cstddef>
#include <cstring>
#include <type_traits>
#include <vector>

#include "core/quant/k_quants.h"
#include "gemma/error.h"
#include "kernels/matmul_packed.h"

namespace gemma {
namespace {

// A k block is at most this many 32-element blocks (a 23 KiB panel that stays in L1 while every
// token of the block meets it); rows are cut into equal k blocks, so 1152 and 2304 run whole
// (36 blocks) and 6912 in six.
constexpr int64_t kMaxKBlocks = 40;
constexpr int64_t kTokenBlock = 88 * kInt8PanelTokens;  // 264, as the f32 path
constexpr int64_t kMaxChunkPanels = 8;

// Four bits (bits 0-3 of v) as 16 in bytes 0-3: Q5_0's fifth bits for four consecutive quants.
inline uint32_t FifthBitsOf4(uint32_t v) {
  return ((v & 1u) << 4) | ((v & 2u) << 11) | ((v & 4u) << 18) | ((v & 8u) << 25);
}

// Repacks blocks [b0, b0 + nb) of rows [r0, r0 + n_rows) of a 32-element block type: Q4_0,
// Q5_0 (a fifth bit per quant), Q4_1, Q5_1 (an f16 minimum m after the scale); rows past n_rows
// are zero. The types with a minimum get bias[b * kInt8PanelRows + r] = offset * d + m, so that
// d (q - offset) + bias is the dequantized value; the others need no bias.
template <DType kType>
void PackBlock32Panel(const TensorView& w, int64_t r0, int64_t n_rows, int64_t b0, int64_t nb,
                      Int8PanelBlock* out, float* bias) {
  constexpr bool kFifthBit = kType == DType::kQ5_0 || kType == DType::kQ5_1;
  constexpr bool kHasMin = kType == DType::kQ4_1 || kType == DType::kQ5_1;
  // f16 scale, [f16 minimum], [32 fifth bits], 16 bytes of nibbles.
  constexpr int kFifthBitsAt = kHasMin ? 4 : 2;
  constexpr int kQuantsAt = kFifthBitsAt + (kFifthBit ? 4 : 0);
  constexpr int kBlockBytes = kQuantsAt + 16;
  constexpr float offset = Int8PanelQuantOffset(kType);
  for (int64_t b = 0; b < nb; ++b) {
    Int8PanelBlock& pb = out[b];
    float* row_bias = kHasMin ? bias + b * kInt8PanelRows : nullptr;
    if (n_rows < kInt8PanelRows) {
      std::memset(&pb, 0, sizeof pb);
      if (kHasMin) std::fill(row_bias, row_bias + kInt8PanelRows, 0.f);
    }
    for (int64_t r = 0; r < n_rows; ++r) {
      const uint8_t* blk = w.data + static_cast<uint64_t>(r0 + r) * w.row_bytes() +
                           static_cast<uint64_t>(b0 + b) * kBlockBytes;
      uint16_t h;
      std::memcpy(&h, blk, 2);
      pb.d[r] = F16ToF32(h);
      if constexpr (kHasMin) {
        std::memcpy(&h, blk + 2, 2);
        row_bias[r] = offset * pb.d[r] + F16ToF32(h);
      }
      uint32_t qh = 0;
      if constexpr (kFifthBit) std::memcpy(&qh, blk + kFifthBitsAt, 4);
      // Byte i holds element i (low nibble) and element i + 16 (high nibble), so the low
      // nibbles of bytes 4g..4g+3 are group g's four quants and their high nibbles group g + 4's.
      for (int g = 0; g < 4; ++g) {
        uint32_t four;
        std::memcpy(&four, blk + kQuantsAt + 4 * g, 4);
        uint32_t lo = four & 0x0F0F0F0Fu, hi = (four >> 4) & 0x0F0F0F0Fu;
        if constexpr (kFifthBit) {
          lo |= FifthBitsOf4(qh >> (4 * g));
          hi |= FifthBitsOf4(qh >> (16 + 4 * g));
        }
        std::memcpy(&pb.q[g][4 * r], &lo, 4);
        std::memcpy(&pb.q[g + 4][4 * r], &hi, 4);
      }
    }
  }
}

// The same for sub-blocks [b0, b0 + nb) of a Q4_K or Q5_K matrix, sub-block j of super-block s
// being block 8 s + j: scale d * sc[j], quants as stored (Q5_K's fifth bit, bit j of qh[i],
// added as 16), and bias[b * kInt8PanelRows + r] = offset * d * sc[j] - dmin * m[j], so that
// d sc (q - offset) + bias is the dequantized value.
template <DType kType>
void PackK4Panel(const TensorView& w, int64_t r0, int64_t n_rows, int64_t b0, int64_t nb,
                 Int8PanelBlock* out, float* bias) {
  constexpr bool kFifthBit = kType == DType::kQ5_K;
  using Block = std::conditional_t<kFifthBit, QuantBlockQ5_K, QuantBlockQ4_K>;
  constexpr float offset = Int8PanelQuantOffset(kType);
  for (int64_t b = 0; b < nb; ++b) {
    Int8PanelBlock& pb = out[b];
    float* row_bias = bias + b * kInt8PanelRows;
    if (n_rows < kInt8PanelRows) {
      std::memset(&pb, 0, sizeof pb);
      std::fill(row_bias, row_bias + kInt8PanelRows, 0.f);
    }
    const int64_t sub = b0 + b, j = sub % 8;
    for (int64_t r = 0; r < n_rows; ++r) {
      const uint8_t* blk = w.data + static_cast<uint64_t>(r0 + r) * w.row_bytes() +
                           static_cast<uint64_t>(sub / 8) * sizeof(Block);
      uint16_t d, dmin;
      std::memcpy(&d, blk, 2);
      std::memcpy(&dmin, blk + 2, 2);
      uint8_t sc, m;
      UnpackScaleMinK4(static_cast<int>(j), blk + 4, &sc, &m);
      pb.d[r] = F16ToF32(d) * sc;
      row_bias[r] = offset * pb.d[r] - F16ToF32(dmin) * m;
      // Sub-blocks 2c and 2c + 1 share 32 bytes: low and high nibbles, element i in byte i.
      const uint8_t* qs = blk + offsetof(Block, qs) + 32 * (j / 2);
      const int shift = 4 * static_cast<int>(j % 2);
      for (int g = 0; g < 8; ++g) {
        uint32_t four;
        std::memcpy(&four, qs + 4 * g, 4);
        uint32_t q = (four >> shift) & 0x0F0F0F0Fu;
        if constexpr (kFifthBit) {
          uint32_t high;
          std::memcpy(&high, blk + offsetof(Block, qh) + 4 * g, 4);
          q |= ((high >> j) & 0x01010101u) << 4;
        }
        std::memcpy(&pb.q[g][4 * r], &q, 4);
      }
    }
  }
}

// The same for Q8_0 (an f16 scale, 32 signed quants): quants as q + 128 (0..255, for tiles that
// sum in int32) and bias[b * kInt8PanelRows + r] = -128 * d, so d (q + 128) + bias = d q.
void PackQ8_0Panel(const TensorView& w, int64_t r0, int64_t n_rows, int64_t b0, int64_t nb,
                   Int8PanelBlock* out, float* bias) {
  constexpr int kBlockBytes = 2 + 32;
  for (int64_t b = 0; b < nb; ++b) {
    Int8PanelBlock& pb = out[b];
    float* row_bias = bias + b * kInt8PanelRows;
    if (n_rows < kInt8PanelRows) {
      std::memset(&pb, 0, sizeof pb);
      std::fill(row_bias, row_bias + kInt8PanelRows, 0.f);
    }
    for (int64_t r = 0; r < n_rows; ++r) {
      const uint8_t* blk = w.data + static_cast<uint64_t>(r0 + r) * w.row_bytes() +
                           static_cast<uint64_t>(b0 + b) * kBlockBytes;
      uint16_t d;
      std::memcpy(&d, blk, 2);
      pb.d[r] = F16ToF32(d);
      row_bias[r] = -128.f * pb.d[r];
      for (int g = 0; g < 8; ++g) {
        uint32_t four;
        std::memcpy(&four, blk + 2 + 4 * g, 4);
        four ^= 0x80808080u;  // two's complement q to q + 128
        std::memcpy(&pb.q[g][4 * r], &four, 4);
      }
    }
  }
}

using PackFn = void (*)(const TensorView& w, int64_t r0, int64_t n_rows, int64_t b0, int64_t nb,
                        Int8PanelBlock* out, float* bias);

// The packer for a type, and whether it writes a bias (the types with a minimum).
struct Packer {
  PackFn pack;
  bool biased;
};

Packer PackerFor(DType t) {
  switch (t) {
    case DType::kQ4_0:
      return {&PackBlock32Panel<DType::kQ4_0>, false};
    case DType::kQ5_0:
      return {&PackBlock32Panel<DType::kQ5_0>, false};
    case DType::kQ4_1:
      return {&PackBlock32Panel<DType::kQ4_1>, true};
    case DType::kQ5_1:
      return {&PackBlock32Panel<DType::kQ5_1>, true};
    case DType::kQ4_K:
      return {&PackK4Panel<DType::kQ4_K>, true};
    case DType::kQ5_K:
      return {&PackK4Panel<DType::kQ5_K>, true};
    case DType::kQ8_0:
      return {&PackQ8_0Panel, true};
    default:
      throw Error(ErrorKind::kInternal, "no int8 panel for this weight type");
  }
}

}  // namespace

uint64_t PackedMatMulInt8ScratchBytes(int64_t widest_input, int64_t max_tokens, int n_threads) {
  const auto activations =
      static_cast<uint64_t>(std::min(kTokenBlock, max_tokens) * (widest_input / 32)) *
      (sizeof(ActBlockQ8) + sizeof(Int8PairCorr) + sizeof(float));
  return static_cast<uint64_t>(n_threads) * kMaxKBlocks *
             (sizeof(Int8PanelBlock) + kInt8PanelRows * sizeof(float)) +
         activations;
}

void PackedMatMulInt8(const KernelTable& k, ThreadPool& pool, const TensorView& w, const float* x,
                      int64_t n_tokens, int64_t ldx, float* y, int64_t ldy) {
  const int64_t n_rows = w.n_rows();
  const int64_t n = w.row_elems();
  const int64_t n_panels = (n_rows + kInt8PanelRows - 1) / kInt8PanelRows;
  const int64_t grain = std::clamp<int64_t>(n_panels / (4 * pool.size()), 1, kMaxChunkPanels);
  const int64_t token_block = EqualTokenBlock(n_tokens, kTokenBlock, kInt8PanelTokens);
  const Int8PanelGemmFn gemm = k.int8_panel_gemm;
  const int quant_offset = Int8PanelQuantOffset(w.dtype);
  // Not a structured binding: clang 14 cannot capture those in the lambdas below.
  const Packer packer = PackerFor(w.dtype);
  const bool biased = packer.biased;
  const int64_t blocks = n / 32;
  const int64_t k_chunks = (blocks + kMaxKBlocks - 1) / kMaxKBlocks;
  const int64_t chunk_blocks = (blocks + k_chunks - 1) / k_chunks;
  // One token block's activations, k block by k block: k block c holds [token][block] with kcb
  // blocks per token, starting at c * chunk_blocks * nt.
  thread_local std::vector<ActBlockQ8> qx;
  thread_local std::vector<Int8PairCorr> corr;
  thread_local std::vector<float> dsum;  // biased types: d_x * sum of the block's quants
  qx.resize(static_cast<size_t>(std::min(token_block, n_tokens) * blocks));
  corr.resize(qx.size());
  if (biased) dsum.resize(qx.size());
  // The workers see these through pointers: a thread_local named inside a lambda would be
  // the worker's own.
  ActBlockQ8* const xq_all = qx.data();
  Int8PairCorr* const corr_all = corr.data();
  float* const dsum_all = dsum.data();
  for (int64_t t0 = 0; t0 < n_tokens; t0 += token_block) {
    const int64_t nt = std::min(token_block, n_tokens - t0);
    pool.ParallelFor(nt, 8, [&](int64_t a, int64_t b, int) {
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
            corr_all[at + i] = MakeInt8PairCorr(sums, quant_offset);
            if (biased) dsum_all[at + i] = xq_all[at + i].d * static_cast<float>(sums[0] + sums[1]);
          }
        }
      }
    });
    pool.ParallelFor(n_panels, grain, [&](int64_t p0, int64_t p1, int) {
      thread_local std::vector<Int8PanelBlock> panel;
      thread_local std::vector<float> bias;
      panel.resize(static_cast<size_t>(chunk_blocks));
      bias.resize(static_cast<size_t>(chunk_blocks * kInt8PanelRows));
      for (int64_t b0 = 0; b0 < blocks; b0 += chunk_blocks) {
        const int64_t kcb = std::min(chunk_blocks, blocks - b0);
        for (int64_t p = p0; p < p1; ++p) {
          const int64_t r0 = p * kInt8PanelRows;
          const int64_t rows = std::min<int64_t>(kInt8PanelRows, n_rows - r0);
          float* const y_panel = y + t0 * ldy + r0;
          packer.pack(w, r0, rows, b0, kcb, panel.data(), bias.data());
          gemm(panel.data(), kcb, xq_all + b0 * nt, corr_all + b0 * nt, kcb, nt, rows, y_panel, ldy,
               /*accumulate=*/b0 > 0);
          if (!biased) continue;
          // The bias panel (k-major, as PanelGemmFn wants) against the tokens' block sums.
          k.panel_gemm(bias.data(), kcb, dsum_all + b0 * nt, kcb, nt, rows, y_panel, ldy,
                       /*accumulate=*/true);
        }
      }
    });
  }
}

}  // namespace gemma
