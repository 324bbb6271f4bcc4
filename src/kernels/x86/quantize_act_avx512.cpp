// AVX-512 activation quantizer (QuantizeActivationsFn): quantize_act_avx2.cpp's per-block steps
// on two 16-lane vectors (absolute maximum, the scalar code's x * (1 / d) rounded half to even,
// a saturating narrow to bytes); bit for bit QuantizeActivationsQ8. The pair sums for the int8
// panels come from the same int32 lanes.
#include "kernels/x86/avx512_common.h"

namespace gemma::GEMMA_X86_NS {
namespace {

// The upper 256 bits (extractf64x4: AVX512F, unlike extractf32x8).
inline __m256 High256(__m512 v) {
  return _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(v), 1));
}
inline __m256i High256(__m512i v) {
  return _mm512_extracti64x4_epi64(v, 1);
}

void QuantizeActivationsAvx512(const float* x, ActBlockQ8* y, int64_t n, int32_t* pair_sums) {
  const __m512 abs_mask = _mm512_castsi512_ps(_mm512_set1_epi32(0x7fffffff));
  for (int64_t b = 0; b < n / ActBlockQ8::kElems; ++b) {
    const float* xb = x + b * ActBlockQ8::kElems;
    const __m512 v0 = _mm512_loadu_ps(xb), v1 = _mm512_loadu_ps(xb + 16);
    const __m512 m = _mm512_max_ps(_mm512_and_ps(v0, abs_mask), _mm512_and_ps(v1, abs_mask));
    const __m256 m8 = _mm256_max_ps(_mm512_castps512_ps256(m), High256(m));
    __m128 m4 = _mm_max_ps(_mm256_castps256_ps128(m8), _mm256_extractf128_ps(m8, 1));
    m4 = _mm_max_ps(m4, _mm_movehl_ps(m4, m4));
    m4 = _mm_max_ss(m4, _mm_movehdup_ps(m4));
    const float d = _mm_cvtss_f32(m4) / 127.f;
    const float inv = d != 0.f ? 1.f / d : 0.f;
    y[b].d = d;
    const __m512 scale = _mm512_set1_ps(inv);
    // The product rounded on its own (as the scalar code), then to the nearest even integer.
    const __m512i q0 = _mm512_cvttps_epi32(_mm512_roundscale_ps(
        _mm512_mul_ps(v0, scale), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
    const __m512i q1 = _mm512_cvttps_epi32(_mm512_roundscale_ps(
        _mm512_mul_ps(v1, scale), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(y[b].qs), _mm512_cvtsepi32_epi8(q0));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(y[b].qs + 16), _mm512_cvtsepi32_epi8(q1));
    if (pair_sums == nullptr) continue;
    // Lane l of every vector holds an element e with e % 4 == l % 4.
    const __m512i s = _mm512_add_epi32(q0, q1);
    const __m256i s8 = _mm256_add_epi32(_mm512_castsi512_si256(s), High256(s));
    const __m128i s4 = _mm_add_epi32(_mm256_castsi256_si128(s8), _mm256_extracti128_si256(s8, 1));
    pair_sums[2 * b] = _mm_extract_epi32(s4, 0) + _mm_extract_epi32(s4, 1);
    pair_sums[2 * b + 1] = _mm_extract_epi32(s4, 2) + _mm_extract_epi32(s4, 3);
  }
}

}  // namespace

void FillAvx512QuantizeKernels(KernelTable* table) {
  table->quantize_activations = &QuantizeActivationsAvx512;
}

}  // namespace gemma::GEMMA_X86_NS
