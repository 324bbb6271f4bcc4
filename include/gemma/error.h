// Errors raised by the engine. One type, a kind that the CLI maps to an exit code, and a
// message that names what a user needs to act on (file, tensor, expected vs. actual).
#pragma once

#include <stdexcept>
#include <string>

namespace gemma {

enum class ErrorKind {
  kIo,               // a file is missing, unreadable, or truncated
  kFormat,           // a file is readable but malformed (bad header, offsets, shapes)
  kUnsupported,      // well-formed, but an architecture/type/feature we do not handle
  kUsage,            // the caller asked for something invalid (bad flag value, bad ids)
  kContextOverflow,  // the input does not fit the context window
  kInternal,         // a bug: an invariant did not hold
};

class Error : public std::runtime_error {
 public:
  Error(ErrorKind kind, const std::string& message) : std::runtime_error(message), kind_(kind) {}
  ErrorKind kind() const { return kind_; }

 private:
  ErrorKind kind_;
};

[[noreturn]] inline void Fail(ErrorKind kind, const std::string& message) {
  throw Error(kind, message);
}

}  // namespace gemma
