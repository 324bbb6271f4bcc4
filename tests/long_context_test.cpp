// Long contexts: thousands of tokens through a model with sliding-window layers, so every
// window ring wraps hundreds of times. Token-by-token decode (ring of window slots) must agree
// with one from-scratch prefill of the same tokens (no wrap at all), and the sliding layers'
// cache must stay O(window), not O(context).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>

#include "model/kv_cache.h"
#include "model/model.h"
#include "model/session.h"
#include "test_util.h"

namespace gemma {
namespace {

constexpr int kTokens = 3000;  // golden configs: window 8, context 8192

std::vector<int> RandomIds(int n, int vocab, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> pick(4, vocab - 1);
  std::vector<int> ids{2};  // BOS
  while (static_cast<int>(ids.size()) < n) ids.push_back(pick(rng));
  return ids;
}

class LongContext : public ::testing::TestWithParam<const char*> {};

TEST_P(LongContext, DecodeAcrossManyWindowsMatchesOnePrefill) {
  GEMMA_REQUIRE_TESTDATA();
  auto model = Model::Load(test::TestDataDir() + "/golden/" + GetParam() + "/hf");
  const ModelConfig& c = model->config();
  ASSERT_GT(c.MaxSlidingWindow(), 0);
  ASSERT_GT(kTokens, 100 * c.MaxSlidingWindow());
  const int V = c.vocab_size;
  const std::vector<int> ids = RandomIds(kTokens, V, 1234);

  SessionOptions whole;
  whole.context_length = kTokens;
  whole.max_batch = kTokens;  // one chunk: sliding rings hold every position
  Session reference(model, whole);
  std::vector<float> expected(static_cast<size_t>(kTokens) * V);
  reference.Forward(ids, expected.data());

  SessionOptions stepwise;
  stepwise.context_length = kTokens;
  stepwise.max_batch = 1;  // rings of exactly `window` slots
  Session s(model, stepwise);
  double max_abs = 0;
  for (int p = 0; p < kTokens; ++p) {
    s.Forward(&ids[static_cast<size_t>(p)], 1);
    const float* want = &expected[static_cast<size_t>(p) * V];
    for (int i = 0; i < V; ++i)
      max_abs = std::max(max_abs, double(std::fabs(s.logits()[i] - want[i])));
  }
  // Same math, different summation order (batched tiles vs single dots, 3000-key softmax):
  // the golden F32 tolerance. A ring that returned a stale or wrong slot moves logits by whole
  // units.
  EXPECT_LE(max_abs, 2e-4) << GetParam();
  EXPECT_EQ(s.position(), kTokens);

  // Sliding layers keep window + max_batch - 1 slots; global layers keep the whole context.
  KvCache cache(c, kTokens, /*max_batch=*/1);
  for (int layer = 0; layer < c.n_layers; ++layer) {
    const LayerConfig& l = c.layers[static_cast<size_t>(layer)];
    if (l.attention == AttentionType::kSliding) {
      EXPECT_EQ(cache.capacity(layer), l.sliding_window) << "layer " << layer;
    } else {
      EXPECT_EQ(cache.capacity(layer), kTokens) << "layer " << layer;
    }
  }
  EXPECT_EQ(s.kv_cache_bytes(), cache.bytes());
  EXPECT_LT(s.kv_cache_bytes(), reference.kv_cache_bytes());
}

INSTANTIATE_TEST_SUITE_P(Cases, LongContext, ::testing::Values("gemma2-2b-like", "gemma3-1b-like"),
                         [](const auto& info) {
                           std::string n = info.param;
                           std::replace(n.begin(), n.end(), '-', '_');
                           return n;
                         });

}  // namespace
}  // namespace gemma
