#include "cli/common.h"

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iostream>
#include <sstream>

#include "gemma/error.h"

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
  app.add_option("--isa", f->isa, "Kernel instruction set: auto, avx2, scalar, ... (env GEMMA_ISA)");
}

void AddLogFlags(CLI::App& app, LogFlags* f) {
  app.add_flag("-v,--verbose", f->verbose, "More detail on stderr: settings, model facts (-vv: trace)");
  app.add_flag("-q,--quiet", f->quiet, "Only errors on stderr");
  app.add_option("--log-level", f->level, "trace, debug, info, warn, error, off");
}

void ApplyLogFlags(const LogFlags& f) {
  auto logger = spdlog::stderr_color_mt("gemma");
  logger->set_pattern("%^%l%$: %v");
  spdlog::set_default_logger(logger);
  spdlog::level::level_enum level = spdlog::level::info;
  if (f.verbose >= 1) level = spdlog::level::debug;
  if (f.verbose >= 2) level = spdlog::level::trace;
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

Tokenizer LoadTokenizer(const Model& model) {
  const TokenizerSource& src = model.checkpoint().tokenizer;
  if (src.empty()) {
    Fail(ErrorKind::kIo, model.checkpoint().path +
                             ": no tokenizer (expected tokenizer.model or tokenizer.json)");
  }
  return Tokenizer::Load(src, model.checkpoint().path);
}

SessionOptions MakeSessionOptions(const ModelFlags& flags) {
  SessionOptions o;
  o.context_length = flags.ctx_size;
  o.n_threads = flags.threads;
  o.isa = flags.isa;
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
