// Streaming GGUF v3 writer (llama.cpp's container, little-endian; layout in gguf_reader.h).
//
// Use: set metadata and declare every tensor (name, dtype, shape) first, then Begin() writes
// the header, the key/values and the tensor infos, and the tensor data follows tensor by tensor
// in declaration order through WriteData(), in as many pieces as the caller likes. Only the
// metadata is held in memory, never the tensor data, so peak memory is whatever the caller
// keeps for the tensor it is writing. The file is written as `path + ".part"` and renamed to
// `path` by Finish(); a writer destroyed before Finish() removes the partial file.
//
// Errors: Error(kUsage) for API misuse (duplicate key or tensor, bad shape, data beyond a
// tensor's size, Finish() before all data), Error(kIo) when the file cannot be written.
#pragma once

#include <cstdint>
#include <cstdio>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "core/dtype.h"
#include "formats/gguf_reader.h"

namespace gemma {

// One metadata value, already encoded (without its u32 type tag). Arrays may nest; all
// elements of an array must have the same type.
class GgufOutValue {
 public:
  static GgufOutValue U8(uint8_t v) { return Scalar(GgufType::kUint8, &v, 1); }
  static GgufOutValue I8(int8_t v) { return Scalar(GgufType::kInt8, &v, 1); }
  static GgufOutValue U16(uint16_t v) { return Scalar(GgufType::kUint16, &v, 2); }
  static GgufOutValue I16(int16_t v) { return Scalar(GgufType::kInt16, &v, 2); }
  static GgufOutValue U32(uint32_t v) { return Scalar(GgufType::kUint32, &v, 4); }
  static GgufOutValue I32(int32_t v) { return Scalar(GgufType::kInt32, &v, 4); }
  static GgufOutValue F32(float v) { return Scalar(GgufType::kFloat32, &v, 4); }
  static GgufOutValue Bool(bool v) {
    const uint8_t b = v ? 1 : 0;
    return Scalar(GgufType::kBool, &b, 1);
  }
  static GgufOutValue U64(uint64_t v) { return Scalar(GgufType::kUint64, &v, 8); }
  static GgufOutValue I64(int64_t v) { return Scalar(GgufType::kInt64, &v, 8); }
  static GgufOutValue F64(double v) { return Scalar(GgufType::kFloat64, &v, 8); }
  static GgufOutValue String(std::string_view s);

  // An array of `count` fixed-size scalars of type `elem` (raw little-endian bytes at `data`).
  static GgufOutValue RawArray(GgufType elem, const void* data, uint64_t count);
  static GgufOutValue StringArray(const std::vector<std::string>& v);
  static GgufOutValue I32Array(const std::vector<int32_t>& v) {
    return RawArray(GgufType::kInt32, v.data(), v.size());
  }
  static GgufOutValue F32Array(const std::vector<float>& v) {
    return RawArray(GgufType::kFloat32, v.data(), v.size());
  }
  // An array of values (of one type; nested arrays allowed). `elem` is used when empty.
  static GgufOutValue Array(const std::vector<GgufOutValue>& elems,
                            GgufType elem = GgufType::kUint8);

  GgufType type() const { return type_; }
  const std::string& bytes() const { return bytes_; }

 private:
  static GgufOutValue Scalar(GgufType t, const void* p, size_t n);
  GgufType type_ = GgufType::kUint8;
  std::string bytes_;
};

class GgufWriter {
 public:
  explicit GgufWriter(uint64_t alignment = GgufFile::kDefaultAlignment);
  ~GgufWriter();
  GgufWriter(const GgufWriter&) = delete;
  GgufWriter& operator=(const GgufWriter&) = delete;

  // Metadata, written in the order set. general.alignment is added automatically when the
  // alignment is not the default. Setting an existing key is a kUsage error.
  void Set(const std::string& key, GgufOutValue value);
  void SetU32(const std::string& key, uint32_t v) { Set(key, GgufOutValue::U32(v)); }
  void SetI32(const std::string& key, int32_t v) { Set(key, GgufOutValue::I32(v)); }
  void SetF32(const std::string& key, float v) { Set(key, GgufOutValue::F32(v)); }
  void SetBool(const std::string& key, bool v) { Set(key, GgufOutValue::Bool(v)); }
  void SetString(const std::string& key, std::string_view v) { Set(key, GgufOutValue::String(v)); }
  bool Has(const std::string& key) const { return keys_.count(key) != 0; }

  // Declares a tensor; `shape` is outermost first (TensorView convention) and is stored
  // innermost first. Returns its data size in bytes.
  uint64_t AddTensor(const std::string& name, DType dtype, const std::vector<int64_t>& shape);

  // Creates the file and writes everything up to the data section.
  void Begin(const std::string& path);
  // Appends data to the current tensor (declaration order); moves to the next tensor, padding
  // to the alignment, once the current one is complete.
  void WriteData(const void* data, uint64_t n_bytes);
  // Checks that every tensor is complete, flushes, closes and renames into place.
  void Finish();

  uint64_t bytes_written() const { return written_; }
  size_t n_tensors() const { return tensors_.size(); }

 private:
  struct Tensor {
    std::string name;
    DType dtype;
    std::vector<int64_t> shape;
    uint64_t offset = 0, n_bytes = 0;
  };
  void Put(const void* p, size_t n);
  void PadTo(uint64_t alignment);

  uint64_t alignment_;
  std::string meta_;  // encoded key/values
  uint64_t n_kv_ = 0;
  std::map<std::string, bool, std::less<>> keys_;
  std::vector<Tensor> tensors_;
  std::map<std::string, size_t, std::less<>> tensor_index_;
  uint64_t data_size_ = 0;

  std::FILE* file_ = nullptr;
  std::string path_, part_path_;
  uint64_t written_ = 0;  // bytes written to the file
  size_t current_ = 0;    // tensor being written
  uint64_t current_done_ = 0;
  bool finished_ = false;
};

}  // namespace gemma
