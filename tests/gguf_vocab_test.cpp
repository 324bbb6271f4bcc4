// GGUF tokenizer.ggml.* arrays -> SentencePiece: the Gemma 3 vocabulary as arrays (plain and as
// llama.cpp's converter writes it), and the golden GGUF files ("llama" and "gemma4").
#include <sentencepiece_processor.h>

#include <cstring>

#include "gemma/error.h"
#include "tokenizer/gguf_vocab.h"
#include "tokenizer_test_util.h"

namespace gemma::test {
namespace {

// Reads the tokenizer.ggml.* metadata of a GGUF file (just enough of the format for the test).
class GgufTokenizerReader {
 public:
  explicit GgufTokenizerReader(const std::string& path) : data_(ReadFileBytes(path)) {}

  TokenizerSource Read() {
    TokenizerSource src;
    if (data_.compare(0, 4, "GGUF") != 0) throw std::runtime_error("not GGUF");
    pos_ = 4;
    const uint32_t version = U32();
    if (version < 2) throw std::runtime_error("old GGUF");
    U64();  // tensor count
    const uint64_t n_kv = U64();
    for (uint64_t i = 0; i < n_kv; ++i) {
      const std::string key = Str();
      const uint32_t type = U32();
      if (key == "tokenizer.ggml.model" && type == 8) {
        src.gguf_model = Str();
      } else if (key == "tokenizer.ggml.tokens" && type == 9) {
        ArrayHeader(8, src.gguf_tokens);
        for (auto& t : src.gguf_tokens) t = Str();
      } else if (key == "tokenizer.ggml.merges" && type == 9) {
        ArrayHeader(8, src.gguf_merges);
        for (auto& t : src.gguf_merges) t = Str();
      } else if (key == "tokenizer.ggml.scores" && type == 9) {
        ArrayHeader(6, src.gguf_scores);
        for (auto& s : src.gguf_scores) s = Pod<float>();
      } else if (key == "tokenizer.ggml.token_type" && type == 9) {
        ArrayHeader(5, src.gguf_token_types);
        for (auto& t : src.gguf_token_types) t = Pod<int32_t>();
      } else {
        Skip(type);
      }
    }
    return src;
  }

 private:
  template <typename T>
  T Pod() {
    if (pos_ + sizeof(T) > data_.size()) throw std::runtime_error("truncated");
    T v;
    std::memcpy(&v, data_.data() + pos_, sizeof(T));
    pos_ += sizeof(T);
    return v;
  }
  uint32_t U32() { return Pod<uint32_t>(); }
  uint64_t U64() { return Pod<uint64_t>(); }
  std::string Str() {
    const uint64_t n = U64();
    if (pos_ + n > data_.size()) throw std::runtime_error("truncated");
    std::string s = data_.substr(pos_, n);
    pos_ += n;
    return s;
  }
  template <typename V>
  void ArrayHeader(uint32_t want_type, V& v) {
    if (U32() != want_type) throw std::runtime_error("unexpected array type");
    v.resize(U64());
  }
  void Skip(uint32_t type) {
    static const size_t kSize[] = {1, 1, 2, 2, 4, 4, 4, 1, 0, 0, 8, 8, 8};
    if (type == 8) {
      Str();
    } else if (type == 9) {
      const uint32_t et = U32();
      const uint64_t n = U64();
      for (uint64_t i = 0; i < n; ++i) Skip(et);
    } else if (type < 13) {
      pos_ += kSize[type];
    } else {
      throw std::runtime_error("bad GGUF value type");
    }
  }

