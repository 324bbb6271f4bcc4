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
  std::string tokenizer;        // --tokenizer: overrides the checkpoint's
  std::string kv_type = "f16";  // --kv-type: KV cache storage (f32, f16, bf16, q8_0)
};

// -m/--model (required unless `model_required` is false), -t/--threads, -c/--ctx-size, --isa.
void AddModelFlags(CLI::App& app, ModelFlags* flags, bool model_required = true);

// --tokenizer FILE (gemma.cpp's spelling): tokenizer.model or tokenizer.json to use instead of
// the one the checkpoint ships.
void AddTokenizerFlag(CLI::App& app, ModelFlags* flags);

struct LogFlags {
  int verbose = 0;
  bool quiet = false;
  std::string level;
  int verbosity = -1;  // gemma.cpp's --verbosity: 0 errors only, 1 info, 2 debug, 3 trace
};
// -v (repeatable), -q, --log-level, --verbosity; applied by ApplyLogFlags before a command runs.
void AddLogFlags(CLI::App& app, LogFlags* flags);
void ApplyLogFlags(const LogFlags& flags);

// Loads the model and logs what a user should know (notes, dtype summary) at info/debug level.
std::shared_ptr<const Model> LoadModel(const ModelFlags& flags);
Tokenizer LoadTokenizer(const Model& model);
// The --tokenizer file when given, else the checkpoint's.
Tokenizer LoadTokenizer(const Model& model, const ModelFlags& flags);
// Threads, ISA and the context: -c when given, else the largest that fits in available memory
// up to min(model maximum, 8192). Throws Error(kUnsupported) when the plan does not fit.
SessionOptions MakeSessionOptions(const ModelFlags& flags, const Model& model);
// A --kv-type value ("f32", "f16", "bf16", "q8_0") as a dtype.
DType ParseKvType(const std::string& name);

// "2,651,107" or "2 651 107" -> ids; throws Error(kUsage) on anything else.
std::vector<int> ParseIdList(const std::string& text);

std::string ReadFileOrThrow(const std::string& path);
std::string ReadAllStdin();

}  // namespace gemma::cli
