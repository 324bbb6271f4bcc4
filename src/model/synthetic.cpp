#include "model/synthetic.h"

#include <cmath>
#include <cstring>
#include <map>
#include <memory>
#include <vector>

#include "core/large_buffer.h"
#include "core/quant/quantize.h"
#include "formats/gguf_tensor_types.h"
#include "formats/hf_config.h"
#include "gemma/error.h"

namespace gemma {
namespace {

struct RealConfig {
  const char* model_type;
  int vocab, d, ff, layers, heads, kv_heads, head_dim, window, context;
  std::string extra;  // further config.json keys
};

// "[v, v, ..., w, w]": n1 copies of v then n2 of w (per-layer config lists).
std::string ListOf(const char* v, int n1, const char* w = "", int n2 = 0) {
  std::string s = "[";
  for (int i = 0; i < n1 + n2; ++i) s += std::string(i ? ", " : "") + (i < n1 ? v : w);
  return s + "]";
}

// Gemma 4 keys shared by all sizes (gemma-models.md §1.3, §3.1): proportional RoPE 0.25 on
// global layers, final softcap 30.
std::string Gemma4Keys(int global_head_dim, int period, const std::string& more) {
  return R"("global_head_dim": )" + std::to_string(global_head_dim) +
         R"(, "sliding_window_pattern": )" + std::to_string(period) +
         R"(, "final_logit_softcapping": 30.0, "rope_parameters": {"full_attention": {"rope_type": "proportional", "partial_rotary_factor": 0.25, "rope_theta": 1000000.0}, "sliding_attention": {"rope_type": "default", "rope_theta": 10000.0}}, )" +
         more;
}

// gemma-models.md §1.1-§1.3.
const std::map<std::string, RealConfig>& Configs() {
  static const std::map<std::string, RealConfig> kConfigs = {
      {"gemma1-2b", {"gemma", 256000, 2048, 16384, 18, 8, 1, 256, 0, 8192, ""}},
      {"gemma2-2b",
       {"gemma2", 256000, 2304, 9216, 26, 8, 4, 256, 4096, 8192,
        R"("query_pre_attn_scalar": 256, "attn_logit_softcapping": 50.0, "final_logit_softcapping": 30.0,)"}},
      {"gemma2-9b",
       {"gemma2", 256000, 3584, 14336, 42, 16, 8, 256, 4096, 8192,
        R"("query_pre_attn_scalar": 256, "attn_logit_softcapping": 50.0, "final_logit_softcapping": 30.0,)"}},
      {"gemma3-270m",
       {"gemma3_text", 262144, 640, 2048, 18, 4, 1, 256, 512, 32768,
        R"("query_pre_attn_scalar": 256, "rope_theta": 1000000.0, "rope_local_base_freq": 10000.0,)"}},
      {"gemma3-1b",
       {"gemma3_text", 262144, 1152, 6912, 26, 4, 1, 256, 512, 32768,
        R"("query_pre_attn_scalar": 256, "rope_theta": 1000000.0, "rope_local_base_freq": 10000.0,)"}},
      {"gemma3-4b",
       {"gemma3_text", 262208, 2560, 10240, 34, 8, 4, 256, 1024, 131072,
        R"("query_pre_attn_scalar": 256, "rope_theta": 1000000.0, "rope_local_base_freq": 10000.0,
           "rope_scaling": {"rope_type": "linear", "factor": 8.0},)"}},
      {"gemma3n-e2b",
       {"gemma3n_text", 262400, 2048, 8192, 30, 8, 2, 256, 512, 32768,
        (R"("rope_theta": 1000000.0, "rope_local_base_freq": 10000.0, "final_logit_softcapping": 30.0,
           "hidden_size_per_layer_input": 256, "vocab_size_per_layer_input": 262144, "num_kv_shared_layers": 10,
           "altup_num_inputs": 4, "altup_active_idx": 0, "altup_correct_scale": true, "laurel_rank": 64,
           "activation_sparsity_pattern": )" +
         ListOf("0.95", 10, "0.0", 20) + ",")}},
      {"gemma4-e2b",
       {"gemma4_text", 262144, 1536, 6144, 35, 8, 1, 256, 512, 131072,
        (Gemma4Keys(512, 5,
                    R"("hidden_size_per_layer_input": 256, "vocab_size_per_layer_input": 262144,
           "num_kv_shared_layers": 20, "use_double_wide_mlp": true,)"))}},
      {"gemma4-e4b",
       {"gemma4_text", 262144, 2560, 10240, 42, 8, 2, 256, 512, 131072,
        (Gemma4Keys(512, 6,
                    R"("hidden_size_per_layer_input": 256, "vocab_size_per_layer_input": 262144,
           "num_kv_shared_layers": 18,)"))}},
      {"gemma4-26b-a4b",
       {"gemma4_text", 262144, 2816, 2112, 30, 16, 8, 256, 1024, 262144,
        (Gemma4Keys(512, 6, R"("attention_k_eq_v": true, "num_global_key_value_heads": 2,
           "enable_moe_block": true, "num_experts": 128, "top_k_experts": 8, "moe_intermediate_size": 704,)"))}},
      {"gemma4-31b",
       {"gemma4_text", 262144, 5376, 21504, 60, 32, 16, 256, 1024, 262144,
        (Gemma4Keys(512, 6, R"("attention_k_eq_v": true, "num_global_key_value_heads": 4,)"))}},
  };
  return kConfigs;
}

// xorshift64*: fast enough to fill gigabytes, deterministic.
struct Rng {
  uint64_t s;
  uint64_t Next() {
    s ^= s >> 12;
    s ^= s << 25;
    s ^= s >> 27;
    return s * 0x2545F4914F6CDD1Dull;
  }
};

// Fills a tensor of `type` with valid random content of magnitude ~scale. Quantized blocks get
// random quants and a fixed scale; plain floats get values from a small table.
void FillRandom(DType type, uint8_t* dst, uint64_t n_elems, float scale, Rng& rng) {
  if (type == DType::kF32 || type == DType::kF16 || type == DType::kBF16) {
    float table[256];
    for (int i = 0; i < 256; ++i) table[i] = scale * (static_cast<float>(i) - 127.5f) / 74.f;
    for (uint64_t i = 0; i < n_elems; ++i) {
      const float v = table[rng.Next() >> 56];
      if (type == DType::kF32) {
        std::memcpy(dst + 4 * i, &v, 4);
      } else {
        const uint16_t h = type == DType::kBF16 ? F32ToBF16(v) : F32ToF16(v);
        std::memcpy(dst + 2 * i, &h, 2);
      }
    }
    return;
  }
  // Quantized types: a pool of blocks quantized from random floats, copied in random order
  // (memcpy speed for gigabytes; the values are as random as a benchmark needs).
  const int block = GetDTypeInfo(type).block_elems;
  const uint64_t block_bytes = static_cast<uint64_t>(GetDTypeInfo(type).block_bytes);
  constexpr int kPool = 4096;
  std::vector<uint8_t> pool(kPool * block_bytes);
  std::vector<float> buf(static_cast<size_t>(block));
  for (int p = 0; p < kPool; ++p) {
    for (float& v : buf) {
      v = scale * (static_cast<float>(rng.Next() >> 40) / static_cast<float>(1 << 24) - 0.5f) *
          3.4f;
    }
    QuantizeRow(type, buf.data(), pool.data() + p * block_bytes, block);
  }
  for (uint64_t b = 0; b < n_elems / static_cast<uint64_t>(block); ++b) {
    std::memcpy(dst + b * block_bytes, pool.data() + (rng.Next() >> 52) * block_bytes, block_bytes);
  }
}

}  // namespace

std::vector<std::string> SyntheticModelNames() {
  std::vector<std::string> names;
  for (const auto& [name, c] : Configs()) names.push_back(name);
  return names;
}

std::string SyntheticConfigJson(const std::string& name) {
  const auto it = Configs().find(name);
  if (it == Configs().end()) {
    std::string known;
    for (const std::string& n : SyntheticModelNames()) known += (known.empty() ? "" : ", ") + n;
    Fail(ErrorKind::kUsage, "unknown synthetic model '" + name + "' (known: " + known + ")");
  }
  const RealConfig& c = it->second;
  std::string window;
  if (c.window > 0) window = "\"sliding_window\": " + std::to_string(c.window) + ",";
  return std::string("{\"model_type\": \"") + c.model_type + "\", " +
         "\"vocab_size\": " + std::to_string(c.vocab) +
         ", \"hidden_size\": " + std::to_string(c.d) +
         ", \"intermediate_size\": " + std::to_string(c.ff) +
         ", \"num_hidden_layers\": " + std::to_string(c.layers) +
         ", \"num_attention_heads\": " + std::to_string(c.heads) +
         ", \"num_key_value_heads\": " + std::to_string(c.kv_heads) +
         ", \"head_dim\": " + std::to_string(c.head_dim) + ", " + window + c.extra +
         " \"max_position_embeddings\": " + std::to_string(c.context) +
         ", \"eos_token_id\": [1, 106], \"bos_token_id\": 2}";
}

Checkpoint MakeSyntheticCheckpoint(const std::string& name, const QuantPreset& preset,
                                   uint64_t seed) {
  const std::string json = SyntheticConfigJson(name);
  HfConfig hf = ParseHfConfig(json, "synthetic:" + name);
  const DType type = preset.dtype;
  if (!preset.supported || !HasQuantizer(type)) {
    Fail(ErrorKind::kUnsupported,
         "synthetic models cannot be built in " + std::string(preset.name) + " yet");
  }
  Checkpoint ck;
  ck.path = "synthetic:" + name;
  ck.format = "synthetic";
  ck.config = hf.config;
  const ModelConfig& c = ck.config;
  Rng rng{seed * 0x9E3779B97F4A7C15ull + 1};

  // One allocation for all tensors, 64-byte aligned each.
  struct Pending {
    std::string name;
    DType type;
    std::vector<int64_t> shape;
    float scale;
  };
  std::vector<Pending> pending;
  const int64_t vocab = Configs().at(name).vocab;
  const int64_t d = c.d_model;
  auto norm = [&](const std::string& n, int64_t len) {
    pending.push_back({n, DType::kF32, {len}, 0.1f});
  };
  pending.push_back({"token_embd.weight", type, {vocab, d}, 0.05f});
  norm("output_norm.weight", d);
  const int64_t P = c.per_layer_input_dim, S = c.altup_streams;
  if (P > 0) {
    // Gemma 3n/4 E-models: the per-layer table covers the 262144 text ids.
    pending.push_back({"per_layer_token_embd.weight", type, {262144, P * c.n_layers}, 0.05f});
    pending.push_back({"per_layer_model_proj.weight", type, {P * c.n_layers, d}, 0.05f});
    norm("per_layer_proj_norm.weight", P);
  }
  if (S > 1) {
    pending.push_back({"altup_proj.weight", type, {S - 1, d, d}, 0.05f});
    pending.push_back({"altup_unembd_proj.weight", type, {S - 1, d, d}, 0.05f});
  }
  const int64_t E = c.n_experts, I = c.expert_ff_dim;
  for (int i = 0; i < c.n_layers; ++i) {
    const LayerConfig& l = c.layers[static_cast<size_t>(i)];
    const std::string p = "blk." + std::to_string(i) + ".";
    const int64_t q = int64_t{l.n_heads} * l.head_dim, kv = int64_t{l.n_kv_heads} * l.head_dim;
    const bool own_kv = !l.shares_kv(i);
    for (const char* n : {"attn_norm", "ffn_norm"}) norm(p + n + ".weight", d);
    if (c.post_norms) {
      for (const char* n : {"post_attention_norm", "post_ffw_norm"}) norm(p + n + ".weight", d);
    }
    if (c.qk_norm) {
      norm(p + "attn_q_norm.weight", l.head_dim);
      if (own_kv) norm(p + "attn_k_norm.weight", l.head_dim);
    }
    pending.push_back({p + "attn_q.weight", type, {q, d}, 0.05f});
    if (own_kv) pending.push_back({p + "attn_k.weight", type, {kv, d}, 0.05f});
    if (own_kv && l.has_v_proj) pending.push_back({p + "attn_v.weight", type, {kv, d}, 0.05f});
    pending.push_back({p + "attn_output.weight", type, {d, q}, 0.05f});
    pending.push_back({p + "ffn_gate.weight", type, {l.ff_dim, d}, 0.05f});
    pending.push_back({p + "ffn_up.weight", type, {l.ff_dim, d}, 0.05f});
    pending.push_back({p + "ffn_down.weight", type, {d, l.ff_dim}, 0.05f});
    if (c.layer_scalar) norm(p + "layer_output_scale.weight", 1);
    if (P > 0) {
      pending.push_back({p + "inp_gate.weight", type, {P, d}, 0.05f});
      pending.push_back({p + "proj.weight", type, {d, P}, 0.05f});
      norm(p + "post_norm.weight", d);
    }
    if (S > 1) {  // small tables stay f32, as llama-quantize leaves them
      pending.push_back({p + "altup_router.weight", DType::kF32, {S, d}, 0.05f});
      norm(p + "altup_router_norm.weight", d);
      pending.push_back({p + "altup_predict_coef.weight", DType::kF32, {S * S, S}, 0.05f});
      pending.push_back({p + "altup_correct_coef.weight", DType::kF32, {S, S}, 0.05f});
      norm(p + "altup_correct_scale.weight", d);
    }
    if (c.laurel_rank > 0) {
      pending.push_back({p + "laurel_l.weight", type, {c.laurel_rank, d}, 0.05f});
      pending.push_back({p + "laurel_r.weight", type, {d, c.laurel_rank}, 0.05f});
      norm(p + "laurel_post_norm.weight", d);
    }
    if (E > 0) {
      pending.push_back({p + "ffn_gate_inp.weight", DType::kF32, {E, d}, 0.05f});
      norm(p + "ffn_gate_inp.scale", d);
      norm(p + "ffn_down_exps.scale", E);
      pending.push_back({p + "ffn_gate_up_exps.weight", type, {E, 2 * I, d}, 0.05f});
      pending.push_back({p + "ffn_down_exps.weight", type, {E, d, I}, 0.05f});
      for (const char* n : {"pre_ffw_norm_2", "post_ffw_norm_1", "post_ffw_norm_2"}) {
        norm(p + n + ".weight", d);
      }
    }
  }
  // Each matrix takes the type llama-quantize would give it for this preset (token_embd as the
  // tied output matrix, _M/_S mixtures, row-size fallbacks), so the model matches the GGUF file
  // `gemma quantize --synthetic` writes and llama.cpp runs.
  for (Pending& t : pending) {
    if (t.type != type) continue;  // norms and the small tables listed as f32 stay f32
    TensorView shape_only;
    shape_only.dtype = DType::kF32;
    shape_only.n_dims = static_cast<int>(t.shape.size());
    for (int d = 0; d < shape_only.n_dims; ++d) {
      shape_only.shape[static_cast<size_t>(d)] = t.shape[static_cast<size_t>(d)];
    }
    t.type = ExportTensorType(t.name, shape_only, preset, c.n_layers);
    if (!HasQuantizer(t.type)) t.type = type;
  }
  uint64_t total = 0;
  std::vector<uint64_t> offsets;
  for (const Pending& t : pending) {
    uint64_t bytes = 0;
    std::string why;
    if (!ComputeTensorBytes(t.type, static_cast<int>(t.shape.size()), t.shape.data(), &bytes,
                            &why)) {
      Fail(ErrorKind::kUnsupported, "synthetic " + name + " in " + std::string(DTypeName(type)) +
                                        ": tensor " + t.name + " " + why);
    }
    offsets.push_back(total);
    total += (bytes + 63) / 64 * 64;
  }
  // Huge pages, as a mapped model file gets (see large_buffer.h): the benchmark streams these
  // weights the way it would stream the file.
  std::shared_ptr<uint8_t[]> storage = AllocateLargeBuffer(total);
  uint8_t* base = storage.get();
  for (size_t i = 0; i < pending.size(); ++i) {
    const Pending& t = pending[i];
    TensorView v;
    v.dtype = t.type;
    v.n_dims = static_cast<int>(t.shape.size());
    for (int d = 0; d < v.n_dims; ++d)
      v.shape[static_cast<size_t>(d)] = t.shape[static_cast<size_t>(d)];
    v.data = base + offsets[i];
    std::string why;
    ComputeTensorBytes(t.type, v.n_dims, t.shape.data(), &v.n_bytes, &why);
    FillRandom(t.type, base + offsets[i], static_cast<uint64_t>(v.n_elements()), t.scale, rng);
    ck.tensors[t.name] = NamedTensor{v, ck.path, t.name};
  }
  ck.owned_memory.push_back(std::shared_ptr<const void>(storage, storage.get()));
  ck.notes.push_back("synthetic model: random weights with the shapes of " + name);
  return ck;
}

}  // namespace gemma
