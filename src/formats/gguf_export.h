// Checkpoint -> GGUF, following llama.cpp's conventions (convert_hf_to_gguf.py, llama-quantize)
// for arch gemma, gemma2, gemma3 so other GGUF tools read our files: {arch}.* hyper-parameters,
// canonical tensor names, norm weights stored as 1 + w, tokenizer.ggml.* vocabulary with scores
// and token types, chat template. Tensor types per preset: formats/gguf_tensor_types.h.
// Tensors are converted one at a time, in chunks of rows (rows split across threads, each row
// quantized independently, so the bytes do not depend on the thread count) and streamed to
// disk, so peak memory stays near one chunk, not the model.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "core/dtype.h"
#include "formats/checkpoint.h"
#include "formats/gguf_tensor_types.h"

namespace gemma {

struct ExportProgress {
  size_t tensor_index = 0, n_tensors = 0;
  std::string tensor_name;
  uint64_t bytes_done = 0, bytes_total = 0;  // output tensor bytes
};

struct ExportOptions {
  std::string type = "f32";  // a QuantPreset name
  int n_threads = 1;
  std::function<void(const ExportProgress&)> progress;  // called after every chunk
  uint64_t chunk_bytes = uint64_t{32} << 20;            // output bytes converted per chunk
};

struct ExportStats {
  size_t n_tensors = 0;
  uint64_t params = 0;
  uint64_t in_bytes = 0;                 // source tensor bytes
  uint64_t out_bytes = 0;                // file size
  std::map<DType, size_t> tensor_types;  // how many tensors of each type were written
  std::vector<std::string> notes;        // things a user should know (e.g. query scale differs)
};

// Writes `ck` to `out_path` as GGUF. Throws Error(kUnsupported) for architectures other than
// gemma/gemma2/gemma3, types without a quantizer (Q2_K, Q3_K), and configurations a GGUF cannot
// express (a layer pattern llama.cpp does not hard-code); Error(kIo) on write failures.
ExportStats ExportGguf(const Checkpoint& ck, const std::string& out_path, const ExportOptions& o);

}  // namespace gemma
