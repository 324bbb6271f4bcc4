// KV cache: per layer, K and V rows for the positions that layer can still attend to. Global
// layers keep every position up to the context length; sliding-window layers keep a ring of
// window + batch - 1 slots, enough for the oldest key the first query of a batch needs
// (gemma-models.md §2.1: query p sees p - W < j <= p).
#pragma once

#include <cstdint>
#include <vector>

#include "gemma/model_config.h"

namespace gemma {

class KvCache {
 public:
  KvCache(const ModelConfig& config, int context_length, int max_batch);

  int capacity(int layer) const { return layers_[static_cast<size_t>(layer)].capacity; }
  int64_t row_floats(int layer) const { return layers_[static_cast<size_t>(layer)].row; }
  float* k(int layer, int position) { return Slot(layer, position, true); }
  float* v(int layer, int position) { return Slot(layer, position, false); }
  const float* k(int layer, int position) const {
    return const_cast<KvCache*>(this)->Slot(layer, position, true);
  }
  const float* v(int layer, int position) const {
    return const_cast<KvCache*>(this)->Slot(layer, position, false);
  }
  uint64_t bytes() const;
  // What a cache for this config and context would take, without allocating it.
  static uint64_t EstimateBytes(const ModelConfig& config, int context_length, int max_batch);

 private:
  struct Layer {
    int capacity = 0;
    int64_t row = 0;  // n_kv_heads * head_dim
    std::vector<float> k, v;
  };
  float* Slot(int layer, int position, bool key) {
    Layer& l = layers_[static_cast<size_t>(layer)];
    const int64_t slot = position % l.capacity;
    return (key ? l.k.data() : l.v.data()) + slot * l.row;
  }
  std::vector<Layer> layers_;
};

}  // namespace gemma
