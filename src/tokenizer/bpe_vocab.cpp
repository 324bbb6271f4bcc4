#include "tokenizer/bpe_vocab.h"

#include <algorithm>
#include <limits>
#include <unordered_map>
#include <unordered_set>

#include "gemma/error.h"

namespace gemma::spm {
namespace {

bool AllNewlines(const std::string& s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c == '\n'; });
}

}  // namespace

ModelProto BpeVocabToModelProto(const BpeVocab& vocab, const std::string& origin) {
  const size_t n = vocab.pieces.size();
  if (n == 0) Fail(ErrorKind::kFormat, origin + ": the vocabulary is empty");
  if (!vocab.types.empty() && vocab.types.size() != n) {
    Fail(ErrorKind::kInternal, origin + ": " + std::to_string(vocab.types.size()) +
                                   " piece types for " + std::to_string(n) + " pieces");
  }

  ModelProto model;
  model.pieces.resize(n);
  bool have_unknown = false;
  for (size_t id = 0; id < n; ++id) {
    Piece& p = model.pieces[id];
    p.piece = vocab.pieces[id];
    if (!vocab.types.empty() && vocab.types[id].has_value()) {
      p.type = *vocab.types[id];
    } else if (vocab.byte_fallback && ParseBytePiece(p.piece) >= 0) {
      p.type = PieceType::kByte;
    } else {
      p.type = PieceType::kNormal;
    }
    if (p.type == PieceType::kUnknown) {
      // SentencePiece allows exactly one; further ones behave like added tokens.
      if (have_unknown) p.type = PieceType::kUserDefined;
      have_unknown = true;
    }
    if (vocab.split_newline_runs && p.type == PieceType::kNormal && AllNewlines(p.piece)) {
      p.type = PieceType::kUserDefined;
    }
  }
  if (!have_unknown) {
    for (Piece& p : model.pieces) {
      if (p.piece == vocab.unk_piece) {
        p.type = PieceType::kUnknown;
        have_unknown = true;
        break;
      }
    }
  }
  if (!have_unknown) {
    Fail(ErrorKind::kFormat,
         origin + ": the vocabulary has no unknown token (expected '" + vocab.unk_piece + "')");
  }

  // Rank of the first merge producing each piece.
  std::unordered_map<std::string_view, int> id_of;
  id_of.reserve(n * 2);
  for (size_t id = 0; id < n; ++id) id_of.emplace(model.pieces[id].piece, static_cast<int>(id));
  constexpr size_t kNoMerge = std::numeric_limits<size_t>::max();
  std::vector<size_t> first_merge(n, kNoMerge);
  std::string joined;
  for (size_t rank = 0; rank < vocab.merges.size(); ++rank) {
    joined.assign(vocab.merges[rank].first);
    joined.append(vocab.merges[rank].second);
    const auto it = id_of.find(joined);
    if (it == id_of.end()) continue;
    size_t& r = first_merge[it->second];
    if (r == kNoMerge) r = rank;
  }

  std::vector<int> order;
  order.reserve(n);
  for (size_t id = 0; id < n; ++id) {
    if (model.pieces[id].type == PieceType::kNormal) order.push_back(static_cast<int>(id));
  }
  // Merged pieces by first merge, then the rest by id (stable sort keeps id order on ties).
  std::stable_sort(order.begin(), order.end(),
                   [&](int a, int b) { return first_merge[a] < first_merge[b]; });
  for (size_t k = 0; k < order.size(); ++k) {
    model.pieces[order[k]].score = -static_cast<float>(k);
  }

  SetGemmaSpecs(model);
  ValidatePieces(model, origin);
  return model;
}

void ValidatePieces(const ModelProto& model, const std::string& origin) {
  // SentencePiece keeps NORMAL/USER_DEFINED/UNUSED pieces in one map and the others in another;
  // a name may appear once in each.
  std::unordered_set<std::string_view> normal, reserved;
  normal.reserve(model.pieces.size() * 2);
  int unknown = 0;
  for (size_t id = 0; id < model.pieces.size(); ++id) {
    const Piece& p = model.pieces[id];
    const std::string where = origin + ": token " + std::to_string(id);
    if (p.piece.empty()) Fail(ErrorKind::kFormat, where + " is empty");
    const bool is_normal = p.type == PieceType::kNormal || p.type == PieceType::kUserDefined ||
                           p.type == PieceType::kUnused;
    if (!(is_normal ? normal : reserved).insert(p.piece).second) {
      Fail(ErrorKind::kFormat, where + " ('" + p.piece + "') is a duplicate");
    }
    if (p.type == PieceType::kUnknown) ++unknown;
    if (p.type == PieceType::kByte) {
      if (ParseBytePiece(p.piece) < 0) {
        Fail(ErrorKind::kFormat, where + " ('" + p.piece + "') is typed byte but is not <0xXX>");
      }
      if (!model.trainer_spec.byte_fallback) {
        Fail(ErrorKind::kFormat, where + " is a byte token but byte fallback is off");
      }
    }
  }
  if (unknown != 1) {
    Fail(ErrorKind::kFormat,
         origin + ": expected exactly one unknown token, found " + std::to_string(unknown));
  }
}

}  // namespace gemma::spm
