#include "sampling/sampler.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <iterator>
#include <limits>
#include <string>

#include "gemma/error.h"

namespace gemma {
namespace {

constexpr float kNegInf = -std::numeric_limits<float>::infinity();
constexpr float kPosInf = std::numeric_limits<float>::infinity();
constexpr float kFloatMax = std::numeric_limits<float>::max();

// top-k at most this large uses a bounded heap (one compare per logit for typical inputs); larger k
// use nth_element over all candidates.
constexpr size_t kHeapMaxK = 512;

// Top-p radix selection. Weights lie in (0, 1] (the max-logit token has weight exactly 1) and are
// at least exp(-87) > 2^-126, so they are normal floats and key = bits(1.0f) - bits(w) is an
// order-reversing map onto [0, 0x3F000000]: a smaller key means a larger weight, equal keys mean
// equal weights. Level 0 buckets by the exponent and 4 mantissa bits (ratio 2^(1/16) per
// bucket); later levels refine the one bucket where the cumulative mass crosses top_p.
constexpr uint32_t kOneBits = 0x3F800000u;
struct RadixLevel {
  int shift;
  uint32_t mask;
};
constexpr RadixLevel kRadixLevels[] = {{19, 0x7FFu}, {8, 0x7FFu}, {0, 0xFFu}};
constexpr size_t kRadixBuckets = 2048;
// Stop refining once the boundary bucket is this small and just sort it.
constexpr size_t kBoundarySortMax = 1024;

inline uint32_t WeightKey(float w) {
  return kOneBits - std::bit_cast<uint32_t>(w);
}

// exp(x) for x in [-87, 0] (Cephes expf: Cody-Waite reduction and a degree-6 polynomial,
// relative error ~1e-7). Plain float arithmetic, no libm: the weights do not depend on the C
// library, and the loops below vectorize. Returns exactly 1 for x == 0.
inline float ExpNonPositive(float x) {
  const float n = (x * 1.44269504088896341f + 12582912.0f) - 12582912.0f;  // round(x / ln 2)
  float r = x - n * 0.693359375f;
  r = r - n * -2.12194440e-4f;
  float y = 1.9875691500e-4f;
  y = y * r + 1.3981999507e-3f;
  y = y * r + 8.3334519073e-3f;
  y = y * r + 4.1665795894e-2f;
  y = y * r + 1.6666665459e-1f;
  y = y * r + 5.0000001201e-1f;
  y = y * (r * r) + r + 1.0f;
  const uint32_t scale_bits = static_cast<uint32_t>(static_cast<int32_t>(n) + 127) << 23;
  return y * std::bit_cast<float>(scale_bits);
}

// Softmax weight of a logit: exp((logit - max) / temp), 0 below exp(-87) and for -inf/NaN. The
// selects are integer masks: with the default -ftrapping-math GCC will not if-convert float
// selects, and the whole-vocabulary loop would not vectorize.
inline float Weight(float logit, float max_logit, float temp) {
  const float x = (logit - max_logit) / temp;
  const int32_t keep = -static_cast<int32_t>(x > -87.0f);  // all ones, or 0 (also for NaN)
  const int32_t clamped =
      (std::bit_cast<int32_t>(x) & keep) | (std::bit_cast<int32_t>(-87.0f) & ~keep);
  const float e = ExpNonPositive(std::bit_cast<float>(clamped));
  return std::bit_cast<float>(std::bit_cast<int32_t>(e) & keep);
}

// Max over v[0..n), ignoring NaN; -inf if there is no other value. Eight independent lanes so
// the compiler can vectorize.
float MaxIgnoringNaN(const float* v, size_t n) {
  float m[8];
  for (float& x : m) x = kNegInf;
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    for (size_t j = 0; j < 8; ++j) m[j] = v[i + j] > m[j] ? v[i + j] : m[j];
  }
  for (; i < n; ++i) m[0] = v[i] > m[0] ? v[i] : m[0];
  float r = m[0];
  for (float x : m) r = x > r ? x : r;
  return r;
}

// Strict total order: higher value first, then lower id.
inline bool Before(const TokenProb& a, const TokenProb& b) {
  return a.p > b.p || (a.p == b.p && a.id < b.id);
}

// Uniform double in [0, 1) from the top 53 bits of one generator word.
inline double Uniform01(std::mt19937_64& rng) {
  return static_cast<double>(rng() >> 11) * 0x1.0p-53;
}

std::string Num(double v) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%g", v);
  return buf;
}

}  // namespace

