// gemma info: what a model is (architecture, sizes, layer pattern, dtypes, bytes).
#include <fmt/format.h>

#include <iostream>
#include <map>
#include <nlohmann/json.hpp>

#include "cli/command.h"
#include "cli/common.h"
#include "model/kv_cache.h"
#include "model/memory_plan.h"

namespace gemma::cli {
namespace {

struct InfoFlags {
  ModelFlags model;
  bool json = false;
};

std::string Bytes(uint64_t b) {
  if (b >= (1ull << 30)) return fmt::format("{:.2f} GiB", b / double(1ull << 30));
  if (b >= (1ull << 20)) return fmt::format("{:.2f} MiB", b / double(1ull << 20));
  return fmt::format("{:.1f} KiB", b / 1024.0);
}

int Run(const InfoFlags& f) {
  auto model = LoadModel(f.model);
  const ModelConfig& c = model->config();
  const Checkpoint& ck = model->checkpoint();
  std::map<std::string, std::pair<int, uint64_t>> dtypes;  // dtype -> (tensors, bytes)
  for (const auto& [name, t] : ck.tensors) {
    auto& e = dtypes[std::string(DTypeName(t.view.dtype))];
    ++e.first;
    e.second += t.view.n_bytes;
  }
  const LayerConfig& l0 = c.layers.front();
  std::string rope;
  for (const LayerConfig& l : c.layers) {
    const std::string r = fmt::format(
        "{} θ={:g}{}{}", l.attention == AttentionType::kGlobal ? "global" : "local", l.rope.base,
        l.rope.position_divisor != 1.f ? fmt::format(" linear÷{:g}", l.rope.position_divisor) : "",
        l.rope.rotated_pairs > 0
            ? fmt::format(" proportional {}/{} pairs", l.rope.rotated_pairs, l.head_dim / 2)
            : "");
    if (rope.find(r) == std::string::npos) rope += (rope.empty() ? "" : ", ") + r;
  }
  // Gemma 3n / Gemma 4 features, one phrase each (empty for Gemma 1-3).
  std::vector<std::string> features;
  const int shared = c.SharedKvLayers();
  int global_hd = 0, global_kv = 0, k_eq_v = 0;
  for (const LayerConfig& l : c.layers) {
    if (l.attention == AttentionType::kGlobal && l.head_dim != l0.head_dim) global_hd = l.head_dim;
    if (l.attention == AttentionType::kGlobal && l.n_kv_heads != l0.n_kv_heads)
      global_kv = l.n_kv_heads;
    k_eq_v += !l.has_v_proj;
  }
  if (global_hd) features.push_back(fmt::format("global head_dim {}", global_hd));
  if (global_kv) features.push_back(fmt::format("global kv heads {}", global_kv));
  if (k_eq_v) features.push_back(fmt::format("K=V on {} layers", k_eq_v));
  if (shared) features.push_back(fmt::format("KV sharing on the last {} layers", shared));
  if (c.per_layer_input_dim)
    features.push_back(fmt::format("per-layer inputs {}", c.per_layer_input_dim));
  if (c.altup_streams > 1) features.push_back(fmt::format("AltUp {} streams", c.altup_streams));
  if (c.laurel_rank) features.push_back(fmt::format("LAuReL rank {}", c.laurel_rank));
  int sparse = 0;
  for (const LayerConfig& l : c.layers) sparse += l.gate_sparsity_std_mul != 0.f;
  if (sparse) features.push_back(fmt::format("gate sparsity on {} layers", sparse));
  if (c.n_experts) {
    features.push_back(
        fmt::format("MoE {} experts x {}, top-{}", c.n_experts, c.expert_ff_dim, c.n_experts_used));
  }
  if (c.layer_scalar) features.push_back("layer scalars");
  if (c.v_norm) features.push_back("V-norm");
  std::string feature_line;
  for (const std::string& f : features) feature_line += (feature_line.empty() ? "" : ", ") + f;

  // Memory at the context a session would use: weights are mapped (resident as touched), the
  // KV cache is allocated (sliding layers keep only their window). Reported, never refused here.
  const SessionOptions defaults;
  const std::optional<uint64_t> available = AvailableMemoryBytes();
  const DType kv_type = ParseKvType(f.model.kv_type);
  const int ctx = ChooseContextLength(*model, f.model.ctx_size, defaults.max_batch,
                                      SessionOptions::kDefaultContextCap, available, kv_type);
  const MemoryPlan plan = PlanMemory(*model, ctx, defaults.max_batch, kv_type);
  const uint64_t kv_bytes = plan.kv_cache_bytes;
  const uint64_t peak_bytes = plan.total();
  if (f.json) {
    nlohmann::json j;
    j["path"] = ck.path;
    j["format"] = ck.format;
    j["architecture"] = c.architecture;
    j["family"] = FamilyName(c.family);
    j["d_model"] = c.d_model;
    j["n_layers"] = c.n_layers;
    j["n_heads"] = l0.n_heads;
    j["n_kv_heads"] = l0.n_kv_heads;
    j["head_dim"] = l0.head_dim;
    j["ff_dim"] = l0.ff_dim;
    j["vocab_size"] = c.vocab_size;
    j["context_length"] = c.context_length;
    j["sliding_window"] = c.MaxSlidingWindow();
    j["layer_pattern"] = c.LayerPatternString();
    j["query_scale"] = c.query_scale;
    j["attn_softcap"] = c.attn_softcap;
    j["final_softcap"] = c.final_softcap;
    j["qk_norm"] = c.qk_norm;
    j["v_norm"] = c.v_norm;
    j["kv_shared_layers"] = shared;
    j["per_layer_input_dim"] = c.per_layer_input_dim;
    j["altup_streams"] = c.altup_streams;
    j["laurel_rank"] = c.laurel_rank;
    j["n_experts"] = c.n_experts;
    j["n_experts_used"] = c.n_experts_used;
    j["expert_ff_dim"] = c.expert_ff_dim;
    j["layer_scalar"] = c.layer_scalar;
    j["global_head_dim"] = global_hd ? global_hd : l0.head_dim;
    j["weight_bytes"] = ck.WeightBytes();
    j["context"] = ctx;
    j["kv_cache_bytes"] = kv_bytes;
    j["estimated_peak_bytes"] = peak_bytes;
    j["scratch_bytes"] = plan.scratch_bytes;
    if (available) j["available_bytes"] = *available;
    for (const auto& [name, e] : dtypes)
      j["dtypes"][name] = {{"tensors", e.first}, {"bytes", e.second}};
    j["notes"] = ck.notes;
    std::cout << j.dump(2) << '\n';
    return kExitOk;
  }
  std::cout << fmt::format("model:          {}\n", ck.path)
            << fmt::format("format:         {}\n", ck.format)
            << fmt::format("architecture:   {} ({})\n", c.architecture, FamilyName(c.family))
            << fmt::format("layers:         {}\n", c.n_layers)
            << fmt::format("d_model:        {}\n", c.d_model)
            << fmt::format("heads:          {} query, {} kv, head_dim {}\n", l0.n_heads,
                           l0.n_kv_heads, l0.head_dim)
            << fmt::format("ff_dim:         {}\n", l0.ff_dim)
            << fmt::format("vocab:          {}\n", c.vocab_size)
            << fmt::format("context:        {}\n", c.context_length)
            << fmt::format("layer pattern:  {} (L = sliding window {}, G = global)\n",
                           c.LayerPatternString(), c.MaxSlidingWindow())
            << fmt::format("rope:           {}\n", rope)
            << fmt::format("query scale:    {:g}\n", c.query_scale)
            << fmt::format("softcaps:       attention {}, final {}\n",
                           c.attn_softcap > 0 ? fmt::format("{:g}", c.attn_softcap) : "none",
                           c.final_softcap > 0 ? fmt::format("{:g}", c.final_softcap) : "none")
            << fmt::format("qk-norm:        {}\n", c.qk_norm ? "yes" : "no")
            << (feature_line.empty() ? "" : fmt::format("features:       {}\n", feature_line))
            << fmt::format("weights:        {} in {} tensors\n", Bytes(ck.WeightBytes()),
                           ck.tensors.size());
  for (const auto& [name, e] : dtypes) {
    std::cout << fmt::format("  {:<6} {:>5} tensors  {}\n", name, e.first, Bytes(e.second));
  }
  std::cout << fmt::format("KV cache:       {} at a context of {} tokens ({})\n", Bytes(kv_bytes),
                           ctx, DTypeName(kv_type))
            << fmt::format(
                   "peak RAM:       about {} (weights + KV cache + scratch){}\n", Bytes(peak_bytes),
                   !available ? ""
                   : peak_bytes <= *available
                       ? fmt::format("; {} available", Bytes(*available))
                       : fmt::format("; DOES NOT FIT in the {} available", Bytes(*available)));
  for (const std::string& note : ck.notes) std::cout << "note: " << note << '\n';
  return kExitOk;
}

}  // namespace

Command MakeInfoCommand() {
  auto f = std::make_shared<InfoFlags>();
  Command c;
  c.name = "info";
  c.summary = "Describe a model: architecture, sizes, layer pattern, dtypes, bytes";
  c.define = [f](CLI::App& app) {
    AddModelFlags(app, &f->model);
    app.add_flag("--json", f->json, "Machine-readable output");
    app.footer("Example:\n  gemma info -m ~/models/gemma-3-1b-it");
  };
  c.run = [f] { return Run(*f); };
  return c;
}

}  // namespace gemma::cli
