#include "model/session.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <thread>

#include "core/quant/dequantize.h"
#include "gemma/error.h"
#include "kernels/ops.h"

namespace gemma {
namespace {

int ResolveThreads(int requested) {
  if (requested > 0) return requested;
  return std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
}

int ResolveContext(const ModelConfig& c, int requested) {
  if (requested < 0) Fail(ErrorKind::kUsage, "context size must be positive");
  if (requested == 0) return std::min(c.context_length, SessionOptions::kDefaultContextCap);
  return requested;
}

}  // namespace

Session::Session(std::shared_ptr<const Model> model, const SessionOptions& options)
    : model_(std::move(model)),
      kernels_(SelectKernels(options.isa)),
      context_length_(ResolveContext(model_->config(), options.context_length)),
      max_batch_(std::max(1, std::min(options.max_batch, context_length_))),
      pool_(ResolveThreads(options.n_threads)),
      cache_(model_->config(), context_length_, max_batch_) {
  const ModelConfig& c = model_->config();
  int64_t q_max = 0, kv_max = 0, ff_max = 0, keys_max = 0;
  for (const LayerConfig& l : c.layers) {
    q_max = std::max<int64_t>(q_max, int64_t{l.n_heads} * l.head_dim);
    kv_max = std::max<int64_t>(kv_max, int64_t{l.n_kv_heads} * l.head_dim);
    ff_max = std::max<int64_t>(ff_max, l.ff_dim);
    std::vector<float> inv(static_cast<size_t>(l.head_dim / 2));
    RopeInverseFrequencies(l.rope.base, l.rope.position_divisor, l.head_dim, inv.data());
    inv_freq_.push_back(std::move(inv));
  }
  for (int i = 0; i < c.n_layers; ++i) keys_max = std::max<int64_t>(keys_max, cache_.capacity(i));
  const auto B = static_cast<size_t>(max_batch_);
  const auto d = static_cast<size_t>(c.d_model);
  x_.resize(B * d);
  normed_.resize(B * d);
  proj_.resize(B * d);
  q_.resize(B * static_cast<size_t>(q_max));
  attn_.resize(B * static_cast<size_t>(q_max));
  k_.resize(B * static_cast<size_t>(kv_max));
  v_.resize(B * static_cast<size_t>(kv_max));
  gate_.resize(B * static_cast<size_t>(ff_max));
  up_.resize(B * static_cast<size_t>(ff_max));
  scores_.assign(static_cast<size_t>(pool_.size()), std::vector<float>(static_cast<size_t>(keys_max)));
  last_logits_.assign(static_cast<size_t>(c.vocab_size), 0.f);
}

void Session::Rewind(int position) {
  // A sliding-window ring still holds the keys a rewound position needs as long as fewer than
  // max_batch positions were written after it (the ring's slack beyond the window).
  const bool exact = position == 0 || position_ - position < max_batch_;
  if (position < 0 || position > position_ || !exact) {
    Fail(ErrorKind::kUsage, "cannot rewind from position " + std::to_string(position_) + " to " +
                                std::to_string(position));
  }
  position_ = position;
}

void Session::Forward(const int* tokens, int n, float* all_logits) {
  const ModelConfig& c = model_->config();
  if (n <= 0) return;
  if (static_cast<int64_t>(position_) + n > context_length_) {
    Fail(ErrorKind::kContextOverflow,
         "input of " + std::to_string(n) + " tokens at position " + std::to_string(position_) +
             " does not fit the context of " + std::to_string(context_length_) + " tokens");
  }
  for (int i = 0; i < n; ++i) {
    if (tokens[i] < 0 || tokens[i] >= c.vocab_size) {
      Fail(ErrorKind::kUsage, "token id " + std::to_string(tokens[i]) +
                                  " is outside the vocabulary (0.." +
                                  std::to_string(c.vocab_size - 1) + ")");
    }
  }
  for (int done = 0; done < n;) {
    const int chunk = std::min(max_batch_, n - done);
    ForwardChunk(tokens + done, chunk,
                 all_logits ? all_logits + static_cast<int64_t>(done) * c.vocab_size : nullptr);
    done += chunk;
  }
}

void Session::ForwardChunk(const int* tokens, int n, float* all_logits) {
  const ModelConfig& c = model_->config();
  const ModelWeights& w = model_->weights();
  const int64_t d = c.d_model;
  const float eps = c.rms_norm_eps;

  // Token embeddings, scaled (gemma-models.md §2.1).
  for (int t = 0; t < n; ++t) {
    float* xt = x_.data() + t * d;
    DequantizeRow(w.token_embd.dtype, w.token_embd.row(tokens[t]), xt, d);
    for (int64_t i = 0; i < d; ++i) xt[i] *= w.embed_scale;
  }

  for (int l = 0; l < c.n_layers; ++l) {
    const LayerConfig& lc = c.layers[static_cast<size_t>(l)];
    const LayerWeights& L = w.layers[static_cast<size_t>(l)];
    const int64_t hd = lc.head_dim;
    const int64_t q_dim = lc.n_heads * hd, kv_dim = lc.n_kv_heads * hd;

    // Attention block.
    for (int t = 0; t < n; ++t) RmsNorm(&x_[t * d], L.attn_norm.data(), eps, d, &normed_[t * d]);
    MatMul(kernels_, pool_, L.wq, normed_.data(), n, d, q_.data(), q_dim);
    MatMul(kernels_, pool_, L.wk, normed_.data(), n, d, k_.data(), kv_dim);
    MatMul(kernels_, pool_, L.wv, normed_.data(), n, d, v_.data(), kv_dim);
    const float* inv_freq = inv_freq_[static_cast<size_t>(l)].data();
    for (int t = 0; t < n; ++t) {
      const float pos = static_cast<float>(position_ + t);
      for (int h = 0; h < lc.n_heads; ++h) {
        float* qh = &q_[t * q_dim + h * hd];
        if (c.qk_norm) RmsNorm(qh, L.q_norm.data(), eps, hd, qh);
        ApplyRope(qh, hd, pos, inv_freq);
        for (int64_t i = 0; i < hd; ++i) qh[i] *= c.query_scale;
      }
      for (int h = 0; h < lc.n_kv_heads; ++h) {
        float* kh = &k_[t * kv_dim + h * hd];
        if (c.qk_norm) RmsNorm(kh, L.k_norm.data(), eps, hd, kh);
        ApplyRope(kh, hd, pos, inv_freq);
      }
      std::memcpy(cache_.k(l, position_ + t), &k_[t * kv_dim], sizeof(float) * kv_dim);
      std::memcpy(cache_.v(l, position_ + t), &v_[t * kv_dim], sizeof(float) * kv_dim);
    }
    Attention(l, n);
    MatMul(kernels_, pool_, L.wo, attn_.data(), n, q_dim, proj_.data(), d);
    for (int t = 0; t < n; ++t) {
      float* pt = &proj_[t * d];
      if (c.post_norms) RmsNorm(pt, L.post_attn_norm.data(), eps, d, pt);
      float* xt = &x_[t * d];
      for (int64_t i = 0; i < d; ++i) xt[i] += pt[i];
    }

    // MLP block (GeGLU).
    const int64_t ff = lc.ff_dim;
    for (int t = 0; t < n; ++t) RmsNorm(&x_[t * d], L.ffn_norm.data(), eps, d, &normed_[t * d]);
    MatMul(kernels_, pool_, L.w_gate, normed_.data(), n, d, gate_.data(), ff);
    MatMul(kernels_, pool_, L.w_up, normed_.data(), n, d, up_.data(), ff);
    GeluTanhMul(gate_.data(), up_.data(), n * ff, gate_.data());
    MatMul(kernels_, pool_, L.w_down, gate_.data(), n, ff, proj_.data(), d);
    for (int t = 0; t < n; ++t) {
      float* pt = &proj_[t * d];
      if (c.post_norms) RmsNorm(pt, L.post_ffn_norm.data(), eps, d, pt);
      float* xt = &x_[t * d];
      for (int64_t i = 0; i < d; ++i) xt[i] += pt[i];
    }
  }

  // Final norm and tied output projection, for every row when asked, else the last only.
  const int first = all_logits ? 0 : n - 1;
  for (int t = first; t < n; ++t) RmsNorm(&x_[t * d], w.output_norm.data(), eps, d, &normed_[t * d]);
  const int64_t V = c.vocab_size;
  float* out = all_logits ? all_logits : last_logits_.data();
  MatMul(kernels_, pool_, w.token_embd, &normed_[first * d], n - first, d, out, V);
  for (int t = first; t < n; ++t) {
    float* row = all_logits ? all_logits + t * V : last_logits_.data();
    if (c.final_softcap > 0) SoftCap(row, V, c.final_softcap);
  }
  if (all_logits) std::memcpy(last_logits_.data(), all_logits + (n - 1) * V, sizeof(float) * V);
  position_ += n;
}

// softmax(q.k + mask) . V per query token and head; GQA maps query head h to KV head
// h / (H / KV). Keys come from the cache, which already holds this chunk's rows.
void Session::Attention(int layer, int n) {
  const ModelConfig& c = model_->config();
  const LayerConfig& lc = c.layers[static_cast<size_t>(layer)];
  const int64_t hd = lc.head_dim;
  const int64_t q_dim = lc.n_heads * hd;
  const int group = lc.n_heads / lc.n_kv_heads;
  const int window = lc.attention == AttentionType::kSliding ? lc.sliding_window : 0;
  pool_.ParallelFor(int64_t{n} * lc.n_heads, 1, [&](int64_t b, int64_t e, int thread) {
    float* scores = scores_[static_cast<size_t>(thread)].data();
    for (int64_t job = b; job < e; ++job) {
      const int t = static_cast<int>(job / lc.n_heads);
      const int h = static_cast<int>(job % lc.n_heads);
      const int kvh = h / group;
      const int p = position_ + t;
      const int start = window > 0 ? std::max(0, p - window + 1) : 0;
      const float* q = &q_[t * q_dim + h * hd];
      const int n_keys = p - start + 1;
      for (int j = 0; j < n_keys; ++j) {
        const float* k = cache_.k(layer, start + j) + kvh * hd;
        float s = 0;
        for (int64_t i = 0; i < hd; ++i) s += q[i] * k[i];
        scores[j] = s;
      }
      if (c.attn_softcap > 0) SoftCap(scores, n_keys, c.attn_softcap);
      Softmax(scores, n_keys);
      float* out = &attn_[t * q_dim + h * hd];
      std::fill(out, out + hd, 0.f);
      for (int j = 0; j < n_keys; ++j) {
        const float* v = cache_.v(layer, start + j) + kvh * hd;
        const float pj = scores[j];
        for (int64_t i = 0; i < hd; ++i) out[i] += pj * v[i];
      }
    }
  });
}

}  // namespace gemma
