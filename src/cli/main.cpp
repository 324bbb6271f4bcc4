// gemma: the command-line driver. Parses flags, runs one subcommand, and is the one place
// where errors become a message on stderr and an exit code.
#include <spdlog/spdlog.h>

#include <cstdio>
#include <iostream>

#include "cli/command.h"
#include "cli/common.h"
#include "cli/terminal.h"
#include "gemma/error.h"
#include "kernels/kernels.h"

namespace gemma::cli {
namespace {

int ExitCodeFor(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::kUsage:
      return kExitUsage;
    case ErrorKind::kContextOverflow:
      return kExitContextOverflow;
    default:
      return kExitRuntimeError;
  }
}

std::string VersionText() {
  std::string isas;
  for (Isa isa : SupportedIsas()) isas += std::string(isas.empty() ? "" : ", ") + IsaName(isa);
  return std::string("gemma ") + GEMMA_VERSION + " (" + GEMMA_BUILD_TYPE +
         " build; kernels usable on this CPU: " + isas + ")";
}

int Main(int argc, char** argv) {
  CLI::App app{"gemma: run Google's Gemma models on the CPU", "gemma"};
  app.set_version_flag("--version", VersionText());
  app.require_subcommand(1);
  app.fallthrough();
  LogFlags log_flags;
  AddLogFlags(app, &log_flags);

  std::vector<Command> commands = {MakeRunCommand(),    MakeChatCommand(),     MakeBatchCommand(),
                                   MakeLogitsCommand(), MakeTokenizeCommand(), MakeInfoCommand(),
                                   MakeBenchCommand(),  MakeQuantizeCommand()};
  commands.push_back(MakePerplexityCommand());
  for (Command& c : commands) c.define(*app.add_subcommand(c.name, c.summary));

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);  // prints help/version to stdout, errors to stderr
    return code == 0 ? kExitOk : kExitUsage;
  }
  try {
    ApplyLogFlags(log_flags);
    for (Command& c : commands) {
      if (app.got_subcommand(c.name)) return c.run();
    }
    return kExitUsage;
  } catch (const Interrupted&) {
    std::fflush(stdout);
    std::fprintf(stderr, "gemma: interrupted\n");
    return kExitInterrupted;
  } catch (const Error& e) {
    std::fflush(stdout);
    std::fprintf(stderr, "gemma: error: %s\n", e.what());
    return ExitCodeFor(e.kind());
  } catch (const std::bad_alloc&) {
    std::fprintf(stderr, "gemma: error: out of memory\n");
    return kExitRuntimeError;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "gemma: error: %s\n", e.what());
    return kExitRuntimeError;
  }
}

}  // namespace
}  // namespace gemma::cli

int main(int argc, char** argv) {
  return gemma::cli::Main(argc, argv);
}
