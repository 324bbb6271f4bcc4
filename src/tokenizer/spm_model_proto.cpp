#include "tokenizer/spm_model_proto.h"

#include <cstring>
#include <string_view>

#include "gemma/error.h"

namespace gemma::spm {
namespace {

// ---- writer ----------------------------------------------------------------------------------

enum WireType : uint32_t { kVarint = 0, kFixed64 = 1, kLengthDelimited = 2, kFixed32 = 5 };

void PutVarint(std::string& out, uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>((v & 0x7F) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}

void PutTag(std::string& out, uint32_t field, WireType type) {
  PutVarint(out, (static_cast<uint64_t>(field) << 3) | type);
}

// int32 and enums: negative values are sign-extended to 64 bits (10 bytes), as protobuf does.
void PutInt32(std::string& out, uint32_t field, int32_t v) {
  PutTag(out, field, kVarint);
  PutVarint(out, static_cast<uint64_t>(static_cast<int64_t>(v)));
}

void PutBool(std::string& out, uint32_t field, bool v) {
  PutTag(out, field, kVarint);
  PutVarint(out, v ? 1 : 0);
}

void PutFloat(std::string& out, uint32_t field, float v) {
  PutTag(out, field, kFixed32);
  uint32_t bits;
  std::memcpy(&bits, &v, sizeof(bits));
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((bits >> (8 * i)) & 0xFF));
}

void PutBytes(std::string& out, uint32_t field, std::string_view bytes) {
  PutTag(out, field, kLengthDelimited);
  PutVarint(out, bytes.size());
  out.append(bytes.data(), bytes.size());
}

std::string SerializePiece(const Piece& p) {
  std::string out;
  PutBytes(out, 1, p.piece);
  PutFloat(out, 2, p.score);
  PutInt32(out, 3, static_cast<int32_t>(p.type));
  return out;
}

std::string SerializeTrainerSpec(const TrainerSpec& t) {
  std::string out;
  PutInt32(out, 3, static_cast<int32_t>(t.model_type));
  PutInt32(out, 4, t.vocab_size);
  PutInt32(out, 20, t.max_sentencepiece_length);
  PutBool(out, 24, t.treat_whitespace_as_suffix);
  PutBool(out, 25, t.split_digits);
  PutBool(out, 26, t.allow_whitespace_only_pieces);
  PutBool(out, 35, t.byte_fallback);
  PutInt32(out, 40, t.unk_id);
  PutInt32(out, 41, t.bos_id);
  PutInt32(out, 42, t.eos_id);
  PutInt32(out, 43, t.pad_id);
  PutBytes(out, 44, t.unk_surface);
  PutBytes(out, 45, t.unk_piece);
  PutBytes(out, 46, t.bos_piece);
  PutBytes(out, 47, t.eos_piece);
  PutBytes(out, 48, t.pad_piece);
  return out;
}

std::string SerializeNormalizerSpec(const NormalizerSpec& n) {
  std::string out;
  PutBytes(out, 1, n.name);
  PutBytes(out, 2, n.precompiled_charsmap);
  PutBool(out, 3, n.add_dummy_prefix);
  PutBool(out, 4, n.remove_extra_whitespaces);
  PutBool(out, 5, n.escape_whitespaces);
  return out;
}

// ---- reader ----------------------------------------------------------------------------------

struct Field {
  uint32_t number = 0;
  WireType type = kVarint;
  uint64_t varint = 0;     // kVarint
  uint32_t fixed32 = 0;    // kFixed32
  std::string_view bytes;  // kLengthDelimited
};

class WireReader {
 public:
  WireReader(std::string_view data, const std::string& origin, const char* message)
      : data_(data), origin_(origin), message_(message) {}

  bool Next(Field& f) {
    if (pos_ >= data_.size()) return false;
    const uint64_t key = Varint();
    f.number = static_cast<uint32_t>(key >> 3);
    f.type = static_cast<WireType>(key & 7);
    if (f.number == 0) Bad("field number 0");
    switch (f.type) {
      case kVarint:
        f.varint = Varint();
        break;
      case kFixed64:
        Need(8);
        pos_ += 8;
        break;
      case kFixed32: {
        Need(4);
        uint32_t v = 0;
        for (int i = 0; i < 4; ++i)
          v |= static_cast<uint32_t>(static_cast<uint8_t>(data_[pos_ + i])) << (8 * i);
        f.fixed32 = v;
        pos_ += 4;
        break;
      }
      case kLengthDelimited: {
        const uint64_t len = Varint();
        Need(len);
        f.bytes = data_.substr(pos_, len);
        pos_ += len;
        break;
      }
      default:
        Bad("unsupported wire type " + std::to_string(static_cast<int>(f.type)));
    }
    return true;
  }

