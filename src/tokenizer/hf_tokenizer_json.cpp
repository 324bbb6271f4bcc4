#include "tokenizer/hf_tokenizer_json.h"

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <unordered_set>

#include "gemma/error.h"
#include "tokenizer/bpe_vocab.h"

namespace gemma::spm {
namespace {

using nlohmann::json;

const char kSpaceSymbol[] = "\xE2\x96\x81";  // U+2581

[[noreturn]] void Bad(const std::string& origin, const std::string& what) {
  Fail(ErrorKind::kFormat, origin + ": malformed tokenizer.json (" + what + ")");
}

std::string TypeOf(const json& j) {
  if (!j.is_object()) return "";
  const auto it = j.find("type");
  return it != j.end() && it->is_string() ? it->get<std::string>() : "";
}

// Calls `fn` on `j` and, for Sequence nodes, on every child under `list_key`.
template <typename Fn>
void ForEachStep(const json& j, const char* list_key, Fn&& fn) {
  if (j.is_null()) return;
  if (TypeOf(j) == "Sequence") {
    const auto it = j.find(list_key);
    if (it != j.end() && it->is_array()) {
      for (const json& child : *it) ForEachStep(child, list_key, fn);
    }
    return;
  }
  fn(j);
}

std::string PatternText(const json& step) {
  const auto it = step.find("pattern");
  if (it == step.end()) return "";
  if (it->is_string()) return it->get<std::string>();
  if (it->is_object()) {
    for (const char* k : {"String", "Regex"}) {
      const auto p = it->find(k);
      if (p != it->end() && p->is_string()) return p->get<std::string>();
    }
  }
  return "";
}

// Splits an "a b" merge, preferring the split whose halves are both pieces.
std::pair<std::string, std::string> SplitMerge(const std::string& m,
                                               const std::unordered_set<std::string_view>& pieces,
                                               const std::string& origin) {
  size_t first = std::string::npos;
  for (size_t pos = m.find(' '); pos != std::string::npos; pos = m.find(' ', pos + 1)) {
    if (first == std::string::npos) first = pos;
    const std::string_view a(m.data(), pos), b(m.data() + pos + 1, m.size() - pos - 1);
    if (pieces.count(a) && pieces.count(b)) return {std::string(a), std::string(b)};
  }
  if (first == std::string::npos) Bad(origin, "merge '" + m + "' has no space");
  return {m.substr(0, first), m.substr(first + 1)};
}

}  // namespace

ModelProto HfTokenizerJsonToModelProto(std::string_view json_text, const std::string& origin) {
  json root;
  try {
    root = json::parse(json_text.begin(), json_text.end());
  } catch (const json::exception& e) {
    Fail(ErrorKind::kFormat, origin + ": not valid JSON (" + std::string(e.what()) + ")");
  }
  if (!root.is_object()) Bad(origin, "top level is not an object");
  const auto model_it = root.find("model");
  if (model_it == root.end() || !model_it->is_object()) Bad(origin, "no \"model\" object");
  const json& model = *model_it;

  std::string type = TypeOf(model);
  if (type.empty() && model.contains("merges")) type = "BPE";
  if (type != "BPE") {
    Fail(ErrorKind::kUnsupported, origin + ": tokenizer model type '" + type +
                                      "' is not supported (only SentencePiece-style BPE)");
  }
  // Byte-level BPE (GPT-2 style) uses a remapped byte alphabet SentencePiece cannot express.
  for (const char* key : {"pre_tokenizer", "decoder"}) {
    const auto it = root.find(key);
    if (it == root.end()) continue;
    ForEachStep(*it, key == std::string("decoder") ? "decoders" : "pretokenizers",
                [&](const json& step) {
                  if (TypeOf(step) == "ByteLevel") {
                    Fail(ErrorKind::kUnsupported,
                         origin + ": byte-level BPE (ByteLevel " + key + ") is not supported");
                  }
                });
  }

  try {
    BpeVocab vocab;
    // Vocabulary: piece -> id, dense ids 0..n-1.
    const auto vit = model.find("vocab");
    if (vit == model.end() || !vit->is_object() || vit->empty()) {
      Bad(origin, "model.vocab is missing or empty");
    }
    const size_t n = vit->size();
    vocab.pieces.assign(n, std::string());
    std::vector<bool> seen(n, false);
    for (auto it = vit->begin(); it != vit->end(); ++it) {
      if (!it.value().is_number_integer())
        Bad(origin, "vocab id of '" + it.key() + "' is not an integer");
      const int64_t id = it.value().get<int64_t>();
      if (id < 0 || static_cast<size_t>(id) >= n || seen[id]) {
        Bad(origin, "vocab ids are not 0.." + std::to_string(n - 1) + " without gaps (id " +
                        std::to_string(id) + " of '" + it.key() + "')");
      }
      seen[id] = true;
      vocab.pieces[id] = it.key();
    }

    vocab.byte_fallback = model.value("byte_fallback", false);
    if (model.contains("unk_token") && model["unk_token"].is_string()) {
      vocab.unk_piece = model["unk_token"].get<std::string>();
    }

    // Added tokens inside the vocabulary; the rest have no piece.
    vocab.types.assign(n, std::nullopt);
    if (const auto at = root.find("added_tokens"); at != root.end() && at->is_array()) {
      for (const json& tok : *at) {
        if (!tok.is_object() || !tok.contains("id") || !tok.contains("content")) {
          Bad(origin, "an added_tokens entry lacks id or content");
        }
        const int64_t id = tok["id"].get<int64_t>();
        const std::string content = tok["content"].get<std::string>();
        if (id < 0 || static_cast<size_t>(id) >= n) continue;
        vocab.pieces[id] = content;
        if (content == "<pad>" || content == "<eos>" || content == "<bos>") {
          vocab.types[id] = PieceType::kControl;
        } else if (content == vocab.unk_piece) {
          vocab.types[id] = PieceType::kUnknown;
        } else {
          vocab.types[id] = PieceType::kUserDefined;
        }
      }
    }

    // Merges, as "a b" strings or ["a", "b"] pairs.
    if (const auto mit = model.find("merges"); mit != model.end() && !mit->is_null()) {
      if (!mit->is_array()) Bad(origin, "model.merges is not an array");
      std::unordered_set<std::string_view> piece_set(vocab.pieces.begin(), vocab.pieces.end());
      vocab.merges.reserve(mit->size());
      for (const json& m : *mit) {
        if (m.is_string()) {
          vocab.merges.push_back(SplitMerge(m.get_ref<const std::string&>(), piece_set, origin));
        } else if (m.is_array() && m.size() == 2 && m[0].is_string() && m[1].is_string()) {
          vocab.merges.emplace_back(m[0].get<std::string>(), m[1].get<std::string>());
        } else {
          Bad(origin, "a merge is neither \"a b\" nor [\"a\", \"b\"]");
        }
      }
    }

    // A pre-tokenizer splitting on newlines (Gemma 4) keeps '\n' runs apart from other text.
    bool add_dummy_prefix = false;
    if (const auto pt = root.find("pre_tokenizer"); pt != root.end()) {
      ForEachStep(*pt, "pretokenizers", [&](const json& step) {
        const std::string t = TypeOf(step);
        if (t == "Split" && PatternText(step).find('\n') != std::string::npos) {
          vocab.split_newline_runs = true;
        }
        if (t == "Split" && PatternText(step).find("\\n") != std::string::npos) {
          vocab.split_newline_runs = true;
        }
        if (t == "Metaspace") {
          const std::string scheme = step.value("prepend_scheme", std::string());
          if (scheme == "always" || scheme == "first" || step.value("add_prefix_space", false)) {
            add_dummy_prefix = true;
          }
        }
      });
    }
    if (const auto nz = root.find("normalizer"); nz != root.end()) {
      ForEachStep(*nz, "normalizers", [&](const json& step) {
        if (TypeOf(step) == "Prepend" && step.value("prepend", std::string()) == kSpaceSymbol) {
          add_dummy_prefix = true;
        }
      });
    }

    ModelProto proto = BpeVocabToModelProto(vocab, origin);
    proto.normalizer_spec.add_dummy_prefix = add_dummy_prefix;
    return proto;
  } catch (const json::exception& e) {
    Bad(origin, e.what());
  }
}

ModelProto LoadHfTokenizerJson(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) Fail(ErrorKind::kIo, path + ": cannot open tokenizer.json");
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) Fail(ErrorKind::kIo, path + ": read error");
  const std::string text = ss.str();
  return HfTokenizerJsonToModelProto(text, path);
}

}  // namespace gemma::spm
