// tokenizer.json -> SentencePiece: the Gemma 3 file must give the reference .model exactly, the
// 512-piece gemma4-like file must tokenize as Hugging Face's BPE does.
#include <sentencepiece_processor.h>

#include <map>
#include <unordered_map>

#include "gemma/error.h"
#include "tokenizer/hf_tokenizer_json.h"
#include "tokenizer_test_util.h"

namespace gemma::test {
namespace {

std::string GoldenDir(const std::string& c) {
  return TestDataDir() + "/golden/" + c + "/hf";
}

// A straightforward Hugging Face BPE (added-token split, Replace " " -> U+2581, rank-ordered
// merges, byte fallback), as the reference the converted model must agree with.
class HfBpeReference {
 public:
  explicit HfBpeReference(const std::string& json_path) {
    const auto j = nlohmann::json::parse(ReadFileBytes(json_path));
    for (const auto& [piece, id] : j["model"]["vocab"].items()) vocab_[piece] = id.get<int>();
    int rank = 0;
    for (const auto& m : j["model"]["merges"]) {
      std::string a, b;
      if (m.is_string()) {
        const std::string s = m.get<std::string>();
        a = s.substr(0, s.find(' '));
        b = s.substr(s.find(' ') + 1);
      } else {
        a = m[0].get<std::string>();
        b = m[1].get<std::string>();
      }
      ranks_.emplace(a + '\x01' + b, rank++);
    }
    for (const auto& t : j["added_tokens"]) {
      added_.emplace_back(t["content"].get<std::string>(), t["id"].get<int>());
    }
  }

  std::vector<int> Encode(const std::string& text) const {
    std::vector<int> out;
    size_t start = 0;
    for (size_t pos = 0; pos < text.size();) {
      const std::pair<std::string, int>* best = nullptr;
      for (const auto& a : added_) {
        if (text.compare(pos, a.first.size(), a.first) == 0 &&
            (!best || a.first.size() > best->first.size())) {
          best = &a;
        }
      }
      if (!best) {
        ++pos;
        continue;
      }
      Word(text.substr(start, pos - start), out);
      out.push_back(best->second);
      pos += best->first.size();
      start = pos;
    }
    Word(text.substr(start), out);
    return out;
  }

 private:
  void Word(const std::string& raw, std::vector<int>& out) const {
    std::string s;
    for (char c : raw) s += c == ' ' ? std::string("\xE2\x96\x81") : std::string(1, c);
    std::vector<std::string> sym;
    for (size_t i = 0; i < s.size();) {
      const auto c = static_cast<uint8_t>(s[i]);
      const size_t len = c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
      const std::string ch = s.substr(i, len);
      if (vocab_.count(ch)) {
        sym.push_back(ch);
      } else {
        for (unsigned char b : ch) {
          char buf[8];
          std::snprintf(buf, sizeof(buf), "<0x%02X>", b);
          sym.push_back(buf);
        }
      }
      i += len;
    }
    while (true) {
      int best_rank = -1;
      size_t best_i = 0;
      for (size_t i = 0; i + 1 < sym.size(); ++i) {
        const auto it = ranks_.find(sym[i] + '\x01' + sym[i + 1]);
        if (it != ranks_.end() && (best_rank < 0 || it->second < best_rank)) {
          best_rank = it->second;
          best_i = i;
        }
      }
      if (best_rank < 0) break;
      sym[best_i] += sym[best_i + 1];
      sym.erase(sym.begin() + best_i + 1);
    }
    for (const auto& p : sym) out.push_back(vocab_.at(p));
  }

