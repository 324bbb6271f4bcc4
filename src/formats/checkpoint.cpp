#include "formats/checkpoint.h"

#include <cstring>
#include <filesystem>
#include <fstream>

#include "formats/gguf_checkpoint.h"
#include "formats/hf_checkpoint.h"
#include "gemma/error.h"

namespace gemma {

namespace fs = std::filesystem;

uint64_t Checkpoint::WeightBytes() const {
  uint64_t total = 0;
  for (const auto& [name, t] : tensors) total += t.view.n_bytes;
  return total;
}

Checkpoint OpenCheckpoint(const std::string& path) {
  std::error_code ec;
  if (!fs::exists(path, ec)) Fail(ErrorKind::kIo, path + ": no such file or directory");
  if (fs::is_directory(path, ec)) return OpenHfCheckpoint(path);
  char magic[4] = {};
  {
    std::ifstream in(path, std::ios::binary);
    if (!in) Fail(ErrorKind::kIo, path + ": cannot open");
    in.read(magic, 4);
  }
  if (std::memcmp(magic, "GGUF", 4) == 0) return OpenGgufCheckpoint(path);
  // A file inside a Hugging Face directory (model.safetensors, config.json) names the directory.
  const fs::path parent = fs::path(path).parent_path();
  const std::string ext = fs::path(path).extension().string();
  if ((ext == ".safetensors" || ext == ".json") && fs::exists(parent / "config.json")) {
    return OpenHfCheckpoint(parent.empty() ? "." : parent.string());
  }
  if (ext == ".gguf") Fail(ErrorKind::kFormat, path + ": not a GGUF file (bad magic)");
  Fail(ErrorKind::kFormat, path +
                               ": unrecognised model format (expected a Hugging Face directory "
                               "with config.json, or a .gguf file)");
}

}  // namespace gemma
