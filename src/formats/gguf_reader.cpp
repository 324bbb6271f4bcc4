#include "formats/gguf_reader.h"

#include <algorithm>
#include <bit>
#include <cstdio>
#include <cstring>
#include <limits>

#include "gemma/error.h"

namespace gemma {

static_assert(
    std::endian::native == std::endian::little,
    "the GGUF reader maps little-endian files directly; big-endian hosts need byte swaps");

namespace {

// ggml.h enum ggml_type with the block sizes of ggml-common.h. Ids 4, 5 (Q4_2/Q4_3) and 31-33,
// 36-38 (repacked variants) were removed from GGUF files by ggml and are rejected as unknown.
constexpr GgmlTypeInfo kGgmlTypes[] = {
    {0, "F32", 1, 4, true, DType::kF32},          {1, "F16", 1, 2, true, DType::kF16},
    {2, "Q4_0", 32, 18, true, DType::kQ4_0},      {3, "Q4_1", 32, 20, true, DType::kQ4_1},
    {6, "Q5_0", 32, 22, true, DType::kQ5_0},      {7, "Q5_1", 32, 24, true, DType::kQ5_1},
    {8, "Q8_0", 32, 34, true, DType::kQ8_0},      {9, "Q8_1", 32, 36, false, DType::kF32},
    {10, "Q2_K", 256, 84, true, DType::kQ2_K},    {11, "Q3_K", 256, 110, true, DType::kQ3_K},
    {12, "Q4_K", 256, 144, true, DType::kQ4_K},   {13, "Q5_K", 256, 176, true, DType::kQ5_K},
    {14, "Q6_K", 256, 210, true, DType::kQ6_K},   {15, "Q8_K", 256, 292, false, DType::kF32},
    {16, "IQ2_XXS", 256, 66, false, DType::kF32}, {17, "IQ2_XS", 256, 74, false, DType::kF32},
    {18, "IQ3_XXS", 256, 98, false, DType::kF32}, {19, "IQ1_S", 256, 50, false, DType::kF32},
    {20, "IQ4_NL", 32, 18, false, DType::kF32},   {21, "IQ3_S", 256, 110, false, DType::kF32},
    {22, "IQ2_S", 256, 82, false, DType::kF32},   {23, "IQ4_XS", 256, 136, false, DType::kF32},
    {24, "I8", 1, 1, false, DType::kF32},         {25, "I16", 1, 2, false, DType::kF32},
    {26, "I32", 1, 4, false, DType::kF32},        {27, "I64", 1, 8, false, DType::kF32},
    {28, "F64", 1, 8, false, DType::kF32},        {29, "IQ1_M", 256, 56, false, DType::kF32},
    {30, "BF16", 1, 2, true, DType::kBF16},       {34, "TQ1_0", 256, 54, false, DType::kF32},
    {35, "TQ2_0", 256, 66, false, DType::kF32},   {39, "MXFP4", 32, 17, false, DType::kF32},
};

// Smallest encodings, used to reject counts that cannot fit in the bytes left before allocating.
constexpr uint64_t kMinKvBytes = 8 + 4 + 1;                  // empty key, type, 1-byte value
constexpr uint64_t kMinTensorInfoBytes = 8 + 1 + 4 + 4 + 8;  // 1-byte name, n_dims, type, offset
constexpr uint64_t kMinNestedArrayBytes = 4 + 8;             // element type + length
// Arrays of arrays are rare (a handful of elements); cap them so that a file of empty nested
// arrays cannot make us allocate many times its own size.
constexpr uint64_t kMaxNestedArrayElements = uint64_t{1} << 16;
// Same cap as core/tensor.cpp: keeps byte-size arithmetic free of overflow.
constexpr uint64_t kMaxTensorElements = uint64_t{1} << 48;
constexpr uint64_t kMaxAlignment = uint64_t{1} << 31;

bool IsIntegerType(GgufType t) {
  switch (t) {
    case GgufType::kUint8:
    case GgufType::kInt8:
    case GgufType::kUint16:
    case GgufType::kInt16:
    case GgufType::kUint32:
    case GgufType::kInt32:
    case GgufType::kUint64:
    case GgufType::kInt64:
      return true;
    default:
      return false;
  }
}

template <typename T>
T Load(const uint8_t* p) {
  T v;
  std::memcpy(&v, p, sizeof(T));
  return v;
}

std::optional<int64_t> LoadInt(GgufType t, const uint8_t* p) {
  switch (t) {
    case GgufType::kUint8:
      return Load<uint8_t>(p);
    case GgufType::kInt8:
      return Load<int8_t>(p);
    case GgufType::kUint16:
      return Load<uint16_t>(p);
    case GgufType::kInt16:
      return Load<int16_t>(p);
    case GgufType::kUint32:
      return Load<uint32_t>(p);
    case GgufType::kInt32:
      return Load<int32_t>(p);
    case GgufType::kInt64:
      return Load<int64_t>(p);
    case GgufType::kUint64: {
      const uint64_t v = Load<uint64_t>(p);
      if (v > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) return std::nullopt;
      return static_cast<int64_t>(v);
    }
    default:
      return std::nullopt;
  }
}

std::optional<double> LoadDouble(GgufType t, const uint8_t* p) {
  if (t == GgufType::kFloat32) return Load<float>(p);
  if (t == GgufType::kFloat64) return Load<double>(p);
  if (t == GgufType::kUint64) return static_cast<double>(Load<uint64_t>(p));
  if (const std::optional<int64_t> i = LoadInt(t, p)) return static_cast<double>(*i);
  return std::nullopt;
}

std::string Quoted(std::string_view s, size_t max_chars) {
  std::string out = "'";
  out.append(s.substr(0, max_chars));
  if (s.size() > max_chars) out += "...";
  return out + "'";
}

std::string FormatDouble(double v) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.9g", v);
  return buf;
}

std::string ScalarToString(GgufType t, const uint8_t* p) {
  if (t == GgufType::kBool) return Load<uint8_t>(p) != 0 ? "true" : "false";
  if (t == GgufType::kFloat32 || t == GgufType::kFloat64) return FormatDouble(*LoadDouble(t, p));
  if (t == GgufType::kUint64) return std::to_string(Load<uint64_t>(p));
  if (const std::optional<int64_t> i = LoadInt(t, p)) return std::to_string(*i);
  return "?";
}

}  // namespace

