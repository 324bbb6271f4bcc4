// libFuzzer target: tokenizer.json text -> HfTokenizerJsonToModelProto; a proto that converts is
// loaded into SentencePiece (as Tokenizer::Load does) and used to encode and decode a string.
#include <cstddef>
#include <cstdint>
#include <string>

#include "fuzz_util.h"
#include "gemma/error.h"
#include "tokenizer/hf_tokenizer_json.h"
#include "tokenizer/tokenizer.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace gemma;
  std::string proto;
  try {
    proto = spm::SerializeModelProto(
        spm::HfTokenizerJsonToModelProto(fuzz::AsText(data, size), "tokenizer.json"));

  } catch (const Error&) {
    return 0;
  }
  try {
    const Tokenizer tok = Tokenizer::FromSerializedProto(proto, "tokenizer.json");
    const std::vector<int> ids = tok.EncodeWithSpecialTokenText("<bos>Hi <start_of_turn>x\xff é");
    (void)tok.Decode(ids);
    for (int id : ids) (void)tok.IdToPiece(id);
  } catch (const Error&) {
  }
  return 0;
}
