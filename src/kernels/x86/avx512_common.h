// Building blocks shared by the AVX-512 kernel files (*_avx512.cpp, compiled with
// -mavx512{f,bw,vl,dq,vnni}, or against SIMDe for the tests: x86_intrinsics.h).
#pragma once

#include <cstdint>
#include <cstring>

#include "kernels/x86/x86_intrinsics.h"

namespace gemma::GEMMA_X86_NS {

// The registration hooks of the other files; FillAvx512Kernels (dot_avx512.cpp) calls them.
void FillAvx512PanelKernels(KernelTable* table);        // gemm_panel_avx512.cpp
void FillAvx512VnniKernels(KernelTable* table);         // int8_vnni_avx512.cpp
void FillAvx512KQuantKernels(KernelTable* table);       // kquant_vnni_avx512.cpp
void FillAvx512Bf16Kernels(KernelTable* table);         // gemm_bf16_avx512bf16.cpp (AVX512-BF16)
void FillAvx512AttentionKernels(KernelTable* table);    // attention_avx512.cpp
void FillAvx512ElementwiseKernels(KernelTable* table);  // elementwise_avx512.cpp
void FillAvx512QuantizeKernels(KernelTable* table);     // quantize_act_avx512.cpp

// Decode streams the weights from DRAM once per token, and its kernels prefetch this far ahead of
// the row they read (further than the AVX2 kernels' 4 KiB, avx2_common.h). On Zen 5 at a ~70 GB/s
// probe: BF16 tg32 25.2-25.8 -> 28.4-29.6 t/s (76 -> 85 % of the probe); Q4_0 at 4 KiB was
// layout-fragile (tg64 62-66 in one build, 73-77 in another differing only in unrelated code),
// at 8 KiB 74-80 in both; 12 KiB no better.
inline constexpr int kDecodePrefetchBytes = 8192;

// Prefetches the kBytes of weights kDecodePrefetchBytes ahead of p, non-temporal: the weights
// are read once per token, and kept out of the outer caches they leave room for the activations
// (Zen 5 at a ~46 GB/s probe: Q4_0 tg64 94 -> 100 % of it, Q8_0 94 -> 99 %, against T0).
template <int kBytes>
inline void PrefetchWeights(const void* p) {
  for (int off = 0; off < kBytes; off += 64) {
    _mm_prefetch(static_cast<const char*>(p) + kDecodePrefetchBytes + off, _MM_HINT_NTA);
  }
}

// The sum of v's lanes, halving the register four times (a fixed order). Decode ends every row
// with one: a serial chain of 16 adds there was a third of the Q4_K kernel's time.
inline float HorizontalSum(__m512 v) {
  const __m256 s8 = _mm256_add_ps(_mm512_castps512_ps256(v),
                                  _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(v), 1)));
  const __m128 s4 = _mm_add_ps(_mm256_castps256_ps128(s8), _mm256_extractf128_ps(s8, 1));
  const __m128 s2 = _mm_add_ps(s4, _mm_movehl_ps(s4, s4));
  return _mm_cvtss_f32(_mm_add_ss(s2, _mm_shuffle_ps(s2, s2, 1)));
}

// Stores (or adds to) one token's 16 panel outputs; a partial panel writes only the first n_rows.
// Masked, not through a stack copy: a copy and a scalar loop per call made the compiler keep
// whole tiles' accumulators in memory (zeroed by rep stos on every call, 5 % of the BF16 tile).
inline void StoreRows16(__m512 acc, float* out, int64_t n_rows, bool accumulate) {
  const auto mask = static_cast<__mmask16>(n_rows >= 16 ? 0xffff : (1u << n_rows) - 1);
  if (accumulate) acc = _mm512_add_ps(acc, _mm512_maskz_loadu_ps(mask, out));
  _mm512_mask_storeu_ps(out, mask, acc);
}

// An f16 value (a block scale) at any byte address.
inline float LoadF16(const uint8_t* p) {
  uint16_t h;
  std::memcpy(&h, p, 2);
  return _mm_cvtss_f32(_mm_cvtph_ps(_mm_cvtsi32_si128(h)));
}

// Plain float types (weights, KV cache rows): 16 values widened to f32, and one for tails.
struct LoadF32 {
  using T = float;
  static __m512 Load(const float* p) { return _mm512_loadu_ps(p); }
  static float Scalar(const float* p) {
    float v;
    std::memcpy(&v, p, sizeof v);  // rows may sit at any byte address
    return v;
  }
};
struct LoadF16Row {
  using T = uint16_t;
  static __m512 Load(const uint16_t* p) {
    return _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
  }
  static float Scalar(const uint16_t* p) { return LoadF16(reinterpret_cast<const uint8_t*>(p)); }
};
struct LoadBF16Row {
  using T = uint16_t;
  static __m512 Load(const uint16_t* p) {
    const __m512i wide =
        _mm512_cvtepu16_epi32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
    return _mm512_castsi512_ps(_mm512_slli_epi32(wide, 16));
  }
  static float Scalar(const uint16_t* p) {
    uint16_t h;
    std::memcpy(&h, p, 2);
    return BF16ToF32(h);
  }
};

// Four bytes at any address as one int32 (for broadcasting four activations).
inline int32_t LoadInt32(const void* p) {
  int32_t v;
  std::memcpy(&v, p, 4);
  return v;
}

}  // namespace gemma::GEMMA_X86_NS
