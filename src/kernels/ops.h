// The operations the forward pass is made of. MatMul dispatches through the kernel table and
// splits rows across the thread pool; the other ops are portable C++. GeluTanhMul, SoftCap and
// Softmax (libm tanh/exp) are the scalar table's gelu_tanh_mul/soft_cap/softmax slots and the
// oracle for their SIMD versions: code holding a KernelTable calls the slot (the libm calls were
// 13 % of a prefill), these only where no table is at hand.
#pragma once

#include <cstdint>
#include <span>

#include "core/tensor.h"
#include "kernels/kernels.h"
#include "kernels/thread_pool.h"

namespace gemma {

// Y[t][r] = sum_i W[r][i] * X[t][i] for t < n_tokens, r < W.rows. X rows are ldx floats apart,
// Y rows ldy floats apart.
void MatMul(const KernelTable& k, ThreadPool& pool, const TensorView& w, const float* x,
            int64_t n_tokens, int64_t ldx, float* y, int64_t ldy);

// Several products of the same activations (q/k/v, gate/up): MatMul for each target, except that
// they share one quantization (or rounding) of x and one pass over the thread pool: one token's
// when their rows have one length (a barrier per product was ~5 % of a decode step), a prefill's
// when they also have one type (one packed product over all their panels: 2-3 % of Q4_0 prefill).
struct MatMulTarget {
  const TensorView* w;
  float* y;
  int64_t ldy;
};
void MatMulSameInput(const KernelTable& k, ThreadPool& pool, std::span<const MatMulTarget> targets,
                     const float* x, int64_t n_tokens, int64_t ldx);

// mean(x^2), summed in f64 (the norms must not depend on summation order at the 1e-6 level) in
// eight fixed lanes: the same order on every CPU, and no serial add chain (one was 3 % of
// prefill).
double MeanSquare(const float* x, int64_t n);
// y = x * (mean(x^2) + eps)^-1/2 * gain, in f32 (gemma-models.md §2.1). In place allowed.
void RmsNorm(const float* x, const float* gain, float eps, int64_t n, float* y);
// The same without a gain (Gemma 3n/4 V-norm).
void RmsNormNoGain(const float* x, float eps, int64_t n, float* y);

// gelu_tanh(gate[i]) * up[i] -> out[i] (tanh approximation, exact f32; not a lookup table).
void GeluTanhMul(const float* gate, const float* up, int64_t n, float* out);
float GeluTanh(float x);

// x = cap * tanh(x / cap)
void SoftCap(float* x, int64_t n, float cap);

// In-place softmax over n values (max-subtracted, f32).
void Softmax(float* x, int64_t n);

// Split-half ("NeoX") rotary embedding of one head vector of length head_dim, pairing
// (x[i], x[i + head_dim/2]), with angle position * inv_freq[i] (gemma-models.md §2.1).
void ApplyRope(float* x, int64_t head_dim, float position, const float* inv_freq);
// The same in two steps, so that the heads of one position share the cos/sin: the rotation
// (cos_sin[i] = cos, cos_sin[head_dim/2 + i] = sin of position * inv_freq[i]), then applying it.
void RopeRotation(float position, const float* inv_freq, int64_t head_dim, float* cos_sin);
void ApplyRopeRotation(float* x, int64_t head_dim, const float* cos_sin);

// inv_freq[i] = base^(-2i/head_dim) / divisor, i < head_dim/2.
void RopeInverseFrequencies(float base, float divisor, int64_t head_dim, float* inv_freq);

}  // namespace gemma
