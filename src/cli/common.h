// Flags and helpers shared by several subcommands.
#pragma once

#include <CLI/CLI.hpp>
#include <memory>
#include <string>
#include <vector>

#include "model/model.h"
#include "model/session.h"
#include "tokenizer/tokenizer.h"

namespace gemma::cli {

struct ModelFlags {
  std::string model;
  int threads = 0;
  int ctx_size = 0;
  std::string isa = "auto";
};

// -m/--model (required unless `model_required` is false), -t/--threads, -c/--ctx-size, --isa.
void AddModelFlags(CLI::App& app, ModelFlags* flags, bool model_required = true);

struct LogFlags {
  int verbose = 0;
  bool quiet = false;
  std::string level;
};
// -v (repeatable), -q, --log-level; applied by ApplyLogFlags before a command runs.
void AddLogFlags(CLI::App& app, LogFlags* flags);
void ApplyLogFlags(const LogFlags& flags);

// Loads the model and logs what a user should know (notes, dtype summary) at info/debug level.
std::shared_ptr<const Model> LoadModel(const ModelFlags& flags);
Tokenizer LoadTokenizer(const Model& model);
SessionOptions MakeSessionOptions(const ModelFlags& flags);

// "2,651,107" or "2 651 107" -> ids; throws Error(kUsage) on anything else.
std::vector<int> ParseIdList(const std::string& text);

std::string ReadFileOrThrow(const std::string& path);
std::string ReadAllStdin();

}  // namespace gemma::cli
