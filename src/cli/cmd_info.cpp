// gemma info: what a model is (architecture, sizes, layer pattern, dtypes, bytes).
#include <fmt/format.h>

#include <iostream>
#include <map>
#include <nlohmann/json.hpp>

#include "cli/command.h"
#include "cli/common.h"
#include "model/kv_cache.h"

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
    const std::string r = fmt::format("{} θ={:g}{}", l.attention == AttentionType::kGlobal ? "global" : "local",
                                      l.rope.base,
                                      l.rope.position_divisor != 1.f
                                          ? fmt::format(" linear÷{:g}", l.rope.position_divisor)
                                          : "");
    if (rope.find(r) == std::string::npos) rope += (rope.empty() ? "" : ", ") + r;
  }
  // Memory at the context a session would use: weights are mapped (resident as touched), the
  // KV cache is allocated (f32 K and V; sliding layers keep only their window).
  const SessionOptions so = MakeSessionOptions(f.model);
  const int ctx = so.context_length > 0 ? so.context_length
                                        : std::min(c.context_length, SessionOptions::kDefaultContextCap);
  const uint64_t kv_bytes = KvCache::EstimateBytes(c, ctx, so.max_batch);
  const uint64_t peak_bytes = ck.WeightBytes() + kv_bytes;
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
    j["weight_bytes"] = ck.WeightBytes();
    j["context"] = ctx;
    j["kv_cache_bytes"] = kv_bytes;
    j["estimated_peak_bytes"] = peak_bytes;
    for (const auto& [name, e] : dtypes) j["dtypes"][name] = {{"tensors", e.first}, {"bytes", e.second}};
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
            << fmt::format("weights:        {} in {} tensors\n", Bytes(ck.WeightBytes()),
                           ck.tensors.size());
  for (const auto& [name, e] : dtypes) {
    std::cout << fmt::format("  {:<6} {:>5} tensors  {}\n", name, e.first, Bytes(e.second));
  }
  std::cout << fmt::format("KV cache:       {} at a context of {} tokens (f32)\n", Bytes(kv_bytes), ctx)
            << fmt::format("peak RAM:       about {} (weights + KV cache, scratch excluded)\n",
                           Bytes(peak_bytes));
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
