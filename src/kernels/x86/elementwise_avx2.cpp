// AVX2 + FMA element-wise ops: GELU(tanh) x up, softcap and softmax, 8 lanes at a time with the
// polynomial exp/tanh of kernels/elementwise_poly.h instead of libm's expm1f/tanhf/expf (13 % of
// a prefill in libm before). Tails go through the same vector code on a zero-padded copy, so an
// element's result does not depend on n or its position.
#include <algorithm>
#include <cmath>
#include <cstring>

#include "kernels/elementwise_poly.h"
#include "kernels/x86/avx2_common.h"
#include "kernels/x86/avx2_kernels.h"

namespace gemma {
namespace {

using namespace elementwise;

// e^x per lane (see elementwise_poly.h for the range handling).
inline __m256 Exp(__m256 x) {
  // vminps/vmaxps return their second operand when either is NaN: x second keeps NaN.
  x = _mm256_max_ps(_mm256_set1_ps(kExpLo), _mm256_min_ps(_mm256_set1_ps(kExpHi), x));
  const __m256 n = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(kLog2e)),
                                   _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(kLn2Hi), x);
  r = _mm256_fnmadd_ps(n, _mm256_set1_ps(kLn2Lo), r);
  // 2 e^r: the Cephes polynomial with every coefficient doubled (exact), so 2^(n-1) can scale it.
  __m256 p = _mm256_set1_ps(2 * kExp0);
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(2 * kExp1));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(2 * kExp2));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(2 * kExp3));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(2 * kExp4));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(2 * kExp5));
  p = _mm256_fmadd_ps(p, _mm256_mul_ps(r, r), _mm256_add_ps(r, r));
  p = _mm256_add_ps(p, _mm256_set1_ps(2.f));
  // NaN lanes convert to INT_MIN: any scale, NaN * scale stays NaN.
  const __m256i bits =
      _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvttps_epi32(n), _mm256_set1_epi32(126)), 23);
  return _mm256_mul_ps(p, _mm256_castsi256_ps(bits));
}

inline __m256 Tanh(__m256 y) {
  const __m256 sign_mask = _mm256_set1_ps(-0.f);
  const __m256 a = _mm256_andnot_ps(sign_mask, y);
  const __m256 one = _mm256_set1_ps(1.f);
  const __m256 e = Exp(_mm256_add_ps(a, a));
  __m256 big = _mm256_sub_ps(one, _mm256_div_ps(_mm256_set1_ps(2.f), _mm256_add_ps(e, one)));
  big = _mm256_or_ps(big, _mm256_and_ps(y, sign_mask));
  const __m256 z = _mm256_mul_ps(y, y);
  __m256 p = _mm256_set1_ps(kTanh0);
  p = _mm256_fmadd_ps(p, z, _mm256_set1_ps(kTanh1));
  p = _mm256_fmadd_ps(p, z, _mm256_set1_ps(kTanh2));
  p = _mm256_fmadd_ps(p, z, _mm256_set1_ps(kTanh3));
  p = _mm256_fmadd_ps(p, z, _mm256_set1_ps(kTanh4));
  const __m256 small = _mm256_fmadd_ps(_mm256_mul_ps(p, z), y, y);
  // Ordered compare: NaN is not small and takes the exp branch, which returns NaN.
  const __m256 is_small = _mm256_cmp_ps(a, _mm256_set1_ps(kTanhSmall), _CMP_LT_OQ);
  return _mm256_blendv_ps(big, small, is_small);
}

