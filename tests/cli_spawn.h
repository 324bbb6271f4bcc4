// Running the `gemma` binary as a child process the test can talk to while it runs: through
// pipes or a pseudo-terminal, with signals (RunCli in test_util.h waits for the exit instead).
#pragma once

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "test_util.h"

namespace gemma::test {

struct Child {
  pid_t pid = -1;
  int in = -1;           // write end of the child's stdin (the pty master for a terminal)
  int out = -1;          // read end of the child's stdout (the same pty master for a terminal)
  std::string err_path;  // the child's stderr (a file; the terminal itself for a pty child)
};

// Starts gemma with `args`. With `terminal`, stdin, stdout and stderr are one pseudo-terminal.
inline Child SpawnCli(const std::vector<std::string>& args, bool terminal = false) {
  Child c;
  c.err_path = MakeTempDir("spawn") + "/stderr";
  std::vector<std::string> argv_s = {GEMMA_CLI_PATH};
  argv_s.insert(argv_s.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (std::string& s : argv_s) argv.push_back(s.data());
  argv.push_back(nullptr);
  if (terminal) {
    const int master = posix_openpt(O_RDWR | O_NOCTTY);
    if (master < 0 || grantpt(master) != 0 || unlockpt(master) != 0) return c;
    const std::string slave = ptsname(master);
    c.pid = fork();
    if (c.pid == 0) {
      setsid();
      const int fd = open(slave.c_str(), O_RDWR);  // becomes the controlling terminal
      dup2(fd, 0);
      dup2(fd, 1);
      dup2(fd, 2);
      close(master);
      execv(argv[0], argv.data());
      _exit(127);
    }
    c.in = c.out = master;
    return c;
  }
  int in_pipe[2], out_pipe[2];
  if (pipe(in_pipe) != 0 || pipe(out_pipe) != 0) return c;
  c.pid = fork();
  if (c.pid == 0) {
    dup2(in_pipe[0], 0);
    dup2(out_pipe[1], 1);
    const int err = open(c.err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    dup2(err, 2);
    close(in_pipe[1]);
    close(out_pipe[0]);
    execv(argv[0], argv.data());
    _exit(127);
  }
  close(in_pipe[0]);
  close(out_pipe[1]);
  c.in = in_pipe[1];
  c.out = out_pipe[0];
  return c;
}

inline void WriteTo(int fd, const std::string& text) {
  size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = write(fd, text.data() + done, text.size() - done);
    if (n <= 0) return;
    done += static_cast<size_t>(n);
  }
}

// Appends what `fd` delivers to *seen until it contains `needle` (true), EOF or the timeout.
inline bool ReadUntil(int fd, const std::string& needle, double timeout_s, std::string* seen) {
  const auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(timeout_s);
  while (seen->find(needle) == std::string::npos) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        end - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
    char buf[4096];
    const ssize_t n = read(fd, buf, sizeof buf);
    if (n <= 0) return false;
    seen->append(buf, static_cast<size_t>(n));
  }
  return true;
}

// The exit code (128 + signal when killed); kills the child and returns -1 after the timeout.
inline int WaitExit(pid_t pid, double timeout_s) {
  const auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(timeout_s);
  int status = 0;
  while (waitpid(pid, &status, WNOHANG) == 0) {
    if (std::chrono::steady_clock::now() > end) {
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      return -1;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

}  // namespace gemma::test
