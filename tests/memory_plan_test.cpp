// Memory planning: the plan's KV cache and scratch are what a real Session allocates, the
// context chosen by default shrinks to what fits, an explicit -c is kept, and a plan that does
// not fit is refused with the figures and a hint.
#include "model/memory_plan.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "gemma/error.h"
#include "model/kv_cache.h"
#include "model/session.h"
#include "model/weights.h"
#include "test_util.h"

namespace gemma {
namespace {

std::shared_ptr<const Model> Golden(const char* name) {
  return Model::Load(test::TestDataDir() + "/golden/" + name + "/hf");
}

TEST(MemoryPlan, AddsWeightsKvCacheAndScratch) {
  GEMMA_REQUIRE_TESTDATA();
  auto model = Golden("gemma3-1b-like");
  const MemoryPlan p = PlanMemory(*model, 1024, 256);
  EXPECT_EQ(p.weight_bytes, model->checkpoint().WeightBytes());
  EXPECT_EQ(p.kv_cache_bytes, KvCache::EstimateBytes(model->config(), 1024, 256));
  EXPECT_GT(p.scratch_bytes, 0u);
  EXPECT_EQ(p.total(), p.weight_bytes + p.kv_cache_bytes + p.scratch_bytes);
  EXPECT_GT(PlanMemory(*model, 4096, 256).total(), p.total());
}

// Every golden case: each family and each Gemma 3n/4 block (AltUp, LAuReL, per-layer inputs,
// KV sharing, K=V, MoE). Tiny context and chunk so that sliding rings, global layers and both
// matmul paths (packed from kPackedMinTokens = 8 tokens, per-row below) are all exercised.
class MemoryPlanMatchesSession : public ::testing::TestWithParam<const char*> {};

TEST_P(MemoryPlanMatchesSession, ScratchAndKvCacheAreWhatTheSessionAllocates) {
  GEMMA_REQUIRE_TESTDATA();
  auto model = Golden(GetParam());
  constexpr int kContext = 24, kBatch = 8, kThreads = 2;
  SessionOptions o;
  o.context_length = kContext;
  o.max_batch = kBatch;
  o.n_threads = kThreads;
  o.kv_type = DType::kF16;
  const Session::PlannedBytes planned = Session::Plan(model->config(), o);
  const MemoryPlan plan = PlanMemory(*model, kContext, kBatch, DType::kF16, kThreads);
  Session s(model, o);
  EXPECT_EQ(s.scratch_bytes(), planned.scratch);
  EXPECT_EQ(s.kv_cache_bytes(), planned.kv_cache);
  EXPECT_EQ(plan.kv_cache_bytes, s.kv_cache_bytes());
  EXPECT_EQ(plan.scratch_bytes, s.scratch_bytes() + planned.kernel_threads);

  // A full chunk, a partial one and a decode step: nothing in the forward pass (MoE scratch
  // included) may grow a buffer past what was planned.
  std::vector<int> ids(kBatch + 3);
  for (size_t i = 0; i < ids.size(); ++i) {
    ids[i] = static_cast<int>((7 * i + 3) % static_cast<size_t>(model->config().vocab_size));
  }
  s.Forward(ids);
  s.Forward(ids.data(), 1);
  EXPECT_EQ(s.scratch_bytes(), planned.scratch);
}

INSTANTIATE_TEST_SUITE_P(Golden, MemoryPlanMatchesSession,
                         ::testing::Values("gemma1-2b-like-mqa", "gemma1-7b-like-mha",
                                           "gemma2-2b-like", "gemma2-27b-like", "gemma3-1b-like",
                                           "gemma3-4b-like", "gemma3-27b-like", "gemma3n-like",
                                           "gemma4-like", "gemma4-26b-a4b-like-moe",
                                           "gemma4-31b-like-dense-kv"),
                         [](const ::testing::TestParamInfo<const char*>& info) {
                           std::string name = info.param;
                           for (char& ch : name) {
                             if (ch == '-') ch = '_';
                           }
                           return name;
                         });

TEST(MemoryPlan, DefaultContextIsTheLargestThatFits) {
  GEMMA_REQUIRE_TESTDATA();
  auto model = Golden("gemma3-1b-like");
  const int max_ctx = model->config().context_length;
  EXPECT_EQ(ChooseContextLength(*model, 0, 256, 1 << 30, std::nullopt), max_ctx);
  EXPECT_EQ(ChooseContextLength(*model, 0, 256, 1000, std::nullopt), 1000);
  EXPECT_EQ(ChooseContextLength(*model, 77, 256, 1000, uint64_t{1}), 77);  // -c is kept
  const uint64_t budget = PlanMemory(*model, 3000, 256).total();
  const int chosen = ChooseContextLength(*model, 0, 256, 1 << 30, budget);
  EXPECT_LE(PlanMemory(*model, chosen, 256).total(), budget);
  EXPECT_GT(PlanMemory(*model, chosen + 1, 256).total(), budget);
  EXPECT_GE(chosen, 3000);
  EXPECT_LT(chosen, max_ctx);
}

TEST(MemoryPlan, RefusesWithFiguresAndHint) {
  GEMMA_REQUIRE_TESTDATA();
  auto model = Golden("gemma3-1b-like");
  const MemoryPlan p = PlanMemory(*model, 4096, 256);
  EXPECT_NO_THROW(CheckMemoryFits(p, 4096, std::nullopt));
  EXPECT_NO_THROW(CheckMemoryFits(p, 4096, p.total()));
  try {
    CheckMemoryFits(p, 4096, p.weight_bytes + 1);
    FAIL() << "expected a refusal";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kUnsupported);
    const std::string m = e.what();
    EXPECT_NE(m.find("not enough memory"), std::string::npos) << m;
    EXPECT_NE(m.find("smaller context"), std::string::npos) << m;
  }
  try {
    CheckMemoryFits(p, 4096, p.weight_bytes / 2);
    FAIL() << "expected a refusal";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("weights alone"), std::string::npos) << e.what();
  }
}

