// The subcommand table: each src/cli/cmd_*.cpp file defines one Command. A command declares its
// flags on its CLI11 sub-app and runs after parsing; it throws gemma::Error on failure and
// main.cpp alone turns errors into messages and exit codes.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>
#include <string>
#include <vector>

namespace gemma::cli {

// Exit codes of the non-interactive contract (README "Exit codes").
inline constexpr int kExitOk = 0;
inline constexpr int kExitRuntimeError = 1;
inline constexpr int kExitUsage = 2;
inline constexpr int kExitContextOverflow = 3;
inline constexpr int kExitInterrupted = 130;  // SIGINT (Ctrl-C)

struct Command {
  std::string name;
  std::string summary;
  std::function<void(CLI::App&)> define;  // add flags/options to the sub-app
  std::function<int()> run;               // returns the exit code
};

Command MakeRunCommand();
Command MakeChatCommand();
Command MakeBatchCommand();
Command MakeLogitsCommand();
Command MakeTokenizeCommand();
Command MakeInfoCommand();
Command MakeBenchCommand();
Command MakeQuantizeCommand();
Command MakePerplexityCommand();

}  // namespace gemma::cli
