#include "core/quant/q8_0.h"

#include <algorithm>
#include <cmath>

#include "core/dtype.h"

namespace gemma {

void DequantizeBlockQ8_0(const QuantBlockQ8_0& b, float* y) {
  const float d = F16ToF32(b.d);
  for (int j = 0; j < QuantBlockQ8_0::kElems; ++j) y[j] = static_cast<float>(b.qs[j]) * d;
}

void DequantizeRowQ8_0(const QuantBlockQ8_0* x, float* y, int64_t n) {
  const int64_t nb = n / QuantBlockQ8_0::kElems;
  for (int64_t i = 0; i < nb; ++i) DequantizeBlockQ8_0(x[i], y + i * QuantBlockQ8_0::kElems);
}

void QuantizeRowQ8_0(const float* x, QuantBlockQ8_0* y, int64_t n) {
  constexpr int kQk = QuantBlockQ8_0::kElems;
  const int64_t nb = n / kQk;
  for (int64_t i = 0; i < nb; ++i) {
    const float* xb = x + i * kQk;
    float amax = 0.f;
    for (int j = 0; j < kQk; ++j) amax = std::max(amax, std::fabs(xb[j]));
    const float d = amax / 127.f;
    const float id = d != 0.f ? 1.f / d : 0.f;
    y[i].d = F32ToF16(d);
    // The quants use the f32 scale, not the f16-rounded one (as ggml does).
    for (int j = 0; j < kQk; ++j) {
      y[i].qs[j] = static_cast<int8_t>(std::clamp(std::round(xb[j] * id), -127.f, 127.f));
    }
  }
}

}  // namespace gemma
