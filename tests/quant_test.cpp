// Block formats: hand-built blocks with values worked out from the documented formulas
// (ggml-common.h layouts, ggml-quants.c dequantize_row_*), plus reference quantizers.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "core/dtype.h"
#include "core/quant/dequantize.h"
#include "core/quant/k_quants.h"
#include "core/quant/q4.h"
#include "core/quant/q5.h"
#include "core/quant/q8_0.h"
#include "core/quant/quantize.h"
#include "gemma/error.h"

namespace gemma {
namespace {

template <typename Block>
std::vector<float> Deq(DType t, const Block& b) {
  std::vector<float> y(static_cast<size_t>(GetDTypeInfo(t).block_elems), -12345.f);
  DequantizeRow(t, reinterpret_cast<const uint8_t*>(&b), y.data(), static_cast<int64_t>(y.size()));
  return y;
}

uint16_t H(float f) {
  return F32ToF16(f);
}

TEST(QuantTest, BlockSizesMatchDTypeInfo) {
  EXPECT_EQ(GetDTypeInfo(DType::kQ8_0).block_bytes, static_cast<int>(sizeof(QuantBlockQ8_0)));
  EXPECT_EQ(GetDTypeInfo(DType::kQ4_0).block_bytes, static_cast<int>(sizeof(QuantBlockQ4_0)));
  EXPECT_EQ(GetDTypeInfo(DType::kQ4_1).block_bytes, static_cast<int>(sizeof(QuantBlockQ4_1)));
  EXPECT_EQ(GetDTypeInfo(DType::kQ5_0).block_bytes, static_cast<int>(sizeof(QuantBlockQ5_0)));
  EXPECT_EQ(GetDTypeInfo(DType::kQ5_1).block_bytes, static_cast<int>(sizeof(QuantBlockQ5_1)));
  EXPECT_EQ(GetDTypeInfo(DType::kQ2_K).block_bytes, static_cast<int>(sizeof(QuantBlockQ2_K)));
  EXPECT_EQ(GetDTypeInfo(DType::kQ3_K).block_bytes, static_cast<int>(sizeof(QuantBlockQ3_K)));
  EXPECT_EQ(GetDTypeInfo(DType::kQ4_K).block_bytes, static_cast<int>(sizeof(QuantBlockQ4_K)));
  EXPECT_EQ(GetDTypeInfo(DType::kQ5_K).block_bytes, static_cast<int>(sizeof(QuantBlockQ5_K)));
  EXPECT_EQ(GetDTypeInfo(DType::kQ6_K).block_bytes, static_cast<int>(sizeof(QuantBlockQ6_K)));
  EXPECT_EQ(GetDTypeInfo(DType::kQ2_K).block_elems, kQK_K);
}

TEST(QuantTest, PlainFloats) {
  const float f32[3] = {1.5f, -0.f, 3e38f};
  std::vector<float> y(3);
  DequantizeRow(DType::kF32, reinterpret_cast<const uint8_t*>(f32), y.data(), 3);
  EXPECT_EQ(y, (std::vector<float>{1.5f, -0.f, 3e38f}));
  const uint16_t f16[4] = {0x3C00, 0xC000, 0x7C00, 0x0001};  // 1, -2, inf, smallest subnormal
  DequantizeRow(DType::kF16, reinterpret_cast<const uint8_t*>(f16), y.data(), 3);
  EXPECT_EQ(y, (std::vector<float>{1.f, -2.f, INFINITY}));
  y.resize(4);
  DequantizeRow(DType::kF16, reinterpret_cast<const uint8_t*>(f16), y.data(), 4);
  EXPECT_EQ(y[3], std::ldexp(1.f, -24));
  const uint16_t bf16[2] = {0x3F80, 0xC0A0};  // 1, -5
  DequantizeRow(DType::kBF16, reinterpret_cast<const uint8_t*>(bf16), y.data(), 2);
  EXPECT_EQ(y[0], 1.f);
  EXPECT_EQ(y[1], -5.f);
}

TEST(QuantTest, Q8_0HandBuilt) {
  QuantBlockQ8_0 b{};
  b.d = H(0.5f);
  for (int j = 0; j < 32; ++j) b.qs[j] = static_cast<int8_t>(j - 16);
  b.qs[31] = -128;
  const std::vector<float> y = Deq(DType::kQ8_0, b);
  EXPECT_EQ(y[0], -8.f);
  EXPECT_EQ(y[16], 0.f);
  EXPECT_EQ(y[17], 0.5f);
  EXPECT_EQ(y[30], 7.f);
  EXPECT_EQ(y[31], -64.f);
}

TEST(QuantTest, Q4_0HandBuilt) {
  QuantBlockQ4_0 b{};
  b.d = H(2.f);
  for (uint8_t& q : b.qs) q = 0x88;  // every quant 8 -> 0
  b.qs[0] = 0x3A;                    // element 0: 10 -> (10-8)*2 = 4;  element 16: 3 -> -10
  b.qs[15] = 0xF0;                   // element 15: 0 -> -16;           element 31: 15 -> 14
  const std::vector<float> y = Deq(DType::kQ4_0, b);
  EXPECT_EQ(y[0], 4.f);
  EXPECT_EQ(y[16], -10.f);
  EXPECT_EQ(y[15], -16.f);
  EXPECT_EQ(y[31], 14.f);
  EXPECT_EQ(y[1], 0.f);
}

TEST(QuantTest, Q4_1HandBuilt) {
  QuantBlockQ4_1 b{};
  b.d = H(0.5f);
  b.m = H(-1.f);
  b.qs[1] = 0x5C;  // element 1: 12*0.5-1 = 5; element 17: 5*0.5-1 = 1.5
  const std::vector<float> y = Deq(DType::kQ4_1, b);
  EXPECT_EQ(y[1], 5.f);
  EXPECT_EQ(y[17], 1.5f);
  EXPECT_EQ(y[0], -1.f);
}

TEST(QuantTest, Q5_0HandBuilt) {
  QuantBlockQ5_0 b{};
  b.d = H(1.f);
  b.qh[0] = 0x01;  // fifth bit of element 0
  b.qh[2] = 0x02;  // bit 17: fifth bit of element 17
  b.qs[0] = 0x21;  // element 0: 1|16 = 17 -> 1;   element 16: 2 -> -14
  b.qs[1] = 0x43;  // element 1: 3 -> -13;         element 17: 4|16 = 20 -> 4
  const std::vector<float> y = Deq(DType::kQ5_0, b);
  EXPECT_EQ(y[0], 1.f);
  EXPECT_EQ(y[16], -14.f);
  EXPECT_EQ(y[1], -13.f);
  EXPECT_EQ(y[17], 4.f);
  EXPECT_EQ(y[2], -16.f);
}

TEST(QuantTest, Q5_1HandBuilt) {
  QuantBlockQ5_1 b{};
  b.d = H(0.25f);
  b.m = H(10.f);
  b.qh[0] = 0x04;  // bit 2: fifth bit of element 2
  b.qs[2] = 0xF7;  // element 2: 7|16 = 23 -> 15.75;  element 18: 15 -> 13.75
  const std::vector<float> y = Deq(DType::kQ5_1, b);
  EXPECT_EQ(y[2], 15.75f);
  EXPECT_EQ(y[18], 13.75f);
  EXPECT_EQ(y[0], 10.f);
}

TEST(QuantTest, Q2_KHandBuilt) {
  // x = d * (sc & 15) * q - dmin * (sc >> 4); scale index 8*half + 2*plane + part, quants from
  // bits 2*plane of qs[32*half + 16*part + l].
  QuantBlockQ2_K b{};
  b.d = H(1.f);
  b.dmin = H(0.5f);
  b.scales[0] = 0x23;   // elements 0-15: sc 3, min 2
  b.scales[1] = 0x15;   // elements 16-31: sc 5, min 1
  b.scales[2] = 0x04;   // elements 32-47: sc 4, min 0
  b.scales[4] = 0x31;   // elements 64-79: sc 1, min 3
  b.scales[6] = 0xF2;   // elements 96-111: sc 2, min 15
  b.scales[8] = 0x11;   // elements 128-143
  b.scales[15] = 0x07;  // elements 240-255
  b.qs[0] = 0xE6;       // planes 0..3 = 2, 1, 2, 3
  b.qs[16] = 0x03;
  b.qs[32] = 0x01;
  b.qs[63] = 0x80;  // plane 3 = 2
  const std::vector<float> y = Deq(DType::kQ2_K, b);
  EXPECT_EQ(y[0], 3 * 2 - 0.5f * 2);    // 5
  EXPECT_EQ(y[1], -1.f);                // q 0, min 2
  EXPECT_EQ(y[32], 4.f);                // sc 4 * q 1
  EXPECT_EQ(y[64], 1 * 2 - 0.5f * 3);   // 0.5
  EXPECT_EQ(y[96], 2 * 3 - 0.5f * 15);  // -1.5
  EXPECT_EQ(y[16], 5 * 3 - 0.5f * 1);   // 14.5
  EXPECT_EQ(y[128], 1 * 1 - 0.5f * 1);  // 0.5
  EXPECT_EQ(y[255], 7.f * 2);           // 14
}

TEST(QuantTest, Q3_KHandBuilt) {
  // Scale j: low 4 bits from the low (j < 8) or high (j >= 8) nibble of scales[j % 8], top 2
  // bits from scales[8 + j % 4] at bit 2*(j / 4); minus 32. x = d * scale * (q - (hmask ? 0 : 4)).
  QuantBlockQ3_K b{};
  b.d = H(0.5f);
  b.scales[0] = 0x25;   // scale 0 low 5, scale 8 low 2
  b.scales[8] = 0x06;   // scale 0 high 2 -> 37-32 = 5; scale 4 high 1
  b.scales[4] = 0x0A;   // scale 4 low 10 -> 26-32 = -6; scale 12 low 0
  b.scales[7] = 0xF0;   // scale 15 low 15
  b.scales[11] = 0xC0;  // scale 15 high 3 -> 63-32 = 31
  EXPECT_EQ(UnpackScaleQ3_K(0, b.scales), 5);
  EXPECT_EQ(UnpackScaleQ3_K(1, b.scales), -32);
  EXPECT_EQ(UnpackScaleQ3_K(4, b.scales), -6);
  EXPECT_EQ(UnpackScaleQ3_K(8, b.scales), -30);
  EXPECT_EQ(UnpackScaleQ3_K(15, b.scales), 31);
  b.qs[0] = 0x23;      // plane 0 = 3, plane 2 = 2
  b.qs[1] = 0x01;      // plane 0 = 1
  b.hmask[0] = 0x05;   // element 0 (bit 0) and element 64 (bit 2) have their high bit
  b.qs[63] = 0x40;     // half 1, plane 3, part 1, l 15: q 1
  b.hmask[31] = 0x80;  // ... high bit set (bit 4 + 3)
  const std::vector<float> y = Deq(DType::kQ3_K, b);
  EXPECT_EQ(y[0], 0.5f * 5 * 3);        // 7.5
  EXPECT_EQ(y[1], 0.5f * 5 * (1 - 4));  // -7.5
  EXPECT_EQ(y[64], 0.5f * -6 * 2);      // -6
  EXPECT_EQ(y[128], 0.5f * -30 * -4);   // 60 (q 0, no high bit)
  EXPECT_EQ(y[16], 0.5f * -32 * -4);    // 64
  EXPECT_EQ(y[255], 0.5f * 31 * 1);     // 15.5
}

// Shared by Q4_K and Q5_K: scale/min 0 = 3/2, 1 = 7/1, 4 = 21/35, 7 = 49/2.
template <typename Block>
void SetK4Scales(Block* b) {
  b->d = H(1.f);
  b->dmin = H(0.5f);
  b->scales[0] = 0x43;   // scale 0 = 3; top bits 1 -> high bits of scale 4
  b->scales[4] = 0x82;   // min 0 = 2; top bits 2 -> high bits of min 4
  b->scales[8] = 0x35;   // scale 4 low 5, min 4 low 3 -> 21, 35
  b->scales[1] = 0x07;   // scale 1 = 7
  b->scales[5] = 0x01;   // min 1 = 1
  b->scales[11] = 0x21;  // scale 7 low 1, min 7 low 2
  b->scales[3] = 0xC0;   // scale 3 = 0; scale 7 high 3 -> 49
}

TEST(QuantTest, ScaleMinK4Unpacking) {
  QuantBlockQ4_K b{};
  SetK4Scales(&b);
  uint8_t sc, m;
  UnpackScaleMinK4(0, b.scales, &sc, &m);
  EXPECT_EQ(sc, 3);
  EXPECT_EQ(m, 2);
  UnpackScaleMinK4(1, b.scales, &sc, &m);
  EXPECT_EQ(sc, 7);
  EXPECT_EQ(m, 1);
  UnpackScaleMinK4(4, b.scales, &sc, &m);
  EXPECT_EQ(sc, 21);
  EXPECT_EQ(m, 35);
  UnpackScaleMinK4(7, b.scales, &sc, &m);
  EXPECT_EQ(sc, 49);
  EXPECT_EQ(m, 2);
}

TEST(QuantTest, Q4_KHandBuilt) {
  // Sub-block 2c = low nibbles of qs[32c..32c+31], 2c+1 = their high nibbles;
  // x = d * scale * q - dmin * min.
  QuantBlockQ4_K b{};
  SetK4Scales(&b);
  b.qs[0] = 0x9C;    // element 0: 12, element 32: 9
  b.qs[64] = 0x0A;   // element 128: 10
  b.qs[127] = 0xF0;  // element 255: 15
  const std::vector<float> y = Deq(DType::kQ4_K, b);
  EXPECT_EQ(y[0], 3 * 12 - 0.5f * 2);  // 35
  EXPECT_EQ(y[1], -1.f);
  EXPECT_EQ(y[32], 7 * 9 - 0.5f * 1);      // 62.5
  EXPECT_EQ(y[128], 21 * 10 - 0.5f * 35);  // 192.5
  EXPECT_EQ(y[255], 49 * 15 - 0.5f * 2);   // 734
}

TEST(QuantTest, Q5_KHandBuilt) {
  // As Q4_K, plus 16 when bit 2c (low nibble) or 2c+1 (high nibble) of qh[l] is set.
  QuantBlockQ5_K b{};
  SetK4Scales(&b);
  b.qs[0] = 0x9C;
  b.qs[64] = 0x0A;
  b.qs[127] = 0xF0;
  b.qh[0] = 0x11;   // bit 0: element 0; bit 4: element 128
  b.qh[31] = 0x80;  // bit 7: element 255
  const std::vector<float> y = Deq(DType::kQ5_K, b);
  EXPECT_EQ(y[0], 3 * 28 - 0.5f * 2);      // 83
  EXPECT_EQ(y[32], 7 * 9 - 0.5f * 1);      // 62.5 (bit 1 clear)
  EXPECT_EQ(y[128], 21 * 26 - 0.5f * 35);  // 528.5
  EXPECT_EQ(y[255], 49 * 31 - 0.5f * 2);   // 1518
  EXPECT_EQ(y[1], -1.f);
}

TEST(QuantTest, Q6_KHandBuilt) {
  // Half h, l < 32: x[128h + l + 32k] = d * sc[8h + l/16 + 2k] * (q - 32) with q from
  // ql[64h + l (+32 for k odd)] (low nibble for k < 2, high for k >= 2) and bits 2k of qh[32h + l].
  QuantBlockQ6_K b{};
  b.d = H(0.5f);
  b.scales[0] = 2;
  b.scales[1] = 5;
  b.scales[2] = -3;
  b.scales[4] = 4;
  b.scales[6] = 1;
  b.scales[15] = -1;
  b.ql[0] = 0x5A;
  b.ql[32] = 0x07;
  b.qh[0] = 0xE6;  // k = 0..3 -> 2, 1, 2, 3
  b.ql[127] = 0xF0;
  b.qh[63] = 0x40;
  const std::vector<float> y = Deq(DType::kQ6_K, b);
  EXPECT_EQ(y[0], 0.5f * 2 * (42 - 32));     // 10
  EXPECT_EQ(y[32], 0.5f * -3 * (23 - 32));   // 13.5
  EXPECT_EQ(y[64], 0.5f * 4 * (37 - 32));    // 10
  EXPECT_EQ(y[96], 0.5f * 1 * (48 - 32));    // 8
  EXPECT_EQ(y[16], 0.5f * 5 * -32);          // -80
  EXPECT_EQ(y[255], 0.5f * -1 * (31 - 32));  // 0.5
}

TEST(QuantTest, DequantizeRowHandlesMisalignedSourcesAndManyBlocks) {
  QuantBlockQ4_K blocks[2]{};
  SetK4Scales(&blocks[0]);
  SetK4Scales(&blocks[1]);
  blocks[1].d = H(2.f);
  blocks[0].qs[0] = 0x9C;
  blocks[1].qs[0] = 0x9C;
  std::vector<uint8_t> buf(sizeof(blocks) + 1);
  std::memcpy(buf.data() + 1, blocks, sizeof(blocks));
  std::vector<float> y(512), z(512);
  DequantizeRow(DType::kQ4_K, reinterpret_cast<const uint8_t*>(blocks), y.data(), 512);
  DequantizeRow(DType::kQ4_K, buf.data() + 1, z.data(), 512);
  EXPECT_EQ(y, z);
  EXPECT_EQ(y[0], 35.f);
  EXPECT_EQ(y[256], 2 * 3 * 12 - 0.5f * 2);
  EXPECT_THROW(DequantizeRow(DType::kQ4_K, buf.data(), y.data(), 100), Error);
}

TEST(QuantTest, QuantizeQ8_0RoundsHalfAwayFromZero) {
  float x[32] = {};
  x[0] = 127.f;  // amax 127 -> d = 1
  x[1] = 2.5f;
  x[2] = -2.5f;
  x[3] = 0.4f;
  x[4] = -127.f;
  x[5] = 0.5f;
  QuantBlockQ8_0 b;
  QuantizeRowQ8_0(x, &b, 32);
  EXPECT_EQ(b.d, 0x3C00);  // f16 1.0
  EXPECT_EQ(b.qs[0], 127);
  EXPECT_EQ(b.qs[1], 3);
  EXPECT_EQ(b.qs[2], -3);
  EXPECT_EQ(b.qs[3], 0);
  EXPECT_EQ(b.qs[4], -127);
  EXPECT_EQ(b.qs[5], 1);
  EXPECT_EQ(b.qs[6], 0);

  float zeros[32] = {};
  QuantizeRowQ8_0(zeros, &b, 32);
  EXPECT_EQ(b.d, 0);
  for (int8_t q : b.qs) EXPECT_EQ(q, 0);
}

TEST(QuantTest, QuantizeQ4_0MatchesReference) {
  // Largest magnitude negative: d = -8 / -8 = 1, integers are exact.
  float x[32];
  for (int j = 0; j < 32; ++j) x[j] = static_cast<float>(j % 16 - 8);
  QuantBlockQ4_0 b;
  QuantizeRowQ4_0(x, &b, 32);
  EXPECT_EQ(b.d, 0x3C00);
  EXPECT_EQ(b.qs[0], 0x00);
  EXPECT_EQ(b.qs[1], 0x11);
  EXPECT_EQ(b.qs[15], 0xFF);
  float y[32];
  DequantizeRowQ4_0(&b, y, 32);
  for (int j = 0; j < 32; ++j) EXPECT_EQ(y[j], x[j]) << j;

  // Largest magnitude positive: d = 4 / -8 = -0.5; -4 would need q = 16 and clamps to 15.
  float x2[32] = {};
  x2[0] = 4.f;
  x2[1] = -4.f;
  x2[2] = 1.f;
  QuantizeRowQ4_0(x2, &b, 32);
  EXPECT_EQ(F16ToF32(b.d), -0.5f);
  DequantizeRowQ4_0(&b, y, 32);
  EXPECT_EQ(y[0], 4.f);
  EXPECT_EQ(y[1], -3.5f);
  EXPECT_EQ(y[2], 1.f);
  EXPECT_EQ(y[3], 0.f);
  EXPECT_EQ(b.qs[0] & 0x0F, 0);
  EXPECT_EQ(b.qs[1] & 0x0F, 15);
  EXPECT_EQ(b.qs[2] & 0x0F, 6);
  EXPECT_EQ(b.qs[3] & 0x0F, 8);
}

TEST(QuantTest, QuantizeQ5_0IsExactOnIntegers) {
  float x[32];
  for (int j = 0; j < 32; ++j) x[j] = static_cast<float>(j - 16);  // -16 .. 15, d = 1
  QuantBlockQ5_0 b;
  QuantizeRowQ5_0(x, &b, 32);
  float y[32];
  DequantizeRowQ5_0(&b, y, 32);
  for (int j = 0; j < 32; ++j) EXPECT_EQ(y[j], x[j]) << j;
}

// Round trip on random rows: the error of each element stays within the format's step.
TEST(QuantTest, QuantizeRoundTripErrorBounds) {
  std::mt19937 rng(42);
  std::normal_distribution<float> dist(0.f, 1.f);
  constexpr int kN = 32 * 64;
  std::vector<float> x(kN);
  for (float& v : x) v = dist(rng);
  x[5] = 40.f;  // an outlier block
  struct Case {
    DType t;
    bool symmetric;   // step from the block's max magnitude, else from its range
    float levels;     // max|x| / levels or range / levels is the step
    float tolerance;  // allowed error in steps
  };
  for (const Case& c :
       {Case{DType::kQ8_0, true, 127.f, 0.51f}, Case{DType::kQ4_0, true, 8.f, 1.01f},
        Case{DType::kQ4_1, false, 15.f, 0.51f}, Case{DType::kQ5_0, true, 16.f, 1.01f},
        Case{DType::kQ5_1, false, 31.f, 0.51f}}) {
    SCOPED_TRACE(std::string(DTypeName(c.t)));
    std::vector<uint8_t> q(RowBytes(c.t, kN) + 1);
    QuantizeRow(c.t, x.data(), q.data() + 1, kN);  // unaligned destination
    std::vector<float> y(kN);
    DequantizeRow(c.t, q.data() + 1, y.data(), kN);
    for (int b = 0; b < kN / 32; ++b) {
      float amax = 0, lo = x[32 * b], hi = x[32 * b];
      for (int j = 0; j < 32; ++j) {
        amax = std::max(amax, std::fabs(x[32 * b + j]));
        lo = std::min(lo, x[32 * b + j]);
        hi = std::max(hi, x[32 * b + j]);
      }
      const float step = (c.symmetric ? amax : hi - lo) / c.levels;
      for (int j = 0; j < 32; ++j) {
        // f16 rounding of the scale (and minimum) adds at most a few ulps of it per element.
        const float bound = step * c.tolerance + 2e-3f * (amax + step);
        ASSERT_LE(std::fabs(y[32 * b + j] - x[32 * b + j]), bound) << "block " << b << " j " << j;
      }
    }
  }
}

TEST(QuantTest, QuantizeRowPlainFloatsAndUnsupported) {
  const float x[2] = {1.f, -2.5f};
  uint16_t h[2];
  QuantizeRow(DType::kF16, x, reinterpret_cast<uint8_t*>(h), 2);
  EXPECT_EQ(h[0], 0x3C00);
  EXPECT_EQ(F16ToF32(h[1]), -2.5f);
  QuantizeRow(DType::kBF16, x, reinterpret_cast<uint8_t*>(h), 2);
  EXPECT_EQ(h[0], 0x3F80);
  EXPECT_TRUE(HasQuantizer(DType::kQ4_0));
  EXPECT_TRUE(HasQuantizer(DType::kQ4_K));
  EXPECT_FALSE(HasQuantizer(DType::kQ2_K));  // no Q2_K quantizer yet
  std::vector<float> big(256);
  std::vector<uint8_t> out(256);
  try {
    QuantizeRow(DType::kQ2_K, big.data(), out.data(), 256);
    ADD_FAILURE() << "expected kUnsupported";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kUnsupported);
  }
}

}  // namespace
}  // namespace gemma
