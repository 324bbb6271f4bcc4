#include "formats/hf_checkpoint.h"

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string_view>

#include "formats/hf_config.h"
#include "formats/safetensors.h"
#include "gemma/error.h"

namespace gemma {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// fs::exists without exceptions: a path the OS cannot look up (too long, say) does not exist
// for our purposes, and must not escape as a std::filesystem exception (found by fuzzing).
bool Exists(const fs::path& p) {
  std::error_code ec;
  return fs::exists(p, ec);
}

std::string ReadTextFile(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) Fail(ErrorKind::kIo, p.string() + ": cannot open");
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Prefixes under which checkpoints keep the language model (gemma-models.md §3.1).
const char* const kTextPrefixes[] = {"model.language_model.", "language_model.model.", "model."};

// Returns the name without its language-model prefix, or "" for other towers and lm_head.
std::string StripPrefix(const std::string& name) {
  for (const char* p : kTextPrefixes) {
    const std::string prefix(p);
    if (name.rfind(prefix, 0) == 0) {
      const std::string rest = name.substr(prefix.size());
      // "model.vision_tower..." etc. match the "model." prefix but are not the text model.
      if (rest.rfind("vision_tower", 0) == 0 || rest.rfind("audio_tower", 0) == 0 ||
          rest.rfind("embed_vision", 0) == 0 || rest.rfind("embed_audio", 0) == 0 ||
          rest.rfind("multi_modal_projector", 0) == 0 || rest.rfind("language_model.", 0) == 0) {
        return "";
      }
      return rest;
    }
  }
  return "";
}

std::vector<std::string> ShardFiles(const fs::path& dir) {
  const fs::path index = dir / "model.safetensors.index.json";
  if (Exists(index)) {
    json j;
    try {
      j = json::parse(ReadTextFile(index));
    } catch (const json::exception& e) {
      Fail(ErrorKind::kFormat, index.string() + ": invalid JSON (" + e.what() + ")");
    }
    if (!j.is_object() || !j.contains("weight_map") || !j.at("weight_map").is_object()) {
      Fail(ErrorKind::kFormat, index.string() + ": missing 'weight_map'");
    }
    std::set<std::string> shards;
    for (const auto& [tensor, shard] : j.at("weight_map").items()) {
      if (!shard.is_string())
        Fail(ErrorKind::kFormat, index.string() + ": bad shard for " + tensor);
      const std::string s = shard.get<std::string>();
      if (s.find('/') != std::string::npos || s.find("..") != std::string::npos) {
        Fail(ErrorKind::kFormat, index.string() + ": shard name '" + s + "' is not a file name");
      }
      shards.insert(s);
    }
    std::vector<std::string> out;
    for (const std::string& s : shards) {
      const fs::path p = dir / s;
      if (!Exists(p)) {
        Fail(ErrorKind::kIo,
             p.string() + ": shard listed in model.safetensors.index.json is missing");
      }
      out.push_back(p.string());
    }
    return out;
  }
  const fs::path single = dir / "model.safetensors";
  if (Exists(single)) return {single.string()};
  Fail(ErrorKind::kIo, dir.string() + ": no model.safetensors or model.safetensors.index.json");
}

// Gemma 4 global layers: HF uses num_global_key_value_heads only with attention_k_eq_v, while
// llama.cpp's converter applies it whenever set, and checkpoints exist of either reading (golden
// README, Known deviations 2). The k_proj shape decides; the config then follows the tensors.
void ReconcileGlobalKvHeads(Checkpoint* ck) {
  ModelConfig& c = ck->config;
  if (c.family != ModelFamily::kGemma4) return;
  for (int i = 0; i < c.n_layers; ++i) {
    LayerConfig& l = c.layers[static_cast<size_t>(i)];
    if (l.attention != AttentionType::kGlobal) continue;
    const NamedTensor* k = ck->Find("blk." + std::to_string(i) + ".attn_k.weight");
    if (k == nullptr || k->view.n_dims != 2 || k->view.dim(0) % l.head_dim != 0) continue;
    const int64_t kv = k->view.dim(0) / l.head_dim;
    if (kv == l.n_kv_heads || kv <= 0 || l.n_heads % kv != 0) continue;
    ck->notes.push_back("layer " + std::to_string(i) + ": " + std::to_string(kv) +
                        " KV heads taken from the k_proj shape (config.json says " +
                        std::to_string(l.n_kv_heads) + ")");
    l.n_kv_heads = static_cast<int>(kv);
  }
  // A KV-sharing layer reads its source's cache rows, so it has the source's KV heads.
  for (int i = 0; i < c.n_layers; ++i) {
    LayerConfig& l = c.layers[static_cast<size_t>(i)];
    if (l.shares_kv(i)) l.n_kv_heads = c.layers[static_cast<size_t>(l.kv_source_layer)].n_kv_heads;
  }
}

// "<prefix><digits>.<rest>" -> digits and rest (rest not empty); false for any other shape.
bool SplitIndexed(std::string_view name, std::string_view prefix, std::string* index,
                  std::string* rest) {
  if (name.substr(0, prefix.size()) != prefix) return false;
  name.remove_prefix(prefix.size());
  size_t digits = 0;
  while (digits < name.size() && name[digits] >= '0' && name[digits] <= '9') ++digits;
  if (digits == 0 || digits + 1 >= name.size() || name[digits] != '.') return false;
  *index = std::string(name.substr(0, digits));
  *rest = std::string(name.substr(digits + 1));
  return true;
}

}  // namespace

