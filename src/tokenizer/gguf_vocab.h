// GGUF tokenizer.ggml.* arrays -> SentencePiece ModelProto, in memory.
//
// "llama" (SentencePiece; Gemma 1/2/3/3n): tokens, scores and token types (1 normal, 2 unknown,
// 3 control, 4 user-defined, 5 unused, 6 byte, the SentencePiece numbers) are taken as they are,
// with the changes needed to tokenize like the original tokenizer.model / HF tokenizer:
//   - CONTROL tokens other than <bos>/<eos>/<pad> (llama.cpp marks <start_of_turn>, <unusedN>, ...
//     as control) become USER_DEFINED, so they are matched in text as HF's added tokens are;
//   - spaces in USER_DEFINED tokens become U+2581 again (llama.cpp's converter writes the `▁` runs
//     of Gemma 3 with spaces);
//   - a CONTROL <unk> becomes UNKNOWN when no token is typed unknown.
// "gemma4" (BPE): the same type rules, and NORMAL scores derived from tokenizer.ggml.merges as
// for tokenizer.json (bpe_vocab.h); GGUF's scores are ignored. '\n' runs are kept apart from other
// text (USER_DEFINED), as Gemma 4's pre-tokenizer does.
#pragma once

#include <string>

#include "formats/checkpoint.h"
#include "tokenizer/spm_model_proto.h"

namespace gemma::spm {

// `origin` names the GGUF file in messages. Throws Error(kFormat) for inconsistent arrays and
// Error(kUnsupported) for other tokenizer models (e.g. "gpt2", "bert").
ModelProto GgufVocabToModelProto(const TokenizerSource& source, const std::string& origin);

}  // namespace gemma::spm
