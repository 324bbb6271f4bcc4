// libFuzzer target: safetensors file bytes -> ParseSafetensors (the u64 header length, the JSON
// header, offsets, shapes and overlap checks).
#include <cstddef>
#include <cstdint>

#include "core/mapped_file.h"
#include "formats/safetensors.h"
#include "fuzz_util.h"
#include "gemma/error.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace gemma;
  const std::string path =
      gemma::fuzz::WriteScratch("model.safetensors", gemma::fuzz::AsText(data, size));
  try {
    const SafetensorsFile f = ParseSafetensors(MappedFile::Open(path));
    // Touch the first and last byte of every view: they must lie inside the mapping.
    volatile uint8_t sink = 0;
    for (const auto& [name, v] : f.tensors) {
      if (v.n_bytes == 0) continue;
      const uint8_t* p = static_cast<const uint8_t*>(v.data);
      sink = sink + p[0] + p[v.n_bytes - 1];
    }
  } catch (const Error&) {
  }
  return 0;
}
