// A GGUF file (llama.cpp's container) as a Checkpoint: arch gemma, gemma2, gemma3.
#pragma once

#include <string>

#include "formats/checkpoint.h"

namespace gemma {

// Throws Error(kIo/kFormat/kUnsupported) with a one-line message naming the file.
Checkpoint OpenGgufCheckpoint(const std::string& path);

}  // namespace gemma
