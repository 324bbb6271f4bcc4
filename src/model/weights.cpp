#include "model/weights.h"

#include <cmath>

#include "core/quant/dequantize.h"
#include "gemma/error.h"

namespace gemma {
namespace {

class Binder {
 public:
  explicit Binder(const Checkpoint& ck) : ck_(ck) {}

  const NamedTensor& Get(const std::string& name) const {
    const NamedTensor* t = ck_.Find(name);
    if (t == nullptr) {
      Fail(ErrorKind::kFormat, ck_.path + ": missing tensor '" + name + "'" + Hint());
    }
    return *t;
  }

  TensorView Matrix(const std::string& name, int64_t rows, int64_t cols) const {
    const NamedTensor& t = Get(name);
    if (t.view.n_dims != 2 || t.view.dim(0) != rows || t.view.dim(1) != cols) {
      Fail(ErrorKind::kFormat, Where(t, name) + " has shape " + t.view.ShapeString() +
                                   ", expected [" + std::to_string(rows) + ", " +
                                   std::to_string(cols) + "]");
    }
    return t.view;
  }

  bool Has(const std::string& name) const { return ck_.Find(name) != nullptr; }

  // A 3-D tensor [n, rows, cols] (MoE experts, stacked AltUp projections).
  TensorView Stack(const std::string& name, int64_t n, int64_t rows, int64_t cols) const {
    const NamedTensor& t = Get(name);
    if (t.view.n_dims != 3 || t.view.dim(0) != n || t.view.dim(1) != rows ||
        t.view.dim(2) != cols) {
      Fail(ErrorKind::kFormat, Where(t, name) + " has shape " + t.view.ShapeString() +
                                   ", expected [" + std::to_string(n) + ", " +
                                   std::to_string(rows) + ", " + std::to_string(cols) + "]");
    }
    return t.view;
  }

  // A small matrix copied to f32 row-major (AltUp coefficient tables, router).
  std::vector<float> SmallMatrix(const std::string& name, int64_t rows, int64_t cols) const {
    const TensorView v = Matrix(name, rows, cols);
    std::vector<float> out(static_cast<size_t>(rows * cols));
    for (int64_t r = 0; r < rows; ++r) DequantizeRow(v.dtype, v.row(r), &out[r * cols], cols);
    return out;
  }

  std::vector<float> Gain(const std::string& name, int64_t n, float offset) const {
    const NamedTensor& t = Get(name);
    if (t.view.n_elements() != n || t.view.n_dims != 1) {
      Fail(ErrorKind::kFormat, Where(t, name) + " has shape " + t.view.ShapeString() +
                                   ", expected [" + std::to_string(n) + "]");
    }
    std::vector<float> g(static_cast<size_t>(n));
    DequantizeRow(t.view.dtype, t.view.data, g.data(), n);
    // Norm gains are read anyway (tiny), so a NaN/Inf here is caught at load; the big matrices
    // stay unscanned in the mapping.
    for (int64_t i = 0; i < n; ++i) {
      if (!std::isfinite(g[static_cast<size_t>(i)])) {
        Fail(ErrorKind::kFormat, Where(t, name) + " holds a non-finite value at element " +
                                     std::to_string(i) + " (corrupt file?)");
      }
    }
    for (float& v : g) v += offset;
    return g;
  }

