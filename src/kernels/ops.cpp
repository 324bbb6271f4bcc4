#include "kernels/ops.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <vector>

#include "kernels/matmul_packed.h"

namespace gemma {

namespace {

bool WantsInt8(const KernelTable& k, DType dtype) {
  return k.activation[static_cast<size_t>(dtype)] == ActivationType::kQ8;
}

// x's n_tokens rows of n floats (ldx apart) quantized to int8 blocks, into q8.
const ActBlockQ8* QuantizeRows(const KernelTable& k, const float* x, int64_t n_tokens, int64_t ldx,
                               int64_t n, std::vector<ActBlockQ8>* q8) {
  const int64_t blocks = n / ActBlockQ8::kElems;
  q8->resize(static_cast<size_t>(blocks * n_tokens));
  for (int64_t t = 0; t < n_tokens; ++t) {
    k.quantize_activations(x + t * ldx, q8->data() + t * blocks, n, nullptr);
  }
  return q8->data();
}

// The activations a weight type's kernels want: the f32 rows as given, or their int8 blocks q8
// (rows of n elements).
struct KernelActivations {
  const void* data;
  int64_t stride_bytes;
};
KernelActivations ActivationsFor(const KernelTable& k, DType dtype, const float* x, int64_t ldx,
                                 const ActBlockQ8* q8, int64_t n) {
  if (!WantsInt8(k, dtype)) return {x, ldx * static_cast<int64_t>(sizeof(float))};
  return {q8, n / ActBlockQ8::kElems * static_cast<int64_t>(sizeof(ActBlockQ8))};
}

// One token against every target's rows (all of x's length) in one pass over the pool: the
// rows stream from DRAM in runs of up to 1 MiB, but at least ~8 runs per thread over all targets
// so the threads finish together. x is quantized once if any target wants int8.
constexpr size_t kMaxDecodeTargets = 4;

void DecodeMatMul(const KernelTable& k, ThreadPool& pool, std::span<const MatMulTarget> targets,
                  const float* x) {
  if (targets.empty()) return;
  if (targets.size() > kMaxDecodeTargets) {
    DecodeMatMul(k, pool, targets.first(kMaxDecodeTargets), x);
    return DecodeMatMul(k, pool, targets.subspan(kMaxDecodeTargets), x);
  }
  struct Plan {
    DotRowsFn dot;
    KernelActivations xa;
    int64_t rows_per_run;
    int64_t first_run;
  };
  const int64_t n = targets.front().w->row_elems();
  thread_local std::vector<ActBlockQ8> x_q8;
  const bool any_int8 = std::any_of(targets.begin(), targets.end(), [&](const MatMulTarget& t) {
    return WantsInt8(k, t.w->dtype);
  });
  const ActBlockQ8* q8 = any_int8 ? QuantizeRows(k, x, 1, n, n, &x_q8) : nullptr;
  uint64_t total_bytes = 0;
  for (const MatMulTarget& t : targets) total_bytes += t.w->row_bytes() * t.w->n_rows();
  // Runs of at least 256 KiB: each starts a new stream whose first kernel-prefetch distance
  // (8 KiB on AVX-512) waits on DRAM, a tenth of a 64 KiB run; two runs per thread still even
  // out the threads. (Zen 5, ~75 GB/s probe: Q4_0 tg64 82 -> 89 t/s against 64 KiB runs.)
  const int64_t run_bytes = std::clamp<int64_t>(
      static_cast<int64_t>(total_bytes) / (2 * pool.size()), 256 << 10, 1 << 20);
  std::array<Plan, kMaxDecodeTargets> plans;
  int64_t n_runs = 0;
  for (size_t i = 0; i < targets.size(); ++i) {
    const TensorView& w = *targets[i].w;
    const int64_t row_size = static_cast<int64_t>(std::max<uint64_t>(1, w.row_bytes()));
    const int64_t rows_per_run = std::max<int64_t>(4, run_bytes / row_size);
    plans[i] = {k.dot_rows[static_cast<size_t>(w.dtype)], ActivationsFor(k, w.dtype, x, n, q8, n),
                rows_per_run, n_runs};
    n_runs += (w.n_rows() + rows_per_run - 1) / rows_per_run;
  }
  pool.ParallelFor(n_runs, 1, [&](int64_t b0, int64_t b1, int) {
    for (int64_t b = b0; b < b1; ++b) {
      size_t i = 0;
      while (i + 1 < targets.size() && plans[i + 1].first_run <= b) ++i;
      const Plan& p = plans[i];
      const TensorView& w = *targets[i].w;
      const int64_t r0 = (b - p.first_run) * p.rows_per_run;
      const int64_t rows = std::min(p.rows_per_run, w.n_rows() - r0);
      p.dot(w.data + static_cast<uint64_t>(r0) * w.row_bytes(), w.row_bytes(), rows, p.xa.data, n,
            targets[i].y + r0);
    }
  });
}

// Prefill on packed panels, for targets of one weight type and row length; false when no packed
// path takes the type (then the caller runs the per-type tiles).
bool Packed(const KernelTable& k, ThreadPool& pool, std::span<const MatMulTarget> targets,
            const float* x, int64_t n_tokens, int64_t ldx) {
  const TensorView& w = *targets.front().w;
  if (Int8PanelTakes(k, w.dtype)) {
    PackedMatMulInt8(k, pool, targets, x, n_tokens, ldx);
  } else if (PackedMatMulBf16Takes(k, w)) {
    PackedMatMulBf16(k, pool, targets, x, n_tokens, ldx);
  } else if (k.panel_gemm != nullptr) {
    PackedMatMul(k, pool, targets, x, n_tokens, ldx);
  } else {
    return false;
  }
  return true;
}

}  // namespace

void MatMul(const KernelTable& k, ThreadPool& pool, const TensorView& w, const float* x,
            int64_t n_tokens, int64_t ldx, float* y, int64_t ldy) {
  const MatMulTarget target{&w, y, ldy};
  if (n_tokens == 1) return DecodeMatMul(k, pool, {&target, 1}, x);
  if (n_tokens >= kPackedMinTokens && Packed(k, pool, {&target, 1}, x, n_tokens, ldx)) return;
  // A few tokens: the type's prefill tile over blocks of rows small enough to stay in L2 while
  // every token passes over them.
  const int64_t n_rows = w.n_rows();
  const int64_t n = w.row_elems();
  const uint64_t row_bytes = w.row_bytes();
  thread_local std::vector<ActBlockQ8> x_q8;
  const ActBlockQ8* q8 =
      WantsInt8(k, w.dtype) ? QuantizeRows(k, x, n_tokens, ldx, n, &x_q8) : nullptr;
  const KernelActivations xa = ActivationsFor(k, w.dtype, x, ldx, q8, n);
  const int64_t row_size = static_cast<int64_t>(std::max<uint64_t>(1, row_bytes));
  const int64_t block = std::clamp<int64_t>((64 << 10) / row_size, 4, 256);
  const int64_t n_blocks = (n_rows + block - 1) / block;
  const GemmTileFn gemm = k.gemm_tile[static_cast<size_t>(w.dtype)];
  const DotRowsFn dot = k.dot_rows[static_cast<size_t>(w.dtype)];
  pool.ParallelFor(n_blocks, 1, [&](int64_t b0, int64_t b1, int) {
    for (int64_t b = b0; b < b1; ++b) {
      const int64_t r0 = b * block;
      const int64_t rows = std::min(block, n_rows - r0);
      const uint8_t* wb = w.data + static_cast<uint64_t>(r0) * row_bytes;
      if (gemm != nullptr) {
        gemm(wb, row_bytes, rows, xa.data, xa.stride_bytes, n_tokens, n, y + r0, ldy);
        continue;
      }
      for (int64_t t = 0; t < n_tokens; ++t) {
        dot(wb, row_bytes, rows, static_cast<const uint8_t*>(xa.data) + t * xa.stride_bytes, n,
            y + t * ldy + r0);
      }
    }
  });
}

void MatMulSameInput(const KernelTable& k, ThreadPool& pool, std::span<const MatMulTarget> targets,
                     const float* x, int64_t n_tokens, int64_t ldx) {
  // One quantization of x serves every target only if their rows all have x's length.
  const bool same_length = std::all_of(targets.begin(), targets.end(), [&](const MatMulTarget& t) {
    return t.w->row_elems() == targets.front().w->row_elems();
  });
  if (n_tokens == 1 && same_length) return DecodeMatMul(k, pool, targets, x);
  // Prefill: one packed product prepares x once (quantized, rounded or copied) for all targets
  // and passes over the pool once.
  const bool same_type = std::all_of(targets.begin(), targets.end(), [&](const MatMulTarget& t) {
    return t.w->dtype == targets.front().w->dtype;
  });
  if (n_tokens >= kPackedMinTokens && same_length && same_type &&
      targets.size() <= kMaxPackedTargets && Packed(k, pool, targets, x, n_tokens, ldx)) {
    return;
  }
  for (const MatMulTarget& t : targets) MatMul(k, pool, *t.w, x, n_tokens, ldx, t.y, t.ldy);
}

// The eight lanes map onto two AVX2 registers of doubles; the engine's generic code is built for
// plain x86-64 (two lanes), so an AVX2 clone is picked at load time where the CPU has it. Explicit
// multiply and add (no FMA in the clone's target) keep every clone's sum bit-identical. Not in
// sanitizer builds, whose runtime would not yet be up when the loader runs the clone resolver.
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__SANITIZE_ADDRESS__)
__attribute__((target_clones("avx2", "default")))
#endif
double
MeanSquare(const float* x, int64_t n) {
  constexpr int kLanes = 8;
  double lanes[kLanes] = {};
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes) {
    for (int j = 0; j < kLanes; ++j) lanes[j] += static_cast<double>(x[i + j]) * x[i + j];
  }
  for (; i < n; ++i) lanes[0] += static_cast<double>(x[i]) * x[i];
  const double ss = ((lanes[0] + lanes[1]) + (lanes[2] + lanes[3])) +
                    ((lanes[4] + lanes[5]) + (lanes[6] + lanes[7]));
  return ss / static_cast<double>(n);
}

