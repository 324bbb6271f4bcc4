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

  float query_scale = 1.f;     // multiplies q before q.k (qpas^-1/2)
  float attn_softcap = 0.f;    // 0 = none; Gemma 2: 50
  float final_softcap = 0.f;   // 0 = none; Gemma 2: 30

  std::vector<LayerConfig> layers;

  int bos_id = 2;
  int pad_id = 0;
  std::vector<int> eos_ids;  // generation stops on any of these

  // Helpers over the per-layer data.
  int MaxSlidingWindow() const;
  bool HasGlobalLayers() const;
  std::string LayerPatternString() const;  // e.g. "LLLLLG LLLLLG ..."
};

// Query scale that llama.cpp derives for Gemma 2/3 GGUF files, which do not store
// query_pre_attn_scalar (gemma-models.md §3.2): the 27B sizes (46 layers for Gemma 2,
// 62 for Gemma 3) use (d/H)^-1/2, every other size head_dim^-1/2.
float GgufGemmaQueryScale(ModelFamily family, int n_layers, int d_model, int n_heads,
                          int head_dim);

// Layer i is global iff (i + 1) % period == 0 (Gemma 3: period 6; Gemma 2: period 2, so even
// layers are local). gemma-models.md §1.1.
bool IsGlobalLayerInPattern(int layer, int period);

}  // namespace gemma