  [[noreturn]] void Bad(const std::string& what) const {
    Fail(ErrorKind::kFormat, origin_ + ": not a valid SentencePiece model (" + message_ + ": " +
                                 what + " at byte " + std::to_string(pos_) + ")");
  }

  void Expect(const Field& f, WireType type) const {
    if (f.type != type) {
      Bad("field " + std::to_string(f.number) + " has wire type " +
          std::to_string(static_cast<int>(f.type)));
    }
  }

 private:
  uint64_t Varint() {
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      Need(1);
      const uint8_t b = static_cast<uint8_t>(data_[pos_++]);
      v |= static_cast<uint64_t>(b & 0x7F) << shift;
      if (b < 0x80) return v;
    }
    Bad("varint too long");
  }
  void Need(uint64_t n) const {
    if (n > data_.size() - pos_) Bad("truncated");
  }

  std::string_view data_;
  size_t pos_ = 0;
  const std::string& origin_;
  std::string message_;
};

int32_t AsInt32(const Field& f) {
  return static_cast<int32_t>(static_cast<int64_t>(f.varint));
}

float AsFloat(const Field& f) {
  float v;
  std::memcpy(&v, &f.fixed32, sizeof(v));
  return v;
}

Piece ParsePiece(std::string_view bytes, const std::string& origin) {
  Piece p;
  WireReader r(bytes, origin, "piece");
  Field f;
  while (r.Next(f)) {
    switch (f.number) {
      case 1:
        r.Expect(f, kLengthDelimited);
        p.piece.assign(f.bytes);
        break;
      case 2:
        r.Expect(f, kFixed32);
        p.score = AsFloat(f);
        break;
      case 3: {
        r.Expect(f, kVarint);
        const int32_t t = AsInt32(f);
        if (t < 1 || t > 6) r.Bad("piece type " + std::to_string(t));
        p.type = static_cast<PieceType>(t);
        break;
      }
      default:
        break;
    }
  }
  return p;
}

TrainerSpec ParseTrainerSpec(std::string_view bytes, const std::string& origin) {
  TrainerSpec t;
  WireReader r(bytes, origin, "trainer_spec");
  Field f;
  auto str = [&](std::string& dst) {
    r.Expect(f, kLengthDelimited);
    dst.assign(f.bytes);
  };
  auto i32 = [&](int32_t& dst) {
    r.Expect(f, kVarint);
    dst = AsInt32(f);
  };
  auto b = [&](bool& dst) {
    r.Expect(f, kVarint);
    dst = f.varint != 0;
  };
  while (r.Next(f)) {
    switch (f.number) {
      case 3: {
        int32_t v;
        i32(v);
        t.model_type = static_cast<ModelType>(v);
        break;
      }
      case 4:
        i32(t.vocab_size);
        break;
      case 20:
        i32(t.max_sentencepiece_length);
        break;
      case 24:
        b(t.treat_whitespace_as_suffix);
        break;
      case 25:
        b(t.split_digits);
        break;
      case 26:
        b(t.allow_whitespace_only_pieces);
        break;
      case 35:
        b(t.byte_fallback);
        break;
      case 40:
        i32(t.unk_id);
        break;
      case 41:
        i32(t.bos_id);
        break;
      case 42:
        i32(t.eos_id);
        break;
      case 43:
        i32(t.pad_id);
        break;
      case 44:
        str(t.unk_surface);
        break;
      case 45:
        str(t.unk_piece);
        break;
      case 46:
        str(t.bos_piece);
        break;
      case 47:
        str(t.eos_piece);
        break;
      case 48:
        str(t.pad_piece);
        break;
      default:
        break;
    }
  }
  return t;
}

NormalizerSpec ParseNormalizerSpec(std::string_view bytes, const std::string& origin) {
  NormalizerSpec n;
  WireReader r(bytes, origin, "normalizer_spec");
  Field f;
  while (r.Next(f)) {
    switch (f.number) {
      case 1:
        r.Expect(f, kLengthDelimited);
        n.name.assign(f.bytes);
        break;
      case 2:
        r.Expect(f, kLengthDelimited);
        n.precompiled_charsmap.assign(f.bytes);
        break;
      case 3:
        r.Expect(f, kVarint);
        n.add_dummy_prefix = f.varint != 0;
        break;
      case 4:
        r.Expect(f, kVarint);
        n.remove_extra_whitespaces = f.varint != 0;
        break;
      case 5:
        r.Expect(f, kVarint);
        n.escape_whitespaces = f.varint != 0;
        break;
      default:
        break;
    }
  }
  return n;
}

}  // namespace