// Decode bandwidth counts what a token reads: everything of a dense model; of a MoE model the
// routed share of the experts (counted here from the GGUF tensor names); of an E-model one row
// of the per-layer token table.
TEST(DecodeReadBytes, CountsRoutedExpertsAndOneRowOfThePerLayerTable) {
  GEMMA_REQUIRE_TESTDATA();
  auto dense = Golden("gemma3-1b-like");
  const uint64_t dense_total = dense->checkpoint().WeightBytes();
  EXPECT_EQ(DecodeReadBytes(dense->weights(), dense->config(), dense_total), dense_total);

  auto moe = Model::Load(test::TestDataDir() + "/golden/gemma4-26b-a4b-like-moe/model-f32.gguf");
  const ModelConfig& c = moe->config();
  ASSERT_GT(c.n_experts, c.n_experts_used);
  uint64_t experts = 0;
  for (const auto& [name, t] : moe->checkpoint().tensors) {
    if (name.find("_exps.weight") != std::string::npos) experts += t.view.n_bytes;
  }
  ASSERT_GT(experts, 0u);
  const uint64_t total = moe->checkpoint().WeightBytes();
  EXPECT_EQ(DecodeReadBytes(moe->weights(), c, total),
            total - experts / uint64_t(c.n_experts) * uint64_t(c.n_experts - c.n_experts_used));

  auto e_model = Model::Load(test::TestDataDir() + "/golden/gemma4-like/model-f32.gguf");
  const TensorView& table = e_model->weights().per_layer_token_embd;
  ASSERT_NE(table.data, nullptr);
  const uint64_t e_total = e_model->checkpoint().WeightBytes();
  EXPECT_EQ(DecodeReadBytes(e_model->weights(), e_model->config(), e_total),
            e_total - table.n_bytes + table.row_bytes());
}

TEST(MemoryPlan, ParsesByteSizes) {
  EXPECT_EQ(ParseByteSize("123"), 123u);
  EXPECT_EQ(ParseByteSize("4K"), 4096u);
  EXPECT_EQ(ParseByteSize("512M"), 512ull << 20);
  EXPECT_EQ(ParseByteSize("1.5G"), 3ull << 29);
  EXPECT_THROW(ParseByteSize("lots"), Error);
  EXPECT_THROW(ParseByteSize("5X"), Error);
  EXPECT_THROW(ParseByteSize("-1"), Error);
}

}  // namespace
}  // namespace gemma
