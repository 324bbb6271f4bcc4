#include "tokenizer/tokenizer.h"

#include <sentencepiece_processor.h>

#include <algorithm>
#include <fstream>
#include <sstream>

#include "gemma/error.h"
#include "tokenizer/gguf_vocab.h"
#include "tokenizer/hf_tokenizer_json.h"
#include "tokenizer/spm_model_proto.h"

namespace gemma {
namespace {

std::string ReadModelFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) Fail(ErrorKind::kIo, path + ": cannot open tokenizer model");
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) Fail(ErrorKind::kIo, path + ": read error");
  return ss.str();
}

const char kReplacementChar[] = "\xEF\xBF\xBD";  // U+FFFD

// Length of the UTF-8 sequence a lead byte announces, 0 for bytes that cannot start one. The
// classes are SentencePiece's (string_util::DecodeUTF8).
int SequenceLength(uint8_t lead) {
  if (lead < 0x80) return 1;
  if ((lead & 0xE0) == 0xC0) return 2;
  if ((lead & 0xF0) == 0xE0) return 3;
  if ((lead & 0xF8) == 0xF0) return 4;
  return 0;
}

bool IsTrail(uint8_t b) {
  return (b & 0xC0) == 0x80;
}

// Whether s[0..len) is one valid character under SentencePiece's rules (no overlongs, no
// surrogates, at most U+10FFFF).
bool IsValidSequence(const uint8_t* s, int len) {
  uint32_t cp = 0;
  switch (len) {
    case 1:
      return true;
    case 2:
      if (!IsTrail(s[1])) return false;
      cp = ((s[0] & 0x1Fu) << 6) | (s[1] & 0x3Fu);
      return cp >= 0x80;
    case 3:
      if (!IsTrail(s[1]) || !IsTrail(s[2])) return false;
      cp = ((s[0] & 0x0Fu) << 12) | ((s[1] & 0x3Fu) << 6) | (s[2] & 0x3Fu);
      return cp >= 0x800 && (cp < 0xD800 || cp > 0xDFFF);
    case 4:
      if (!IsTrail(s[1]) || !IsTrail(s[2]) || !IsTrail(s[3])) return false;
      cp = ((s[0] & 0x07u) << 18) | ((s[1] & 0x3Fu) << 12) | ((s[2] & 0x3Fu) << 6) | (s[3] & 0x3Fu);
      return cp >= 0x10000 && cp <= 0x10FFFF;
    default:
      return false;
  }
}

}  // namespace

Tokenizer::Tokenizer() : sp_(std::make_unique<sentencepiece::SentencePieceProcessor>()) {}
Tokenizer::Tokenizer(Tokenizer&&) noexcept = default;
Tokenizer& Tokenizer::operator=(Tokenizer&&) noexcept = default;
Tokenizer::~Tokenizer() = default;

Tokenizer Tokenizer::Load(const TokenizerSource& source) {
  return Load(source, std::string());
}

Tokenizer Tokenizer::Load(const TokenizerSource& source, const std::string& origin) {
  if (!source.spm_model_path.empty()) {
    return FromSerializedProto(ReadModelFile(source.spm_model_path), source.spm_model_path);
  }
  if (!source.hf_tokenizer_json_path.empty()) {
    const spm::ModelProto proto = spm::LoadHfTokenizerJson(source.hf_tokenizer_json_path);
    return FromSerializedProto(spm::SerializeModelProto(proto), source.hf_tokenizer_json_path);
  }
  if (!source.gguf_tokens.empty()) {
    const std::string where =
        origin.empty() ? std::string("GGUF tokenizer metadata") : origin + " (tokenizer.ggml.*)";
    const spm::ModelProto proto = spm::GgufVocabToModelProto(source, where);
    return FromSerializedProto(spm::SerializeModelProto(proto), where);
  }
  Fail(ErrorKind::kFormat,
       (origin.empty() ? std::string("checkpoint") : origin) +
           ": no tokenizer (no tokenizer.model, tokenizer.json or tokenizer.ggml.tokens)");
}

Tokenizer Tokenizer::FromSerializedProto(const std::string& model_proto_bytes,
                                         const std::string& origin) {
  Tokenizer t;
  t.origin_ = origin;
  const auto status = t.sp_->LoadFromSerializedProto(model_proto_bytes);
  if (!status.ok()) {
    Fail(ErrorKind::kFormat,
         origin + ": not a valid SentencePiece model (" + status.ToString() + ")");
  }
  const int n = t.sp_->GetPieceSize();
  if (n <= 0) Fail(ErrorKind::kFormat, origin + ": the SentencePiece model has no pieces");
  for (int id = 0; id < n; ++id) {
    if (t.sp_->IsControl(id) || t.sp_->IsUnknown(id)) {
      const std::string& piece = t.sp_->IdToPiece(id);
      if (!piece.empty()) t.special_text_.emplace_back(piece, id);
    }
  }
  // Longest first, so the first match at a position is the longest.
  std::stable_sort(t.special_text_.begin(), t.special_text_.end(),
                   [](const auto& a, const auto& b) { return a.first.size() > b.first.size(); });
  return t;
}

