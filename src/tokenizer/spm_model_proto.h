// A minimal reader and writer for SentencePiece's ModelProto (sentencepiece_model.proto) in the
// protobuf wire format. Debian's libsentencepiece ships no generated protobuf headers, so the
// tokenizer builds the serialized bytes itself and hands them to LoadFromSerializedProto.
// Only the fields that change how SentencePiece encodes and decodes are modelled; the reader
// skips everything else.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace gemma::spm {

// ModelProto.SentencePiece.Type. GGUF's tokenizer.ggml.token_type uses the same numbers.
enum class PieceType : int32_t {
  kNormal = 1,
  kUnknown = 2,
  kControl = 3,
  kUserDefined = 4,
  kUnused = 5,
  kByte = 6,
};

struct Piece {
  std::string piece;
  float score = 0.f;
  PieceType type = PieceType::kNormal;
};

// TrainerSpec.ModelType
enum class ModelType : int32_t { kUnigram = 1, kBpe = 2, kWord = 3, kChar = 4 };

// The TrainerSpec fields the encoder/decoder reads (plus a few trainer-only ones Gemma sets).
// Defaults are the proto defaults, so a parsed message that omits a field reads as upstream does.
struct TrainerSpec {
  ModelType model_type = ModelType::kUnigram;  // 3
  int32_t vocab_size = 8000;                   // 4
  int32_t max_sentencepiece_length = 16;       // 20
  bool treat_whitespace_as_suffix = false;     // 24
  bool split_digits = false;                   // 25
  bool allow_whitespace_only_pieces = false;   // 26
  bool byte_fallback = false;                  // 35
  int32_t unk_id = 0;                          // 40
  int32_t bos_id = 1;                          // 41
  int32_t eos_id = 2;                          // 42
  int32_t pad_id = -1;                         // 43
  std::string unk_surface = " \xE2\x81\x87 ";  // 44
  std::string unk_piece = "<unk>";             // 45
  std::string bos_piece = "<s>";               // 46
  std::string eos_piece = "</s>";              // 47
  std::string pad_piece = "<pad>";             // 48
};

struct NormalizerSpec {
  std::string name;                      // 1
  std::string precompiled_charsmap;      // 2 (bytes)
  bool add_dummy_prefix = true;          // 3
  bool remove_extra_whitespaces = true;  // 4
  bool escape_whitespaces = true;        // 5
};

struct ModelProto {
  std::vector<Piece> pieces;           // 1
  TrainerSpec trainer_spec;            // 2
  NormalizerSpec normalizer_spec;      // 3
  bool has_denormalizer_spec = false;  // 5: only noted by the reader, never written
};

// Serializes every modelled field explicitly (defaults included), pieces first.
std::string SerializeModelProto(const ModelProto& model);

// Parses serialized bytes. Throws Error(kFormat) naming `origin` when the bytes are not a
// well-formed ModelProto.
ModelProto ParseModelProto(const std::string& bytes, const std::string& origin);

// The settings that reproduce Hugging Face Gemma tokenization with SentencePiece (BPE, byte
// fallback, identity normalization, no dummy prefix, whitespace kept, spaces escaped to U+2581):
// fills trainer_spec and normalizer_spec around `model.pieces`. The unk/bos/eos/pad ids are those
// of the pieces named <unk>, <bos>, <eos>, <pad> (-1 when absent, except unk: the first UNKNOWN
// piece). byte_fallback is set when all 256 byte pieces exist; otherwise the BYTE pieces become
// UNUSED (SentencePiece refuses a partial set).
void SetGemmaSpecs(ModelProto& model);

// "<0x41>" -> 0x41; -1 when `piece` is not a byte piece spelled that way.
int ParseBytePiece(const std::string& piece);

}  // namespace gemma::spm
