// AVX-512 GELU(tanh) x up (GeluTanhMulFn): elementwise_avx2.cpp's logistic form and polynomial
// exp (elementwise_poly.h) sixteen lanes at a time; it was 2-3 % of prefill on eight. Tails go
// through the same vector code on a zero-padded copy, so an element's result does not depend on
// n or its position.
#include <cstring>

#include "kernels/elementwise_poly.h"
#include "kernels/x86/avx512_common.h"

namespace gemma::GEMMA_X86_NS {
namespace {

using namespace elementwise;

// e^x per lane, as Exp in elementwise_avx2.cpp.
inline __m512 Exp(__m512 x) {
  // vminps/vmaxps return their second operand when either is NaN: x second keeps NaN.
  x = _mm512_max_ps(_mm512_set1_ps(kExpLo), _mm512_min_ps(_mm512_set1_ps(kExpHi), x));
  const __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(kLog2e)),
                                        _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(kLn2Hi), x);
  r = _mm512_fnmadd_ps(n, _mm512_set1_ps(kLn2Lo), r);
  __m512 p = _mm512_set1_ps(2 * kExp0);
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(2 * kExp1));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(2 * kExp2));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(2 * kExp3));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(2 * kExp4));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(2 * kExp5));
  p = _mm512_fmadd_ps(p, _mm512_mul_ps(r, r), _mm512_add_ps(r, r));
  p = _mm512_add_ps(p, _mm512_set1_ps(2.f));
  // NaN lanes convert to INT_MIN: any scale, NaN * scale stays NaN.
  const __m512i bits =
      _mm512_slli_epi32(_mm512_add_epi32(_mm512_cvttps_epi32(n), _mm512_set1_epi32(126)), 23);
  return _mm512_mul_ps(p, _mm512_castsi512_ps(bits));
}

// gelu_tanh(g) * up = g / (1 + e^{-2u}) * up, u = sqrt(2/pi) (g + 0.044715 g^3).
inline __m512 GeluTanhMul16(__m512 g, __m512 up) {
  const __m512 g2c = _mm512_mul_ps(_mm512_mul_ps(_mm512_set1_ps(kGeluCubic), g), g);
  const __m512 u = _mm512_mul_ps(_mm512_set1_ps(kSqrt2OverPi), _mm512_fmadd_ps(g2c, g, g));
  const __m512 e = Exp(_mm512_mul_ps(u, _mm512_set1_ps(-2.f)));
  const __m512 gelu = _mm512_div_ps(g, _mm512_add_ps(e, _mm512_set1_ps(1.f)));
  return _mm512_mul_ps(gelu, up);
}

void GeluTanhMulAvx512(const float* gate, const float* up, int64_t n, float* out) {
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    _mm512_storeu_ps(out + i, GeluTanhMul16(_mm512_loadu_ps(gate + i), _mm512_loadu_ps(up + i)));
  }
  if (i < n) {
    const size_t rest = static_cast<size_t>(n - i) * sizeof(float);
    float g[16] = {}, u[16] = {}, o[16];
    std::memcpy(g, gate + i, rest);
    std::memcpy(u, up + i, rest);
    _mm512_storeu_ps(o, GeluTanhMul16(_mm512_loadu_ps(g), _mm512_loadu_ps(u)));
    std::memcpy(out + i, o, rest);
  }
}

}  // namespace

void FillAvx512ElementwiseKernels(KernelTable* table) {
  table->gelu_tanh_mul = &GeluTanhMulAvx512;
}

}  // namespace gemma::GEMMA_X86_NS
