// gemma run: one prompt in, streamed text (or one JSON object) out.
#include <spdlog/spdlog.h>

#include <cstdio>

#include "cli/command.h"
#include "cli/common.h"
#include "cli/prompt_builder.h"
#include "cli/sampling_flags.h"
#include "cli/terminal.h"
#include "gemma/error.h"
#include "model/generator.h"

namespace gemma::cli {
namespace {

struct RunFlags {
  ModelFlags model;
  SamplingFlags sampling;
  ThinkingFlags thinking;
  std::string prompt;
  std::string prompt_file;
  std::string system;
  int max_tokens = -1;
  bool chat = false;
  bool raw = false;
  bool json = false;
};

void WriteOut(std::string_view text) {
  std::fwrite(text.data(), 1, text.size(), stdout);
  std::fflush(stdout);
}

int Run(const RunFlags& f) {
  if (!f.prompt.empty() && !f.prompt_file.empty()) {
    Fail(ErrorKind::kUsage, "give either -p/--prompt or -f/--file, not both");
  }
  if (f.chat && f.raw) Fail(ErrorKind::kUsage, "--chat and --raw exclude each other");
  InstallSigintHandler();
  std::string text = f.prompt;
  if (!f.prompt_file.empty()) text = ReadFileOrThrow(f.prompt_file);
  if (f.prompt.empty() && f.prompt_file.empty()) {
    // Never block at an invisible prompt: a terminal on stdin means nobody is piping text in.
    if (StdinIsTerminal()) {
      Fail(ErrorKind::kUsage,
           "no prompt: give -p TEXT, -f FILE, or pipe the prompt on stdin "
           "(for a conversation: gemma chat -m MODEL)");
    }
    text = ReadAllStdin();
  }
  ThrowIfInterrupted();

  auto model = LoadModel(f.model);
  const Tokenizer tokenizer = LoadTokenizer(*model, f.model);
  const bool chat = UseChatFormat(*model, f.chat, f.raw);
  const ChatFormat format(model->config().family, f.thinking);
  spdlog::debug("prompt format: {}", !chat ? "raw"
                                     : format.markup() == ChatMarkup::kGemma4
                                         ? "chat (Gemma 4 turns)"
                                         : "chat (Gemma turns)");
  const PromptBuilder builder(tokenizer, model->config().bos_id, chat, format, f.system);
  const std::vector<int> prompt = builder.Build(text);

  std::unique_ptr<Session> session;
  {
    SigintBlockedScope block;  // the thread pool must leave SIGINT to the main thread
    session = std::make_unique<Session>(model, MakeSessionOptions(f.model, *model));
  }
  spdlog::debug("kernels: {}, threads: {}, context: {} tokens", IsaName(session->kernels().isa),
                session->n_threads(), session->context_length());
  Sampler sampler(MakeSamplingParams(f.sampling, *model, tokenizer));
  GenerateOptions g = MakeGenerateOptions(f.sampling, *model, tokenizer, f.max_tokens);
  g.on_prefill_progress = MakeProgressBar("prefill", static_cast<int>(prompt.size()));
  ThrowIfInterrupted();

  std::function<void(std::string_view)> stream;
  if (!f.json) stream = WriteOut;
  const TextGeneration result =
      GenerateShownText(*session, sampler, tokenizer, prompt, g, format, stream);
  if (f.json) {
    nlohmann::ordered_json j;
    j["output"] = result.text;
    j.update(StatsJson(result.stats));
    WriteOut(JsonLine(j) + "\n");
  } else {
    WriteOut("\n");
  }
  LogStats(result.stats);
  if (result.stats.finish == FinishReason::kCancelled) throw Interrupted();
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
    AddTokenizerFlag(app, &f->model);
    AddSamplingFlags(app, &f->sampling);
    AddThinkingFlags(app, &f->thinking);
    app.add_option("-p,--prompt", f->prompt, "Prompt text");
    app.add_option("-f,--file,--prompt_file", f->prompt_file, "Read the prompt from a file");
    app.add_option("-n,--max-tokens,--n-predict,--max_generated_tokens", f->max_tokens,
                   "Tokens to generate (-1: until end of turn or the context is full)");
    app.add_option("--system", f->system,
                   "System instructions: a system turn on Gemma 4; folded into the user turn on "
                   "Gemma 1-3 (no system role)");
    app.add_flag("--chat", f->chat,
                 "Wrap the prompt in the model's chat format (Gemma 1-3 or Gemma 4 turns)");
    app.add_flag("--raw", f->raw, "Feed the prompt as is (after <bos>)");
    app.add_flag("--json", f->json,
                 "Print one JSON object instead of streaming: output, prompt_tokens, "
                 "generated_tokens, time_to_first_token_ms, prompt_tokens_per_second, "
                 "tokens_per_second, finish_reason (stop|length|cancelled)");
    app.footer(
        "Exit codes: 0 ok, 1 runtime error, 2 usage error, 3 prompt does not fit the context,\n"
        "130 interrupted (Ctrl-C stops generation; a second Ctrl-C exits at once).\n"
        "\n"
        "Gemma 4 models get their own chat format (<|turn>...<turn|>, a native system turn) and\n"
        "their thinking (<|channel>...<channel|>) is hidden unless --show-thinking; --think and\n"
        "--show-thinking have no effect on Gemma 1-3 models.\n"
        "\n"
        "Examples:\n"
        "  gemma run -m ~/models/gemma-3-1b-it -p \"Why is the sky blue?\"\n"
        "  echo \"Summarize: ...\" | gemma run -m model.gguf -n 200 --temp 0\n"
        "  gemma run -m model.gguf -f prompt.txt --seed 42 --top-k 64 --top-p 0.95\n"
        "  gemma run -m model.gguf -p \"List three colours\" --stop '\\n\\n' --json");
  };
  c.run = [f] { return Run(*f); };
  return c;
}

}  // namespace gemma::cli
