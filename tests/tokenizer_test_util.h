// Shared fixtures for the tokenizer tests: the Gemma 3 reference cases and the three ways of
// building the Gemma 3 tokenizer (.model, tokenizer.json, GGUF-style arrays), each built once per
// process (function-local statics in inline functions are shared by all test files).
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "test_util.h"
#include "tokenizer/spm_model_proto.h"
#include "tokenizer/tokenizer.h"

namespace gemma::test {

inline std::string TokenizerDataDir() {
  return TestDataDir() + "/tokenizer";
}
inline std::string Gemma3ModelPath() {
  return TokenizerDataDir() + "/gemma3-tokenizer.model";
}

struct TokenizerCase {
  int line = 0;
  std::string text;
  std::string cat;
  std::vector<int> ids;
  std::optional<std::vector<int>> spm_ids;
  std::optional<std::string> decoded;
  std::string spm_differs_because;

  const std::vector<int>& expected_spm() const { return spm_ids ? *spm_ids : ids; }
};

inline std::vector<nlohmann::json> ReadJsonLines(const std::string& path) {
  std::vector<nlohmann::json> out;
  const std::string bytes = ReadFileBytes(path);
  size_t pos = 0;
  while (pos < bytes.size()) {
    size_t end = bytes.find('\n', pos);
    if (end == std::string::npos) end = bytes.size();
    if (end > pos) out.push_back(nlohmann::json::parse(bytes.begin() + pos, bytes.begin() + end));
    pos = end + 1;
  }
  return out;
}

inline const std::vector<TokenizerCase>& Gemma3Cases() {
  static const std::vector<TokenizerCase> cases = [] {
    std::vector<TokenizerCase> v;
    int line = 0;
    for (const auto& j : ReadJsonLines(TokenizerDataDir() + "/cases.jsonl")) {
      TokenizerCase c;
      c.line = ++line;
      c.text = j.at("text").get<std::string>();
      c.cat = j.value("cat", std::string());
      c.ids = j.at("ids").get<std::vector<int>>();
      if (j.contains("spm_ids")) c.spm_ids = j["spm_ids"].get<std::vector<int>>();
      if (j.contains("decoded")) c.decoded = j["decoded"].get<std::string>();
      c.spm_differs_because = j.value("spm_differs_because", std::string());
      v.push_back(std::move(c));
    }
    return v;
  }();
  return cases;
}

inline const Tokenizer& Gemma3ModelTokenizer() {
  static const Tokenizer tok = [] {
    TokenizerSource src;
    src.spm_model_path = Gemma3ModelPath();
    return Tokenizer::Load(src);
  }();
  return tok;
}

inline const spm::ModelProto& Gemma3ModelProto() {
  static const spm::ModelProto proto =
      spm::ParseModelProto(ReadFileBytes(Gemma3ModelPath()), Gemma3ModelPath());
  return proto;
}

// Runs `cmd` and returns its stdout (binary-safe).
inline std::string ReadCommandOutput(const std::string& cmd) {
  std::string out;
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return out;
  char buf[1 << 16];
  size_t n;
  while ((n = fread(buf, 1, sizeof(buf), p)) > 0) out.append(buf, n);
  pclose(p);
  return out;
}

// tokenizer.json.xz decompressed once into the build tree's temp folder; returns its path.
inline const std::string& Gemma3TokenizerJsonPath() {
  static const std::string path = [] {
    const std::string dir = std::string(GEMMA_TEST_TMP_DIR) + "/tokenizer_fixture";
    std::filesystem::create_directories(dir);
    const std::string p = dir + "/tokenizer.json";
    const std::string json =
        ReadCommandOutput("xz -dc '" + TokenizerDataDir() + "/tokenizer.json.xz'");
    if (json.empty()) {
      ADD_FAILURE()
          << "could not decompress tokenizer.json.xz with `xz -dc` (is xz-utils installed?)";
    }
    // ctest runs tests as parallel processes: write privately, then rename atomically.
    const std::string tmp = p + "." + std::to_string(::getpid()) + ".tmp";
    WriteFileBytes(tmp, json);
    std::filesystem::rename(tmp, p);
    return p;
  }();
  return path;
}

inline const Tokenizer& Gemma3JsonTokenizer() {
  static const Tokenizer tok = [] {
    TokenizerSource src;
    src.hf_tokenizer_json_path = Gemma3TokenizerJsonPath();
    return Tokenizer::Load(src);
  }();
  return tok;
}

// The .model's pieces as GGUF "llama" arrays (same type numbers as SentencePiece).
inline TokenizerSource GgufSourceFromProto(const spm::ModelProto& proto) {
  TokenizerSource src;
  src.gguf_model = "llama";
  for (const auto& p : proto.pieces) {
    src.gguf_tokens.push_back(p.piece);
    src.gguf_scores.push_back(p.score);
    src.gguf_token_types.push_back(static_cast<int32_t>(p.type));
  }
  return src;
}

inline const Tokenizer& Gemma3GgufTokenizer() {
  static const Tokenizer tok =
      Tokenizer::Load(GgufSourceFromProto(Gemma3ModelProto()), "gemma3-arrays.gguf");
  return tok;
}

inline std::string IdsToString(const std::vector<int>& ids) {
  std::string s = "[";
  for (size_t i = 0; i < ids.size(); ++i) s += (i ? ", " : "") + std::to_string(ids[i]);
  return s + "]";
}

// Runs every reference case through `tok`: Encode == spm_ids if present else ids; where spm_ids
// is absent, Decode(ids) == decoded if present else text. Returns the number of passing cases.
inline int CheckAllCases(const Tokenizer& tok, const char* label) {
  int passed = 0, failures_shown = 0;
  for (const TokenizerCase& c : Gemma3Cases()) {
    bool ok = true;
    const std::vector<int> got = tok.Encode(c.text);
    if (got != c.expected_spm()) {
      ok = false;
      if (failures_shown++ < 10) {
        ADD_FAILURE() << label << ": cases.jsonl line " << c.line << " (" << c.cat
                      << ") encodes to " << IdsToString(got) << ", expected "
                      << IdsToString(c.expected_spm());
      }
    }
    if (!c.spm_ids) {
      const std::string want = c.decoded ? *c.decoded : c.text;
      const std::string dec = tok.Decode(c.ids);
      if (dec != want) {
        ok = false;
        if (failures_shown++ < 10) {
          ADD_FAILURE() << label << ": cases.jsonl line " << c.line << " (" << c.cat
                        << ") decodes differently";
        }
      }
    }
    passed += ok;
  }
  return passed;
}

}  // namespace gemma::test
