// gemma chat: an interactive conversation on a terminal (line editing, history, slash
// commands), or one user turn per stdin line when stdin/stdout is not a terminal.
#include <spdlog/spdlog.h>

#include <cstdio>
#include <cstdlib>

#include "cli/command.h"
#include "cli/common.h"
#include "cli/conversation.h"
#include "cli/line_reader.h"
#include "cli/sampling_flags.h"
#include "cli/terminal.h"
#include "gemma/error.h"

namespace gemma::cli {
namespace {

struct ChatFlags {
  ModelFlags model;
  SamplingFlags sampling;
  ThinkingFlags thinking;
  std::string system;
  std::string system_file;
  int max_tokens = -1;
  bool no_history = false;
};

constexpr char kHelp[] =
    "/help         this list\n"
    "/clear        forget the conversation (the system text stays)\n"
    "/save FILE    write the conversation as JSON messages\n"
    "/load FILE    continue a saved conversation (answers a final user message)\n"
    "/exit         quit (also Ctrl-D)\n"
    "Ctrl-C stops the current answer; the conversation goes on.";

void Out(std::string_view text) {
  std::fwrite(text.data(), 1, text.size(), stdout);
  std::fflush(stdout);
}

class ChatLoop {
 public:
  ChatLoop(Conversation& conv, bool interactive) : conv_(conv), interactive_(interactive) {}

  // Returns the exit code.
  int Run(LineReader& reader) {
    std::string line;
    for (;;) {
      const LineReader::Status st = reader.Read(interactive_ ? "> " : "", &line);
      if (st == LineReader::Status::kEof) {
        if (interactive_) Out("\n");
        return kExitOk;
      }
      if (st == LineReader::Status::kInterrupted) {
        if (!interactive_) throw Interrupted();
        ClearInterrupt();
        Note("(Ctrl-D or /exit to quit)");
        continue;
      }
      const std::string text = PythonStrip(line);
      if (text.empty()) continue;
      if (text[0] == '/') {
        if (!Command(text)) return kExitOk;
        continue;
      }
      Answer([&](const Conversation::TextSink& sink) { return conv_.Say(text, sink); });
    }
  }

 private:
  // A message for the person at the terminal (stderr, dim when coloured); a log line at info
  // level when there is no such person.
  void Note(const std::string& text) const {
    std::fflush(stdout);
    if (!interactive_) {
      spdlog::info("{}", text);
      return;
    }
    const bool color = UseColor(StderrIsTerminal());
    std::fprintf(stderr, "%s%s%s\n", color ? "\033[2m" : "", text.c_str(), color ? "\033[0m" : "");
  }

  // Runs one answer; reports interruptions, a full context and the turn's numbers.
  void Answer(const std::function<TextGeneration(const Conversation::TextSink&)>& say) {
    TextGeneration gen;
    try {
      gen = say(Out);
    } catch (const Error& e) {
      if (!interactive_ || e.kind() != ErrorKind::kContextOverflow) throw;
      Note(std::string("context full: ") + e.what());
      return;
    }
    Out("\n");
    if (gen.stats.finish == FinishReason::kCancelled) {
      if (!interactive_) throw Interrupted();
      ClearInterrupt();
      Note("[interrupted]");
    } else if (gen.stats.finish == FinishReason::kContextFull) {
      Note("[the context is full (" + std::to_string(conv_.context_length()) +
           " tokens): /clear starts a new conversation]");
    }
    if (interactive_) {
      const double tps =
          gen.stats.decode_seconds > 0 ? gen.stats.generated_tokens / gen.stats.decode_seconds : 0;
      Note(fmt::format("[{} tokens, {:.1f} t/s, context {}/{}]", gen.stats.generated_tokens, tps,
                       conv_.tokens_used(), conv_.context_length()));
    } else {
      LogStats(gen.stats);
    }
  }

  // Handles a slash command; false means exit.
  bool Command(const std::string& text) {
    const size_t space = text.find_first_of(" \t");
    const std::string name = text.substr(0, space);
    const std::string arg = space == std::string::npos ? "" : PythonStrip(text.substr(space));
    try {
      if (name == "/exit" || name == "/quit") return false;
      if (name == "/help") {
        Note(kHelp);
      } else if (name == "/clear") {
        conv_.Clear();
        Note("[conversation cleared]");
      } else if (name == "/save" || name == "/load") {
        if (arg.empty()) Fail(ErrorKind::kUsage, name + " needs a file name");
        if (name == "/save") {
          conv_.Save(arg);
          Note("[saved " + std::to_string(conv_.turn_count()) + " messages to " + arg + "]");
        } else {
          Answer([&](const Conversation::TextSink& sink) {
            TextGeneration answer;
            if (!conv_.Load(arg, sink, &answer)) {
              Note("[loaded " + std::to_string(conv_.turn_count()) + " messages, " +
                   std::to_string(conv_.tokens_used()) + " tokens]");
              throw NothingToAnswer();
            }
            return answer;
          });
        }
      } else {
        Fail(ErrorKind::kUsage, "unknown command " + name + " (/help lists them)");
      }
    } catch (const NothingToAnswer&) {
    } catch (const Error& e) {
      if (!interactive_) throw;  // a script's failing command fails the script
      Note(std::string("error: ") + e.what());
    }
    return true;
  }

