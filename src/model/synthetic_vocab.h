// A stand-in vocabulary for synthetic (random-weight) models: Gemma's special ids, the 256 byte
// pieces and numbered filler pieces up to the config's vocabulary size. Enough for the engine
// and for llama.cpp to load a synthetic GGUF and run it (the text it makes is meaningless).
#pragma once

#include "formats/checkpoint.h"

namespace gemma {

// tokenizer.ggml.* arrays ("llama" SentencePiece model) of exactly `vocab_size` pieces.
TokenizerSource SyntheticVocab(int vocab_size);

}  // namespace gemma
