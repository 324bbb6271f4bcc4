#include "cli/terminal.h"

#include <fcntl.h>
#include <signal.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "cli/command.h"

namespace gemma::cli {
namespace {

std::atomic<bool> g_interrupt{false};
int g_pipe[2] = {-1, -1};  // self-pipe: one byte per first SIGINT
static_assert(std::atomic<bool>::is_always_lock_free, "the SIGINT flag must be lock-free");

void OnSigint(int) {
  if (g_interrupt.exchange(true)) {
    const char nl = '\n';
    [[maybe_unused]] ssize_t n = write(STDERR_FILENO, &nl, 1);
    _exit(kExitInterrupted);
  }
  if (g_pipe[1] >= 0) {
    const char x = 'x';
    [[maybe_unused]] ssize_t n = write(g_pipe[1], &x, 1);
  }
}

}  // namespace

bool StdinIsTerminal() {
  return isatty(STDIN_FILENO) == 1;
}
bool StdoutIsTerminal() {
  return isatty(STDOUT_FILENO) == 1;
}
bool StderrIsTerminal() {
  return isatty(STDERR_FILENO) == 1;
}

bool UseColor(bool stream_is_terminal) {
  if (!stream_is_terminal || std::getenv("NO_COLOR") != nullptr) return false;
  const char* term = std::getenv("TERM");
  return term == nullptr || std::strcmp(term, "dumb") != 0;
}

void InstallSigintHandler() {
  if (g_pipe[0] < 0 && pipe2(g_pipe, O_CLOEXEC | O_NONBLOCK) != 0) g_pipe[0] = g_pipe[1] = -1;
  struct sigaction sa;
  std::memset(&sa, 0, sizeof sa);
  sa.sa_handler = OnSigint;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = 0;  // no SA_RESTART: reads return EINTR
  sigaction(SIGINT, &sa, nullptr);
}

const std::atomic<bool>* InterruptFlag() {
  return &g_interrupt;
}
bool InterruptRequested() {
  return g_interrupt.load();
}
void ClearInterrupt() {
  char buf[64];
  while (g_pipe[0] >= 0 && read(g_pipe[0], buf, sizeof buf) > 0) {
  }
  g_interrupt.store(false);
}
int InterruptFd() {
  return g_pipe[0];
}
void ThrowIfInterrupted() {
  if (InterruptRequested()) throw Interrupted();
}

SigintBlockedScope::SigintBlockedScope() {
  sigset_t block;
  sigemptyset(&block);
  sigaddset(&block, SIGINT);
  pthread_sigmask(SIG_BLOCK, &block, &saved_);
}

SigintBlockedScope::~SigintBlockedScope() {
  pthread_sigmask(SIG_SETMASK, &saved_, nullptr);
}

std::function<void(int, int)> MakeProgressBar(const std::string& label, int total) {
  constexpr int kMinTokens = 512;  // shorter prefills finish before a bar is worth drawing
  if (total < kMinTokens || !StderrIsTerminal() || !spdlog::should_log(spdlog::level::info)) {
    return {};
  }
  return [label](int done, int all) {
    constexpr int kWidth = 30;
    const int filled = all > 0 ? static_cast<int>(static_cast<long long>(done) * kWidth / all) : 0;
    std::string bar(static_cast<size_t>(filled), '#');
    bar.append(static_cast<size_t>(kWidth - filled), '.');
    std::fprintf(stderr, "\r%s [%s] %d/%d tokens", label.c_str(), bar.c_str(), done, all);
    if (done >= all) std::fprintf(stderr, "\r\033[K");  // erase the bar once done
    std::fflush(stderr);
  };
}

}  // namespace gemma::cli