  std::unordered_map<std::string, int> vocab_;
  std::unordered_map<std::string, int> ranks_;
  std::vector<std::pair<std::string, int>> added_;
};

// The case texts, cut to at most `max_bytes` at a character boundary.
std::vector<std::string> ShortCaseTexts(size_t max_bytes) {
  std::vector<std::string> out;
  for (const TokenizerCase& c : Gemma3Cases()) {
    std::string t = c.text.substr(0, max_bytes);
    while (!t.empty() && (static_cast<uint8_t>(c.text[t.size()]) & 0xC0) == 0x80 &&
           t.size() < c.text.size()) {
      t.pop_back();
    }
    out.push_back(t);
  }
  return out;
}

bool HasControlText(const std::string& t) {
  for (const char* s : {"<pad>", "<eos>", "<bos>", "<unk>"}) {
    if (t.find(s) != std::string::npos) return true;
  }
  return false;
}

// One test, so that a ctest process parses the 33 MB file once.
TEST(TokenizerJson, Gemma3GivesTheReferenceModelAndAllCases) {
  GEMMA_REQUIRE_TESTDATA();
  const Tokenizer& tok = Gemma3JsonTokenizer();
  EXPECT_EQ(tok.vocab_size(), 262144);
  // SentencePiece re-serializes what it loaded: same pieces, scores, types and specs as the file.
  const std::string ours = tok.processor().serialized_model_proto();
  const std::string file = ReadFileBytes(Gemma3ModelPath());
  if (ours != file) {
    const spm::ModelProto a = spm::ParseModelProto(ours, "converted");
    const spm::ModelProto& b = Gemma3ModelProto();
    ASSERT_EQ(a.pieces.size(), b.pieces.size());
    int shown = 0;
    for (size_t i = 0; i < a.pieces.size() && shown < 10; ++i) {
      if (a.pieces[i].piece != b.pieces[i].piece || a.pieces[i].score != b.pieces[i].score ||
          a.pieces[i].type != b.pieces[i].type) {
        ADD_FAILURE() << "piece " << i << ": '" << a.pieces[i].piece << "' " << a.pieces[i].score
                      << " type " << static_cast<int>(a.pieces[i].type) << " vs '"
                      << b.pieces[i].piece << "' " << b.pieces[i].score << " type "
                      << static_cast<int>(b.pieces[i].type);
        ++shown;
      }
    }
    ADD_FAILURE() << "the converted model differs from gemma3-tokenizer.model";
  }
  EXPECT_EQ(CheckAllCases(tok, "tokenizer.json"), 2172);
}

TEST(TokenizerJson, GoldenGemma4LikeEqualsItsSentencePieceModel) {
  GEMMA_REQUIRE_TESTDATA();
  // The 512-piece tokenizer.json was derived from the golden tokenizer.model: converting it back
  // must give the same pieces, scores and types.
  const spm::ModelProto json_proto =
      spm::LoadHfTokenizerJson(GoldenDir("gemma4-like") + "/tokenizer.json");
  const std::string model_path = GoldenDir("gemma3-1b-like") + "/tokenizer.model";
  const spm::ModelProto model = spm::ParseModelProto(ReadFileBytes(model_path), model_path);
  ASSERT_EQ(json_proto.pieces.size(), 512u);
  ASSERT_EQ(model.pieces.size(), 512u);
  for (size_t i = 0; i < 512; ++i) {
    EXPECT_EQ(json_proto.pieces[i].piece, model.pieces[i].piece) << i;
    EXPECT_EQ(json_proto.pieces[i].score, model.pieces[i].score) << i;
    EXPECT_EQ(json_proto.pieces[i].type, model.pieces[i].type) << i;
  }
  EXPECT_EQ(json_proto.trainer_spec.unk_id, 3);
  EXPECT_EQ(json_proto.trainer_spec.bos_id, 2);
  EXPECT_EQ(json_proto.trainer_spec.eos_id, 1);
  EXPECT_EQ(json_proto.trainer_spec.pad_id, 0);
  EXPECT_FALSE(json_proto.normalizer_spec.add_dummy_prefix);
}

TEST(TokenizerJson, GoldenGemma4LikeMatchesHfBpe) {
  GEMMA_REQUIRE_TESTDATA();
  const std::string path = GoldenDir("gemma4-like") + "/tokenizer.json";
  TokenizerSource src;
  src.hf_tokenizer_json_path = path;
  const Tokenizer tok = Tokenizer::Load(src);
  EXPECT_EQ(tok.vocab_size(), 512);
  EXPECT_EQ(tok.bos_id(), 2);
  const HfBpeReference ref(path);
  std::vector<std::string> texts = ShortCaseTexts(300);
  for (const char* t : {"the quick brown fox jumps over the lazy dog", "  two  spaces ",
                        "The weight matrix of the attention value vector", "x", ""}) {
    texts.push_back(t);
  }
  int compared = 0;
  for (const std::string& t : texts) {
    if (HasControlText(t)) continue;
    ASSERT_EQ(tok.Encode(t), ref.Encode(t)) << "text: " << t;
    // A literal U+2581 decodes to a space; everything else round-trips.
    if (t.find("\xE2\x96\x81") == std::string::npos) {
      EXPECT_EQ(tok.Decode(tok.Encode(t)), t);
    }
    ++compared;
  }
  EXPECT_GT(compared, 2000);
}

void ExpectError(const std::string& json_text, ErrorKind kind, const std::string& what) {
  const std::string dir = MakeTempDir("json");
  const std::string path = dir + "/tokenizer.json";
  WriteFileBytes(path, json_text);
  TokenizerSource src;
  src.hf_tokenizer_json_path = path;
  try {
    Tokenizer::Load(src);
    ADD_FAILURE() << "no error for " << what;
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), kind) << what << ": " << e.what();
    EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
    EXPECT_EQ(std::string(e.what()).find('\n'), std::string::npos) << e.what();
  }
}

