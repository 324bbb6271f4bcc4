// The AVX-512 and AVX-VNNI intrinsics of the kernel files, emulated for tests
// (GEMMA_X86_EMULATED; see x86_intrinsics.h): SIMDe's portable versions under the native names,
// plus the few that Debian's SIMDe (0.7.4) lacks, written here lane by lane. The test build has
// AVX2, FMA and F16C natively. Test builds only; the engine never includes this.
#pragma once

#define SIMDE_ENABLE_NATIVE_ALIASES
#include <simde/x86/avx512.h>

#include <cstdint>
#include <cstring>

namespace gemma::emulated::simde_gaps {

inline simde__m512 cvtepi32_ps(simde__m512i a) {
  int32_t v[16];
  std::memcpy(v, &a, sizeof v);
  float f[16];
  for (int i = 0; i < 16; ++i) f[i] = static_cast<float>(v[i]);
  simde__m512 r;
  std::memcpy(&r, f, sizeof r);
  return r;
}

inline simde__m512 cvtph_ps(simde__m256i a) {
  uint16_t h[16];
  std::memcpy(h, &a, sizeof h);
  float f[16];
  for (int i = 0; i < 16; i += 8) {
    __m128i v;
    std::memcpy(&v, h + i, 16);
    _mm256_storeu_ps(f + i, _mm256_cvtph_ps(v));  // F16C, which the test build has natively
  }
  simde__m512 r;
  std::memcpy(&r, f, sizeof r);
  return r;
}

// Sixteen Narrow lanes of a (zero- or sign-extended by Narrow's type) as int32.
template <typename Narrow, typename From>
inline simde__m512i WidenTo32(From a) {
  static_assert(sizeof(From) == 16 * sizeof(Narrow));
  Narrow n[16];
  std::memcpy(n, &a, sizeof n);
  int32_t v[16];
  for (int i = 0; i < 16; ++i) v[i] = n[i];
  simde__m512i r;
  std::memcpy(&r, v, sizeof r);
  return r;
}

// Truncation to int32 with vcvttps2dq's result for NaN and out-of-range lanes (INT_MIN).
inline simde__m512i cvttps_epi32(simde__m512 a) {
  float f[16];
  std::memcpy(f, &a, sizeof f);
  int32_t v[16];
  for (int i = 0; i < 16; ++i) {
    v[i] = (f[i] >= -2147483648.f && f[i] < 2147483648.f) ? static_cast<int32_t>(f[i]) : INT32_MIN;
  }
  simde__m512i r;
  std::memcpy(&r, v, sizeof r);
  return r;
}

inline simde__m512i maskz_loadu_epi32(simde__mmask16 k, const void* p) {
  int32_t v[16] = {};
  for (int i = 0; i < 16; ++i) {
    if ((k >> i) & 1) std::memcpy(&v[i], static_cast<const char*>(p) + 4 * i, 4);
  }
  simde__m512i r;
  std::memcpy(&r, v, sizeof r);
  return r;
}

// SIMDe's masked float load and store touch all 64 bytes; these touch only the masked lanes, as
// the hardware does (a partial panel's last row may end its buffer).
inline simde__m512 maskz_loadu_ps(simde__mmask16 k, const void* p) {
  const simde__m512i v = maskz_loadu_epi32(k, p);
  simde__m512 r;
  std::memcpy(&r, &v, sizeof r);
  return r;
}

inline void mask_storeu_ps(void* p, simde__mmask16 k, simde__m512 a) {
  float f[16];
  std::memcpy(f, &a, sizeof f);
  for (int i = 0; i < 16; ++i) {
    if ((k >> i) & 1) std::memcpy(static_cast<char*>(p) + 4 * i, &f[i], 4);
  }
}

}  // namespace gemma::emulated::simde_gaps

#define _mm512_cvtepi32_ps(a) ::gemma::emulated::simde_gaps::cvtepi32_ps(a)
#define _mm512_cvtph_ps(a) ::gemma::emulated::simde_gaps::cvtph_ps(a)
#define _mm512_cvtepu16_epi32(a) ::gemma::emulated::simde_gaps::WidenTo32<uint16_t>(a)
#define _mm512_cvtepi8_epi32(a) ::gemma::emulated::simde_gaps::WidenTo32<int8_t>(a)
#define _mm512_cvttps_epi32(a) ::gemma::emulated::simde_gaps::cvttps_epi32(a)
#define _mm512_maskz_loadu_epi32(k, p) ::gemma::emulated::simde_gaps::maskz_loadu_epi32(k, p)
#define _mm512_maskz_loadu_ps(k, p) ::gemma::emulated::simde_gaps::maskz_loadu_ps(k, p)
#define _mm512_mask_storeu_ps(p, k, a) ::gemma::emulated::simde_gaps::mask_storeu_ps(p, k, a)
// AVX-VNNI's 256-bit vpdpbusd is AVX512-VNNI's with a VEX encoding: the same operation.
#define _mm256_dpbusd_avx_epi32(src, a, b) _mm256_dpbusd_epi32(src, a, b)
