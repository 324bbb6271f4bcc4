// Session: one conversation's state over a shared Model: position, KV cache, scratch buffers,
// kernel table and thread pool. Forward() runs the one forward pass for every Gemma family,
// reading ModelConfig to decide what each layer does.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "kernels/kernels.h"
#include "kernels/thread_pool.h"
#include "model/kv_cache.h"
#include "model/model.h"
#include "model/session_scratch.h"

namespace gemma {

struct SessionOptions {
  int context_length = 0;  // 0: the model's, capped at kDefaultContextCap
  int n_threads = 0;       // 0: hardware concurrency
  std::string isa;         // "" / "auto", "scalar", "avx2", ...
  int max_batch = 256;     // prefill chunk; also sizes sliding-window rings
  // KV cache storage: F32 (exact, the library default), F16 or BF16 (half the memory and
  // bandwidth; the CLI's default is F16, as llama.cpp's).
  DType kv_type = DType::kF32;
  static constexpr int kDefaultContextCap = 8192;
};

// Inverse RoPE frequencies of a layer: base^(-2i/head_dim) / position_divisor for the pairs that
// rotate, 0 for the rest (proportional RoPE keeps the exponent over the full head_dim).
std::vector<float> LayerInverseFrequencies(const LayerConfig& layer);

class Session {
 public:
  Session(std::shared_ptr<const Model> model, const SessionOptions& options);

  // Runs `n` tokens at positions position() .. position()+n-1 (prefill when n > 1, decode when
  // n == 1). If `all_logits` is not null it receives n rows of vocab_size logits; the last row
  // is always available from logits(). Throws Error(kContextOverflow) if the tokens do not fit,
  // Error(kUsage) for ids outside the vocabulary.
  void Forward(const int* tokens, int n, float* all_logits = nullptr);
  void Forward(const std::vector<int>& tokens, float* all_logits = nullptr) {
    Forward(tokens.data(), static_cast<int>(tokens.size()), all_logits);
  }

  const std::vector<float>& logits() const { return scratch_.last_logits; }
  int position() const { return position_; }
  int context_length() const { return context_length_; }
  // Forget every token after `position` (0 clears the conversation).
  void Rewind(int position);

  const Model& model() const { return *model_; }
  const KernelTable& kernels() const { return kernels_; }
  int n_threads() const { return pool_.size(); }
  uint64_t kv_cache_bytes() const { return cache_.bytes(); }
  // Bytes of every scratch buffer this Session owns (SessionScratch), from their capacities.
  uint64_t scratch_bytes() const { return scratch_.allocated_bytes(); }

  // What a Session with these options allocates, computed without allocating: the options are
  // resolved as the constructor resolves them and sized by the functions it allocates with, so
  // the memory plan's figures are the real Session's.
  struct PlannedBytes {
    uint64_t kv_cache = 0;        // == kv_cache_bytes() of the Session
    uint64_t scratch = 0;         // == scratch_bytes() of the Session
    uint64_t kernel_threads = 0;  // kernels' thread_local buffers in its threads (estimate)
  };
  static PlannedBytes Plan(const ModelConfig& config, const SessionOptions& options);

 private:
  void ForwardChunk(const int* tokens, int n, float* all_logits);
  void FillRopeRotations(int n);  // the chunk's RoPE cos | sin (scratch_.rope_rotation)
  void AttentionBlock(int layer, int n);
  void Attention(int layer, int n);
  void FeedForwardBlock(int layer, int n);
  void AltupBegin(int n);
  void AltupPredictLayer(int layer, int n);
  void AltupCorrectLayer(int layer, int n);
  void AltupEnd(int n);
  // fn(t) for every token t < n: split over the pool for a prefill batch (the other threads
  // would idle through these per-token norms and adds), inline for a few tokens.
  template <typename Fn>
  void ForEachToken(int n, Fn&& fn) {
    if (n < 16) {
      for (int t = 0; t < n; ++t) fn(t);
      return;
    }
    pool_.ParallelFor(n, 8, [&](int64_t b, int64_t e, int) {
      for (int64_t t = b; t < e; ++t) fn(static_cast<int>(t));
    });
  }

  std::shared_ptr<const Model> model_;
  const KernelTable& kernels_;
  int context_length_;
  int max_batch_;
  ThreadPool pool_;
  KvCache cache_;
  int position_ = 0;

  SessionScratch scratch_;  // activations of one prefill chunk, RoPE tables, logits
};

}  // namespace gemma
