// `gemma quantize --type` presets and the tensor type each tensor gets, following llama-quantize
// (src/llama-quant.cpp: llama_tensor_get_type_impl and tensor_type_fallback) for what a Gemma
// checkpoint holds: 1-D tensors (norms) stay F32; token_embd doubles as the output matrix
// (Gemma ties them), so it takes llama.cpp's output rule; the _M/_S mixtures raise attn_v and
// ffn_down in some layers; rows that are not a whole number of blocks fall back to a type whose
// block fits (K-quants need rows of 256: Q4_K -> Q5_0, Q5_K -> Q5_1, Q6_K -> Q8_0, then F16).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/dtype.h"
#include "core/tensor.h"

namespace gemma {

// A `--type` name: its llama.cpp file type (LLAMA_FTYPE_MOSTLY_*) and the tensor type of
// 2-D weights.
struct QuantPreset {
  std::string_view name;  // "q8_0", "q4_k_m", ...
  uint32_t file_type;     // general.file_type
  DType dtype;            // type of the bulk of the 2-D weights
  bool supported;         // false: needs a quantizer we do not have (Q2_K, Q3_K)
  bool pure;              // llama-quantize --pure: no mixture rules, only the row-size fallback
};
const std::vector<QuantPreset>& QuantPresets();
// Case-insensitive lookup. Throws Error(kUsage) for unknown names and Error(kUnsupported) for
// presets without a quantizer (q2_k, q3_k_*).
const QuantPreset& FindQuantPreset(std::string_view name);
// "f32, f16, ..., q4_k_m": the supported names, for messages and --help.
std::string SupportedQuantTypeNames();
// The preset a GGUF's general.file_type names (the mixture, not --pure; q2_k and q3_k_* too), or
// null for a file type we have no preset of.
const QuantPreset* PresetOfFileType(uint32_t file_type);

// The type tensor `name` (shape of `src`) gets in a model of `n_layers` blocks (see the file
// comment).
DType ExportTensorType(const std::string& name, const TensorView& src, const QuantPreset& p,
                       int n_layers);

}  // namespace gemma
