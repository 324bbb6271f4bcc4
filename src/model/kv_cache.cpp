#include "model/kv_cache.h"

#include <algorithm>

namespace gemma {

KvCache::KvCache(const ModelConfig& config, int context_length, int max_batch) {
  for (const LayerConfig& lc : config.layers) {
    Layer l;
    l.capacity = context_length;
    if (lc.attention == AttentionType::kSliding && lc.sliding_window > 0) {
      l.capacity = std::min(context_length, lc.sliding_window + max_batch - 1);
    }
    l.row = int64_t{lc.n_kv_heads} * lc.head_dim;
    l.k.assign(static_cast<size_t>(l.capacity * l.row), 0.f);
    l.v.assign(static_cast<size_t>(l.capacity * l.row), 0.f);
    layers_.push_back(std::move(l));
  }
}

uint64_t KvCache::bytes() const {
  uint64_t b = 0;
  for (const Layer& l : layers_) b += (l.k.size() + l.v.size()) * sizeof(float);
  return b;
}

}  // namespace gemma
