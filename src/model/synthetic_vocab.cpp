#include "model/synthetic_vocab.h"

#include <fmt/format.h>

#include "gemma/error.h"

namespace gemma {

TokenizerSource SyntheticVocab(int vocab_size) {
  // SentencePiece piece types as stored in tokenizer.ggml.token_type.
  constexpr int32_t kNormal = 1, kUnknown = 2, kControl = 3, kByte = 6;
  constexpr int kSpecial = 4, kBytes = 256;
  if (vocab_size < kSpecial + kBytes + 1) {
    Fail(ErrorKind::kUsage, fmt::format("a synthetic vocabulary needs at least {} pieces, not {}",
                                        kSpecial + kBytes + 1, vocab_size));
  }
  TokenizerSource t;
  t.gguf_model = "llama";
  auto add = [&t](std::string piece, float score, int32_t type) {
    t.gguf_tokens.push_back(std::move(piece));
    t.gguf_scores.push_back(score);
    t.gguf_token_types.push_back(type);
  };
  add("<pad>", 0, kControl);
  add("<eos>", 0, kControl);
  add("<bos>", 0, kControl);
  add("<unk>", 0, kUnknown);
  for (int b = 0; b < kBytes; ++b) add(fmt::format("<0x{:02X}>", b), 0, kByte);
  for (int i = static_cast<int>(t.gguf_tokens.size()); i < vocab_size; ++i) {
    add(fmt::format("\u2581w{}", i), -static_cast<float>(i), kNormal);
  }
  return t;
}

}  // namespace gemma
