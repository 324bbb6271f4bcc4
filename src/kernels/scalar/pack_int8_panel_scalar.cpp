// Scalar int8 panel packers (Int8PanelPackFn), the reference for the SIMD ones: each 32-element
// block (a K-quant sub-block) of 16 rows becomes one Int8PanelBlock, quants unsigned as the
// tiles multiply them, and the types with a minimum get their bias. Also the reference for the
// signed panels of the VNNI tables (Int8PanelToSignedFn).
#include <algorithm>
#include <cstddef>
#include <cstring>
#include <type_traits>

#include "core/dtype.h"
#include "core/quant/k_quants.h"
#include "kernels/kernels.h"

namespace gemma {
namespace {

// A panel of fewer than kInt8PanelRows rows: the rest (quants, scales, bias if any) are zero.
inline void ClearPartialPanel(int64_t n_rows, Int8PanelBlock* pb, float* row_bias) {
  if (n_rows == kInt8PanelRows) return;
  std::memset(pb, 0, sizeof *pb);
  if (row_bias != nullptr) std::fill(row_bias, row_bias + kInt8PanelRows, 0.f);
}

// Four bits (bits 0-3 of v) as 16 in bytes 0-3: Q5_0's fifth bits for four consecutive quants.
inline uint32_t FifthBitsOf4(uint32_t v) {
  return ((v & 1u) << 4) | ((v & 2u) << 11) | ((v & 4u) << 18) | ((v & 8u) << 25);
}

// Repacks blocks [b0, b0 + nb) of the n_rows rows at `rows` of a 32-element block type: Q4_0,
// Q5_0 (a fifth bit per quant), Q4_1, Q5_1 (an f16 minimum m after the scale); rows past n_rows
// are zero. The types with a minimum get bias[b * kInt8PanelRows + r] = offset * d + m, so that
// d (q - offset) + bias is the dequantized value; the others need no bias.
template <DType kType>
void PackBlock32Panel(const uint8_t* rows, uint64_t row_bytes, int64_t n_rows, int64_t b0,
                      int64_t nb, Int8PanelBlock* out, float* bias) {
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
    ClearPartialPanel(n_rows, &pb, row_bias);
    for (int64_t r = 0; r < n_rows; ++r) {
      const uint8_t* blk =
          rows + static_cast<uint64_t>(r) * row_bytes + static_cast<uint64_t>(b0 + b) * kBlockBytes;
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

// The same for sub-blocks [b0, b0 + nb) of Q4_K or Q5_K rows, sub-block j of super-block s
// being block 8 s + j: scale d * sc[j], quants as stored (Q5_K's fifth bit, bit j of qh[i],
// added as 16), and bias[b * kInt8PanelRows + r] = offset * d * sc[j] - dmin * m[j], so that
// d sc (q - offset) + bias is the dequantized value.
template <DType kType>
void PackK4Panel(const uint8_t* rows, uint64_t row_bytes, int64_t n_rows, int64_t b0, int64_t nb,
                 Int8PanelBlock* out, float* bias) {
  constexpr bool kFifthBit = kType == DType::kQ5_K;
  using Block = std::conditional_t<kFifthBit, QuantBlockQ5_K, QuantBlockQ4_K>;
  constexpr float offset = Int8PanelQuantOffset(kType);
  for (int64_t b = 0; b < nb; ++b) {
    Int8PanelBlock& pb = out[b];
    float* row_bias = bias + b * kInt8PanelRows;
    ClearPartialPanel(n_rows, &pb, row_bias);
    const int64_t sub = b0 + b, j = sub % 8;
    for (int64_t r = 0; r < n_rows; ++r) {
      const uint8_t* blk = rows + static_cast<uint64_t>(r) * row_bytes +
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

// The same for Q8_0 (an f16 scale, 32 signed quants): quants as q + 128 (0..255; offset 128),
// no bias.
void PackQ8_0Panel(const uint8_t* rows, uint64_t row_bytes, int64_t n_rows, int64_t b0, int64_t nb,
                   Int8PanelBlock* out, float* /*bias*/) {
  constexpr int kBlockBytes = 2 + 32;
  for (int64_t b = 0; b < nb; ++b) {
    Int8PanelBlock& pb = out[b];
    ClearPartialPanel(n_rows, &pb, nullptr);
    for (int64_t r = 0; r < n_rows; ++r) {
      const uint8_t* blk =
          rows + static_cast<uint64_t>(r) * row_bytes + static_cast<uint64_t>(b0 + b) * kBlockBytes;
      uint16_t d;
      std::memcpy(&d, blk, 2);
      pb.d[r] = F16ToF32(d);
      for (int g = 0; g < 8; ++g) {
        uint32_t four;
        std::memcpy(&four, blk + 2 + 4 * g, 4);
        four ^= 0x80808080u;  // two's complement q to q + 128
        std::memcpy(&pb.q[g][4 * r], &four, 4);
      }
    }
  }
}

// Quant i (0..255, unsigned 0..63) of a Q6_K block: element 128 n + 32 k + l has its low four
// bits in ql[64 n + 32 (k % 2) + l] (low nibble for k < 2) and its top two in bits 2k, 2k + 1
// of qh[32 n + l].
inline int Q6KQuant(const QuantBlockQ6_K& blk, int i) {
  const int n = i / 128, k = (i % 128) / 32, l = i % 32;
  const uint8_t ql = blk.ql[64 * n + 32 * (k % 2) + l];
  const int low = k < 2 ? ql & 0x0F : ql >> 4;
  return low | (((blk.qh[32 * n + l] >> (2 * k)) & 3) << 4);
}

}  // namespace

void PackQ6KSplitPanelScalar(const uint8_t* rows, uint64_t row_bytes, int64_t n_rows, int64_t b0,
                             int64_t nb, Int8SplitPanelBlock* out) {
  for (int64_t b = 0; b < nb; ++b) {
    Int8SplitPanelBlock& pb = out[b];
    std::memset(&pb, 0, sizeof pb);
    const int64_t sub = b0 + b, j = sub % 8;
    for (int64_t r = 0; r < n_rows; ++r) {
      QuantBlockQ6_K blk;
      std::memcpy(&blk,
                  rows + static_cast<uint64_t>(r) * row_bytes +
                      static_cast<uint64_t>(sub / 8) * sizeof(blk),
                  sizeof blk);
      int32_t sums[2] = {0, 0};
      for (int e = 0; e < 32; ++e) {
        const int w = Q6KQuant(blk, static_cast<int>(32 * j) + e) - 32;
        pb.q[e / 4][4 * r + e % 4] = static_cast<uint8_t>(static_cast<int8_t>(w));
        sums[e / 16] += w;
      }
      for (int h = 0; h < 2; ++h) {
        pb.d[h][r] = F16ToF32(blk.d) * static_cast<float>(blk.scales[2 * j + h]);
        pb.row_corr[h][r] = -128 * sums[h];
      }
    }
  }
}

void Int8PanelToSignedScalar(Int8PanelBlock* panel, int64_t n_blocks, int quant_offset) {
  for (int64_t b = 0; b < n_blocks; ++b) {
    Int8PanelBlock& pb = panel[b];
    int32_t sums[kInt8PanelRows] = {};
    for (int g = 0; g < 8; ++g) {
      for (int i = 0; i < 4 * kInt8PanelRows; ++i) {
        const auto w = static_cast<int8_t>(pb.q[g][i] - quant_offset);
        pb.q[g][i] = static_cast<uint8_t>(w);
        sums[i / 4] += w;
      }
    }
    for (int r = 0; r < kInt8PanelRows; ++r) pb.row_corr[r] = -128 * sums[r];
  }
}

void FillScalarInt8PanelPackers(KernelTable* table) {
  auto set = [&](DType t, Int8PanelPackFn f) {
    table->int8_panel_pack[static_cast<size_t>(t)] = f;
  };
  set(DType::kQ4_0, &PackBlock32Panel<DType::kQ4_0>);
  set(DType::kQ5_0, &PackBlock32Panel<DType::kQ5_0>);
  set(DType::kQ4_1, &PackBlock32Panel<DType::kQ4_1>);
  set(DType::kQ5_1, &PackBlock32Panel<DType::kQ5_1>);
  set(DType::kQ4_K, &PackK4Panel<DType::kQ4_K>);
  set(DType::kQ5_K, &PackK4Panel<DType::kQ5_K>);
  set(DType::kQ8_0, &PackQ8_0Panel);
  table->q6_k_split_panel_pack = &PackQ6KSplitPanelScalar;
}

}  // namespace gemma
