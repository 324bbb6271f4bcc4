// libFuzzer target: GGUF file bytes -> GgufFile::Parse, then OpenGgufCheckpoint, the GGUF
// vocabulary and Model::FromCheckpoint (weight binding) on whatever parses.
#include <cstddef>
#include <cstdint>

#include "core/mapped_file.h"
#include "formats/gguf_checkpoint.h"
#include "formats/gguf_reader.h"
#include "fuzz_util.h"
#include "gemma/error.h"
#include "model/model.h"
#include "tokenizer/tokenizer.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace gemma;
  const std::string path = fuzz::WriteScratch("model.gguf", fuzz::AsText(data, size));
  try {
    const GgufFile f = GgufFile::Parse(MappedFile::Open(path));
    for (const GgufKeyValue& kv : f.kvs()) (void)kv.value.ToDisplayString();
  } catch (const Error&) {
    return 0;  // the checkpoint reader would fail the same way
  }
  try {
    Checkpoint ck = OpenGgufCheckpoint(path);
    if (!ck.tokenizer.empty()) {
      try {
        const Tokenizer tok = Tokenizer::Load(ck.tokenizer, path);
        (void)tok.Decode(tok.Encode("Hello <start_of_turn>world"));
      } catch (const Error&) {
      }
    }
    (void)Model::FromCheckpoint(std::move(ck));
  } catch (const Error&) {
  }
  return 0;
}