void ValidateSamplingParams(const SamplingParams& p) {
  if (!std::isfinite(p.temperature)) {
    Fail(ErrorKind::kUsage, "--temperature must be a finite number (got " + Num(p.temperature) +
                                "); use 0 for greedy decoding");
  }
  if (p.top_k < 0) {
    Fail(ErrorKind::kUsage,
         "--top-k must be >= 0, 0 meaning off (got " + std::to_string(p.top_k) + ")");
  }
  if (!(p.top_p > 0.0f && p.top_p <= 1.0f)) {
    Fail(ErrorKind::kUsage, "--top-p must be in (0, 1], 1 meaning off (got " + Num(p.top_p) + ")");
  }
  if (!(p.min_p >= 0.0f && p.min_p <= 1.0f)) {
    Fail(ErrorKind::kUsage, "--min-p must be in [0, 1], 0 meaning off (got " + Num(p.min_p) + ")");
  }
  if (!(std::isfinite(p.repeat_penalty) && p.repeat_penalty > 0.0f)) {
    Fail(ErrorKind::kUsage, "--repeat-penalty must be a finite number > 0, 1 meaning off (got " +
                                Num(p.repeat_penalty) + ")");
  }
  if (!std::isfinite(p.presence_penalty)) {
    Fail(ErrorKind::kUsage,
         "--presence-penalty must be a finite number (got " + Num(p.presence_penalty) + ")");
  }
  if (!std::isfinite(p.frequency_penalty)) {
    Fail(ErrorKind::kUsage,
         "--frequency-penalty must be a finite number (got " + Num(p.frequency_penalty) + ")");
  }
  if (p.penalty_last_n < 0) {
    Fail(ErrorKind::kUsage,
         "--repeat-last-n (penalty_last_n) must be >= 0, 0 disabling penalties (got " +
             std::to_string(p.penalty_last_n) + ")");
  }
  for (int id : p.banned_ids) {
    if (id < 0) {
      Fail(ErrorKind::kUsage, "banned token ids must be >= 0 (got " + std::to_string(id) + ")");
    }
  }
  if (p.max_id < -1 || p.max_id == 0) {
    Fail(ErrorKind::kUsage,
         "max_id must be -1 (no limit) or > 0 (got " + std::to_string(p.max_id) + ")");
  }
}

void ApplyPenalties(std::span<float> logits, std::span<const int> history,
                    const SamplingParams& params, std::vector<int>* scratch) {
  if (params.penalty_last_n <= 0 || history.empty()) return;
  if (params.repeat_penalty == 1.0f && params.presence_penalty == 0.0f &&
      params.frequency_penalty == 0.0f) {
    return;
  }
  const size_t n_window = std::min(history.size(), static_cast<size_t>(params.penalty_last_n));
  const std::span<const int> window = history.last(n_window);

  std::vector<int> local;
  std::vector<int>& ids = scratch ? *scratch : local;
  ids.assign(window.begin(), window.end());
  std::sort(ids.begin(), ids.end());

  const size_t n_vocab = logits.size();
  for (size_t i = 0; i < ids.size();) {
    const int id = ids[i];
    size_t j = i + 1;
    while (j < ids.size() && ids[j] == id) ++j;
    const float count = static_cast<float>(j - i);
    i = j;
    if (id < 0 || static_cast<size_t>(id) >= n_vocab) continue;
    float& l = logits[static_cast<size_t>(id)];
    if (params.repeat_penalty != 1.0f) {
      l = l > 0.0f ? l / params.repeat_penalty : l * params.repeat_penalty;
    }
    l -= count * params.frequency_penalty + params.presence_penalty;
  }
}

