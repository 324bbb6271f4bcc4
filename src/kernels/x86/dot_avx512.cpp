// AVX-512 kernels for plain float weight types (F32, BF16, F16) in decode, and the AVX-512
// table itself: the avx2 table with the slots that the *_avx512.cpp files speed up
// replaced (see avx512_common.h for how these files are built and tested).
#include <vector>

#include "kernels/cpu_features.h"
#include "kernels/x86/avx512_common.h"

namespace gemma::GEMMA_X86_NS {
namespace {

template <typename W>
void DotRows(const uint8_t* w, uint64_t row_bytes, int64_t n_rows, const void* xv, int64_t n,
             float* y) {
  const auto* x = static_cast<const float*>(xv);
  for (int64_t r = 0; r < n_rows; ++r) {
    const auto* row =
        reinterpret_cast<const typename W::T*>(w + static_cast<uint64_t>(r) * row_bytes);
    __m512 acc0 = _mm512_setzero_ps(), acc1 = _mm512_setzero_ps();
    int64_t i = 0;
    for (; i + 32 <= n; i += 32) {
      acc0 = _mm512_fmadd_ps(W::Load(row + i), _mm512_loadu_ps(x + i), acc0);
      acc1 = _mm512_fmadd_ps(W::Load(row + i + 16), _mm512_loadu_ps(x + i + 16), acc1);
    }
    if (i + 16 <= n) {
      acc0 = _mm512_fmadd_ps(W::Load(row + i), _mm512_loadu_ps(x + i), acc0);
      i += 16;
    }
    float sum = HorizontalSum(_mm512_add_ps(acc0, acc1));
    for (; i < n; ++i) sum += W::Scalar(row + i) * x[i];
    y[r] = sum;
  }
}

// BF16 decode as on AVX2 (dot_avx2.cpp), twice as wide: one 512-bit load is 32 weights, each
// 32-bit lane an even element (low half: shift it up) and an odd one (high half: mask the low
// half off), against activations split into the 16 even then the 16 odd elements of each 32
// once per call.
void DotRowsBF16(const uint8_t* w, uint64_t row_bytes, int64_t n_rows, const void* xv, int64_t n,
                 float* y) {
  const auto* x = static_cast<const float*>(xv);
  const int64_t n32 = n / 32 * 32;
  struct alignas(64) Split {
    float even[16], odd[16];
  };
  thread_local std::vector<Split> split;
  split.resize(static_cast<size_t>(n32 / 32));
  for (int64_t i = 0; i < n32; i += 32) {
    Split& s = split[static_cast<size_t>(i / 32)];
    for (int j = 0; j < 16; ++j) {
      s.even[j] = x[i + 2 * j];
      s.odd[j] = x[i + 2 * j + 1];
    }
  }
  const __m512i high = _mm512_set1_epi32(static_cast<int>(0xFFFF0000u));
  for (int64_t r = 0; r < n_rows; ++r) {
    const auto* row = reinterpret_cast<const uint16_t*>(w + static_cast<uint64_t>(r) * row_bytes);
    __m512 acc0 = _mm512_setzero_ps(), acc1 = _mm512_setzero_ps();
    __m512 acc2 = _mm512_setzero_ps(), acc3 = _mm512_setzero_ps();
    auto pair = [&](int64_t i, __m512& even_acc, __m512& odd_acc) {
      const __m512i v = _mm512_loadu_si512(row + i);
      const Split& s = split[static_cast<size_t>(i / 32)];
      even_acc = _mm512_fmadd_ps(_mm512_castsi512_ps(_mm512_slli_epi32(v, 16)),
                                 _mm512_load_ps(s.even), even_acc);
      odd_acc = _mm512_fmadd_ps(_mm512_castsi512_ps(_mm512_and_si512(v, high)),
                                _mm512_load_ps(s.odd), odd_acc);
    };
    int64_t i = 0;
    for (; i + 64 <= n32; i += 64) {
      PrefetchWeights<128>(row + i);
      pair(i, acc0, acc1);
      pair(i + 32, acc2, acc3);
    }
    if (i < n32) pair(i, acc0, acc1);
    float sum = HorizontalSum(_mm512_add_ps(_mm512_add_ps(acc0, acc1), _mm512_add_ps(acc2, acc3)));
    for (int64_t j = n32; j < n; ++j) {
      uint16_t h;
      std::memcpy(&h, row + j, sizeof h);  // rows may sit at any byte address
      sum += BF16ToF32(h) * x[j];
    }
    y[r] = sum;
  }
}

}  // namespace

void FillAvx512Kernels(KernelTable* table) {
  FillAvx2Int8Kernels(table);  // every slot not replaced below
  table->isa = Isa::kAvx512;
  table->dot_rows[static_cast<size_t>(DType::kF32)] = &DotRows<LoadF32>;
  table->dot_rows[static_cast<size_t>(DType::kF16)] = &DotRows<LoadF16Row>;
  table->dot_rows[static_cast<size_t>(DType::kBF16)] = &DotRowsBF16;
  FillAvx512PanelKernels(table);
  FillAvx512AttentionKernels(table);
  FillAvx512ElementwiseKernels(table);
  FillAvx512QuantizeKernels(table);
  FillAvx512VnniKernels(table);
  FillAvx512KQuantKernels(table);
  // AVX512-BF16 is a separate extension (Ice Lake has VNNI without it); the tests' emulated
  // table always has it.
#if defined(GEMMA_X86_EMULATED)
  FillAvx512Bf16Kernels(table);
#else
  if (GetCpuFeatures().avx512_bf16) FillAvx512Bf16Kernels(table);
#endif
}

}  // namespace gemma::GEMMA_X86_NS
