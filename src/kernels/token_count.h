// Micro-kernels keep one accumulator per token in registers, so their token count must be a
// compile-time constant: WithTokenCount turns a run-time count into one.
#pragma once

#include <cstdint>

namespace gemma {

// Calls body.template operator()<NT>() with NT == n, for 1 <= n <= kMax; other n do nothing.
template <int kMax, typename Body>
inline void WithTokenCount(int64_t n, Body&& body) {
  static_assert(kMax >= 1, "at least one token");
  if constexpr (kMax > 1) {
    if (n < kMax) return WithTokenCount<kMax - 1>(n, body);
  }
  if (n == kMax) body.template operator()<kMax>();
}

// Cuts n tokens into groups of kTokens (the last one smaller) and calls
// body.template operator()<NT>(t0) for each, NT being the group's size, t0 its first token.
template <int kTokens, typename Body>
inline void ForTokenGroups(int64_t n_tokens, Body&& body) {
  for (int64_t t0 = 0; t0 < n_tokens; t0 += kTokens) {
    const int64_t n = n_tokens - t0 < kTokens ? n_tokens - t0 : kTokens;
    WithTokenCount<kTokens>(n, [&]<int NT>() { body.template operator()<NT>(t0); });
  }
}

}  // namespace gemma
