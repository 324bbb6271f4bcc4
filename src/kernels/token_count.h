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

}  // namespace gemma
