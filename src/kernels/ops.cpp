#include "kernels/ops.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "kernels/matmul_packed.h"

namespace gemma {

void MatMul(const KernelTable& k, ThreadPool& pool, const TensorView& w, const float* x,
            int64_t n_tokens, int64_t ldx, float* y, int64_t ldy) {
  if (n_tokens >= kPackedMinTokens && w.dtype == DType::kQ4_0 && k.q4_panel_gemm != nullptr) {
    return PackedMatMulQ4(k, pool, w, x, n_tokens, ldx, y, ldy);
  }
  if (n_tokens >= kPackedMinTokens && k.panel_gemm != nullptr) {
    return PackedMatMul(k, pool, w, x, n_tokens, ldx, y, ldy);
  }
  const int64_t n_rows = w.n_rows();
  const int64_t n = w.row_elems();
  const uint64_t row_bytes = w.row_bytes();
  const DotRowsFn dot = k.dot_rows[static_cast<size_t>(w.dtype)];
  // Integer kernels take the activations quantized once per call, not once per row block.
  const void* xa = x;
  int64_t x_stride_bytes = ldx * static_cast<int64_t>(sizeof(float));
  thread_local std::vector<ActBlockQ8> x_q8;
  if (k.activation[static_cast<size_t>(w.dtype)] == ActivationType::kQ8) {
    const int64_t blocks = n / ActBlockQ8::kElems;
    x_q8.resize(static_cast<size_t>(blocks * n_tokens));
    for (int64_t t = 0; t < n_tokens; ++t) QuantizeActivationsQ8(x + t * ldx, &x_q8[t * blocks], n);
    xa = x_q8.data();
    x_stride_bytes = blocks * static_cast<int64_t>(sizeof(ActBlockQ8));
  }
  // Several tokens: blocks of rows small enough to stay in L2 while every token of the batch
  // passes over them. One token: longer runs for the DRAM stream (up to 1 MiB), but at least ~8
  // per thread so the threads finish together.
  const int64_t row_size = static_cast<int64_t>(std::max<uint64_t>(1, row_bytes));
  const int64_t run_bytes =
      std::clamp<int64_t>(row_size * n_rows / (8 * pool.size()), 64 << 10, 1 << 20);
  const int64_t block = n_tokens > 1 ? std::clamp<int64_t>((64 << 10) / row_size, 4, 256)
                                     : std::max<int64_t>(4, run_bytes / row_size);
  const int64_t n_blocks = (n_rows + block - 1) / block;
  const GemmTileFn gemm = n_tokens > 1 ? k.gemm_tile[static_cast<size_t>(w.dtype)] : nullptr;
  pool.ParallelFor(n_blocks, 1, [&](int64_t b0, int64_t b1, int) {
    for (int64_t b = b0; b < b1; ++b) {
      const int64_t r0 = b * block;
      const int64_t rows = std::min(block, n_rows - r0);
      const uint8_t* wb = w.data + static_cast<uint64_t>(r0) * row_bytes;
      if (gemm != nullptr) {
        gemm(wb, row_bytes, rows, xa, x_stride_bytes, n_tokens, n, y + r0, ldy);
        continue;
      }
      for (int64_t t = 0; t < n_tokens; ++t) {
        dot(wb, row_bytes, rows, static_cast<const uint8_t*>(xa) + t * x_stride_bytes, n,
            y + t * ldy + r0);
      }
    }
  });
}

void RmsNorm(const float* x, const float* gain, float eps, int64_t n, float* y) {
  double ss = 0;  // f64 sum: the norm must not depend on summation order at the 1e-6 level
  for (int64_t i = 0; i < n; ++i) ss += static_cast<double>(x[i]) * x[i];
  const float scale = 1.f / std::sqrt(static_cast<float>(ss / static_cast<double>(n)) + eps);
  for (int64_t i = 0; i < n; ++i) y[i] = x[i] * scale * gain[i];
}

void RmsNormNoGain(const float* x, float eps, int64_t n, float* y) {
  double ss = 0;
  for (int64_t i = 0; i < n; ++i) ss += static_cast<double>(x[i]) * x[i];
  const float scale = 1.f / std::sqrt(static_cast<float>(ss / static_cast<double>(n)) + eps);
  for (int64_t i = 0; i < n; ++i) y[i] = x[i] * scale;
}

float GeluTanh(float x) {
  constexpr float kSqrt2OverPi = 0.7978845608028654f;
  return 0.5f * x * (1.f + std::tanh(kSqrt2OverPi * (x + 0.044715f * x * x * x)));
}

void GeluTanhMul(const float* gate, const float* up, int64_t n, float* out) {
  for (int64_t i = 0; i < n; ++i) out[i] = GeluTanh(gate[i]) * up[i];
}

void SoftCap(float* x, int64_t n, float cap) {
  const float inv = 1.f / cap;
  for (int64_t i = 0; i < n; ++i) x[i] = cap * std::tanh(x[i] * inv);
}

void Softmax(float* x, int64_t n) {
  float mx = -INFINITY;
  for (int64_t i = 0; i < n; ++i) mx = std::max(mx, x[i]);
  float sum = 0;
  for (int64_t i = 0; i < n; ++i) {
    x[i] = std::exp(x[i] - mx);
    sum += x[i];
  }
  const float inv = 1.f / sum;
  for (int64_t i = 0; i < n; ++i) x[i] *= inv;
}

void RopeInverseFrequencies(float base, float divisor, int64_t head_dim, float* inv_freq) {
  for (int64_t i = 0; i < head_dim / 2; ++i) {
    const double f = std::pow(static_cast<double>(base),
                              -2.0 * static_cast<double>(i) / static_cast<double>(head_dim));
    inv_freq[i] = static_cast<float>(f / static_cast<double>(divisor));
  }
}

void ApplyRope(float* x, int64_t head_dim, float position, const float* inv_freq) {
  const int64_t half = head_dim / 2;
  for (int64_t i = 0; i < half; ++i) {
    // The angle is an f32 product as in the references; cos/sin of it are taken exactly.
    const float angle = position * inv_freq[i];
    const float c = static_cast<float>(std::cos(static_cast<double>(angle)));
    const float s = static_cast<float>(std::sin(static_cast<double>(angle)));
    const float a = x[i], b = x[i + half];
    x[i] = a * c - b * s;
    x[i + half] = b * c + a * s;
  }
}

}  // namespace gemma
