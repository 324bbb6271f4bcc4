// Memory-mapped safetensors reader: u64 little-endian header length N, N bytes of JSON
// (name -> {dtype, shape, data_offsets}), then raw data. Every offset and shape is checked
// against the file before a view is handed out.
#pragma once

#include <map>
#include <memory>
#include <string>

#include "core/mapped_file.h"
#include "core/tensor.h"

namespace gemma {

struct SafetensorsFile {
  std::shared_ptr<const MappedFile> file;
  std::map<std::string, TensorView> tensors;
  // Tensors whose dtype we cannot compute with (I64, F8, ...): name -> dtype string. They are
  // only an error if the model needs them.
  std::map<std::string, std::string> unsupported;
  std::map<std::string, std::string> metadata;
};

// Throws Error(kIo) for unreadable/truncated files and Error(kFormat) for malformed headers.
SafetensorsFile ReadSafetensors(const std::string& path);

// Parses the header of an already mapped file (exposed for fuzzing).
SafetensorsFile ParseSafetensors(std::shared_ptr<const MappedFile> file);

}  // namespace gemma
