// AVX2 + FMA + F16C kernels for plain float weight types (F32, BF16, F16): per-token dot
// products (decode) and prefill tiles. Compiled with -mavx2 -mfma -mf16c and only called after
// the CPU check in dispatch.cpp. Also assembles the two AVX2 tables.
#include <vector>

#include "kernels/x86/avx2_common.h"
#include "kernels/x86/avx2_kernels.h"

namespace gemma {
namespace {

using namespace avx2;

template <typename W>
float Dot(const typename W::T* w, const float* x, int64_t n) {
  __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
  __m256 acc2 = _mm256_setzero_ps(), acc3 = _mm256_setzero_ps();
  int64_t i = 0;
  for (; i + 32 <= n; i += 32) {
    acc0 = _mm256_fmadd_ps(W::Load(w + i), _mm256_loadu_ps(x + i), acc0);
    acc1 = _mm256_fmadd_ps(W::Load(w + i + 8), _mm256_loadu_ps(x + i + 8), acc1);
    acc2 = _mm256_fmadd_ps(W::Load(w + i + 16), _mm256_loadu_ps(x + i + 16), acc2);
    acc3 = _mm256_fmadd_ps(W::Load(w + i + 24), _mm256_loadu_ps(x + i + 24), acc3);
  }
  for (; i + 8 <= n; i += 8) acc0 = _mm256_fmadd_ps(W::Load(w + i), _mm256_loadu_ps(x + i), acc0);
  float sum = HorizontalSum(_mm256_add_ps(_mm256_add_ps(acc0, acc1), _mm256_add_ps(acc2, acc3)));
  for (; i < n; ++i) sum += W::Scalar(w + i) * x[i];
  return sum;
}

template <typename W>
void DotRows(const uint8_t* w, uint64_t row_bytes, int64_t n_rows, const void* xv, int64_t n,
             float* y) {
  const auto* x = static_cast<const float*>(xv);
  for (int64_t r = 0; r < n_rows; ++r) {
    y[r] = Dot<W>(reinterpret_cast<const typename W::T*>(w + static_cast<uint64_t>(r) * row_bytes),
                  x, n);
  }
}

// BF16 decode: one 256-bit load is 16 weights, and each 32-bit lane holds an even element (low
// half: shift it up) and an odd one (high half: mask the low half off). The activations are
// split the same way once per call, into the 8 even then the 8 odd elements of each 16, so a
// weight costs half the widening work of WidenBF16 (which is a shuffle per 8).
void DotRowsBF16(const uint8_t* w, uint64_t row_bytes, int64_t n_rows, const void* xv, int64_t n,
                 float* y) {
  const auto* x = static_cast<const float*>(xv);
  const int64_t n16 = n / 16 * 16;
  thread_local std::vector<float> split;
  split.resize(static_cast<size_t>(n16));
  for (int64_t i = 0; i < n16; i += 16) {
    const __m256 a = _mm256_loadu_ps(x + i), b = _mm256_loadu_ps(x + i + 8);
    const __m256 even = _mm256_shuffle_ps(a, b, _MM_SHUFFLE(2, 0, 2, 0));
    const __m256 odd = _mm256_shuffle_ps(a, b, _MM_SHUFFLE(3, 1, 3, 1));
    // shuffle_ps works per 128-bit half: put the four 64-bit pieces back in element order.
    _mm256_storeu_ps(&split[static_cast<size_t>(i)],
                     _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(even), 0xD8)));
    _mm256_storeu_ps(&split[static_cast<size_t>(i + 8)],
                     _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(odd), 0xD8)));
  }
  const float* xs = split.data();
  const __m256i high = _mm256_set1_epi32(static_cast<int>(0xFFFF0000u));
  for (int64_t r = 0; r < n_rows; ++r) {
    const auto* row = reinterpret_cast<const uint16_t*>(w + static_cast<uint64_t>(r) * row_bytes);
    __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
    __m256 acc2 = _mm256_setzero_ps(), acc3 = _mm256_setzero_ps();
    auto pair = [&](int64_t i, __m256& even_acc, __m256& odd_acc) {
      const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(row + i));
      even_acc = _mm256_fmadd_ps(_mm256_castsi256_ps(_mm256_slli_epi32(v, 16)),
                                 _mm256_loadu_ps(xs + i), even_acc);
      odd_acc = _mm256_fmadd_ps(_mm256_castsi256_ps(_mm256_and_si256(v, high)),
                                _mm256_loadu_ps(xs + i + 8), odd_acc);
    };
    int64_t i = 0;
    for (; i + 32 <= n16; i += 32) {
      pair(i, acc0, acc1);
      pair(i + 16, acc2, acc3);
    }
    if (i < n16) pair(i, acc0, acc1);
    float sum = HorizontalSum(_mm256_add_ps(_mm256_add_ps(acc0, acc1), _mm256_add_ps(acc2, acc3)));
    for (int64_t j = n16; j < n; ++j) sum += WidenBF16::Scalar(row + j) * x[j];
    y[r] = sum;
  }
}