Sampler::Sampler(const SamplingParams& params) : params_(params) {
  ValidateSamplingParams(params_);
  banned_ = params_.banned_ids;
  std::sort(banned_.begin(), banned_.end());
  banned_.erase(std::unique(banned_.begin(), banned_.end()), banned_.end());
  rng_.seed(params_.seed);
}

void Sampler::Accept(int id) {
  if (id < 0) Fail(ErrorKind::kUsage, "Sampler::Accept: token id " + std::to_string(id) + " < 0");
  const size_t last_n = static_cast<size_t>(params_.penalty_last_n);
  if (last_n == 0) return;
  history_.push_back(id);
  // Amortized O(1): drop the stale front once the buffer holds twice the window.
  if (history_.size() > 2 * last_n) {
    history_.erase(history_.begin(), history_.end() - static_cast<std::ptrdiff_t>(last_n));
  }
}

void Sampler::Reset() {
  history_.clear();
  n_cand_ = 0;
  rng_.seed(params_.seed);
}

std::span<const int> Sampler::penalty_window() const {
  const size_t n = std::min(history_.size(), static_cast<size_t>(params_.penalty_last_n));
  return std::span<const int>(history_).last(n);
}

void Sampler::FailNoCandidate(int n) const {
  const auto banned_below = std::lower_bound(banned_.begin(), banned_.end(), n) - banned_.begin();
  if (banned_below >= n) {
    Fail(ErrorKind::kUsage, "no token can be sampled: all " + std::to_string(n) +
                                " allowed ids (below max_id / n_vocab) are banned");
  }
  Fail(ErrorKind::kInternal,
       "no token can be sampled: every allowed logit is -inf or NaN (n_vocab " + std::to_string(n) +
           ")");
}

int Sampler::SampleGreedy(int n) {
  const float* w = work_.data();
  int best = -1;
  float best_v = kNegInf;
  for (int i = 0; i < n; ++i) {
    if (w[i] > best_v) {  // strict: ties keep the lower id; NaN and -inf never win
      best_v = w[i];
      best = i;
    }
  }
  if (best < 0) FailNoCandidate(n);
  cand_[0] = {best, 1.0f};
  n_cand_ = 1;
  return best;
}

// Candidates for top-k (0 < k): the k best {id, logit} by (logit desc, id asc), sorted, in cand_.
// work_ holds the penalized logits without +inf.
size_t Sampler::TopKCandidates(int n, size_t k) {
  const float* w = work_.data();
  TokenProb* c = cand_.data();
  size_t nc = 0;
  if (k <= kHeapMaxK) {
    // c[0..nc) is a heap whose front is the worst kept candidate. Ids arrive in increasing order,
    // so a logit equal to the front's never displaces it (ties keep lower ids).
    for (int i = 0; i < n; ++i) {
      const float v = w[i];
      if (!(v > kNegInf)) continue;
      if (nc < k) {
        c[nc++] = {i, v};
        std::push_heap(c, c + nc, Before);
      } else if (v > c[0].p) {
        std::pop_heap(c, c + nc, Before);
        c[nc - 1] = {i, v};
        std::push_heap(c, c + nc, Before);
      }
    }
  } else {
    for (int i = 0; i < n; ++i) {
      if (w[i] > kNegInf) c[nc++] = {i, w[i]};
    }
    if (k < nc) {
      std::nth_element(c, c + k, c + nc, Before);
      nc = k;
    }
  }
  std::sort(c, c + nc, Before);
  return nc;
}

