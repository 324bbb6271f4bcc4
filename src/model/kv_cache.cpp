#include "model/kv_cache.h"

#include <algorithm>

namespace gemma {

namespace {

int LayerCapacity(const LayerConfig& lc, int context_length, int max_batch) {
  if (lc.attention == AttentionType::kSliding && lc.sliding_window > 0) {
    return std::min(context_length, lc.sliding_window + max_batch - 1);
  }
  return context_length;
}

}  // namespace

uint64_t KvCache::EstimateBytes(const ModelConfig& config, int context_length, int max_batch) {
  uint64_t b = 0;
  for (const LayerConfig& lc : config.layers) {
    b += 2 * sizeof(float) * static_cast<uint64_t>(LayerCapacity(lc, context_length, max_batch)) *
         static_cast<uint64_t>(lc.n_kv_heads) * static_cast<uint64_t>(lc.head_dim);
  }
  return b;
}

KvCache::KvCache(const ModelConfig& config, int context_length, int max_batch) {
  for (const LayerConfig& lc : config.layers) {
    Layer l;
    l.capacity = LayerCapacity(lc, context_length, max_batch);
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