// One weight row against NT tokens: each 16 widened weights feed 2 * NT accumulators.
template <typename W>
struct FloatRowTokens {
  template <int NT>
  static void Run(const uint8_t* row_bytes, const float* const* x, int64_t n, float* const* y) {
    const auto* w = reinterpret_cast<const typename W::T*>(row_bytes);
    __m256 acc[NT][2];
    for (int t = 0; t < NT; ++t) acc[t][0] = acc[t][1] = _mm256_setzero_ps();
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) {
      const __m256 w0 = W::Load(w + i), w1 = W::Load(w + i + 8);
      for (int t = 0; t < NT; ++t) {
        acc[t][0] = _mm256_fmadd_ps(w0, _mm256_loadu_ps(x[t] + i), acc[t][0]);
        acc[t][1] = _mm256_fmadd_ps(w1, _mm256_loadu_ps(x[t] + i + 8), acc[t][1]);
      }
    }
    for (; i + 8 <= n; i += 8) {
      const __m256 w0 = W::Load(w + i);
      for (int t = 0; t < NT; ++t)
        acc[t][0] = _mm256_fmadd_ps(w0, _mm256_loadu_ps(x[t] + i), acc[t][0]);
    }
    for (int t = 0; t < NT; ++t) {
      float s = HorizontalSum(_mm256_add_ps(acc[t][0], acc[t][1]));
      for (int64_t j = i; j < n; ++j) s += W::Scalar(w + j) * x[t][j];
      *y[t] = s;
    }
  }
};

template <typename W>
void SetFloatSlot(KernelTable* table, DType type) {
  table->dot_rows[static_cast<size_t>(type)] = &DotRows<W>;
  table->gemm_tile[static_cast<size_t>(type)] = &TileOverTokens<float, FloatRowTokens<W>>;
}

}  // namespace

void FillAvx2Kernels(KernelTable* table) {
  table->isa = Isa::kAvx2F32;
  SetFloatSlot<WidenF32>(table, DType::kF32);
  SetFloatSlot<WidenBF16>(table, DType::kBF16);
  table->dot_rows[static_cast<size_t>(DType::kBF16)] = &DotRowsBF16;
  SetFloatSlot<WidenF16>(table, DType::kF16);
  FillAvx2QuantF32Kernels(table);
  FillAvx2KQuantKernels(table);
  FillAvx2PanelKernels(table);
  FillAvx2PackKernels(table);
  FillAvx2AttentionKernels(table);
  FillAvx2ElementwiseKernels(table);
  FillAvx2QuantizeKernels(table);
}

void FillAvx2Int8Kernels(KernelTable* table) {
  FillAvx2Kernels(table);
  table->isa = Isa::kAvx2;
  FillAvx2QuantInt8Kernels(table);
  FillAvx2KQuantInt8Kernels(table);
  FillAvx2Int8PanelKernels(table);
  FillAvx2Int8PackKernels(table);
}

}  // namespace gemma
