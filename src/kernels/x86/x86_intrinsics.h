// The intrinsics of the kernel files for instruction sets this project's CI machine lacks
// (*_avx512.cpp, *_avxvnni.cpp). Those files are compiled twice: into the engine with their
// -m flags (the native tables, used only after the CPU check in dispatch.cpp), and into the
// tests with GEMMA_X86_EMULATED, where SIMDe's portable versions of the same intrinsics stand
// in for the instructions (simde_emulation.h), so the kernels are checked against the scalar
// oracles on any x86 CPU with AVX2. The two builds live in different namespaces so they link
// side by side.
#pragma once

#if defined(GEMMA_X86_EMULATED)
#include "kernels/x86/simde_emulation.h"
#define GEMMA_X86_NS emulated
#else
#include <immintrin.h>
#define GEMMA_X86_NS native
#endif

#include "kernels/kernels.h"

namespace gemma::GEMMA_X86_NS {

// The tables these files assemble (declared for dispatch.cpp in kernels.h, namespace native).
void FillAvx512Kernels(KernelTable* table);   // dot_avx512.cpp
void FillAvxVnniKernels(KernelTable* table);  // int8_avxvnni.cpp

}  // namespace gemma::GEMMA_X86_NS
