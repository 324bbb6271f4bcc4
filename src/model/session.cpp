#include "model/session.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <thread>

#include "core/quant/dequantize.h"
#include "gemma/error.h"
#include "kernels/ops.h"
#include "model/altup.h"
#include "model/gate_sparsity.h"
#include "model/moe.h"
#include "model/per_layer_embeddings.h"

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

// Prefill chunk: at least one token, at most the context.
int ResolveBatch(int requested, int context_length) {
  return std::max(1, std::min(requested, context_length));
}

void AddRows(float* x, const float* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) x[i] += y[i];
}

}  // namespace

std::vector<float> LayerInverseFrequencies(const LayerConfig& l) {
  std::vector<float> inv(static_cast<size_t>(l.head_dim / 2));
  RopeInverseFrequencies(l.rope.base, l.rope.position_divisor, l.head_dim, inv.data());
  // Pairs past rotated_pairs get angle 0, i.e. pass through.
  if (l.rope.rotated_pairs > 0) std::fill(inv.begin() + l.rope.rotated_pairs, inv.end(), 0.f);
  return inv;
}

Session::Session(std::shared_ptr<const Model> model, const SessionOptions& options)
    : model_(std::move(model)),
      kernels_(SelectKernels(options.isa)),
      context_length_(ResolveContext(model_->config(), options.context_length)),
      max_batch_(ResolveBatch(options.max_batch, context_length_)),
      pool_(ResolveThreads(options.n_threads)),
      cache_(model_->config(), context_length_, max_batch_, options.kv_type),
      scratch_(model_->config(), context_length_, max_batch_, pool_.size()) {}

