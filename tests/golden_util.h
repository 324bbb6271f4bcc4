// Shared by the golden tests: a case's fixtures (../shared/testdata/golden/<case>), logit
// comparison, and running a prompt or a greedy continuation through a Session.
#pragma once

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "model/model.h"
#include "model/session.h"
#include "test_util.h"

namespace gemma::test {

struct GoldenCase {
  std::string name;
  std::string dir;
  nlohmann::json meta;  // case.json
  std::vector<int> prompt;
  std::vector<int> greedy;
  std::vector<float> logits;  // logits.f32, [n_prompt][vocab]
  int vocab = 0;
};

inline GoldenCase LoadGoldenCase(const std::string& name) {
  GoldenCase c;
  c.name = name;
  c.dir = TestDataDir() + "/golden/" + name;
  c.meta = nlohmann::json::parse(ReadFileBytes(c.dir + "/case.json"));
  c.prompt = c.meta.at("prompt_ids").get<std::vector<int>>();
  c.greedy = c.meta.at("greedy_next_ids").get<std::vector<int>>();
  c.vocab = c.meta.at("n_vocab").get<int>();
  c.logits = ReadF32File(c.dir + "/logits.f32");
  return c;
}

struct Diff {
  double max_abs = 0, mean_abs = 0;
};

// Max and mean absolute difference; a NaN counts as infinitely far.
inline Diff Compare(const std::vector<float>& a, const std::vector<float>& b) {
  Diff d;
  EXPECT_EQ(a.size(), b.size());
  const size_t n = std::min(a.size(), b.size());
  for (size_t i = 0; i < n; ++i) {
    const double e = std::fabs(static_cast<double>(a[i]) - b[i]);
    d.max_abs = std::max(d.max_abs, std::isnan(e) ? INFINITY : e);
    d.mean_abs += e;
  }
  d.mean_abs /= static_cast<double>(std::max<size_t>(1, n));
  return d;
}

// Logits of every position of `ids` (one causal sequence from position 0).
inline std::vector<float> RunPrompt(std::shared_ptr<const Model> model, const std::vector<int>& ids,
                                    const std::string& isa, int max_batch = 256) {
  SessionOptions o;
  o.isa = isa;
  o.n_threads = 2;
  o.max_batch = max_batch;
  Session s(std::move(model), o);
  std::vector<float> logits(ids.size() * static_cast<size_t>(s.model().config().vocab_size));
  s.Forward(ids, logits.data());
  return logits;
}

inline int Argmax(const float* v, int n) {
  return static_cast<int>(std::max_element(v, v + n) - v);
}

// `steps` greedy ids after `prompt`.
inline std::vector<int> Greedy(std::shared_ptr<const Model> model, const std::vector<int>& prompt,
                               int steps, const std::string& isa) {
  SessionOptions o;
  o.isa = isa;
  o.n_threads = 2;
  Session s(std::move(model), o);
  s.Forward(prompt);
  std::vector<int> out;
  const int V = s.model().config().vocab_size;
  for (int i = 0; i < steps; ++i) {
    const int next = Argmax(s.logits().data(), V);
    out.push_back(next);
    s.Forward(&next, 1);
  }
  return out;
}

}  // namespace gemma::test
