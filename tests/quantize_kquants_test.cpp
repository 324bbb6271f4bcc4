// K-quant quantizers (Q4_K, Q5_K, Q6_K): bytes equal to llama.cpp's reference quantizers,
// hand-derived encodings of simple rows, and round-trip error bounds through DequantizeRow.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <vector>

#include "core/dtype.h"
#include "core/quant/dequantize.h"
#include "core/quant/k_quantize.h"
#include "core/quant/quantize.h"

namespace gemma {
namespace {

constexpr DType kKTypes[] = {DType::kQ4_K, DType::kQ5_K, DType::kQ6_K};

// Deterministic rows of a few shapes (all arithmetic exact or single-rounded, so identical on
// any IEEE machine): uniform, heavy-tailed, all positive, sparse outliers, half zero and tiny.
std::vector<float> TestRow(int kind, int n) {
  std::vector<float> x(static_cast<size_t>(n));
  uint32_t s = 12345u + static_cast<uint32_t>(kind);
  for (int i = 0; i < n; ++i) {
    s = s * 1664525u + 1013904223u;
    const float u = static_cast<float>((s >> 8) & 0xFFFF) / 65536.f - 0.5f;
    float v;
    switch (kind) {
      case 0:
        v = u;
        break;
      case 1:
        v = u * u * u * 8.f;
        break;
      case 2:
        v = std::fabs(u) + 0.25f;
        break;
      case 3:
        v = i % 97 == 0 ? u * 40.f : u;
        break;
      default:
        v = (i % 256) < 128 ? 0.f : u * 0.01f;
        break;
    }
    x[static_cast<size_t>(i)] = v;
  }
  return x;
}

uint64_t Fnv1a(const std::vector<uint8_t>& b) {
  uint64_t h = 1469598103934665603ull;
  for (uint8_t c : b) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

std::vector<uint8_t> Quantize(DType t, const std::vector<float>& x) {
  std::vector<uint8_t> q(RowBytes(t, x.size()));
  QuantizeRow(t, x.data(), q.data(), static_cast<int64_t>(x.size()));
  return q;
}

std::vector<float> RoundTrip(DType t, const std::vector<float>& x) {
  const std::vector<uint8_t> q = Quantize(t, x);
  std::vector<float> y(x.size());
  DequantizeRow(t, q.data(), y.data(), static_cast<int64_t>(x.size()));
  return y;
}

// FNV-1a of the 8 super-blocks llama.cpp's quantize_row_q{4,5,6}_K_ref wrote for TestRow(kind,
// 2048), kinds 0-4. Recorded by calling those functions in libggml-base.so of a llama.cpp
// release build (the prebuilt x64 library in npm's @node-llama-cpp/linux-x64 3.22.1); the same
// library's llama_model_quantize also wrote byte-identical Q4_K_M/Q5_K_M/Q6_K/--pure files for
// every golden case. Any change in operation order or rounding shows up here.
TEST(KQuantize, BytesEqualLlamaCppReference) {
  const uint64_t kDigests[3][5] = {
      {0x4fc747b2938ceec1ull, 0x8b3ecee1d71b22c8ull, 0x57f05c0b9aea3062ull, 0xf1850030b47dedf7ull,
       0x55c097c03760f26eull},
      {0x6211dfed62a94405ull, 0xc89c2c9235733aecull, 0xbb24d3b5b652cd9full, 0x44babbbeb7060201ull,
       0xc2db7f4803c3b763ull},
      {0x261fe92f7adcc144ull, 0x67177f1a3cf3661eull, 0x61345622a08c722bull, 0xe7958138d57682beull,
       0x544eaf2a5f3ec934ull},
  };
  for (int t = 0; t < 3; ++t) {
    for (int kind = 0; kind < 5; ++kind) {
      EXPECT_EQ(Fnv1a(Quantize(kKTypes[t], TestRow(kind, 2048))), kDigests[t][kind])
          << DTypeName(kKTypes[t]) << " kind " << kind;
    }
  }
}

TEST(KQuantize, ZeroRowIsAllZeroBytes) {
  const std::vector<float> zeros(512, 0.f);
  for (DType t : kKTypes) {
    const std::vector<uint8_t> q = Quantize(t, zeros);
    EXPECT_EQ(q, std::vector<uint8_t>(q.size(), 0)) << DTypeName(t);
    EXPECT_EQ(RoundTrip(t, zeros), zeros) << DTypeName(t);
  }
}

// A constant 0.5 by hand. Q4_K/Q5_K: each sub-block's range is [0, 0.5] (the minimum is
// clamped to 0), fitted exactly by L = nmax with scale 0.5 / nmax (every other candidate has a
// singular system, D = 0); all sub-block scales equal the maximum, so each 6-bit scale is 63 and
// each minimum 0, packed as bytes 0-3 = 63 | (63 >> 4) << 6, 4-7 = 0, 8-11 = 63 & 15; quants
// all nmax after requantizing against the f16 scale.
TEST(KQuantize, ConstantRowQ4KQ5KByHand) {
  const std::vector<float> x(256, 0.5f);
  const uint8_t kScales[12] = {0xFF, 0xFF, 0xFF, 0xFF, 0, 0, 0, 0, 0x0F, 0x0F, 0x0F, 0x0F};
  QuantBlockQ4_K b4;
  QuantizeBlockQ4_K(x.data(), &b4);
  EXPECT_EQ(b4.d, F32ToF16((1.f / 30.f) / 63.f));  // scale 1 / iscale, iscale = 15 / 0.5
  EXPECT_EQ(b4.dmin, 0);
  EXPECT_EQ(std::memcmp(b4.scales, kScales, 12), 0);
  for (uint8_t q : b4.qs) EXPECT_EQ(q, 0xFF);
  QuantBlockQ5_K b5;
  QuantizeBlockQ5_K(x.data(), &b5);
  EXPECT_EQ(b5.d, F32ToF16((1.f / 62.f) / 63.f));
  EXPECT_EQ(b5.dmin, 0);
  EXPECT_EQ(std::memcmp(b5.scales, kScales, 12), 0);
  for (uint8_t q : b5.qs) EXPECT_EQ(q, 0xFF);  // 31 = 15 + the fifth bit
  for (uint8_t h : b5.qh) EXPECT_EQ(h, 0xFF);
  for (DType t : {DType::kQ4_K, DType::kQ5_K}) {
    for (float y : RoundTrip(t, x)) EXPECT_NEAR(y, 0.5f, 0.5f / 1024) << DTypeName(t);  // f16 d
  }
}

// Q6_K of a constant 0.5 by hand: make_qx_quants maps every element to l = -32 (iscale
// -32 / 0.5), scale = sum(w x l) / sum(w l^2) = -1/64, and no candidate beats it (ties do not
// replace). So max_scale = -1/64, iscale = -128 / max_scale = 8192, d = 1/8192 (exact in f16:
// 0x0800), every 8-bit scale -128 and every quant 0 (l + 32); it dequantizes exactly.
TEST(KQuantize, ConstantRowQ6KByHand) {
  const std::vector<float> x(256, 0.5f);
  QuantBlockQ6_K b;
  QuantizeBlockQ6_K(x.data(), &b);
  EXPECT_EQ(b.d, 0x0800);
  for (int8_t s : b.scales) EXPECT_EQ(s, -128);
  for (uint8_t q : b.ql) EXPECT_EQ(q, 0);
  for (uint8_t q : b.qh) EXPECT_EQ(q, 0);
  EXPECT_EQ(RoundTrip(DType::kQ6_K, x), x);
}

// A ramp over [-1, 1). Sub-blocks of 32 (16 for Q6_K) span 0.25 (0.125), so the quantization
// steps are 0.25/15 (Q4_K), 0.25/31 (Q5_K) and 2 * amax / 63 (Q6_K, symmetric). Q4_K/Q5_K also
// store each sub-block's minimum in 6 bits of the largest one (here ~1/126 apart), which can push
// a sub-block's edge off the grid where the quants clamp: measured 1.8 (Q4_K) and 1.7 (Q5_K)
// steps, Q6_K 0.4 steps (with ggml's own code giving the same bytes). Bounds: 2.5 and 0.75 steps.
TEST(KQuantize, RampErrorWithinFewSteps) {
  std::vector<float> x(1024);
  for (size_t i = 0; i < x.size(); ++i) x[i] = static_cast<float>(i % 256) / 128.f - 1.f;
  const struct {
    DType t;
    double step;
    double steps;
  } kCases[] = {{DType::kQ4_K, 0.25 / 15, 2.5},
                {DType::kQ5_K, 0.25 / 31, 2.5},
                {DType::kQ6_K, 2.0 / 63, 0.75}};
  for (const auto& c : kCases) {
    const std::vector<float> y = RoundTrip(c.t, x);
    double max_err = 0;
    for (size_t i = 0; i < x.size(); ++i)
      max_err = std::max(max_err, std::fabs(double{y[i]} - x[i]));
    EXPECT_LE(max_err, c.steps * c.step) << DTypeName(c.t);
    std::printf("[kquant] ramp %-5s max_abs %.3g (step %.3g)\n", DTypeName(c.t).data(), max_err,
                c.step);
  }
}

// Rows of every kind: relative RMS error of the round trip. Measured worst (the sparse-outlier
// kind, where one element in 97 is 40x larger and widens its sub-block): Q4_K 0.094, Q5_K 0.049,
// Q6_K 0.036; the other kinds stay below 0.072 / 0.037 / 0.018. Bounds ~1.25x the worst.
TEST(KQuantize, RoundTripRelativeRmsError) {
  const struct {
    DType t;
    double bound;
  } kCases[] = {{DType::kQ4_K, 0.12}, {DType::kQ5_K, 0.06}, {DType::kQ6_K, 0.045}};
  for (const auto& c : kCases) {
    for (int kind = 0; kind < 5; ++kind) {
      const std::vector<float> x = TestRow(kind, 4096);
      const std::vector<float> y = RoundTrip(c.t, x);
      double se = 0, sx = 0;
      for (size_t i = 0; i < x.size(); ++i) {
        se += (double{y[i]} - x[i]) * (double{y[i]} - x[i]);
        sx += double{x[i]} * x[i];
      }
      const double rel = std::sqrt(se / sx);
      EXPECT_LE(rel, c.bound) << DTypeName(c.t) << " kind " << kind;
      std::printf("[kquant] %-5s kind %d relative rms %.4f\n", DTypeName(c.t).data(), kind, rel);
    }
  }
}

TEST(KQuantize, RowsMustBeWholeSuperBlocks) {
  EXPECT_TRUE(HasQuantizer(DType::kQ4_K));
  EXPECT_TRUE(HasQuantizer(DType::kQ6_K));
  EXPECT_FALSE(HasQuantizer(DType::kQ3_K));
  std::vector<float> x(128, 1.f);
  std::vector<uint8_t> q(1024);
  EXPECT_ANY_THROW(QuantizeRow(DType::kQ4_K, x.data(), q.data(), 128));
}

}  // namespace
}  // namespace gemma
