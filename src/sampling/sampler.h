// Token sampling: a fixed chain in the order of llama.cpp's default sampler chain,
//
//   bans/max_id -> penalties -> [greedy] -> top-k -> softmax(logits / T) -> top-p -> min-p -> draw
//
// Greedy (temperature <= 0, or top_k == 1) takes the argmax of the penalized logits, ties going to
// the lowest id, and does not consume randomness.
//
// Determinism: the random source is std::mt19937_64 (fully specified by the C++ standard) seeded
// with SamplingParams::seed; each non-greedy Sample draws exactly one 64-bit word and turns it
// into a double in [0, 1) as (word >> 11) * 2^-53, so results do not depend on the standard
// library's distributions. Softmax weights use a built-in polynomial exp (no libm). Cut-offs at
// ties follow the strict total order (probability descending, id ascending): lower ids win.
//
// Cost for a 262,144-entry vocabulary: no full sort. top-k uses a bounded heap (k <= 512) or
// nth_element; top-p without top-k uses a radix selection on the weights' float bits and sorts
// only the bucket where the mass crosses top_p.
#pragma once

#include <cstdint>
#include <random>
#include <span>
#include <vector>

namespace gemma {

struct SamplingParams {
  float temperature = 1.0f;  // <= 0 means greedy (argmax, ties -> lowest id)
  int top_k = 0;             // 0 = off; keep the k highest logits (ties -> lower ids)
  float top_p = 1.0f;        // 1 = off; keep the smallest prefix (by probability) with mass >= p
  float min_p = 0.0f;        // 0 = off (keep tokens with p >= min_p * p_max)
  // llama.cpp semantics: logit > 0 ? logit / penalty : logit * penalty, once per distinct token in
  // the last penalty_last_n accepted tokens.
  float repeat_penalty = 1.0f;
  float presence_penalty = 0.0f;   // subtract once per distinct token in the window
  float frequency_penalty = 0.0f;  // subtract count * value
  int penalty_last_n = 64;         // window size in accepted tokens; 0 disables all penalties
  uint64_t seed = 0;               // same seed + same logits sequence -> same samples
  std::vector<int> banned_ids;     // never sampled (e.g. ids past the tokenizer's vocabulary)
  int max_id = -1;                 // if >= 0 only ids < max_id may be sampled (-1 = no limit)
};

// Throws Error(kUsage) naming the offending flag, e.g. "--top-p must be in (0, 1], 1 meaning off
// (got 1.5)".
// Accepted: temperature finite (any sign), top_k >= 0, top_p in (0, 1], min_p in [0, 1],
// repeat_penalty finite and > 0, presence/frequency penalties finite (negative encourages
// repetition), penalty_last_n >= 0, banned ids >= 0, max_id == -1 or > 0.
void ValidateSamplingParams(const SamplingParams& params);

// Applies the repeat/presence/frequency penalties of `params` in place to `logits`, counting the
// last params.penalty_last_n entries of `history` (oldest first). For each distinct id in that
// window with count c: logit = logit > 0 ? logit / repeat_penalty : logit * repeat_penalty, then
// logit -= c * frequency_penalty + presence_penalty. Ids outside [0, logits.size()) are ignored.
// `scratch` (optional) is reused to avoid allocating.
void ApplyPenalties(std::span<float> logits, std::span<const int> history,
                    const SamplingParams& params, std::vector<int>* scratch = nullptr);

// One candidate of the most recent Sample, with its normalized probability.
struct TokenProb {
  int id;
  float p;
};

class Sampler {
 public:
  // Validates `params` (see ValidateSamplingParams) and seeds the generator.
  explicit Sampler(const SamplingParams& params);

  // Samples an id in [0, n_vocab) (and < max_id, not banned) from `logits[0..n_vocab)`. Penalties
  // use the tokens recorded with Accept; Sample itself records nothing, so callers Accept the
  // returned id. Throws Error(kUsage) for a null pointer, n_vocab <= 0, or when every allowed id is
  // banned; Error(kInternal) when no allowed id has a logit other than -inf/NaN. NaN logits are
  // never sampled; +inf logits count as the largest float. Reuses member buffers: no allocation
  // once the buffers have grown to n_vocab.
  int Sample(const float* logits, int n_vocab);

  // Records a token (prompt tokens too) in the penalty window. Throws Error(kUsage) if id < 0.
  void Accept(int id);

  // Clears the history and reseeds the generator with params().seed.
  void Reset();

  const SamplingParams& params() const { return params_; }

  // The tokens the penalties currently look at (at most penalty_last_n, oldest first).
  std::span<const int> penalty_window() const;

  // The candidates that survived filtering in the most recent Sample, with normalized
  // probabilities (zero-probability tokens are dropped), in the order the draw scans them: after a
  // top-k cut by (logit desc, id asc), otherwise deterministic but unspecified (mostly by id).
  // After a greedy Sample it is the single chosen token with p = 1. Valid until the next
  // Sample/Reset.
  std::span<const TokenProb> candidates() const { return {cand_.data(), n_cand_}; }

 private:
  int SampleGreedy(int n);
  [[noreturn]] void FailNoCandidate(int n) const;
  size_t TopKCandidates(int n, size_t k);
  size_t TopPFromWeights(int n, double top_p);

  SamplingParams params_;
  std::vector<int> banned_;  // sorted, unique
  std::mt19937_64 rng_;
  std::vector<int> history_;  // accepted tokens; trimmed so it never exceeds 2 * penalty_last_n
  std::vector<int> scratch_;  // penalty counting
  std::vector<float> work_;   // penalized logits, then (no top-k) per-id weights
  std::vector<TokenProb> cand_;
  std::vector<TokenProb> boundary_;  // top-p: the radix bucket where the mass crosses top_p
  std::vector<double> bucket_mass_;  // top-p: radix histogram
  size_t n_cand_ = 0;
};

}  // namespace gemma
