#include "model/kv_cache.h"

#include <algorithm>
#include <cstring>

#include "core/quant/quantize.h"
#include "gemma/error.h"
#include "kernels/kernels.h"

namespace gemma {

namespace {

void CheckKvType(DType type) {
  if (type != DType::kF32 && type != DType::kF16 && type != DType::kBF16 && type != DType::kQ8_0) {
    Fail(ErrorKind::kUsage,
         "KV cache type must be f32, f16, bf16 or q8_0, not " + std::string(DTypeName(type)));
  }
}

}  // namespace

int KvCache::LayerCapacity(const ModelConfig& config, int layer, int context_length,
                           int max_batch) {
  const LayerConfig& lc = config.layers[static_cast<size_t>(layer)];
  if (lc.shares_kv(layer)) return 0;  // reads its source layer's rows (see kv_cache.h)
  if (lc.attention == AttentionType::kSliding && lc.sliding_window > 0) {
    return std::min(context_length, lc.sliding_window + max_batch - 1);
  }
  return context_length;
}

uint64_t KvCache::EstimateBytes(const ModelConfig& config, int context_length, int max_batch,
                                DType type) {
  CheckKvType(type);
  uint64_t b = 0;
  for (size_t i = 0; i < config.layers.size(); ++i) {
    const LayerConfig& lc = config.layers[i];
    b += 2 *
         RowBytes(type, static_cast<uint64_t>(lc.n_kv_heads) * static_cast<uint64_t>(lc.head_dim)) *
         static_cast<uint64_t>(
             LayerCapacity(config, static_cast<int>(i), context_length, max_batch));
  }
  return b;
}

KvCache::KvCache(const ModelConfig& config, int context_length, int max_batch, DType type)
    : type_(type) {
  CheckKvType(type);
  for (size_t i = 0; i < config.layers.size(); ++i) {
    const LayerConfig& lc = config.layers[i];
    if (type == DType::kQ8_0 && lc.head_dim % 32 != 0) {
      Fail(ErrorKind::kUsage, "a q8_0 KV cache needs head dims that are multiples of 32; layer " +
                                  std::to_string(i) + " has " + std::to_string(lc.head_dim) +
                                  " (use --kv-type f16)");
    }
    Layer l;
    l.capacity = LayerCapacity(config, static_cast<int>(i), context_length, max_batch);
    if (l.capacity == 0) {  // a KV-sharing layer: no rows of its own (see kv_cache.h)
      layers_.push_back(std::move(l));
      continue;
    }
    l.row = int64_t{lc.n_kv_heads} * lc.head_dim;
    // new[] without () leaves the pages untouched until a position is written.
    const size_t n = static_cast<size_t>(l.capacity) * bytes_of(l.row);
    l.k.reset(new uint8_t[n]);
    l.v.reset(new uint8_t[n]);
    layers_.push_back(std::move(l));
  }
}

uint64_t KvCache::bytes() const {
  uint64_t b = 0;
  for (const Layer& l : layers_) b += 2 * static_cast<uint64_t>(l.capacity) * bytes_of(l.row);
  return b;
}

void KvCache::Store(int layer, int position, const float* k, const float* v,
                    const KernelTable& kernels) {
  const int64_t n = row_elems(layer);
  auto* kd = const_cast<void*>(k_row(layer, position));
  auto* vd = const_cast<void*>(v_row(layer, position));
  switch (type_) {
    case DType::kF32:
      std::memcpy(kd, k, sizeof(float) * static_cast<size_t>(n));
      std::memcpy(vd, v, sizeof(float) * static_cast<size_t>(n));
      break;
    case DType::kF16:
      kernels.f16_from_f32(k, n, static_cast<uint16_t*>(kd));
      kernels.f16_from_f32(v, n, static_cast<uint16_t*>(vd));
      break;
    case DType::kQ8_0:  // heads are whole blocks (checked by the constructor)
      QuantizeRow(DType::kQ8_0, k, static_cast<uint8_t*>(kd), n);
      QuantizeRow(DType::kQ8_0, v, static_cast<uint8_t*>(vd), n);
      break;
    default:  // BF16 (the constructor admits nothing else)
      for (int64_t i = 0; i < n; ++i) {
        static_cast<uint16_t*>(kd)[i] = F32ToBF16(k[i]);
        static_cast<uint16_t*>(vd)[i] = F32ToBF16(v[i]);
      }
      break;
  }
}

float* KvCache::F32Row(int layer, int position, bool key) {
  if (type_ != DType::kF32) Fail(ErrorKind::kInternal, "float access to a non-f32 KV cache");
  return static_cast<float*>(const_cast<void*>(Row(layer, position, key)));
}

}  // namespace gemma