std::string_view GgufTypeName(GgufType t) {
  static constexpr std::string_view kNames[kGgufTypeCount] = {
      "u8", "i8", "u16", "i16", "u32", "i32", "f32", "bool", "str", "arr", "u64", "i64", "f64"};
  const auto i = static_cast<uint32_t>(t);
  return i < kGgufTypeCount ? kNames[i] : std::string_view("?");
}

size_t GgufTypeSize(GgufType t) {
  static constexpr size_t kSizes[kGgufTypeCount] = {1, 1, 2, 2, 4, 4, 4, 1, 0, 0, 8, 8, 8};
  const auto i = static_cast<uint32_t>(t);
  return i < kGgufTypeCount ? kSizes[i] : 0;
}

const GgmlTypeInfo* FindGgmlType(uint32_t id) {
  for (const GgmlTypeInfo& t : kGgmlTypes) {
    if (t.id == id) return &t;
  }
  return nullptr;
}

uint32_t GgmlTypeOf(DType dtype) {
  for (const GgmlTypeInfo& t : kGgmlTypes) {
    if (t.has_dtype && t.dtype == dtype) return t.id;
  }
  Fail(ErrorKind::kInternal,
       "GgmlTypeOf: dtype " + std::string(DTypeName(dtype)) + " has no ggml type");
}

// ---------------------------------------------------------------------------------------------
// GgufValue

std::optional<int64_t> GgufValue::ToInt() const {
  if (!IsIntegerType(type)) return std::nullopt;
  return LoadInt(type, scalar.data());
}

std::optional<double> GgufValue::ToDouble() const {
  if (type == GgufType::kBool || type == GgufType::kString || type == GgufType::kArray) {
    return std::nullopt;
  }
  return LoadDouble(type, scalar.data());
}

std::optional<bool> GgufValue::ToBool() const {
  if (type != GgufType::kBool) return std::nullopt;
  return scalar[0] != 0;
}

std::optional<std::string_view> GgufValue::ToString() const {
  if (type != GgufType::kString) return std::nullopt;
  return string;
}

bool GgufValue::ToIntArray(std::vector<int64_t>* out) const {
  if (!is_array() || !IsIntegerType(elem_type)) return false;
  const size_t size = GgufTypeSize(elem_type);
  std::vector<int64_t> v(static_cast<size_t>(count));
  for (uint64_t i = 0; i < count; ++i) {
    const std::optional<int64_t> x = LoadInt(elem_type, elems + i * size);
    if (!x) return false;  // a u64 above INT64_MAX
    v[static_cast<size_t>(i)] = *x;
  }
  *out = std::move(v);
  return true;
}

