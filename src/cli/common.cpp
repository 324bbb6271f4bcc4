#include "cli/common.h"

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iostream>
#include <sstream>

#include "gemma/error.h"
#include "model/memory_plan.h"

namespace gemma::cli {

void AddModelFlags(CLI::App& app, ModelFlags* f, bool model_required) {
  auto* m = app.add_option("-m,--model,--weights", f->model,
                           "Model: a Hugging Face directory or a .gguf file");
  if (model_required) m->required();
  app.add_option("-t,--threads", f->threads, "Threads (default: all cores)")
      ->check(CLI::NonNegativeNumber);
  app.add_option("-c,--ctx-size", f->ctx_size,
                 "Context length in tokens (default: the model's, at most 8192)")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--kv-type,--cache-type-k", f->kv_type,
                 "KV cache storage: f16 or bf16 (half the memory of f32), q8_0 (about a quarter; "
                 "head dims must be multiples of 32), f32 (exact); default f16 (f32 for logits)")
      ->check(CLI::IsMember({"f32", "f16", "bf16", "q8_0"}));
  app.add_option("--isa", f->isa,
                 "Kernel instruction set: auto (the best this CPU runs), avx512 (AVX-512 + "
                 "VNNI), avx-vnni, avx2 (8-bit activations for Q8_0/Q4_0, as the three "
                 "before), avx2-f32 (AVX2 with f32 activations, exact), neon-dotprod (ARM, "
                 "8-bit activations), neon, scalar (env GEMMA_ISA)");
}

void AddTokenizerFlag(CLI::App& app, ModelFlags* f) {
  app.add_option("--tokenizer", f->tokenizer,
                 "tokenizer.model or tokenizer.json to use instead of the checkpoint's");
}

void AddLogFlags(CLI::App& app, LogFlags* f) {
  app.add_flag("-v,--verbose", f->verbose,
               "More detail on stderr: settings, model facts (-vv: trace)");
  app.add_flag("-q,--quiet", f->quiet, "Only errors on stderr");
  app.add_option("--log-level", f->level, "trace, debug, info, warn, error, off");
  app.add_option("--verbosity", f->verbosity, "gemma.cpp's levels: 0 errors only, 1 info, 2 debug")
      ->check(CLI::Range(0, 3));
}

void ApplyLogFlags(const LogFlags& f) {
  auto logger = spdlog::stderr_color_mt("gemma");
  logger->set_pattern("%^%l%$: %v");
  spdlog::set_default_logger(logger);
  spdlog::level::level_enum level = spdlog::level::info;
  if (f.verbose >= 1) level = spdlog::level::debug;
  if (f.verbose >= 2) level = spdlog::level::trace;
  if (f.verbosity >= 0) {
    constexpr spdlog::level::level_enum kByVerbosity[] = {
        spdlog::level::err, spdlog::level::info, spdlog::level::debug, spdlog::level::trace};
    level = kByVerbosity[f.verbosity];
  }
  if (f.quiet) level = spdlog::level::err;
  if (!f.level.empty()) {
    level = spdlog::level::from_str(f.level);
    if (level == spdlog::level::off && f.level != "off") {
      Fail(ErrorKind::kUsage, "unknown --log-level '" + f.level + "'");
    }
  }
  spdlog::set_level(level);
}

std::shared_ptr<const Model> LoadModel(const ModelFlags& flags) {
  auto model = Model::Load(flags.model);
  for (const std::string& note : model->checkpoint().notes) spdlog::warn("{}", note);
  const ModelConfig& c = model->config();
  spdlog::debug("model: {} ({}), {} layers, d_model {}, vocab {}", c.architecture,
                model->checkpoint().format, c.n_layers, c.d_model, c.vocab_size);
  return model;
}

