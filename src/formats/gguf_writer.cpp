#include "formats/gguf_writer.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>

#include "gemma/error.h"

namespace gemma {
namespace {

void AppendLe32(std::string* s, uint32_t v) {
  s->append(reinterpret_cast<const char*>(&v), 4);
}
void AppendLe64(std::string* s, uint64_t v) {
  s->append(reinterpret_cast<const char*>(&v), 8);
}
void AppendStr(std::string* s, std::string_view v) {
  AppendLe64(s, v.size());
  s->append(v.data(), v.size());
}

}  // namespace

GgufOutValue GgufOutValue::Scalar(GgufType t, const void* p, size_t n) {
  GgufOutValue v;
  v.type_ = t;
  v.bytes_.assign(static_cast<const char*>(p), n);
  return v;
}

GgufOutValue GgufOutValue::String(std::string_view s) {
  GgufOutValue v;
  v.type_ = GgufType::kString;
  AppendStr(&v.bytes_, s);
  return v;
}

GgufOutValue GgufOutValue::RawArray(GgufType elem, const void* data, uint64_t count) {
  const size_t size = GgufTypeSize(elem);
  if (size == 0) Fail(ErrorKind::kUsage, "GGUF RawArray needs a fixed-size element type");
  GgufOutValue v;
  v.type_ = GgufType::kArray;
  AppendLe32(&v.bytes_, static_cast<uint32_t>(elem));
  AppendLe64(&v.bytes_, count);
  if (count > 0) v.bytes_.append(static_cast<const char*>(data), count * size);
  return v;
}

GgufOutValue GgufOutValue::StringArray(const std::vector<std::string>& strings) {
  GgufOutValue v;
  v.type_ = GgufType::kArray;
  AppendLe32(&v.bytes_, static_cast<uint32_t>(GgufType::kString));
  AppendLe64(&v.bytes_, strings.size());
  for (const std::string& s : strings) AppendStr(&v.bytes_, s);
  return v;
}

GgufOutValue GgufOutValue::Array(const std::vector<GgufOutValue>& elems, GgufType elem) {
  if (!elems.empty()) elem = elems[0].type();
  GgufOutValue v;
  v.type_ = GgufType::kArray;
  AppendLe32(&v.bytes_, static_cast<uint32_t>(elem));
  AppendLe64(&v.bytes_, elems.size());
  for (const GgufOutValue& e : elems) {
    if (e.type() != elem) Fail(ErrorKind::kUsage, "GGUF array elements must share one type");
    v.bytes_ += e.bytes();
  }
  return v;
}

GgufWriter::GgufWriter(uint64_t alignment) : alignment_(alignment) {
  if (alignment == 0 || (alignment & (alignment - 1)) != 0) {
    Fail(ErrorKind::kUsage,
         "GGUF alignment " + std::to_string(alignment) + " is not a power of two");
  }
  if (alignment != GgufFile::kDefaultAlignment) {
    SetU32("general.alignment", static_cast<uint32_t>(alignment));
  }
}

GgufWriter::~GgufWriter() {
  if (file_) std::fclose(file_);
  if (!finished_ && !part_path_.empty()) {
    std::error_code ec;
    std::filesystem::remove(part_path_, ec);
  }
}

void GgufWriter::Set(const std::string& key, GgufOutValue value) {
  if (file_) Fail(ErrorKind::kUsage, "GGUF metadata '" + key + "' set after Begin()");
  if (key.empty() || key.size() > GgufFile::kMaxKeyBytes) {
    Fail(ErrorKind::kUsage, "GGUF key '" + key + "' is empty or too long");
  }
  if (!keys_.emplace(key, true).second) {
    Fail(ErrorKind::kUsage, "GGUF key '" + key + "' set twice");
  }
  AppendStr(&meta_, key);
  AppendLe32(&meta_, static_cast<uint32_t>(value.type()));
  meta_ += value.bytes();
  ++n_kv_;
}

uint64_t GgufWriter::AddTensor(const std::string& name, DType dtype,
                               const std::vector<int64_t>& shape) {
  if (file_) Fail(ErrorKind::kUsage, "GGUF tensor '" + name + "' added after Begin()");
  if (name.empty() || name.size() > GgufFile::kMaxTensorNameBytes) {
    Fail(ErrorKind::kUsage, "GGUF tensor name '" + name + "' is empty or longer than 63 bytes");
  }
  if (tensor_index_.count(name)) Fail(ErrorKind::kUsage, "GGUF tensor '" + name + "' added twice");
  if (shape.empty() || shape.size() > static_cast<size_t>(TensorView::kMaxDims)) {
    Fail(ErrorKind::kUsage, "GGUF tensor '" + name + "' needs 1 to 4 dimensions");
  }
  uint64_t bytes = 0;
  std::string why;
  if (!ComputeTensorBytes(dtype, static_cast<int>(shape.size()), shape.data(), &bytes, &why)) {
    Fail(ErrorKind::kUsage, "GGUF tensor '" + name + "': " + why);
  }
  Tensor t{name, dtype, shape, data_size_, bytes};
  data_size_ += (bytes + alignment_ - 1) / alignment_ * alignment_;
  tensor_index_[name] = tensors_.size();
  tensors_.push_back(std::move(t));
  return bytes;
}

void GgufWriter::Put(const void* p, size_t n) {
  if (n == 0) return;
  if (std::fwrite(p, 1, n, file_) != n) {
    Fail(ErrorKind::kIo, part_path_ + ": write failed (" + std::strerror(errno) + ")");
  }
  written_ += n;
}

void GgufWriter::PadTo(uint64_t alignment) {
  static const char kZeros[64] = {};
  uint64_t pad = (alignment - written_ % alignment) % alignment;
  while (pad > 0) {
    const size_t n = static_cast<size_t>(std::min<uint64_t>(pad, sizeof(kZeros)));
    Put(kZeros, n);
    pad -= n;
  }
}

void GgufWriter::Begin(const std::string& path) {
  if (file_ || finished_) Fail(ErrorKind::kUsage, "GgufWriter::Begin called twice");
  path_ = path;
  part_path_ = path + ".part";
  file_ = std::fopen(part_path_.c_str(), "wb");
  if (!file_) {
    const std::string why = std::strerror(errno);
    part_path_.clear();
    Fail(ErrorKind::kIo, path + ": cannot create (" + why + ")");
  }
  std::string head = "GGUF";
  AppendLe32(&head, 3);
  AppendLe64(&head, tensors_.size());
  AppendLe64(&head, n_kv_);
  Put(head.data(), head.size());
  Put(meta_.data(), meta_.size());
  std::string().swap(meta_);
  std::string infos;
  for (const Tensor& t : tensors_) {
    AppendStr(&infos, t.name);
    AppendLe32(&infos, static_cast<uint32_t>(t.shape.size()));
    for (size_t i = t.shape.size(); i-- > 0;) AppendLe64(&infos, static_cast<uint64_t>(t.shape[i]));
    AppendLe32(&infos, GgmlTypeOf(t.dtype));
    AppendLe64(&infos, t.offset);
  }
  Put(infos.data(), infos.size());
  PadTo(alignment_);
  current_ = 0;
  current_done_ = 0;
}

void GgufWriter::WriteData(const void* data, uint64_t n_bytes) {
  if (!file_) Fail(ErrorKind::kUsage, "GgufWriter::WriteData before Begin()");
  const auto* p = static_cast<const uint8_t*>(data);
  while (n_bytes > 0) {
    if (current_ >= tensors_.size()) {
      Fail(ErrorKind::kUsage, "GGUF data written beyond the last tensor");
    }
    const Tensor& t = tensors_[current_];
    const uint64_t n = std::min(n_bytes, t.n_bytes - current_done_);
    Put(p, static_cast<size_t>(n));
    p += n;
    n_bytes -= n;
    current_done_ += n;
    if (current_done_ == t.n_bytes) {
      PadTo(alignment_);
      ++current_;
      current_done_ = 0;
    }
  }
}

void GgufWriter::Finish() {
  if (!file_) Fail(ErrorKind::kUsage, "GgufWriter::Finish before Begin()");
  // Zero-byte tensors cannot exist (dims are positive), so every tensor needs WriteData.
  if (current_ != tensors_.size()) {
    Fail(ErrorKind::kUsage, "GGUF tensor '" + tensors_[current_].name + "' has " +
                                std::to_string(current_done_) + " of " +
                                std::to_string(tensors_[current_].n_bytes) + " bytes written");
  }
  const bool ok = std::fflush(file_) == 0;
  const bool closed = std::fclose(file_) == 0;
  file_ = nullptr;
  if (!ok || !closed) Fail(ErrorKind::kIo, part_path_ + ": write failed");
  std::error_code ec;
  std::filesystem::rename(part_path_, path_, ec);
  if (ec) Fail(ErrorKind::kIo, path_ + ": cannot rename from .part (" + ec.message() + ")");
  finished_ = true;
}

}  // namespace gemma