bool GgufValue::ToFloatArray(std::vector<float>* out) const {
  if (!is_array() || !(IsIntegerType(elem_type) || elem_type == GgufType::kFloat32 ||
                       elem_type == GgufType::kFloat64)) {
    return false;
  }
  const size_t size = GgufTypeSize(elem_type);
  out->resize(static_cast<size_t>(count));
  for (uint64_t i = 0; i < count; ++i) {
    (*out)[static_cast<size_t>(i)] = static_cast<float>(*LoadDouble(elem_type, elems + i * size));
  }
  return true;
}

bool GgufValue::ToBoolArray(std::vector<bool>* out) const {
  if (!is_array() || elem_type != GgufType::kBool) return false;
  out->resize(static_cast<size_t>(count));
  for (uint64_t i = 0; i < count; ++i) (*out)[static_cast<size_t>(i)] = elems[i] != 0;
  return true;
}

bool GgufValue::ToStringArray(std::vector<std::string>* out) const {
  if (!is_array() || elem_type != GgufType::kString) return false;
  out->assign(strings.begin(), strings.end());
  return true;
}

std::string GgufValue::TypeString() const {
  if (!is_array()) return std::string(GgufTypeName(type));
  return "arr[" + std::string(GgufTypeName(elem_type)) + "," + std::to_string(count) + "]";
}

std::string GgufValue::ToDisplayString(size_t max_elems) const {
  if (type == GgufType::kString) return Quoted(string, 80);
  if (!is_array()) return ScalarToString(type, scalar.data());
  std::string s = "[";
  const uint64_t shown = std::min<uint64_t>(count, max_elems);
  for (uint64_t i = 0; i < shown; ++i) {
    if (i) s += ", ";
    if (elem_type == GgufType::kString) {
      s += Quoted(strings[static_cast<size_t>(i)], 40);
    } else if (elem_type == GgufType::kArray) {
      s += arrays[static_cast<size_t>(i)].ToDisplayString(max_elems);
    } else {
      s += ScalarToString(elem_type, elems + i * GgufTypeSize(elem_type));
    }
  }
  if (shown < count) s += ", ... (" + std::to_string(count) + " total)";
  return s + "]";
}

// ---------------------------------------------------------------------------------------------
// Parser

class GgufParser {
 public:
  explicit GgufParser(std::shared_ptr<const MappedFile> file)
      : file_(std::move(file)), base_(file_->data()), size_(file_->size()), path_(file_->path()) {}

  GgufFile Run() {
    GgufFile out;
    out.file_ = file_;
    ReadHeader(&out);
    ReadKeyValues(&out);
    ReadAlignment(&out);
    ReadTensorInfos(&out);
    LayOutData(&out);
    return out;
  }

 private:
  uint64_t Left() const { return size_ - pos_; }

  [[noreturn]] void Truncated(const std::string& what, uint64_t need) const {
    Fail(ErrorKind::kIo, path_ + ": truncated GGUF file: " + what + " at byte " +
                             std::to_string(pos_) + " needs " + std::to_string(need) +
                             " bytes, only " + std::to_string(Left()) + " left");
  }
  [[noreturn]] void Malformed(const std::string& what) const {
    Fail(ErrorKind::kFormat, path_ + ": malformed GGUF file: " + what);
  }
  [[noreturn]] void Unsupported(const std::string& what) const {
    Fail(ErrorKind::kUnsupported, path_ + ": " + what);
  }

  // `what` and `ctx` only build a message on failure ("value" of "key 'x'").
  static std::string Describe(const char* what, const std::string& ctx) {
    return ctx.empty() ? std::string(what) : std::string(what) + " of " + ctx;
  }

  void Need(uint64_t n, const char* what, const std::string& ctx) const {
    if (n > Left()) Truncated(Describe(what, ctx), n);
  }

  template <typename T>
  T Read(const char* what, const std::string& ctx) {
    Need(sizeof(T), what, ctx);
    const T v = Load<T>(base_ + pos_);
    pos_ += sizeof(T);
    return v;
  }

  std::string_view ReadString(uint64_t max_bytes, const char* what, const std::string& ctx) {
    const uint64_t len = Read<uint64_t>(what, ctx);
    if (len > max_bytes) {
      Malformed(Describe(what, ctx) + " is " + std::to_string(len) +
                " bytes long, more than the limit of " + std::to_string(max_bytes));
    }
    Need(len, what, ctx);
    const std::string_view s(reinterpret_cast<const char*>(base_ + pos_), len);
    pos_ += len;
    return s;
  }