TEST(TokenizerJson, Errors) {
  ExpectError("{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0", ErrorKind::kFormat,
              "truncated JSON");
  ExpectError("[1, 2]", ErrorKind::kFormat, "not an object");
  ExpectError("{\"model\": {\"type\": \"Unigram\", \"vocab\": []}}", ErrorKind::kUnsupported,
              "unigram");
  ExpectError(R"({"model": {"type": "BPE", "vocab": {"<unk>": 0, "a": 2}, "merges": []}})",
              ErrorKind::kFormat, "vocab gap");
  ExpectError(R"({"model": {"type": "BPE", "vocab": {"a": 0, "b": 1}, "merges": ["a b"]}})",
              ErrorKind::kFormat, "no unk");
  ExpectError(R"({"pre_tokenizer": {"type": "ByteLevel"},
                  "model": {"type": "BPE", "vocab": {"<unk>": 0}, "merges": []}})",
              ErrorKind::kUnsupported, "byte-level");
  ExpectError(R"({"model": {"type": "BPE", "vocab": {"<unk>": 0}, "merges": [7]}})",
              ErrorKind::kFormat, "bad merge");

  TokenizerSource src;
  src.hf_tokenizer_json_path = "/nonexistent/tokenizer.json";
  try {
    Tokenizer::Load(src);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kIo);
    EXPECT_NE(std::string(e.what()).find("/nonexistent/tokenizer.json"), std::string::npos);
  }
}

// A small tokenizer.json: merges as "a b" strings, added tokens inside and outside the
// vocabulary, all 256 byte pieces.
nlohmann::json SmallTokenizerJson() {
  nlohmann::json vocab = nlohmann::json::object();
  int id = 0;
  for (const char* p : {"<pad>", "<eos>", "<bos>", "<unk>", "<start_of_turn>"}) vocab[p] = id++;
  for (int b = 0; b < 256; ++b) {
    char buf[8];
    std::snprintf(buf, sizeof(buf), "<0x%02X>", b);
    vocab[buf] = id++;
  }
  for (const char* p : {"\xE2\x96\x81", "h", "i", "hi", "\xE2\x96\x81hi"}) vocab[p] = id++;
  nlohmann::json added = nlohmann::json::array();
  int aid = 0;
  for (const char* p : {"<pad>", "<eos>", "<bos>", "<unk>", "<start_of_turn>"}) {
    added.push_back({{"id", aid++}, {"content", p}, {"special", true}});
  }
  added.push_back({{"id", 999}, {"content", "<image_soft_token>"}, {"special", true}});
  return {{"added_tokens", added},
          {"normalizer",
           {{"type", "Replace"}, {"pattern", {{"String", " "}}}, {"content", "\xE2\x96\x81"}}},
          {"model",
           {{"type", "BPE"},
            {"byte_fallback", true},
            {"unk_token", "<unk>"},
            {"vocab", vocab},
            {"merges", {"h i", "\xE2\x96\x81 hi"}}}}};
}

TEST(TokenizerJson, SmallVocabularyConventions) {
  const spm::ModelProto proto =
      spm::HfTokenizerJsonToModelProto(SmallTokenizerJson().dump(), "mem.json");
  ASSERT_EQ(proto.pieces.size(), 266u);
  EXPECT_EQ(proto.pieces[0].type, spm::PieceType::kControl);
  EXPECT_EQ(proto.pieces[3].type, spm::PieceType::kUnknown);
  EXPECT_EQ(proto.pieces[4].type, spm::PieceType::kUserDefined);
  EXPECT_EQ(proto.pieces[5].type, spm::PieceType::kByte);
  EXPECT_TRUE(proto.trainer_spec.byte_fallback);
  EXPECT_EQ(proto.pieces[264].score, 0.f);   // hi: first merge
  EXPECT_EQ(proto.pieces[265].score, -1.f);  // ▁hi: second merge
  EXPECT_EQ(proto.pieces[261].score, -2.f);  // single characters after, in id order
  EXPECT_EQ(proto.pieces[263].score, -4.f);
  const Tokenizer tok = Tokenizer::FromSerializedProto(spm::SerializeModelProto(proto), "mem");
  const int nl = 5 + '\n';
  EXPECT_EQ(tok.Encode("<start_of_turn>hi hi\n"), (std::vector<int>{4, 264, 265, nl}));
  EXPECT_EQ(tok.Decode({4, 264, 265, nl}), "<start_of_turn>hi hi\n");
  EXPECT_EQ(tok.bos_id(), 2);
  EXPECT_EQ(tok.eos_id(), 1);
  EXPECT_EQ(tok.vocab_size(), 266);  // <image_soft_token> (999) has no piece
}

TEST(TokenizerJson, IncompleteBytePiecesFallBackToUnk) {
  nlohmann::json j = SmallTokenizerJson();
  j["model"]["vocab"].erase("<0x41>");
  j["model"]["vocab"]["A"] = 5 + 0x41;
  const spm::ModelProto proto = spm::HfTokenizerJsonToModelProto(j.dump(), "mem.json");
  EXPECT_FALSE(proto.trainer_spec.byte_fallback);
  EXPECT_EQ(proto.pieces[5].type, spm::PieceType::kUnused);
  const Tokenizer tok = Tokenizer::FromSerializedProto(spm::SerializeModelProto(proto), "mem");
  EXPECT_EQ(tok.Encode("hiA\n"), (std::vector<int>{264, 5 + 0x41, 3}));
}

}  // namespace
}  // namespace gemma::test