  std::string data_;
  size_t pos_ = 0;
};

spm::ModelProto GoldenModelProto(const std::string& c) {
  const std::string path = TestDataDir() + "/golden/" + c + "/hf/tokenizer.model";
  return spm::ParseModelProto(ReadFileBytes(path), path);
}

void ExpectSamePieces(const spm::ModelProto& a, const spm::ModelProto& b) {
  ASSERT_EQ(a.pieces.size(), b.pieces.size());
  for (size_t i = 0; i < a.pieces.size(); ++i) {
    EXPECT_EQ(a.pieces[i].piece, b.pieces[i].piece) << i;
    EXPECT_EQ(a.pieces[i].score, b.pieces[i].score) << i;
    EXPECT_EQ(a.pieces[i].type, b.pieces[i].type) << i;
  }
}

TEST(GgufVocab, Gemma3ArraysAllReferenceCases) {
  GEMMA_REQUIRE_TESTDATA();
  const Tokenizer& tok = Gemma3GgufTokenizer();
  EXPECT_EQ(tok.vocab_size(), 262144);
  EXPECT_EQ(tok.bos_id(), 2);
  EXPECT_EQ(tok.eos_id(), 1);
  // The same model as the file, byte for byte.
  EXPECT_TRUE(tok.processor().serialized_model_proto() == ReadFileBytes(Gemma3ModelPath()));
  EXPECT_EQ(CheckAllCases(tok, "GGUF arrays"), 2172);
}

// llama.cpp's converter marks special added tokens and <unusedN> CONTROL, writes the U+2581 runs
// of user-defined tokens with spaces and gives added tokens score -1000. The converted model must
// still tokenize as the original.
TEST(GgufVocab, Gemma3ArraysAsLlamaCppWritesThem) {
  GEMMA_REQUIRE_TESTDATA();
  TokenizerSource src = GgufSourceFromProto(Gemma3ModelProto());
  int control = 0, spaced = 0;
  for (size_t id = 0; id < src.gguf_tokens.size(); ++id) {
    std::string& t = src.gguf_tokens[id];
    if (src.gguf_token_types[id] != 4) continue;
    src.gguf_scores[id] = -1000.f;
    const bool special = t == "<start_of_turn>" || t == "<end_of_turn>" ||
                         t == "<start_of_image>" || t == "<end_of_image>" || t == "<mask>" ||
                         t.rfind("<unused", 0) == 0;
    if (special) {
      src.gguf_token_types[id] = 3;
      ++control;
    } else if (t.find("\xE2\x96\x81") != std::string::npos) {
      std::string s;
      for (size_t i = 0; i < t.size();) {
        if (t.compare(i, 3, "\xE2\x96\x81") == 0) {
          s += ' ';
          i += 3;
        } else {
          s += t[i++];
        }
      }
      t = s;
      ++spaced;
    }
  }
  EXPECT_EQ(control, 5 + 6242);
  EXPECT_EQ(spaced, 30);
  const Tokenizer tok = Tokenizer::Load(src, "llamacpp-style.gguf");
  EXPECT_EQ(tok.PieceToId("<start_of_turn>"), 105);
  EXPECT_FALSE(tok.IsControl(105));
  EXPECT_TRUE(tok.IsControl(2));
  EXPECT_EQ(CheckAllCases(tok, "llama.cpp-style GGUF arrays"), 2172);
}

TEST(GgufVocab, GoldenLlamaGgufMatchesTokenizerModel) {
  GEMMA_REQUIRE_TESTDATA();
  for (const char* c : {"gemma1-2b-like-mqa", "gemma2-2b-like", "gemma3-1b-like", "gemma3n-like"}) {
    SCOPED_TRACE(c);
    const std::string gguf = TestDataDir() + "/golden/" + c + "/model-f32.gguf";
    const TokenizerSource src = GgufTokenizerReader(gguf).Read();
    EXPECT_EQ(src.gguf_model, "llama");
    const spm::ModelProto proto = spm::GgufVocabToModelProto(src, gguf);
    ExpectSamePieces(proto, GoldenModelProto(c));
    const Tokenizer tok = Tokenizer::Load(src, gguf);
    TokenizerSource model_src;
    model_src.spm_model_path = TestDataDir() + "/golden/" + c + "/hf/tokenizer.model";
    const Tokenizer ref = Tokenizer::Load(model_src);
    for (const TokenizerCase& tc : Gemma3Cases()) {
      const std::string text = tc.text.substr(0, 2000);
      ASSERT_EQ(tok.Encode(text), ref.Encode(text)) << "cases.jsonl line " << tc.line;
    }
  }
}

TEST(GgufVocab, GoldenGemma4GgufMatchesSentencePieceModel) {
  GEMMA_REQUIRE_TESTDATA();
  const std::string gguf = TestDataDir() + "/golden/gemma4-like/model-f32.gguf";
  const TokenizerSource src = GgufTokenizerReader(gguf).Read();
  ASSERT_EQ(src.gguf_model, "gemma4");
  ASSERT_EQ(src.gguf_merges.size(), 204u);
  // The golden tokenizer.json was derived from this SentencePiece model.
  const spm::ModelProto proto = spm::GgufVocabToModelProto(src, gguf);
  ExpectSamePieces(proto, GoldenModelProto("gemma3-1b-like"));
  const Tokenizer tok = Tokenizer::Load(src, gguf);
  EXPECT_EQ(tok.bos_id(), 2);
  EXPECT_EQ(tok.eos_id(), 1);
  EXPECT_EQ(tok.unk_id(), 3);
  TokenizerSource json_src;
  json_src.hf_tokenizer_json_path = TestDataDir() + "/golden/gemma4-like/hf/tokenizer.json";
  const Tokenizer ref = Tokenizer::Load(json_src);
  for (const TokenizerCase& tc : Gemma3Cases()) {
    const std::string text = tc.text.substr(0, 2000);
    ASSERT_EQ(tok.Encode(text), ref.Encode(text)) << "cases.jsonl line " << tc.line;
  }
}

void ExpectGgufError(const TokenizerSource& src, ErrorKind kind, const std::string& what) {
  try {
    Tokenizer::Load(src, "bad.gguf");
    ADD_FAILURE() << "no error for " << what;
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), kind) << what << ": " << e.what();
    EXPECT_NE(std::string(e.what()).find("bad.gguf"), std::string::npos) << e.what();
  }
}