// gelu_tanh(g) = 0.5 g (1 + tanh(u)) = g / (1 + e^{-2u}), u = sqrt(2/pi) (g + 0.044715 g^3).
// The logistic form is the same function without the cancellation of 1 + tanh(u) for negative
// g, and needs one exp and one division. Huge negative g: e^{-2u} = +inf and g / inf = -0, as
// the tanh form's g * 0; g = -inf gives NaN in both.
inline __m256 GeluTanhMul8(__m256 g, __m256 up) {
  const __m256 g2c = _mm256_mul_ps(_mm256_mul_ps(_mm256_set1_ps(kGeluCubic), g), g);
  const __m256 u = _mm256_mul_ps(_mm256_set1_ps(kSqrt2OverPi), _mm256_fmadd_ps(g2c, g, g));
  const __m256 e = Exp(_mm256_mul_ps(u, _mm256_set1_ps(-2.f)));
  const __m256 gelu = _mm256_div_ps(g, _mm256_add_ps(e, _mm256_set1_ps(1.f)));
  return _mm256_mul_ps(gelu, up);
}

void GeluTanhMulAvx2(const float* gate, const float* up, int64_t n, float* out) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    _mm256_storeu_ps(out + i, GeluTanhMul8(_mm256_loadu_ps(gate + i), _mm256_loadu_ps(up + i)));
  }
  if (i < n) {
    const size_t rest = static_cast<size_t>(n - i) * sizeof(float);
    float g[8] = {}, u[8] = {}, o[8];
    std::memcpy(g, gate + i, rest);
    std::memcpy(u, up + i, rest);
    _mm256_storeu_ps(o, GeluTanhMul8(_mm256_loadu_ps(g), _mm256_loadu_ps(u)));
    std::memcpy(out + i, o, rest);
  }
}

void SoftCapAvx2(float* x, int64_t n, float cap) {
  // x * (1 / cap) as the scalar version does, not x / cap.
  const __m256 inv = _mm256_set1_ps(1.f / cap), vcap = _mm256_set1_ps(cap);
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256 y = _mm256_mul_ps(_mm256_loadu_ps(x + i), inv);
    _mm256_storeu_ps(x + i, _mm256_mul_ps(vcap, Tanh(y)));
  }
  if (i < n) {
    const size_t rest = static_cast<size_t>(n - i) * sizeof(float);
    float b[8] = {};
    std::memcpy(b, x + i, rest);
    const __m256 y = _mm256_mul_ps(_mm256_loadu_ps(b), inv);
    _mm256_storeu_ps(b, _mm256_mul_ps(vcap, Tanh(y)));
    std::memcpy(x + i, b, rest);
  }
}

void SoftmaxAvx2(float* x, int64_t n) {
  // Max ignoring NaN like the scalar std::max loop: vmaxps returns the accumulator (second
  // operand) when the element is NaN. A NaN still turns the row into NaN through exp and sum.
  __m256 vmax = _mm256_set1_ps(-INFINITY);
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) vmax = _mm256_max_ps(_mm256_loadu_ps(x + i), vmax);
  __m128 m4 = _mm_max_ps(_mm256_castps256_ps128(vmax), _mm256_extractf128_ps(vmax, 1));
  m4 = _mm_max_ps(m4, _mm_movehl_ps(m4, m4));
  m4 = _mm_max_ss(m4, _mm_movehdup_ps(m4));
  float mx = _mm_cvtss_f32(m4);
  for (; i < n; ++i) mx = std::max(mx, x[i]);

  const __m256 vmx = _mm256_set1_ps(mx);
  __m256 vsum = _mm256_setzero_ps();
  for (i = 0; i + 8 <= n; i += 8) {
    const __m256 e = Exp(_mm256_sub_ps(_mm256_loadu_ps(x + i), vmx));
    _mm256_storeu_ps(x + i, e);
    vsum = _mm256_add_ps(vsum, e);
  }
  float sum = avx2::HorizontalSum(vsum);
  if (i < n) {
    const int64_t rest = n - i;
    float b[8] = {};
    std::memcpy(b, x + i, static_cast<size_t>(rest) * sizeof(float));
    _mm256_storeu_ps(b, Exp(_mm256_sub_ps(_mm256_loadu_ps(b), vmx)));
    for (int64_t j = 0; j < rest; ++j) sum += b[j];  // the padding lanes are not summed
    std::memcpy(x + i, b, static_cast<size_t>(rest) * sizeof(float));
  }

  const float inv = 1.f / sum;
  const __m256 vinv = _mm256_set1_ps(inv);
  for (i = 0; i + 8 <= n; i += 8) {
    _mm256_storeu_ps(x + i, _mm256_mul_ps(_mm256_loadu_ps(x + i), vinv));
  }
  for (; i < n; ++i) x[i] *= inv;
}

