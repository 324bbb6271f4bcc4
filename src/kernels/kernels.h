// The kernel dispatch table: one set of function pointers, filled once at start-up for the
// instruction set the CPU supports (or the one a user/test forces). Nothing outside src/kernels/
// knows which ISA runs. The scalar table is always built and is the oracle for the others.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "core/dtype.h"

namespace gemma {

// y[r] = sum_i W[r][i] * x[i] for r in [0, n_rows). Row r starts at w + r * row_bytes and holds
// n elements of the table slot's dtype (n is a multiple of its block size).
using DotRowsFn = void (*)(const uint8_t* w, uint64_t row_bytes, int64_t n_rows, const float* x,
                           int64_t n, float* y);

enum class Isa { kScalar, kAvx2, kAvx512, kNeon };

struct KernelTable {
  Isa isa = Isa::kScalar;
  std::array<DotRowsFn, static_cast<size_t>(DType::kCount)> dot_rows{};
};

const char* IsaName(Isa isa);

// ISAs whose kernels are compiled in and that this CPU/OS can run, best first; scalar is last.
std::vector<Isa> SupportedIsas();

// The table for `isa`; throws Error(kUsage) when it is not compiled in or not supported here.
const KernelTable& KernelsFor(Isa isa);

// Picks the table: `request` ("auto", "", "scalar", "avx2", "avx512", "neon"); "auto"/"" honours
// the GEMMA_ISA environment variable, then takes the best supported ISA.
const KernelTable& SelectKernels(const std::string& request);

// Per-ISA registration (src/kernels/x86, src/kernels/arm); each overrides the slots it speeds up.
void FillScalarKernels(KernelTable* table);
#if defined(GEMMA_HAVE_X86_KERNELS)
void FillAvx2Kernels(KernelTable* table);
#endif

}  // namespace gemma