TEST(GgufVocab, Errors) {
  TokenizerSource ok;
  ok.gguf_model = "llama";
  ok.gguf_tokens = {"<pad>", "<eos>", "<bos>", "<unk>", "a", "b", "ab"};
  ok.gguf_scores = {0, 0, 0, 0, -2, -3, -1};
  ok.gguf_token_types = {3, 3, 3, 2, 1, 1, 1};
  const Tokenizer tok = Tokenizer::Load(ok, "ok.gguf");
  EXPECT_EQ(tok.Encode("abab"), (std::vector<int>{6, 6}));
  EXPECT_EQ(tok.bos_id(), 2);

  TokenizerSource s = ok;
  s.gguf_scores.pop_back();
  ExpectGgufError(s, ErrorKind::kFormat, "scores size");
  s = ok;
  s.gguf_token_types[4] = 9;
  ExpectGgufError(s, ErrorKind::kFormat, "token type 9");
  s = ok;
  s.gguf_model = "gpt2";
  ExpectGgufError(s, ErrorKind::kUnsupported, "gpt2");
  s = ok;
  s.gguf_token_types[3] = 1;
  s.gguf_tokens[3] = "x";
  ExpectGgufError(s, ErrorKind::kFormat, "no unknown");
  s = ok;
  s.gguf_tokens[5] = "a";
  ExpectGgufError(s, ErrorKind::kFormat, "duplicate");
  s = ok;
  s.gguf_model = "gemma4";
  ExpectGgufError(s, ErrorKind::kFormat, "gemma4 without merges");
  s.gguf_merges = {"a b"};
  const Tokenizer bpe = Tokenizer::Load(s, "ok.gguf");
  EXPECT_EQ(bpe.Encode("abab"), (std::vector<int>{6, 6}));
}

}  // namespace
}  // namespace gemma::test
