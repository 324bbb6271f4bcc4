// Sampling flags (llama.cpp spellings), their defaults from the checkpoint, stop ids, timings.
#pragma once

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
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
  std::vector<std::string> stop;  // --stop, repeatable
};

void AddSamplingFlags(CLI::App& app, SamplingFlags* flags);

// Flags override the checkpoint's generation defaults, which override ours (Google's
// recommended Gemma settings: temperature 1, top-k 64, top-p 0.95). Logged at info level.
SamplingParams MakeSamplingParams(const SamplingFlags& flags, const Model& model,
                                  const Tokenizer& tokenizer);

// The config's eos ids plus the tokenizer's <eos> and the chat format's turn-end piece
// (<end_of_turn>, Gemma 4: <turn|>), gemma-models.md §4.4.
std::vector<int> StopIds(const Model& model, const Tokenizer& tokenizer);

// Stop ids, --stop strings, the SIGINT flag as cancel, and a prefill progress bar on a terminal.
GenerateOptions MakeGenerateOptions(const SamplingFlags& flags, const Model& model,
                                    const Tokenizer& tokenizer, int max_tokens);

void LogStats(const GenerateStats& stats);

// "stop" (stop token or string), "length" (-n or the context ran out), "cancelled" (SIGINT).
const char* JsonFinishReason(FinishReason r);

// prompt_tokens, generated_tokens, time_to_first_token_ms, prompt_tokens_per_second,
// tokens_per_second, finish_reason.
nlohmann::ordered_json StatsJson(const GenerateStats& stats);

// One line of JSON (invalid UTF-8 in generated text becomes U+FFFD).
std::string JsonLine(const nlohmann::ordered_json& value);

}  // namespace gemma::cli
