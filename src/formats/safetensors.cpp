#include "formats/safetensors.h"

#include <algorithm>
#include <cstring>
#include <nlohmann/json.hpp>
#include <vector>

#include "gemma/error.h"

namespace gemma {
namespace {

using nlohmann::json;

// The JSON header of real checkpoints is well under 1 MiB; 100 MiB guards against a lying length.
constexpr uint64_t kMaxHeaderBytes = 100ull << 20;

bool ParseDType(const std::string& s, DType* out) {
  if (s == "F32")
    *out = DType::kF32;
  else if (s == "F16")
    *out = DType::kF16;
  else if (s == "BF16")
    *out = DType::kBF16;
  else
    return false;
  return true;
}

[[noreturn]] void Malformed(const std::string& path, const std::string& what) {
  Fail(ErrorKind::kFormat, path + ": malformed safetensors header: " + what);
}

}  // namespace

SafetensorsFile ReadSafetensors(const std::string& path) {
  return ParseSafetensors(MappedFile::Open(path));
}

SafetensorsFile ParseSafetensors(std::shared_ptr<const MappedFile> file) {
  const std::string& path = file->path();
  if (file->size() < 8) {
    Fail(ErrorKind::kIo, path + ": truncated safetensors file (" + std::to_string(file->size()) +
                             " bytes, the 8-byte header length is missing)");
  }
  uint64_t header_len = 0;
  std::memcpy(&header_len, file->data(), 8);  // little-endian hosts only (x86-64, aarch64)
  if (header_len > kMaxHeaderBytes) {
    Malformed(path, "header length " + std::to_string(header_len) + " is implausible");
  }
  if (!file->Contains(8, header_len)) {
    Fail(ErrorKind::kIo, path + ": truncated safetensors file: header of " +
                             std::to_string(header_len) + " bytes runs past the end of the " +
                             std::to_string(file->size()) + "-byte file");
  }
  const uint64_t data_start = 8 + header_len;
  const uint64_t data_size = file->size() - data_start;

  json header;
  try {
    header = json::parse(reinterpret_cast<const char*>(file->data()) + 8,
                         reinterpret_cast<const char*>(file->data()) + data_start);
  } catch (const json::exception& e) {
    Malformed(path, std::string("invalid JSON (") + e.what() + ")");
  }
  if (!header.is_object()) Malformed(path, "header is not a JSON object");

  SafetensorsFile out;
  out.file = file;
  struct Span {
    uint64_t begin, end;
    const std::string* name;
  };
  std::vector<Span> spans;
  for (auto it = header.begin(); it != header.end(); ++it) {
    const std::string& name = it.key();
    const json& entry = it.value();
    if (name == "__metadata__") {
      if (entry.is_object()) {
        for (auto m = entry.begin(); m != entry.end(); ++m) {
          if (m.value().is_string()) out.metadata[m.key()] = m.value().get<std::string>();
        }
      }
      continue;
    }
    if (!entry.is_object()) Malformed(path, "entry '" + name + "' is not an object");
    const auto dtype_it = entry.find("dtype");
    const auto shape_it = entry.find("shape");
    const auto offs_it = entry.find("data_offsets");
    if (dtype_it == entry.end() || !dtype_it->is_string() || shape_it == entry.end() ||
        !shape_it->is_array() || offs_it == entry.end() || !offs_it->is_array() ||
        offs_it->size() != 2) {
      Malformed(path, "tensor '" + name + "' lacks dtype, shape or data_offsets");
    }
    for (const json& v : *offs_it) {
      if (!v.is_number_unsigned()) Malformed(path, "tensor '" + name + "' has a bad offset");
    }
    const uint64_t begin = (*offs_it)[0].get<uint64_t>();
    const uint64_t end = (*offs_it)[1].get<uint64_t>();
    if (begin > end || end > data_size) {
      Fail(ErrorKind::kFormat, path + ": tensor '" + name + "' data [" + std::to_string(begin) +
                                   ", " + std::to_string(end) +
                                   ") runs past the end of the file (" + std::to_string(data_size) +
                                   " data bytes)");
    }
    if (shape_it->size() > static_cast<size_t>(TensorView::kMaxDims)) {
      Malformed(path, "tensor '" + name + "' has " + std::to_string(shape_it->size()) + " dims");
    }
    spans.push_back({begin, end, &name});

    const std::string dtype_name = dtype_it->get<std::string>();
    DType dtype;
    if (!ParseDType(dtype_name, &dtype)) {
      out.unsupported[name] = dtype_name;
      continue;
    }
    TensorView v;
    v.dtype = dtype;
    v.n_dims = static_cast<int>(shape_it->size());
    for (int i = 0; i < v.n_dims; ++i) {
      const json& d = (*shape_it)[static_cast<size_t>(i)];
      if (!d.is_number_integer()) Malformed(path, "tensor '" + name + "' has a bad shape");
      v.shape[static_cast<size_t>(i)] = d.get<int64_t>();
    }
    uint64_t bytes = 0;
    std::string why;
    if (!ComputeTensorBytes(dtype, v.n_dims, v.shape.data(), &bytes, &why)) {
      Malformed(path, "tensor '" + name + "' " + why);
    }
    if (bytes != end - begin) {
      Malformed(path, "tensor '" + name + "' has shape " + v.ShapeString() + " (" +
                          std::to_string(bytes) + " bytes of " + dtype_name + ") but " +
                          std::to_string(end - begin) + " bytes of data");
    }
    // Kernels read elements in place through typed pointers; the mapping is page-aligned, so the
    // file offset must be a multiple of the element size (writers pad the header to 8 bytes).
    const uint64_t element_bytes = GetDTypeInfo(dtype).block_bytes;
    if ((data_start + begin) % element_bytes != 0) {
      Malformed(path, "tensor '" + name + "' data at file offset " +
                          std::to_string(data_start + begin) + " is not aligned to its " +
                          std::to_string(element_bytes) + "-byte " + dtype_name + " elements");
    }
    v.data = file->data() + data_start + begin;
    v.n_bytes = bytes;
    out.tensors[name] = v;
  }
  std::sort(spans.begin(), spans.end(),
            [](const Span& a, const Span& b) { return a.begin < b.begin; });
  for (size_t i = 1; i < spans.size(); ++i) {
    if (spans[i].begin < spans[i - 1].end) {
      Malformed(path, "tensors '" + *spans[i - 1].name + "' and '" + *spans[i].name + "' overlap");
    }
  }
  return out;
}

}  // namespace gemma