std::string CanonicalTensorName(ModelFamily family, const std::string& name) {
  if (name == "embed_tokens.weight") return "token_embd.weight";
  if (name == "norm.weight") return "output_norm.weight";
  // Gemma 3n / Gemma 4 model-level tensors (gemma-models.md §3.1, §3.2).
  if (name == "embed_tokens_per_layer.weight") return "per_layer_token_embd.weight";
  if (name == "per_layer_model_projection.weight") return "per_layer_model_proj.weight";
  if (name == "per_layer_projection_norm.weight") return "per_layer_proj_norm.weight";
  // AltUp projections: GGUF stacks the three into one 3-D tensor; HF keeps them apart, so they
  // get engine-private names "altup_proj.K.weight" that the binder accepts in place of slices.
  std::string index, rest;
  for (const char* kind : {"projections", "unembed_projections"}) {
    if (SplitIndexed(name, std::string("altup_") + kind + ".", &index, &rest) && rest == "weight") {
      return std::string(kind == std::string("projections") ? "altup_proj."
                                                            : "altup_unembd_proj.") +
             index + ".weight";
    }
  }
  if (!SplitIndexed(name, "layers.", &index, &rest)) return "";
  const std::string blk = "blk." + index + ".";
  // Gemma 1's post_attention_layernorm is the pre-FFN norm (gemma-models.md §2.2).
  const char* post_attn = family == ModelFamily::kGemma1 ? "ffn_norm" : "post_attention_norm";
  const std::pair<const char*, std::string> kMap[] = {
      {"input_layernorm.weight", "attn_norm.weight"},
      {"self_attn.q_proj.weight", "attn_q.weight"},
      {"self_attn.k_proj.weight", "attn_k.weight"},
      {"self_attn.v_proj.weight", "attn_v.weight"},
      {"self_attn.o_proj.weight", "attn_output.weight"},
      {"self_attn.q_norm.weight", "attn_q_norm.weight"},
      {"self_attn.k_norm.weight", "attn_k_norm.weight"},
      {"post_attention_layernorm.weight", std::string(post_attn) + ".weight"},
      {"pre_feedforward_layernorm.weight", "ffn_norm.weight"},
      {"post_feedforward_layernorm.weight", "post_ffw_norm.weight"},
      {"mlp.gate_proj.weight", "ffn_gate.weight"},
      {"mlp.up_proj.weight", "ffn_up.weight"},
      {"mlp.down_proj.weight", "ffn_down.weight"},
      // Gemma 3n / Gemma 4.
      {"per_layer_input_gate.weight", "inp_gate.weight"},
      {"per_layer_projection.weight", "proj.weight"},
      {"post_per_layer_input_norm.weight", "post_norm.weight"},
      {"layer_scalar", "layer_output_scale.weight"},
      {"altup.correct_output_scale", "altup_correct_scale.weight"},
      {"altup.correction_coefs.weight", "altup_correct_coef.weight"},
      {"altup.prediction_coefs.weight", "altup_predict_coef.weight"},
      {"altup.modality_router.weight", "altup_router.weight"},
      {"altup.router_norm.weight", "altup_router_norm.weight"},
      {"laurel.linear_left.weight", "laurel_l.weight"},
      {"laurel.linear_right.weight", "laurel_r.weight"},
      {"laurel.post_laurel_norm.weight", "laurel_post_norm.weight"},
      // Gemma 4 MoE: the expert tensors have no ".weight" suffix in HF.
      {"router.proj.weight", "ffn_gate_inp.weight"},
      {"router.scale", "ffn_gate_inp.scale"},
      {"router.per_expert_scale", "ffn_down_exps.scale"},
      {"experts.gate_up_proj", "ffn_gate_up_exps.weight"},
      {"experts.down_proj", "ffn_down_exps.weight"},
      {"pre_feedforward_layernorm_2.weight", "pre_ffw_norm_2.weight"},
      {"post_feedforward_layernorm_1.weight", "post_ffw_norm_1.weight"},
      {"post_feedforward_layernorm_2.weight", "post_ffw_norm_2.weight"},
  };
  for (const auto& [hf, canon] : kMap) {
    if (rest == hf) return blk + canon;
  }
  return "";
}

