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

  std::vector<float> Gain(const std::string& name, int64_t n, float offset) const {
    const NamedTensor& t = Get(name);
    if (t.view.n_elements() != n || t.view.n_dims != 1) {
      Fail(ErrorKind::kFormat, Where(t, name) + " has shape " + t.view.ShapeString() +
                                   ", expected [" + std::to_string(n) + "]");
    }
    std::vector<float> g(static_cast<size_t>(n));
    DequantizeRow(t.view.dtype, t.view.data, g.data(), n);
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

}  // namespace

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
  for (int i = 0; i < c.n_layers; ++i) {
    const LayerConfig& lc = c.layers[static_cast<size_t>(i)];
    const std::string p = "blk." + std::to_string(i) + ".";
    const int64_t q_dim = int64_t{lc.n_heads} * lc.head_dim;
    const int64_t kv_dim = int64_t{lc.n_kv_heads} * lc.head_dim;
    LayerWeights L;
    L.attn_norm = b.Gain(p + "attn_norm.weight", d, off);
    L.ffn_norm = b.Gain(p + "ffn_norm.weight", d, off);
    if (c.post_norms) {
      L.post_attn_norm = b.Gain(p + "post_attention_norm.weight", d, off);
      L.post_ffn_norm = b.Gain(p + "post_ffw_norm.weight", d, off);
    }
    if (c.qk_norm) {
      L.q_norm = b.Gain(p + "attn_q_norm.weight", lc.head_dim, off);
      L.k_norm = b.Gain(p + "attn_k_norm.weight", lc.head_dim, off);
    }
    L.wq = b.Matrix(p + "attn_q.weight", q_dim, d);
    L.wk = b.Matrix(p + "attn_k.weight", kv_dim, d);
    L.wv = b.Matrix(p + "attn_v.weight", kv_dim, d);
    L.wo = b.Matrix(p + "attn_output.weight", d, q_dim);
    L.w_gate = b.Matrix(p + "ffn_gate.weight", lc.ff_dim, d);
    L.w_up = b.Matrix(p + "ffn_up.weight", lc.ff_dim, d);
    L.w_down = b.Matrix(p + "ffn_down.weight", d, lc.ff_dim);
    w.layers.push_back(std::move(L));
  }
  return w;
}

}  // namespace gemma
