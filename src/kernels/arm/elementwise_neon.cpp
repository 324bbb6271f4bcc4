// NEON element-wise ops: GELU(tanh) x up, softcap and softmax, 4 lanes at a time with the
// polynomial exp/tanh of kernels/elementwise_poly.h (the same function as the AVX2 file).
// Tails go through the same vector code on a zero-padded copy, so an element's result does not
// depend on n or its position. Tested against the scalar table under qemu (tools/neon-test.sh).
#include <arm_neon.h>

#include <algorithm>
#include <cmath>
#include <cstring>

#include "kernels/elementwise_poly.h"
#include "kernels/kernels.h"

namespace gemma {
namespace {

using namespace elementwise;

// e^x per lane (see elementwise_poly.h for the range handling).
inline float32x4_t Exp(float32x4_t x) {
  // AArch64 FMIN/FMAX return NaN when either operand is NaN: the clamp keeps NaN.
  x = vmaxq_f32(vminq_f32(x, vdupq_n_f32(kExpHi)), vdupq_n_f32(kExpLo));
  const float32x4_t n = vrndnq_f32(vmulq_f32(x, vdupq_n_f32(kLog2e)));
  float32x4_t r = vfmsq_f32(x, n, vdupq_n_f32(kLn2Hi));  // x - n * kLn2Hi
  r = vfmsq_f32(r, n, vdupq_n_f32(kLn2Lo));
  // 2 e^r: the Cephes polynomial with every coefficient doubled (exact), so 2^(n-1) can scale it.
  float32x4_t p = vdupq_n_f32(2 * kExp0);
  p = vfmaq_f32(vdupq_n_f32(2 * kExp1), p, r);
  p = vfmaq_f32(vdupq_n_f32(2 * kExp2), p, r);
  p = vfmaq_f32(vdupq_n_f32(2 * kExp3), p, r);
  p = vfmaq_f32(vdupq_n_f32(2 * kExp4), p, r);
  p = vfmaq_f32(vdupq_n_f32(2 * kExp5), p, r);
  p = vfmaq_f32(vaddq_f32(r, r), p, vmulq_f32(r, r));
  p = vaddq_f32(p, vdupq_n_f32(2.f));
  // NaN lanes convert to 0: the scale is 0.5, NaN * 0.5 stays NaN.
  const int32x4_t bits = vshlq_n_s32(vaddq_s32(vcvtq_s32_f32(n), vdupq_n_s32(126)), 23);
  return vmulq_f32(p, vreinterpretq_f32_s32(bits));
}

inline float32x4_t Tanh(float32x4_t y) {
  const float32x4_t a = vabsq_f32(y);
  const float32x4_t one = vdupq_n_f32(1.f);
  const float32x4_t e = Exp(vaddq_f32(a, a));
  float32x4_t big = vsubq_f32(one, vdivq_f32(vdupq_n_f32(2.f), vaddq_f32(e, one)));
  const uint32x4_t sign_mask = vdupq_n_u32(0x80000000u);
  big = vreinterpretq_f32_u32(
      vorrq_u32(vreinterpretq_u32_f32(big), vandq_u32(vreinterpretq_u32_f32(y), sign_mask)));
  const float32x4_t z = vmulq_f32(y, y);
  float32x4_t p = vdupq_n_f32(kTanh0);
  p = vfmaq_f32(vdupq_n_f32(kTanh1), p, z);
  p = vfmaq_f32(vdupq_n_f32(kTanh2), p, z);
  p = vfmaq_f32(vdupq_n_f32(kTanh3), p, z);
  p = vfmaq_f32(vdupq_n_f32(kTanh4), p, z);
  const float32x4_t small = vfmaq_f32(y, vmulq_f32(p, z), y);
  // NaN compares false: it takes the exp branch, which returns NaN.
  const uint32x4_t is_small = vcltq_f32(a, vdupq_n_f32(kTanhSmall));
  return vbslq_f32(is_small, small, big);
}

// gelu_tanh(g) = 0.5 g (1 + tanh(u)) = g / (1 + e^{-2u}), u = sqrt(2/pi) (g + 0.044715 g^3):
// the logistic form avoids the cancellation of 1 + tanh(u) for negative g (see the AVX2 file).
inline float32x4_t GeluTanhMul4(float32x4_t g, float32x4_t up) {
  const float32x4_t g2c = vmulq_f32(vmulq_f32(vdupq_n_f32(kGeluCubic), g), g);
  const float32x4_t u = vmulq_f32(vdupq_n_f32(kSqrt2OverPi), vfmaq_f32(g, g2c, g));
  const float32x4_t e = Exp(vmulq_f32(u, vdupq_n_f32(-2.f)));
  const float32x4_t gelu = vdivq_f32(g, vaddq_f32(e, vdupq_n_f32(1.f)));
  return vmulq_f32(gelu, up);
}

void GeluTanhMulNeon(const float* gate, const float* up, int64_t n, float* out) {
  int64_t i = 0;
  for (; i + 4 <= n; i += 4)
    vst1q_f32(out + i, GeluTanhMul4(vld1q_f32(gate + i), vld1q_f32(up + i)));
  if (i < n) {
    const size_t rest = static_cast<size_t>(n - i) * sizeof(float);
    float g[4] = {}, u[4] = {}, o[4];
    std::memcpy(g, gate + i, rest);
    std::memcpy(u, up + i, rest);
    vst1q_f32(o, GeluTanhMul4(vld1q_f32(g), vld1q_f32(u)));
    std::memcpy(out + i, o, rest);
  }
}

void SoftCapNeon(float* x, int64_t n, float cap) {
  // x * (1 / cap) as the scalar version does, not x / cap.
  const float32x4_t inv = vdupq_n_f32(1.f / cap), vcap = vdupq_n_f32(cap);
  int64_t i = 0;
  for (; i + 4 <= n; i += 4)
    vst1q_f32(x + i, vmulq_f32(vcap, Tanh(vmulq_f32(vld1q_f32(x + i), inv))));
  if (i < n) {
    const size_t rest = static_cast<size_t>(n - i) * sizeof(float);
    float b[4] = {};
    std::memcpy(b, x + i, rest);
    vst1q_f32(b, vmulq_f32(vcap, Tanh(vmulq_f32(vld1q_f32(b), inv))));
    std::memcpy(x + i, b, rest);
  }
}

void SoftmaxNeon(float* x, int64_t n) {
  // FMAXNM returns the number when the other operand is NaN: the max ignores NaN like the
  // scalar std::max loop. A NaN still turns the row into NaN through exp and sum.
  float32x4_t vmax = vdupq_n_f32(-INFINITY);
  int64_t i = 0;
  for (; i + 4 <= n; i += 4) vmax = vmaxnmq_f32(vmax, vld1q_f32(x + i));
  float mx = vmaxnmvq_f32(vmax);
  for (; i < n; ++i) mx = std::max(mx, x[i]);

  const float32x4_t vmx = vdupq_n_f32(mx);
  float32x4_t vsum = vdupq_n_f32(0.f);
  for (i = 0; i + 4 <= n; i += 4) {
    const float32x4_t e = Exp(vsubq_f32(vld1q_f32(x + i), vmx));
    vst1q_f32(x + i, e);
    vsum = vaddq_f32(vsum, e);
  }
  float sum = vaddvq_f32(vsum);
  if (i < n) {
    const int64_t rest = n - i;
    float b[4] = {};
    std::memcpy(b, x + i, static_cast<size_t>(rest) * sizeof(float));
    vst1q_f32(b, Exp(vsubq_f32(vld1q_f32(b), vmx)));
    for (int64_t j = 0; j < rest; ++j) sum += b[j];  // the padding lanes are not summed
    std::memcpy(x + i, b, static_cast<size_t>(rest) * sizeof(float));
  }

  const float inv = 1.f / sum;
  const float32x4_t vinv = vdupq_n_f32(inv);
  for (i = 0; i + 4 <= n; i += 4) vst1q_f32(x + i, vmulq_f32(vld1q_f32(x + i), vinv));
  for (; i < n; ++i) x[i] *= inv;
}

}  // namespace

void FillNeonElementwiseKernels(KernelTable* table) {
  table->gelu_tanh_mul = &GeluTanhMulNeon;
  table->soft_cap = &SoftCapNeon;
  table->softmax = &SoftmaxNeon;
}

}  // namespace gemma
