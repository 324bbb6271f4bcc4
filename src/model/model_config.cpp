#include "gemma/model_config.h"

#include <algorithm>
#include <cmath>

namespace gemma {

const char* FamilyName(ModelFamily f) {
  switch (f) {
    case ModelFamily::kGemma1: return "Gemma 1";
    case ModelFamily::kGemma2: return "Gemma 2";
    case ModelFamily::kGemma3: return "Gemma 3";
    case ModelFamily::kGemma3n: return "Gemma 3n";
    case ModelFamily::kGemma4: return "Gemma 4";
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
