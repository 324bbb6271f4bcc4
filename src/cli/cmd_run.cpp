// gemma run: one prompt in, streamed text out.
#include <spdlog/spdlog.h>

#include <chrono>
#include <cstdio>
#include <random>

#include "cli/command.h"
#include "cli/common.h"
#include "cli/sampling_flags.h"
#include "gemma/error.h"
#include "model/generator.h"
#include "tokenizer/chat_template.h"

namespace gemma::cli {
namespace {

struct RunFlags {
  ModelFlags model;
  SamplingFlags sampling;
  std::string prompt;
  std::string prompt_file;
  int max_tokens = -1;
  bool chat = false;
  bool raw = false;
};

int Run(const RunFlags& f) {
  if (!f.prompt.empty() && !f.prompt_file.empty()) {
    Fail(ErrorKind::kUsage, "give either -p/--prompt or -f/--file, not both");
  }
  if (f.chat && f.raw) Fail(ErrorKind::kUsage, "--chat and --raw exclude each other");
  std::string text = f.prompt;
  if (!f.prompt_file.empty()) text = ReadFileOrThrow(f.prompt_file);
  if (f.prompt.empty() && f.prompt_file.empty()) text = ReadAllStdin();

  auto model = LoadModel(f.model);
  const Tokenizer tokenizer = LoadTokenizer(*model);
  // Chat formatting by default when the checkpoint ships a chat template (an instruction-tuned
  // model); --raw / --chat override.
  const bool chat = f.chat || (!f.raw && !model->checkpoint().chat_template.empty());
  spdlog::debug("prompt format: {}", chat ? "chat (Gemma turns)" : "raw");

  std::vector<int> prompt;
  if (chat) {
    prompt = EncodeGemmaChat(tokenizer, {ChatMessage{"user", text, {}}}, /*add_generation_prompt=*/true);
  } else {
    prompt.push_back(model->config().bos_id);
    const std::vector<int> body = tokenizer.Encode(text);
    prompt.insert(prompt.end(), body.begin(), body.end());
  }

  Session session(model, MakeSessionOptions(f.model));
  spdlog::debug("kernels: {}, threads: {}, context: {} tokens", IsaName(session.kernels().isa),
               session.n_threads(), session.context_length());
  Sampler sampler(MakeSamplingParams(f.sampling, *model, tokenizer));

  GenerateOptions g;
  g.max_tokens = f.max_tokens;
  g.stop_ids = StopIds(*model, tokenizer);
  StreamDecoder decoder(tokenizer);
  const GenerateStats stats = Generate(session, sampler, prompt, g, [&](int id) {
    const std::string piece = decoder.Push(id);
    std::fwrite(piece.data(), 1, piece.size(), stdout);
    std::fflush(stdout);
    return true;
  });
  const std::string tail = decoder.Flush();
  std::fwrite(tail.data(), 1, tail.size(), stdout);
  std::fputc('\n', stdout);
  std::fflush(stdout);
  LogStats(stats);
  return kExitOk;
}

}  // namespace

Command MakeRunCommand() {
  auto f = std::make_shared<RunFlags>();
  Command c;
  c.name = "run";
  c.summary = "Generate text for one prompt (from -p, -f or stdin), streamed to stdout";
  c.define = [f](CLI::App& app) {
    AddModelFlags(app, &f->model);
    AddSamplingFlags(app, &f->sampling);
    app.add_option("-p,--prompt", f->prompt, "Prompt text");
    app.add_option("-f,--file,--prompt_file", f->prompt_file, "Read the prompt from a file");
    app.add_option("-n,--max-tokens,--n-predict,--max_generated_tokens", f->max_tokens,
                   "Tokens to generate (-1: until end of turn or the context is full)");
    app.add_flag("--chat", f->chat, "Wrap the prompt in the Gemma chat turn format");
    app.add_flag("--raw", f->raw, "Feed the prompt as is (after <bos>)");
    app.footer(
        "Examples:\n"
        "  gemma run -m ~/models/gemma-3-1b-it -p \"Why is the sky blue?\"\n"
        "  echo \"Summarize: ...\" | gemma run -m model.gguf -n 200 --temp 0\n"
        "  gemma run -m model.gguf -f prompt.txt --seed 42 --top-k 64 --top-p 0.95");
  };
  c.run = [f] { return Run(*f); };
  return c;
}

}  // namespace gemma::cli
