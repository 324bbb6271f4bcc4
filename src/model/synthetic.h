// Random-weight models with the exact shapes of real Gemma releases, built in memory in any
// supported weight type: speed does not depend on the values, so benchmarks need no download.
// The configs are written as Hugging Face config.json text and parsed by the one HF config
// reader, so a synthetic model is configured exactly like a downloaded one.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/dtype.h"
#include "formats/checkpoint.h"
#include "formats/gguf_tensor_types.h"

namespace gemma {

// Names accepted by MakeSyntheticCheckpoint: gemma1-2b, gemma2-2b, gemma2-9b, gemma3-270m,
// gemma3-1b, gemma3-4b, gemma3n-e2b, gemma4-e2b, gemma4-e4b, gemma4-26b-a4b, gemma4-31b.
std::vector<std::string> SyntheticModelNames();

// The config.json text of a known real config; throws Error(kUsage) for unknown names.
std::string SyntheticConfigJson(const std::string& name);

// Builds the checkpoint in memory, deterministic from `seed`: each matrix in the type
// llama-quantize gives it under `preset` (ExportTensorType: e.g. q4_0 keeps token_embd in Q8_0
// when its rows are not a multiple of 256), norms f32. Values are small random numbers (valid,
// finite blocks for quantized types).
Checkpoint MakeSyntheticCheckpoint(const std::string& name, const QuantPreset& preset,
                                   uint64_t seed = 1);

}  // namespace gemma
