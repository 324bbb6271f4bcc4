// AVX2 + FMA + F16C dot products for plain float weight types. Compiled with -mavx2 -mfma
// -mf16c and only called after the CPU check in dispatch.cpp.
#include <immintrin.h>

#include "core/dtype.h"
#include "kernels/kernels.h"
#include "kernels/x86/avx2_kernels.h"

namespace gemma {
namespace {

inline float HorizontalSum(__m256 v) {
  const __m128 lo = _mm256_castps256_ps128(v);
  const __m128 hi = _mm256_extractf128_ps(v, 1);
  __m128 s = _mm_add_ps(lo, hi);
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

// Loads 8 weights of each type as f32.
struct LoadF32 {
  static __m256 Load(const float* p) { return _mm256_loadu_ps(p); }
  static float Scalar(const float* p) { return *p; }
};
struct LoadBF16 {
  static __m256 Load(const uint16_t* p) {
    const __m128i h = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(h), 16));
  }
  static float Scalar(const uint16_t* p) { return BF16ToF32(*p); }
};
struct LoadF16 {
  static __m256 Load(const uint16_t* p) {
    return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
  }
  static float Scalar(const uint16_t* p) { return F16ToF32(*p); }
};

template <typename Loader, typename T>
float Dot(const T* w, const float* x, int64_t n) {
  __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
  __m256 acc2 = _mm256_setzero_ps(), acc3 = _mm256_setzero_ps();
  int64_t i = 0;
  for (; i + 32 <= n; i += 32) {
    acc0 = _mm256_fmadd_ps(Loader::Load(w + i), _mm256_loadu_ps(x + i), acc0);
    acc1 = _mm256_fmadd_ps(Loader::Load(w + i + 8), _mm256_loadu_ps(x + i + 8), acc1);
    acc2 = _mm256_fmadd_ps(Loader::Load(w + i + 16), _mm256_loadu_ps(x + i + 16), acc2);
    acc3 = _mm256_fmadd_ps(Loader::Load(w + i + 24), _mm256_loadu_ps(x + i + 24), acc3);
  }
  for (; i + 8 <= n; i += 8) acc0 = _mm256_fmadd_ps(Loader::Load(w + i), _mm256_loadu_ps(x + i), acc0);
  float sum = HorizontalSum(_mm256_add_ps(_mm256_add_ps(acc0, acc1), _mm256_add_ps(acc2, acc3)));
  for (; i < n; ++i) sum += Loader::Scalar(w + i) * x[i];
  return sum;
}

template <typename Loader, typename T>
void DotRows(const uint8_t* w, uint64_t row_bytes, int64_t n_rows, const void* xv, int64_t n,
             float* y) {
  const auto* x = static_cast<const float*>(xv);
  for (int64_t r = 0; r < n_rows; ++r) {
    y[r] = Dot<Loader>(reinterpret_cast<const T*>(w + static_cast<uint64_t>(r) * row_bytes), x, n);
  }
}

}  // namespace

void FillAvx2Kernels(KernelTable* table) {
  table->isa = Isa::kAvx2;
  table->dot_rows[static_cast<size_t>(DType::kF32)] = &DotRows<LoadF32, float>;
  table->dot_rows[static_cast<size_t>(DType::kBF16)] = &DotRows<LoadBF16, uint16_t>;
  table->dot_rows[static_cast<size_t>(DType::kF16)] = &DotRows<LoadF16, uint16_t>;
  FillAvx2QuantF32Kernels(table);
  FillAvx2GemmKernels(table);
}

void FillAvx2Int8Kernels(KernelTable* table) {
  FillAvx2Kernels(table);
  table->isa = Isa::kAvx2Int8;
  FillAvx2QuantKernels(table);
  FillAvx2GemmKernels(table);
}

}  // namespace gemma
