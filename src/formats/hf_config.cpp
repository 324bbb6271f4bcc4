#include "formats/hf_config.h"

#include <cmath>
#include <nlohmann/json.hpp>

#include "gemma/error.h"

namespace gemma {
namespace {

using nlohmann::json;

json ParseJson(const std::string& text, const std::string& path) {
  try {
    return json::parse(text);
  } catch (const json::exception& e) {
    Fail(ErrorKind::kFormat, path + ": invalid JSON (" + e.what() + ")");
  }
}

// Typed access that names the file and key on failure.
class Keys {
 public:
  Keys(const json& j, std::string path) : j_(j), path_(std::move(path)) {}

  bool Has(const char* key) const { return j_.contains(key) && !j_.at(key).is_null(); }

  int Int(const char* key) const {
    if (!Has(key)) Missing(key);
    const json& v = j_.at(key);
    if (!v.is_number_integer()) Bad(key, "an integer");
    const int64_t x = v.get<int64_t>();
    if (x <= 0 || x > (int64_t{1} << 30)) Bad(key, "a positive integer below 2^30");
    return static_cast<int>(x);
  }
  int Int(const char* key, int fallback) const { return Has(key) ? Int(key) : fallback; }

  // A count that may be 0 (e.g. num_kv_shared_layers, hidden_size_per_layer_input).
  int Count(const char* key, int fallback) const {
    if (!Has(key)) return fallback;
    const json& v = j_.at(key);
    if (!v.is_number_integer()) Bad(key, "an integer");
    const int64_t x = v.get<int64_t>();
    if (x < 0 || x > (int64_t{1} << 30)) Bad(key, "a non-negative integer below 2^30");
    return static_cast<int>(x);
  }

  // A positive integer, or a list of one per layer (Gemma 3n intermediate_size).
  std::vector<int> PerLayer(const char* key, int n_layers) const {
    if (!Has(key)) Missing(key);
    const json& v = j_.at(key);
    if (!v.is_array()) return std::vector<int>(static_cast<size_t>(n_layers), Int(key));
    if (v.size() != static_cast<size_t>(n_layers)) Bad(key, "a list with one entry per layer");
    std::vector<int> out;
    for (const json& e : v) {
      if (!e.is_number_integer() || e.get<int64_t>() <= 0 || e.get<int64_t>() > (1 << 30)) {
        Bad(key, "a list of positive integers");
      }
      out.push_back(e.get<int>());
    }
    return out;
  }

  bool Bool(const char* key, bool fallback) const {
    if (!Has(key)) return fallback;
    if (!j_.at(key).is_boolean()) Bad(key, "true or false");
    return j_.at(key).get<bool>();
  }

  float Float(const char* key) const {
    if (!Has(key)) Missing(key);
    const json& v = j_.at(key);
    if (!v.is_number()) Bad(key, "a number");
    const double x = v.get<double>();
    if (!std::isfinite(x)) Bad(key, "a finite number");
    return static_cast<float>(x);
  }
  float Float(const char* key, float fallback) const { return Has(key) ? Float(key) : fallback; }

  std::string String(const char* key) const {
    if (!Has(key)) Missing(key);
    if (!j_.at(key).is_string()) Bad(key, "a string");
    return j_.at(key).get<std::string>();
  }

  const json& raw() const { return j_; }
  const std::string& path() const { return path_; }

  [[noreturn]] void Missing(const char* key) const {
    Fail(ErrorKind::kFormat, path_ + ": missing key '" + key + "'");
  }
  [[noreturn]] void Bad(const char* key, const char* expected) const {
    Fail(ErrorKind::kFormat, path_ + ": key '" + key + "' must be " + expected);
  }

