// Every ISA table the CPU supports against the scalar oracle, for every weight type, on odd
// lengths, unaligned rows and tails; and the thread pool and element-wise ops on their own.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <random>
#include <vector>

#include "core/dtype.h"
#include "core/quant/dequantize.h"
#include "core/quant/quantize.h"
#include "kernels/kernels.h"
#include "kernels/ops.h"
#include "kernels/thread_pool.h"

namespace gemma {

// Readable parameter names in test listings (found by ADL in namespace gemma).
void PrintTo(Isa isa, std::ostream* os) { *os << IsaName(isa); }

namespace {

// Random bytes make valid weights for the float types only if exponents are tame; build rows
// from random floats instead (quantized types: random block bytes with sane scales would need
// the quantizers, so those use the same float-derived bytes where possible).
std::vector<uint8_t> RandomRows(DType t, int64_t rows, int64_t n, std::mt19937& rng) {
  std::normal_distribution<float> nd(0.f, 1.f);
  const uint64_t row_bytes = RowBytes(t, static_cast<uint64_t>(n));
  std::vector<uint8_t> out(row_bytes * static_cast<uint64_t>(rows) + 64);
  for (int64_t r = 0; r < rows; ++r) {
    uint8_t* row = out.data() + r * row_bytes;
    for (int64_t i = 0; i < n; ++i) {
      const float v = nd(rng);
      if (t == DType::kF32) std::memcpy(row + 4 * i, &v, 4);
      if (t == DType::kBF16) {
        const uint16_t h = F32ToBF16(v);
        std::memcpy(row + 2 * i, &h, 2);
      }
      if (t == DType::kF16) {
        const uint16_t h = F32ToF16(v);
        std::memcpy(row + 2 * i, &h, 2);
      }
    }
  }
  return out;
}

class KernelVsScalar : public ::testing::TestWithParam<Isa> {};

TEST_P(KernelVsScalar, DotRowsMatchesScalarOnOddSizesAndMisalignment) {
  const KernelTable& fast = KernelsFor(GetParam());
  const KernelTable& ref = KernelsFor(Isa::kScalar);
  std::mt19937 rng(7);
  for (DType t : {DType::kF32, DType::kBF16, DType::kF16}) {
    for (int64_t n : {1, 3, 7, 8, 9, 15, 16, 17, 31, 33, 63, 64, 65, 127, 257, 1000}) {
      for (int misalign : {0, 1, 2, 3}) {
        const int64_t rows = 5;
        const std::vector<uint8_t> bytes = RandomRows(t, rows, n, rng);
        // Copy to a deliberately misaligned address (element-aligned for the type).
        const int elem = GetDTypeInfo(t).block_bytes;
        std::vector<uint8_t> buf(bytes.size() + 64);
        uint8_t* w = buf.data() + misalign * elem;
        std::memcpy(w, bytes.data(), bytes.size() - 64);
        std::vector<float> xbuf(static_cast<size_t>(n) + 4);
        float* x = xbuf.data() + misalign;
        std::normal_distribution<float> nd;
        for (int64_t i = 0; i < n; ++i) x[i] = nd(rng);
        const uint64_t row_bytes = RowBytes(t, static_cast<uint64_t>(n));
        std::vector<float> y_fast(rows), y_ref(rows);
        fast.dot_rows[static_cast<size_t>(t)](w, row_bytes, rows, x, n, y_fast.data());
        ref.dot_rows[static_cast<size_t>(t)](w, row_bytes, rows, x, n, y_ref.data());
        for (int64_t r = 0; r < rows; ++r) {
          // Different summation orders: allow a few ulps of the magnitude of the terms.
          const double tol = 1e-5 * std::sqrt(static_cast<double>(n)) * 4 + 1e-6;
          EXPECT_NEAR(y_fast[r], y_ref[r], tol * (1 + std::fabs(y_ref[r])))
              << IsaName(GetParam()) << " " << DTypeName(t) << " n=" << n << " misalign=" << misalign;
        }
      }
    }
  }
}

// Quantized weight types: each ISA slot against the scalar oracle of the same math (the integer
// reference when the slot takes int8 activations), and against exact f32 math on the
// dequantized weights within the error of 8-bit activations.
TEST_P(KernelVsScalar, QuantizedDotsMatchTheirReference) {
  const KernelTable& fast = KernelsFor(GetParam());
  std::mt19937 rng(5);
  std::normal_distribution<float> nd;
  for (DType t : {DType::kQ8_0, DType::kQ4_0}) {
    for (int64_t n : {32, 64, 96, 288, 1152}) {
      for (int misalign : {0, 1, 3}) {
        const int64_t rows = 7;
        const uint64_t row_bytes = RowBytes(t, n);
        std::vector<uint8_t> buf(row_bytes * rows + 8);
        uint8_t* w = buf.data() + misalign;
        std::vector<float> wf(static_cast<size_t>(n * rows)), x(static_cast<size_t>(n));
        for (float& v : wf) v = nd(rng);
        for (float& v : x) v = nd(rng);
        for (int64_t r = 0; r < rows; ++r) QuantizeRow(t, &wf[r * n], w + r * row_bytes, n);
        std::vector<ActBlockQ8> xq(static_cast<size_t>(n / 32));
        QuantizeActivationsQ8(x.data(), xq.data(), n);
        const bool int8 = fast.activation[static_cast<size_t>(t)] == ActivationType::kQ8;
        std::vector<float> y(rows), y_ref(rows), y_exact(rows);
        fast.dot_rows[static_cast<size_t>(t)](w, row_bytes, rows,
                                              int8 ? static_cast<const void*>(xq.data()) : x.data(),
                                              n, y.data());
        KernelsFor(Isa::kScalar).dot_rows[static_cast<size_t>(t)](w, row_bytes, rows, x.data(), n,
                                                                   y_exact.data());
        if (int8) {
          ReferenceDotQ8(t)(w, row_bytes, rows, xq.data(), n, y_ref.data());
        } else {
          y_ref = y_exact;
        }
        for (int64_t r = 0; r < rows; ++r) {
          EXPECT_NEAR(y[r], y_ref[r], 1e-4 * (1 + std::fabs(y_ref[r])))
              << IsaName(GetParam()) << " " << DTypeName(t) << " n=" << n;
          // 8-bit activations of N(0,1) data: rounding error ~0.006 (std) per term against unit
          // weights, growing as sqrt(n); 0.03 sqrt(n) is five standard deviations.
          EXPECT_NEAR(y[r], y_exact[r], 0.03 * std::sqrt(static_cast<double>(n)) + 1e-3)
              << IsaName(GetParam()) << " " << DTypeName(t) << " n=" << n;
        }
      }
    }
  }
}

// Prefill tiles against the same table's per-token dot products, for token counts around the
// tile width, odd row lengths and misaligned rows.
TEST_P(KernelVsScalar, GemmTilesMatchPerTokenDots) {
  const KernelTable& k = KernelsFor(GetParam());
  std::mt19937 rng(3);
  std::normal_distribution<float> nd;
  for (DType t : {DType::kF32, DType::kBF16, DType::kF16, DType::kQ8_0, DType::kQ4_0}) {
    const GemmTileFn tile = k.gemm_tile[static_cast<size_t>(t)];
    if (tile == nullptr) continue;
    const bool quant = IsQuantized(t);
    for (int64_t n : quant ? std::vector<int64_t>{32, 96, 160} : std::vector<int64_t>{7, 16, 33, 100}) {
      for (int64_t tokens : {1, 2, 3, 4, 5, 7, 9}) {
        const int64_t rows = 6;
        const uint64_t row_bytes = RowBytes(t, n);
        std::vector<uint8_t> buf(row_bytes * rows + 4);
        uint8_t* w = buf.data() + (quant ? 1 : GetDTypeInfo(t).block_bytes);  // misaligned
        std::vector<float> wf(static_cast<size_t>(n));
        for (int64_t r = 0; r < rows; ++r) {
          for (float& v : wf) v = nd(rng);
          QuantizeRow(t, wf.data(), w + r * row_bytes, n);
        }
        std::vector<float> x(static_cast<size_t>(n * tokens));
        for (float& v : x) v = nd(rng);
        std::vector<ActBlockQ8> xq(static_cast<size_t>(n / 32 * tokens));
        const bool int8 = k.activation[static_cast<size_t>(t)] == ActivationType::kQ8;
        if (int8) {
          for (int64_t i = 0; i < tokens; ++i) QuantizeActivationsQ8(&x[i * n], &xq[i * (n / 32)], n);
        }
        const void* xa = int8 ? static_cast<const void*>(xq.data()) : x.data();
        const int64_t stride = int8 ? n / 32 * static_cast<int64_t>(sizeof(ActBlockQ8)) : n * 4;
        const int64_t ldy = rows + 3;
        std::vector<float> y(static_cast<size_t>(ldy * tokens), -1.f), y_ref(y.size(), -1.f);
        tile(w, row_bytes, rows, xa, stride, tokens, n, y.data(), ldy);
        for (int64_t i = 0; i < tokens; ++i) {
          k.dot_rows[static_cast<size_t>(t)](w, row_bytes, rows,
                                             static_cast<const uint8_t*>(xa) + i * stride, n,
                                             &y_ref[i * ldy]);
        }
        for (size_t i = 0; i < y.size(); ++i) {
          EXPECT_NEAR(y[i], y_ref[i], 1e-4 * (1 + std::fabs(y_ref[i])))
              << IsaName(GetParam()) << " " << DTypeName(t) << " n=" << n << " tokens=" << tokens;
        }
      }
    }
  }
}

TEST(ActivationQ8, QuantizesPerBlockWithF32Scale) {
  float x[64];
  for (int i = 0; i < 64; ++i) x[i] = (i < 32 ? 0.01f : 100.f) * static_cast<float>(i % 7 - 3);
  ActBlockQ8 q[2];
  QuantizeActivationsQ8(x, q, 64);
  EXPECT_FLOAT_EQ(q[0].d, 0.03f / 127.f);
  EXPECT_FLOAT_EQ(q[1].d, 300.f / 127.f);
  for (int i = 0; i < 64; ++i) {
    const ActBlockQ8& b = q[i / 32];
    EXPECT_NEAR(b.d * b.qs[i % 32], x[i], b.d * 0.5f + 1e-9f);
  }
  float zeros[32] = {};
  QuantizeActivationsQ8(zeros, q, 32);
  EXPECT_EQ(q[0].d, 0.f);
  for (int8_t v : q[0].qs) EXPECT_EQ(v, 0);
}

TEST_P(KernelVsScalar, MatMulAgreesWithScalarAcrossThreadCounts) {
  std::mt19937 rng(11);
  const int64_t rows = 77, n = 45, tokens = 5;
  const std::vector<uint8_t> bytes = RandomRows(DType::kBF16, rows, n, rng);
  TensorView w;
  w.dtype = DType::kBF16;
  w.n_dims = 2;
  w.shape = {rows, n, 0, 0};
  w.data = bytes.data();
  w.n_bytes = RowBytes(DType::kBF16, n) * rows;
  std::vector<float> x(tokens * n);
  std::normal_distribution<float> nd;
  for (float& v : x) v = nd(rng);
  std::vector<float> y_ref(tokens * rows), y(tokens * rows);
  ThreadPool one(1), three(3);
  MatMul(KernelsFor(Isa::kScalar), one, w, x.data(), tokens, n, y_ref.data(), rows);
  MatMul(KernelsFor(GetParam()), three, w, x.data(), tokens, n, y.data(), rows);
  for (size_t i = 0; i < y.size(); ++i) EXPECT_NEAR(y[i], y_ref[i], 1e-4 * (1 + std::fabs(y_ref[i])));
}

INSTANTIATE_TEST_SUITE_P(Isas, KernelVsScalar, ::testing::ValuesIn(SupportedIsas()),
                         [](const auto& info) {
                           std::string n = IsaName(info.param);
                           std::replace(n.begin(), n.end(), '-', '_');
                           return n;
                         });

TEST(ThreadPool, CoversEveryIndexExactlyOnce) {
  ThreadPool pool(3);
  for (int64_t n : {0, 1, 5, 100, 1001}) {
    std::vector<std::atomic<int>> hits(static_cast<size_t>(n));
    pool.ParallelFor(n, 7, [&](int64_t b, int64_t e, int tid) {
      EXPECT_GE(tid, 0);
      EXPECT_LT(tid, 3);
      for (int64_t i = b; i < e; ++i) hits[static_cast<size_t>(i)]++;
    });
    for (auto& h : hits) EXPECT_EQ(h.load(), 1);
  }
}

TEST(Ops, RmsNormMatchesDefinition) {
  const float x[5] = {1, -2, 3, 0.5f, -4};
  const float g[5] = {1, 2, 0.5f, 1, 1};
  float y[5];
  RmsNorm(x, g, 1e-6f, 5, y);
  double ms = 0;
  for (float v : x) ms += v * v;
  ms /= 5;
  for (int i = 0; i < 5; ++i) EXPECT_NEAR(y[i], x[i] / std::sqrt(ms + 1e-6) * g[i], 1e-6);
}

TEST(Ops, GeluIsTheTanhApproximationNotErf) {
  // gelu_tanh(1) = 0.8411919906, exact-erf gelu(1) = 0.8413447461.
  EXPECT_NEAR(GeluTanh(1.f), 0.8411919906f, 1e-7);
  EXPECT_NEAR(GeluTanh(-3.f), -0.0036373920f, 1e-7);
}

TEST(Ops, RopeRotatesSplitHalfPairs) {
  // head_dim 4: pairs (0,2) and (1,3); inv_freq for base 10000: 1, 0.01.
  float inv[2];
  RopeInverseFrequencies(10000.f, 1.f, 4, inv);
  EXPECT_FLOAT_EQ(inv[0], 1.f);
  EXPECT_NEAR(inv[1], 0.01f, 1e-9);
  float x[4] = {1, 0, 0, 0};
  ApplyRope(x, 4, 2.f, inv);
  EXPECT_NEAR(x[0], std::cos(2.0), 1e-6);
  EXPECT_NEAR(x[2], std::sin(2.0), 1e-6);  // partner is x[2], not x[1]
  EXPECT_EQ(x[1], 0.f);
  RopeInverseFrequencies(10000.f, 8.f, 4, inv);  // linear scaling divides the frequencies
  EXPECT_FLOAT_EQ(inv[0], 1.f / 8.f);
}

TEST(Ops, SoftmaxAndSoftCap) {
  float v[3] = {1000, 1000, 1000};
  Softmax(v, 3);
  for (float p : v) EXPECT_NEAR(p, 1.f / 3, 1e-6);
  float c[2] = {100, -0.5f};
  SoftCap(c, 2, 30.f);
  EXPECT_NEAR(c[0], 30 * std::tanh(100.0 / 30), 1e-5);
  EXPECT_NEAR(c[1], 30 * std::tanh(-0.5 / 30), 1e-6);
}

TEST(Dispatch, ScalarAlwaysSupportedAndUnknownIsaRejected) {
  EXPECT_EQ(SupportedIsas().back(), Isa::kScalar);
  EXPECT_EQ(SelectKernels("scalar").isa, Isa::kScalar);
  EXPECT_THROW(SelectKernels("sse9"), std::exception);
}

TEST(DType, HalfConversionsRoundTrip) {
  for (float v : {0.f, 1.f, -2.5f, 65504.f, 6.1035156e-05f, 5.9604645e-08f}) {
    EXPECT_EQ(F16ToF32(F32ToF16(v)), v) << v;
  }
  // 1e-3 is not representable: the nearest f16 is within half an ulp (2^-20 there).
  EXPECT_LE(std::fabs(F16ToF32(F32ToF16(1e-3f)) - 1e-3f), 0.5f * std::ldexp(1.f, -20));
  EXPECT_EQ(BF16ToF32(F32ToBF16(1.00390625f)), 1.f);  // ties to even
  EXPECT_EQ(F32ToBF16(34.0f), 0x4208);
  EXPECT_EQ(BF16ToF32(F32ToBF16(std::sqrt(1152.f))), 34.0f);  // Gemma 3 1B embedding scale
}

}  // namespace
}  // namespace gemma
