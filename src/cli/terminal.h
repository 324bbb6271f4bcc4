// What the CLI needs from the terminal and the process: is a stream a terminal, SIGINT as a
// flag the generation loop polls, and a progress bar that only a terminal ever sees.
#pragma once

#include <signal.h>

#include <atomic>
#include <exception>
#include <functional>
#include <string>

namespace gemma::cli {

bool StdinIsTerminal();
bool StdoutIsTerminal();
bool StderrIsTerminal();
// Colour on stdout/stderr only for a terminal, unless NO_COLOR is set or TERM=dumb.
bool UseColor(bool stream_is_terminal);

// Thrown when a SIGINT should end the command; main.cpp turns it into exit code 130.
class Interrupted : public std::exception {
 public:
  const char* what() const noexcept override { return "interrupted"; }
};

// Installs the SIGINT handler (without SA_RESTART, so a blocking read returns EINTR): the first
// SIGINT sets the flag; a second one while the flag is still set exits at once with 130.
void InstallSigintHandler();
// The flag the handler sets; pass it as GenerateOptions::cancel.
const std::atomic<bool>* InterruptFlag();
bool InterruptRequested();
// Clears the flag (and drains InterruptFd).
void ClearInterrupt();
// Readable while the flag is set (a self-pipe the handler writes to), for poll() next to a
// blocking read, so a SIGINT that arrives just before the read is not missed. -1 before
// InstallSigintHandler.
int InterruptFd();
// Throws Interrupted when the flag is set.
void ThrowIfInterrupted();

// Blocks SIGINT in the calling thread while alive, so that threads started meanwhile (the
// Session's thread pool) inherit the block and the signal always reaches the main thread.
class SigintBlockedScope {
 public:
  SigintBlockedScope();
  ~SigintBlockedScope();
  SigintBlockedScope(const SigintBlockedScope&) = delete;
  SigintBlockedScope& operator=(const SigintBlockedScope&) = delete;

 private:
  sigset_t saved_;
};

// A prefill progress callback drawing "label [#####.....] done/total" on stderr, or an empty
// function when stderr is not a terminal, logging is quieter than info, or `total` is short.
std::function<void(int, int)> MakeProgressBar(const std::string& label, int total);

}  // namespace gemma::cli
