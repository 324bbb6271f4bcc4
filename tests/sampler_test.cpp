// Tests for the sampler chain (src/sampling/sampler.h). Every test uses fixed seeds, so results are
// reproducible; statistical checks state their tolerance next to the draw count.
#include "sampling/sampler.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <limits>
#include <numeric>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "gemma/error.h"

namespace gemma {
namespace {

constexpr float kInf = std::numeric_limits<float>::infinity();

// Deterministic uniform in [lo, hi) that does not depend on the standard library's distributions.
float UniformF(std::mt19937_64& rng, float lo, float hi) {
  return lo + (hi - lo) * static_cast<float>(static_cast<double>(rng() >> 11) * 0x1.0p-53);
}

std::vector<float> RandomLogits(std::mt19937_64& rng, int n, float lo = -5.0f, float hi = 5.0f) {
  std::vector<float> v(static_cast<size_t>(n));
  for (float& x : v) x = UniformF(rng, lo, hi);
  return v;
}

std::vector<float> LogitsFromProbs(const std::vector<double>& probs) {
  std::vector<float> v;
  for (double p : probs) v.push_back(static_cast<float>(std::log(p)));
  return v;
}

int Argmax(const std::vector<float>& v) {
  int best = 0;
  for (int i = 1; i < static_cast<int>(v.size()); ++i) {
    if (v[static_cast<size_t>(i)] > v[static_cast<size_t>(best)]) best = i;
  }
  return best;
}

std::vector<double> Softmax(const std::vector<float>& logits, double temp) {
  const double mx = *std::max_element(logits.begin(), logits.end());
  std::vector<double> p;
  double sum = 0;
  for (float l : logits) {
    p.push_back(std::exp((l - mx) / temp));
    sum += p.back();
  }
  for (double& x : p) x /= sum;
  return p;
}

// Counts of each id over `draws` samples.
std::vector<int> Histogram(Sampler& s, const std::vector<float>& logits, int draws) {
  std::vector<int> counts(logits.size(), 0);
  for (int i = 0; i < draws; ++i) {
    const int id = s.Sample(logits.data(), static_cast<int>(logits.size()));
    EXPECT_GE(id, 0);
    EXPECT_LT(id, static_cast<int>(logits.size()));
    if (id >= 0 && id < static_cast<int>(logits.size())) ++counts[static_cast<size_t>(id)];
  }
  return counts;
}

std::set<int> CandidateIds(const Sampler& s) {
  std::set<int> ids;
  for (const TokenProb& c : s.candidates()) ids.insert(c.id);
  return ids;
}

std::set<int> NonZero(const std::vector<int>& counts) {
  std::set<int> ids;
  for (size_t i = 0; i < counts.size(); ++i) {
    if (counts[i] > 0) ids.insert(static_cast<int>(i));
  }
  return ids;
}

void ExpectError(ErrorKind kind, const std::function<void()>& f, const std::string& needle) {
  try {
    f();
    ADD_FAILURE() << "expected gemma::Error mentioning '" << needle << "'";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), kind) << e.what();
    EXPECT_NE(std::string(e.what()).find(needle), std::string::npos)
        << "message '" << e.what() << "' does not mention '" << needle << "'";
  }
}

SamplingParams Greedy() {
  SamplingParams p;
  p.temperature = 0.0f;
  return p;
}

// ---------------------------------------------------------------------------------------------
// Greedy

TEST(SamplerGreedyTest, PicksArgmax) {
  Sampler s(Greedy());
  const std::vector<float> logits = {0.1f, -3.0f, 7.5f, 7.25f, 2.0f};
  EXPECT_EQ(s.Sample(logits.data(), 5), 2);
  ASSERT_EQ(s.candidates().size(), 1u);
  EXPECT_EQ(s.candidates()[0].id, 2);
  EXPECT_EQ(s.candidates()[0].p, 1.0f);
}

TEST(SamplerGreedyTest, TiesGoToLowestId) {
  Sampler s(Greedy());
  const std::vector<float> logits = {1.0f, 4.0f, 2.0f, 4.0f, 4.0f};
  EXPECT_EQ(s.Sample(logits.data(), 5), 1);
  const std::vector<float> all_equal(7, -2.0f);
  EXPECT_EQ(s.Sample(all_equal.data(), 7), 0);
}

