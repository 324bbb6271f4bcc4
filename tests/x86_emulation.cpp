// On a CPU without AVX-512 (VNNI) or AVX-VNNI, every test that runs per ISA also runs those
// tables, built from the same kernel sources against SIMDe's emulation of the intrinsics
// (tests/CMakeLists.txt, src/kernels/x86/x86_intrinsics.h). Registered before main, so before
// gtest expands SupportedIsas().
#include <cstdlib>
#include <string_view>

#include "kernels/cpu_features.h"
#include "kernels/kernels.h"

namespace gemma::emulated {
void FillAvx512Kernels(KernelTable* table);
void FillAvxVnniKernels(KernelTable* table);
}  // namespace gemma::emulated

namespace {

const bool kRegistered = [] {
  const gemma::CpuFeatures& cpu = gemma::GetCpuFeatures();
  if (!cpu.avx2) return false;  // the emulation itself runs on AVX2
  // Where the CPU runs a table natively, the native one is tested instead, unless
  // GEMMA_TEST_EMULATE_X86=1 asks for the emulated build (to check it on such a CPU).
  const char* force = std::getenv("GEMMA_TEST_EMULATE_X86");
  const bool emulate_all = force != nullptr && std::string_view(force) == "1";
  if (emulate_all || !(cpu.avx512 && cpu.avx512_vnni)) {
    gemma::EmulateIsaForTests(gemma::Isa::kAvx512, &gemma::emulated::FillAvx512Kernels);
  }
  if (emulate_all || !cpu.avx_vnni) {
    gemma::EmulateIsaForTests(gemma::Isa::kAvxVnni, &gemma::emulated::FillAvxVnniKernels);
  }
  return true;
}();

}  // namespace
