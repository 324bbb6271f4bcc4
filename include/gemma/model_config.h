// ModelConfig: everything the forward pass needs to know about an architecture, as data.
// Every checkpoint format fills this one struct; families differ only by its fields
// (reference: shared docs gemma-models.md §1-§2).
#pragma once

#include <string>
#include <vector>

namespace gemma {

enum class ModelFamily { kGemma1, kGemma2, kGemma3, kGemma3n, kGemma4 };
const char* FamilyName(ModelFamily f);

enum class AttentionType { kGlobal, kSliding };

// Far above any real model (Gemma: at most 62 layers); readers refuse more before sizing
// per-layer tables from a file's claim.
inline constexpr int kMaxLayers = 4096;

struct RopeConfig {
  float base = 10000.f;
  // Linear scaling: positions are divided by this (Gemma 3 >= 4B global layers: 8).
  float position_divisor = 1.f;
  // Frequency pairs that rotate, 0 = all head_dim/2. Gemma 4 global layers use "proportional"
  // RoPE: only the first partial_rotary_factor * head_dim / 2 pairs rotate, with the exponent
  // still over the full head_dim; the rest pass through (gemma-models.md §2.1).
  int rotated_pairs = 0;
};

struct LayerConfig {
  AttentionType attention = AttentionType::kGlobal;
  // Keys a query may see, itself included (p - W < j <= p); 0 on global layers.
  int sliding_window = 0;
  int n_heads = 0;
  int n_kv_heads = 0;
  int head_dim = 0;
  int ff_dim = 0;
  RopeConfig rope;
  // Layer whose K/V cache this layer reads (Gemma 3n/4 KV sharing: the last non-shared layer of
  // the same type); -1 = its own. A sharing layer computes only Q.
  int kv_source_layer = -1;
  // false: K=V layer (Gemma 4 global layers of 26B/31B) with no v_proj; V is the raw K
  // projection, before k-norm and RoPE.
  bool has_v_proj = true;
  // Gemma 3n: gate activations are cut at mean + mul * std (population std) before GELU;
  // 0 = dense layer.
  float gate_sparsity_std_mul = 0.f;

  bool shares_kv(int self) const { return kv_source_layer >= 0 && kv_source_layer != self; }
};

struct ModelConfig {
  ModelFamily family = ModelFamily::kGemma1;
  std::string architecture;  // GGUF spelling: gemma, gemma2, gemma3, ...
  int d_model = 0;
  int n_layers = 0;
  int vocab_size = 0;  // rows of the embedding tensor, not the config's claim
  int context_length = 0;
  float rms_norm_eps = 1e-6f;

  // RMSNorm gain is (norm_weight_offset + w): 1 for HF Gemma 1-3 (zero-centred weights),
  // 0 for GGUF Gemma 1-3 (the converter stored 1 + w) and for Gemma 3n/4 everywhere.
  float norm_weight_offset = 0.f;
  bool post_norms = false;  // Gemma 2+: norms after attention and MLP too ("sandwich")
  bool qk_norm = false;     // Gemma 3+: RMSNorm over head_dim on q and k, before RoPE

  float query_scale = 1.f;    // multiplies q before q.k (qpas^-1/2)
  float attn_softcap = 0.f;   // 0 = none; Gemma 2: 50
  float final_softcap = 0.f;  // 0 = none; Gemma 2: 30
  bool v_norm = false;        // Gemma 3n/4: weight-less RMSNorm over head_dim on v

  // Gemma 4: a learned scalar multiplies the whole residual stream at the end of every layer.
  bool layer_scalar = false;
  // Per-layer input embeddings (Gemma 3n, Gemma 4 E-models): width per layer, 0 = none.
  int per_layer_input_dim = 0;
  // AltUp (Gemma 3n): number of residual streams (0 = plain single stream) and the one that
  // goes through attention and MLP; whether the corrected active stream is scaled before PLE.
  int altup_streams = 0;
  int altup_active = 0;
  bool altup_correct_scale = true;
  int laurel_rank = 0;  // Gemma 3n LAuReL low-rank residual branch, 0 = none

  // Gemma 4 MoE (26B-A4B): every layer has these experts beside its dense MLP.
  int n_experts = 0;
  int n_experts_used = 0;
  int expert_ff_dim = 0;

  std::vector<LayerConfig> layers;

  int bos_id = 2;
  int pad_id = 0;
  std::vector<int> eos_ids;  // generation stops on any of these

  // Helpers over the per-layer data.
  int MaxSlidingWindow() const;
  bool HasGlobalLayers() const;
  int SharedKvLayers() const;
  std::string LayerPatternString() const;  // e.g. "LLLLLG LLLLLG ..."
};

// Query scale that llama.cpp derives for Gemma 2/3 GGUF files, which do not store
// query_pre_attn_scalar (gemma-models.md §3.2): the 27B sizes (46 layers for Gemma 2,
// 62 for Gemma 3) use (d/H)^-1/2, every other size head_dim^-1/2.
float GgufGemmaQueryScale(ModelFamily family, int n_layers, int d_model, int n_heads, int head_dim);

// Sets kv_source_layer of the last `n_shared` layers to the last earlier layer of the same
// attention type (HF Gemma 3n/4 rule); Fails with kFormat when there is none. `origin` names
// the file for the message.
void AssignSharedKvLayers(ModelConfig* config, int n_shared, const std::string& origin);

// Inverse of the standard normal CDF (Gemma 3n activation sparsity: the gate cut-off is
// mean + Phi^-1(p) * std for target sparsity p). 0 < p < 1.
double NormalQuantile(double p);

// Layer i is global iff (i + 1) % period == 0 (Gemma 3: period 6; Gemma 2: period 2, so even
// layers are local). gemma-models.md §1.1.
bool IsGlobalLayerInPattern(int layer, int period);

}  // namespace gemma