// F16C's vcvtps2ph rounds to nearest even as F32ToF16 does; a NaN keeps its payload there, so
// NaN lanes are set to F32ToF16's 0x7e00 with the sign.
void F16FromF32Avx2(const float* x, int64_t n, uint16_t* out) {
  const __m256 abs_mask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff));
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256 v = _mm256_loadu_ps(x + i);
    __m128i h = _mm256_cvtps_ph(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    const __m256 nan =
        _mm256_cmp_ps(_mm256_and_ps(v, abs_mask), _mm256_and_ps(v, abs_mask), _CMP_UNORD_Q);
    if (!_mm256_testz_ps(nan, nan)) {
      const __m128i nan16 = _mm_packs_epi32(_mm256_castsi256_si128(_mm256_castps_si256(nan)),
                                            _mm256_extractf128_si256(_mm256_castps_si256(nan), 1));
      const __m128i canonical = _mm_or_si128(
          _mm_and_si128(h, _mm_set1_epi16(static_cast<short>(0x8000))), _mm_set1_epi16(0x7e00));
      h = _mm_blendv_epi8(h, canonical, nan16);
    }
    _mm_storeu_si128(reinterpret_cast<__m128i*>(out + i), h);
  }
  for (; i < n; ++i) out[i] = F32ToF16(x[i]);
}

// F32ToBF16 on 8 lanes, in integers (vcvtneps2bf16 would flush subnormals): the rounded value's
// high half, or a NaN's high half with its quiet bit set.
inline __m256i Bf16InHighHalves(__m256i bits) {
  const __m256i lsb = _mm256_and_si256(_mm256_srli_epi32(bits, 16), _mm256_set1_epi32(1));
  const __m256i rounded = _mm256_add_epi32(bits, _mm256_add_epi32(lsb, _mm256_set1_epi32(0x7fff)));
  const __m256i nan = _mm256_cmpgt_epi32(_mm256_and_si256(bits, _mm256_set1_epi32(0x7fffffff)),
                                         _mm256_set1_epi32(0x7f800000));
  const __m256i quiet = _mm256_or_si256(bits, _mm256_set1_epi32(0x400000));
  return _mm256_srli_epi32(_mm256_blendv_epi8(rounded, quiet, nan), 16);
}

void Bf16PairsFromF32Avx2(const float* x, int64_t n_pairs, uint32_t* out) {
  const int64_t n = 2 * n_pairs;
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const __m256i a = Bf16InHighHalves(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(x + i)));
    const __m256i b =
        Bf16InHighHalves(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(x + i + 8)));
    // packus works per 128-bit lane: a0 b0 a1 b1 -> a0 a1 b0 b1.
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + i / 2),
                        _mm256_permute4x64_epi64(_mm256_packus_epi32(a, b), 0xD8));
  }
  for (; i < n; i += 2) {
    out[i / 2] = static_cast<uint32_t>(F32ToBF16(x[i])) | static_cast<uint32_t>(F32ToBF16(x[i + 1]))
                                                              << 16;
  }
}

}  // namespace

void FillAvx2ElementwiseKernels(KernelTable* table) {
  table->gelu_tanh_mul = &GeluTanhMulAvx2;
  table->soft_cap = &SoftCapAvx2;
  table->softmax = &SoftmaxAvx2;
  table->f16_from_f32 = &F16FromF32Avx2;
  table->bf16_pairs_from_f32 = &Bf16PairsFromF32Avx2;
}

}  // namespace gemma
