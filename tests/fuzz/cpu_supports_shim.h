// Force-included into src/kernels/dispatch.cpp by fuzz.cmake when the compiler's
// __builtin_cpu_supports does not know "f16c" (clang < 15). Answers that one from CPUID
// (leaf 1, ECX bit 29) and forwards the rest to the builtin.
#pragma once

#include <cpuid.h>

#include <cstring>

inline bool GemmaFuzzCpuSupports(const char* feature) {
  if (std::strcmp(feature, "f16c") == 0) {
    unsigned a = 0, b = 0, c = 0, d = 0;
    return __get_cpuid(1, &a, &b, &c, &d) && (c & bit_F16C) != 0;
  }
  if (std::strcmp(feature, "avx2") == 0) return __builtin_cpu_supports("avx2");
  if (std::strcmp(feature, "fma") == 0) return __builtin_cpu_supports("fma");
  if (std::strcmp(feature, "avx512f") == 0) return __builtin_cpu_supports("avx512f");
  if (std::strcmp(feature, "avx512bw") == 0) return __builtin_cpu_supports("avx512bw");
  if (std::strcmp(feature, "avx512vl") == 0) return __builtin_cpu_supports("avx512vl");
  if (std::strcmp(feature, "avx512dq") == 0) return __builtin_cpu_supports("avx512dq");
  if (std::strcmp(feature, "avx512vnni") == 0) return __builtin_cpu_supports("avx512vnni");
  if (std::strcmp(feature, "avx512bf16") == 0) return __builtin_cpu_supports("avx512bf16");
  return false;  // unknown to this shim: the dispatcher falls back to a slower table
}

#define __builtin_cpu_supports(feature) GemmaFuzzCpuSupports(feature)
