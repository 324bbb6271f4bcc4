// gemma batch: one prompt template over many files, the model loaded once; one JSON line per
// file on stdout (or one result file per input with --output-dir).
#include <glob.h>
#include <spdlog/spdlog.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <set>

#include "cli/command.h"
#include "cli/common.h"
#include "cli/long_document.h"
#include "cli/prompt_builder.h"
#include "cli/sampling_flags.h"
#include "cli/terminal.h"
#include "gemma/error.h"

namespace gemma::cli {
namespace {

namespace fs = std::filesystem;

constexpr char kDefaultTemplate[] = "Summarize the following text in a few sentences.\n\n{text}";

struct BatchFlags {
  ModelFlags model;
  SamplingFlags sampling;
  ThinkingFlags thinking;
  std::vector<std::string> inputs;
  std::string prompt = kDefaultTemplate;
  std::string prompt_file;
  std::string system;
  int max_tokens = 512;
  std::string output_dir;
  std::string truncate;
  bool chunked = false;
  bool chat = false;
  bool raw = false;
};

struct Input {
  std::string path;
  std::string error;  // set when a glob matched nothing
};

bool HasGlobChars(const std::string& s) {
  return s.find_first_of("*?[") != std::string::npos;
}

std::vector<std::string> ReadListFromStdin() {
  std::vector<std::string> paths;
  std::string line;
  while (std::getline(std::cin, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (!line.empty()) paths.push_back(line);
  }
  return paths;
}

// Arguments as given; a quoted glob is expanded here (sorted); "-" or no argument at all reads
// one path per line from stdin.
std::vector<Input> ListInputs(const std::vector<std::string>& args) {
  std::vector<std::string> items;
  if (args.empty()) {
    if (StdinIsTerminal()) {
      Fail(ErrorKind::kUsage,
           "no input files: give FILE..., a quoted glob, or a list of paths on stdin");
    }
    items = ReadListFromStdin();
  }
  for (const std::string& a : args) {
    if (a == "-") {
      const std::vector<std::string> more = ReadListFromStdin();
      items.insert(items.end(), more.begin(), more.end());
    } else {
      items.push_back(a);
    }
  }
  std::vector<Input> inputs;
  for (const std::string& item : items) {
    std::error_code ec;
    if (!HasGlobChars(item) || fs::exists(item, ec)) {
      inputs.push_back({item, ""});
      continue;
    }
    glob_t g{};
    if (glob(item.c_str(), 0, nullptr, &g) == 0) {
      for (size_t i = 0; i < g.gl_pathc; ++i) inputs.push_back({g.gl_pathv[i], ""});
    } else {
      inputs.push_back({item, "no file matches this pattern"});
    }
    globfree(&g);
  }
  if (inputs.empty()) Fail(ErrorKind::kUsage, "no input files (the list on stdin was empty)");
  return inputs;
}

// --output-dir: DIR/<input file name>. Refuses names that collide or would overwrite an input.
std::vector<std::string> OutputPaths(const std::vector<Input>& inputs, const std::string& dir) {
  std::vector<std::string> out;
  if (dir.empty()) return out;
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec || !fs::is_directory(dir)) {
    Fail(ErrorKind::kIo, dir + ": cannot create the output directory: " + ec.message());
  }
  const fs::path canon_dir = fs::weakly_canonical(dir, ec);
  std::set<std::string> seen;
  for (const Input& in : inputs) {
    const fs::path name = fs::path(in.path).filename();
    if (!seen.insert(name.string()).second) {
      Fail(ErrorKind::kUsage, "two inputs are named '" + name.string() + "'; --output-dir " +
                                  "writes DIR/<file name>, so they would overwrite each other");
    }
    if (fs::weakly_canonical(fs::path(in.path), ec).parent_path() == canon_dir) {
      Fail(ErrorKind::kUsage, in.path +
                                  ": --output-dir is the input's own folder; the result "
                                  "would overwrite the input");
    }
    out.push_back((fs::path(dir) / name).string());
  }
  return out;
}

LongInputMode ModeFromFlags(const BatchFlags& f) {
  if (f.chunked && !f.truncate.empty()) {
    Fail(ErrorKind::kUsage, "--truncate and --chunked exclude each other");
  }
  if (f.chunked) return LongInputMode::kChunked;
  if (f.truncate == "head") return LongInputMode::kTruncateHead;
  if (f.truncate == "tail") return LongInputMode::kTruncateTail;
  if (!f.truncate.empty()) {
    Fail(ErrorKind::kUsage, "--truncate must be head or tail (got '" + f.truncate + "')");
  }
  return kDefaultLongInputMode;
}

void WriteResultFile(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text << '\n';
  out.close();
  if (!out) Fail(ErrorKind::kIo, path + ": cannot write the result");
}

int Batch(const BatchFlags& f) {
  InstallSigintHandler();
  const LongInputMode mode = ModeFromFlags(f);
  std::string tmpl = f.prompt;
  if (!f.prompt_file.empty()) tmpl = ReadFileOrThrow(f.prompt_file);
  if (tmpl.find(kTextSlot) == std::string::npos) {
    Fail(ErrorKind::kUsage, "the prompt template has no {text} slot for the file's contents");
  }
  const std::vector<Input> inputs = ListInputs(f.inputs);
  const std::vector<std::string> out_paths = OutputPaths(inputs, f.output_dir);
  ThrowIfInterrupted();

  auto model = LoadModel(f.model);
  const Tokenizer tokenizer = LoadTokenizer(*model, f.model);
  const PromptBuilder builder(tokenizer, model->config().bos_id,
                              UseChatFormat(*model, f.chat, f.raw),
                              ChatFormat(model->config().family, f.thinking), f.system);
  std::unique_ptr<Session> session;
  {
    SigintBlockedScope block;
    session = std::make_unique<Session>(model, MakeSessionOptions(f.model, *model));
  }
  Sampler sampler(MakeSamplingParams(f.sampling, *model, tokenizer));
  const GenerateOptions g = MakeGenerateOptions(f.sampling, *model, tokenizer, f.max_tokens);
  DocumentRunner runner(*session, sampler, tokenizer, builder, tmpl, g, mode);
  spdlog::debug("batch: {} files, context {} tokens, {} kept for each answer", inputs.size(),
                session->context_length(), runner.reserve());

  int failed = 0, overflowed = 0;
  for (size_t i = 0; i < inputs.size(); ++i) {
    ThrowIfInterrupted();
    const Input& in = inputs[i];
    DocumentResult r;
    std::string error = in.error;
    if (error.empty()) {
      try {
        if (fs::is_directory(in.path)) Fail(ErrorKind::kIo, "is a directory");
        r = runner.Run(ReadFileOrThrow(in.path));
        if (!out_paths.empty()) WriteResultFile(out_paths[i], r.output);
      } catch (const Error& e) {
        error = e.what();
        if (e.kind() == ErrorKind::kContextOverflow) ++overflowed;
      } catch (const std::exception& e) {  // e.g. bad_alloc: this file fails, the batch goes on
        error = e.what();
      }
    }
    if (!error.empty()) {
      ++failed;
      if (error.rfind(in.path, 0) != 0) error = in.path + ": " + error;
      std::fflush(stdout);
      std::fprintf(stderr, "gemma: error: %s\n", error.c_str());
    } else {
      spdlog::info(
          "{}: prompt {} tokens, generated {} tokens ({:.1f} t/s), {}{}", in.path,
          r.stats.prompt_tokens, r.stats.generated_tokens,
          r.stats.decode_seconds > 0 ? r.stats.generated_tokens / r.stats.decode_seconds : 0.0,
          JsonFinishReason(r.stats.finish),
          r.chunks > 1 ? fmt::format(", {} chunks", r.chunks) : std::string());
    }
    if (!out_paths.empty()) continue;
    nlohmann::ordered_json j;
    j["file"] = in.path;
    j["output"] = r.output;
    j.update(StatsJson(r.stats));
    if (!error.empty()) {
      j["finish_reason"] = "error";
      j["error"] = error;
    } else {
      j["error"] = nullptr;
    }
    j["chunks"] = r.chunks;
    j["truncated"] = r.truncated;
    const std::string line = JsonLine(j) + "\n";
    std::fwrite(line.data(), 1, line.size(), stdout);
    std::fflush(stdout);
  }
  if (failed > 0) {
    spdlog::info("{} of {} files failed", failed, inputs.size());
    return failed == overflowed ? kExitContextOverflow : kExitRuntimeError;
  }
  return kExitOk;
}

}  // namespace

Command MakeBatchCommand() {
  auto f = std::make_shared<BatchFlags>();
  Command c;
  c.name = "batch";
  c.summary = "Apply a prompt template (default: summarize) to many files; one JSON line each";
  c.define = [f](CLI::App& app) {
    AddModelFlags(app, &f->model);
    AddTokenizerFlag(app, &f->model);
    AddSamplingFlags(app, &f->sampling);
    AddThinkingFlags(app, &f->thinking);
    app.add_option("files", f->inputs,
                   "Input files, quoted globs ('notes/*.txt'), or - for a list of paths on "
                   "stdin (also the default when no file is given)");
    app.add_option("-p,--prompt", f->prompt,
                   "Prompt template; {text} is replaced by the file's contents")
        ->default_str("\"Summarize the following text in a few sentences.\\n\\n{text}\"");
    app.add_option("-f,--prompt-file,--prompt_file", f->prompt_file,
                   "Read the prompt template from a file");
    app.add_option("--system", f->system,
                   "System instructions: a system turn on Gemma 4; folded into the user turn on "
                   "Gemma 1-3 (no system role)");
    app.add_option("-n,--max-tokens,--n-predict,--max_generated_tokens", f->max_tokens,
                   "Tokens to generate per file (-1: until end of turn)")
        ->default_val(512);
    app.add_option("-o,--output-dir", f->output_dir,
                   "Write DIR/<file name> per input instead of JSON lines on stdout");
    app.add_option("--truncate", f->truncate,
                   "A file too long for the context: keep its head or its tail")
        ->check(CLI::IsMember({"head", "tail"}));
    app.add_flag("--chunked", f->chunked,
                 "A file too long for the context: run the template over chunks, then over the "
                 "joined chunk outputs (summarize the summaries)");
    app.add_flag("--chat", f->chat,
                 "Wrap prompts in the model's chat format (Gemma 1-3 or Gemma 4 turns)");
    app.add_flag("--raw", f->raw, "Feed prompts as they are (after <bos>)");
    app.footer(
        "Long files: by default a file whose prompt does not fit the context (less -n tokens\n"
        "kept for the answer: at most half of it, a quarter with -n -1) is refused: its line\n"
        "has finish_reason \"error\" and the batch goes on. --truncate head keeps the file's\n"
        "beginning, --truncate tail its end, --chunked summarizes pieces, then the summaries.\n"
        "\n"
        "Output: one JSON line per file: file, output, prompt_tokens, generated_tokens,\n"
        "time_to_first_token_ms, prompt_tokens_per_second, tokens_per_second, finish_reason\n"
        "(stop|length|error), error (null or text), chunks, truncated. A Gemma 4 model's\n"
        "thinking (<|channel>...<channel|>) is left out of output unless --show-thinking, and\n"
        "always out of the chunk summaries --chunked feeds on; --think and --show-thinking have\n"
        "no effect on Gemma 1-3 models.\n"
        "\n"
        "Exit codes: 0 every file ok, 1 some file failed, 3 every failure was a file too long\n"
        "for the context, 2 usage error, 130 interrupted.\n"
        "\n"
        "Examples:\n"
        "  gemma batch -m ~/models/gemma-3-1b-it notes/*.txt > summaries.jsonl\n"
        "  find docs -name '*.md' | gemma batch -m model.gguf --chunked --temp 0\n"
        "  gemma batch -m model.gguf 'mail/*.eml' -p 'Extract the sender: {text}' -n 32\n"
        "  gemma batch -m model.gguf -f prompt.txt --output-dir out/ reports/*.txt");
  };
  c.run = [f] { return Batch(*f); };
  return c;
}

}  // namespace gemma::cli
