// Checkpoint: what a format reader hands to the model. Tensors carry canonical names (llama.cpp's
// GGUF spelling: token_embd, blk.N.attn_q, ...) so nothing downstream knows the file format.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/mapped_file.h"
#include "core/tensor.h"
#include "gemma/model_config.h"

namespace gemma {

struct NamedTensor {
  TensorView view;
  std::string file;       // where it came from, for messages
  std::string file_name;  // its name inside that file
};

using TensorMap = std::map<std::string, NamedTensor>;

// Where the vocabulary comes from. Exactly one of the three is set.
struct TokenizerSource {
  std::string spm_model_path;          // tokenizer.model (SentencePiece ModelProto)
  std::string hf_tokenizer_json_path;  // tokenizer.json (HF BPE), converted in memory
  // GGUF tokenizer.ggml.* arrays (converted in memory).
  std::string gguf_model;  // "llama" (SentencePiece) or "gemma4" (BPE)
  std::vector<std::string> gguf_tokens;
  std::vector<float> gguf_scores;
  std::vector<int32_t> gguf_token_types;
  std::vector<std::string> gguf_merges;

  bool empty() const {
    return spm_model_path.empty() && hf_tokenizer_json_path.empty() && gguf_tokens.empty();
  }
};

// Sampling defaults a checkpoint ships (generation_config.json, general.sampling.*).
struct GenerationDefaults {
  bool has_temperature = false, has_top_k = false, has_top_p = false, has_min_p = false;
  float temperature = 1.f;
  int top_k = 0;
  float top_p = 1.f;
  float min_p = 0.f;
  bool do_sample = true;
};

struct Checkpoint {
  std::string path;
  std::string format;  // "safetensors" or "gguf"
  ModelConfig config;
  TensorMap tensors;
  std::vector<std::shared_ptr<const MappedFile>> files;   // keep the mappings alive
  std::vector<std::shared_ptr<const void>> owned_memory;  // in-memory tensors (synthetic models)
  TokenizerSource tokenizer;
  std::string chat_template;  // raw template text when the checkpoint has one
  GenerationDefaults generation;
  std::vector<std::string> notes;  // things a user should know (e.g. vision tower ignored)
  // The quantization the file declares (GGUF general.file_type as a `--type` name, "q4_k_m"),
  // empty when it declares none or one we have no name for.
  std::string quant_type;

  const NamedTensor* Find(const std::string& name) const {
    auto it = tensors.find(name);
    return it == tensors.end() ? nullptr : &it->second;
  }
  uint64_t WeightBytes() const;
};

// Opens a Hugging Face directory (or a file inside one) or a GGUF file. Throws Error.
Checkpoint OpenCheckpoint(const std::string& path);

}  // namespace gemma