// Top-p over per-id weights work_[0..n) (0 = excluded): writes the smallest set of ids whose
// weights, taken in (weight desc, id asc) order, reach top_p of the total into cand_ and returns
// its size. Radix selection on the weight bits: only the bucket where the cumulative mass crosses
// the target is refined or sorted, so no pass sorts the vocabulary.
size_t Sampler::TopPFromWeights(int n, double top_p) {
  const float* w = work_.data();
  if (bucket_mass_.size() < kRadixBuckets) bucket_mass_.resize(kRadixBuckets);
  double* mass = bucket_mass_.data();

  // Finds the first bucket where cum + mass reaches target (kRadixBuckets if none), adding the
  // mass of the buckets before it to cum.
  auto crossing = [&](double& cum, double target) {
    for (size_t b = 0; b < kRadixBuckets; ++b) {
      if (cum + mass[b] >= target) return b;
      cum += mass[b];
    }
    return kRadixBuckets;
  };

  // Level 0 runs over the id-indexed weights.
  const RadixLevel l0 = kRadixLevels[0];
  std::fill(mass, mass + kRadixBuckets, 0.0);
  for (int i = 0; i < n; ++i) {
    if (w[i] > 0.0f) mass[(WeightKey(w[i]) >> l0.shift) & l0.mask] += w[i];
  }
  double total = 0.0;
  for (size_t b = 0; b < kRadixBuckets; ++b) total += mass[b];
  const double target = top_p * total;
  double cum = 0.0;
  size_t cut = crossing(cum, target);

  TokenProb* c = cand_.data();
  TokenProb* bd = boundary_.data();
  size_t nc = 0;
  size_t nb = 0;
  for (int i = 0; i < n; ++i) {
    if (!(w[i] > 0.0f)) continue;
    const size_t d = (WeightKey(w[i]) >> l0.shift) & l0.mask;
    if (d < cut) {
      c[nc++] = {i, w[i]};
    } else if (d == cut) {
      bd[nb++] = {i, w[i]};
    }
  }
  if (cut == kRadixBuckets) return nc;  // rounding kept the target out of reach: keep all

  // Refine the boundary bucket on lower key bits while it is large. Compaction is stable, so the
  // boundary stays in id order; after the last level all its keys (hence weights) are equal.
  bool boundary_sorted = false;
  for (size_t level = 1; level < std::size(kRadixLevels); ++level) {
    if (nb <= kBoundarySortMax) break;
    const RadixLevel lv = kRadixLevels[level];
    std::fill(mass, mass + kRadixBuckets, 0.0);
    for (size_t j = 0; j < nb; ++j) mass[(WeightKey(bd[j].p) >> lv.shift) & lv.mask] += bd[j].p;
    double sub_cum = cum;
    cut = crossing(sub_cum, target);
    size_t kept = 0;
    for (size_t j = 0; j < nb; ++j) {
      const size_t d = (WeightKey(bd[j].p) >> lv.shift) & lv.mask;
      if (d < cut) {
        c[nc++] = bd[j];
      } else if (d == cut) {
        bd[kept++] = bd[j];
      }
    }
    if (cut == kRadixBuckets) return nc;  // rounding: every boundary entry went to c
    nb = kept;
    cum = sub_cum;
    boundary_sorted = level + 1 == std::size(kRadixLevels);
  }

  if (!boundary_sorted) std::sort(bd, bd + nb, Before);
  for (size_t j = 0; j < nb; ++j) {
    c[nc++] = bd[j];
    cum += bd[j].p;
    if (cum >= target) break;
  }
  return nc;
}