  void ReadValue(GgufType type, const std::string& ctx, GgufValue* v) {
    v->type = type;
    if (type == GgufType::kString) {
      v->string = ReadString(GgufFile::kMaxStringBytes, "string value", ctx);
    } else if (type == GgufType::kArray) {
      ReadArray(1, ctx, v);
    } else {
      const size_t size = GgufTypeSize(type);
      Need(size, "value", ctx);
      std::memcpy(v->scalar.data(), base_ + pos_, size);
      pos_ += size;
    }
  }

  void ReadArray(int depth, const std::string& ctx, GgufValue* v) {
    v->type = GgufType::kArray;
    const uint32_t et = Read<uint32_t>("array element type", ctx);
    if (et >= kGgufTypeCount) {
      Malformed(ctx + " is an array of invalid element type " + std::to_string(et));
    }
    const uint64_t n = Read<uint64_t>("array length", ctx);
    if (n > GgufFile::kMaxArrayElements) {
      Malformed(ctx + " is an array of " + std::to_string(n) +
                " elements, more than the limit of " + std::to_string(GgufFile::kMaxArrayElements));
    }
    v->elem_type = static_cast<GgufType>(et);
    v->count = n;
    if (v->elem_type == GgufType::kString) {
      Need(n * 8, "array of strings", ctx);  // each string has at least its u64 length
      v->strings.reserve(static_cast<size_t>(n));
      for (uint64_t i = 0; i < n; ++i) {
        v->strings.push_back(ReadString(GgufFile::kMaxStringBytes, "array string", ctx));
      }
    } else if (v->elem_type == GgufType::kArray) {
      if (depth >= GgufFile::kMaxArrayNesting) {
        Malformed(ctx + " has arrays nested more than " +
                  std::to_string(GgufFile::kMaxArrayNesting) + " levels deep");
      }
      if (n > kMaxNestedArrayElements) {
        Malformed(ctx + " is an array of " + std::to_string(n) +
                  " arrays, more than the limit of " + std::to_string(kMaxNestedArrayElements));
      }
      Need(n * kMinNestedArrayBytes, "array of arrays", ctx);
      v->arrays.resize(static_cast<size_t>(n));
      for (GgufValue& a : v->arrays) ReadArray(depth + 1, ctx, &a);
    } else {
      const uint64_t bytes = n * GgufTypeSize(v->elem_type);  // <= 2^33, no overflow
      Need(bytes, "array data", ctx);
      v->elems = base_ + pos_;
      pos_ += bytes;
    }
  }

  void ReadHeader(GgufFile* out) {
    Need(4, "magic", "");
    if (std::memcmp(base_, "GGUF", 4) != 0) {
      std::string magic;
      for (int i = 0; i < 4; ++i) {
        const char c = static_cast<char>(base_[i]);
        magic += (c >= 32 && c < 127) ? c : '?';
      }
      Fail(ErrorKind::kFormat,
           path_ + ": not a GGUF file (magic '" + magic + "', expected 'GGUF')");
    }
    pos_ = 4;
    const uint32_t version = Read<uint32_t>("version", "");
    if (version == 0) Malformed("version 0");
    if ((version & 0xFFFFu) == 0) {
      char hex[16];
      std::snprintf(hex, sizeof(hex), "0x%08x", version);
      Unsupported("GGUF version field " + std::string(hex) +
                  " looks byte-swapped; big-endian GGUF files are not supported");
    }
    if (version == 1) {
      Unsupported(
          "GGUF version 1 is no longer supported; re-convert the model with a current "
          "llama.cpp");
    }
    if (version > 3) {
      Unsupported("GGUF version " + std::to_string(version) +
                  " is not supported (supported: 2 and 3)");
    }
    out->version_ = version;
    n_tensors_ = Read<uint64_t>("tensor count", "");
    n_kv_ = Read<uint64_t>("key/value count", "");
    if (n_tensors_ > GgufFile::kMaxTensors) {
      Malformed("tensor count " + std::to_string(n_tensors_) + " exceeds the limit of " +
                std::to_string(GgufFile::kMaxTensors));
    }
    if (n_kv_ > GgufFile::kMaxKeyValues) {
      Malformed("key/value count " + std::to_string(n_kv_) + " exceeds the limit of " +
                std::to_string(GgufFile::kMaxKeyValues));
    }
    // Both counts are below 2^24, so this cannot overflow.
    Need(n_kv_ * kMinKvBytes + n_tensors_ * kMinTensorInfoBytes,
         (std::to_string(n_kv_) + " key/value pairs and " + std::to_string(n_tensors_) +
          " tensor infos")
             .c_str(),
         "");
  }

