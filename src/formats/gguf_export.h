// Checkpoint -> GGUF, following llama.cpp's conventions (convert_hf_to_gguf.py, llama-quantize)
// for arch gemma, gemma2, gemma3 so other GGUF tools read our files: {arch}.* hyper-parameters,
// canonical tensor names, norm weights stored as 1 + w, tokenizer.ggml.* vocabulary with scores
// and token types, chat template. Tensors are converted row by row with QuantizeRow and streamed
// to disk in chunks, so peak memory stays near one tensor chunk, not the model.
//
// Tensor types (llama-quantize's rules for the simple types): 1-D tensors (norms) stay F32;
// 2-D tensors take the target type, except token_embd, which is Q8_0 when the target is
// Q4_0/Q4_1/Q5_0/Q5_1 (llama-quantize picks Q6_K for the tied output/embedding and falls back
// to Q8_0 when rows are not a multiple of 256; without K-quant quantizers we always take
// Q8_0); rows that are not a whole number of blocks stay F32.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "core/dtype.h"
#include "formats/checkpoint.h"

namespace gemma {

// A `--type` name: its llama.cpp file type (LLAMA_FTYPE_MOSTLY_*) and the tensor type of
// 2-D weights. K-quant presets are listed for the future but have `supported` false.
struct QuantPreset {
  std::string_view name;  // "q8_0", "q4_k_m", ...
  uint32_t file_type;     // general.file_type
  DType dtype;            // type of the bulk of the 2-D weights
  bool supported;
};
const std::vector<QuantPreset>& QuantPresets();
// Case-insensitive lookup. Throws Error(kUsage) for unknown names and Error(kUnsupported) for
// K-quant presets (no K-quant quantizers yet).
const QuantPreset& FindQuantPreset(std::string_view name);

// The type a tensor gets in the output for a given preset (see the file comment).
DType ExportTensorType(const std::string& name, const TensorView& src, const QuantPreset& p);

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
  uint64_t in_bytes = 0;           // source tensor bytes
  uint64_t out_bytes = 0;          // file size
  std::vector<std::string> notes;  // things a user should know (e.g. query scale differs)
};

// Writes `ck` to `out_path` as GGUF. Throws Error(kUnsupported) for architectures other than
// gemma/gemma2/gemma3, K-quant types, and configurations a GGUF cannot express (a layer
// pattern llama.cpp does not hard-code); Error(kIo) on write failures.
ExportStats ExportGguf(const Checkpoint& ck, const std::string& out_path, const ExportOptions& o);

}  // namespace gemma