TEST(SamplerGreedyTest, NonPositiveTemperatureEqualsArgmax) {
  std::mt19937_64 rng(7);
  for (float temp : {0.0f, -0.5f, -100.0f}) {
    SamplingParams p;
    p.temperature = temp;
    p.seed = 99;
    p.top_p = 0.5f;  // ignored by greedy
    Sampler s(p);
    for (int trial = 0; trial < 200; ++trial) {
      std::vector<float> logits = RandomLogits(rng, 300);
      // Quantize every other trial so ties are common.
      if (trial % 2) {
        for (float& x : logits) x = std::round(x);
      }
      EXPECT_EQ(s.Sample(logits.data(), 300), Argmax(logits)) << "T=" << temp;
    }
  }
}

TEST(SamplerGreedyTest, TopK1EqualsGreedyAtAnyTemperature) {
  std::mt19937_64 rng(11);
  for (float temp : {0.01f, 0.7f, 1.0f, 5.0f, 1000.0f}) {
    SamplingParams p;
    p.temperature = temp;
    p.top_k = 1;
    p.seed = 3;
    Sampler s(p);
    for (int trial = 0; trial < 100; ++trial) {
      std::vector<float> logits = RandomLogits(rng, 500);
      if (trial % 2) {
        for (float& x : logits) x = std::round(x);
      }
      EXPECT_EQ(s.Sample(logits.data(), 500), Argmax(logits)) << "T=" << temp;
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Seeding

std::vector<int> DrawSequence(uint64_t seed, int steps) {
  SamplingParams p;
  p.seed = seed;
  p.temperature = 1.0f;
  Sampler s(p);
  std::mt19937_64 logit_rng(1234);  // same logits sequence for every seed
  std::vector<int> out;
  for (int i = 0; i < steps; ++i) {
    const std::vector<float> logits = RandomLogits(logit_rng, 100, -1.0f, 1.0f);
    out.push_back(s.Sample(logits.data(), 100));
  }
  return out;
}

TEST(SamplerSeedTest, SameSeedGivesSameSequence) {
  EXPECT_EQ(DrawSequence(42, 500), DrawSequence(42, 500));
  EXPECT_EQ(DrawSequence(0, 500), DrawSequence(0, 500));
}

TEST(SamplerSeedTest, DifferentSeedsGiveDifferentSequences) {
  // ~100 near-uniform tokens: two independent sequences agree at ~1% of positions. 60/500 (12%)
  // would be wildly unlikely for independent streams.
  const std::vector<int> a = DrawSequence(1, 500);
  for (uint64_t seed : {2ull, 3ull, 0xdeadbeefull}) {
    const std::vector<int> b = DrawSequence(seed, 500);
    int same = 0;
    for (size_t i = 0; i < a.size(); ++i) same += a[i] == b[i];
    EXPECT_LT(same, 60) << "seed " << seed;
  }
}

TEST(SamplerSeedTest, ResetReplaysTheSequence) {
  SamplingParams p;
  p.seed = 5;
  p.repeat_penalty = 1.3f;
  Sampler s(p);
  const std::vector<float> logits = {0.5f, 0.1f, 0.3f, -0.2f, 0.0f, 0.4f};
  std::vector<int> first, second;
  for (int i = 0; i < 100; ++i) {
    first.push_back(s.Sample(logits.data(), 6));
    s.Accept(first.back());
  }
  s.Reset();
  EXPECT_TRUE(s.penalty_window().empty());
  for (int i = 0; i < 100; ++i) {
    second.push_back(s.Sample(logits.data(), 6));
    s.Accept(second.back());
  }
  EXPECT_EQ(first, second);
}

// The documented RNG contract: one mt19937_64 word per draw, u = (word >> 11) * 2^-53, and the
// draw walks the candidates in id order when nothing is cut. With equal logits every weight is
// exactly 1, so the sampled id must be floor(u * n) on every platform.
TEST(SamplerSeedTest, DrawFollowsDocumentedGenerator) {
  SamplingParams p;
  p.seed = 20240601;
  Sampler s(p);
  std::mt19937_64 ref(20240601);
  const int n = 37;
  const std::vector<float> logits(n, 0.25f);
  for (int i = 0; i < 1000; ++i) {
    const double u = static_cast<double>(ref() >> 11) * 0x1.0p-53;
    EXPECT_EQ(s.Sample(logits.data(), n), static_cast<int>(u * n)) << "draw " << i;
  }
}

// ---------------------------------------------------------------------------------------------
// Temperature sampling matches softmax(logits / T)

TEST(SamplerDistributionTest, FrequenciesMatchSoftmaxWithTemperature) {
  // 20000 draws: the standard error of a frequency is at most sqrt(0.25 / 20000) = 0.0035, so an
  // absolute tolerance of 0.015 is > 4 standard errors for every token.
  constexpr int kDraws = 20000;
  constexpr double kTolerance = 0.015;
  const std::vector<float> logits = {1.5f, 0.2f, -0.3f, 1.0f, -2.0f, 0.7f, 0.0f, -1.0f};
  for (float temp : {0.5f, 1.0f, 2.0f}) {
    SamplingParams p;
    p.temperature = temp;
    p.seed = 77;
    Sampler s(p);
    const std::vector<int> counts = Histogram(s, logits, kDraws);
    const std::vector<double> expected = Softmax(logits, temp);
    for (size_t i = 0; i < logits.size(); ++i) {
      EXPECT_NEAR(static_cast<double>(counts[i]) / kDraws, expected[i], kTolerance)
          << "T=" << temp << " id " << i;
    }
    // The reported candidate probabilities are the exact softmax.
    ASSERT_EQ(s.candidates().size(), logits.size());
    for (const TokenProb& c : s.candidates()) {
      EXPECT_NEAR(c.p, expected[static_cast<size_t>(c.id)], 1e-6);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Top-k

TEST(SamplerTopKTest, OnlyTheKHighestAreSampled) {
  std::mt19937_64 rng(21);
  const std::vector<float> logits = RandomLogits(rng, 50, -1.0f, 1.0f);
  std::vector<int> order(50);
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](int a, int b) {
    return logits[static_cast<size_t>(a)] > logits[static_cast<size_t>(b)];
  });
  const std::set<int> top5(order.begin(), order.begin() + 5);

  SamplingParams p;
  p.top_k = 5;
  p.temperature = 5.0f;  // flat: without top-k every token would show up
  p.seed = 8;
  Sampler s(p);
  const std::vector<int> counts = Histogram(s, logits, 5000);
  EXPECT_EQ(NonZero(counts), top5);
  EXPECT_EQ(CandidateIds(s), top5);
}

TEST(SamplerTopKTest, TiesAtTheCutPreferLowerIds) {
  SamplingParams p;
  p.top_k = 2;
  Sampler s(p);
  const std::vector<float> logits = {1.0f, 2.0f, 3.0f, 2.0f, 2.0f};
  s.Sample(logits.data(), 5);
  EXPECT_EQ(CandidateIds(s), (std::set<int>{1, 2}));
}

TEST(SamplerTopKTest, HeapAndSelectionPathsAgreeWithFullSort) {
  // k <= 512 uses a bounded heap, larger k nth_element; both must keep the k first tokens in
  // (logit desc, id asc) order and report them sorted. Logits are quantized so ties are common.
  constexpr int kVocab = 4000;
  std::mt19937_64 rng(5);
  std::vector<float> logits = RandomLogits(rng, kVocab, -20.0f, 20.0f);
  for (float& x : logits) x = std::round(x);
  std::vector<int> order(kVocab);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](int a, int b) {
    return logits[static_cast<size_t>(a)] > logits[static_cast<size_t>(b)];
  });
  for (int k : {2, 37, 512, 513, 2000, 3999}) {
    SamplingParams p;
    p.top_k = k;
    p.temperature = 50.0f;  // keep every weight well above underflow
    Sampler s(p);
    s.Sample(logits.data(), kVocab);
    EXPECT_EQ(CandidateIds(s), std::set<int>(order.begin(), order.begin() + k)) << "k=" << k;
    const std::span<const TokenProb> c = s.candidates();
    for (size_t i = 1; i < c.size(); ++i) {
      ASSERT_TRUE(c[i - 1].p > c[i].p || (c[i - 1].p == c[i].p && c[i - 1].id < c[i].id))
          << "k=" << k << " at " << i;
    }
  }
}

TEST(SamplerTopKTest, KAtLeastVocabKeepsEverything) {
  SamplingParams p;
  p.top_k = 10;
  Sampler s(p);
  const std::vector<float> logits = {1.0f, 2.0f, 3.0f, 2.0f};
  s.Sample(logits.data(), 4);
  EXPECT_EQ(s.candidates().size(), 4u);
}

// ---------------------------------------------------------------------------------------------
// Top-p

TEST(SamplerTopPTest, KeepsSmallestPrefixWithMassAtLeastP) {
  // Probabilities by id; sorted order is 3 (0.4), 1 (0.3), 4 (0.15), 2 (0.1), 0 (0.05).
  const std::vector<double> probs = {0.05, 0.3, 0.1, 0.4, 0.15};
  const std::vector<float> logits = LogitsFromProbs(probs);
  struct Case {
    float top_p;
    std::set<int> kept;
  };
  const std::vector<Case> cases = {
      {0.2f, {3}},
      {0.39f, {3}},
      {0.41f, {3, 1}},
      {0.69f, {3, 1}},
      {0.71f, {3, 1, 4}},
      {0.84f, {3, 1, 4}},
      {0.86f, {3, 1, 4, 2}},
      {0.96f, {3, 1, 4, 2, 0}},
      {1.0f, {0, 1, 2, 3, 4}},
  };
  for (const Case& c : cases) {
    SamplingParams p;
    p.top_p = c.top_p;
    p.seed = 31;
    Sampler s(p);
    const std::vector<int> counts = Histogram(s, logits, 4000);
    EXPECT_EQ(NonZero(counts), c.kept) << "top_p " << c.top_p;  // excluded ids never appear
    EXPECT_EQ(CandidateIds(s), c.kept) << "top_p " << c.top_p;
    double kept_mass = 0;
    for (int id : c.kept) kept_mass += probs[static_cast<size_t>(id)];
    for (const TokenProb& t : s.candidates()) {
      EXPECT_NEAR(t.p, probs[static_cast<size_t>(t.id)] / kept_mass, 1e-6);
    }
  }
}

// Checks the top-p contract on the sampler's last candidate set against a double-precision
// softmax: the kept tokens are the most likely ones (up to float rounding of equal weights), their
// mass reaches top_p, and dropping the least likely kept token would fall short of it.
void ExpectTopPContract(const Sampler& s, const std::vector<float>& logits, float temp,
                        float top_p) {
  const std::vector<double> probs = Softmax(logits, temp);
  std::vector<bool> kept(logits.size(), false);
  double kept_mass = 0;
  double min_kept_p = 1;
  float min_kept_logit = kInf;
  for (const TokenProb& t : s.candidates()) {
    const size_t id = static_cast<size_t>(t.id);
    ASSERT_FALSE(kept[id]) << "duplicate candidate " << id;
    kept[id] = true;
    kept_mass += probs[id];
    min_kept_p = std::min(min_kept_p, probs[id]);
    min_kept_logit = std::min(min_kept_logit, logits[id]);
  }
  float max_dropped_logit = -kInf;
  for (size_t i = 0; i < logits.size(); ++i) {
    if (!kept[i]) max_dropped_logit = std::max(max_dropped_logit, logits[i]);
  }
  EXPECT_GE(min_kept_logit, max_dropped_logit - 1e-5f * temp);
  EXPECT_GE(kept_mass, top_p - 1e-5);
  EXPECT_LT(kept_mass - min_kept_p, top_p + 1e-5);
}

TEST(SamplerTopPTest, LargeVocabMatchesContract) {
  // 262144 logits spread over [-10, 10): prefixes range from a handful of tokens to most of the
  // vocabulary.
  constexpr int kVocab = 262144;
  std::mt19937_64 rng(4242);
  const std::vector<float> logits = RandomLogits(rng, kVocab, -10.0f, 10.0f);
  for (float temp : {0.3f, 1.0f, 4.0f}) {
    for (float top_p : {0.05f, 0.5f, 0.9f, 0.99f}) {
      SCOPED_TRACE("T=" + std::to_string(temp) + " top_p=" + std::to_string(top_p));
      SamplingParams p;
      p.temperature = temp;
      p.top_p = top_p;
      p.seed = 1;
      Sampler s(p);
      const int id = s.Sample(logits.data(), kVocab);
      ExpectTopPContract(s, logits, temp, top_p);
      EXPECT_TRUE(CandidateIds(s).count(id));
    }
  }
}

TEST(SamplerTopPTest, NearlyFlatLogitsNeedRefinement) {
  // All weights within 1% of each other land in one coarse bucket, which is then refined.
  constexpr int kVocab = 100000;
  std::mt19937_64 rng(17);
  const std::vector<float> logits = RandomLogits(rng, kVocab, 3.0f, 3.01f);
  for (float top_p : {0.01f, 0.3f, 0.77f}) {
    SCOPED_TRACE("top_p=" + std::to_string(top_p));
    SamplingParams p;
    p.top_p = top_p;
    Sampler s(p);
    s.Sample(logits.data(), kVocab);
    ExpectTopPContract(s, logits, 1.0f, top_p);
  }
}

TEST(SamplerTopPTest, EqualProbabilitiesKeepLowerIds) {
  const std::vector<float> logits(5000, 1.25f);
  SamplingParams p;
  p.top_p = 0.5f;
  Sampler s(p);
  const std::vector<int> counts = Histogram(s, logits, 500);
  std::set<int> first_half;
  for (int i = 0; i < 2500; ++i) first_half.insert(i);
  EXPECT_EQ(CandidateIds(s), first_half);
  EXPECT_LT(*NonZero(counts).rbegin(), 2500);
}

TEST(SamplerTopPTest, AppliesAfterTopK) {
  // top-k 3 keeps ids 3, 1, 4 (mass 0.85), renormalized to 0.47, 0.35, 0.18: top-p 0.8 keeps two
  // (0.47 + 0.35 = 0.82 >= 0.8), top-p 0.85 needs all three.
  const std::vector<double> probs = {0.05, 0.3, 0.1, 0.4, 0.15};
  const std::vector<float> logits = LogitsFromProbs(probs);
  SamplingParams p;
  p.top_k = 3;
  p.top_p = 0.8f;
  Sampler s(p);
  EXPECT_EQ(NonZero(Histogram(s, logits, 2000)), (std::set<int>{3, 1}));
  p.top_p = 0.85f;
  Sampler s2(p);
  EXPECT_EQ(NonZero(Histogram(s2, logits, 2000)), (std::set<int>{3, 1, 4}));
}

// ---------------------------------------------------------------------------------------------
// Min-p

TEST(SamplerMinPTest, ExcludesTokensBelowFractionOfMax) {
  // p_max = 0.5 (id 1). min_p 0.15 -> threshold 0.075 drops id 0 (0.06); min_p 0.3 -> 0.15
  // keeps ids 1 and 3; min_p 1 keeps only the max.
  const std::vector<double> probs = {0.06, 0.5, 0.1, 0.25, 0.09};
  const std::vector<float> logits = LogitsFromProbs(probs);
  struct Case {
    float min_p;
    int top_k;
    float top_p;
    std::set<int> kept;
  };
  const std::vector<Case> cases = {
      {0.15f, 0, 1.0f, {1, 2, 3, 4}}, {0.3f, 0, 1.0f, {1, 3}},
      {1.0f, 0, 1.0f, {1}},           {0.15f, 4, 1.0f, {1, 2, 3, 4}},  // sorted path
      {0.3f, 0, 0.99f, {1, 3}},       {0.01f, 0, 1.0f, {0, 1, 2, 3, 4}},
  };
  for (const Case& c : cases) {
    SamplingParams p;
    p.min_p = c.min_p;
    p.top_k = c.top_k;
    p.top_p = c.top_p;
    p.seed = 12;
    Sampler s(p);
    EXPECT_EQ(NonZero(Histogram(s, logits, 4000)), c.kept) << "min_p " << c.min_p;
    EXPECT_EQ(CandidateIds(s), c.kept) << "min_p " << c.min_p;
  }
}

TEST(SamplerMinPTest, UsesTemperedProbabilities) {
  // At T = 2 the ratio 0.06 / 0.5 = 0.12 becomes sqrt(0.12) = 0.35, above min_p 0.3.
  const std::vector<float> logits = LogitsFromProbs({0.06, 0.5, 0.1, 0.25, 0.09});
  SamplingParams p;
  p.min_p = 0.3f;
  p.temperature = 2.0f;
  Sampler s(p);
  s.Sample(logits.data(), 5);
  EXPECT_EQ(CandidateIds(s), (std::set<int>{0, 1, 2, 3, 4}));
}

// ---------------------------------------------------------------------------------------------
// Penalties

TEST(SamplerPenaltyTest, RepeatPenaltyDividesPositiveAndMultipliesNonPositive) {
  SamplingParams p;
  p.repeat_penalty = 2.0f;
  std::vector<float> logits = {2.0f, -2.0f, 0.0f, 3.0f};
  const std::vector<int> history = {0, 1, 2, 0, 0};  // counts do not matter for repeat
  ApplyPenalties(logits, history, p);
  EXPECT_EQ(logits, (std::vector<float>{1.0f, -4.0f, 0.0f, 3.0f}));
}

TEST(SamplerPenaltyTest, PresencePenaltySubtractsOncePerDistinctToken) {
  SamplingParams p;
  p.presence_penalty = 0.5f;
  std::vector<float> logits = {2.0f, -2.0f, 0.0f, 3.0f};
  ApplyPenalties(logits, std::vector<int>{0, 0, 0, 1}, p);
  EXPECT_EQ(logits, (std::vector<float>{1.5f, -2.5f, 0.0f, 3.0f}));
}

TEST(SamplerPenaltyTest, FrequencyPenaltySubtractsCountTimesValue) {
  SamplingParams p;
  p.frequency_penalty = 0.25f;
  std::vector<float> logits = {2.0f, -2.0f, 0.0f, 3.0f};
  ApplyPenalties(logits, std::vector<int>{0, 3, 0, 0, 1}, p);
  EXPECT_EQ(logits, (std::vector<float>{1.25f, -2.25f, 0.0f, 2.75f}));
}

TEST(SamplerPenaltyTest, CombinedAppliesRepeatThenSubtracts) {
  SamplingParams p;
  p.repeat_penalty = 2.0f;
  p.frequency_penalty = 0.5f;
  p.presence_penalty = 0.25f;
  std::vector<float> logits = {2.0f, -1.0f, 5.0f};
  ApplyPenalties(logits, std::vector<int>{0, 0, 0, 1}, p);
  // id 0: 2 / 2 - 3 * 0.5 - 0.25; id 1: -1 * 2 - 0.5 - 0.25.
  EXPECT_EQ(logits, (std::vector<float>{-0.75f, -2.75f, 5.0f}));
}

TEST(SamplerPenaltyTest, OnlyTheLastNTokensCount) {
  SamplingParams p;
  p.presence_penalty = 1.0f;
  p.penalty_last_n = 2;
  std::vector<float> logits = {0.0f, 0.0f, 0.0f, 0.0f};
  ApplyPenalties(logits, std::vector<int>{0, 1, 2}, p);
  EXPECT_EQ(logits, (std::vector<float>{0.0f, -1.0f, -1.0f, 0.0f}));

  p.penalty_last_n = 0;  // disabled
  std::vector<float> untouched = {0.0f, 0.0f};
  ApplyPenalties(untouched, std::vector<int>{0, 1}, p);
  EXPECT_EQ(untouched, (std::vector<float>{0.0f, 0.0f}));
}

TEST(SamplerPenaltyTest, IdsOutsideTheVocabularyAreIgnored) {
  SamplingParams p;
  p.presence_penalty = 1.0f;
  std::vector<float> logits = {0.0f, 0.0f, 0.0f, 0.0f};
  ApplyPenalties(logits, std::vector<int>{-1, 10, 3, 4}, p);
  EXPECT_EQ(logits, (std::vector<float>{0.0f, 0.0f, 0.0f, -1.0f}));
}

TEST(SamplerPenaltyTest, SamplerPenalizesAcceptedTokens) {
  SamplingParams p = Greedy();
  p.repeat_penalty = 1.1f;  // 5.0 / 1.1 = 4.55 < 4.9
  Sampler s(p);
  const std::vector<float> logits = {5.0f, 4.9f, 1.0f};
  EXPECT_EQ(s.Sample(logits.data(), 3), 0);
  s.Accept(0);  // e.g. a prompt token
  EXPECT_EQ(s.Sample(logits.data(), 3), 1);
  EXPECT_EQ(logits[0], 5.0f);  // the caller's logits are not modified
  s.Accept(1);                 // 4.9 / 1.1 = 4.45 < 4.55
  EXPECT_EQ(s.Sample(logits.data(), 3), 0);
  s.Reset();
  EXPECT_EQ(s.Sample(logits.data(), 3), 0);
}

TEST(SamplerPenaltyTest, WindowKeepsTheLastNAcceptedTokens) {
  SamplingParams p;
  p.penalty_last_n = 3;
  Sampler s(p);
  for (int i = 0; i < 20; ++i) {
    s.Accept(i);
    const std::span<const int> w = s.penalty_window();
    ASSERT_EQ(w.size(), static_cast<size_t>(std::min(i + 1, 3)));
    EXPECT_EQ(w.back(), i);
    EXPECT_EQ(w.front(), std::max(0, i - 2));
  }
  p.penalty_last_n = 0;
  Sampler off(p);
  off.Accept(1);
  EXPECT_TRUE(off.penalty_window().empty());
}

// ---------------------------------------------------------------------------------------------
// Banned ids, max_id, non-finite logits

TEST(SamplerBanTest, BannedIdsAreNeverSampled) {
  std::vector<float> logits(20, 0.0f);
  logits[3] = 10.0f;  // the banned ids would otherwise dominate
  logits[17] = 9.0f;
  for (float temp : {0.0f, 1.0f, 3.0f}) {
    SamplingParams p;
    p.temperature = temp;
    p.banned_ids = {17, 3, 3, 500};  // duplicates and ids past the vocabulary are fine
    p.seed = 4;
    Sampler s(p);
    const std::vector<int> counts = Histogram(s, logits, 3000);
    EXPECT_EQ(counts[3], 0) << "T=" << temp;
    EXPECT_EQ(counts[17], 0) << "T=" << temp;
  }
}

TEST(SamplerBanTest, MaxIdLimitsTheSampledRange) {
  std::vector<float> logits(10, 0.0f);
  for (int i = 4; i < 10; ++i) logits[static_cast<size_t>(i)] = 5.0f;
  for (float temp : {0.0f, 1.0f}) {
    SamplingParams p;
    p.temperature = temp;
    p.max_id = 4;
    Sampler s(p);
    const std::set<int> seen = NonZero(Histogram(s, logits, 2000));
    EXPECT_FALSE(seen.empty());
    EXPECT_LT(*seen.rbegin(), 4) << "T=" << temp;
  }
  SamplingParams p;
  p.max_id = 100;  // beyond n_vocab: no effect
  Sampler s(p);
  s.Sample(logits.data(), 10);
  EXPECT_EQ(s.candidates().size(), 10u);
}

TEST(SamplerBanTest, NonFiniteLogits) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  std::vector<float> logits = {nan, 0.0f, -kInf, 0.5f, nan};
  for (float temp : {0.0f, 1.0f}) {
    SamplingParams p;
    p.temperature = temp;
    Sampler s(p);
    const std::set<int> seen = NonZero(Histogram(s, logits, 2000));
    EXPECT_TRUE(seen == std::set<int>({3}) || seen == std::set<int>({1, 3})) << "T=" << temp;
  }
  logits[1] = kInf;  // +inf wins outright
  SamplingParams p;
  Sampler s(p);
  EXPECT_EQ(NonZero(Histogram(s, logits, 200)), std::set<int>({1}));
}

TEST(SamplerBanTest, NothingSamplableThrows) {
  const std::vector<float> logits = {1.0f, 2.0f, 3.0f};
  for (float temp : {0.0f, 1.0f}) {
    SamplingParams p;
    p.temperature = temp;
    p.banned_ids = {0, 1, 2};
    Sampler s(p);
    ExpectError(
        ErrorKind::kUsage, [&] { s.Sample(logits.data(), 3); }, "banned");
    p.banned_ids = {0, 1};
    p.max_id = 2;
    Sampler s2(p);
    ExpectError(
        ErrorKind::kUsage, [&] { s2.Sample(logits.data(), 3); }, "banned");

    const std::vector<float> dead = {-kInf, std::numeric_limits<float>::quiet_NaN()};
    SamplingParams plain;
    plain.temperature = temp;
    Sampler s3(plain);
    ExpectError(
        ErrorKind::kInternal, [&] { s3.Sample(dead.data(), 2); }, "-inf or NaN");
  }
}

// ---------------------------------------------------------------------------------------------
// Validation

TEST(SamplerValidationTest, DefaultsAreValid) {
  EXPECT_NO_THROW(ValidateSamplingParams(SamplingParams{}));
  EXPECT_NO_THROW(Sampler{SamplingParams{}});
}

TEST(SamplerValidationTest, InvalidParamsThrowUsageNamingTheFlag) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  struct Case {
    std::function<void(SamplingParams&)> mutate;
    std::string needle;
  };
  const std::vector<Case> cases = {
      {[](SamplingParams& p) { p.temperature = kInf; }, "--temperature"},
      {[&](SamplingParams& p) { p.temperature = nan; }, "--temperature"},
      {[](SamplingParams& p) { p.top_k = -1; }, "--top-k"},
      {[](SamplingParams& p) { p.top_p = 0.0f; }, "--top-p must be in (0, 1]"},
      {[](SamplingParams& p) { p.top_p = 1.5f; }, "--top-p must be in (0, 1]"},
      {[&](SamplingParams& p) { p.top_p = nan; }, "--top-p"},
      {[](SamplingParams& p) { p.min_p = -0.1f; }, "--min-p"},
      {[](SamplingParams& p) { p.min_p = 1.01f; }, "--min-p"},
      {[](SamplingParams& p) { p.repeat_penalty = 0.0f; }, "--repeat-penalty"},
      {[](SamplingParams& p) { p.repeat_penalty = -1.0f; }, "--repeat-penalty"},
      {[&](SamplingParams& p) { p.repeat_penalty = nan; }, "--repeat-penalty"},
      {[](SamplingParams& p) { p.presence_penalty = kInf; }, "--presence-penalty"},
      {[&](SamplingParams& p) { p.frequency_penalty = nan; }, "--frequency-penalty"},
      {[](SamplingParams& p) { p.penalty_last_n = -1; }, "--repeat-last-n"},
      {[](SamplingParams& p) {
         p.banned_ids = {4, -2};
       },
       "banned"},
      {[](SamplingParams& p) { p.max_id = 0; }, "max_id"},
      {[](SamplingParams& p) { p.max_id = -2; }, "max_id"},
  };
  for (const Case& c : cases) {
    SamplingParams p;
    c.mutate(p);
    ExpectError(
        ErrorKind::kUsage, [&] { ValidateSamplingParams(p); }, c.needle);
    ExpectError(
        ErrorKind::kUsage, [&] { Sampler s(p); }, c.needle);
  }
}

