// Tokenizer on the Gemma 3 SentencePiece model: the reference cases, decoding, streaming, errors.
#include <algorithm>
#include <random>

#include "gemma/error.h"
#include "tokenizer/spm_model_proto.h"
#include "tokenizer_test_util.h"

namespace gemma::test {
namespace {

// Whether `s` is complete, valid UTF-8 (no overlongs, surrogates or truncated characters).
bool IsValidUtf8(const std::string& s) {
  const auto* p = reinterpret_cast<const uint8_t*>(s.data());
  size_t i = 0;
  while (i < s.size()) {
    const uint8_t c = p[i];
    int len;
    uint32_t cp;
    if (c < 0x80) {
      ++i;
      continue;
    } else if ((c & 0xE0) == 0xC0) {
      len = 2, cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      len = 3, cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      len = 4, cp = c & 0x07;
    } else {
      return false;
    }
    if (i + len > s.size()) return false;
    for (int k = 1; k < len; ++k) {
      if ((p[i + k] & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (p[i + k] & 0x3F);
    }
    static const uint32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < kMin[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += len;
  }
  return true;
}

int ByteId(const Tokenizer& tok, int byte) {
  char buf[8];
  std::snprintf(buf, sizeof(buf), "<0x%02X>", byte);
  return tok.PieceToId(buf);
}

// Streams `ids` and checks each chunk is valid UTF-8; returns the concatenation.
std::string StreamAll(const Tokenizer& tok, const std::vector<int>& ids) {
  StreamDecoder dec(tok);
  std::string all;
  for (int id : ids) {
    const std::string chunk = dec.Push(id);
    EXPECT_TRUE(IsValidUtf8(chunk))
        << "partial UTF-8 after id " << id << " of " << IdsToString(ids);
    all += chunk;
  }
  const std::string tail = dec.Flush();
  EXPECT_TRUE(IsValidUtf8(tail));
  return all + tail;
}

TEST(TokenizerModel, Gemma3Basics) {
  GEMMA_REQUIRE_TESTDATA();
  const Tokenizer& tok = Gemma3ModelTokenizer();
  EXPECT_EQ(tok.vocab_size(), 262144);
  EXPECT_EQ(tok.bos_id(), 2);
  EXPECT_EQ(tok.eos_id(), 1);
  EXPECT_EQ(tok.pad_id(), 0);
  EXPECT_EQ(tok.unk_id(), 3);
  EXPECT_EQ(tok.PieceToId("<start_of_turn>"), 105);
  EXPECT_EQ(tok.PieceToId("<end_of_turn>"), 106);
  EXPECT_EQ(tok.PieceToId("\xE2\x96\x81t"), 494);
  EXPECT_EQ(tok.PieceToId("<0x00>"), 238);
  EXPECT_EQ(tok.PieceToId("no such piece at all"), -1);
  EXPECT_EQ(tok.PieceToId("<unk>"), 3);
  EXPECT_EQ(tok.IdToPiece(105), "<start_of_turn>");
  EXPECT_EQ(tok.IdToPiece(238 + 0x41), "<0x41>");
  EXPECT_TRUE(tok.IsControl(2));
  EXPECT_FALSE(tok.IsControl(105));  // USER_DEFINED: matched in text
  EXPECT_TRUE(tok.IsByte(238));
  EXPECT_TRUE(tok.IsByte(493));
  EXPECT_FALSE(tok.IsByte(494));
  EXPECT_FALSE(tok.IsByte(-1));
  EXPECT_FALSE(tok.IsByte(1 << 30));
  EXPECT_EQ(tok.ByteValue(238 + 0xF0), 0xF0);
  EXPECT_EQ(tok.ByteValue(494), -1);
  EXPECT_EQ(tok.Encode("<start_of_turn>user\n"), (std::vector<int>{105, 2364, 107}));
  EXPECT_TRUE(tok.Encode("").empty());
}

TEST(TokenizerModel, DecodeKeepsLeadingSpace) {
  GEMMA_REQUIRE_TESTDATA();
  const Tokenizer& tok = Gemma3ModelTokenizer();
  const int the = tok.PieceToId("\xE2\x96\x81the");
  ASSERT_GE(the, 0);
  EXPECT_EQ(tok.Decode({the}), " the");
  EXPECT_EQ(tok.Decode({the, the}), " the the");
  EXPECT_EQ(tok.Decode({2, the, 1}), " the");  // CONTROL decodes to nothing
  EXPECT_EQ(tok.Decode({3}), "<unk>");
  EXPECT_EQ(tok.Decode({}), "");
}

TEST(TokenizerModel, AllReferenceCases) {
  GEMMA_REQUIRE_TESTDATA();
  ASSERT_EQ(Gemma3Cases().size(), 2172u);
  EXPECT_EQ(CheckAllCases(Gemma3ModelTokenizer(), ".model"), 2172);
}

TEST(TokenizerModel, DecodeCasesMatchSentencePiece) {
  GEMMA_REQUIRE_TESTDATA();
  const Tokenizer& tok = Gemma3ModelTokenizer();
  int n = 0;
  for (const auto& j : ReadJsonLines(TokenizerDataDir() + "/decode_cases.jsonl")) {
    const auto ids = j.at("ids").get<std::vector<int>>();
    EXPECT_EQ(tok.Decode(ids), j.at("spm").get<std::string>()) << IdsToString(ids);
    // Streaming gives the same text.
    EXPECT_EQ(StreamAll(tok, ids), j.at("spm").get<std::string>()) << IdsToString(ids);
    ++n;
  }
  EXPECT_EQ(n, 44);
}

// HF cuts <bos>/<eos>/<pad>/<unk> out of text; EncodeWithSpecialTokenText does the same.
TEST(TokenizerModel, SpecialTokenTextLikeHf) {
  GEMMA_REQUIRE_TESTDATA();
  const Tokenizer& tok = Gemma3ModelTokenizer();
  int n = 0;
  for (const TokenizerCase& c : Gemma3Cases()) {
    if (c.spm_differs_because != "control-token-text") {
      if (!c.spm_ids) {
        // Without those four strings it is plain Encode.
        if (c.text.find('<') == std::string::npos) continue;
        EXPECT_EQ(tok.EncodeWithSpecialTokenText(c.text), c.ids) << "line " << c.line;
      }
      continue;
    }
    // Some also hold <image_soft_token> (262144), which has no piece.
    if (*std::max_element(c.ids.begin(), c.ids.end()) >= tok.vocab_size()) continue;
    EXPECT_EQ(tok.EncodeWithSpecialTokenText(c.text), c.ids) << "line " << c.line;
    ++n;
  }
  EXPECT_GE(n, 40);
  EXPECT_EQ(tok.EncodeWithSpecialTokenText("<bos><eos><pad><unk>"), (std::vector<int>{2, 1, 0, 3}));
  // Plain Encode keeps them as text (SentencePiece never matches CONTROL pieces).
  EXPECT_NE(tok.Encode("<bos>"), std::vector<int>{2});
}

TEST(TokenizerStream, EmojiSplitAcrossByteTokens) {
  GEMMA_REQUIRE_TESTDATA();
  const Tokenizer& tok = Gemma3ModelTokenizer();
  // U+1F600 as byte tokens: F0 9F 98 80.
  const std::vector<int> ids = {ByteId(tok, 0xF0), ByteId(tok, 0x9F), ByteId(tok, 0x98),
                                ByteId(tok, 0x80)};
  StreamDecoder dec(tok);
  EXPECT_EQ(dec.Push(ids[0]), "");
  EXPECT_EQ(dec.Push(ids[1]), "");
  EXPECT_EQ(dec.Push(ids[2]), "");
  EXPECT_EQ(dec.Push(ids[3]), "\xF0\x9F\x98\x80");
  EXPECT_EQ(dec.Flush(), "");
  EXPECT_EQ(tok.Decode(ids), "\xF0\x9F\x98\x80");

  // Normal pieces pass straight through, with their leading space.
  StreamDecoder dec2(tok);
  EXPECT_EQ(dec2.Push(tok.PieceToId("\xE2\x96\x81the")), " the");
  EXPECT_EQ(dec2.Push(ids[0]), "");
  EXPECT_EQ(dec2.Push(ids[1]), "");
  // A normal piece ends the byte run: the incomplete character becomes U+FFFD per byte.
  EXPECT_EQ(dec2.Push(tok.PieceToId("a")),
            "\xEF\xBF\xBD\xEF\xBF\xBD"
            "a");
  EXPECT_EQ(dec2.Push(ids[0]), "");
  EXPECT_EQ(dec2.Flush(), "\xEF\xBF\xBD");
  EXPECT_EQ(dec2.Flush(), "");
}

TEST(TokenizerStream, InvalidBytesAreReplacedAtOnce) {
  GEMMA_REQUIRE_TESTDATA();
  const Tokenizer& tok = Gemma3ModelTokenizer();
  StreamDecoder dec(tok);
  // A lone continuation byte can never complete: replaced immediately.
  EXPECT_EQ(dec.Push(ByteId(tok, 0x80)), "\xEF\xBF\xBD");
  // E2 followed by 'A' (0x41): E2 is invalid once the non-trail byte arrives.
  EXPECT_EQ(dec.Push(ByteId(tok, 0xE2)), "");
  EXPECT_EQ(dec.Push(ByteId(tok, 0x41)),
            "\xEF\xBF\xBD"
            "A");
  // Overlong C0 80 and a surrogate ED A0 80: one U+FFFD per byte, as SentencePiece does.
  const std::vector<int> bad = {ByteId(tok, 0xC0), ByteId(tok, 0x80), ByteId(tok, 0xED),
                                ByteId(tok, 0xA0), ByteId(tok, 0x80)};
  EXPECT_EQ(StreamAll(tok, bad), tok.Decode(bad));
}

TEST(TokenizerStream, MatchesDecodeOnAllCases) {
  GEMMA_REQUIRE_TESTDATA();
  const Tokenizer& tok = Gemma3ModelTokenizer();
  for (const TokenizerCase& c : Gemma3Cases()) {
    const std::vector<int>& ids = c.expected_spm();
    ASSERT_EQ(StreamAll(tok, ids), tok.Decode(ids)) << "cases.jsonl line " << c.line;
  }
}

TEST(TokenizerStream, MatchesDecodeOnRandomByteMixtures) {
  GEMMA_REQUIRE_TESTDATA();
  const Tokenizer& tok = Gemma3ModelTokenizer();
  std::mt19937 rng(1234);
  // Bytes biased towards UTF-8 structure, plus a few normal, user-defined and control ids.
  const std::vector<int> others = {
      tok.PieceToId("a"), tok.PieceToId("\xE2\x96\x81the"), 105, 2, 1, 3};
  const int lead_bytes[] = {0x41, 0xC3, 0xE2, 0xE3, 0xF0, 0xF4, 0xF5, 0xC0, 0xED, 0xFF};
  for (int iter = 0; iter < 3000; ++iter) {
    std::vector<int> ids;
    const int len = 1 + static_cast<int>(rng() % 12);
    for (int k = 0; k < len; ++k) {
      const unsigned r = rng() % 10;
      if (r < 2) {
        ids.push_back(others[rng() % others.size()]);
      } else if (r < 5) {
        ids.push_back(ByteId(tok, lead_bytes[rng() % std::size(lead_bytes)]));
      } else if (r < 9) {
        ids.push_back(ByteId(tok, 0x80 + static_cast<int>(rng() % 0x40)));
      } else {
        ids.push_back(ByteId(tok, static_cast<int>(rng() % 256)));
      }
    }
    ASSERT_EQ(StreamAll(tok, ids), tok.Decode(ids)) << IdsToString(ids);
  }
}

TEST(TokenizerErrors, MissingModelFile) {
  TokenizerSource src;
  src.spm_model_path = "/nonexistent/dir/tokenizer.model";
  try {
    Tokenizer::Load(src);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kIo);
    EXPECT_NE(std::string(e.what()).find("/nonexistent/dir/tokenizer.model"), std::string::npos)
        << e.what();
  }
}

TEST(TokenizerErrors, CorruptModelFile) {
  const std::string dir = MakeTempDir("bad");
  const std::string path = dir + "/tokenizer.model";
  WriteFileBytes(path, "this is not a protobuf \xFF\xFF\xFF\xFF");
  TokenizerSource src;
  src.spm_model_path = path;
  try {
    Tokenizer::Load(src);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kFormat);
    EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
    EXPECT_EQ(std::string(e.what()).find('\n'), std::string::npos) << e.what();
  }
}

TEST(TokenizerErrors, EmptySourceAndBadIds) {
  try {
    Tokenizer::Load(TokenizerSource(), "model.gguf");
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kFormat);
    EXPECT_NE(std::string(e.what()).find("model.gguf"), std::string::npos) << e.what();
  }
  GEMMA_REQUIRE_TESTDATA();
  const Tokenizer& tok = Gemma3ModelTokenizer();
  EXPECT_THROW(tok.Decode({5, 262144}), Error);
  EXPECT_THROW(tok.Decode({-1}), Error);
  EXPECT_THROW(tok.IdToPiece(262144), Error);
  StreamDecoder dec(tok);
  EXPECT_THROW(dec.Push(300000), Error);
}

TEST(TokenizerModel, GoldenModelFilesLoad) {
  GEMMA_REQUIRE_TESTDATA();
  for (const char* c : {"gemma1-2b-like-mqa", "gemma3-1b-like", "gemma3n-like"}) {
    TokenizerSource src;
    src.spm_model_path = TestDataDir() + "/golden/" + c + "/hf/tokenizer.model";
    const Tokenizer tok = Tokenizer::Load(src);
    EXPECT_EQ(tok.bos_id(), 2) << c;
    EXPECT_EQ(tok.eos_id(), 1) << c;
    const std::string text = "the quick brown fox";
    EXPECT_EQ(tok.Decode(tok.Encode(text)), text) << c;
  }
}

TEST(SpmModelProto, RoundTripIsByteExact) {
  GEMMA_REQUIRE_TESTDATA();
  const std::string bytes = ReadFileBytes(Gemma3ModelPath());
  const spm::ModelProto& proto = Gemma3ModelProto();
  ASSERT_EQ(proto.pieces.size(), 262144u);
  EXPECT_EQ(proto.pieces[105].piece, "<start_of_turn>");
  EXPECT_EQ(proto.pieces[105].type, spm::PieceType::kUserDefined);
  EXPECT_EQ(proto.pieces[3].type, spm::PieceType::kUnknown);
  EXPECT_EQ(proto.pieces[238].type, spm::PieceType::kByte);
  EXPECT_EQ(proto.pieces[1000].score, 494.f - 1000.f);
  EXPECT_EQ(proto.trainer_spec.model_type, spm::ModelType::kBpe);
  EXPECT_TRUE(proto.trainer_spec.byte_fallback);
  EXPECT_FALSE(proto.normalizer_spec.add_dummy_prefix);
  EXPECT_FALSE(proto.normalizer_spec.remove_extra_whitespaces);
  EXPECT_TRUE(spm::SerializeModelProto(proto) == bytes);
}

TEST(SpmModelProto, SetGemmaSpecsMatchesModelFile) {
  GEMMA_REQUIRE_TESTDATA();
  spm::ModelProto proto;
  proto.pieces = Gemma3ModelProto().pieces;
  spm::SetGemmaSpecs(proto);
  EXPECT_TRUE(spm::SerializeModelProto(proto) == ReadFileBytes(Gemma3ModelPath()));
}

TEST(SpmModelProto, TruncatedBytesAreAFormatError) {
  spm::ModelProto m;
  m.pieces.push_back({"<unk>", 0.f, spm::PieceType::kUnknown});
  m.pieces.push_back({"a", -1.f, spm::PieceType::kNormal});
  spm::SetGemmaSpecs(m);
  const std::string bytes = spm::SerializeModelProto(m);
  const spm::ModelProto back = spm::ParseModelProto(bytes, "mem");
  ASSERT_EQ(back.pieces.size(), 2u);
  EXPECT_EQ(back.pieces[1].piece, "a");
  EXPECT_EQ(back.pieces[1].score, -1.f);
  EXPECT_EQ(back.trainer_spec.bos_id, -1);
  EXPECT_EQ(back.trainer_spec.unk_id, 0);
  try {
    spm::ParseModelProto(bytes.substr(0, bytes.size() - 3), "some/file.model");
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kFormat);
    EXPECT_NE(std::string(e.what()).find("some/file.model"), std::string::npos);
  }
  // The minimal model loads in SentencePiece.
  const Tokenizer tok = Tokenizer::FromSerializedProto(bytes, "mem");
  EXPECT_EQ(tok.Encode("aa"), (std::vector<int>{1, 1}));
  EXPECT_EQ(tok.bos_id(), -1);
}

}  // namespace
}  // namespace gemma::test
