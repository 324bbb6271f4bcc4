// Constants of the polynomial exp and tanh shared by the SIMD element-wise kernels
// (x86/elementwise_avx2.cpp, arm/elementwise_neon.cpp), so every ISA computes the same function.
//
// exp(x) (Cephes expf): n = round(x / ln 2), r = x - n ln 2 in two steps (Cody-Waite: n * kLn2Hi
// is exact because kLn2Hi has 9 significant bits), e^r by a degree-6 polynomial on
// |r| <= ln(2)/2 (relative error ~1e-7), then scaled by 2^n built in the exponent bits.
// 2^n is applied as (2 e^r) * 2^(n-1): n runs over [-126, 128] after the clamp, and 2^(n-1)
// with biased exponent n + 126 in [0, 254] covers that in one multiply:
//   - x > ln(FLT_MAX) overflows to +inf in that multiply, like std::exp;
//   - n = -126 gives the bit pattern of +0, so results below ~1.7e-38 (x < ~-86.99) flush to 0
//     instead of becoming subnormal: an absolute error < 1.8e-38, and no subnormal slow paths
//     in the products that consume them (softmax weights times V rows);
//   - NaN survives the clamp (see each file for the operand order) and poisons r.
//
// tanh(y): for |y| < kTanhSmall the odd polynomial y + y^3 P(y^2) (Cephes tanhf, relative error
// ~1e-7); above it 1 - 2 / (e^{2|y|} + 1), which no longer cancels there (the result is > 0.55),
// with y's sign. e^{2|y|} = +inf for large |y| gives exactly +-1.
#pragma once

namespace gemma::elementwise {

inline constexpr float kExpLo = -87.3f;  // round(kExpLo / ln 2) = -126: the flush-to-zero lane
inline constexpr float kExpHi = 89.0f;   // round(kExpHi / ln 2) = 128, and e^89 > FLT_MAX
inline constexpr float kLog2e = 1.44269504088896341f;
inline constexpr float kLn2Hi = 0.693359375f;
inline constexpr float kLn2Lo = -2.12194440e-4f;
// e^r ~= 1 + r + r^2 (kExp5 + kExp4 r + ... + kExp0 r^5); doubled below for the 2 e^r form.
inline constexpr float kExp0 = 1.9875691500e-4f;
inline constexpr float kExp1 = 1.3981999507e-3f;
inline constexpr float kExp2 = 8.3334519073e-3f;
inline constexpr float kExp3 = 4.1665795894e-2f;
inline constexpr float kExp4 = 1.6666665459e-1f;
inline constexpr float kExp5 = 5.0000001201e-1f;

inline constexpr float kTanhSmall = 0.625f;
// tanh(y) ~= y + y z (kTanh0 z^4 + kTanh1 z^3 + kTanh2 z^2 + kTanh3 z + kTanh4), z = y^2.
inline constexpr float kTanh0 = -5.70498872745e-3f;
inline constexpr float kTanh1 = 2.06390887954e-2f;
inline constexpr float kTanh2 = -5.37397155531e-2f;
inline constexpr float kTanh3 = 1.33314422036e-1f;
inline constexpr float kTanh4 = -3.33332819422e-1f;

// GELU's tanh argument: sqrt(2/pi) (x + 0.044715 x^3), as in ops.cpp.
inline constexpr float kSqrt2OverPi = 0.7978845608028654f;
inline constexpr float kGeluCubic = 0.044715f;

}  // namespace gemma::elementwise
