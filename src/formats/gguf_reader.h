// GGUF container reader (llama.cpp's format, versions 2 and 3, little-endian). It yields the
// key/value metadata and the tensor infos of a memory-mapped file and knows nothing of models.
//
// Layout (gemma-models.md §3.2): "GGUF", u32 version, u64 tensor count, u64 KV count; KVs
// (u64-length key, u32 value type, value); tensor infos (name, u32 n_dims, u64 ne[] innermost
// first, u32 ggml type, u64 offset relative to the data section); padding to general.alignment
// (default 32); data section.
//
// The file is parsed as an adversary (style-anchors.md §2, ggml gguf.cpp): every count and
// length is checked against hard limits and against the bytes left before anything is
// allocated, keys and tensor names must be unique, the alignment must be a power of two, and
// every tensor's data must be aligned, inside the file and disjoint from the others.
// Errors: Error(kIo) when the file ends early (truncated), Error(kFormat) for malformed content,
// Error(kUnsupported) for well-formed files we cannot read (GGUF v1, big-endian, newer versions,
// unknown ggml tensor types). Messages are one line and start with the file path.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/dtype.h"
#include "core/mapped_file.h"
#include "core/tensor.h"

namespace gemma {

// GGUF metadata value types (gguf.h enum gguf_type).
enum class GgufType : uint32_t {
  kUint8 = 0,
  kInt8 = 1,
  kUint16 = 2,
  kInt16 = 3,
  kUint32 = 4,
  kInt32 = 5,
  kFloat32 = 6,
  kBool = 7,
  kString = 8,
  kArray = 9,
  kUint64 = 10,
  kInt64 = 11,
  kFloat64 = 12,
};
inline constexpr uint32_t kGgufTypeCount = 13;

std::string_view GgufTypeName(GgufType t);  // "u8", "i32", "f32", "str", "arr", ...
// Bytes of one scalar of type t; 0 for kString and kArray.
size_t GgufTypeSize(GgufType t);

// One metadata value. Strings and numeric array elements are views into the file mapping and
// stay valid as long as the GgufFile (or its MappedFile) lives.
struct GgufValue {
  GgufType type = GgufType::kUint8;
  std::array<uint8_t, 8> scalar{};  // raw little-endian bytes of a numeric/bool scalar
  std::string_view string;          // kString

  // kArray. Exactly one of elems / strings / arrays is used, depending on elem_type.
  GgufType elem_type = GgufType::kUint8;
  uint64_t count = 0;
  const uint8_t* elems = nullptr;         // fixed-size element types: count * size raw bytes
  std::vector<std::string_view> strings;  // elem_type == kString
  std::vector<GgufValue> arrays;          // elem_type == kArray (nested arrays)

  bool is_array() const { return type == GgufType::kArray; }

  // Scalar accessors; nullopt when the value has another type. ToInt accepts every integer
  // type (not bool) whose value fits in int64; ToDouble every integer or float type.
  std::optional<int64_t> ToInt() const;
  std::optional<double> ToDouble() const;
  std::optional<bool> ToBool() const;
  std::optional<std::string_view> ToString() const;

  // Array accessors; false when this is not an array of a matching element type (integer
  // elements for ToIntArray, integer or float for ToFloatArray, bool for ToBoolArray).
  bool ToIntArray(std::vector<int64_t>* out) const;
  bool ToFloatArray(std::vector<float>* out) const;
  bool ToBoolArray(std::vector<bool>* out) const;
  bool ToStringArray(std::vector<std::string>* out) const;

  // Type for messages: "u32", "str", "arr[f32,512]".
  std::string TypeString() const;
  // Short human-readable rendering (arrays show their first `max_elems` elements).
  std::string ToDisplayString(size_t max_elems = 8) const;
};

struct GgufKeyValue {
  std::string key;
  GgufValue value;
};

// What we know about a ggml tensor type id (ggml.h enum ggml_type, ggml-common.h block sizes).
struct GgmlTypeInfo {
  uint32_t id = 0;
  std::string_view name;  // "Q4_K"
  int block_elems = 0;
  int block_bytes = 0;
  bool has_dtype = false;  // the engine can compute with it
  DType dtype = DType::kF32;
};
// nullptr for ids this reader does not know.
const GgmlTypeInfo* FindGgmlType(uint32_t id);
// The ggml type id of a DType (for writers).
uint32_t GgmlTypeOf(DType dtype);

struct GgufTensorInfo {
  std::string name;
  uint32_t ggml_type = 0;
  std::string_view type_name;  // "Q8_0", "IQ2_XXS", ...
  bool has_dtype = false;      // false: a known ggml type the engine has no kernels for
  DType dtype = DType::kF32;   // valid when has_dtype
  int n_dims = 0;
  std::array<int64_t, TensorView::kMaxDims> ne{};  // as stored: innermost first
  uint64_t offset = 0;                             // relative to the data section
  uint64_t n_bytes = 0;                            // bytes of data
  // Outermost-first view into the mapping (ne [in, out] -> shape {out, in}); data is nullptr
  // when !has_dtype.
  TensorView view;
};

class GgufFile {
 public:
  // Hard limits, far above any real checkpoint (ggml uses 1 GiB for strings and arrays).
  static constexpr uint64_t kMaxStringBytes = uint64_t{1} << 30;
  static constexpr uint64_t kMaxKeyBytes = 65535;      // GGUF spec: keys are at most 65535 bytes
  static constexpr uint64_t kMaxTensorNameBytes = 63;  // ggml GGML_MAX_NAME (64) - 1
  static constexpr uint64_t kMaxArrayElements = uint64_t{1} << 30;
  static constexpr uint64_t kMaxTensors = uint64_t{1} << 24;
  static constexpr uint64_t kMaxKeyValues = uint64_t{1} << 24;
  static constexpr int kMaxArrayNesting = 8;
  static constexpr uint64_t kDefaultAlignment = 32;

  // Maps and parses `path`. Throws Error (see the file comment).
  static GgufFile Open(const std::string& path);
  // Parses an already mapped file (exposed for tests and fuzzing).
  static GgufFile Parse(std::shared_ptr<const MappedFile> file);

  const std::string& path() const { return file_->path(); }
  const std::shared_ptr<const MappedFile>& file() const { return file_; }
  uint32_t version() const { return version_; }
  uint64_t alignment() const { return alignment_; }
  uint64_t data_offset() const { return data_offset_; }  // absolute start of the data section

  const std::vector<GgufKeyValue>& kvs() const { return kvs_; }  // in file order
  const GgufValue* Find(std::string_view key) const;

  const std::vector<GgufTensorInfo>& tensors() const { return tensors_; }  // in file order
  const GgufTensorInfo* FindTensor(std::string_view name) const;

 private:
  std::shared_ptr<const MappedFile> file_;
  uint32_t version_ = 0;
  uint64_t alignment_ = kDefaultAlignment;
  uint64_t data_offset_ = 0;
  std::vector<GgufKeyValue> kvs_;
  std::map<std::string, size_t, std::less<>> kv_index_;
  std::vector<GgufTensorInfo> tensors_;
  std::map<std::string, size_t, std::less<>> tensor_index_;

  friend class GgufParser;
};

}  // namespace gemma