namespace {

float InverseRms(const float* x, float eps, int64_t n) {
  return 1.f / std::sqrt(static_cast<float>(MeanSquare(x, n)) + eps);
}

}  // namespace

void RmsNorm(const float* x, const float* gain, float eps, int64_t n, float* y) {
  const float scale = InverseRms(x, eps, n);
  for (int64_t i = 0; i < n; ++i) y[i] = x[i] * scale * gain[i];
}

void RmsNormNoGain(const float* x, float eps, int64_t n, float* y) {
  const float scale = InverseRms(x, eps, n);
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

void RopeRotation(float position, const float* inv_freq, int64_t head_dim, float* cos_sin) {
  const int64_t half = head_dim / 2;
  for (int64_t i = 0; i < half; ++i) {
    // The angle is an f32 product as in the references; cos/sin of it are taken exactly.
    const float angle = position * inv_freq[i];
    cos_sin[i] = static_cast<float>(std::cos(static_cast<double>(angle)));
    cos_sin[half + i] = static_cast<float>(std::sin(static_cast<double>(angle)));
  }
}

void ApplyRopeRotation(float* x, int64_t head_dim, const float* cos_sin) {
  const int64_t half = head_dim / 2;
  for (int64_t i = 0; i < half; ++i) {
    const float c = cos_sin[i], s = cos_sin[half + i];
    const float a = x[i], b = x[i + half];
    x[i] = a * c - b * s;
    x[i + half] = b * c + a * s;
  }
}

void ApplyRope(float* x, int64_t head_dim, float position, const float* inv_freq) {
  std::vector<float> cos_sin(static_cast<size_t>(head_dim));
  RopeRotation(position, inv_freq, head_dim, cos_sin.data());
  ApplyRopeRotation(x, head_dim, cos_sin.data());
}

}  // namespace gemma
