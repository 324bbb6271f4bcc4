// A stand-in vocabulary for synthetic (random-weight) models: Gemma's special ids, the family's
// chat markers at the ids the real vocabularies give them, the 256 byte pieces and numbered
// filler pieces up to the config's vocabulary size. Enough for the engine and for llama.cpp to
// load a synthetic GGUF and run it (the text it makes is meaningless), and for the chat format
// of the family to be tokenized as on a real model.
#pragma once

#include "formats/checkpoint.h"
#include "gemma/model_config.h"

namespace gemma {

// tokenizer.ggml.* arrays ("llama" SentencePiece model) of exactly `vocab_size` pieces:
//   0..3  <pad> <eos> <bos> <unk>
//   4..107  <mask> and `family`'s chat markers at their real ids (gemma-models.md §4.2: Gemma 1/2
//           <start_of_turn> 106 / <end_of_turn> 107; Gemma 3/3n 105 / 106; Gemma 4 <|turn> 105,
//           <turn|> 106, <|think|> 98, <|channel> 100, <channel|> 101, tool markers 46..52),
//           fillers elsewhere
//   108..363  the byte pieces <0x00>..<0xFF>; then fillers.
// The markers are control tokens (GGUF type 3), so text that spells them encodes to their ids.
TokenizerSource SyntheticVocab(int vocab_size, ModelFamily family);

}  // namespace gemma
