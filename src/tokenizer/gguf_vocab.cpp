#include "tokenizer/gguf_vocab.h"

#include <optional>
#include <unordered_set>

#include "gemma/error.h"
#include "tokenizer/bpe_vocab.h"

namespace gemma::spm {
namespace {

const char kSpaceSymbol[] = "\xE2\x96\x81";  // U+2581

std::string ReplaceSpaces(const std::string& s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    if (c == ' ') {
      out += kSpaceSymbol;
    } else {
      out.push_back(c);
    }
  }
  return out;
}

bool StaysControl(const std::string& piece) {
  return piece == "<bos>" || piece == "<eos>" || piece == "<pad>" || piece == "<s>" ||
         piece == "</s>";
}

// Maps one GGUF token type to the SentencePiece type (see gguf_vocab.h), fixing the piece text of
// user-defined tokens. `piece` may be rewritten.
PieceType MapType(int32_t gguf_type, std::string& piece, size_t id, const std::string& origin) {
  switch (gguf_type) {
    case 0:  // LLAMA_TOKEN_TYPE_UNDEFINED in old files
    case 1:
      return PieceType::kNormal;
    case 2:
      return PieceType::kUnknown;
    case 3:
      if (StaysControl(piece)) return PieceType::kControl;
      if (piece == "<unk>") return PieceType::kUnknown;
      return PieceType::kUserDefined;
    case 4:
      piece = ReplaceSpaces(piece);
      return PieceType::kUserDefined;
    case 5:
      return PieceType::kUnused;
    case 6:
      return PieceType::kByte;
    default:
      Fail(ErrorKind::kFormat, origin + ": tokenizer.ggml.token_type[" + std::to_string(id) +
                                   "] is " + std::to_string(gguf_type) + " (expected 1..6)");
  }
}

void CheckSizes(const TokenizerSource& src, const std::string& origin) {
  const size_t n = src.gguf_tokens.size();
  if (n == 0) Fail(ErrorKind::kFormat, origin + ": tokenizer.ggml.tokens is empty");
  if (!src.gguf_scores.empty() && src.gguf_scores.size() != n) {
    Fail(ErrorKind::kFormat, origin + ": tokenizer.ggml.scores has " +
                                 std::to_string(src.gguf_scores.size()) + " entries for " +
                                 std::to_string(n) + " tokens");
  }
  if (!src.gguf_token_types.empty() && src.gguf_token_types.size() != n) {
    Fail(ErrorKind::kFormat, origin + ": tokenizer.ggml.token_type has " +
                                 std::to_string(src.gguf_token_types.size()) + " entries for " +
                                 std::to_string(n) + " tokens");
  }
}

ModelProto FromSentencePieceArrays(const TokenizerSource& src, const std::string& origin) {
  const size_t n = src.gguf_tokens.size();
  ModelProto model;
  model.pieces.resize(n);
  bool have_unknown = false;
  for (size_t id = 0; id < n; ++id) {
    Piece& p = model.pieces[id];
    p.piece = src.gguf_tokens[id];
    if (!src.gguf_token_types.empty()) {
      p.type = MapType(src.gguf_token_types[id], p.piece, id, origin);
    } else {
      p.type = ParseBytePiece(p.piece) >= 0 ? PieceType::kByte : PieceType::kNormal;
    }
    if (p.type == PieceType::kUnknown) {
      if (have_unknown) p.type = PieceType::kUserDefined;
      have_unknown = true;
    }
    p.score = !src.gguf_scores.empty() && p.type == PieceType::kNormal ? src.gguf_scores[id] : 0.f;
  }
  if (!have_unknown) {
    Fail(ErrorKind::kFormat, origin + ": the GGUF vocabulary has no unknown token");
  }
  SetGemmaSpecs(model);
  ValidatePieces(model, origin);
  return model;
}

ModelProto FromBpeArrays(const TokenizerSource& src, const std::string& origin) {
  const size_t n = src.gguf_tokens.size();
  BpeVocab vocab;
  vocab.pieces = src.gguf_tokens;
  vocab.split_newline_runs = true;
  if (!src.gguf_token_types.empty()) {
    vocab.types.resize(n);
    for (size_t id = 0; id < n; ++id) {
      vocab.types[id] = MapType(src.gguf_token_types[id], vocab.pieces[id], id, origin);
    }
  }
  if (src.gguf_merges.empty()) {
    Fail(ErrorKind::kFormat, origin + ": tokenizer.ggml.merges is missing for a BPE vocabulary");
  }
  std::unordered_set<std::string_view> pieces(vocab.pieces.begin(), vocab.pieces.end());
  vocab.merges.reserve(src.gguf_merges.size());
  for (size_t r = 0; r < src.gguf_merges.size(); ++r) {
    const std::string& m = src.gguf_merges[r];
    size_t split = std::string::npos;
    for (size_t pos = m.find(' '); pos != std::string::npos; pos = m.find(' ', pos + 1)) {
      if (split == std::string::npos) split = pos;
      if (pieces.count(std::string_view(m.data(), pos)) &&
          pieces.count(std::string_view(m.data() + pos + 1, m.size() - pos - 1))) {
        split = pos;
        break;
      }
    }
    if (split == std::string::npos) {
      Fail(ErrorKind::kFormat, origin + ": tokenizer.ggml.merges[" + std::to_string(r) + "] ('" +
                                   m + "') is not \"a b\"");
    }
    vocab.merges.emplace_back(m.substr(0, split), m.substr(split + 1));
  }
  return BpeVocabToModelProto(vocab, origin);
}

}  // namespace

ModelProto GgufVocabToModelProto(const TokenizerSource& source, const std::string& origin) {
  CheckSizes(source, origin);
  const std::string& kind = source.gguf_model;
  if (kind.empty() || kind == "llama") return FromSentencePieceArrays(source, origin);
  if (kind == "gemma4") return FromBpeArrays(source, origin);
  Fail(ErrorKind::kUnsupported, origin + ": tokenizer.ggml.model '" + kind +
                                    "' is not supported (expected 'llama' or 'gemma4')");
}

}  // namespace gemma::spm