TEST(SamplerValidationTest, EdgeValuesAreAccepted) {
  SamplingParams p;
  p.temperature = -1.0f;
  p.top_p = 1.0f;
  p.min_p = 1.0f;
  p.presence_penalty = -0.5f;
  p.frequency_penalty = -0.5f;
  p.penalty_last_n = 0;
  p.max_id = 1;
  EXPECT_NO_THROW(ValidateSamplingParams(p));
}

TEST(SamplerValidationTest, BadCallArgumentsThrowUsage) {
  Sampler s(SamplingParams{});
  const float logits[2] = {0.0f, 1.0f};
  ExpectError(
      ErrorKind::kUsage, [&] { s.Sample(nullptr, 2); }, "null");
  ExpectError(
      ErrorKind::kUsage, [&] { s.Sample(logits, 0); }, "n_vocab");
  ExpectError(
      ErrorKind::kUsage, [&] { s.Accept(-1); }, "-1");
}

// ---------------------------------------------------------------------------------------------
// A Gemma-sized vocabulary with a typical chain

TEST(SamplerLargeVocabTest, TypicalChainOn262kVocab) {
  constexpr int kVocab = 262144;
  std::mt19937_64 rng(99);
  std::vector<float> logits = RandomLogits(rng, kVocab, -8.0f, 8.0f);
  SamplingParams p;
  p.temperature = 0.8f;
  p.top_k = 64;
  p.top_p = 0.95f;
  p.min_p = 0.05f;
  p.repeat_penalty = 1.1f;
  p.max_id = kVocab - 100;
  p.seed = 2;
  Sampler s(p);
  std::vector<int> order(kVocab - 100);
  std::iota(order.begin(), order.end(), 0);
  std::partial_sort(order.begin(), order.begin() + 64, order.end(), [&](int a, int b) {
    return logits[static_cast<size_t>(a)] > logits[static_cast<size_t>(b)];
  });
  const std::set<int> top64(order.begin(), order.begin() + 64);
  for (int i = 0; i < 50; ++i) {
    const int id = s.Sample(logits.data(), kVocab);
    EXPECT_TRUE(top64.count(id)) << id;
    EXPECT_LE(s.candidates().size(), 64u);
  }
}

}  // namespace
}  // namespace gemma
