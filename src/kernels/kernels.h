// The kernel dispatch table: one set of function pointers, filled once at start-up for the
// instruction set the CPU supports (or the one a user/test forces). Nothing outside src/kernels/
// knows which ISA runs. The scalar table is always built and is the oracle for the others.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "core/dtype.h"

namespace gemma {

// The format a dot product wants its activations in: plain f32, or quantized to int8 per block
// of 32 (ActBlockQ8) for the integer kernels of quantized weight types.
enum class ActivationType : uint8_t { kF32, kQ8 };

// Activations quantized per 32 elements: x ~= d * qs[i]. The scale stays f32 (ggml rounds it to
// f16), so the int8 path loses only the 8-bit rounding of the activations.
struct ActBlockQ8 {
  static constexpr int kElems = 32;
  float d;
  int8_t qs[kElems];
};
static_assert(sizeof(ActBlockQ8) == 36, "ActBlockQ8 is 36 bytes");

// Quantizes n (a multiple of 32) activations: d = max|x| / 127, qs = round(x / d).
void QuantizeActivationsQ8(const float* x, ActBlockQ8* y, int64_t n);

// The table's quantizer: QuantizeActivationsQ8 bit for bit and, when pair_sums is not null, per
// block b the sums of its quants at elements 4g, 4g + 1 (pair_sums[2 b]) and 4g + 2, 4g + 3
// (pair_sums[2 b + 1]) over its eight groups g: the int8 panels' corrections and bias terms.
using QuantizeActivationsFn = void (*)(const float* x, ActBlockQ8* y, int64_t n,
                                       int32_t* pair_sums);
void QuantizeActivationsScalar(const float* x, ActBlockQ8* y, int64_t n, int32_t* pair_sums);

// y[r] = sum_i W[r][i] * x[i] for r in [0, n_rows). Row r starts at w + r * row_bytes and holds
// n elements of the table slot's dtype (n is a multiple of its block size); x is n activations
// in the slot's ActivationType (float* or ActBlockQ8*).
using DotRowsFn = void (*)(const uint8_t* w, uint64_t row_bytes, int64_t n_rows, const void* x,
                           int64_t n, float* y);

// A tile of a matrix product: y[t * ldy + r] = dot(row r, token t) for r < n_rows,
// t < n_tokens, reading each weight row once for several tokens (prefill). Token t's activations
// start at x + t * x_stride bytes. Null slots fall back to DotRowsFn per token.
using GemmTileFn = void (*)(const uint8_t* w, uint64_t row_bytes, int64_t n_rows, const void* x,
                            int64_t x_stride, int64_t n_tokens, int64_t n, float* y, int64_t ldy);

// Prefill GEMM on f32 panels: weights are dequantized (once per batch) into panels of
// kPanelRows rows stored k-major (panel[k * kPanelRows + r]), then
// y[t * ldy + r] (+)= sum_{k < kc} panel[k][r] * x[t * ldx + k] for t < n_tokens and
// r < n_rows <= kPanelRows. `accumulate` adds to y instead of overwriting it (the k range is
// cut into cache-sized blocks). Every ISA's version sums each output over k in order, taking
// as many tokens at a time as its registers hold: kPanelTokens on AVX2 and NEON (callers cut
// token blocks in multiples of it), twice that on AVX-512.
constexpr int kPanelRows = 16;
constexpr int kPanelTokens = 6;
using PanelGemmFn = void (*)(const float* panel, int64_t kc, const float* x, int64_t ldx,
                             int64_t n_tokens, int64_t n_rows, float* y, int64_t ldy,
                             bool accumulate);
// Two panels at once where the registers allow (AVX-512): rows 0-15 from `low`, 16-31 from
// `high` (each a PanelGemmFn panel), n_rows <= 2 * kPanelRows, so each broadcast activation
// feeds two FMAs; otherwise PanelGemmFn's contract.
using PanelGemmPairFn = void (*)(const float* low, const float* high, int64_t kc, const float* x,
                                 int64_t ldx, int64_t n_tokens, int64_t n_rows, float* y,
                                 int64_t ldy, bool accumulate);

// Packing a panel for PanelGemmFn: each weight row's k range is dequantized to f32 (n elements,
// whole blocks of the slot's dtype), then kPanelRows such rows (row r at rows + r * ld) are
// transposed into the k-major panel (panel[k * kPanelRows + r] for k < kc).
using DequantizeRowFn = void (*)(const uint8_t* src, float* dst, int64_t n);
using PanelTransposeFn = void (*)(const float* rows, int64_t ld, int64_t kc, float* panel);

// BF16 prefill GEMM where the CPU multiplies bf16 pairs (AVX512-BF16 vdpbf16ps: twice the MACs
// of an f32 FMA): the f32 panel layout with a bf16 pair for each element, over kBf16PanelRows
// rows (two registers of 16: each broadcast activation pair then feeds two instructions, which
// halves the loads per product). panel[p * kBf16PanelRows + r] holds row r's elements 2p, 2p + 1
// as stored (low half first), x[t * ldx + p] token t's activations 2p, 2p + 1 rounded to bf16
// (F32ToBF16), and
//   y[t * ldy + r] (+)= sum_{p < kc_pairs} (w[r][2p] x[t][2p] + w[r][2p + 1] x[t][2p + 1])
// in f32 (bf16 products are exact in f32) for t < n_tokens, r < n_rows <= kBf16PanelRows.
constexpr int kBf16PanelRows = 32;
using Bf16PanelGemmFn = void (*)(const uint32_t* panel, int64_t kc_pairs, const uint32_t* x,
                                 int64_t ldx, int64_t n_tokens, int64_t n_rows, float* y,
                                 int64_t ldy, bool accumulate);
// The scalar version (the oracle in tests; no table uses it).
void Bf16PanelGemmScalar(const uint32_t* panel, int64_t kc_pairs, const uint32_t* x, int64_t ldx,
                         int64_t n_tokens, int64_t n_rows, float* y, int64_t ldy, bool accumulate);
// Packs pairs [p0, p0 + kp) of n_rows <= kBf16PanelRows BF16 rows (row r at rows + r *
// row_bytes) into panel[p * kBf16PanelRows + r] (p < kp), rows past n_rows zero: a 32-bit
// transpose of the mapped rows, no conversion.
using Bf16PanelPackFn = void (*)(const uint8_t* rows, uint64_t row_bytes, int64_t n_rows,
                                 int64_t p0, int64_t kp, uint32_t* panel);
void Bf16PanelPackScalar(const uint8_t* rows, uint64_t row_bytes, int64_t n_rows, int64_t p0,
                         int64_t kp, uint32_t* panel);

// Int8 prefill GEMM for Q4_0, Q5_0, Q4_1, Q5_1, Q4_K and Q5_K weights, and Q8_0 on the VNNI
// tables (int8 activations, as llama.cpp's): kInt8PanelRows rows are repacked per 32-element block
// so one 256-bit register holds four consecutive quants of each of eight rows (two registers per
// group of four quants); maddubs against four broadcast activation bytes (AVX2; SDOT by lane on
// NEON) then yields eight rows' partial sums side by side (no horizontal sums), four times the MACs
// per instruction of an f32 FMA. Quants stay unsigned (0..15 or 0..31); the offset ("- 8", "- 16")
// enters as the starting value of the int16 sums (Int8PairCorr), so the block's result is exact in
// int16 (|sum of 16 products (q - 16) * x| <= 16 * 16 * 127 = 32,512) even though the partial
// sums wrap.
// VNNI tables (vpdpbusd sums in int32) take the panels signed instead (KernelTable::
// int8_panel_to_signed after packing): quants q - offset as int8 and the activations as unsigned
// bytes x + 128, so the "+ 128 x" comes back as one correction per row and block, -128 times the
// row's quant sum, which starts every token's sums: no per-token correction, and Q8_0 (q + 128
// stored, offset 128) is exact without a bias.
constexpr int kInt8PanelRows = 16;
struct alignas(32) Int8PanelBlock {
  uint8_t q[8][4 * kInt8PanelRows];  // q[g][4 * r + j] = quant of row r, element 4 * g + j
  float d[kInt8PanelRows];           // the rows' block scales
  int32_t row_corr[kInt8PanelRows];  // signed panels only: -128 * sum of the row's quants
};
// The offset the unsigned quants of a weight type carry in an int8 panel (a K-quant sub-block of
// 32 is one panel block): Q4_0's and Q5_0's own (8, 16); none for the 0..15 of Q4_1 and Q4_K;
// 16 for the 0..31 of Q5_1 and Q5_K, to keep the int16 bound above; 128 for Q8_0, stored as
// q + 128 in 0..255, which only signed panels take (Int8PanelTakes). The minimum of the types
// that have one comes back through a bias (matmul_packed_int8.cpp).
constexpr int Int8PanelQuantOffset(DType t) {
  return t == DType::kQ4_0                          ? 8
         : t == DType::kQ8_0                        ? 128
         : (t == DType::kQ4_K || t == DType::kQ4_1) ? 0
                                                    : 16;
}
// Whether a type's panels carry a bias (the types with a minimum).
constexpr bool Int8PanelBiased(DType t) {
  return t == DType::kQ4_1 || t == DType::kQ5_1 || t == DType::kQ4_K || t == DType::kQ5_K;
}
// Packs blocks [b0, b0 + nb) (32 elements each; for K-quants, sub-block j of super-block s is
// block 8 s + j) of n_rows <= kInt8PanelRows weight rows (row r at rows + r * row_bytes) into
// out[0, nb): quants unsigned with the type's Int8PanelQuantOffset, d[r] the block's scale, rows
// past n_rows zero. Int8PanelBiased types also get bias[b * kInt8PanelRows + r], which makes
// d (q - offset) + bias the dequantized value.
using Int8PanelPackFn = void (*)(const uint8_t* rows, uint64_t row_bytes, int64_t n_rows,
                                 int64_t b0, int64_t nb, Int8PanelBlock* out, float* bias);
// Turns n_blocks packed blocks signed in place (see above): quants q - quant_offset, row_corr.
using Int8PanelToSignedFn = void (*)(Int8PanelBlock* panel, int64_t n_blocks, int quant_offset);
void Int8PanelToSignedScalar(Int8PanelBlock* panel, int64_t n_blocks, int quant_offset);

// Per token and block, for unsigned panels: -offset times the sum of the activations that meet
// quant bytes j = 0, 1 (pair[0]) and j = 2, 3 (pair[1]) of each group, i.e. the two int16 lanes
// maddubs fills per row.
struct Int8PairCorr {
  int16_t pair[2];
};
// A block's pair sums (as QuantizeActivationsFn returns them): its quants at elements 4g, 4g + 1
// (sums[0]) and 4g + 2, 4g + 3 (sums[1]) over its eight groups g.
inline void Int8PairSums(const ActBlockQ8& x, int32_t* sums) {
  sums[0] = sums[1] = 0;
  for (int i = 0; i < ActBlockQ8::kElems; ++i) sums[(i % 4) / 2] += x.qs[i];
}
inline Int8PairCorr MakeInt8PairCorr(const int32_t* pair_sums, int quant_offset) {
  return {{static_cast<int16_t>(-quant_offset * pair_sums[0]),
           static_cast<int16_t>(-quant_offset * pair_sums[1])}};
}
inline Int8PairCorr MakeInt8PairCorr(const ActBlockQ8& x, int quant_offset) {
  int32_t sums[2];
  Int8PairSums(x, sums);
  return MakeInt8PairCorr(sums, quant_offset);
}
// y[t * ldy + r] (+)= sum over blocks b < n_blocks of panel[b].d[r] * x[t][b].d *
//   (sum_i (panel quant of row r, element i - offset) * x[t][b].qs[i])
// for t < n_tokens, r < n_rows <= kInt8PanelRows; token t's blocks start at x + t * x_stride (and
// x_corr + t * x_stride, x_corr[.] = MakeInt8PairCorr(x[.], offset)). Rows past n_rows must be
// zero in the panel. On tables with signed panels the panel has been through
// int8_panel_to_signed, x's quants are stored as unsigned bytes q + 128 (q ^ 0x80) and x_corr is
// not read (may be null). Each ISA's tile takes as many tokens at a time as its registers hold
// (int8_panel_tokens.h); kInt8PanelTokens is the AVX2 and NEON tiles' count, and callers cut
// token blocks in multiples of it.
constexpr int kInt8PanelTokens = 3;
using Int8PanelGemmFn = void (*)(const Int8PanelBlock* panel, int64_t n_blocks, const ActBlockQ8* x,
                                 const Int8PairCorr* x_corr, int64_t x_stride, int64_t n_tokens,
                                 int64_t n_rows, float* y, int64_t ldy, bool accumulate);

// Q6_K on signed int8 panels (VNNI tables). Its scales are per 16 elements, so a panel block of
// 32 has one per half, and the tile converts each half's int32 sums on its own (11 instructions
// per block and token where Int8PanelBlock's take 10; f32 panels do 32 FMAs for the same work).
struct alignas(32) Int8SplitPanelBlock {
  uint8_t q[8][4 * kInt8PanelRows];     // signed quants q - 32, as a signed Int8PanelBlock's
  float d[2][kInt8PanelRows];           // the rows' scales of elements 0-15 (groups 0-3), 16-31
  int32_t row_corr[2][kInt8PanelRows];  // -128 * each half's quant sum
};
// Packs blocks [b0, b0 + nb) of Q6_K rows (block 8 s + j: elements 32 j .. 32 j + 31 of
// super-block s; half h's scale d * scales[2 j + h]) of n_rows <= kInt8PanelRows rows (row r at
// rows + r * row_bytes) into out[0, nb), signed; rows past n_rows zero.
using Int8SplitPanelPackFn = void (*)(const uint8_t* rows, uint64_t row_bytes, int64_t n_rows,
                                      int64_t b0, int64_t nb, Int8SplitPanelBlock* out);
void PackQ6KSplitPanelScalar(const uint8_t* rows, uint64_t row_bytes, int64_t n_rows, int64_t b0,
                             int64_t nb, Int8SplitPanelBlock* out);
// y[t * ldy + r] (+)= sum over blocks b of x[t][b].d * sum over halves h of panel[b].d[h][r] *
//   (sum over the half's elements i of quant_i * x[t][b].qs[i])
// with x's quants stored + 128 as for signed panels; otherwise Int8PanelGemmFn's contract.
using Int8SplitPanelGemmFn = void (*)(const Int8SplitPanelBlock* panel, int64_t n_blocks,
                                      const ActBlockQ8* x, int64_t x_stride, int64_t n_tokens,
                                      int64_t n_rows, float* y, int64_t ldy, bool accumulate);

// Attention of n_q query heads that share one KV head (GQA) over its cached rows: row j starts
// at kv + j * stride elements and holds head_dim elements of the cache's type (F32, F16, BF16, or
// Q8_0 with stride and head_dim multiples of its 32-element blocks). The heads' queries and
// outputs are head_dim apart, their score rows ld apart. Each cached row is read once for all
// n_q heads where a table does them together (avx512); attention_heads.h adapts one-head kernels.
//   scores:     scores[h * ld + j] = sum_i q[h * head_dim + i] * K_j[i]   (h < n_q, j < n_keys)
//   accumulate: out[h * head_dim + i] += sum_j p[h * ld + j] * V_j[i]     (h < n_q, i < head_dim)
using KvScoresFn = void (*)(const float* q, int64_t n_q, const void* k, int64_t stride,
                            int64_t n_keys, int64_t head_dim, float* scores, int64_t ld);
using KvAccumulateFn = void (*)(const float* p, int64_t ld, int64_t n_q, const void* v,
                                int64_t stride, int64_t n_keys, int64_t head_dim, float* out);

// Element-wise transcendental ops of the forward pass. The scalar table holds the libm versions
// in ops.cpp (std::tanh / std::exp: the oracle); SIMD tables use a polynomial exp within a few
// f32 ulps of it (absolute error <= ~2e-7 on tanh). n may be any length, pointers unaligned.
//   gelu_tanh_mul: out[i] = gelu_tanh(gate[i]) * up[i]; out may be gate or up (in place).
//   soft_cap:      x[i] = cap * tanh(x[i] / cap), in place.
//   softmax:       in place, max-subtracted; NaN anywhere makes the whole row NaN.
using GeluTanhMulFn = void (*)(const float* gate, const float* up, int64_t n, float* out);
using SoftCapFn = void (*)(float* x, int64_t n, float cap);
using SoftmaxFn = void (*)(float* x, int64_t n);
// f32 values to f16 (round to nearest even, as F32ToF16; NaN as 0x7e00 with its sign): the KV
// cache's stores, the default cache type.
using F16FromF32Fn = void (*)(const float* x, int64_t n, uint16_t* out);
// 2 * n_pairs f32 values to bf16 pairs (round to nearest even, as F32ToBF16; NaN quieted):
// out[p] = bf16(x[2p]) | bf16(x[2p + 1]) << 16, the activations of BF16 prefill.
using Bf16PairsFromF32Fn = void (*)(const float* x, int64_t n_pairs, uint32_t* out);

// The scalar panel kernel (also the oracle in tests).
void PanelGemmScalar(const float* panel, int64_t kc, const float* x, int64_t ldx, int64_t n_tokens,
                     int64_t n_rows, float* y, int64_t ldy, bool accumulate);
void PanelTransposeScalar(const float* rows, int64_t ld, int64_t kc, float* panel);

// A kernel table variant. kAvx2 is AVX2 with int8 activations for Q8_0/Q4_0 decode (fewer
// instructions, llama.cpp-like accuracy) and the automatic choice on AVX2 CPUs; kAvx2F32 keeps
// f32 activations everywhere (exact on the dequantized weights). kAvx512 is kAvx2 with
// 512-bit float kernels and VNNI for the int8 ones (needs AVX-512 F/BW/VL/DQ and VNNI);
// kAvxVnni is kAvx2 with the int8 ones on 256-bit VNNI (AVX-VNNI: Alder Lake and later
// cores without AVX-512).
// kNeonDotprod is NEON with the same int8 activations through SDOT (ARMv8.2 dot product), the
// choice where the CPU has it.
enum class Isa { kScalar, kAvx2F32, kAvx2, kAvx512, kNeon, kNeonDotprod, kAvxVnni };

struct KernelTable {
  Isa isa = Isa::kScalar;
  std::array<DotRowsFn, static_cast<size_t>(DType::kCount)> dot_rows{};
  std::array<ActivationType, static_cast<size_t>(DType::kCount)> activation{};  // all kF32
  std::array<GemmTileFn, static_cast<size_t>(DType::kCount)> gemm_tile{};
  QuantizeActivationsFn quantize_activations = nullptr;  // every table has one (scalar at least)
  PanelGemmFn panel_gemm = nullptr;                      // every table has one (scalar at least)
  PanelGemmPairFn panel_gemm_pair = nullptr;             // null: one panel at a time
  std::array<DequantizeRowFn, static_cast<size_t>(DType::kCount)> dequantize_row{};  // all set
  PanelTransposeFn panel_transpose = nullptr;  // every table has one (scalar at least)
  Int8PanelGemmFn int8_panel_gemm = nullptr;   // int8 prefill (Int8PanelTakes); null: f32 panels
  // Its packers, for every type the panels can take (scalar at least).
  std::array<Int8PanelPackFn, static_cast<size_t>(DType::kCount)> int8_panel_pack{};
  // Set where the tile takes signed panels (VNNI); null: unsigned panels with Int8PairCorr.
  Int8PanelToSignedFn int8_panel_to_signed = nullptr;
  // Q6_K prefill on split int8 panels (VNNI tables), and its packer (scalar at least).
  Int8SplitPanelGemmFn int8_split_panel_gemm = nullptr;
  Int8SplitPanelPackFn q6_k_split_panel_pack = nullptr;
  Bf16PanelGemmFn bf16_panel_gemm = nullptr;  // BF16 prefill in bf16 pairs; null: f32 panels
  Bf16PanelPackFn bf16_panel_pack = nullptr;  // its packer (set with it)
  // Indexed by the KV cache's dtype; F32, F16, BF16 and Q8_0 are filled in every table.
  std::array<KvScoresFn, static_cast<size_t>(DType::kCount)> kv_scores{};
  std::array<KvAccumulateFn, static_cast<size_t>(DType::kCount)> kv_accumulate{};
  // Element-wise ops; every table has them (scalar at least).
  GeluTanhMulFn gelu_tanh_mul = nullptr;
  SoftCapFn soft_cap = nullptr;
  SoftmaxFn softmax = nullptr;
  F16FromF32Fn f16_from_f32 = nullptr;
  Bf16PairsFromF32Fn bf16_pairs_from_f32 = nullptr;
};

// Whether prefill of weight type t runs on the table's split int8 panels (Q6_K).
inline bool Int8SplitPanelTakes(const KernelTable& k, DType t) {
  return t == DType::kQ6_K && k.int8_split_panel_gemm != nullptr &&
         k.q6_k_split_panel_pack != nullptr;
}
// Whether prefill of weight type t runs on the table's int8 panels: the types with a packer
// (every table has the scalar ones), Q8_0 only on signed panels (its offset 128 would overflow
// the unsigned tiles' int16 corrections and maddubs' pair sums), and Q6_K on split panels.
inline bool Int8PanelTakes(const KernelTable& k, DType t) {
  return (k.int8_panel_gemm != nullptr && k.int8_panel_pack[static_cast<size_t>(t)] != nullptr &&
          (t != DType::kQ8_0 || k.int8_panel_to_signed != nullptr)) ||
         Int8SplitPanelTakes(k, t);
}

// Scalar reference for a weight type paired with int8 activations, or null when there is none:
// the oracle for SIMD slots whose activation is kQ8 (the same integer math, plain loops).
DotRowsFn ReferenceDotQ8(DType weights);

const char* IsaName(Isa isa);

// ISAs whose kernels are compiled in and that this CPU/OS can run, best first; scalar is last.
std::vector<Isa> SupportedIsas();

// The table for `isa`; throws Error(kUsage) when it is not compiled in or not supported here.
const KernelTable& KernelsFor(Isa isa);

// Tests only: makes KernelsFor and SupportedIsas serve the table `fill` builds for `isa`, an ISA
// this CPU cannot run or (GEMMA_TEST_EMULATE_X86=1) one it can (the AVX-512 kernels compiled
// against SIMDe's portable emulation of their intrinsics, tests/x86_emulation.cpp). Must be
// called before the first KernelsFor.
void EmulateIsaForTests(Isa isa, void (*fill)(KernelTable*));

// Picks the table: `request` ("auto", "", "scalar", "avx2", "avx2-f32", "avx-vnni", "avx512",
// "neon", "neon-dotprod"); "auto"/"" honours the GEMMA_ISA environment variable, then takes the
// best supported ISA.
const KernelTable& SelectKernels(const std::string& request);

// Per-ISA registration (src/kernels/x86, src/kernels/arm); each overrides the slots it speeds up.
void FillScalarKernels(KernelTable* table);
void FillScalarAttentionKernels(KernelTable* table);
void FillScalarElementwiseKernels(KernelTable* table);  // libm versions from ops.cpp
void FillScalarInt8PanelPackers(KernelTable* table);    // pack_int8_panel_scalar.cpp
#if defined(GEMMA_HAVE_X86_KERNELS)
void FillAvx2Kernels(KernelTable* table);
void FillAvx2Int8Kernels(KernelTable* table);
namespace native {                            // see x86/x86_intrinsics.h
void FillAvx512Kernels(KernelTable* table);   // AVX-512 F/BW/VL/DQ + VNNI (dot_avx512.cpp)
void FillAvxVnniKernels(KernelTable* table);  // AVX2 + AVX-VNNI (int8_avxvnni.cpp)
}  // namespace native
#endif
#if defined(GEMMA_HAVE_ARM_KERNELS)
void FillNeonKernels(KernelTable* table);
void FillNeonKQuantKernels(KernelTable* table);  // Q2_K..Q6_K x f32 (kquant_neon.cpp)
void FillNeonPackKernels(KernelTable* table);    // panel packing for prefill (pack_neon.cpp)
// GELU, softcap and softmax (elementwise_neon.cpp).
void FillNeonElementwiseKernels(KernelTable* table);
// Q8_0/Q4_0 x int8 through SDOT, on top of the NEON table (int8_dotprod.cpp).
void FillNeonDotprodKernels(KernelTable* table);
// Q4_K/Q5_K/Q6_K x int8 through SDOT (kquant_dotprod.cpp); called by FillNeonDotprodKernels.
void FillNeonDotprodKQuantKernels(KernelTable* table);
#endif

}  // namespace gemma