Checkpoint OpenHfCheckpoint(const std::string& dir_arg) {
  const fs::path dir(dir_arg);
  const fs::path config_path = dir / "config.json";
  if (!Exists(config_path)) {
    Fail(ErrorKind::kIo, config_path.string() + ": missing (not a Hugging Face model directory)");
  }
  HfConfig hf = ParseHfConfig(ReadTextFile(config_path), config_path.string());

  Checkpoint ck;
  ck.path = dir.string();
  ck.format = "safetensors";
  ck.config = std::move(hf.config);
  ck.notes = std::move(hf.notes);

  std::set<std::string> skipped_unsupported;
  for (const std::string& shard : ShardFiles(dir)) {
    SafetensorsFile st = ReadSafetensors(shard);
    for (const auto& [name, view] : st.tensors) {
      const std::string canon = CanonicalTensorName(ck.config.family, StripPrefix(name));
      if (canon.empty()) continue;
      if (ck.tensors.count(canon)) {
        Fail(ErrorKind::kFormat, shard + ": tensor '" + name + "' appears twice in the checkpoint");
      }
      ck.tensors[canon] = NamedTensor{view, shard, name};
    }
    for (const auto& [name, dtype] : st.unsupported) {
      const std::string canon = CanonicalTensorName(ck.config.family, StripPrefix(name));
      if (!canon.empty()) {
        Fail(ErrorKind::kUnsupported,
             shard + ": tensor '" + name + "' has unsupported dtype " + dtype);
      }
    }
    ck.files.push_back(st.file);
  }
  ReconcileGlobalKvHeads(&ck);

  if (Exists(dir / "tokenizer.model")) {
    ck.tokenizer.spm_model_path = (dir / "tokenizer.model").string();
  } else if (Exists(dir / "tokenizer.json")) {
    ck.tokenizer.hf_tokenizer_json_path = (dir / "tokenizer.json").string();
  }

  const fs::path gen = dir / "generation_config.json";
  if (Exists(gen)) {
    ParseHfGenerationConfig(ReadTextFile(gen), gen.string(), &ck.generation, &ck.config.eos_ids);
  }
  const fs::path tok_cfg = dir / "tokenizer_config.json";
  if (Exists(dir / "chat_template.jinja")) {
    ck.chat_template = ReadTextFile(dir / "chat_template.jinja");
  } else if (Exists(tok_cfg)) {
    try {
      const json j = json::parse(ReadTextFile(tok_cfg));
      if (j.is_object() && j.contains("chat_template") && j.at("chat_template").is_string()) {
        ck.chat_template = j.at("chat_template").get<std::string>();
      }
    } catch (const json::exception& e) {
      Fail(ErrorKind::kFormat, tok_cfg.string() + ": invalid JSON (" + e.what() + ")");
    }
  }
  return ck;
}

}  // namespace gemma
