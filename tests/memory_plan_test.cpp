// Memory planning: the context chosen by default shrinks to what fits, an explicit -c is kept,
// and a plan that does not fit is refused with the figures and a hint.
#include "model/memory_plan.h"

#include <gtest/gtest.h>

#include "gemma/error.h"
#include "model/kv_cache.h"
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
