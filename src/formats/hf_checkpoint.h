// A Hugging Face checkpoint directory: config.json, model.safetensors or sharded
// model-0000k-of-0000n.safetensors + model.safetensors.index.json, tokenizer files,
// generation_config.json.
#pragma once

#include <string>

#include "formats/checkpoint.h"

namespace gemma {

Checkpoint OpenHfCheckpoint(const std::string& dir);

// HF tensor name (prefix already removed, e.g. "layers.3.self_attn.q_proj.weight") -> canonical
// GGUF-style name, or "" when the tensor is not part of the text model we run.
std::string CanonicalTensorName(ModelFamily family, const std::string& hf_name);

}  // namespace gemma