Session::PlannedBytes Session::Plan(const ModelConfig& config, const SessionOptions& options) {
  const int context_length = ResolveContext(config, options.context_length);
  const int max_batch = ResolveBatch(options.max_batch, context_length);
  const int n_threads = ResolveThreads(options.n_threads);
  PlannedBytes b;
  b.kv_cache = KvCache::EstimateBytes(config, context_length, max_batch, options.kv_type);
  b.scratch = SessionScratch::PlannedBytes(config, context_length, max_batch, n_threads);
  b.kernel_threads = KernelThreadScratchBytes(config, max_batch, n_threads);
  return b;
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

// The one forward pass. Each family-specific step is switched on by ModelConfig data:
// per-layer inputs (per_layer_input_dim), AltUp streams (altup_streams), LAuReL (laurel_rank),
// MoE (n_experts), layer scalars (layer_scalar); see gemma-models.md §2.
void Session::ForwardChunk(const int* tokens, int n, float* all_logits) {
  const ModelConfig& c = model_->config();
  const ModelWeights& w = model_->weights();
  const int64_t d = c.d_model;
  const float eps = c.rms_norm_eps;

  // Token embeddings, scaled (gemma-models.md §2.1).
  for (int t = 0; t < n; ++t) {
    float* xt = scratch_.x.data() + t * d;
    DequantizeRow(w.token_embd.dtype, w.token_embd.row(tokens[t]), xt, d);
    for (int64_t i = 0; i < d; ++i) xt[i] *= w.embed_scale;
  }
  if (c.per_layer_input_dim > 0) {
    ComputePerLayerInputs(kernels_, pool_, c, w, tokens, scratch_.x.data(), n,
                          scratch_.ple_proj.data(), scratch_.ple.data());
  }
  const bool altup = c.altup_streams > 1;
  if (altup) AltupBegin(n);
  FillRopeRotations(n);

  for (int l = 0; l < c.n_layers; ++l) {
    const LayerWeights& L = w.layers[static_cast<size_t>(l)];
    if (altup) AltupPredictLayer(l, n);  // x = the active stream's prediction

    AttentionBlock(l, n);
    FeedForwardBlock(l, n);

    if (altup) {
      AltupCorrectLayer(l, n);
    } else {
      if (c.per_layer_input_dim > 0) {
        PerLayerBranch(kernels_, pool_, c, L, l, scratch_.x.data(), scratch_.ple.data(), n,
                       scratch_.ple_gate.data(), scratch_.proj.data());
        AddRows(scratch_.x.data(), scratch_.proj.data(), n * d);
      }
      // Gemma 4: the learned scalar multiplies the whole residual stream.
      if (c.layer_scalar) {
        for (int64_t i = 0; i < n * d; ++i) scratch_.x[static_cast<size_t>(i)] *= L.layer_scalar;
      }
    }
  }
  if (altup) AltupEnd(n);

  // Final norm and tied output projection, for every row when asked, else the last only.
  const int first = all_logits ? 0 : n - 1;
  for (int t = first; t < n; ++t)
    RmsNorm(&scratch_.x[t * d], w.output_norm.data(), eps, d, &scratch_.normed[t * d]);
  const int64_t V = c.vocab_size;
  float* out = all_logits ? all_logits : scratch_.last_logits.data();
  MatMul(kernels_, pool_, w.token_embd, &scratch_.normed[first * d], n - first, d, out, V);
  for (int t = first; t < n; ++t) {
    float* row = all_logits ? all_logits + t * V : scratch_.last_logits.data();
    if (c.final_softcap > 0) kernels_.soft_cap(row, V, c.final_softcap);
  }
  if (all_logits)
    std::memcpy(scratch_.last_logits.data(), all_logits + (n - 1) * V, sizeof(float) * V);
  position_ += n;
}

// The chunk's RoPE cos | sin per RoPE group and token: cos and sin are taken in double for an
// exactly rounded f32 (RopeRotation), too dear to repeat in every layer (1 % of a prefill).
void Session::FillRopeRotations(int n) {
  for (int g = 0; g < scratch_.rope_groups(); ++g) {
    const int l = scratch_.rope_group_layer(g);
    const int64_t hd = model_->config().layers[static_cast<size_t>(l)].head_dim;
    ForEachToken(n, [&](int t) {
      RopeRotation(static_cast<float>(position_ + t), scratch_.rope_inv_freq(g), hd,
                   scratch_.rope_rotation(g, t));
    });
  }
}

// x += post_norm(W_o attention(norm(x))), plus (Gemma 3n) the LAuReL branch of norm(x).
void Session::AttentionBlock(int l, int n) {
  const ModelConfig& c = model_->config();
  const LayerConfig& lc = c.layers[static_cast<size_t>(l)];
  const LayerWeights& L = model_->weights().layers[static_cast<size_t>(l)];
  const int64_t d = c.d_model;
  const float eps = c.rms_norm_eps;
  const int64_t hd = lc.head_dim;
  const int64_t q_dim = lc.n_heads * hd, kv_dim = lc.n_kv_heads * hd;
  const bool own_kv = !lc.shares_kv(l);

  ForEachToken(n, [&](int t) {
    RmsNorm(&scratch_.x[t * d], L.attn_norm.data(), eps, d, &scratch_.normed[t * d]);
  });
  if (c.laurel_rank > 0) {
    // lau = x + post_norm(W_R W_L x) on the normed input (gemma-models.md §2.5).
    const int64_t r = c.laurel_rank;
    MatMul(kernels_, pool_, L.laurel_l, scratch_.normed.data(), n, d, scratch_.laurel_mid.data(),
           r);
    MatMul(kernels_, pool_, L.laurel_r, scratch_.laurel_mid.data(), n, r, scratch_.laurel.data(),
           d);
    for (int t = 0; t < n; ++t) {
      float* lt = &scratch_.laurel[t * d];
      RmsNorm(lt, L.laurel_post_norm.data(), eps, d, lt);
      AddRows(lt, &scratch_.normed[t * d], d);
    }
  }
  std::array<MatMulTarget, 3> qkv;
  size_t n_qkv = 0;
  qkv[n_qkv++] = {&L.wq, scratch_.q.data(), q_dim};
  if (own_kv) {
    qkv[n_qkv++] = {&L.wk, scratch_.k.data(), kv_dim};
    if (lc.has_v_proj) qkv[n_qkv++] = {&L.wv, scratch_.v.data(), kv_dim};
  }
  MatMulSameInput(kernels_, pool_, {qkv.data(), n_qkv}, scratch_.normed.data(), n, d);
  if (own_kv && !lc.has_v_proj) {
    // K=V layers: V is the raw K projection, before k-norm and RoPE.
    std::memcpy(scratch_.v.data(), scratch_.k.data(),
                sizeof(float) * static_cast<size_t>(n * kv_dim));
  }
  const int rope_group = scratch_.rope_group(l);
  // Per token: q/k norms, RoPE and the cache rows, in parallel (serial, the pool's other threads
  // sat out 2-3 % of a prefill here).
  ForEachToken(n, [&](int t) {
    const float* rotation = scratch_.rope_rotation(rope_group, t);  // all the position's heads
    for (int h = 0; h < lc.n_heads; ++h) {
      float* qh = &scratch_.q[t * q_dim + h * hd];
      if (c.qk_norm) RmsNorm(qh, L.q_norm.data(), eps, hd, qh);
      ApplyRopeRotation(qh, hd, rotation);
      for (int64_t i = 0; i < hd; ++i) qh[i] *= c.query_scale;
    }
    if (!own_kv) return;  // reads the source layer's cache rows
    for (int h = 0; h < lc.n_kv_heads; ++h) {
      float* kh = &scratch_.k[t * kv_dim + h * hd];
      if (c.qk_norm) RmsNorm(kh, L.k_norm.data(), eps, hd, kh);
      ApplyRopeRotation(kh, hd, rotation);
      if (c.v_norm)
        RmsNormNoGain(&scratch_.v[t * kv_dim + h * hd], eps, hd, &scratch_.v[t * kv_dim + h * hd]);
    }
    cache_.Store(l, position_ + t, &scratch_.k[t * kv_dim], &scratch_.v[t * kv_dim], kernels_);
  });
  Attention(l, n);
  MatMul(kernels_, pool_, L.wo, scratch_.attn.data(), n, q_dim, scratch_.proj.data(), d);
  ForEachToken(n, [&](int t) {
    float* pt = &scratch_.proj[t * d];
    if (c.post_norms) RmsNorm(pt, L.post_attn_norm.data(), eps, d, pt);
    float* xt = &scratch_.x[t * d];
    AddRows(xt, pt, d);
    if (c.laurel_rank > 0) {
      const float s = 1.f / std::sqrt(2.f);
      for (int64_t i = 0; i < d; ++i) xt[i] = (xt[i] + scratch_.laurel[t * d + i]) * s;
    }
  });
}

// x += post_norm(GeGLU(norm(x))); with MoE the dense branch and the expert branch are normed
// separately and summed before the post-FFN norm (golden README, Known deviations 11).
void Session::FeedForwardBlock(int l, int n) {
  const ModelConfig& c = model_->config();
  const LayerConfig& lc = c.layers[static_cast<size_t>(l)];
  const LayerWeights& L = model_->weights().layers[static_cast<size_t>(l)];
  const int64_t d = c.d_model;
  const float eps = c.rms_norm_eps;
  const int64_t ff = lc.ff_dim;
  ForEachToken(n, [&](int t) {
    RmsNorm(&scratch_.x[t * d], L.ffn_norm.data(), eps, d, &scratch_.normed[t * d]);
  });
  const std::array<MatMulTarget, 2> gate_up = {MatMulTarget{&L.w_gate, scratch_.gate.data(), ff},
                                               MatMulTarget{&L.w_up, scratch_.up.data(), ff}};
  MatMulSameInput(kernels_, pool_, gate_up, scratch_.normed.data(), n, d);
  ForEachToken(n, [&](int t) {
    float* gate = &scratch_.gate[t * ff];
    if (lc.gate_sparsity_std_mul != 0.f) GaussianTopK(gate, ff, lc.gate_sparsity_std_mul);
    kernels_.gelu_tanh_mul(gate, &scratch_.up[t * ff], ff, gate);
  });
  MatMul(kernels_, pool_, L.w_down, scratch_.gate.data(), n, ff, scratch_.proj.data(), d);
  if (c.n_experts > 0) {
    MoeForward(kernels_, pool_, c, L, scratch_.x.data(), n, scratch_.moe_out.data(), scratch_.moe);
    for (int t = 0; t < n; ++t) {
      float* pt = &scratch_.proj[t * d];
      float* mt = &scratch_.moe_out[t * d];
      RmsNorm(pt, L.post_ffn_norm_1.data(), eps, d, pt);
      RmsNorm(mt, L.post_ffn_norm_2.data(), eps, d, mt);
      AddRows(pt, mt, d);
    }
  }
  ForEachToken(n, [&](int t) {
    float* pt = &scratch_.proj[t * d];
    if (c.post_norms) RmsNorm(pt, L.post_ffn_norm.data(), eps, d, pt);
    AddRows(&scratch_.x[t * d], pt, d);
  });
}

// AltUp (gemma-models.md §2.5 steps 3-5). Streams live in scratch_.altup_streams (stream s of token
// t at (s * max_batch + t) * d); stream 0 is the embedding, the others projections of it rescaled
// to its magnitude.
void Session::AltupBegin(int n) {
  const ModelConfig& c = model_->config();
  const ModelWeights& w = model_->weights();
  const int64_t d = c.d_model, B = max_batch_;
  std::memcpy(scratch_.altup_streams.data(), scratch_.x.data(),
              sizeof(float) * static_cast<size_t>(n * d));
  for (int s = 1; s < c.altup_streams; ++s) {
    float* dst = &scratch_.altup_streams[s * B * d];
    MatMul(kernels_, pool_, w.altup_proj[static_cast<size_t>(s - 1)], scratch_.x.data(), n, d, dst,
           d);
    for (int t = 0; t < n; ++t) RescaleToRms(dst + t * d, d, RootMeanSquare(&scratch_.x[t * d], d));
  }
}

void Session::AltupPredictLayer(int l, int n) {
  const ModelConfig& c = model_->config();
  const LayerWeights& L = model_->weights().layers[static_cast<size_t>(l)];
  const int S = c.altup_streams;
  const int64_t d = c.d_model, B = max_batch_;
  std::vector<const float*> in(static_cast<size_t>(S));
  std::vector<float*> out(static_cast<size_t>(S));
  std::vector<float> modalities(static_cast<size_t>(S));
  for (int t = 0; t < n; ++t) {
    for (int s = 0; s < S; ++s) {
      in[static_cast<size_t>(s)] = &scratch_.altup_streams[(s * B + t) * d];
      out[static_cast<size_t>(s)] = &scratch_.altup_pred[(s * B + t) * d];
    }
    AltupModalities(in[static_cast<size_t>(c.altup_active)], d, L.altup_router_norm.data(),
                    L.altup_router.data(), S, c.rms_norm_eps, modalities.data());
    AltupPredict(in.data(), S, d, modalities.data(), L.altup_predict_coef.data(), out.data());
    std::memcpy(&scratch_.x[t * d], out[static_cast<size_t>(c.altup_active)], sizeof(float) * d);
  }
}

// Correct every stream with the layer output in x, then add the per-layer input branch (fed
// with the corrected active stream times correct_output_scale) to streams 1..S-1, as HF does.
void Session::AltupCorrectLayer(int l, int n) {
  const ModelConfig& c = model_->config();
  const LayerWeights& L = model_->weights().layers[static_cast<size_t>(l)];
  const int S = c.altup_streams;
  const int64_t d = c.d_model, B = max_batch_;
  std::vector<const float*> pred(static_cast<size_t>(S));
  std::vector<float*> out(static_cast<size_t>(S));
  std::vector<float> modalities(static_cast<size_t>(S));
  for (int t = 0; t < n; ++t) {
    for (int s = 0; s < S; ++s) {
      pred[static_cast<size_t>(s)] = &scratch_.altup_pred[(s * B + t) * d];
      out[static_cast<size_t>(s)] = &scratch_.altup_streams[(s * B + t) * d];
    }
    const float* y = &scratch_.x[t * d];
    AltupModalities(y, d, L.altup_router_norm.data(), L.altup_router.data(), S, c.rms_norm_eps,
                    modalities.data());
    AltupCorrect(pred.data(), S, c.altup_active, d, y, modalities.data(),
                 L.altup_correct_coef.data(), out.data());
  }
  if (c.per_layer_input_dim <= 0) return;
  // normed is free here: it holds the PLE branch input.
  for (int t = 0; t < n; ++t) {
    const float* a = &scratch_.altup_streams[(c.altup_active * B + t) * d];
    float* dst = &scratch_.normed[t * d];
    for (int64_t i = 0; i < d; ++i) {
      dst[i] = c.altup_correct_scale ? a[i] * L.altup_correct_scale[static_cast<size_t>(i)] : a[i];
    }
  }
  PerLayerBranch(kernels_, pool_, c, L, l, scratch_.normed.data(), scratch_.ple.data(), n,
                 scratch_.ple_gate.data(), scratch_.proj.data());
  for (int s = 1; s < S; ++s) {
    for (int t = 0; t < n; ++t)
      AddRows(&scratch_.altup_streams[(s * B + t) * d], &scratch_.proj[t * d], d);
  }
}

// Streams 1..S-1 projected back and rescaled to stream 0's magnitude; x = mean of all S.
void Session::AltupEnd(int n) {
  const ModelConfig& c = model_->config();
  const ModelWeights& w = model_->weights();
  const int S = c.altup_streams;
  const int64_t d = c.d_model, B = max_batch_;
  std::memcpy(scratch_.x.data(), scratch_.altup_streams.data(),
              sizeof(float) * static_cast<size_t>(n * d));
  for (int s = 1; s < S; ++s) {
    MatMul(kernels_, pool_, w.altup_unembd_proj[static_cast<size_t>(s - 1)],
           &scratch_.altup_streams[s * B * d], n, d, scratch_.proj.data(), d);
    for (int t = 0; t < n; ++t) {
      float* pt = &scratch_.proj[t * d];
      RescaleToRms(pt, d, RootMeanSquare(&scratch_.altup_streams[t * d], d));
      AddRows(&scratch_.x[t * d], pt, d);
    }
  }
  const float inv = 1.f / static_cast<float>(S);
  for (int64_t i = 0; i < n * d; ++i) scratch_.x[static_cast<size_t>(i)] *= inv;
}

// softmax(q.k + mask) . V per query token and head; GQA maps query head h to KV head
// h / (H / KV). Keys come from the cache (of the source layer for a KV-sharing layer), which
// already holds this chunk's rows. A job is a token's KV head with all its query heads (the
// kernels read each cached row once for them), or, when that leaves threads idle (decode), one
// query head.
void Session::Attention(int layer, int n) {
  const ModelConfig& c = model_->config();
  const LayerConfig& lc = c.layers[static_cast<size_t>(layer)];
  const int kv_layer = lc.shares_kv(layer) ? lc.kv_source_layer : layer;
  const int64_t hd = lc.head_dim;
  const int64_t q_dim = lc.n_heads * hd;
  const int group = lc.n_heads / lc.n_kv_heads;
  const int window = lc.attention == AttentionType::kSliding ? lc.sliding_window : 0;
  const size_t kv_type = static_cast<size_t>(cache_.dtype());
  const KvScoresFn scores_fn = kernels_.kv_scores[kv_type];
  const KvAccumulateFn accumulate_fn = kernels_.kv_accumulate[kv_type];
  const int64_t row = cache_.row_elems(kv_layer);
  const int capacity = cache_.capacity(kv_layer);
  const size_t head_offset_bytes = cache_.bytes_of(hd);
  const int64_t ld = scratch_.scores_ld();
  // Keys start..p sit in ring slots (pos % capacity): at most two contiguous runs of rows.
  auto for_each_run = [&](int start, int n_keys, int kvh, bool key, auto&& fn) {
    for (int j = 0; j < n_keys;) {
      const int pos = start + j;
      const int run = std::min(n_keys - j, capacity - cache_.slot(kv_layer, pos));
      const auto* base = static_cast<const uint8_t*>(key ? cache_.k_row(kv_layer, pos)
                                                         : cache_.v_row(kv_layer, pos));
      fn(base + kvh * head_offset_bytes, j, run);
      j += run;
    }
  };
  const bool whole_groups = int64_t{n} * lc.n_kv_heads >= 2 * pool_.size();
  const int heads_per_job = whole_groups ? group : 1;
  const int jobs_per_token = lc.n_heads / heads_per_job;
  pool_.ParallelFor(int64_t{n} * jobs_per_token, 1, [&](int64_t b, int64_t e, int thread) {
    float* scores = scratch_.scores(thread);
    for (int64_t job = b; job < e; ++job) {
      const int t = static_cast<int>(job / jobs_per_token);
      const int h0 = static_cast<int>(job % jobs_per_token) * heads_per_job;
      const int kvh = h0 / group;
      const int p = position_ + t;
      const int start = window > 0 ? std::max(0, p - window + 1) : 0;
      const float* q = &scratch_.q[t * q_dim + h0 * hd];
      const int n_keys = p - start + 1;
      for_each_run(start, n_keys, kvh, true, [&](const uint8_t* rows, int j, int run) {
        scores_fn(q, heads_per_job, rows, row, run, hd, scores + j, ld);
      });
      for (int h = 0; h < heads_per_job; ++h) {
        float* head_scores = scores + h * ld;
        if (c.attn_softcap > 0) kernels_.soft_cap(head_scores, n_keys, c.attn_softcap);
        kernels_.softmax(head_scores, n_keys);
      }
      float* out = &scratch_.attn[t * q_dim + h0 * hd];
      std::fill(out, out + heads_per_job * hd, 0.f);
      for_each_run(start, n_keys, kvh, false, [&](const uint8_t* rows, int j, int run) {
        accumulate_fn(scores + j, ld, heads_per_job, rows, row, run, hd, out);
      });
    }
  });
}

}  // namespace gemma
