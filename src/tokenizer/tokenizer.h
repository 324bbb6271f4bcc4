// Tokenizer: SentencePiece underneath, whatever the checkpoint shipped (tokenizer.model,
// tokenizer.json, or GGUF tokenizer.ggml.* arrays), converted in memory to a ModelProto.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "formats/checkpoint.h"

namespace sentencepiece {
class SentencePieceProcessor;
}

namespace gemma {

class Tokenizer {
 public:
  // Throws Error(kIo/kFormat) naming the file on failure.
  static Tokenizer Load(const TokenizerSource& source);
  // The same; `origin` names the checkpoint file in messages about GGUF arrays (which have no
  // file of their own).
  static Tokenizer Load(const TokenizerSource& source, const std::string& origin);
  static Tokenizer FromSerializedProto(const std::string& model_proto_bytes,
                                       const std::string& origin);
  Tokenizer(Tokenizer&&) noexcept;
  Tokenizer& operator=(Tokenizer&&) noexcept;
  ~Tokenizer();

  // Encodes text without adding BOS. Control/user-defined pieces such as <start_of_turn> in the
  // text map to their ids.
  std::vector<int> Encode(std::string_view text) const;
  std::string Decode(const std::vector<int>& ids) const;
  std::string IdToPiece(int id) const;
  int PieceToId(std::string_view piece) const;  // -1 when the piece is not in the vocabulary
  int vocab_size() const;
  int bos_id() const;
  int eos_id() const;
  bool IsByte(int id) const;
  bool IsControl(int id) const;

  // Additions.
  int pad_id() const;  // -1 when absent
  int unk_id() const;
  // The byte of a <0xXX> piece, -1 for other ids.
  int ByteValue(int id) const;
  // Like Encode, but <bos>/<eos>/<pad>/<unk> written as text also become their ids (SentencePiece
  // never matches CONTROL/UNKNOWN pieces in text; HF's added-token split does). Leftmost-longest,
  // the text between them is encoded with Encode. Only for trusted text: it lets the text inject
  // control tokens.
  std::vector<int> EncodeWithSpecialTokenText(std::string_view text) const;
  const sentencepiece::SentencePieceProcessor& processor() const { return *sp_; }

 private:
  Tokenizer();
  std::unique_ptr<sentencepiece::SentencePieceProcessor> sp_;
  std::string origin_;  // for messages
  // CONTROL and UNKNOWN pieces (text, id), for EncodeWithSpecialTokenText.
  std::vector<std::pair<std::string, int>> special_text_;
};

// Incremental detokenizer for streaming: returns only complete UTF-8 text, holding back the
// bytes of a character split across byte-fallback tokens until it is complete.
class StreamDecoder {
 public:
  explicit StreamDecoder(const Tokenizer& tokenizer) : tok_(tokenizer) {}
  std::string Push(int id);
  std::string Flush();  // whatever is pending (invalid bytes become U+FFFD)

 private:
  const Tokenizer& tok_;
  std::string pending_;
};

}  // namespace gemma
