// Building blocks shared by the AVX-512 kernel files (*_avx512.cpp, compiled with
// -mavx512{f,bw,vl,dq,vnni}, or against SIMDe for the tests: x86_intrinsics.h).
#pragma once

#include <cstdint>
#include <cstring>

#include "kernels/x86/x86_intrinsics.h"

namespace gemma::GEMMA_X86_NS {

// The registration hooks of the other files; FillAvx512Kernels (dot_avx512.cpp) calls them.
void FillAvx512PanelKernels(KernelTable* table);  // gemm_panel_avx512.cpp
void FillAvx512VnniKernels(KernelTable* table);   // int8_vnni_avx512.cpp
void FillAvx512Bf16Kernels(KernelTable* table);   // gemm_bf16_avx512bf16.cpp (AVX512-BF16)

inline float HorizontalSum(__m512 v) {
  alignas(64) float lanes[16];
  _mm512_store_ps(lanes, v);
  float s = 0.0f;
  for (float f : lanes) s += f;
  return s;
}

// An f16 value (a block scale) at any byte address.
inline float LoadF16(const uint8_t* p) {
  uint16_t h;
  std::memcpy(&h, p, 2);
  return _mm_cvtss_f32(_mm_cvtph_ps(_mm_cvtsi32_si128(h)));
}

// Four bytes at any address as one int32 (for broadcasting four activations).
inline int32_t LoadInt32(const void* p) {
  int32_t v;
  std::memcpy(&v, p, 4);
  return v;
}

}  // namespace gemma::GEMMA_X86_NS
