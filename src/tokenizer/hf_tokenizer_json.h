// Hugging Face tokenizer.json (BPE with byte fallback, Gemma conventions) -> SentencePiece
// ModelProto, in memory.
//
// Piece types: <pad>/<eos>/<bos> CONTROL, the unk token UNKNOWN, every other added token
// USER_DEFINED (SentencePiece then matches them leftmost-longest before BPE, as HF's added-token
// split does), <0xXX> BYTE, the rest NORMAL with merge-order scores (bpe_vocab.h). Added tokens
// whose id lies outside model.vocab (Gemma 3's <image_soft_token> = 262144) have no piece: the
// model file gives them none either.
#pragma once

#include <string>
#include <string_view>

#include "tokenizer/spm_model_proto.h"

namespace gemma::spm {

// `origin` names the file in error messages. Throws Error(kFormat) for malformed JSON or a
// malformed BPE model, Error(kUnsupported) for tokenizers that are not SentencePiece-style BPE
// (e.g. WordPiece, Unigram, byte-level BPE).
ModelProto HfTokenizerJsonToModelProto(std::string_view json_text, const std::string& origin);

// Reads `path` (Error(kIo) when unreadable) and converts it.
ModelProto LoadHfTokenizerJson(const std::string& path);

}  // namespace gemma::spm
