// Sampling flags (llama.cpp spellings), their defaults from the checkpoint, stop ids, timings.
#pragma once

#include <CLI/CLI.hpp>
#include <optional>
#include <vector>

#include "model/generator.h"
#include "model/model.h"
#include "sampling/sampler.h"
#include "tokenizer/tokenizer.h"

namespace gemma::cli {

struct SamplingFlags {
  std::optional<float> temperature, top_p, min_p;
  std::optional<int> top_k;
  std::optional<uint64_t> seed;
  float repeat_penalty = 1.f;
  float presence_penalty = 0.f;
  float frequency_penalty = 0.f;
  int repeat_last_n = 64;
};

void AddSamplingFlags(CLI::App& app, SamplingFlags* flags);

// Flags override the checkpoint's generation defaults, which override ours (Google's
// recommended Gemma settings: temperature 1, top-k 64, top-p 0.95). Logged at info level.
SamplingParams MakeSamplingParams(const SamplingFlags& flags, const Model& model,
                                  const Tokenizer& tokenizer);

// The config's eos ids plus the tokenizer's turn-end piece (<end_of_turn>), gemma-models.md §4.4.
std::vector<int> StopIds(const Model& model, const Tokenizer& tokenizer);

void LogStats(const GenerateStats& stats);

}  // namespace gemma::cli
