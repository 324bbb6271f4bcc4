// Shared test helpers: fixture locations, float files, temp files, running the CLI binary.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "kernels/kernels.h"

namespace gemma::test {

// ../shared/testdata (or GEMMA_SHARED_DIR). Empty when absent.
std::string TestDataDir();

// Skips the current test with a loud message when ../shared/testdata is absent.
#define GEMMA_REQUIRE_TESTDATA()                                                        \
  do {                                                                                  \
    if (::gemma::test::TestDataDir().empty()) {                                         \
      GTEST_SKIP() << "\n*** SKIPPED: shared test data not found (expected beside the " \
                      "project as ../shared/testdata). Golden and tokenizer tests did " \
                      "NOT run. ***";                                                   \
    }                                                                                   \
  } while (0)

std::vector<float> ReadF32File(const std::string& path);
std::string ReadFileBytes(const std::string& path);
void WriteFileBytes(const std::string& path, const std::string& bytes);

// A fresh empty directory under the build tree, unique per test.
std::string MakeTempDir(const std::string& name);

struct CliResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};
// Runs the built `gemma` binary with `args` (shell-quoted by the caller as needed) and optional
// stdin text.
CliResult RunCli(const std::string& args, const std::string& stdin_text = "");

// Whether `k` multiplies weights of type t with activations quantized to int8 (in decode or, for
// Q4_0, in the int8 prefill panels): then its results carry llama.cpp's kind of rounding noise.
bool UsesInt8Activations(const KernelTable& k, DType t);

// The best kernel table here whose products are exact on the dequantized weights (f32
// activations everywhere): what tests of a file's weight bytes run on, since the default
// table may quantize activations to int8 (avx2, avx512, avx-vnni, neon-dotprod).
std::string ExactIsa();

// The prompt sizes of each turn, read from the "prompt: N tokens" timing lines on stderr.
std::vector<int> PromptTokens(const std::string& err);

}  // namespace gemma::test