 private:
  const json& j_;
  std::string path_;
};

void AppendIds(const json& v, std::vector<int>* ids) {
  auto add = [ids](int id) {
    for (int x : *ids) {
      if (x == id) return;
    }
    ids->push_back(id);
  };
  if (v.is_number_integer()) add(v.get<int>());
  if (v.is_array()) {
    for (const json& e : v) {
      if (e.is_number_integer()) add(e.get<int>());
    }
  }
}

// Per-layer attention types: `layer_types` when present (newer files), else the family rule.
std::vector<AttentionType> LayerTypes(const Keys& k, ModelFamily family, int n_layers) {
  std::vector<AttentionType> types(static_cast<size_t>(n_layers), AttentionType::kGlobal);
  if (k.Has("layer_types")) {
    const json& lt = k.raw().at("layer_types");
    if (!lt.is_array() || lt.size() != static_cast<size_t>(n_layers)) {
      k.Bad("layer_types", "a list with one entry per layer");
    }
    for (size_t i = 0; i < lt.size(); ++i) {
      const std::string s = lt[i].is_string() ? lt[i].get<std::string>() : "";
      if (s == "sliding_attention")
        types[i] = AttentionType::kSliding;
      else if (s != "full_attention")
        k.Bad("layer_types", "sliding_attention/full_attention");
    }
    return types;
  }
  int period = 1;
  if (family == ModelFamily::kGemma2) period = 2;
  if (family == ModelFamily::kGemma3) period = k.Int("sliding_window_pattern", 6);
  if (family == ModelFamily::kGemma3n) period = 5;
  if (family == ModelFamily::kGemma4) period = k.Int("sliding_window_pattern", 6);
  for (int i = 0; i < n_layers; ++i) {
    if (!IsGlobalLayerInPattern(i, period)) types[static_cast<size_t>(i)] = AttentionType::kSliding;
  }
  // Gemma 4: the last layer is always global (gemma-models.md §1.3).
  if (family == ModelFamily::kGemma4) types.back() = AttentionType::kGlobal;
  return types;
}

// Gemma 3 RoPE: legacy keys (rope_theta global, rope_local_base_freq local, rope_scaling linear
// for global) or transformers v5 `rope_parameters` per layer type.
void Gemma3Rope(const Keys& k, RopeConfig* global, RopeConfig* local) {
  global->base = k.Float("rope_theta", 1e6f);
  local->base = k.Float("rope_local_base_freq", 1e4f);
  auto linear_factor = [&](const json& s) -> float {
    if (!s.is_object()) return 1.f;
    const std::string type = s.value("rope_type", s.value("type", std::string("default")));
    if (type == "default") return 1.f;
    if (type != "linear") {
      Fail(ErrorKind::kUnsupported,
           k.path() + ": rope scaling type '" + type + "' is not supported");
    }
    const double f = s.value("factor", 1.0);
    if (!(f > 0 && f < 1e6)) k.Bad("rope_scaling", "a positive factor");
    return static_cast<float>(f);
  };
  if (k.Has("rope_scaling")) global->position_divisor = linear_factor(k.raw().at("rope_scaling"));
  if (k.Has("rope_parameters") && k.raw().at("rope_parameters").is_object()) {
    const json& rp = k.raw().at("rope_parameters");
    if (rp.contains("full_attention")) {
      const json& g = rp.at("full_attention");
      global->base = static_cast<float>(g.value("rope_theta", double{global->base}));
      global->position_divisor = linear_factor(g);
    }
    if (rp.contains("sliding_attention")) {
      const json& l = rp.at("sliding_attention");
      local->base = static_cast<float>(l.value("rope_theta", double{local->base}));
      local->position_divisor = linear_factor(l);
    }
  }
}

// Gemma 4 RoPE: `rope_parameters` per layer type; full-attention layers use "proportional"
// RoPE: partial_rotary_factor * global_head_dim / 2 pairs rotate (gemma-models.md §2.1).
void Gemma4Rope(const Keys& k, int global_head_dim, RopeConfig* global, RopeConfig* local) {
  global->base = k.Float("rope_theta", 1e6f);
  local->base = k.Float("rope_local_base_freq", 1e4f);
  if (!k.Has("rope_parameters")) return;
  const json& rp = k.raw().at("rope_parameters");
  if (!rp.is_object()) k.Bad("rope_parameters", "an object");
  auto read = [&](const char* type_key, int head_dim, RopeConfig* r) {
    if (!rp.contains(type_key) || !rp.at(type_key).is_object()) return;
    const json& p = rp.at(type_key);
    const json& theta = p.contains("rope_theta") ? p.at("rope_theta") : json();
    if (theta.is_number()) r->base = theta.get<float>();
    const std::string type = p.value("rope_type", std::string("default"));
    if (type == "default") return;
    if (type != "proportional") {
      Fail(ErrorKind::kUnsupported, k.path() + ": rope_type '" + type + "' is not supported");
    }
    const json& f = p.contains("partial_rotary_factor") ? p.at("partial_rotary_factor") : json();
    const double factor = f.is_number() ? f.get<double>() : 1.0;
    if (!(factor > 0 && factor <= 1)) k.Bad("rope_parameters", "a partial_rotary_factor in (0, 1]");
    // HF: rope_angles = int(factor * head_dim // 2).
    r->rotated_pairs = static_cast<int>(factor * head_dim / 2);
    if (r->rotated_pairs == head_dim / 2) r->rotated_pairs = 0;
  };
  read("full_attention", global_head_dim, global);
  read("sliding_attention", 0, local);
  if (local->rotated_pairs != 0) {
    Fail(ErrorKind::kUnsupported,
         k.path() + ": proportional RoPE on sliding layers is not supported");
  }
}

// Gemma 3n per-layer activation sparsity: target p -> cut-off multiplier Phi^-1(p).
std::vector<float> SparsityMultipliers(const Keys& k, int n_layers) {
  std::vector<float> out(static_cast<size_t>(n_layers), 0.f);
  if (!k.Has("activation_sparsity_pattern")) return out;
  const json& v = k.raw().at("activation_sparsity_pattern");
  if (!v.is_array() || v.size() != static_cast<size_t>(n_layers)) {
    k.Bad("activation_sparsity_pattern", "a list with one entry per layer");
  }
  for (size_t i = 0; i < v.size(); ++i) {
    if (!v[i].is_number()) k.Bad("activation_sparsity_pattern", "a list of numbers");
    const double p = v[i].get<double>();
    if (!(p >= 0 && p < 1)) k.Bad("activation_sparsity_pattern", "values in [0, 1)");
    if (p > 0) out[i] = static_cast<float>(NormalQuantile(p));
  }
  return out;
}

}  // namespace

namespace {

HfConfig ParseHfConfigJson(const std::string& json_text, const std::string& path) {
  const json root = ParseJson(json_text, path);
  if (!root.is_object()) Fail(ErrorKind::kFormat, path + ": not a JSON object");
  HfConfig out;
  std::string model_type = Keys(root, path).String("model_type");

  // Multimodal Gemma 3 keeps the language model's keys in text_config.
  // (Gemma 3n and Gemma 4 do the same, with audio/vision towers beside it.)
  const json* text = &root;
  if (model_type == "gemma3" || model_type == "gemma3n" || model_type == "gemma4") {
    if (!root.contains("text_config") || !root.at("text_config").is_object()) {
      Fail(ErrorKind::kFormat,
           path + ": model_type " + model_type + " without a text_config object");
    }
    text = &root.at("text_config");
    out.notes.push_back(
        "multimodal checkpoint: only the language model is used; the other "
        "towers are ignored");
  }
  const Keys k(*text, path);

  ModelConfig& c = out.config;
  if (model_type == "gemma") {
    c.family = ModelFamily::kGemma1;
    c.architecture = "gemma";
  } else if (model_type == "gemma2") {
    c.family = ModelFamily::kGemma2;
    c.architecture = "gemma2";
  } else if (model_type == "gemma3" || model_type == "gemma3_text") {
    c.family = ModelFamily::kGemma3;
    c.architecture = "gemma3";
  } else if (model_type == "gemma3n" || model_type == "gemma3n_text") {
    c.family = ModelFamily::kGemma3n;
    c.architecture = "gemma3n";
  } else if (model_type == "gemma4" || model_type == "gemma4_text") {
    c.family = ModelFamily::kGemma4;
    c.architecture = "gemma4";
  } else {
    Fail(ErrorKind::kUnsupported,
         path + ": unsupported model_type '" + model_type +
             "' (supported: gemma, gemma2, gemma3, gemma3_text, gemma3n, gemma3n_text, gemma4, "
             "gemma4_text)");
  }
  const bool g3n = c.family == ModelFamily::kGemma3n, g4 = c.family == ModelFamily::kGemma4;

  c.d_model = k.Int("hidden_size");
  c.n_layers = k.Int("num_hidden_layers");
  // Per-layer tables are sized from this before any tensor is seen: bound it first.
  if (c.n_layers > kMaxLayers) k.Bad("num_hidden_layers", "at most 4096");
  const int n_heads = k.Int("num_attention_heads");
  const int n_kv_heads = k.Int("num_key_value_heads", n_heads);
  const int head_dim = k.Int("head_dim", c.d_model / n_heads);
  const std::vector<int> ff_dims = k.PerLayer("intermediate_size", c.n_layers);
  if (n_heads % n_kv_heads != 0) {
    k.Bad("num_key_value_heads", "a divisor of num_attention_heads");
  }
  if (head_dim % 2 != 0) k.Bad("head_dim", "even (RoPE rotates pairs)");
  c.context_length = k.Int("max_position_embeddings", 8192);
  c.rms_norm_eps = k.Float("rms_norm_eps", 1e-6f);
  c.vocab_size = k.Int("vocab_size", 1);  // replaced by the embedding's row count
  // HF Gemma 1-3 store zero-centred norm weights; Gemma 3n/4 multiply by w itself.
  c.norm_weight_offset = g3n || g4 ? 0.f : 1.f;
  c.post_norms = c.family != ModelFamily::kGemma1;
  c.qk_norm = c.family == ModelFamily::kGemma3 || g3n || g4;
  c.v_norm = g3n || g4;
  // Gemma 1 has no query_pre_attn_scalar: scale is head_dim^-1/2 (§1.1). Gemma 3n/4: 1.0 (their
  // QK-norm does the scaling; 3n configs still carry an unused query_pre_attn_scalar).
  c.query_scale = 1.f / std::sqrt(k.Float("query_pre_attn_scalar", static_cast<float>(head_dim)));
  if (g3n || g4) c.query_scale = 1.f;
  c.attn_softcap = k.Float("attn_logit_softcapping", 0.f);
  c.final_softcap = k.Float("final_logit_softcapping", 0.f);
  if (c.family == ModelFamily::kGemma1 && k.Has("hidden_act")) {
    const std::string act = k.String("hidden_act");
    if (act != "gelu" && act != "gelu_pytorch_tanh") {
      Fail(ErrorKind::kUnsupported, path + ": hidden_act '" + act + "' is not supported");
    }
  }

  const std::vector<AttentionType> types = LayerTypes(k, c.family, c.n_layers);
  const int window = k.Int("sliding_window", 4096);
  RopeConfig global_rope, local_rope;
  // Gemma 4 global layers have their own head dim and (K=V models) KV head count; HF applies
  // num_global_key_value_heads only with attention_k_eq_v (a checkpoint whose tensors say
  // otherwise is reconciled by the reader, see hf_checkpoint.cpp).
  const int global_head_dim = g4 ? k.Int("global_head_dim", head_dim) : head_dim;
  const bool k_eq_v = g4 && k.Bool("attention_k_eq_v", false);
  const int global_kv_heads = k_eq_v ? k.Int("num_global_key_value_heads", n_kv_heads) : n_kv_heads;
  if (global_head_dim % 2 != 0) k.Bad("global_head_dim", "even (RoPE rotates pairs)");
  if (n_heads % global_kv_heads != 0) {
    k.Bad("num_global_key_value_heads", "a divisor of num_attention_heads");
  }
  if (c.family == ModelFamily::kGemma3 || g3n) {
    Gemma3Rope(k, &global_rope, &local_rope);
  } else if (g4) {
    Gemma4Rope(k, global_head_dim, &global_rope, &local_rope);
  } else {
    global_rope.base = local_rope.base = k.Float("rope_theta", 1e4f);
    if (k.Has("rope_scaling") && k.raw().at("rope_scaling").is_object()) {
      Fail(ErrorKind::kUnsupported,
           path + ": rope_scaling is not supported for " + FamilyName(c.family));
    }
  }
  const std::vector<float> sparsity = SparsityMultipliers(k, c.n_layers);
  for (int i = 0; i < c.n_layers; ++i) {
    LayerConfig l;
    l.attention = types[static_cast<size_t>(i)];
    const bool global = l.attention == AttentionType::kGlobal;
    l.sliding_window = global ? 0 : window;
    l.n_heads = n_heads;
    l.n_kv_heads = global ? global_kv_heads : n_kv_heads;
    l.head_dim = global ? global_head_dim : head_dim;
    l.ff_dim = ff_dims[static_cast<size_t>(i)];
    l.rope = global ? global_rope : local_rope;
    l.has_v_proj = !(k_eq_v && global);
    l.gate_sparsity_std_mul = sparsity[static_cast<size_t>(i)];
    c.layers.push_back(l);
  }
  if (g3n || g4) {
    const int n_shared = k.Count("num_kv_shared_layers", 0);
    AssignSharedKvLayers(&c, n_shared, path);
    // Gemma 4 E2B: the KV-shared layers have a double-wide MLP (gemma-models.md §1.3).
    if (g4 && k.Bool("use_double_wide_mlp", false)) {
      for (int i = c.n_layers - n_shared; i < c.n_layers; ++i)
        c.layers[static_cast<size_t>(i)].ff_dim *= 2;
    }
    c.per_layer_input_dim = k.Count("hidden_size_per_layer_input", 0);
  }
  if (g3n) {
    c.altup_streams = k.Int("altup_num_inputs", 4);
    c.altup_active = k.Count("altup_active_idx", 0);
    if (c.altup_active >= c.altup_streams) k.Bad("altup_active_idx", "below altup_num_inputs");
    c.altup_correct_scale = k.Bool("altup_correct_scale", true);
    c.laurel_rank = k.Count("laurel_rank", 64);
  }
  if (g4) {
    c.layer_scalar = true;
    if (k.Bool("enable_moe_block", false)) {
      c.n_experts = k.Int("num_experts");
      c.n_experts_used = k.Int("top_k_experts");
      c.expert_ff_dim = k.Has("moe_intermediate_size") ? k.Int("moe_intermediate_size")
                                                       : k.Int("expert_intermediate_size");
      if (c.n_experts_used > c.n_experts) k.Bad("top_k_experts", "at most num_experts");
    }
  }

  c.bos_id = k.Int("bos_token_id", 2);
  if (k.Has("pad_token_id") && k.raw().at("pad_token_id").is_number_integer()) {
    c.pad_id = k.raw().at("pad_token_id").get<int>();
  }
  if (k.Has("eos_token_id")) AppendIds(k.raw().at("eos_token_id"), &c.eos_ids);
  if (root.contains("eos_token_id")) AppendIds(root.at("eos_token_id"), &c.eos_ids);
  if (c.eos_ids.empty()) c.eos_ids.push_back(1);
  return out;
}

}  // namespace

HfConfig ParseHfConfig(const std::string& json_text, const std::string& path) {
  // A key of an unexpected JSON type that a check above missed still becomes a one-line format
  // error, not a nlohmann exception (the hf_config fuzzer found a numeric rope_type).
  try {
    return ParseHfConfigJson(json_text, path);
  } catch (const json::exception& e) {
    Fail(ErrorKind::kFormat, path + ": unexpected value (" + e.what() + ")");
  }
}

void ParseHfGenerationConfig(const std::string& json_text, const std::string& path,
                             GenerationDefaults* d, std::vector<int>* eos_ids) {
  const json root = ParseJson(json_text, path);
  if (!root.is_object()) Fail(ErrorKind::kFormat, path + ": not a JSON object");
  auto num = [&](const char* key, float* out, bool* has) {
    if (root.contains(key) && root.at(key).is_number()) {
      *out = root.at(key).get<float>();
      *has = true;
    }
  };
  num("temperature", &d->temperature, &d->has_temperature);
  num("top_p", &d->top_p, &d->has_top_p);
  num("min_p", &d->min_p, &d->has_min_p);
  if (root.contains("top_k") && root.at("top_k").is_number_integer()) {
    d->top_k = root.at("top_k").get<int>();
    d->has_top_k = true;
  }
  if (root.contains("do_sample") && root.at("do_sample").is_boolean()) {
    d->do_sample = root.at("do_sample").get<bool>();
  }
  if (root.contains("eos_token_id")) AppendIds(root.at("eos_token_id"), eos_ids);
}

}  // namespace gemma
