// Every ISA table the CPU supports against the scalar oracle, for every weight type, on odd
// lengths, unaligned rows and tails; and the thread pool and element-wise ops on their own.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <span>
#include <vector>

#include "core/dtype.h"
#include "core/quant/dequantize.h"
#include "core/quant/quantize.h"
#include "kernels/cpu_features.h"
#include "kernels/kernels.h"
#include "kernels/matmul_packed.h"
#include "kernels/memory_bandwidth.h"
#include "kernels/ops.h"
#include "kernels/thread_pool.h"

namespace gemma {

// Readable parameter names in test listings (found by ADL in namespace gemma).
void PrintTo(Isa isa, std::ostream* os) {
  *os << IsaName(isa);
}

namespace {

// A rows x cols matrix of type t over bytes (at least rows whole rows).
TensorView MatrixView(DType t, int64_t rows, int64_t cols, const uint8_t* bytes) {
  TensorView w;
  w.dtype = t;
  w.n_dims = 2;
  w.shape = {rows, cols, 0, 0};
  w.data = bytes;
  w.n_bytes = RowBytes(t, static_cast<uint64_t>(cols)) * static_cast<uint64_t>(rows);
  return w;
}

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
              << IsaName(GetParam()) << " " << DTypeName(t) << " n=" << n
              << " misalign=" << misalign;
        }
      }
    }
  }
}

// Quantized weight types: each ISA slot against the scalar oracle of the same math (the integer
// reference when the slot takes int8 activations), and against exact f32 math on the
// dequantized weights within the error of 8-bit activations.
// The table's activation quantizer is QuantizeActivationsQ8 bit for bit (scales and quants) on
// random blocks, blocks of exact .5 ties (round half to even), an all-zero block and blocks at
// the int8 ends, from unaligned sources; its pair sums are the sums of the quants it wrote.
TEST_P(KernelVsScalar, ActivationQuantizerMatchesScalarBitForBit) {
  const KernelTable& simd = KernelsFor(GetParam());
  ASSERT_NE(simd.quantize_activations, nullptr);
  std::mt19937 rng(31);
  std::normal_distribution<float> nd;
  for (int64_t n : {32, 96, 1152 + 32}) {
    const int64_t blocks = n / 32;
    std::vector<float> x(static_cast<size_t>(n + 1));
    for (float& v : x) v = nd(rng) * 3.f;
    float* xs = x.data() + 1;
    for (int i = 0; i < 32; ++i) {
      xs[i] = (i - 16) * 0.5f;  // max 7.5 -> d = 7.5 / 127: x / d hits ties for some i
      if (blocks > 1) xs[32 + i] = 0.f;
      if (blocks > 2) xs[64 + i] = i % 2 ? 1e30f : -1e30f;
    }
    std::vector<ActBlockQ8> want(static_cast<size_t>(blocks)), got(want.size());
    std::vector<int32_t> sums(static_cast<size_t>(2 * blocks), -1);
    QuantizeActivationsQ8(xs, want.data(), n);
    simd.quantize_activations(xs, got.data(), n, sums.data());
    for (int64_t b = 0; b < blocks; ++b) {
      const ActBlockQ8& w = want[static_cast<size_t>(b)];
      const ActBlockQ8& g = got[static_cast<size_t>(b)];
      ASSERT_EQ(std::memcmp(&w.d, &g.d, sizeof w.d), 0) << "n " << n << " block " << b;
      int32_t pair[2] = {0, 0};
      for (int i = 0; i < 32; ++i) {
        ASSERT_EQ(g.qs[i], w.qs[i]) << "n " << n << " block " << b << " element " << i;
        pair[(i % 4) / 2] += w.qs[i];
      }
      EXPECT_EQ(sums[static_cast<size_t>(2 * b)], pair[0]) << "block " << b;
      EXPECT_EQ(sums[static_cast<size_t>(2 * b + 1)], pair[1]) << "block " << b;
    }
    // Without the sums.
    std::vector<ActBlockQ8> again(want.size());
    simd.quantize_activations(xs, again.data(), n, nullptr);
    EXPECT_EQ(std::memcmp(again.data(), got.data(), got.size() * sizeof(ActBlockQ8)), 0);
  }
}

