// AVX2 activation quantizer (QuantizeActivationsFn): per block of 32, four vector loads, one
// absolute maximum, the scalar code's own float operations (x * (1 / d), rounded half to even),
// and a pack to bytes; bit for bit QuantizeActivationsQ8. The pair sums for the int8 panels come
// from the same int32 lanes.
#include <immintrin.h>
#include "kernels/x86/avx2_kernels.h"

namespace gemma {
namespace {

void QuantizeActivationsAvx2(const float* x, ActBlockQ8* y, int64_t n, int32_t* pair_sums) {
  const __m256 abs_mask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff));
  const __m256i byte_order = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
  for (int64_t b = 0; b < n / ActBlockQ8::kElems; ++b) {
    const float* xb = x + b * ActBlockQ8::kElems;
    __m256 v[4];
    for (int i = 0; i < 4; ++i) v[i] = _mm256_loadu_ps(xb + 8 * i);
    const __m256 m =
        _mm256_max_ps(_mm256_max_ps(_mm256_and_ps(v[0], abs_mask), _mm256_and_ps(v[1], abs_mask)),
                      _mm256_max_ps(_mm256_and_ps(v[2], abs_mask), _mm256_and_ps(v[3], abs_mask)));
    __m128 m4 = _mm_max_ps(_mm256_castps256_ps128(m), _mm256_extractf128_ps(m, 1));
    m4 = _mm_max_ps(m4, _mm_movehl_ps(m4, m4));
    m4 = _mm_max_ss(m4, _mm_movehdup_ps(m4));
    const float d = _mm_cvtss_f32(m4) / 127.f;
    const float inv = d != 0.f ? 1.f / d : 0.f;
    y[b].d = d;
    const __m256 scale = _mm256_set1_ps(inv);
    __m256i q[4];
    for (int i = 0; i < 4; ++i) {
      // The product rounded on its own (as the scalar code), then to the nearest even integer.
      const __m256 t = _mm256_mul_ps(v[i], scale);
      q[i] = _mm256_cvtps_epi32(_mm256_round_ps(t, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
    }
    // int32 -> int16 -> int8 packs interleave 128-bit lanes; the permute restores element order.
    const __m256i q16a = _mm256_packs_epi32(q[0], q[1]), q16b = _mm256_packs_epi32(q[2], q[3]);
    const __m256i q8 = _mm256_permutevar8x32_epi32(_mm256_packs_epi16(q16a, q16b), byte_order);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(y[b].qs), q8);
    if (pair_sums == nullptr) continue;
    // Lane l of every vector holds an element e with e % 4 == l % 4.
    const __m256i s = _mm256_add_epi32(_mm256_add_epi32(q[0], q[1]), _mm256_add_epi32(q[2], q[3]));
    const __m128i s4 = _mm_add_epi32(_mm256_castsi256_si128(s), _mm256_extracti128_si256(s, 1));
    pair_sums[2 * b] = _mm_extract_epi32(s4, 0) + _mm_extract_epi32(s4, 1);
    pair_sums[2 * b + 1] = _mm_extract_epi32(s4, 2) + _mm_extract_epi32(s4, 3);
  }
}

}  // namespace

void FillAvx2QuantizeKernels(KernelTable* table) {
  table->quantize_activations = &QuantizeActivationsAvx2;
}

}  // namespace gemma
