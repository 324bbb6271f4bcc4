#include "test_util.h"

#include <sys/wait.h>

#include <cctype>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "kernels/kernels.h"

namespace gemma::test {

namespace fs = std::filesystem;

std::string TestDataDir() {
  const char* env = std::getenv("GEMMA_TESTDATA");
  const std::string dir = env ? env : std::string(GEMMA_SHARED_DIR) + "/testdata";
  return fs::is_directory(dir) ? dir : std::string();
}

std::string ReadFileBytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in.good()) << "cannot read " << path;
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void WriteFileBytes(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

std::vector<float> ReadF32File(const std::string& path) {
  const std::string bytes = ReadFileBytes(path);
  std::vector<float> v(bytes.size() / sizeof(float));
  std::memcpy(v.data(), bytes.data(), v.size() * sizeof(float));
  return v;
}

std::string MakeTempDir(const std::string& name) {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  std::string dir = std::string(GEMMA_TEST_TMP_DIR) + "/" +
                    (info ? std::string(info->test_suite_name()) + "." + info->name() : "t") + "." +
                    name;
  for (char& c : dir) {
    if (c == '*') c = '_';
  }
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

CliResult RunCli(const std::string& args, const std::string& stdin_text) {
  const std::string dir = MakeTempDir("cli");
  const std::string in = dir + "/stdin", out = dir + "/stdout", err = dir + "/stderr";
  WriteFileBytes(in, stdin_text);
  const std::string cmd = std::string("'") + GEMMA_CLI_PATH + "' " + args + " <'" + in + "' >'" +
                          out + "' 2>'" + err + "'";
  const int status = std::system(cmd.c_str());
  CliResult r;
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  r.out = ReadFileBytes(out);
  r.err = ReadFileBytes(err);
  return r;
}

std::vector<int> PromptTokens(const std::string& err) {
  std::vector<int> n;
  const std::string key = "prompt: ";
  for (size_t at = err.find(key); at != std::string::npos; at = err.find(key, at + 1)) {
    size_t end = at + key.size();
    while (end < err.size() && std::isdigit(static_cast<unsigned char>(err[end]))) ++end;
    if (end > at + key.size() && err.compare(end, 7, " tokens") == 0) {
      n.push_back(std::stoi(err.substr(at + key.size(), end - at - key.size())));
    }
  }
  return n;
}

bool UsesInt8Activations(const KernelTable& k, DType t) {
  return k.activation[static_cast<size_t>(t)] == ActivationType::kQ8 || Int8PanelTakes(k, t);
}

std::string ExactIsa() {
  for (Isa isa : SupportedIsas()) {
    const KernelTable& k = KernelsFor(isa);
    if (!UsesInt8Activations(k, DType::kQ8_0) && !UsesInt8Activations(k, DType::kQ4_0)) {
      return IsaName(isa);
    }
  }
  return "scalar";
}

}  // namespace gemma::test