std::vector<int> Tokenizer::Encode(std::string_view text) const {
  std::vector<int> ids;
  const auto status = sp_->Encode(text, &ids);
  if (!status.ok()) {
    Fail(ErrorKind::kInternal,
         origin_ + ": SentencePiece encode failed (" + status.ToString() + ")");
  }
  return ids;
}

std::vector<int> Tokenizer::EncodeWithSpecialTokenText(std::string_view text) const {
  std::vector<int> out;
  size_t start = 0;  // beginning of the text not yet encoded
  size_t pos = 0;
  auto flush = [&](size_t end) {
    if (end > start) {
      const std::vector<int> ids = Encode(text.substr(start, end - start));
      out.insert(out.end(), ids.begin(), ids.end());
    }
  };
  while (pos < text.size()) {
    const size_t lt = text.find('<', pos);
    if (lt == std::string_view::npos) break;
    int matched = -1;
    size_t len = 0;
    for (const auto& [piece, id] : special_text_) {
      if (text.compare(lt, piece.size(), piece) == 0) {
        matched = id;
        len = piece.size();
        break;
      }
    }
    if (matched < 0) {
      pos = lt + 1;
      continue;
    }
    flush(lt);
    out.push_back(matched);
    start = pos = lt + len;
  }
  flush(text.size());
  return out;
}

std::string Tokenizer::Decode(const std::vector<int>& ids) const {
  const int n = vocab_size();
  for (const int id : ids) {
    if (id < 0 || id >= n) {
      Fail(ErrorKind::kUsage, origin_ + ": token id " + std::to_string(id) +
                                  " is outside the vocabulary (0.." + std::to_string(n - 1) + ")");
    }
  }
  std::string text;
  const auto status = sp_->Decode(ids, &text);
  if (!status.ok()) {
    Fail(ErrorKind::kInternal,
         origin_ + ": SentencePiece decode failed (" + status.ToString() + ")");
  }
  return text;
}

std::string Tokenizer::IdToPiece(int id) const {
  if (id < 0 || id >= vocab_size()) {
    Fail(ErrorKind::kUsage, origin_ + ": token id " + std::to_string(id) +
                                " is outside the vocabulary (0.." +
                                std::to_string(vocab_size() - 1) + ")");
  }
  return sp_->IdToPiece(id);
}

int Tokenizer::PieceToId(std::string_view piece) const {
  const int id = sp_->PieceToId(piece);
  // SentencePiece answers unk_id for unknown pieces.
  if (id < 0 || id >= vocab_size() || sp_->IdToPiece(id) != piece) return -1;
  return id;
}

int Tokenizer::vocab_size() const {
  return sp_->GetPieceSize();
}
int Tokenizer::bos_id() const {
  return sp_->bos_id();
}
int Tokenizer::eos_id() const {
  return sp_->eos_id();
}
int Tokenizer::pad_id() const {
  return sp_->pad_id();
}
int Tokenizer::unk_id() const {
  return sp_->unk_id();
}

bool Tokenizer::IsByte(int id) const {
  return id >= 0 && id < vocab_size() && sp_->IsByte(id);
}

bool Tokenizer::IsControl(int id) const {
  return id >= 0 && id < vocab_size() && sp_->IsControl(id);
}

int Tokenizer::ByteValue(int id) const {
  if (!IsByte(id)) return -1;
  return spm::ParseBytePiece(sp_->IdToPiece(id));
}

// ---- StreamDecoder -----------------------------------------------------------------------------

namespace {

// Emits the complete characters at the front of `pending` (SentencePiece's byte-run decoding: valid
// characters as they are, U+FFFD per invalid byte) and erases them. Unless `final`, a possibly
// incomplete character at the end stays pending.
std::string DrainBytes(std::string& pending, bool final) {
  std::string out;
  const auto* s = reinterpret_cast<const uint8_t*>(pending.data());
  const size_t n = pending.size();
  size_t i = 0;
  while (i < n) {
    const int need = SequenceLength(s[i]);
    if (need == 0) {
      out += kReplacementChar;
      ++i;
      continue;
    }
    const size_t avail = n - i;
    if (avail < static_cast<size_t>(need)) {
      bool could_complete = true;
      for (size_t k = i + 1; k < n; ++k) could_complete = could_complete && IsTrail(s[k]);
      if (!final && could_complete) break;
      out += kReplacementChar;
      ++i;
      continue;
    }
    if (IsValidSequence(s + i, need)) {
      out.append(pending, i, need);
      i += need;
    } else {
      out += kReplacementChar;
      ++i;
    }
  }
  pending.erase(0, i);
  return out;
}

}  // namespace

std::string StreamDecoder::Push(int id) {
  const int byte = tok_.ByteValue(id);
  if (byte >= 0) {
    pending_.push_back(static_cast<char>(byte));
    return DrainBytes(pending_, /*final=*/false);
  }
  // Decode first: an invalid id throws before anything pending is consumed.
  const std::string text = tok_.Decode({id});
  // Any other token ends the run of byte tokens, as in SentencePiece's Decode.
  return DrainBytes(pending_, /*final=*/true) + text;
}

std::string StreamDecoder::Flush() {
  return DrainBytes(pending_, /*final=*/true);
}

}  // namespace gemma
