// Reading user turns: libedit line editing and history on a terminal, plain lines otherwise.
#pragma once

#include <memory>
#include <string>

namespace gemma::cli {

class LineReader {
 public:
  enum class Status { kLine, kInterrupted, kEof };

  // `interactive`: edit lines with libedit (emacs keys, history kept in memory and in
  // `history_file` when not empty). Otherwise lines come from stdin with no prompt.
  LineReader(bool interactive, std::string history_file);
  ~LineReader();
  LineReader(const LineReader&) = delete;
  LineReader& operator=(const LineReader&) = delete;

  // Reads one line without its newline. kInterrupted when SIGINT arrived while waiting
  // (the interrupt flag stays set), kEof at end of input (Ctrl-D).
  Status Read(const std::string& prompt, std::string* line);

 private:
  struct Editor;
  std::unique_ptr<Editor> editor_;  // null when not interactive
  std::string history_file_;
  std::string buffer_;  // not interactive: read but not yet returned
  bool eof_ = false;
};

}  // namespace gemma::cli