namespace {

// A tokenizer that can produce ids past the embedding table belongs to another model; the
// reverse (an embedding padded past the vocabulary) is normal.
Tokenizer CheckedAgainstModel(Tokenizer tokenizer, const Model& model, const std::string& origin) {
  if (tokenizer.vocab_size() > model.config().vocab_size) {
    Fail(ErrorKind::kFormat,
         origin + ": the tokenizer has " + std::to_string(tokenizer.vocab_size()) +
             " pieces but the model's vocabulary has " + std::to_string(model.config().vocab_size) +
             " (tokenizer from another model?)");
  }
  return tokenizer;
}

}  // namespace

Tokenizer LoadTokenizer(const Model& model) {
  const TokenizerSource& src = model.checkpoint().tokenizer;
  if (src.empty()) {
    Fail(ErrorKind::kIo,
         model.checkpoint().path + ": no tokenizer (expected tokenizer.model or tokenizer.json)");
  }
  return CheckedAgainstModel(Tokenizer::Load(src, model.checkpoint().path), model,
                             model.checkpoint().path);
}

Tokenizer LoadTokenizer(const Model& model, const ModelFlags& flags) {
  if (flags.tokenizer.empty()) return LoadTokenizer(model);
  TokenizerSource src;
  const std::string& t = flags.tokenizer;
  if (t.size() >= 5 && t.compare(t.size() - 5, 5, ".json") == 0) {
    src.hf_tokenizer_json_path = t;
  } else {
    src.spm_model_path = t;
  }
  return CheckedAgainstModel(Tokenizer::Load(src, t), model, t);
}

DType ParseKvType(const std::string& name) {
  if (name == "f32") return DType::kF32;
  if (name == "bf16") return DType::kBF16;
  if (name == "q8_0") return DType::kQ8_0;
  return DType::kF16;  // the flags admit only f32, f16, bf16, q8_0
}

SessionOptions MakeSessionOptions(const ModelFlags& flags, const Model& model) {
  SessionOptions o;
  o.n_threads = flags.threads;
  o.isa = flags.isa;
  o.kv_type = ParseKvType(flags.kv_type);
  const std::optional<uint64_t> available = AvailableMemoryBytes();
  o.context_length = ChooseContextLength(model, flags.ctx_size, o.max_batch,
                                         SessionOptions::kDefaultContextCap, available, o.kv_type);
  const MemoryPlan plan = PlanMemory(model, o.context_length, o.max_batch, o.kv_type, o.n_threads);
  spdlog::debug(
      "context {} tokens{} (model maximum {}); memory: weights {}, KV cache {}, "
      "scratch {}, available {}",
      o.context_length, flags.ctx_size > 0 ? " (-c)" : "", model.config().context_length,
      FormatBytes(plan.weight_bytes), FormatBytes(plan.kv_cache_bytes),
      FormatBytes(plan.scratch_bytes),
      available ? FormatBytes(*available) : std::string("unknown"));
  CheckMemoryFits(plan, o.context_length, available);
  return o;
}

std::vector<int> ParseIdList(const std::string& text) {
  std::vector<int> ids;
  std::string token;
  auto flush = [&] {
    if (token.empty()) return;
    size_t used = 0;
    long v = -1;
    try {
      v = std::stol(token, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used != token.size() || v < 0 || v > (1L << 30)) {
      Fail(ErrorKind::kUsage, "bad token id '" + token + "' (expected non-negative integers)");
    }
    ids.push_back(static_cast<int>(v));
    token.clear();
  };
  for (char ch : text) {
    if (ch == ',' || ch == ' ' || ch == '\n' || ch == '\t' || ch == '[' || ch == ']') {
      flush();
    } else {
      token += ch;
    }
  }
  flush();
  return ids;
}

std::string ReadFileOrThrow(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) Fail(ErrorKind::kIo, path + ": cannot open: " + std::strerror(errno));
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string ReadAllStdin() {
  std::ostringstream ss;
  ss << std::cin.rdbuf();
  return ss.str();
}

}  // namespace gemma::cli