std::string SerializeModelProto(const ModelProto& model) {
  std::string out;
  size_t total = 0;
  for (const Piece& p : model.pieces) total += p.piece.size() + 16;
  out.reserve(total + 256);
  for (const Piece& p : model.pieces) PutBytes(out, 1, SerializePiece(p));
  PutBytes(out, 2, SerializeTrainerSpec(model.trainer_spec));
  PutBytes(out, 3, SerializeNormalizerSpec(model.normalizer_spec));
  return out;
}

ModelProto ParseModelProto(const std::string& bytes, const std::string& origin) {
  ModelProto m;
  WireReader r(bytes, origin, "ModelProto");
  Field f;
  while (r.Next(f)) {
    switch (f.number) {
      case 1:
        r.Expect(f, kLengthDelimited);
        m.pieces.push_back(ParsePiece(f.bytes, origin));
        break;
      case 2:
        r.Expect(f, kLengthDelimited);
        m.trainer_spec = ParseTrainerSpec(f.bytes, origin);
        break;
      case 3:
        r.Expect(f, kLengthDelimited);
        m.normalizer_spec = ParseNormalizerSpec(f.bytes, origin);
        break;
      case 5:
        r.Expect(f, kLengthDelimited);
        m.has_denormalizer_spec = true;
        break;
      default:
        break;
    }
  }
  if (m.pieces.empty()) r.Bad("no pieces");
  return m;
}

void SetGemmaSpecs(ModelProto& model) {
  TrainerSpec& t = model.trainer_spec;
  t = TrainerSpec();
  t.model_type = ModelType::kBpe;
  t.vocab_size = static_cast<int32_t>(model.pieces.size());
  t.max_sentencepiece_length = 16;
  t.treat_whitespace_as_suffix = false;
  t.split_digits = true;
  t.allow_whitespace_only_pieces = true;
  t.byte_fallback = false;
  t.unk_id = t.bos_id = t.eos_id = t.pad_id = -1;
  // SentencePiece's byte fallback needs all 256 byte pieces. With fewer, HF falls back to <unk>
  // for the missing bytes; here the byte pieces become UNUSED and every unknown character <unk>.
  std::vector<bool> have_byte(256, false);
  int distinct_bytes = 0;
  for (const Piece& p : model.pieces) {
    if (p.type != PieceType::kByte) continue;
    const int b = ParseBytePiece(p.piece);
    if (b >= 0 && !have_byte[b]) {
      have_byte[b] = true;
      ++distinct_bytes;
    }
  }
  t.byte_fallback = distinct_bytes == 256;
  for (size_t i = 0; i < model.pieces.size(); ++i) {
    Piece& p = model.pieces[i];
    const int32_t id = static_cast<int32_t>(i);
    if (p.type == PieceType::kByte && !t.byte_fallback) p.type = PieceType::kUnused;
    if (p.type == PieceType::kUnknown && t.unk_id < 0) t.unk_id = id;
    if (p.type != PieceType::kControl) continue;
    if (p.piece == "<bos>") t.bos_id = id;
    if (p.piece == "<eos>") t.eos_id = id;
    if (p.piece == "<pad>") t.pad_id = id;
  }
  auto name = [&](int32_t id, const char* fallback) {
    return id >= 0 ? model.pieces[id].piece : std::string(fallback);
  };
  t.unk_piece = name(t.unk_id, "<unk>");
  t.bos_piece = name(t.bos_id, "<bos>");
  t.eos_piece = name(t.eos_id, "<eos>");
  t.pad_piece = name(t.pad_id, "<pad>");
  // HF decodes <unk> as its own text.
  t.unk_surface = t.unk_piece;

  NormalizerSpec& n = model.normalizer_spec;
  n = NormalizerSpec();
  n.name = "identity";
  n.precompiled_charsmap.clear();
  n.add_dummy_prefix = false;
  n.remove_extra_whitespaces = false;
  n.escape_whitespaces = true;
}

int ParseBytePiece(const std::string& piece) {
  if (piece.size() != 6 || piece.compare(0, 3, "<0x") != 0 || piece[5] != '>') return -1;
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  const int hi = hex(piece[3]), lo = hex(piece[4]);
  return hi < 0 || lo < 0 ? -1 : hi * 16 + lo;
}

}  // namespace gemma::spm
