// One mapped Model shared read-only by sessions on different threads: each must produce exactly
// the tokens it produces alone (no hidden shared mutable state in weights, kernels or tables).
#include <gtest/gtest.h>

#include <algorithm>
#include <thread>

#include "model/model.h"
#include "model/session.h"
#include "test_util.h"

namespace gemma {
namespace {

std::vector<int> Greedy(const std::shared_ptr<const Model>& model, std::vector<int> prompt,
                        int n_new) {
  SessionOptions o;
  o.n_threads = 2;  // each session has its own pool: 4 workers on one model
  o.context_length = 256;
  Session s(model, o);
  s.Forward(prompt);
  std::vector<int> out;
  for (int i = 0; i < n_new; ++i) {
    const auto& l = s.logits();
    const int next = static_cast<int>(std::max_element(l.begin(), l.end()) - l.begin());
    out.push_back(next);
    s.Forward(&next, 1);
  }
  return out;
}

TEST(ConcurrentSessions, TwoThreadsGenerateWhatEachGeneratesAlone) {
  GEMMA_REQUIRE_TESTDATA();
  for (const char* name : {"gemma3-1b-like", "gemma2-2b-like"}) {
    auto model = Model::Load(test::TestDataDir() + "/golden/" + name + "/model-q8_0.gguf");
    const std::vector<int> a_prompt{2, 100, 200, 300, 17, 42};
    const std::vector<int> b_prompt{2, 480, 7, 99, 350};
    const std::vector<int> a_alone = Greedy(model, a_prompt, 48);
    const std::vector<int> b_alone = Greedy(model, b_prompt, 48);
    ASSERT_NE(a_alone, b_alone) << "prompts should lead to different continuations";
    for (int round = 0; round < 3; ++round) {
      std::vector<int> a_together, b_together;
      std::thread ta([&] { a_together = Greedy(model, a_prompt, 48); });
      std::thread tb([&] { b_together = Greedy(model, b_prompt, 48); });
      ta.join();
      tb.join();
      EXPECT_EQ(a_together, a_alone) << name << " round " << round;
      EXPECT_EQ(b_together, b_alone) << name << " round " << round;
    }
  }
}

}  // namespace
}  // namespace gemma
