// KV cache: per layer, K and V rows for the positions that layer can still attend to. Global
// layers keep every position up to the context length; sliding-window layers keep a ring of
// window + batch - 1 slots, enough for the oldest key the first query of a batch needs
// (gemma-models.md §2.1: query p sees p - W < j <= p). A KV-sharing layer (Gemma 3n/4) has no
// rows of its own (capacity 0): the forward pass reads its source layer's rows instead.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "core/dtype.h"
#include "gemma/model_config.h"

namespace gemma {

struct KernelTable;

class KvCache {
 public:
  // `type`: F32 (exact), F16 or BF16 (half the memory; rows converted when stored), or Q8_0
  // (34 bytes per 32 elements, a little over a quarter; rows quantized when stored, and every
  // head_dim must be a multiple of 32). Storage is
  // allocated but not touched: pages become resident as positions are written, so a long
  // context costs memory only as it fills.
  KvCache(const ModelConfig& config, int context_length, int max_batch, DType type = DType::kF32);

  DType dtype() const { return type_; }
  // Bytes of `elems` cached elements (a head's or a row's; whole blocks for Q8_0).
  uint64_t bytes_of(int64_t elems) const { return RowBytes(type_, static_cast<uint64_t>(elems)); }
  int capacity(int layer) const { return layers_[static_cast<size_t>(layer)].capacity; }
  int64_t row_elems(int layer) const { return layers_[static_cast<size_t>(layer)].row; }
  int slot(int layer, int position) const { return position % capacity(layer); }
  // The cached rows of `position` (in the cache's type); slots of a ring are contiguous, so
  // row pointers of consecutive slots are row_elems apart.
  const void* k_row(int layer, int position) const { return Row(layer, position, true); }
  const void* v_row(int layer, int position) const { return Row(layer, position, false); }
  // Converts (with the table's f16 kernel for an F16 cache) and stores one position's K and V
  // rows (row_elems floats each).
  void Store(int layer, int position, const float* k, const float* v, const KernelTable& kernels);

  // F32 caches only: the rows as floats.
  float* k(int layer, int position) { return F32Row(layer, position, true); }
  float* v(int layer, int position) { return F32Row(layer, position, false); }
  const float* k(int layer, int position) const {
    return const_cast<KvCache*>(this)->F32Row(layer, position, true);
  }
  const float* v(int layer, int position) const {
    return const_cast<KvCache*>(this)->F32Row(layer, position, false);
  }

  uint64_t bytes() const;
  // Slots layer `layer` keeps for this context and prefill chunk (0 for a KV-sharing layer):
  // the one rule the cache, its estimate and the Session's attention scratch are sized by.
  static int LayerCapacity(const ModelConfig& config, int layer, int context_length, int max_batch);
  // What a cache for this config and context would take, without allocating it.
  static uint64_t EstimateBytes(const ModelConfig& config, int context_length, int max_batch,
                                DType type = DType::kF32);

 private:
  struct Layer {
    int capacity = 0;
    int64_t row = 0;  // n_kv_heads * head_dim
    std::unique_ptr<uint8_t[]> k, v;
  };
  const void* Row(int layer, int position, bool key) const {
    const Layer& l = layers_[static_cast<size_t>(layer)];
    const int64_t s = position % l.capacity;
    return (key ? l.k.get() : l.v.get()) + static_cast<size_t>(s) * bytes_of(l.row);
  }
  float* F32Row(int layer, int position, bool key);

  DType type_;
  std::vector<Layer> layers_;
};

}  // namespace gemma
