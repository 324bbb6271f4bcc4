// GGUF (llama.cpp converter output) -> Checkpoint for arch gemma, gemma2, gemma3.
// Fills ModelConfig with the same meaning as formats/hf_config.cpp so one forward pass serves
// both; the differences are documented where they occur (gemma-models.md §3.2).
#include <cmath>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "formats/gguf_checkpoint.h"
#include "formats/gguf_reader.h"
#include "formats/gguf_tensor_types.h"
#include "gemma/error.h"

namespace gemma {
namespace {

// Typed access to `{arch}.*` and other keys that names the file and key on failure.
class Meta {
 public:
  Meta(const GgufFile& f, std::string arch) : f_(f), arch_(std::move(arch)) {}

  std::string ArchKey(const char* suffix) const { return arch_ + "." + suffix; }
  const GgufValue* Find(const std::string& key) const { return f_.Find(key); }
  bool Has(const std::string& key) const { return f_.Find(key) != nullptr; }

  // A positive integer below 2^30 (dimensions, counts, lengths).
  int Int(const std::string& key) const {
    const GgufValue* v = Find(key);
    if (!v) Missing(key);
    return CheckedInt(key, *v);
  }
  int Int(const std::string& key, int fallback) const { return Has(key) ? Int(key) : fallback; }

  // A token id: 0 <= id < 2^31.
  std::optional<int> Id(const std::string& key) const {
    const GgufValue* v = Find(key);
    if (!v) return std::nullopt;
    const std::optional<int64_t> x = v->ToInt();
    if (!x || *x < 0 || *x > INT32_MAX) Bad(key, "a token id", *v);
    return static_cast<int>(*x);
  }

  float Float(const std::string& key, float fallback) const {
    const GgufValue* v = Find(key);
    if (!v) return fallback;
    const std::optional<double> x = v->ToDouble();
    if (!x || !std::isfinite(*x)) Bad(key, "a finite number", *v);
    return static_cast<float>(*x);
  }

  std::string String(const std::string& key) const {
    const GgufValue* v = Find(key);
    if (!v) Missing(key);
    const std::optional<std::string_view> s = v->ToString();
    if (!s) Bad(key, "a string", *v);
    return std::string(*s);
  }
  std::string String(const std::string& key, const std::string& fallback) const {
    return Has(key) ? String(key) : fallback;
  }

  // A scalar, or an array with one value per layer (llama.cpp get_key_or_arr).
  std::vector<int> PerLayer(const std::string& key, int n_layers,
                            std::optional<int> fallback = std::nullopt) const {
    const GgufValue* v = Find(key);
    if (!v) {
      if (!fallback) Missing(key);
      return std::vector<int>(static_cast<size_t>(n_layers), *fallback);
    }
    if (!v->is_array()) return std::vector<int>(static_cast<size_t>(n_layers), CheckedInt(key, *v));
    std::vector<int64_t> xs;
    if (!v->ToIntArray(&xs) || xs.size() != static_cast<size_t>(n_layers)) {
      Bad(key, ("an integer or an array of " + std::to_string(n_layers) + " integers").c_str(), *v);
    }
    std::vector<int> out;
    for (int64_t x : xs) {
      if (x <= 0 || x >= (int64_t{1} << 30)) Bad(key, "positive integers below 2^30", *v);
      out.push_back(static_cast<int>(x));
    }
    return out;
  }

  [[noreturn]] void Missing(const std::string& key) const {
    Fail(ErrorKind::kFormat, f_.path() + ": missing key '" + key + "'");
  }
  [[noreturn]] void Bad(const std::string& key, const char* expected, const GgufValue& v) const {
    Fail(ErrorKind::kFormat, f_.path() + ": key '" + key + "' must be " + expected + ", not " +
                                 v.TypeString() + " " + v.ToDisplayString(4));
  }

 private:
  int CheckedInt(const std::string& key, const GgufValue& v) const {
    const std::optional<int64_t> x = v.ToInt();
    if (!x || *x <= 0 || *x >= (int64_t{1} << 30)) Bad(key, "a positive integer below 2^30", v);
    return static_cast<int>(*x);
  }

