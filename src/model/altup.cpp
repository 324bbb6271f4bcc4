#include "model/altup.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "kernels/ops.h"

namespace gemma {

void AltupModalities(const float* x, int64_t d, const float* router_norm, const float* router,
                     int n_streams, float eps, float* modalities) {
  std::vector<float> normed(static_cast<size_t>(d));
  RmsNorm(x, router_norm, eps, d, normed.data());
  const float scale = 1.f / static_cast<float>(d);
  for (int s = 0; s < n_streams; ++s) {
    double acc = 0;
    for (int64_t i = 0; i < d; ++i)
      acc += static_cast<double>(router[s * d + i]) * normed[i] * scale;
    modalities[s] = std::tanh(static_cast<float>(acc));
  }
}

void AltupPredict(const float* const* streams, int n_streams, int64_t d, const float* modalities,
                  const float* coef, float* const* pred) {
  const int S = n_streams;
  for (int i = 0; i < S; ++i) {
    float* out = pred[i];
    std::copy(streams[i], streams[i] + d, out);
    for (int j = 0; j < S; ++j) {
      float m = 0;
      for (int p = 0; p < S; ++p) m += modalities[p] * coef[(i * S + j) * S + p];
      const float* sj = streams[j];
      for (int64_t e = 0; e < d; ++e) out[e] += m * sj[e];
    }
  }
}

void AltupCorrect(const float* const* pred, int n_streams, int active, int64_t d,
                  const float* activated, const float* modalities, const float* coef,
                  float* const* streams) {
  const int S = n_streams;
  const float* pa = pred[active];
  for (int i = 0; i < S; ++i) {
    float m = 1.f;
    for (int p = 0; p < S; ++p) m += modalities[p] * coef[i * S + p];
    const float* pi = pred[i];
    float* out = streams[i];
    for (int64_t e = 0; e < d; ++e) out[e] = pi[e] + m * (activated[e] - pa[e]);
  }
}

float RootMeanSquare(const float* x, int64_t n) {
  return static_cast<float>(std::sqrt(MeanSquare(x, n)));
}

void RescaleToRms(float* x, int64_t n, float target_rms) {
  const double rms = std::sqrt(std::max(MeanSquare(x, n), 1e-5));
  const float f = static_cast<float>(target_rms / rms);
  for (int64_t i = 0; i < n; ++i) x[i] *= f;
}

}  // namespace gemma