TEST_P(KernelVsScalar, QuantizedDotsMatchTheirReference) {
  const KernelTable& fast = KernelsFor(GetParam());
  std::mt19937 rng(5);
  std::normal_distribution<float> nd;
  for (DType t : {DType::kQ8_0, DType::kQ4_0, DType::kQ5_0, DType::kQ4_1, DType::kQ5_1,
                  DType::kQ4_K, DType::kQ5_K, DType::kQ6_K}) {
    for (int64_t n : {32, 64, 96, 288, 512, 1152, 2304}) {
      if (n % GetDTypeInfo(t).block_elems != 0) continue;
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
        fast.dot_rows[static_cast<size_t>(t)](
            w, row_bytes, rows, int8 ? static_cast<const void*>(xq.data()) : x.data(), n, y.data());
        KernelsFor(Isa::kScalar)
            .dot_rows[static_cast<size_t>(t)](w, row_bytes, rows, x.data(), n, y_exact.data());
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

// K-quant decode dots (every table's slot, SIMD or scalar) against the scalar oracle (dequantize
// then f32 dot): odd row counts, several super-blocks, rows and activations at odd addresses.
// Q4_K/Q5_K/Q6_K rows come from the quantizers; Q2_K/Q3_K (no quantizer) are random block bytes
// with small positive f16 super-block scales, which covers every scale/quant bit pattern.
TEST_P(KernelVsScalar, KQuantDotsMatchScalar) {
  const KernelTable& fast = KernelsFor(GetParam());
  const KernelTable& ref = KernelsFor(Isa::kScalar);
  std::mt19937 rng(29);
  std::normal_distribution<float> nd;
  std::uniform_int_distribution<int> byte(0, 255);
  std::uniform_real_distribution<float> scale(0.002f, 0.02f);
  for (DType t : {DType::kQ2_K, DType::kQ3_K, DType::kQ4_K, DType::kQ5_K, DType::kQ6_K}) {
    const size_t slot = static_cast<size_t>(t);
    ASSERT_NE(fast.dot_rows[slot], nullptr) << DTypeName(t);
    // Slots on int8 activations are held to their integer reference in the test above.
    if (fast.activation[slot] == ActivationType::kQ8) continue;
    for (int64_t n : {256, 512, 2304}) {
      for (int64_t rows : {1, 3, 7}) {
        for (int misalign : {0, 1, 3}) {
          const uint64_t row_bytes = RowBytes(t, static_cast<uint64_t>(n));
          std::vector<uint8_t> buf(row_bytes * rows + 8);
          uint8_t* w = buf.data() + misalign;
          if (HasQuantizer(t)) {
            std::vector<float> wf(static_cast<size_t>(n));
            for (int64_t r = 0; r < rows; ++r) {
              for (float& v : wf) v = nd(rng);
              QuantizeRow(t, wf.data(), w + r * row_bytes, n);
            }
          } else {
            // The f16 scales sit at the end of Q2_K (d, dmin) and Q3_K (d) blocks.
            const int block_bytes = GetDTypeInfo(t).block_bytes;
            const int n_scales = t == DType::kQ2_K ? 2 : 1;
            for (uint64_t i = 0; i < row_bytes * rows; ++i) w[i] = static_cast<uint8_t>(byte(rng));
            for (uint64_t off = 0; off < row_bytes * rows; off += block_bytes) {
              for (int s = 0; s < n_scales; ++s) {
                const uint16_t h = F32ToF16(scale(rng));
                std::memcpy(w + off + block_bytes - 2 * (n_scales - s), &h, 2);
              }
            }
          }
          std::vector<float> xbuf(static_cast<size_t>(n) + 1);
          float* x = xbuf.data() + 1;  // not 32-byte aligned
          for (int64_t i = 0; i < n; ++i) x[i] = nd(rng);
          std::vector<float> y(static_cast<size_t>(rows)), y_ref(static_cast<size_t>(rows));
          fast.dot_rows[slot](w, row_bytes, rows, x, n, y.data());
          ref.dot_rows[slot](w, row_bytes, rows, x, n, y_ref.data());
          std::vector<float> deq(static_cast<size_t>(n));
          for (int64_t r = 0; r < rows; ++r) {
            // Tolerance relative to the size of the terms: f32 rounding in another order.
            DequantizeRow(t, w + r * row_bytes, deq.data(), n);
            double mag = 0;
            for (int64_t i = 0; i < n; ++i) mag += std::fabs(double(deq[size_t(i)]) * x[i]);
            EXPECT_NEAR(y[size_t(r)], y_ref[size_t(r)], 2e-5 * mag + 1e-6)
                << IsaName(GetParam()) << " " << DTypeName(t) << " n=" << n << " rows=" << rows
                << " misalign=" << misalign << " row " << r;
          }
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
  for (DType t : {DType::kF32, DType::kBF16, DType::kF16, DType::kQ8_0, DType::kQ4_0, DType::kQ5_0,
                  DType::kQ4_1, DType::kQ5_1}) {
    const GemmTileFn tile = k.gemm_tile[static_cast<size_t>(t)];
    if (tile == nullptr) continue;
    const bool quant = IsQuantized(t);
    for (int64_t n :
         quant ? std::vector<int64_t>{32, 96, 160} : std::vector<int64_t>{7, 16, 33, 100}) {
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
          for (int64_t i = 0; i < tokens; ++i)
            QuantizeActivationsQ8(&x[i * n], &xq[i * (n / 32)], n);
        }
        const void* xa = int8 ? static_cast<const void*>(xq.data()) : x.data();
        const int64_t stride = int8 ? n / 32 * static_cast<int64_t>(sizeof(ActBlockQ8)) : n * 4;
        const int64_t ldy = rows + 3;
        std::vector<float> y(static_cast<size_t>(ldy * tokens), -1.f), y_ref(y.size(), -1.f);
        tile(w, row_bytes, rows, xa, stride, tokens, n, y.data(), ldy);
        for (int64_t i = 0; i < tokens; ++i) {
          k.dot_rows[static_cast<size_t>(t)](
              w, row_bytes, rows, static_cast<const uint8_t*>(xa) + i * stride, n, &y_ref[i * ldy]);
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

// Rounding is lrintf's (half to even): exact ties, and random blocks against lrintf itself.
TEST(ActivationQ8, RoundsLikeLrintf) {
  float x[32] = {127.f, 0.5f, 1.5f, 2.5f, -0.5f, -1.5f, -2.5f, 126.5f, -126.5f, 3.49999f, -127.f};
  ActBlockQ8 q[1];
  QuantizeActivationsQ8(x, q, 32);
  ASSERT_EQ(q[0].d, 1.f);
  const int want[11] = {127, 0, 2, 2, 0, -2, -2, 126, -126, 3, -127};
  for (int i = 0; i < 11; ++i) EXPECT_EQ(q[0].qs[i], want[i]) << x[i];
  std::mt19937 rng(31);
  std::normal_distribution<float> nd;
  std::vector<float> xs(32 * 256);
  for (size_t i = 0; i < xs.size(); ++i) xs[i] = nd(rng) * static_cast<float>(1 + i % 3);
  std::vector<ActBlockQ8> qs(256);
  QuantizeActivationsQ8(xs.data(), qs.data(), static_cast<int64_t>(xs.size()));
  for (size_t i = 0; i < xs.size(); ++i) {
    const ActBlockQ8& b = qs[i / 32];
    const float inv = b.d != 0.f ? 1.f / b.d : 0.f;
    ASSERT_EQ(b.qs[i % 32], std::lrintf(xs[i] * inv)) << "element " << i;
  }
}

TEST_P(KernelVsScalar, MatMulAgreesWithScalarAcrossThreadCounts) {
  std::mt19937 rng(11);
  const int64_t rows = 77, n = 45, tokens = 5;
  const std::vector<uint8_t> bytes = RandomRows(DType::kBF16, rows, n, rng);
  const TensorView w = MatrixView(DType::kBF16, rows, n, bytes.data());
  std::vector<float> x(tokens * n);
  std::normal_distribution<float> nd;
  for (float& v : x) v = nd(rng);
  std::vector<float> y_ref(tokens * rows), y(tokens * rows);
  ThreadPool one(1), three(3);
  MatMul(KernelsFor(Isa::kScalar), one, w, x.data(), tokens, n, y_ref.data(), rows);
  MatMul(KernelsFor(GetParam()), three, w, x.data(), tokens, n, y.data(), rows);
  for (size_t i = 0; i < y.size(); ++i)
    EXPECT_NEAR(y[i], y_ref[i], 1e-4 * (1 + std::fabs(y_ref[i])));
}

// MatMulSameInput over `views` (outputs with strides of their own) writes exactly what one MatMul
// per matrix writes.
void ExpectSameInputEqualsSeparate(const KernelTable& k, ThreadPool& pool,
                                   const std::vector<TensorView>& views,
                                   const std::vector<float>& x, int64_t tokens, int64_t n) {
  std::vector<std::vector<float>> y(views.size()), y_ref(views.size());
  std::vector<MatMulTarget> targets;
  for (size_t i = 0; i < views.size(); ++i) {
    const int64_t rows = views[i].n_rows(), ldy = rows + 2 + static_cast<int64_t>(i);
    y[i].assign(static_cast<size_t>(tokens * ldy), -1.f);
    y_ref[i] = y[i];
    targets.push_back({&views[i], y[i].data(), ldy});
    MatMul(k, pool, views[i], x.data(), tokens, n, y_ref[i].data(), ldy);
  }
  MatMulSameInput(k, pool, targets, x.data(), tokens, n);
  for (size_t i = 0; i < views.size(); ++i) {
    for (size_t j = 0; j < y[i].size(); ++j) {
      ASSERT_EQ(y[i][j], y_ref[i][j])
          << DTypeName(views[i].dtype) << " target " << i << " tokens " << tokens << " at " << j;
    }
  }
}

// q/k/v-style products sharing one input: the same numbers as one MatMul per matrix, for weight
// types that want f32 and int8 activations side by side and more targets than one pass takes.
TEST_P(KernelVsScalar, MatMulSameInputEqualsSeparateProducts) {
  std::mt19937 rng(23);
  const int64_t n = 512;
  const std::vector<DType> types = {DType::kQ4_0, DType::kBF16, DType::kQ8_0,
                                    DType::kF32,  DType::kQ4_K, DType::kQ6_K};
  std::vector<std::vector<uint8_t>> bytes;
  std::vector<TensorView> views;
  for (size_t i = 0; i < types.size(); ++i) {
    const int64_t rows = 37 + 11 * static_cast<int64_t>(i);
    bytes.push_back(RandomRows(types[i], rows, n, rng));
    views.push_back(MatrixView(types[i], rows, n, bytes.back().data()));
  }
  std::normal_distribution<float> nd;
  ThreadPool pool(3);
  // Also with one matrix whose rows are half as long (it reads a prefix of x): no shared pass.
  for (bool mixed_lengths : {false, true}) {
    if (mixed_lengths) views.front().shape[1] = n / 2;
    for (int64_t tokens : {1, 3}) {
      std::vector<float> x(static_cast<size_t>(tokens * n));
      for (float& v : x) v = nd(rng);
      ExpectSameInputEqualsSeparate(KernelsFor(GetParam()), pool, views, x, tokens, n);
    }
  }
}

// Prefill of q/k/v-style targets of one type: one packed product over all three (partial panels,
// a chunk of panels spanning two targets, output strides of their own) writes the same numbers
// as one MatMul per matrix.
TEST_P(KernelVsScalar, PackedSameInputEqualsSeparateProducts) {
  std::mt19937 rng(29);
  const int64_t n = 512, tokens = 50;
  std::normal_distribution<float> nd;
  ThreadPool pool(3);
  for (DType type :
       {DType::kQ4_0, DType::kBF16, DType::kQ8_0, DType::kF32, DType::kQ4_K, DType::kQ6_K}) {
    std::vector<std::vector<uint8_t>> bytes;
    std::vector<TensorView> views;
    for (int64_t rows : {37, 48, 59}) {
      bytes.push_back(RandomRows(type, rows, n, rng));
      views.push_back(MatrixView(type, rows, n, bytes.back().data()));
    }
    std::vector<float> x(static_cast<size_t>(tokens * n));
    for (float& v : x) v = nd(rng);
    ExpectSameInputEqualsSeparate(KernelsFor(GetParam()), pool, views, x, tokens, n);
  }
}

// The panel micro-kernel on every token count, partial panels, odd k lengths, odd strides and
// unaligned activations, overwriting and accumulating.
TEST_P(KernelVsScalar, PanelGemmMatchesScalarOnOddShapes) {
  std::mt19937 rng(5);
  std::normal_distribution<float> nd;
  const PanelGemmFn gemm = KernelsFor(GetParam()).panel_gemm;
  ASSERT_NE(gemm, nullptr);
  for (int64_t kc : {1, 7, 37, 256}) {
    std::vector<float> panel(static_cast<size_t>(kc * kPanelRows));
    for (float& v : panel) v = nd(rng);
    const int64_t ldx = kc + 3, ldy = 35;
    // Every count up to two AVX-512 groups and one more, then a few longer runs.
    const std::vector<int64_t> token_counts = {1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11,
                                               12, 13, 14, 17, 18, 23, 24, 25, 29, 36, 41};
    constexpr int64_t kMaxTokens = 41;
    std::vector<float> x(static_cast<size_t>(kMaxTokens * ldx + 1));
    for (float& v : x) v = nd(rng);
    for (int64_t tokens : token_counts) {
      for (int64_t rows : {1, 5, 15, 16}) {
        for (bool accumulate : {false, true}) {
          std::vector<float> y(static_cast<size_t>(kMaxTokens * ldy), 0.5f), y_ref = y;
          PanelGemmScalar(panel.data(), kc, x.data() + 1, ldx, tokens, rows, y_ref.data(), ldy,
                          accumulate);
          gemm(panel.data(), kc, x.data() + 1, ldx, tokens, rows, y.data(), ldy, accumulate);
          for (size_t i = 0; i < y.size(); ++i) {
            ASSERT_NEAR(y[i], y_ref[i], 1e-5 * (std::sqrt(double(kc)) + std::fabs(y_ref[i])))
                << "kc " << kc << " tokens " << tokens << " rows " << rows << " acc " << accumulate
                << " at " << i;
          }
        }
      }
    }
  }
}

// The two-panel kernel (tables that have one) against the scalar one-panel kernel on each half:
// token counts across its 8-token groups, row counts within either panel, odd k lengths, strides,
// unaligned activations, overwrite and accumulate.
TEST_P(KernelVsScalar, PanelGemmPairMatchesScalarOnOddShapes) {
  const PanelGemmPairFn gemm = KernelsFor(GetParam()).panel_gemm_pair;
  if (gemm == nullptr) {
    EXPECT_NE(GetParam(), Isa::kAvx512) << "the avx512 table has a two-panel kernel";
    GTEST_SKIP() << IsaName(GetParam()) << " multiplies one panel at a time";
  }
  std::mt19937 rng(67);
  std::normal_distribution<float> nd;
  for (int64_t kc : {1, 7, 37, 256}) {
    std::vector<float> low(static_cast<size_t>(kc * kPanelRows)), high(low.size());
    for (float& v : low) v = nd(rng);
    for (float& v : high) v = nd(rng);
    const int64_t ldx = kc + 3, ldy = 37;
    constexpr int64_t kMaxTokens = 29;
    std::vector<float> x(static_cast<size_t>(kMaxTokens * ldx + 1));
    for (float& v : x) v = nd(rng);
    for (int64_t tokens : {1, 5, 7, 8, 9, 16, 17, 29}) {
      for (int64_t rows : {1, 15, 16, 17, 31, 32}) {
        for (bool accumulate : {false, true}) {
          std::vector<float> y(static_cast<size_t>(kMaxTokens * ldy), 0.5f), y_ref = y;
          const int64_t rows_low = std::min<int64_t>(rows, kPanelRows);
          PanelGemmScalar(low.data(), kc, x.data() + 1, ldx, tokens, rows_low, y_ref.data(), ldy,
                          accumulate);
          if (rows > kPanelRows) {
            PanelGemmScalar(high.data(), kc, x.data() + 1, ldx, tokens, rows - kPanelRows,
                            y_ref.data() + kPanelRows, ldy, accumulate);
          }
          gemm(low.data(), high.data(), kc, x.data() + 1, ldx, tokens, rows, y.data(), ldy,
               accumulate);
          for (size_t i = 0; i < y.size(); ++i) {
            ASSERT_NEAR(y[i], y_ref[i], 1e-5 * (std::sqrt(double(kc)) + std::fabs(y_ref[i])))
                << "kc " << kc << " tokens " << tokens << " rows " << rows << " acc " << accumulate
                << " at " << i;
          }
        }
      }
    }
  }
}

// The bf16 pair panel kernel (tables whose CPU multiplies bf16 pairs) against the scalar one:
// token counts across its 8-token groups, partial panels (within either half of the 32 rows), odd
// pair counts, strides, unaligned activations, overwrite and accumulate.
TEST_P(KernelVsScalar, Bf16PanelGemmMatchesScalarOnOddShapes) {
  const Bf16PanelGemmFn gemm = KernelsFor(GetParam()).bf16_panel_gemm;
  if (gemm == nullptr) {
    EXPECT_FALSE(GetParam() == Isa::kAvx512 && GetCpuFeatures().avx512_bf16)
        << "this CPU has AVX512-BF16: the avx512 table must use it";
    GTEST_SKIP() << IsaName(GetParam()) << " has no bf16 pair kernel";
  }
  std::mt19937 rng(37);
  std::normal_distribution<float> nd;
  auto random_pair = [&] {
    return static_cast<uint32_t>(F32ToBF16(nd(rng))) | static_cast<uint32_t>(F32ToBF16(nd(rng)))
                                                           << 16;
  };
  for (int64_t kc : {1, 7, 37, 128}) {
    std::vector<uint32_t> panel(static_cast<size_t>(kc * kBf16PanelRows));
    for (uint32_t& v : panel) v = random_pair();
    const int64_t ldx = kc + 3, ldy = 35;
    constexpr int64_t kMaxTokens = 29;
    std::vector<uint32_t> x(static_cast<size_t>(kMaxTokens * ldx + 1));
    for (uint32_t& v : x) v = random_pair();
    for (int64_t tokens : {1, 5, 7, 8, 9, 16, 29}) {
      for (int64_t rows : {1, 5, 16, 17, 31, 32}) {
        for (bool accumulate : {false, true}) {
          std::vector<float> y(static_cast<size_t>(kMaxTokens * ldy), 0.5f), y_ref = y;
          Bf16PanelGemmScalar(panel.data(), kc, x.data() + 1, ldx, tokens, rows, y_ref.data(), ldy,
                              accumulate);
          gemm(panel.data(), kc, x.data() + 1, ldx, tokens, rows, y.data(), ldy, accumulate);
          for (size_t i = 0; i < y.size(); ++i) {
            ASSERT_NEAR(y[i], y_ref[i], 1e-5 * (std::sqrt(double(2 * kc)) + std::fabs(y_ref[i])))
                << "kc " << kc << " tokens " << tokens << " rows " << rows << " acc " << accumulate
                << " at " << i;
          }
        }
      }
    }
  }
}

// The bf16 pair packer writes what the scalar one writes, for every row count of a panel, pair
// counts with and without a partial group of 16, from an odd pair offset in rows at any stride.
TEST_P(KernelVsScalar, Bf16PanelPackMatchesScalar) {
  const Bf16PanelPackFn pack = KernelsFor(GetParam()).bf16_panel_pack;
  if (pack == nullptr) GTEST_SKIP() << IsaName(GetParam()) << " has no bf16 pair kernel";
  std::mt19937 rng(43);
  const int64_t row_pairs = 75;
  const uint64_t row_bytes = 4 * row_pairs + 6;  // rows start at every 2-byte offset mod 4
  std::vector<uint8_t> bytes(row_bytes * kBf16PanelRows + 8);
  for (uint8_t& b : bytes) b = static_cast<uint8_t>(rng());
  for (int64_t kp : {1, 15, 16, 17, 40, 64}) {
    for (int64_t n_rows = 1; n_rows <= kBf16PanelRows; ++n_rows) {
      const int64_t p0 = 3;
      std::vector<uint32_t> got(static_cast<size_t>(kp * kBf16PanelRows), 0x5a5a5a5a), want(got);
      Bf16PanelPackScalar(bytes.data() + 2, row_bytes, n_rows, p0, kp, want.data());
      pack(bytes.data() + 2, row_bytes, n_rows, p0, kp, got.data());
      ASSERT_EQ(got, want) << "pairs " << kp << " rows " << n_rows;
    }
  }
}

// Panel packing: every type's row dequantizer is bit-identical to the scalar one (the same
// f32 products) on whole-block lengths from unaligned sources; the transpose on odd k counts.
TEST_P(KernelVsScalar, PanelPackingMatchesScalarBitForBit) {
  const KernelTable& fast = KernelsFor(GetParam());
  const KernelTable& ref = KernelsFor(Isa::kScalar);
  std::mt19937 rng(11);
  std::normal_distribution<float> nd;
  for (int t = 0; t < static_cast<int>(DType::kCount); ++t) {
    const DType dtype = static_cast<DType>(t);
    if (!HasQuantizer(dtype)) continue;
    const int64_t block = GetDTypeInfo(dtype).block_elems;
    for (int64_t n : {block, 3 * block, 256 + 3 * block}) {
      if (n % block != 0) continue;
      std::vector<float> wf(static_cast<size_t>(n));
      for (float& v : wf) v = nd(rng);
      const uint64_t row_bytes = RowBytes(dtype, static_cast<uint64_t>(n));
      std::vector<uint8_t> bytes(row_bytes + 1);
      QuantizeRow(dtype, wf.data(), bytes.data() + 1, n);  // +1: an unaligned source
      std::vector<float> want(static_cast<size_t>(n) + 1), got(want.size());
      ref.dequantize_row[static_cast<size_t>(t)](bytes.data() + 1, want.data() + 1, n);
      fast.dequantize_row[static_cast<size_t>(t)](bytes.data() + 1, got.data() + 1, n);
      ASSERT_EQ(0, std::memcmp(want.data(), got.data(), want.size() * sizeof(float)))
          << DTypeName(dtype) << " n " << n;
    }
  }
  for (int64_t kc : {1, 7, 8, 9, 37, 256}) {
    const int64_t ld = kc + 5;
    std::vector<float> rows(static_cast<size_t>(kPanelRows * ld + 1));
    for (float& v : rows) v = nd(rng);
    std::vector<float> want(static_cast<size_t>(kc * kPanelRows)), got(want.size());
    ref.panel_transpose(rows.data() + 1, ld, kc, want.data());
    fast.panel_transpose(rows.data() + 1, ld, kc, got.data());
    ASSERT_EQ(want, got) << "kc " << kc;
  }
}

// Prefill through the packed path (>= kPackedMinTokens tokens) for every type with a quantizer:
// rows not a multiple of the panel, k longer than one k-block, against dequantize-and-dot in
// double precision.
TEST_P(KernelVsScalar, PackedMatMulMatchesDequantizedProduct) {
  std::mt19937 rng(17);
  std::normal_distribution<float> nd;
  struct Shape {
    int64_t rows, tokens;
    bool all_types;
    int64_t n;  // 0: just over one 256-element k block
  };
  // The second shape spans several token blocks (BF16's are 512 tokens, the others' 264) and
  // their prefetch slices with a partial last one, several chunks of panels and a partial panel;
  // the third is wide enough for PackedMatMulInt8 to cut rows into two unequal k blocks (41
  // blocks: 21 + 20; K-quants round it up to whole super-blocks), the fourth into two k blocks
  // of 36 that split a K-quant super-block.
  for (const Shape shape : {Shape{37, 13, true, 0}, Shape{70, 600, false, 0},
                            Shape{21, 10, false, 41 * 32}, Shape{19, 9, false, 72 * 32}})
    for (int t = 0; t < static_cast<int>(DType::kCount); ++t) {
      const DType dtype = static_cast<DType>(t);
      if (!HasQuantizer(dtype)) continue;
      if (!shape.all_types && dtype != DType::kBF16 && dtype != DType::kQ4_0 &&
          dtype != DType::kQ5_0 && dtype != DType::kQ5_1 && dtype != DType::kQ4_K &&
          dtype != DType::kQ5_K && dtype != DType::kQ8_0 && dtype != DType::kQ6_K) {
        continue;
      }
      const int64_t rows = shape.rows, tokens = shape.tokens;
      const int64_t block = GetDTypeInfo(dtype).block_elems;
      const int64_t n = shape.n != 0 ? (shape.n + block - 1) / block * block
                        : block > 32 ? 512
                                     : 288;
      std::vector<float> wf(static_cast<size_t>(rows * n));
      for (float& v : wf) v = nd(rng);
      const uint64_t row_bytes = RowBytes(dtype, static_cast<uint64_t>(n));
      std::vector<uint8_t> bytes(row_bytes * rows);
      for (int64_t r = 0; r < rows; ++r) {
        QuantizeRow(dtype, &wf[static_cast<size_t>(r * n)], bytes.data() + r * row_bytes, n);
      }
      const TensorView w = MatrixView(dtype, rows, n, bytes.data());
      std::vector<float> x(static_cast<size_t>(tokens * n));
      for (float& v : x) v = nd(rng);
      std::vector<float> y(static_cast<size_t>(tokens * rows));
      ThreadPool pool(3);
      MatMul(KernelsFor(GetParam()), pool, w, x.data(), tokens, n, y.data(), rows);
      if (Int8PanelTakes(KernelsFor(GetParam()), dtype)) {
        // Int8 prefill: the same integer math as the scalar int8 dot on the same activations.
        std::vector<ActBlockQ8> xq(static_cast<size_t>(n / 32));
        std::vector<float> want(static_cast<size_t>(rows));
        for (int64_t tk = 0; tk < tokens; ++tk) {
          QuantizeActivationsQ8(&x[static_cast<size_t>(tk * n)], xq.data(), n);
          ReferenceDotQ8(dtype)(bytes.data(), row_bytes, rows, xq.data(), n, want.data());
          for (int64_t r = 0; r < rows; ++r) {
            ASSERT_NEAR(y[size_t(tk * rows + r)], want[size_t(r)],
                        1e-4 * (1 + std::fabs(want[size_t(r)])))
                << DTypeName(dtype) << " int8 row " << r << " token " << tk;
          }
        }
        continue;
      }
      if (PackedMatMulBf16Takes(KernelsFor(GetParam()), w)) {
        // BF16 prefill in bf16 pairs: the activations rounded to bf16 (RNE), exact products.
        for (float& v : x) v = BF16ToF32(F32ToBF16(v));
      }
      std::vector<float> deq(static_cast<size_t>(n));
      for (int64_t r = 0; r < rows; ++r) {
        DequantizeRow(dtype, bytes.data() + r * row_bytes, deq.data(), n);
        for (int64_t tk = 0; tk < tokens; ++tk) {
          double want = 0;
          for (int64_t i = 0; i < n; ++i) want += double(deq[size_t(i)]) * x[size_t(tk * n + i)];
          ASSERT_NEAR(y[size_t(tk * rows + r)], want, 1e-4 * std::sqrt(double(n)))
              << DTypeName(dtype) << " row " << r << " token " << tk;
        }
      }
    }
}

// The int8 prefill panel kernel against exact integer block sums, for Q4_0's quants (0..15,
// offset 8), Q5_0's (0..31, offset 16) and, on tables with signed panels, Q8_0's (0..255, offset
// 128): every row count of a panel, token counts up to two tiles and one more, partial k ranges,
// overwrite and accumulate, outputs with a stride; and extreme blocks (quants 0 or the largest,
// activations +-127, with long runs of one sign) where the AVX2 kernel's wrapping int16 sums are
// at the edge of their range. Signed-panel tables get the panel through their own
// int8_panel_to_signed and the activations as q + 128, as PackedMatMulInt8 hands them.
void CheckInt8PanelGemm(const KernelTable& simd) {
  std::mt19937 rng(29);
  std::uniform_int_distribution<int> act(-127, 127), coin(0, 1);
  std::normal_distribution<float> nd;
  const bool signed_panels = simd.int8_panel_to_signed != nullptr;
  for (const DType type : {DType::kQ4_0, DType::kQ5_0, DType::kQ8_0})
    for (bool extremes : {false, true}) {
      if (type == DType::kQ8_0 && !Int8PanelTakes(simd, type)) continue;
      const int offset = Int8PanelQuantOffset(type);
      const int max_quant = 2 * offset - 1;
      std::uniform_int_distribution<int> quant(0, max_quant);
      // Extreme blocks: each row is all 0 or all max_quant and each activation block all +127 or
      // all -127, so some row/token pairs sum 16 products of -offset * 127 in one int16 lane.
      auto make_quant = [&](int row_sign) {
        return extremes ? (row_sign ? max_quant : 0) : quant(rng);
      };
      for (int64_t n_blocks : {1, 3, 8}) {
        for (int64_t n_rows = 1; n_rows <= kInt8PanelRows; ++n_rows) {
          std::vector<Int8PanelBlock> panel(static_cast<size_t>(n_blocks));
          for (Int8PanelBlock& b : panel) {
            std::memset(&b, 0, sizeof b);
            for (int64_t r = 0; r < n_rows; ++r) {
              const int row_sign = coin(rng);
              for (int g = 0; g < 8; ++g)
                for (int j = 0; j < 4; ++j)
                  b.q[g][4 * r + j] = static_cast<uint8_t>(make_quant(row_sign));
              b.d[r] = nd(rng);
            }
          }
          const int64_t x_stride = n_blocks + 2;  // tokens' blocks need not be adjacent
          // Two groups of the widest tile (8 tokens, AVX-512) and one more, so every tile size and
          // remainder of every table runs.
          const int64_t max_tokens = 17;
          std::vector<ActBlockQ8> x(static_cast<size_t>(max_tokens * x_stride));
          std::vector<Int8PairCorr> corr(x.size());
          for (size_t i = 0; i < x.size(); ++i) {
            x[i].d = std::fabs(nd(rng));
            const int block_sign = coin(rng) ? 127 : -127;
            for (int8_t& q : x[i].qs) q = static_cast<int8_t>(extremes ? block_sign : act(rng));
            corr[i] = MakeInt8PairCorr(x[i], offset);
          }
          std::vector<Int8PanelBlock> tile_panel = panel;
          std::vector<ActBlockQ8> tile_x = x;
          if (signed_panels) {
            simd.int8_panel_to_signed(tile_panel.data(), n_blocks, offset);
            for (ActBlockQ8& b : tile_x)
              for (int8_t& q : b.qs) q = static_cast<int8_t>(q ^ 0x80);
          }
          for (int64_t tokens = 1; tokens <= max_tokens; ++tokens) {
            for (bool accumulate : {false, true}) {
              const int64_t ldy = kInt8PanelRows + 3;
              std::vector<float> y(static_cast<size_t>(ldy * tokens), 0.5f);
              simd.int8_panel_gemm(tile_panel.data(), n_blocks, tile_x.data(),
                                   signed_panels ? nullptr : corr.data(), x_stride, tokens, n_rows,
                                   y.data(), ldy, accumulate);
              for (size_t i = 0; i < y.size(); ++i) {
                const int64_t t = static_cast<int64_t>(i) / ldy, r = static_cast<int64_t>(i) % ldy;
                // Exact block sums, scaled in double. Block terms in f32 summed in different
                // orders: the error scales with the terms' magnitudes, not with their (possibly
                // cancelling) sum.
                double want = 0, magnitude = 0;
                for (int64_t b = 0; r < n_rows && b < n_blocks; ++b) {
                  const ActBlockQ8& a = x[static_cast<size_t>(t * x_stride + b)];
                  const Int8PanelBlock& pb = panel[static_cast<size_t>(b)];
                  int64_t block = 0, block_abs = 0;
                  for (int e = 0; e < 32; ++e) {
                    const int64_t product = (pb.q[e / 4][4 * r + e % 4] - offset) * a.qs[e];
                    block += product;
                    block_abs += std::abs(product);
                  }
                  want += double(pb.d[r]) * a.d * double(block);
                  magnitude += std::fabs(pb.d[r] * a.d) * double(block_abs);
                }
                if (r >= n_rows) {
                  ASSERT_EQ(y[i], 0.5f) << "a row past n_rows was written, at " << i;
                  continue;
                }
                if (accumulate) want += 0.5;
                ASSERT_NEAR(y[i], want, 2e-6 * magnitude + 1e-5 * (1 + std::fabs(want)))
                    << IsaName(simd.isa) << " " << DTypeName(type) << (extremes ? " extreme" : "")
                    << " blocks " << n_blocks << " rows " << n_rows << " tokens " << tokens
                    << " at " << i;
              }
            }
          }
        }
      }
    }
}

// Signed panels (VNNI tables): the table's conversion writes what the scalar one writes, quants
// and row corrections, for Q4_0-, Q5_0- and Q8_0-range quants; scales untouched.
TEST_P(KernelVsScalar, Int8PanelToSignedMatchesScalar) {
  const Int8PanelToSignedFn to_signed = KernelsFor(GetParam()).int8_panel_to_signed;
  if (to_signed == nullptr) GTEST_SKIP() << IsaName(GetParam()) << " takes unsigned panels";
  std::mt19937 rng(47);
  for (const int offset : {8, 16, 128}) {
    std::uniform_int_distribution<int> quant(0, 2 * offset - 1);
    std::vector<Int8PanelBlock> want(5);
    for (Int8PanelBlock& b : want) {
      for (auto& group : b.q)
        for (uint8_t& q : group) q = static_cast<uint8_t>(quant(rng));
      for (float& d : b.d) d = static_cast<float>(quant(rng));
      std::memset(b.row_corr, 0x5a, sizeof b.row_corr);  // garbage: must be overwritten
    }
    const std::vector<Int8PanelBlock> unsigned_panel = want;
    std::vector<Int8PanelBlock> got = want;
    Int8PanelToSignedScalar(want.data(), static_cast<int64_t>(want.size()), offset);
    to_signed(got.data(), static_cast<int64_t>(got.size()), offset);
    for (size_t b = 0; b < want.size(); ++b) {
      ASSERT_EQ(std::memcmp(&got[b], &want[b], sizeof want[b]), 0)
          << "offset " << offset << " block " << b;
    }
    // And the scalar one is what the panel contract says: q - offset, -128 times the row sum.
    for (size_t b = 0; b < want.size(); ++b) {
      for (int r = 0; r < kInt8PanelRows; ++r) {
        int32_t sum = 0;
        for (int e = 0; e < 32; ++e) {
          const int w = static_cast<int8_t>(want[b].q[e / 4][4 * r + e % 4]);
          ASSERT_EQ(w, unsigned_panel[b].q[e / 4][4 * r + e % 4] - offset);
          sum += w;
        }
        ASSERT_EQ(want[b].row_corr[r], -128 * sum);
      }
    }
  }
}

// Random Q6_K rows (n elements each) for the split panel tests.
std::vector<uint8_t> RandomQ6KRows(int64_t n_rows, int64_t n, std::mt19937& rng) {
  std::normal_distribution<float> nd;
  const uint64_t row_bytes = RowBytes(DType::kQ6_K, static_cast<uint64_t>(n));
  std::vector<uint8_t> bytes(row_bytes * static_cast<uint64_t>(n_rows));
  std::vector<float> row(static_cast<size_t>(n));
  for (int64_t r = 0; r < n_rows; ++r) {
    for (float& v : row) v = nd(rng);
    QuantizeRow(DType::kQ6_K, row.data(), bytes.data() + r * row_bytes, n);
  }
  return bytes;
}

// Q6_K split panels: every table's packer writes what the scalar one writes (quants, half scales,
// row corrections), for every row count, from a block offset inside a super-block; and the
// scalar one holds what the block holds (DequantizeRow's values are d[h] * quant).
TEST_P(KernelVsScalar, Q6KSplitPanelPackMatchesScalar) {
  const Int8SplitPanelPackFn pack = KernelsFor(GetParam()).q6_k_split_panel_pack;
  ASSERT_NE(pack, nullptr);
  std::mt19937 rng(53);
  const int64_t n = 3 * 256;
  const uint64_t row_bytes = RowBytes(DType::kQ6_K, n);
  const std::vector<uint8_t> bytes = RandomQ6KRows(kInt8PanelRows, n, rng);
  const int64_t b0 = 3, nb = n / 32 - b0;
  for (int64_t n_rows = 1; n_rows <= kInt8PanelRows; ++n_rows) {
    std::vector<Int8SplitPanelBlock> got(static_cast<size_t>(nb)), want(got.size());
    std::memset(got.data(), 0x5a, got.size() * sizeof(Int8SplitPanelBlock));
    PackQ6KSplitPanelScalar(bytes.data(), row_bytes, n_rows, b0, nb, want.data());
    pack(bytes.data(), row_bytes, n_rows, b0, nb, got.data());
    for (int64_t b = 0; b < nb; ++b) {
      ASSERT_EQ(std::memcmp(&got[size_t(b)], &want[size_t(b)], sizeof(Int8SplitPanelBlock)), 0)
          << "rows " << n_rows << " block " << b;
    }
  }
  std::vector<Int8SplitPanelBlock> panel(static_cast<size_t>(nb));
  PackQ6KSplitPanelScalar(bytes.data(), row_bytes, kInt8PanelRows, b0, nb, panel.data());
  std::vector<float> deq(static_cast<size_t>(n));
  for (int64_t r = 0; r < kInt8PanelRows; ++r) {
    DequantizeRow(DType::kQ6_K, bytes.data() + r * row_bytes, deq.data(), n);
    for (int64_t b = 0; b < nb; ++b) {
      const Int8SplitPanelBlock& pb = panel[size_t(b)];
      int32_t sums[2] = {0, 0};
      for (int e = 0; e < 32; ++e) {
        const int w = static_cast<int8_t>(pb.q[e / 4][4 * r + e % 4]);
        sums[e / 16] += w;
        ASSERT_EQ(pb.d[e / 16][r] * static_cast<float>(w), deq[size_t(32 * (b0 + b) + e)])
            << "row " << r << " block " << b << " element " << e;
      }
      ASSERT_EQ(pb.row_corr[0][r], -128 * sums[0]);
      ASSERT_EQ(pb.row_corr[1][r], -128 * sums[1]);
    }
  }
}

// The split panel tile (tables that have one) against exact integer half-block sums: every row
// count, token counts across its groups, overwrite and accumulate, strided outputs.
TEST_P(KernelVsScalar, Int8SplitPanelGemmMatchesExactSums) {
  const KernelTable& simd = KernelsFor(GetParam());
  if (simd.int8_split_panel_gemm == nullptr) {
    EXPECT_FALSE(GetParam() == Isa::kAvx512 || GetParam() == Isa::kAvxVnni)
        << "the VNNI tables must take Q6_K on split panels";
    GTEST_SKIP() << IsaName(GetParam()) << " has no split panel tile";
  }
  std::mt19937 rng(59);
  std::uniform_int_distribution<int> act(-127, 127);
  std::normal_distribution<float> nd;
  for (int64_t n_blocks : {1, 3, 8}) {
    const int64_t n = (n_blocks * 32 + 255) / 256 * 256;
    const std::vector<uint8_t> bytes = RandomQ6KRows(kInt8PanelRows, n, rng);
    for (int64_t n_rows : {1, 7, 16}) {
      std::vector<Int8SplitPanelBlock> panel(static_cast<size_t>(n_blocks));
      simd.q6_k_split_panel_pack(bytes.data(), RowBytes(DType::kQ6_K, n), n_rows, 0, n_blocks,
                                 panel.data());
      const int64_t x_stride = n_blocks + 1, max_tokens = 17;
      std::vector<ActBlockQ8> x(static_cast<size_t>(max_tokens * x_stride));
      for (ActBlockQ8& b : x) {
        b.d = std::fabs(nd(rng));
        for (int8_t& q : b.qs) q = static_cast<int8_t>(act(rng));
      }
      std::vector<ActBlockQ8> tile_x = x;  // as PackedMatMulInt8 hands them: q + 128
      for (ActBlockQ8& b : tile_x)
        for (int8_t& q : b.qs) q = static_cast<int8_t>(q ^ 0x80);
      for (int64_t tokens = 1; tokens <= max_tokens; ++tokens) {
        for (bool accumulate : {false, true}) {
          const int64_t ldy = kInt8PanelRows + 3;
          std::vector<float> y(static_cast<size_t>(ldy * tokens), 0.5f);
          simd.int8_split_panel_gemm(panel.data(), n_blocks, tile_x.data(), x_stride, tokens,
                                     n_rows, y.data(), ldy, accumulate);
          for (size_t i = 0; i < y.size(); ++i) {
            const int64_t t = static_cast<int64_t>(i) / ldy, r = static_cast<int64_t>(i) % ldy;
            if (r >= n_rows) {
              ASSERT_EQ(y[i], 0.5f) << "a row past n_rows was written, at " << i;
              continue;
            }
            double want = accumulate ? 0.5 : 0.0, magnitude = 0;
            for (int64_t b = 0; b < n_blocks; ++b) {
              const ActBlockQ8& a = x[static_cast<size_t>(t * x_stride + b)];
              const Int8SplitPanelBlock& pb = panel[static_cast<size_t>(b)];
              for (int h = 0; h < 2; ++h) {
                int64_t sum = 0, sum_abs = 0;
                for (int e = 16 * h; e < 16 * h + 16; ++e) {
                  const int64_t p = static_cast<int8_t>(pb.q[e / 4][4 * r + e % 4]) * a.qs[e];
                  sum += p;
                  sum_abs += std::abs(p);
                }
                want += double(pb.d[h][r]) * a.d * double(sum);
                magnitude += std::fabs(double(pb.d[h][r]) * a.d) * double(sum_abs);
              }
            }
            ASSERT_NEAR(y[i], want, 2e-6 * magnitude + 1e-5 * (1 + std::fabs(want)))
                << "blocks " << n_blocks << " rows " << n_rows << " tokens " << tokens << " at "
                << i;
          }
        }
      }
    }
  }
}

// Every table's int8 panel packers write what the scalar ones write, byte for byte (quants,
// scales, and the bias where the type has one), for every row count of a panel, from a block
// offset into odd-length rows.
TEST_P(KernelVsScalar, Int8PanelPackersMatchScalarByteForByte) {
  const KernelTable& simd = KernelsFor(GetParam());
  const KernelTable& ref = KernelsFor(Isa::kScalar);
  std::mt19937 rng(41);
  std::normal_distribution<float> nd;
  int checked = 0;
  for (int t = 0; t < static_cast<int>(DType::kCount); ++t) {
    const DType dtype = static_cast<DType>(t);
    const size_t slot = static_cast<size_t>(t);
    if (ref.int8_panel_pack[slot] == nullptr) continue;
    ASSERT_NE(simd.int8_panel_pack[slot], nullptr) << DTypeName(dtype);
    const int64_t n = GetDTypeInfo(dtype).block_elems == 256 ? 3 * 256 : 7 * 32;
    const uint64_t row_bytes = RowBytes(dtype, static_cast<uint64_t>(n));
    std::vector<uint8_t> bytes(row_bytes * kInt8PanelRows);
    std::vector<float> row(static_cast<size_t>(n));
    for (int64_t r = 0; r < kInt8PanelRows; ++r) {
      for (float& v : row) v = nd(rng);
      QuantizeRow(dtype, row.data(), bytes.data() + r * row_bytes, n);
    }
    const int64_t b0 = 3, nb = n / 32 - b0;
    for (int64_t n_rows = 1; n_rows <= kInt8PanelRows; ++n_rows) {
      std::vector<Int8PanelBlock> got(static_cast<size_t>(nb)), want(got.size());
      std::vector<float> got_bias(static_cast<size_t>(nb * kInt8PanelRows), 7.f);
      std::vector<float> want_bias(got_bias);
      // Garbage in the outputs: the packers must write every byte the tiles read.
      std::memset(got.data(), 0x5a, got.size() * sizeof(Int8PanelBlock));
      std::memset(want.data(), 0x5a, want.size() * sizeof(Int8PanelBlock));
      ref.int8_panel_pack[slot](bytes.data(), row_bytes, n_rows, b0, nb, want.data(),
                                want_bias.data());
      simd.int8_panel_pack[slot](bytes.data(), row_bytes, n_rows, b0, nb, got.data(),
                                 got_bias.data());
      for (int64_t b = 0; b < nb; ++b) {
        ASSERT_EQ(std::memcmp(&got[size_t(b)].q, &want[size_t(b)].q, sizeof want[0].q), 0)
            << DTypeName(dtype) << " quants, rows " << n_rows << " block " << b;
        ASSERT_EQ(std::memcmp(got[size_t(b)].d, want[size_t(b)].d, sizeof want[0].d), 0)
            << DTypeName(dtype) << " scales, rows " << n_rows << " block " << b;
      }
      ASSERT_EQ(std::memcmp(got_bias.data(), want_bias.data(), got_bias.size() * sizeof(float)), 0)
          << DTypeName(dtype) << " bias, rows " << n_rows;
    }
    ++checked;
  }
  EXPECT_EQ(checked, 7);  // Q4_0, Q5_0, Q4_1, Q5_1, Q4_K, Q5_K, Q8_0
}

TEST(Int8PanelGemm, EverySimdVersionMatchesScalar) {
  int checked = 0;
  for (Isa isa : SupportedIsas()) {
    if (KernelsFor(isa).int8_panel_gemm == nullptr) continue;
    CheckInt8PanelGemm(KernelsFor(isa));
    ++checked;
  }
  const std::vector<Isa> here = SupportedIsas();
  for (Isa int8_table : {Isa::kAvx512, Isa::kAvxVnni, Isa::kAvx2, Isa::kNeonDotprod}) {
    if (std::find(here.begin(), here.end(), int8_table) != here.end()) {
      EXPECT_GE(checked, 1) << IsaName(int8_table) << " has an int8 Q4_0 panel kernel";
    }
  }
  if (checked == 0) GTEST_SKIP() << "no table here has an int8 Q4_0 panel kernel";
}

// The f16 row conversion (KV cache stores) is bit-identical to F32ToF16 on normal, subnormal,
// overflowing, infinite and NaN values, any length.
TEST_P(KernelVsScalar, F16FromF32MatchesScalarBitForBit) {
  const F16FromF32Fn convert = KernelsFor(GetParam()).f16_from_f32;
  ASSERT_NE(convert, nullptr);
  std::mt19937 rng(61);
  std::uniform_int_distribution<uint32_t> bits;
  std::vector<float> x;
  for (float f :
       {0.f, -0.f, 1.f, -65504.f, 65519.f, 65520.f, 1e6f, 6.1e-5f, 6.0e-8f, 2.9e-8f, 3.0e-8f,
        1e-10f, std::numeric_limits<float>::infinity(), -std::numeric_limits<float>::infinity(),
        std::numeric_limits<float>::quiet_NaN(), -std::numeric_limits<float>::quiet_NaN()})
    x.push_back(f);
  for (int i = 0; i < 3000; ++i) {
    const uint32_t u = bits(rng);
    float f;
    std::memcpy(&f, &u, 4);  // every exponent, NaN payloads included
    x.push_back(i % 2 == 0
                    ? f
                    : std::ldexp(static_cast<float>(u % 4096) - 2048.f, -static_cast<int>(u % 40)));
  }
  for (int64_t n : {int64_t{0}, int64_t{7}, int64_t{8}, static_cast<int64_t>(x.size())}) {
    std::vector<uint16_t> got(static_cast<size_t>(n) + 1, 0xabcd), want(got);
    convert(x.data(), n, got.data());
    for (int64_t i = 0; i < n; ++i) want[size_t(i)] = F32ToF16(x[size_t(i)]);
    ASSERT_EQ(got, want) << "n " << n;  // and the element past n untouched
  }
}

// The bf16 pair conversion (BF16 prefill's activations) is bit-identical to F32ToBF16 on normal,
// subnormal, rounding-tie, overflowing, infinite and NaN values, any number of pairs.
TEST_P(KernelVsScalar, Bf16PairsFromF32MatchesScalarBitForBit) {
  const Bf16PairsFromF32Fn convert = KernelsFor(GetParam()).bf16_pairs_from_f32;
  ASSERT_NE(convert, nullptr);
  std::mt19937 rng(67);
  std::uniform_int_distribution<uint32_t> bits;
  std::vector<float> x;
  for (uint32_t u : {0x00000000u, 0x80000000u, 0x3f808000u, 0x3f818000u, 0x3f807fffu, 0x7f7fffffu,
                     0x7f800000u, 0xff800000u, 0x7fc00000u, 0x7f800001u, 0xff800001u, 0x00000001u,
                     0x807fffffu, 0x3f80ffffu}) {
    float f;
    std::memcpy(&f, &u, 4);
    x.push_back(f);
  }
  while (x.size() < 3002) {
    const uint32_t u = bits(rng);
    float f;
    std::memcpy(&f, &u, 4);  // every exponent, NaN payloads included
    x.push_back(f);
  }
  for (int64_t pairs :
       {int64_t{0}, int64_t{3}, int64_t{8}, int64_t{13}, static_cast<int64_t>(x.size() / 2)}) {
    std::vector<uint32_t> got(static_cast<size_t>(pairs) + 1, 0xabcdef01u), want(got);
    convert(x.data(), pairs, got.data());
    for (int64_t p = 0; p < pairs; ++p) {
      want[size_t(p)] = static_cast<uint32_t>(F32ToBF16(x[size_t(2 * p)])) |
                        static_cast<uint32_t>(F32ToBF16(x[size_t(2 * p + 1)])) << 16;
    }
    ASSERT_EQ(got, want) << "pairs " << pairs;  // and the pair past the end untouched
  }
}

// Attention kernels for every KV cache type: odd head dims (whole blocks for Q8_0), odd key
// counts, strided rows, one to eight query heads per KV head.
TEST_P(KernelVsScalar, KvAttentionKernelsMatchScalar) {
  std::mt19937 rng(23);
  std::normal_distribution<float> nd;
  const KernelTable& simd = KernelsFor(GetParam());
  const KernelTable& ref = KernelsFor(Isa::kScalar);
  for (DType type : {DType::kF32, DType::kF16, DType::kBF16, DType::kQ8_0}) {
    const size_t slot = static_cast<size_t>(type);
    ASSERT_NE(simd.kv_scores[slot], nullptr) << DTypeName(type);
    ASSERT_NE(simd.kv_accumulate[slot], nullptr) << DTypeName(type);
    // Q8_0 rows are whole blocks: head dims and strides multiples of 32.
    const bool q8 = type == DType::kQ8_0;
    for (int64_t hd :
         q8 ? std::vector<int64_t>{32, 64, 256} : std::vector<int64_t>{1, 7, 32, 45, 256}) {
      for (int64_t keys : {1, 3, 4, 9, 70}) {
        const int64_t stride = hd + (q8 ? 32 : 5);
        std::vector<float> values(static_cast<size_t>(keys * stride));
        for (float& v : values) v = nd(rng);
        std::vector<uint8_t> rows(RowBytes(type, values.size()));
        for (size_t i = 0; !q8 && i < values.size(); ++i) {
          if (type == DType::kF32) std::memcpy(&rows[i * 4], &values[i], 4);
          const uint16_t h = type == DType::kF16 ? F32ToF16(values[i]) : F32ToBF16(values[i]);
          if (type != DType::kF32) std::memcpy(&rows[i * 2], &h, 2);
        }
        if (q8) QuantizeRow(type, values.data(), rows.data(), static_cast<int64_t>(values.size()));
        // Query heads sharing the KV head: one, a tile of four and the rest, score rows apart.
        for (int64_t n_q : {1, 3, 4, 5, 8}) {
          const int64_t ld = keys + 3;
          std::vector<float> q(static_cast<size_t>(n_q * hd)), p(static_cast<size_t>(n_q * ld));
          for (float& v : q) v = nd(rng);
          for (float& v : p) v = std::fabs(nd(rng));
          std::vector<float> s_ref(p.size(), -7.f), s = s_ref;
          ref.kv_scores[slot](q.data(), n_q, rows.data(), stride, keys, hd, s_ref.data(), ld);
          simd.kv_scores[slot](q.data(), n_q, rows.data(), stride, keys, hd, s.data(), ld);
          for (size_t i = 0; i < s.size(); ++i) {
            ASSERT_NEAR(s[i], s_ref[i], 1e-5 * (std::sqrt(double(hd)) + 1))
                << DTypeName(type) << " hd " << hd << " heads " << n_q << " at " << i;
          }
          std::vector<float> o_ref(static_cast<size_t>(n_q * hd), 0.25f), o = o_ref;
          ref.kv_accumulate[slot](p.data(), ld, n_q, rows.data(), stride, keys, hd, o_ref.data());
          simd.kv_accumulate[slot](p.data(), ld, n_q, rows.data(), stride, keys, hd, o.data());
          for (size_t i = 0; i < o.size(); ++i) {
            ASSERT_NEAR(o[i], o_ref[i], 1e-5 * (std::sqrt(double(keys)) + 1))
                << DTypeName(type) << " hd " << hd << " keys " << keys << " heads " << n_q << " at "
                << i;
          }
        }
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Isas, KernelVsScalar, ::testing::ValuesIn(SupportedIsas()),
                         [](const auto& info) {
                           std::string n = IsaName(info.param);
                           std::replace(n.begin(), n.end(), '-', '_');
                           return n;
                         });

// The element-wise slots (gelu_tanh_mul, soft_cap, softmax) of every table against the scalar
// table's libm versions and against double precision. Lengths around the vector widths (8 on
// AVX2, 4 on NEON) and longer ones, pointers one float off alignment, canaries past the end, and
// inputs through every range the polynomial exp/tanh treat differently: 0, tiny, the small-|y|
// tanh polynomial (< 0.625), the exp branch, saturation, overflow of e^x, inf and NaN.
class ElementwiseVsScalar : public ::testing::TestWithParam<Isa> {};

constexpr int64_t kElementwiseSizes[] = {1, 7, 9, 31, 1000, 6913};

// Special values first, then random values of every magnitude (log-uniform 1e-8..1e3, either
// sign) and of the typical activation scale (normal, std 3).
std::vector<float> ElementwisePool(std::mt19937& rng) {
  const float inf = std::numeric_limits<float>::infinity();
  const float nan = std::numeric_limits<float>::quiet_NaN();
  std::vector<float> pool = {0.f,   -0.f,   1e-30f,  -1e-30f, 5e-39f, 1e-3f, -1e-3f,
                             0.5f,  -0.5f,  0.6249f, 0.625f,  -0.63f, 1.f,   3.f,
                             -3.f,  9.5f,   -9.5f,   10.f,    -10.f,  44.f,  -45.f,
                             100.f, -100.f, 1e30f,   -1e30f,  inf,    -inf,  nan};
  std::uniform_real_distribution<float> exponent(-8.f, 3.f);
  std::bernoulli_distribution negative(0.5);
  std::normal_distribution<float> nd(0.f, 3.f);
  for (int i = 0; i < 200; ++i) {
    const float m = std::pow(10.f, exponent(rng));
    pool.push_back(negative(rng) ? -m : m);
    pool.push_back(nd(rng));
  }
  return pool;
}

// Fills n values starting at pool[shift], so with several shifts every special value lands in
// the vector body and in the tail.
void FillFromPool(const std::vector<float>& pool, int64_t shift, int64_t n, float* x) {
  for (int64_t i = 0; i < n; ++i) x[i] = pool[static_cast<size_t>((i + shift) % pool.size())];
}

std::vector<int64_t> Shifts(int64_t n, size_t pool_size) {
  std::vector<int64_t> s;
  if (n < 32) {
    for (size_t i = 0; i < pool_size; i += static_cast<size_t>(n)) s.push_back(int64_t(i));
  } else {
    s = {0, 5};
  }
  return s;
}

// NaN must stay NaN, infinities must match exactly, finite values within tol.
::testing::AssertionResult Agrees(float got, float want, double tol) {
  if (std::isnan(want) || std::isnan(got)) {
    if (std::isnan(want) && std::isnan(got)) return ::testing::AssertionSuccess();
  } else if (std::isinf(want) || std::isinf(got)) {
    if (got == want) return ::testing::AssertionSuccess();
  } else if (std::fabs(double(got) - double(want)) <= tol) {
    return ::testing::AssertionSuccess();
  }
  return ::testing::AssertionFailure()
         << "got " << got << ", want " << want << " (tol " << tol << ")";
}

// One float past the end of an unaligned output: must not be written.
constexpr float kCanary = 12345.f;

TEST_P(ElementwiseVsScalar, SlotsAreFilled) {
  const KernelTable& k = KernelsFor(GetParam());
  EXPECT_NE(k.gelu_tanh_mul, nullptr);
  EXPECT_NE(k.soft_cap, nullptr);
  EXPECT_NE(k.softmax, nullptr);
}

// gelu_tanh(g) * up. The oracle computes 0.5 g (1 + tanh(u)), whose 1 + tanh(u) cancels for
// negative g: its error is up to ~1 ulp of 0.5 |g| (it returns exactly 0 where the true value is
// ~1e-8 |g|), while the SIMD logistic form g / (1 + e^{-2u}) stays within a few ulps relative.
// So the allowed difference is absolute on the scale of the inputs: 2.5 ulp(1) = 3e-7 times
// max(1, |g|) |up| (measured on AVX2: 1.7e-7).
TEST_P(ElementwiseVsScalar, GeluTanhMulMatchesScalar) {
  const KernelTable& fast = KernelsFor(GetParam());
  const KernelTable& ref = KernelsFor(Isa::kScalar);
  std::mt19937 rng(41);
  const std::vector<float> pool = ElementwisePool(rng);
  std::normal_distribution<float> nd;
  for (int64_t n : kElementwiseSizes) {
    for (int64_t shift : Shifts(n, pool.size())) {
      std::vector<float> gbuf(size_t(n) + 1), ubuf(size_t(n) + 1), obuf(size_t(n) + 2, kCanary);
      float* g = gbuf.data() + 1;  // 4 bytes off the allocation's alignment
      float* up = ubuf.data() + 1;
      float* out = obuf.data() + 1;
      FillFromPool(pool, shift, n, g);
      for (int64_t i = 0; i < n; ++i) up[i] = i % 5 == 0 ? 1.f : nd(rng);
      std::vector<float> want(static_cast<size_t>(n));
      ref.gelu_tanh_mul(g, up, n, want.data());
      fast.gelu_tanh_mul(g, up, n, out);
      for (int64_t i = 0; i < n; ++i) {
        const double tol = 3e-7 * std::max(1.0, std::fabs(double(g[i]))) * std::fabs(up[i]);
        ASSERT_TRUE(Agrees(out[i], want[size_t(i)], tol))
            << IsaName(GetParam()) << " n=" << n << " i=" << i << " gate=" << g[i]
            << " up=" << up[i];
      }
      EXPECT_EQ(obuf[0], kCanary);
      EXPECT_EQ(obuf[size_t(n) + 1], kCanary) << "wrote past the end, n=" << n;
      // In place (out == gate, as the forward pass calls it): the same values bit for bit.
      std::vector<float> inplace(g, g + n);
      fast.gelu_tanh_mul(inplace.data(), up, n, inplace.data());
      EXPECT_EQ(0, std::memcmp(inplace.data(), out, sizeof(float) * size_t(n))) << "n=" << n;
    }
  }
}

// cap * tanh(x / cap) for the caps Gemma 2 uses (30 on logits, 50 on attention scores) and 1
// (tanh itself). Both versions are within ~1e-7 absolute of the exact tanh (see the double
// precision test), so they differ by at most 2.5e-7 * cap; near 0 the polynomial keeps the
// relative difference within 4e-7 (a few ulps) as well.
TEST_P(ElementwiseVsScalar, SoftCapMatchesScalar) {
  const KernelTable& fast = KernelsFor(GetParam());
  const KernelTable& ref = KernelsFor(Isa::kScalar);
  std::mt19937 rng(43);
  const std::vector<float> pool = ElementwisePool(rng);
  for (float cap : {1.f, 30.f, 50.f}) {
    for (int64_t n : kElementwiseSizes) {
      for (int64_t shift : Shifts(n, pool.size())) {
        std::vector<float> buf(size_t(n) + 2, kCanary);
        float* x = buf.data() + 1;
        FillFromPool(pool, shift, n, x);
        // Scale the pool so the interesting range of x / cap is covered for every cap.
        for (int64_t i = 0; i < n; ++i) x[i] *= cap;
        std::vector<float> want(x, x + n);
        ref.soft_cap(want.data(), n, cap);
        const std::vector<float> in(x, x + n);
        fast.soft_cap(x, n, cap);
        for (int64_t i = 0; i < n; ++i) {
          const double tol = std::min(2.5e-7 * cap, 4e-7 * std::fabs(want[size_t(i)]) + 1e-37);
          ASSERT_TRUE(Agrees(x[i], want[size_t(i)], tol))
              << IsaName(GetParam()) << " cap=" << cap << " n=" << n << " i=" << i
              << " x=" << in[size_t(i)];
        }
        EXPECT_EQ(buf[0], kCanary);
        EXPECT_EQ(buf[size_t(n) + 1], kCanary) << "wrote past the end, n=" << n;
      }
    }
  }
}

// Softmax rows: attention-like scores (normal, std 1 and 10), rows with -inf entries (masked),
// rows with a spread beyond exp's range (entries underflow to 0; the SIMD exp flushes below
// ~1.7e-38 where std::exp goes subnormal: 2e-38 absolute), and pool rows with inf/NaN (all NaN
// in both). Each exp is within ~2 ulps, and the two sum in different orders (sequential vs 8
// or 4 lanes): 6e-7 relative plus 4 sqrt(n) ulps for the sums of these random rows.
TEST_P(ElementwiseVsScalar, SoftmaxMatchesScalar) {
  const KernelTable& fast = KernelsFor(GetParam());
  const KernelTable& ref = KernelsFor(Isa::kScalar);
  std::mt19937 rng(47);
  const std::vector<float> pool = ElementwisePool(rng);
  const float inf = std::numeric_limits<float>::infinity();
  for (int64_t n : kElementwiseSizes) {
    for (int kind = 0; kind < 6; ++kind) {
      std::vector<float> buf(size_t(n) + 2, kCanary);
      float* x = buf.data() + 1;
      std::normal_distribution<float> nd(0.f, kind == 1 ? 10.f : 1.f);
      std::uniform_real_distribution<float> wide(-200.f, 20.f);
      for (int64_t i = 0; i < n; ++i) {
        if (kind <= 1) {
          x[i] = nd(rng);
        } else if (kind == 2) {
          x[i] = i % 3 == 1 ? -inf : nd(rng);
        } else if (kind == 3) {
          x[i] = wide(rng);
        } else if (kind == 4) {
          x[i] = pool[size_t(i + 28) % pool.size()];  // the random part of the pool
        } else {
          x[i] = pool[size_t(i) % pool.size()];  // specials first: inf and NaN poison the row
        }
      }
      std::vector<float> want(x, x + n);
      ref.softmax(want.data(), n);
      fast.softmax(x, n);
      const double rel = 6e-7 + 4 * std::sqrt(double(n)) * 0x1p-24;
      for (int64_t i = 0; i < n; ++i) {
        const double tol = rel * std::fabs(want[size_t(i)]) + 2e-38;
        ASSERT_TRUE(Agrees(x[i], want[size_t(i)], tol))
            << IsaName(GetParam()) << " n=" << n << " kind=" << kind << " i=" << i;
      }
      EXPECT_EQ(buf[0], kCanary);
      EXPECT_EQ(buf[size_t(n) + 1], kCanary) << "wrote past the end, n=" << n;
    }
  }
}

// Absolute accuracy of every table (libm's included) against double precision on a dense sweep:
// tanh within 2e-7 absolute (the golden logits compare at 1e-4..1e-3 after ~30 layers; 2e-7 is
// under 2 ulps of 1), gelu within 3e-7 max(1, |x|) absolute, softmax entries within the relative
// bound of the test above (plus the flush of results below ~1.7e-38).
TEST_P(ElementwiseVsScalar, AccurateAgainstDoublePrecision) {
  const KernelTable& k = KernelsFor(GetParam());
  std::vector<float> xs;
  for (float x = -12.f; x <= 12.f; x += 1.f / 1024) xs.push_back(x);
  for (int e = -30; e <= 20; ++e) {
    for (float m : {1.f, 1.3f, 1.7f}) {
      xs.push_back(std::ldexp(m, e));
      xs.push_back(-std::ldexp(m, e));
    }
  }
  const int64_t n = static_cast<int64_t>(xs.size());
  std::vector<float> t = xs;
  k.soft_cap(t.data(), n, 1.f);
  for (int64_t i = 0; i < n; ++i) {
    const double err = std::fabs(t[size_t(i)] - std::tanh(double(xs[size_t(i)])));
    ASSERT_LE(err, 2e-7) << IsaName(GetParam()) << " tanh(" << xs[size_t(i)] << ")";
  }
  const std::vector<float> ones(xs.size(), 1.f);
  std::vector<float> g(xs.size());
  k.gelu_tanh_mul(xs.data(), ones.data(), n, g.data());
  for (int64_t i = 0; i < n; ++i) {
    // The logistic form in long double is the exact value without cancellation.
    const long double x = xs[size_t(i)];
    const long double u = 0.7978845608028654L * (x + 0.044715L * x * x * x);
    const double want = static_cast<double>(x / (1 + std::exp(-2 * u)));
    ASSERT_LE(std::fabs(g[size_t(i)] - want), 3e-7 * std::max(1.0, std::fabs(double(x))))
        << IsaName(GetParam()) << " gelu(" << xs[size_t(i)] << ")";
  }
  std::mt19937 rng(53);
  std::normal_distribution<float> nd(0.f, 8.f);
  std::vector<float> s(777);
  for (float& v : s) v = nd(rng);
  std::vector<float> p = s;
  k.softmax(p.data(), int64_t(p.size()));
  const float mx = *std::max_element(s.begin(), s.end());
  double sum = 0;
  for (float v : s) sum += std::exp(double(v - mx));  // v - mx rounded in f32 as in the kernels
  const double rel = 6e-7 + 4 * std::sqrt(double(s.size())) * 0x1p-24;
  for (size_t i = 0; i < s.size(); ++i) {
    const double want = std::exp(double(s[i] - mx)) / sum;
    ASSERT_LE(std::fabs(p[i] - want), rel * want + 2e-38)
        << IsaName(GetParam()) << " softmax entry " << i << " of " << want;
  }
}

INSTANTIATE_TEST_SUITE_P(Isas, ElementwiseVsScalar, ::testing::ValuesIn(SupportedIsas()),
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

// Regions of odd sizes (the sanitizer build catches any read past one) and a chunk boundary.
TEST(MemoryBandwidth, ReadsOddSizedRegionsAndReportsARate) {
  std::vector<std::vector<uint8_t>> buffers;
  for (size_t n : {size_t{1}, size_t{63}, size_t{65}, (size_t{1} << 20) + 7})
    buffers.emplace_back(n, uint8_t{0x5a});
  std::vector<std::span<const uint8_t>> regions(buffers.begin(), buffers.end());
  ThreadPool pool(2);
  const double bytes_per_s = MeasureReadBandwidth(regions, pool, 2);
  EXPECT_TRUE(std::isfinite(bytes_per_s));
  EXPECT_GT(bytes_per_s, 0);
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