int Sampler::Sample(const float* logits, int n_vocab) {
  if (logits == nullptr) Fail(ErrorKind::kUsage, "Sampler::Sample: logits is null");
  if (n_vocab <= 0) {
    Fail(ErrorKind::kUsage,
         "Sampler::Sample: n_vocab must be > 0 (got " + std::to_string(n_vocab) + ")");
  }
  const int n = params_.max_id >= 0 ? std::min(n_vocab, params_.max_id) : n_vocab;
  const size_t un = static_cast<size_t>(n);
  if (work_.size() < un) work_.resize(un);
  if (cand_.size() < un) cand_.resize(un);
  n_cand_ = 0;

  // 1. Copy, ban, penalize.
  float* w = work_.data();
  std::copy(logits, logits + n, w);
  for (int id : banned_) {
    if (id >= n) break;
    w[id] = kNegInf;
  }
  ApplyPenalties(std::span<float>(w, un), penalty_window(), params_, &scratch_);

  // 2. Greedy.
  const float temp = params_.temperature;
  if (temp <= 0.0f || params_.top_k == 1) return SampleGreedy(n);

  float max_logit = MaxIgnoringNaN(w, un);
  if (max_logit == kNegInf) FailNoCandidate(n);
  if (max_logit == kPosInf) {  // rare: +inf counts as the largest float
    for (size_t i = 0; i < un; ++i) {
      if (w[i] == kPosInf) w[i] = kFloatMax;
    }
    max_logit = kFloatMax;
  }

  TokenProb* c = cand_.data();
  size_t nc = 0;
  // top_k >= n cuts nothing: treat it as off (no sort).
  const size_t k = params_.top_k < n ? static_cast<size_t>(params_.top_k) : 0;
  const float min_p = params_.min_p;
  if (k > 0) {
    // 3a. Top-k, then softmax over the k survivors (sorted, so top-p is a prefix scan).
    nc = TopKCandidates(n, k);
    double sum = 0.0;
    for (size_t i = 0; i < nc; ++i) {
      c[i].p = Weight(c[i].p, max_logit, temp);
      sum += c[i].p;
    }
    if (params_.top_p < 1.0f) {
      const double target = static_cast<double>(params_.top_p) * sum;
      double cum = 0.0;
      for (size_t i = 0; i < nc; ++i) {
        cum += c[i].p;
        if (cum >= target) {
          nc = i + 1;
          break;
        }
      }
    }
  } else {
    // 3b. Softmax weights for the whole vocabulary, in place (vectorized; -inf/NaN become 0).
    for (size_t i = 0; i < un; ++i) w[i] = Weight(w[i], max_logit, temp);
    if (params_.top_p < 1.0f) {
      if (boundary_.size() < un) boundary_.resize(un);
      nc = TopPFromWeights(n, static_cast<double>(params_.top_p));
    } else {
      // Nothing needs order: gather in id order, applying min-p already (step 4 below).
      for (int i = 0; i < n; ++i) {
        if (w[i] > 0.0f && w[i] >= min_p) c[nc++] = {i, w[i]};
      }
    }
  }

  // 4. Min-p: keep weight >= min_p * max weight. The max-logit token has weight exactly 1 and
  // survives top-k and top-p. Zero weights (underflow) are dropped here too. The total is summed
  // in the same order as the draw scans.
  double sum = 0.0;
  size_t out = 0;
  for (size_t i = 0; i < nc; ++i) {
    if (c[i].p > 0.0f && c[i].p >= min_p) {
      c[out++] = c[i];
      sum += c[i].p;
    }
  }
  nc = out;
  if (nc == 0) FailNoCandidate(n);  // unreachable: the max-logit token has weight 1

  // 5. Draw: one uniform, scaled by the total mass.
  const double target = Uniform01(rng_) * sum;
  double cum = 0.0;
  size_t chosen = nc - 1;  // if rounding leaves target >= the final cum: the last candidate
  for (size_t i = 0; i < nc; ++i) {
    cum += c[i].p;
    if (target < cum) {
      chosen = i;
      break;
    }
  }
  const int id = c[chosen].id;

  const double inv = 1.0 / sum;
  for (size_t i = 0; i < nc; ++i) c[i].p = static_cast<float>(c[i].p * inv);
  n_cand_ = nc;
  return id;
}

}  // namespace gemma
