#include <array>
#include <cstdlib>
#include <string>

#include "gemma/error.h"
#include "kernels/cpu_features.h"
#include "kernels/kernels.h"

namespace gemma {
namespace {

constexpr size_t kIsaCount = static_cast<size_t>(Isa::kAvxVnni) + 1;

// Fill functions EmulateIsaForTests registered, by ISA.
std::array<void (*)(KernelTable*), kIsaCount>& EmulatedFills() {
  static std::array<void (*)(KernelTable*), kIsaCount> fills{};
  return fills;
}

bool CpuRuns(Isa isa) {
  switch (isa) {
    case Isa::kScalar:
      return true;
#if defined(GEMMA_HAVE_X86_KERNELS)
    case Isa::kAvx2F32:
    case Isa::kAvx2:
      return GetCpuFeatures().avx2;
    case Isa::kAvx512:
      return GetCpuFeatures().avx512 && GetCpuFeatures().avx512_vnni;
    case Isa::kAvxVnni:
      return GetCpuFeatures().avx_vnni;
#endif
#if defined(GEMMA_HAVE_ARM_KERNELS)
    case Isa::kNeon:
      return true;  // Advanced SIMD is part of every AArch64 core
    case Isa::kNeonDotprod:
      return GetCpuFeatures().arm_dotprod;
#endif
    default:
      return false;
  }
}

bool CpuSupports(Isa isa) {
  return CpuRuns(isa) || EmulatedFills()[static_cast<size_t>(isa)] != nullptr;
}

KernelTable BuildTable(Isa isa) {
  KernelTable t;
  FillScalarKernels(&t);  // every slot has at least the reference
  // A table registered for emulation (tests) is the emulated one even where the CPU runs it.
  if (auto* fill = EmulatedFills()[static_cast<size_t>(isa)]) {
    fill(&t);
    return t;
  }
  if (!CpuRuns(isa)) return t;
  switch (isa) {
#if defined(GEMMA_HAVE_X86_KERNELS)
    case Isa::kAvx2F32:
      FillAvx2Kernels(&t);
      break;
    case Isa::kAvx2:
      FillAvx2Int8Kernels(&t);
      break;
    case Isa::kAvx512:
      native::FillAvx512Kernels(&t);
      break;
    case Isa::kAvxVnni:
      native::FillAvxVnniKernels(&t);
      break;
#endif
#if defined(GEMMA_HAVE_ARM_KERNELS)
    case Isa::kNeon:
      FillNeonKernels(&t);
      break;
    case Isa::kNeonDotprod:
      FillNeonKernels(&t);
      FillNeonDotprodKernels(&t);
      break;
#endif
    default:
      break;
  }
  return t;
}

Isa ParseIsa(const std::string& name) {
  if (name == "scalar") return Isa::kScalar;
  if (name == "avx2") return Isa::kAvx2;
  if (name == "avx2-f32") return Isa::kAvx2F32;
  if (name == "avx512") return Isa::kAvx512;
  if (name == "avx-vnni") return Isa::kAvxVnni;
  if (name == "neon") return Isa::kNeon;
  if (name == "neon-dotprod") return Isa::kNeonDotprod;
  Fail(ErrorKind::kUsage, "unknown ISA '" + name +
                              "' (expected auto, scalar, avx2, avx2-f32, avx-vnni, avx512, neon, "
                              "neon-dotprod)");
}

}  // namespace

const char* IsaName(Isa isa) {
  switch (isa) {
    case Isa::kScalar:
      return "scalar";
    case Isa::kAvx2F32:
      return "avx2-f32";
    case Isa::kAvx2:
      return "avx2";
    case Isa::kAvx512:
      return "avx512";
    case Isa::kNeon:
      return "neon";
    case Isa::kNeonDotprod:
      return "neon-dotprod";
    case Isa::kAvxVnni:
      return "avx-vnni";
  }
  return "?";
}

std::vector<Isa> SupportedIsas() {
  std::vector<Isa> out;
  // avx2 ranks above avx2-f32: for Q8_0/Q4_0 decode its 8-bit activations (llama.cpp's
  // accuracy) run about twice as fast as widening the quants to f32, and decode is what a
  // person waits for. `--isa avx2-f32` keeps the exact f32-activation kernels. The same holds
  // for neon-dotprod over neon.
  for (Isa isa :
       {Isa::kAvx512, Isa::kAvxVnni, Isa::kAvx2, Isa::kAvx2F32, Isa::kNeonDotprod, Isa::kNeon}) {
    if (CpuSupports(isa)) out.push_back(isa);
  }
  out.push_back(Isa::kScalar);
  return out;
}

const KernelTable& KernelsFor(Isa isa) {
  if (!CpuSupports(isa)) {
    Fail(ErrorKind::kUsage,
         std::string("ISA '") + IsaName(isa) + "' is not compiled in or not supported by this CPU");
  }
  // Built once per ISA, immutable afterwards.
  static const KernelTable kTables[] = {BuildTable(Isa::kScalar), BuildTable(Isa::kAvx2F32),
                                        BuildTable(Isa::kAvx2),   BuildTable(Isa::kAvx512),
                                        BuildTable(Isa::kNeon),   BuildTable(Isa::kNeonDotprod),
                                        BuildTable(Isa::kAvxVnni)};
  return kTables[static_cast<int>(isa)];
}

void EmulateIsaForTests(Isa isa, void (*fill)(KernelTable*)) {
  EmulatedFills()[static_cast<size_t>(isa)] = fill;
}

const KernelTable& SelectKernels(const std::string& request) {
  std::string name = request;
  if (name.empty() || name == "auto") {
    const char* env = std::getenv("GEMMA_ISA");
    name = env != nullptr ? env : "";
  }
  if (name.empty() || name == "auto") return KernelsFor(SupportedIsas().front());
  return KernelsFor(ParseIsa(name));
}

}  // namespace gemma
