#include "model/synthetic_vocab.h"

#include <fmt/format.h>

#include <map>

#include "gemma/error.h"

namespace gemma {
namespace {

// Pieces with the ids the real vocabularies give them (gemma-models.md §4.2), so that a
// synthetic model's eos ids and chat format mean what they mean on a downloaded model.
std::map<int, const char*> ChatMarkers(ModelFamily family) {
  switch (family) {
    case ModelFamily::kGemma1:
    case ModelFamily::kGemma2:
      return {{106, "<start_of_turn>"}, {107, "<end_of_turn>"}};
    case ModelFamily::kGemma3:
    case ModelFamily::kGemma3n:
      return {{105, "<start_of_turn>"}, {106, "<end_of_turn>"}};
    case ModelFamily::kGemma4:
      return {{46, "<|tool>"},      {47, "<tool|>"},          {48, "<|tool_call>"},
              {49, "<tool_call|>"}, {50, "<|tool_response>"}, {51, "<tool_response|>"},
              {52, "<|\"|>"},       {98, "<|think|>"},        {100, "<|channel>"},
              {101, "<channel|>"},  {105, "<|turn>"},         {106, "<turn|>"}};
  }
  return {};
}

}  // namespace

TokenizerSource SyntheticVocab(int vocab_size, ModelFamily family) {
  // SentencePiece piece types as stored in tokenizer.ggml.token_type.
  constexpr int32_t kNormal = 1, kUnknown = 2, kControl = 3, kByte = 6;
  // Ids below kFirstByte hold the special pieces; the byte pieces follow them.
  constexpr int kFirstByte = 108, kBytes = 256;
  if (vocab_size < kFirstByte + kBytes + 1) {
    Fail(ErrorKind::kUsage, fmt::format("a synthetic vocabulary needs at least {} pieces, not {}",
                                        kFirstByte + kBytes + 1, vocab_size));
  }
  TokenizerSource t;
  t.gguf_model = "llama";
  auto add = [&t](std::string piece, float score, int32_t type) {
    t.gguf_tokens.push_back(std::move(piece));
    t.gguf_scores.push_back(score);
    t.gguf_token_types.push_back(type);
  };
  auto add_filler = [&](int id) {
    add(fmt::format("\u2581w{}", id), -static_cast<float>(id), kNormal);
  };
  add("<pad>", 0, kControl);
  add("<eos>", 0, kControl);
  add("<bos>", 0, kControl);
  add("<unk>", 0, kUnknown);
  add("<mask>", 0, kControl);
  const std::map<int, const char*> markers = ChatMarkers(family);
  for (int id = static_cast<int>(t.gguf_tokens.size()); id < kFirstByte; ++id) {
    const auto it = markers.find(id);
    if (it != markers.end()) {
      add(it->second, 0, kControl);
    } else {
      add_filler(id);
    }
  }
  for (int b = 0; b < kBytes; ++b) add(fmt::format("<0x{:02X}>", b), 0, kByte);
  for (int id = static_cast<int>(t.gguf_tokens.size()); id < vocab_size; ++id) add_filler(id);
  return t;
}

}  // namespace gemma