  void ReadKeyValues(GgufFile* out) {
    out->kvs_.reserve(static_cast<size_t>(n_kv_));
    for (uint64_t i = 0; i < n_kv_; ++i) {
      const std::string pair = "key/value pair #" + std::to_string(i);
      GgufKeyValue kv;
      kv.key = std::string(ReadString(GgufFile::kMaxKeyBytes, "key", pair));
      if (kv.key.empty()) Malformed(pair + " has an empty key");
      if (out->kv_index_.count(kv.key)) Malformed("duplicate key '" + kv.key + "'");
      const std::string ctx = "key '" + kv.key + "'";
      const uint32_t type = Read<uint32_t>("value type", ctx);
      if (type >= kGgufTypeCount) {
        Malformed(ctx + " has invalid value type " + std::to_string(type));
      }
      ReadValue(static_cast<GgufType>(type), ctx, &kv.value);
      out->kv_index_.emplace(kv.key, out->kvs_.size());
      out->kvs_.push_back(std::move(kv));
    }
  }

  void ReadAlignment(GgufFile* out) {
    const GgufValue* a = out->Find("general.alignment");
    if (!a) return;
    const std::optional<int64_t> v = a->ToInt();
    if (!v) Malformed("general.alignment must be an integer, not " + a->TypeString());
    const uint64_t align = static_cast<uint64_t>(*v);
    if (*v <= 0 || (align & (align - 1)) != 0 || align > kMaxAlignment) {
      Malformed("general.alignment " + std::to_string(*v) +
                " is not a power of two between 1 and 2^31");
    }
    out->alignment_ = align;
  }

  void ReadTensorInfos(GgufFile* out) {
    out->tensors_.reserve(static_cast<size_t>(n_tensors_));
    std::vector<std::string> unknown;
    for (uint64_t i = 0; i < n_tensors_; ++i) {
      GgufTensorInfo t;
      t.name = std::string(ReadString(GgufFile::kMaxTensorNameBytes, "tensor name",
                                      "tensor info #" + std::to_string(i)));
      if (t.name.empty()) Malformed("tensor info #" + std::to_string(i) + " has an empty name");
      if (out->tensor_index_.count(t.name)) Malformed("duplicate tensor name '" + t.name + "'");
      const std::string ctx = "tensor '" + t.name + "'";
      const uint32_t n_dims = Read<uint32_t>("dimension count", ctx);
      if (n_dims > static_cast<uint32_t>(TensorView::kMaxDims)) {
        Malformed(ctx + " has " + std::to_string(n_dims) + " dimensions (at most " +
                  std::to_string(TensorView::kMaxDims) + ")");
      }
      t.n_dims = static_cast<int>(n_dims);
      for (int j = 0; j < t.n_dims; ++j) {
        const uint64_t ne = Read<uint64_t>("dimension", ctx);
        if (ne == 0 || ne > kMaxTensorElements) {
          Malformed(ctx + " has dimension " + std::to_string(j) + " of " + std::to_string(ne) +
                    " elements");
        }
        t.ne[static_cast<size_t>(j)] = static_cast<int64_t>(ne);
      }
      t.ggml_type = Read<uint32_t>("type", ctx);
      t.offset = Read<uint64_t>("data offset", ctx);
      if (!FindGgmlType(t.ggml_type)) {
        unknown.push_back(t.name + " (type " + std::to_string(t.ggml_type) + ")");
      }
      out->tensor_index_.emplace(t.name, out->tensors_.size());
      out->tensors_.push_back(std::move(t));
    }
    if (!unknown.empty()) {
      std::string list;
      for (size_t i = 0; i < unknown.size() && i < 4; ++i) list += (i ? ", " : "") + unknown[i];
      if (unknown.size() > 4) list += ", and " + std::to_string(unknown.size() - 4) + " more";
      Unsupported(std::to_string(unknown.size()) + " tensor(s) of unknown ggml type: " + list);
    }
    for (GgufTensorInfo& t : out->tensors_) SizeTensor(&t);
  }