  struct NothingToAnswer {};

  Conversation& conv_;
  bool interactive_;
};

int Chat(const ChatFlags& f) {
  InstallSigintHandler();
  // A person at a terminal gets line editing, a banner and notes; otherwise every stdin line is
  // a user turn and stdout carries only the answers.
  const bool interactive = StdinIsTerminal() && StdoutIsTerminal();
  std::string system = f.system;
  if (!f.system_file.empty()) {
    if (!system.empty()) Fail(ErrorKind::kUsage, "give either --system or --system-file");
    system = ReadFileOrThrow(f.system_file);
  }
  auto model = LoadModel(f.model);
  const Tokenizer tokenizer = LoadTokenizer(*model, f.model);
  if (model->checkpoint().chat_template.empty()) {
    const std::string note = model->checkpoint().path +
                             ": no chat template (a base model?); using the family's chat format";
    if (interactive) {
      spdlog::warn("{}", note);
    } else {
      spdlog::debug("{}", note);
    }
  }
  std::unique_ptr<Session> session;
  {
    SigintBlockedScope block;
    session = std::make_unique<Session>(model, MakeSessionOptions(f.model, *model));
  }
  Sampler sampler(MakeSamplingParams(f.sampling, *model, tokenizer));
  Conversation conv(*session, sampler, tokenizer,
                    MakeGenerateOptions(f.sampling, *model, tokenizer, f.max_tokens),
                    ChatFormat(model->config().family, f.thinking), system);
  ThrowIfInterrupted();

  std::string history_file;
  if (interactive && !f.no_history && std::getenv("HOME") != nullptr) {
    history_file = std::string(std::getenv("HOME")) + "/.gemma_history";
  }
  LineReader reader(interactive, history_file);
  if (interactive) {
    Out(fmt::format(
        "gemma chat: {} ({}), context {} tokens. /help for commands, Ctrl-D to "
        "quit.\n",
        model->checkpoint().path, model->config().architecture, session->context_length()));
  }
  ChatLoop loop(conv, interactive);
  return loop.Run(reader);
}

}  // namespace

Command MakeChatCommand() {
  auto f = std::make_shared<ChatFlags>();
  Command c;
  c.name = "chat";
  c.summary = "Talk with a model: multi-turn, the chat template, the KV cache kept between turns";
  c.define = [f](CLI::App& app) {
    AddModelFlags(app, &f->model);
    AddTokenizerFlag(app, &f->model);
    AddSamplingFlags(app, &f->sampling);
    AddThinkingFlags(app, &f->thinking);
    app.add_option("--system", f->system,
                   "System instructions: a system turn on Gemma 4; folded into the first user "
                   "turn on Gemma 1-3 (no system role)");
    app.add_option("--system-file", f->system_file, "Read the system instructions from a file");
    app.add_option("-n,--max-tokens,--n-predict,--max_generated_tokens", f->max_tokens,
                   "Tokens per answer at most (-1: until end of turn or the context is full)");
    app.add_flag("--no-history", f->no_history, "Do not read or write ~/.gemma_history");
    app.footer(
        "On a terminal: line editing and history (libedit), slash commands:\n" +
        std::string(kHelp) +
        "\n\n"
        "When stdin or stdout is not a terminal there is no banner or prompt: every stdin line\n"
        "is one user turn and stdout carries only the answers, one per turn, each followed by a\n"
        "newline. Slash commands work there too. Exit codes: 0 end of input, 1 runtime error\n"
        "(e.g. /load of a missing file), 2 usage error, 3 a turn does not fit the context,\n"
        "130 interrupted.\n"
        "\n"
        "Gemma 4 models talk in their own chat format (<|turn>...<turn|>, a native system turn);\n"
        "their thinking (<|channel>...<channel|>) is hidden unless --show-thinking, and never\n"
        "kept in the conversation. --think and --show-thinking have no effect on Gemma 1-3.\n"
        "\n"
        "Examples:\n"
        "  gemma chat -m ~/models/gemma-3-1b-it\n"
        "  gemma chat -m model.gguf --system \"Answer in French.\" -c 4096\n"
        "  printf 'Hi!\\nWhat did I just say?\\n' | gemma chat -m model.gguf --temp 0");
  };
  c.run = [f] { return Chat(*f); };
  return c;
}

}  // namespace gemma::cli
