// Turns a merge-based BPE vocabulary (HF tokenizer.json, GGUF "gemma4") into a SentencePiece
// ModelProto that tokenizes the same way.
//
// SentencePiece's BPE merges the adjacent pair whose concatenation has the highest score; HF's BPE
// merges the pair with the lowest merge rank. Scoring each NORMAL piece by the rank of the first
// merge that produces it (earlier merge = higher score) reproduces HF's order for Gemma
// vocabularies, whose merges come in blocks per produced piece. Concretely the merged NORMAL
// pieces, sorted by their first merge, get scores 0, -1, -2, ...; NORMAL pieces no merge produces
// (single characters) follow in id order. For Gemma 3 this is exactly `494 - id`, as in the
// reference .model file.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "tokenizer/spm_model_proto.h"

namespace gemma::spm {

struct BpeVocab {
  std::vector<std::string> pieces;              // indexed by id, no gaps
  std::vector<std::optional<PieceType>> types;  // per id; unset: BYTE for <0xXX>, else NORMAL
  std::vector<std::pair<std::string, std::string>> merges;  // in rank order
  bool byte_fallback = true;        // <0xXX> pieces without an explicit type become BYTE
  std::string unk_piece = "<unk>";  // becomes UNKNOWN when no piece is typed UNKNOWN
  // The text is pre-split into runs of '\n' and the rest (Gemma 4): pieces made only of '\n'
  // become USER_DEFINED so SentencePiece matches them before BPE and never merges across them.
  bool split_newline_runs = false;
};

// Throws Error(kFormat) naming `origin` when the vocabulary cannot form a valid model (empty or
// duplicate pieces, no unknown piece).
ModelProto BpeVocabToModelProto(const BpeVocab& vocab, const std::string& origin);

// Checks the SentencePiece invariants LoadFromSerializedProto would reject with a vaguer message:
// non-empty unique pieces, exactly one UNKNOWN piece, BYTE pieces spelled <0xXX>.
void ValidatePieces(const ModelProto& model, const std::string& origin);

}  // namespace gemma::spm