  void SizeTensor(GgufTensorInfo* t) const {
    const GgmlTypeInfo& type = *FindGgmlType(t->ggml_type);
    t->type_name = type.name;
    t->has_dtype = type.has_dtype;
    t->dtype = type.dtype;
    uint64_t n = 1;
    for (int j = 0; j < t->n_dims; ++j) {
      const uint64_t d = static_cast<uint64_t>(t->ne[static_cast<size_t>(j)]);
      if (n > kMaxTensorElements / d) {
        Malformed("tensor '" + t->name + "' has more than 2^48 elements");
      }
      n *= d;
    }
    const uint64_t row = t->n_dims == 0 ? 1 : static_cast<uint64_t>(t->ne[0]);
    if (row % static_cast<uint64_t>(type.block_elems) != 0) {
      Malformed("tensor '" + t->name + "' of type " + std::string(type.name) + " has rows of " +
                std::to_string(row) + " elements, not a multiple of the block size " +
                std::to_string(type.block_elems));
    }
    // n < 2^48 and block_bytes < 2^9: no overflow.
    t->n_bytes =
        n / static_cast<uint64_t>(type.block_elems) * static_cast<uint64_t>(type.block_bytes);
  }

  void LayOutData(GgufFile* out) {
    const uint64_t align = out->alignment_;
    uint64_t data_offset = pos_;
    if (n_tensors_ > 0) {
      data_offset = (pos_ + align - 1) / align * align;  // pos_ < 2^64 - 2^31: no overflow
      if (data_offset > size_) {
        Fail(ErrorKind::kIo, path_ +
                                 ": truncated GGUF file: the data section would start at byte " +
                                 std::to_string(data_offset) + " but the file has " +
                                 std::to_string(size_) + " bytes");
      }
    }
    out->data_offset_ = data_offset;
    const uint64_t data_size = size_ - data_offset;
    for (const GgufTensorInfo& t : out->tensors_) {
      if (t.offset % align != 0) {
        Malformed("tensor '" + t.name + "' data offset " + std::to_string(t.offset) +
                  " is not a multiple of the alignment " + std::to_string(align));
      }
      if (t.offset > data_size || t.n_bytes > data_size - t.offset) {
        Fail(ErrorKind::kIo,
             path_ + ": truncated GGUF file: tensor '" + t.name + "' data [" +
                 std::to_string(t.offset) + ", " + std::to_string(t.offset + t.n_bytes) +
                 ") runs past the end of the " + std::to_string(data_size) + "-byte data section");
      }
    }
    std::vector<const GgufTensorInfo*> by_offset;
    for (const GgufTensorInfo& t : out->tensors_) by_offset.push_back(&t);
    std::sort(
        by_offset.begin(), by_offset.end(),
        [](const GgufTensorInfo* a, const GgufTensorInfo* b) { return a->offset < b->offset; });
    for (size_t i = 1; i < by_offset.size(); ++i) {
      const GgufTensorInfo& a = *by_offset[i - 1];
      const GgufTensorInfo& b = *by_offset[i];
      if (b.offset < a.offset + a.n_bytes) {
        Malformed("the data of tensors '" + a.name + "' and '" + b.name + "' overlap");
      }
    }
    for (GgufTensorInfo& t : out->tensors_) {
      TensorView& v = t.view;
      v.dtype = t.dtype;
      v.n_dims = t.n_dims;
      for (int j = 0; j < t.n_dims; ++j) {
        v.shape[static_cast<size_t>(j)] = t.ne[static_cast<size_t>(t.n_dims - 1 - j)];
      }
      v.n_bytes = t.n_bytes;
      v.data = t.has_dtype ? base_ + data_offset + t.offset : nullptr;
    }
  }

  std::shared_ptr<const MappedFile> file_;
  const uint8_t* base_;
  uint64_t size_;
  const std::string& path_;
  uint64_t pos_ = 0;
  uint64_t n_tensors_ = 0;
  uint64_t n_kv_ = 0;
};

// ---------------------------------------------------------------------------------------------
// GgufFile

GgufFile GgufFile::Open(const std::string& path) {
  return Parse(MappedFile::Open(path));
}

GgufFile GgufFile::Parse(std::shared_ptr<const MappedFile> file) {
  return GgufParser(std::move(file)).Run();
}

const GgufValue* GgufFile::Find(std::string_view key) const {
  const auto it = kv_index_.find(key);
  return it == kv_index_.end() ? nullptr : &kvs_[it->second].value;
}

const GgufTensorInfo* GgufFile::FindTensor(std::string_view name) const {
  const auto it = tensor_index_.find(name);
  return it == tensor_index_.end() ? nullptr : &tensors_[it->second];
}

}  // namespace gemma