 private:
  std::string Where(const NamedTensor& t, const std::string& name) const {
    return t.file + ": tensor '" + (t.file_name.empty() ? name : t.file_name) + "'";
  }
  std::string Hint() const {
    return ck_.format == "safetensors" ? " (Hugging Face names are mapped to GGUF-style names)"
                                       : "";
  }
  const Checkpoint& ck_;
};

// bf16(sqrt(d)) when the embedding is stored in a 16-bit float type (the references round the
// scale to the activation dtype, gemma-models.md §2.1); exact f32 otherwise, as the f32
// references do.
float EmbeddingScale(int d_model, DType embedding_dtype) {
  const float s = std::sqrt(static_cast<float>(d_model));
  if (embedding_dtype == DType::kBF16) return BF16ToF32(F32ToBF16(s));
  if (embedding_dtype == DType::kF16) return F16ToF32(F32ToF16(s));
  return s;
}

[[noreturn]] void BadConfig(const Checkpoint& ck, int layer, const std::string& what) {
  Fail(ErrorKind::kFormat, ck.path + ": layer " + std::to_string(layer) + ": " + what);
}

// Cross-field rules of the per-layer config that the forward pass relies on.
void CheckLayerConfig(const Checkpoint& ck, const ModelConfig& c, int i) {
  const LayerConfig& l = c.layers[static_cast<size_t>(i)];
  if (l.n_heads <= 0 || l.n_kv_heads <= 0 || l.head_dim <= 0 || l.head_dim % 2 != 0 ||
      l.n_heads % l.n_kv_heads != 0 || l.ff_dim <= 0) {
    BadConfig(ck, i, "inconsistent heads / head_dim / ff_dim");
  }
  if (l.rope.rotated_pairs < 0 || l.rope.rotated_pairs > l.head_dim / 2) {
    BadConfig(ck, i, "more rotated RoPE pairs than head_dim / 2");
  }
  if (!l.shares_kv(i)) return;
  if (l.kv_source_layer >= i) BadConfig(ck, i, "shares the KV cache of a later layer");
  const LayerConfig& s = c.layers[static_cast<size_t>(l.kv_source_layer)];
  if (s.shares_kv(l.kv_source_layer) || s.attention != l.attention ||
      s.sliding_window != l.sliding_window || s.head_dim != l.head_dim ||
      s.n_kv_heads != l.n_kv_heads) {
    BadConfig(ck, i,
              "shares the KV cache of layer " + std::to_string(l.kv_source_layer) +
                  ", which has another attention type, window or KV shape");
  }
}

// AltUp projections: one 3-D GGUF tensor [S-1, d, d], or HF's separate matrices under the
// engine-private names "<base>.K.weight" (hf_checkpoint.cpp).
std::vector<TensorView> AltupProjections(const Binder& b, const std::string& base, int n,
                                         int64_t d) {
  std::vector<TensorView> out;
  if (b.Has(base + ".weight")) {
    const TensorView t = b.Stack(base + ".weight", n, d, d);
    for (int k = 0; k < n; ++k) out.push_back(OuterSlice(t, k));
  } else {
    for (int k = 0; k < n; ++k)
      out.push_back(b.Matrix(base + "." + std::to_string(k) + ".weight", d, d));
  }
  return out;
}

}  // namespace

TensorView OuterSlice(const TensorView& t, int64_t index) {
  TensorView v = t;
  v.n_dims = t.n_dims - 1;
  for (int i = 0; i < v.n_dims; ++i)
    v.shape[static_cast<size_t>(i)] = t.shape[static_cast<size_t>(i + 1)];
  v.shape[static_cast<size_t>(v.n_dims)] = 0;
  v.n_bytes = t.n_bytes / static_cast<uint64_t>(t.dim(0));
  v.data = t.data + static_cast<uint64_t>(index) * v.n_bytes;
  return v;
}

TensorView RowRange(const TensorView& t, int64_t row0, int64_t n_rows) {
  TensorView v = t;
  v.shape[0] = n_rows;
  v.data = t.row(row0);
  v.n_bytes = static_cast<uint64_t>(n_rows) * t.row_bytes();
  return v;
}

ModelWeights BindWeights(const Checkpoint& ck, ModelConfig* config) {
  const Binder b(ck);
  ModelConfig& c = *config;
  ModelWeights w;
  const int64_t d = c.d_model;

  const NamedTensor& embd = b.Get("token_embd.weight");
  if (embd.view.n_dims != 2 || embd.view.dim(1) != d || embd.view.dim(0) > (int64_t{1} << 24)) {
    Fail(ErrorKind::kFormat, embd.file + ": token embedding has shape " + embd.view.ShapeString() +
                                 ", expected [vocab, " + std::to_string(d) + "]");
  }
  w.token_embd = embd.view;
  c.vocab_size = static_cast<int>(embd.view.dim(0));
  w.embed_scale = EmbeddingScale(c.d_model, embd.view.dtype);
  w.output_norm = b.Gain("output_norm.weight", d, c.norm_weight_offset);

  const float off = c.norm_weight_offset;
  const int64_t P = c.per_layer_input_dim;
  if (P > 0) {
    const NamedTensor& t = b.Get("per_layer_token_embd.weight");
    if (t.view.n_dims != 2 || t.view.dim(1) != P * c.n_layers) {
      Fail(ErrorKind::kFormat, t.file + ": per-layer token embedding has shape " +
                                   t.view.ShapeString() + ", expected [vocab, " +
                                   std::to_string(P * c.n_layers) + "]");
    }
    w.per_layer_token_embd = t.view;
    w.per_layer_model_proj = b.Matrix("per_layer_model_proj.weight", P * c.n_layers, d);
    w.per_layer_proj_norm = b.Gain("per_layer_proj_norm.weight", P, off);
  }
  const int S = c.altup_streams;
  if (S == 1 || S < 0 || c.altup_active < 0 || (S > 1 && c.altup_active >= S)) {
    Fail(ErrorKind::kFormat,
         ck.path + ": AltUp needs at least 2 streams and an active index below them");
  }
  if (S > 1) {
    w.altup_proj = AltupProjections(b, "altup_proj", S - 1, d);
    w.altup_unembd_proj = AltupProjections(b, "altup_unembd_proj", S - 1, d);
  }
  const int64_t E = c.n_experts, I = c.expert_ff_dim;
  if (E > 0 && (c.n_experts_used <= 0 || c.n_experts_used > E || I <= 0)) {
    Fail(ErrorKind::kFormat, ck.path + ": MoE needs 1..experts used experts and an expert width");
  }

  for (int i = 0; i < c.n_layers; ++i) {
    CheckLayerConfig(ck, c, i);
    const LayerConfig& lc = c.layers[static_cast<size_t>(i)];
    const std::string p = "blk." + std::to_string(i) + ".";
    const int64_t q_dim = int64_t{lc.n_heads} * lc.head_dim;
    const int64_t kv_dim = int64_t{lc.n_kv_heads} * lc.head_dim;
    const bool own_kv = !lc.shares_kv(i);
    LayerWeights L;
    L.attn_norm = b.Gain(p + "attn_norm.weight", d, off);
    L.ffn_norm = b.Gain(p + "ffn_norm.weight", d, off);
    if (c.post_norms) {
      L.post_attn_norm = b.Gain(p + "post_attention_norm.weight", d, off);
      L.post_ffn_norm = b.Gain(p + "post_ffw_norm.weight", d, off);
    }
    if (c.qk_norm) {
      L.q_norm = b.Gain(p + "attn_q_norm.weight", lc.head_dim, off);
      if (own_kv) L.k_norm = b.Gain(p + "attn_k_norm.weight", lc.head_dim, off);
    }
    L.wq = b.Matrix(p + "attn_q.weight", q_dim, d);
    // A KV-sharing layer's own k/v weights, if the checkpoint has them, are never used.
    if (own_kv) L.wk = b.Matrix(p + "attn_k.weight", kv_dim, d);
    if (own_kv && lc.has_v_proj) L.wv = b.Matrix(p + "attn_v.weight", kv_dim, d);
    L.wo = b.Matrix(p + "attn_output.weight", d, q_dim);
    L.w_gate = b.Matrix(p + "ffn_gate.weight", lc.ff_dim, d);
    L.w_up = b.Matrix(p + "ffn_up.weight", lc.ff_dim, d);
    L.w_down = b.Matrix(p + "ffn_down.weight", d, lc.ff_dim);
    if (c.layer_scalar) L.layer_scalar = b.Gain(p + "layer_output_scale.weight", 1, 0.f)[0];
    if (P > 0) {
      L.ple_gate = b.Matrix(p + "inp_gate.weight", P, d);
      L.ple_proj = b.Matrix(p + "proj.weight", d, P);
      L.ple_post_norm = b.Gain(p + "post_norm.weight", d, off);
    }
    if (S > 1) {
      L.altup_router = b.SmallMatrix(p + "altup_router.weight", S, d);
      L.altup_router_norm = b.Gain(p + "altup_router_norm.weight", d, off);
      L.altup_predict_coef = b.SmallMatrix(p + "altup_predict_coef.weight", int64_t{S} * S, S);
      L.altup_correct_coef = b.SmallMatrix(p + "altup_correct_coef.weight", S, S);
      L.altup_correct_scale = b.Gain(p + "altup_correct_scale.weight", d, 0.f);
    }
    if (c.laurel_rank > 0) {
      L.laurel_l = b.Matrix(p + "laurel_l.weight", c.laurel_rank, d);
      L.laurel_r = b.Matrix(p + "laurel_r.weight", d, c.laurel_rank);
      L.laurel_post_norm = b.Gain(p + "laurel_post_norm.weight", d, off);
    }
    if (E > 0) {
      L.router = b.Matrix(p + "ffn_gate_inp.weight", E, d);
      L.router_scale = b.Gain(p + "ffn_gate_inp.scale", d, 0.f);
      L.expert_scale = b.Gain(p + "ffn_down_exps.scale", E, 0.f);
      if (b.Has(p + "ffn_gate_up_exps.weight")) {
        L.exp_gate_up = b.Stack(p + "ffn_gate_up_exps.weight", E, 2 * I, d);
      } else {
        L.exp_gate = b.Stack(p + "ffn_gate_exps.weight", E, I, d);
        L.exp_up = b.Stack(p + "ffn_up_exps.weight", E, I, d);
      }
      L.exp_down = b.Stack(p + "ffn_down_exps.weight", E, d, I);
      L.pre_ffn_norm_2 = b.Gain(p + "pre_ffw_norm_2.weight", d, off);
      L.post_ffn_norm_1 = b.Gain(p + "post_ffw_norm_1.weight", d, off);
      L.post_ffn_norm_2 = b.Gain(p + "post_ffw_norm_2.weight", d, off);
    }
    w.layers.push_back(std::move(L));
  }
  return w;
}

uint64_t DecodeReadBytes(const ModelWeights& w, const ModelConfig& c, uint64_t total_bytes) {
  uint64_t unread = 0;
  if (w.per_layer_token_embd.data != nullptr) {
    unread += w.per_layer_token_embd.n_bytes - w.per_layer_token_embd.row_bytes();
  }
  if (c.n_experts > 0) {
    for (const LayerWeights& l : w.layers) {
      for (const TensorView* t : {&l.exp_gate_up, &l.exp_gate, &l.exp_up, &l.exp_down}) {
        if (t->data == nullptr) continue;
        unread += t->n_bytes / static_cast<uint64_t>(c.n_experts) *
                  static_cast<uint64_t>(c.n_experts - c.n_experts_used);
      }
    }
  }
  return total_bytes > unread ? total_bytes - unread : 0;
}

}  // namespace gemma
