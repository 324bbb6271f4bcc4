// Hugging Face config.json -> ModelConfig for model_type gemma, gemma2, gemma3_text and the text
// half of gemma3 (text_config). Tensor-dependent fields (vocab size) are filled by the caller.
#pragma once

#include <string>
#include <vector>

#include "formats/checkpoint.h"
#include "gemma/model_config.h"

namespace gemma {

struct HfConfig {
  ModelConfig config;
  std::vector<std::string> notes;
};

// `json_text` is the content of config.json; `path` is used in messages only.
// Throws Error(kFormat) for bad JSON or missing keys, Error(kUnsupported) for other model types.
HfConfig ParseHfConfig(const std::string& json_text, const std::string& path);

// generation_config.json: sampling defaults and extra eos ids.
void ParseHfGenerationConfig(const std::string& json_text, const std::string& path,
                             GenerationDefaults* defaults, std::vector<int>* eos_ids);

}  // namespace gemma
