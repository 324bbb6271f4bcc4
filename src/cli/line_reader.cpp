#include "cli/line_reader.h"

#include <histedit.h>
#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <clocale>
#include <cstdio>
#include <cwchar>

#include "cli/terminal.h"

namespace gemma::cli {
namespace {

enum class Wait { kReadable, kInterrupted };

// Blocks until stdin is readable or SIGINT arrived (also one that arrived before the call).
Wait WaitForStdin() {
  for (;;) {
    pollfd fds[2] = {{STDIN_FILENO, POLLIN, 0}, {InterruptFd(), POLLIN, 0}};
    const int n = poll(fds, InterruptFd() >= 0 ? 2 : 1, -1);
    if (InterruptRequested()) return Wait::kInterrupted;
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 || fds[0].revents != 0) return Wait::kReadable;
  }
}

// libedit's character source: like its built-in one, but returns -1 on SIGINT even when the
// signal came before the read started.
int GetChar(EditLine*, wchar_t* out) {
  mbstate_t state{};
  for (;;) {
    if (WaitForStdin() == Wait::kInterrupted) return -1;
    char c;
    const ssize_t n = read(STDIN_FILENO, &c, 1);
    if (n == 0) return 0;
    if (n < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    const size_t r = mbrtowc(out, &c, 1, &state);
    if (r == static_cast<size_t>(-2)) continue;  // more bytes of this character to come
    if (r == static_cast<size_t>(-1)) {
      *out = static_cast<unsigned char>(c);
      state = mbstate_t{};
    }
    return 1;
  }
}

}  // namespace

struct LineReader::Editor {
  EditLine* el = nullptr;
  History* history = nullptr;
  std::string prompt;

  static char* Prompt(EditLine* el) {
    void* data = nullptr;
    el_get(el, EL_CLIENTDATA, &data);
    return const_cast<char*>(static_cast<Editor*>(data)->prompt.c_str());
  }
};

LineReader::LineReader(bool interactive, std::string history_file)
    : history_file_(std::move(history_file)) {
  if (!interactive) return;
  std::setlocale(LC_CTYPE, "");  // UTF-8 line editing
  editor_ = std::make_unique<Editor>();
  Editor& e = *editor_;
  e.el = el_init("gemma", stdin, stdout, stderr);
  e.history = history_init();
  HistEvent ev;
  history(e.history, &ev, H_SETSIZE, 1000);
  history(e.history, &ev, H_SETUNIQUE, 1);
  if (!history_file_.empty()) history(e.history, &ev, H_LOAD, history_file_.c_str());
  el_set(e.el, EL_CLIENTDATA, &e);
  el_set(e.el, EL_PROMPT, &Editor::Prompt);
  el_set(e.el, EL_EDITOR, "emacs");
  el_set(e.el, EL_HIST, history, e.history);
  el_set(e.el, EL_GETCFN, &GetChar);
  el_source(e.el, nullptr);  // ~/.editrc, as other libedit programs
}

LineReader::~LineReader() {
  if (!editor_) return;
  if (!history_file_.empty()) {
    HistEvent ev;
    history(editor_->history, &ev, H_SAVE, history_file_.c_str());
  }
  el_end(editor_->el);
  history_end(editor_->history);
}

LineReader::Status LineReader::Read(const std::string& prompt, std::string* line) {
  line->clear();
  if (!editor_) {
    // Plain lines from stdin, buffered here so that SIGINT can end the wait.
    for (;;) {
      const size_t nl = buffer_.find('\n');
      if (nl != std::string::npos) {
        line->assign(buffer_, 0, nl);
        buffer_.erase(0, nl + 1);
        if (!line->empty() && line->back() == '\r') line->pop_back();
        return Status::kLine;
      }
      if (eof_) {
        if (buffer_.empty()) return Status::kEof;
        line->swap(buffer_);  // a last line without a newline
        return Status::kLine;
      }
      if (WaitForStdin() == Wait::kInterrupted) return Status::kInterrupted;
      char chunk[4096];
      const ssize_t n = read(STDIN_FILENO, chunk, sizeof chunk);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        eof_ = true;
      } else {
        buffer_.append(chunk, static_cast<size_t>(n));
      }
    }
  }
  editor_->prompt = prompt;
  int count = 0;
  const char* text = el_gets(editor_->el, &count);
  if (text == nullptr || count <= 0) {
    if (InterruptRequested()) {
      el_reset(editor_->el);
      return Status::kInterrupted;
    }
    return Status::kEof;
  }
  *line = std::string(text, static_cast<size_t>(count));
  while (!line->empty() && (line->back() == '\n' || line->back() == '\r')) line->pop_back();
  if (!line->empty()) {
    HistEvent ev;
    history(editor_->history, &ev, H_ENTER, line->c_str());
  }
  return Status::kLine;
}

}  // namespace gemma::cli
