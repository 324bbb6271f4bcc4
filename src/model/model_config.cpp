#include "gemma/model_config.h"

#include <algorithm>
#include <cmath>

#include "gemma/error.h"

namespace gemma {

const char* FamilyName(ModelFamily f) {
  switch (f) {
    case ModelFamily::kGemma1:
      return "Gemma 1";
    case ModelFamily::kGemma2:
      return "Gemma 2";
    case ModelFamily::kGemma3:
      return "Gemma 3";
    case ModelFamily::kGemma3n:
      return "Gemma 3n";
    case ModelFamily::kGemma4:
      return "Gemma 4";
  }
  return "?";
}

int ModelConfig::MaxSlidingWindow() const {
  int w = 0;
  for (const LayerConfig& l : layers) w = std::max(w, l.sliding_window);
  return w;
}

bool ModelConfig::HasGlobalLayers() const {
  return std::any_of(layers.begin(), layers.end(),
                     [](const LayerConfig& l) { return l.attention == AttentionType::kGlobal; });
}

int ModelConfig::SharedKvLayers() const {
  int n = 0;
  for (size_t i = 0; i < layers.size(); ++i) n += layers[i].shares_kv(static_cast<int>(i));
  return n;
}

void AssignSharedKvLayers(ModelConfig* c, int n_shared, const std::string& origin) {
  if (n_shared < 0 || n_shared >= c->n_layers) {
    Fail(ErrorKind::kFormat, origin + ": " + std::to_string(n_shared) +
                                 " KV-shared layers do not fit " + std::to_string(c->n_layers) +
                                 " layers");
  }
  const int first_shared = c->n_layers - n_shared;
  for (int i = first_shared; i < c->n_layers; ++i) {
    LayerConfig& l = c->layers[static_cast<size_t>(i)];
    int src = first_shared - 1;
    while (src >= 0 && c->layers[static_cast<size_t>(src)].attention != l.attention) --src;
    if (src < 0) {
      Fail(ErrorKind::kFormat, origin + ": KV-shared layer " + std::to_string(i) +
                                   " has no earlier non-shared layer of its type");
    }
    l.kv_source_layer = src;
  }
}

double NormalQuantile(double p) {
  // Bisection on the CDF 0.5 * erfc(-x / sqrt 2): exact to double precision, and only called
  // once per layer at load time.
  double lo = -40, hi = 40;
  for (int i = 0; i < 200; ++i) {
    const double mid = 0.5 * (lo + hi);
    if (0.5 * std::erfc(-mid / std::sqrt(2.0)) < p)
      lo = mid;
    else
      hi = mid;
  }
  return 0.5 * (lo + hi);
}

std::string ModelConfig::LayerPatternString() const {
  std::string s;
  for (const LayerConfig& l : layers) s += l.attention == AttentionType::kGlobal ? 'G' : 'L';
  return s;
}

float GgufGemmaQueryScale(ModelFamily family, int n_layers, int d_model, int n_heads,
                          int head_dim) {
  const bool is_27b = (family == ModelFamily::kGemma2 && n_layers == 46) ||
                      (family == ModelFamily::kGemma3 && n_layers == 62);
  const float qpas = is_27b ? static_cast<float>(d_model) / static_cast<float>(n_heads)
                            : static_cast<float>(head_dim);
  return 1.f / std::sqrt(qpas);
}

bool IsGlobalLayerInPattern(int layer, int period) {
  return period <= 1 || (layer + 1) % period == 0;
}

}  // namespace gemma
