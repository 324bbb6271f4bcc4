// A tiny GGUF writer for tests: emits exactly the bytes it is told to, including malformed ones
// (wrong counts, bad types, overlapping offsets), so reader checks can be pinned one by one.
#pragma once

#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace gemma::test {

inline std::string Le32(uint32_t v) {
  return std::string(reinterpret_cast<const char*>(&v), 4);
}
inline std::string Le64(uint64_t v) {
  return std::string(reinterpret_cast<const char*>(&v), 8);
}
inline std::string GgufStr(std::string_view s) {
  return Le64(s.size()) + std::string(s);
}
template <typename T>
std::string RawBytes(const std::vector<T>& v) {
  return std::string(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(T));
}

// GGUF value type ids.
enum : uint32_t {
  kTU8 = 0,
  kTI8,
  kTU16,
  kTI16,
  kTU32,
  kTI32,
  kTF32,
  kTBool,
  kTStr,
  kTArr,
  kTU64,
  kTI64,
  kTF64
};
// ggml tensor type ids used in tests.
enum : uint32_t {
  kGgmlF32 = 0,
  kGgmlF16 = 1,
  kGgmlQ4_0 = 2,
  kGgmlQ8_0 = 8,
  kGgmlQ4_K = 12,
  kGgmlIQ2_XXS = 16,
  kGgmlBF16 = 30
};

class GgufBuilder {
 public:
  std::string magic = "GGUF";
  uint32_t version = 3;
  std::optional<uint64_t> n_tensors_override;
  std::optional<uint64_t> n_kv_override;
  uint64_t alignment = 32;  // layout only; write general.alignment yourself to change the file's

  // A KV with an arbitrary type id and pre-encoded payload.
  GgufBuilder& KvRaw(std::string_view key, uint32_t type, std::string payload) {
    kvs_ += GgufStr(key) + Le32(type) + payload;
    ++n_kv_;
    return *this;
  }
  template <typename T>
  GgufBuilder& Scalar(std::string_view key, uint32_t type, T v) {
    return KvRaw(key, type, std::string(reinterpret_cast<const char*>(&v), sizeof(T)));
  }
  GgufBuilder& U32(std::string_view key, uint32_t v) { return Scalar(key, kTU32, v); }
  GgufBuilder& I32(std::string_view key, int32_t v) { return Scalar(key, kTI32, v); }
  GgufBuilder& F32(std::string_view key, float v) { return Scalar(key, kTF32, v); }
  GgufBuilder& Bool(std::string_view key, bool v) { return Scalar(key, kTBool, uint8_t{v}); }
  GgufBuilder& Str(std::string_view key, std::string_view v) {
    return KvRaw(key, kTStr, GgufStr(v));
  }
  template <typename T>
  GgufBuilder& Array(std::string_view key, uint32_t elem_type, const std::vector<T>& v) {
    return KvRaw(key, kTArr, Le32(elem_type) + Le64(v.size()) + RawBytes(v));
  }
  GgufBuilder& StrArray(std::string_view key, const std::vector<std::string>& v) {
    std::string p = Le32(kTStr) + Le64(v.size());
    for (const std::string& s : v) p += GgufStr(s);
    return KvRaw(key, kTArr, p);
  }

  // A tensor; `ne` innermost first. Offsets default to the next aligned position.
  GgufBuilder& Tensor(std::string_view name, std::vector<uint64_t> ne, uint32_t type,
                      std::string data, std::optional<uint64_t> offset = std::nullopt) {
    TensorSpec t{std::string(name), std::move(ne), type, std::move(data), offset};
    tensors_.push_back(std::move(t));
    return *this;
  }
  template <typename T>
  GgufBuilder& Tensor(std::string_view name, std::vector<uint64_t> ne, uint32_t type,
                      const std::vector<T>& data, std::optional<uint64_t> offset = std::nullopt) {
    return Tensor(name, std::move(ne), type, RawBytes(data), offset);
  }

  // Byte position where the tensor infos end (the data section starts after padding).
  size_t InfoEnd() const { return Header().size() + kvs_.size() + Infos().size(); }

  std::string Build() const {
    std::string out = Header() + kvs_ + Infos();
    if (tensors_.empty()) return out;
    out.resize((out.size() + alignment - 1) / alignment * alignment, '\0');
    std::string data;
    for (size_t i = 0; i < tensors_.size(); ++i) {
      const uint64_t off = offsets_[i];
      if (off > (uint64_t{1} << 28)) continue;  // an absurd offset: header only, no data
      if (data.size() < off + tensors_[i].data.size()) data.resize(off + tensors_[i].data.size());
      std::memcpy(data.data() + off, tensors_[i].data.data(), tensors_[i].data.size());
    }
    return out + data;
  }

 private:
  struct TensorSpec {
    std::string name;
    std::vector<uint64_t> ne;
    uint32_t type;
    std::string data;
    std::optional<uint64_t> offset;
  };

  std::string Header() const {
    return magic + Le32(version) + Le64(n_tensors_override.value_or(tensors_.size())) +
           Le64(n_kv_override.value_or(n_kv_));
  }

  std::string Infos() const {
    std::string out;
    offsets_.clear();
    uint64_t next = 0;
    for (const TensorSpec& t : tensors_) {
      next = (next + alignment - 1) / alignment * alignment;
      const uint64_t off = t.offset.value_or(next);
      offsets_.push_back(off);
      next = off + t.data.size();
      out += GgufStr(t.name) + Le32(static_cast<uint32_t>(t.ne.size()));
      for (uint64_t d : t.ne) out += Le64(d);
      out += Le32(t.type) + Le64(off);
    }
    return out;
  }

  std::string kvs_;
  uint64_t n_kv_ = 0;
  std::vector<TensorSpec> tensors_;
  mutable std::vector<uint64_t> offsets_;
};

}  // namespace gemma::test