  const GgufFile& f_;
  std::string arch_;
};

ModelFamily FamilyOf(const std::string& arch, const std::string& path) {
  if (arch == "gemma") return ModelFamily::kGemma1;
  if (arch == "gemma2") return ModelFamily::kGemma2;
  if (arch == "gemma3") return ModelFamily::kGemma3;
  if (arch == "gemma3n") return ModelFamily::kGemma3n;
  if (arch == "gemma4") return ModelFamily::kGemma4;
  Fail(ErrorKind::kUnsupported, path + ": unsupported architecture '" + arch +
                                    "' (supported: gemma, gemma2, gemma3, gemma3n, gemma4)");
}

// Linear RoPE scaling factor declared by the file, 1 when none. llama.cpp's loader defaults the
// type to linear and also accepts the older rope.scale_linear key.
float RopeLinearFactor(const Meta& m, const std::string& path) {
  const std::string type = m.String(m.ArchKey("rope.scaling.type"), "linear");
  float factor = m.Float(m.ArchKey("rope.scaling.factor"), 0.f);
  if (factor == 0.f) factor = m.Float(m.ArchKey("rope.scale_linear"), 0.f);
  if (factor == 0.f || type == "none") return 1.f;
  if (factor < 0.f) {
    Fail(ErrorKind::kFormat,
         path + ": rope scaling factor " + std::to_string(factor) + " is negative");
  }
  if (type != "linear") {
    Fail(ErrorKind::kUnsupported, path + ": rope scaling type '" + type + "' is not supported");
  }
  return factor;
}

bool IsTurnEndPiece(const std::string& piece) {
  return piece == "<end_of_turn>" || piece == "<turn|>";
}

void AddUnique(std::vector<int>* ids, int id) {
  for (int x : *ids) {
    if (x == id) return;
  }
  ids->push_back(id);
}

int FindPiece(const std::vector<std::string>& tokens, const char* piece) {
  for (size_t i = 0; i < tokens.size(); ++i) {
    if (tokens[i] == piece) return static_cast<int>(i);
  }
  return -1;
}

void ReadTokenizer(const Meta& m, Checkpoint* ck) {
  TokenizerSource& t = ck->tokenizer;
  const GgufValue* tokens = m.Find("tokenizer.ggml.tokens");
  if (!tokens) return;
  if (!tokens->ToStringArray(&t.gguf_tokens)) {
    m.Bad("tokenizer.ggml.tokens", "an array of strings", *tokens);
  }
  t.gguf_model = m.String("tokenizer.ggml.model", "llama");
  const size_t n = t.gguf_tokens.size();
  if (const GgufValue* v = m.Find("tokenizer.ggml.scores")) {
    if (!v->ToFloatArray(&t.gguf_scores) || t.gguf_scores.size() != n) {
      m.Bad("tokenizer.ggml.scores", ("an array of " + std::to_string(n) + " numbers").c_str(), *v);
    }
  }
  if (const GgufValue* v = m.Find("tokenizer.ggml.token_type")) {
    std::vector<int64_t> types;
    if (!v->ToIntArray(&types) || types.size() != n) {
      m.Bad("tokenizer.ggml.token_type", ("an array of " + std::to_string(n) + " integers").c_str(),
            *v);
    }
    t.gguf_token_types.assign(types.begin(), types.end());
  }
  if (const GgufValue* v = m.Find("tokenizer.ggml.merges")) {
    if (!v->ToStringArray(&t.gguf_merges))
      m.Bad("tokenizer.ggml.merges", "an array of strings", *v);
  }
}

// bos/pad/eos ids. Stop tokens (gemma-models.md §4.4): the file's eos_token_id; its
// eot_token_id only when that piece really is a turn end (the Gemma 1 converter always writes
// 107, an ordinary piece in small vocabularies); and, since a GGUF names only one of <eos> and
// the turn-end token, the other one found by piece.
void ReadSpecialIds(const Meta& m, Checkpoint* ck) {
  ModelConfig& c = ck->config;
  const std::vector<std::string>& tokens = ck->tokenizer.gguf_tokens;
  const int64_t n_ids = tokens.empty() ? c.vocab_size : static_cast<int64_t>(tokens.size());
  auto checked = [&](const char* key, std::optional<int> id) -> std::optional<int> {
    if (id && *id >= n_ids) {
      Fail(ErrorKind::kFormat, ck->path + ": key '" + key + "' is " + std::to_string(*id) +
                                   " but the vocabulary has " + std::to_string(n_ids) + " tokens");
    }
    return id;
  };
  c.bos_id =
      checked("tokenizer.ggml.bos_token_id", m.Id("tokenizer.ggml.bos_token_id")).value_or(2);
  c.pad_id = checked("tokenizer.ggml.padding_token_id", m.Id("tokenizer.ggml.padding_token_id"))
                 .value_or(0);

  const int eos_piece = FindPiece(tokens, "<eos>");
  const std::optional<int> eos =
      checked("tokenizer.ggml.eos_token_id", m.Id("tokenizer.ggml.eos_token_id"));
  c.eos_ids.clear();
  AddUnique(&c.eos_ids, eos.value_or(eos_piece >= 0 ? eos_piece : 1));
  if (const std::optional<int> eot = m.Id("tokenizer.ggml.eot_token_id")) {
    if (*eot < static_cast<int64_t>(tokens.size()) &&
        IsTurnEndPiece(tokens[static_cast<size_t>(*eot)])) {
      AddUnique(&c.eos_ids, *eot);
    }
  }
  if (eos_piece >= 0) AddUnique(&c.eos_ids, eos_piece);
  for (const char* turn_end : {"<end_of_turn>", "<turn|>"}) {
    const int id = FindPiece(tokens, turn_end);
    if (id >= 0) AddUnique(&c.eos_ids, id);
  }
}

void ReadGenerationDefaults(const Meta& m, GenerationDefaults* g) {
  auto num = [&](const char* key, float* out, bool* has) {
    if (m.Has(key)) {
      *out = m.Float(key, *out);
      *has = true;
    }
  };
  num("general.sampling.temp", &g->temperature, &g->has_temperature);
  num("general.sampling.top_p", &g->top_p, &g->has_top_p);
  num("general.sampling.min_p", &g->min_p, &g->has_min_p);
  if (const GgufValue* v = m.Find("general.sampling.top_k")) {
    const std::optional<int64_t> k = v->ToInt();
    if (!k || *k < 0 || *k > INT32_MAX)
      m.Bad("general.sampling.top_k", "a non-negative integer", *v);
    g->top_k = static_cast<int>(*k);
    g->has_top_k = true;
  }
}

// The tensors, under their GGUF names (already canonical). Tensor types without kernels make
// the whole file unsupported, listed by type.
void ReadTensors(const GgufFile& f, Checkpoint* ck) {
  std::map<std::string, std::vector<std::string>> unsupported;  // type -> tensor names
  for (const GgufTensorInfo& t : f.tensors()) {
    if (!t.has_dtype) {
      unsupported[std::string(t.type_name)].push_back(t.name);
      continue;
    }
    ck->tensors[t.name] = NamedTensor{t.view, f.path(), t.name};
  }
  if (unsupported.empty()) return;
  std::string list;
  for (const auto& [type, names] : unsupported) {
    if (!list.empty()) list += "; ";
    list += type + " (" + names[0];
    if (names.size() > 1) list += " and " + std::to_string(names.size() - 1) + " more";
    list += ")";
  }
  Fail(ErrorKind::kUnsupported, f.path() + ": tensor types not supported: " + list);
}

// The per-layer sliding-window flags gemma3n/gemma4 files store (true = sliding).
std::vector<bool> SlidingPattern(const Meta& m, int n_layers) {
  const std::string key = m.ArchKey("attention.sliding_window_pattern");
  const GgufValue* v = m.Find(key);
  if (!v) m.Missing(key);
  std::vector<bool> out;
  if (!v->ToBoolArray(&out) || out.size() != static_cast<size_t>(n_layers)) {
    m.Bad(key, ("an array of " + std::to_string(n_layers) + " bools").c_str(), *v);
  }
  return out;
}

// A count that may be 0 (shared_kv_layers, embedding_length_per_layer_input).
int CountKey(const Meta& m, const std::string& key, const std::string& path) {
  const GgufValue* v = m.Find(key);
  if (!v) return 0;
  const std::optional<int64_t> x = v->ToInt();
  if (!x || *x < 0 || *x >= (int64_t{1} << 30)) {
    Fail(ErrorKind::kFormat, path + ": key '" + key + "' must be a non-negative integer");
  }
  return static_cast<int>(*x);
}

// Gemma 4 proportional RoPE is stored as rope_freqs (one divisor per frequency pair of the global
// head dim): 1 for the pairs that rotate, 1e30 (no rotation) for the rest (golden README, Known
// deviations 7). Returns the number of rotating pairs, 0 = all.
int RotatedPairsFromRopeFreqs(const Checkpoint& ck, int head_dim) {
  const NamedTensor* t = ck.Find("rope_freqs.weight");
  if (t == nullptr) return 0;
  if (t->view.dtype != DType::kF32 || t->view.n_elements() != head_dim / 2) {
    Fail(ErrorKind::kFormat, ck.path + ": tensor 'rope_freqs.weight' has shape " +
                                 t->view.ShapeString() + ", expected F32 [" +
                                 std::to_string(head_dim / 2) + "]");
  }
  const auto* f = reinterpret_cast<const float*>(t->view.data);
  int rotated = 0;
  while (rotated < head_dim / 2 && f[rotated] == 1.f) ++rotated;
  for (int i = rotated; i < head_dim / 2; ++i) {
    if (!(f[i] >= 1e20f)) {
      Fail(ErrorKind::kUnsupported,
           ck.path +
               ": rope_freqs other than 1 (rotate) then >= 1e20 (no rotation) are not "
               "supported (entry " +
               std::to_string(i) + " is " + std::to_string(f[i]) + ")");
    }
  }
  return rotated == head_dim / 2 ? 0 : rotated;
}

// gemma3n / gemma4 (gemma-models.md §3.2): per-layer pattern, head dims per layer type,
// KV sharing, per-layer inputs, AltUp/LAuReL (3n), MoE and layer scalars (4).
void ReadGemma3nOr4(const Meta& m, Checkpoint* ck, const std::vector<int>& n_heads,
                    const std::vector<int>& n_kv_heads, const std::vector<int>& ff_dims) {
  ModelConfig& c = ck->config;
  const std::string& path = ck->path;
  const bool g4 = c.family == ModelFamily::kGemma4;
  const std::vector<bool> sliding = SlidingPattern(m, c.n_layers);
  const int window = m.Int(m.ArchKey("attention.sliding_window"));
  const int global_hd = m.Int(m.ArchKey("attention.key_length"));
  const int local_hd = g4 ? m.Int(m.ArchKey("attention.key_length_swa"), global_hd) : global_hd;
  if (m.Int(m.ArchKey("attention.value_length"), global_hd) != global_hd ||
      (g4 && m.Int(m.ArchKey("attention.value_length_swa"), local_hd) != local_hd)) {
    Fail(ErrorKind::kUnsupported, path + ": attention.value_length differs from key_length");
  }
  if (global_hd % 2 != 0 || local_hd % 2 != 0) {
    Fail(ErrorKind::kFormat, path + ": odd head dimension (RoPE rotates pairs)");
  }
  // llama.cpp rotates rope.dimension_count dims; only full-head rotation is supported.
  if (m.Int(m.ArchKey("rope.dimension_count"), global_hd) != global_hd ||
      m.Int(m.ArchKey("rope.dimension_count_swa"), local_hd) != local_hd) {
    Fail(ErrorKind::kUnsupported, path + ": rope.dimension_count other than the head dimension");
  }
  RopeConfig global_rope, local_rope;
  global_rope.base = m.Float(m.ArchKey("rope.freq_base"), 1e6f);
  local_rope.base = m.Float(m.ArchKey("rope.freq_base_swa"), 1e4f);
  if (!(global_rope.base > 0.f) || !(local_rope.base > 0.f)) {
    Fail(ErrorKind::kFormat, path + ": RoPE frequency base must be positive");
  }
  if (g4) global_rope.rotated_pairs = RotatedPairsFromRopeFreqs(*ck, global_hd);

  std::vector<float> sparsity(static_cast<size_t>(c.n_layers), 0.f);
  if (!g4) {
    const std::string key = m.ArchKey("activation_sparsity_scale");
    if (const GgufValue* v = m.Find(key)) {
      std::vector<float> xs;
      if (!v->ToFloatArray(&xs) || xs.size() != sparsity.size()) {
        m.Bad(key, ("an array of " + std::to_string(c.n_layers) + " numbers").c_str(), *v);
      }
      // -inf (Phi^-1(0)) marks a dense layer.
      for (size_t i = 0; i < xs.size(); ++i) sparsity[i] = std::isfinite(xs[i]) ? xs[i] : 0.f;
    }
  }

  c.layers.clear();
  for (int i = 0; i < c.n_layers; ++i) {
    const size_t li = static_cast<size_t>(i);
    LayerConfig l;
    l.attention = sliding[li] ? AttentionType::kSliding : AttentionType::kGlobal;
    l.sliding_window = sliding[li] ? window : 0;
    l.n_heads = n_heads[li];
    l.n_kv_heads = n_kv_heads[li];
    l.head_dim = sliding[li] ? local_hd : global_hd;
    l.ff_dim = ff_dims[li];
    l.rope = sliding[li] ? local_rope : global_rope;
    l.gate_sparsity_std_mul = sparsity[li];
    c.layers.push_back(l);
  }
  AssignSharedKvLayers(&c, CountKey(m, m.ArchKey("attention.shared_kv_layers"), path), path);
  for (int i = 0; i < c.n_layers; ++i) {
    LayerConfig& l = c.layers[static_cast<size_t>(i)];
    // Gemma 4 K=V layers: a layer that computes its own K/V but has no attn_v.
    l.has_v_proj = l.shares_kv(i) || ck->Find("blk." + std::to_string(i) + ".attn_v.weight");
  }

  c.norm_weight_offset = 0.f;  // gemma3n/gemma4 norms multiply by w in every format
  c.post_norms = true;
  c.qk_norm = true;
  c.v_norm = true;
  c.query_scale = 1.f;  // llama.cpp hard-codes 1.0 for both
  c.final_softcap = m.Float(m.ArchKey("final_logit_softcapping"), g4 ? 0.f : 30.f);
  c.per_layer_input_dim = CountKey(m, m.ArchKey("embedding_length_per_layer_input"), path);
  if (g4) {
    // Present in every Gemma 4 file; optional in llama.cpp's loader, so follow the tensors.
    c.layer_scalar = ck->Find("blk.0.layer_output_scale.weight") != nullptr;
    c.n_experts = CountKey(m, m.ArchKey("expert_count"), path);
    if (c.n_experts > 0) {
      c.n_experts_used = m.Int(m.ArchKey("expert_used_count"));
      c.expert_ff_dim = m.Int(m.ArchKey("expert_feed_forward_length"));
      if (c.n_experts_used > c.n_experts) {
        Fail(ErrorKind::kFormat, path + ": expert_used_count exceeds expert_count");
      }
    }
  } else {
    c.altup_streams = m.Int(m.ArchKey("altup.num_inputs"), 4);
    c.altup_active = CountKey(m, m.ArchKey("altup.active_idx"), path);
    if (c.altup_active >= c.altup_streams) {
      Fail(ErrorKind::kFormat, path + ": altup.active_idx must be below altup.num_inputs");
    }
    // Not stored in GGUF: the rank is laurel_l's row count (llama.cpp hard-codes 64).
    const NamedTensor* laurel = ck->Find("blk.0.laurel_l.weight");
    c.laurel_rank = laurel && laurel->view.n_dims == 2 && laurel->view.dim(0) < (1 << 30)
                        ? static_cast<int>(laurel->view.dim(0))
                        : 0;
  }
}

}  // namespace

Checkpoint OpenGgufCheckpoint(const std::string& path) {
  const GgufFile f = GgufFile::Open(path);
  const Meta general(f, "general");
  const std::string arch = general.String("general.architecture");
  const ModelFamily family = FamilyOf(arch, path);
  const Meta m(f, arch);

  Checkpoint ck;
  ck.path = path;
  ck.format = "gguf";
  ck.files.push_back(f.file());
  ReadTensors(f, &ck);
  // Informational (bench labels): a missing or odd general.file_type is not an error.
  if (const GgufValue* ft = general.Find("general.file_type")) {
    const std::optional<int64_t> v = ft->ToInt();
    const QuantPreset* preset =
        v && *v >= 0 && *v <= 0xffff ? PresetOfFileType(static_cast<uint32_t>(*v)) : nullptr;
    if (preset != nullptr) ck.quant_type = std::string(preset->name);
  }

  ModelConfig& c = ck.config;
  c.family = family;
  c.architecture = arch;
  c.d_model = m.Int(m.ArchKey("embedding_length"));
  c.n_layers = m.Int(m.ArchKey("block_count"));
  // Per-layer tables are sized from this before any tensor is bound: bound it first.
  if (c.n_layers > kMaxLayers) {
    Fail(ErrorKind::kFormat, path + ": key '" + m.ArchKey("block_count") + "' is " +
                                 std::to_string(c.n_layers) + ", more than " +
                                 std::to_string(kMaxLayers) + " layers");
  }
  c.context_length = m.Int(m.ArchKey("context_length"));
  c.rms_norm_eps = m.Float(m.ArchKey("attention.layer_norm_rms_epsilon"), 1e-6f);
  if (!(c.rms_norm_eps > 0.f)) {
    Fail(ErrorKind::kFormat,
         path + ": key '" + m.ArchKey("attention.layer_norm_rms_epsilon") + "' must be positive");
  }
  const std::vector<int> n_heads = m.PerLayer(m.ArchKey("attention.head_count"), c.n_layers);
  const std::vector<int> n_kv_heads =
      m.PerLayer(m.ArchKey("attention.head_count_kv"), c.n_layers, n_heads[0]);
  const std::vector<int> ff_dims = m.PerLayer(m.ArchKey("feed_forward_length"), c.n_layers);
  const bool g3n_or_4 = family == ModelFamily::kGemma3n || family == ModelFamily::kGemma4;
  const int head_dim = m.Int(m.ArchKey("attention.key_length"), c.d_model / n_heads[0]);
  if (!g3n_or_4 && m.Int(m.ArchKey("attention.value_length"), head_dim) != head_dim) {
    Fail(ErrorKind::kUnsupported, path + ": attention.value_length differs from key_length");
  }
  if (head_dim % 2 != 0) {
    Fail(ErrorKind::kFormat,
         path + ": head dimension " + std::to_string(head_dim) + " is odd (RoPE rotates pairs)");
  }
  for (int i = 0; i < c.n_layers; ++i) {
    const size_t li = static_cast<size_t>(i);
    if (n_heads[li] % n_kv_heads[li] != 0) {
      Fail(ErrorKind::kFormat,
           path + ": layer " + std::to_string(i) + " has " + std::to_string(n_heads[li]) +
               " query heads, not a multiple of " + std::to_string(n_kv_heads[li]) + " KV heads");
    }
  }

  // GGUF Gemma 1-3 norm weights are stored as 1 + w (converter), so the gain is w itself.
  c.norm_weight_offset = 0.f;
  c.post_norms = family != ModelFamily::kGemma1;
  c.qk_norm = family == ModelFamily::kGemma3;
  // query_pre_attn_scalar is not stored; llama.cpp's rule (gemma-models.md §3.2).
  c.query_scale = GgufGemmaQueryScale(family, c.n_layers, c.d_model, n_heads[0], head_dim);
  if (family == ModelFamily::kGemma2) {
    // llama.cpp defaults (llama-hparams.h) when the keys are absent.
    c.attn_softcap = m.Float(m.ArchKey("attn_logit_softcapping"), 50.f);
    c.final_softcap = m.Float(m.ArchKey("final_logit_softcapping"), 30.f);
  } else if (family == ModelFamily::kGemma3) {
    c.attn_softcap = m.Float(m.ArchKey("attn_logit_softcapping"), 0.f);
    c.final_softcap = m.Float(m.ArchKey("final_logit_softcapping"), 0.f);
  }
  if (g3n_or_4) ReadGemma3nOr4(m, &ck, n_heads, n_kv_heads, ff_dims);
  if (c.attn_softcap < 0.f || c.final_softcap < 0.f) {
    Fail(ErrorKind::kFormat, path + ": negative logit softcapping");
  }

  // Layer pattern and RoPE per layer type (gemma-models.md §1.1, §3.2). llama.cpp hard-codes
  // the periods: Gemma 2 alternates starting with a local layer (window default 4096); Gemma 3
  // has 5 local : 1 global when the file declares a sliding window, with the local θ from
  // rope.freq_base_swa (default 10000) never scaled, and the file's linear scaling applied to
  // global layers only.
  int period = 1;
  int window = 0;
  RopeConfig global_rope, local_rope;
  const float rope_factor = g3n_or_4 ? 1.f : RopeLinearFactor(m, path);
  if (family == ModelFamily::kGemma3) {
    if (m.Has(m.ArchKey("attention.sliding_window"))) {
      period = 6;
      window = m.Int(m.ArchKey("attention.sliding_window"));
    }
    global_rope.base = m.Float(m.ArchKey("rope.freq_base"), 1e6f);
    global_rope.position_divisor = rope_factor;
    local_rope.base = m.Float(m.ArchKey("rope.freq_base_swa"), 1e4f);
  } else {
    if (rope_factor != 1.f) {
      Fail(ErrorKind::kUnsupported,
           path + ": rope scaling is not supported for " + FamilyName(family));
    }
    global_rope.base = local_rope.base = m.Float(m.ArchKey("rope.freq_base"), 1e4f);
    if (family == ModelFamily::kGemma2) {
      period = 2;
      window = m.Int(m.ArchKey("attention.sliding_window"), 4096);
    }
  }
  if (!(global_rope.base > 0.f) || !(local_rope.base > 0.f)) {
    Fail(ErrorKind::kFormat, path + ": RoPE frequency base must be positive");
  }
  for (int i = 0; i < c.n_layers && !g3n_or_4; ++i) {
    const size_t li = static_cast<size_t>(i);
    LayerConfig l;
    l.attention =
        IsGlobalLayerInPattern(i, period) ? AttentionType::kGlobal : AttentionType::kSliding;
    l.sliding_window = l.attention == AttentionType::kSliding ? window : 0;
    l.n_heads = n_heads[li];
    l.n_kv_heads = n_kv_heads[li];
    l.head_dim = head_dim;
    l.ff_dim = ff_dims[li];
    l.rope = l.attention == AttentionType::kSliding ? local_rope : global_rope;
    c.layers.push_back(l);
  }

  // Vocabulary size from the embedding (gemma-models.md §5 item 11).
  const NamedTensor* embd = ck.Find("token_embd.weight");
  if (!embd) Fail(ErrorKind::kFormat, path + ": missing tensor 'token_embd.weight'");
  if (embd->view.n_dims != 2 || embd->view.dim(1) != c.d_model) {
    Fail(ErrorKind::kFormat, path + ": tensor 'token_embd.weight' has shape " +
                                 embd->view.ShapeString() + ", expected [vocab, " +
                                 std::to_string(c.d_model) + "]");
  }
  if (embd->view.dim(0) > INT32_MAX) {
    Fail(ErrorKind::kFormat, path + ": tensor 'token_embd.weight' has too many rows");
  }
  c.vocab_size = static_cast<int>(embd->view.dim(0));

  ReadTokenizer(general, &ck);
  ReadSpecialIds(general, &ck);
  if (const GgufValue* t = f.Find("tokenizer.chat_template")) {
    const std::optional<std::string_view> s = t->ToString();
    if (!s) general.Bad("tokenizer.chat_template", "a string", *t);
    ck.chat_template = std::string(*s);
  }
  ReadGenerationDefaults(general, &ck.generation);
  return ck;
}

}  // namespace gemma
