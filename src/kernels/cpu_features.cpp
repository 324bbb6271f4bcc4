#include "kernels/cpu_features.h"

#if defined(__x86_64__) || defined(_M_X64)
#include <cpuid.h>
#endif
#if defined(__aarch64__) && defined(__linux__)
#include <asm/hwcap.h>
#include <sys/auxv.h>
#endif

namespace gemma {
namespace {

#if defined(__x86_64__) || defined(_M_X64)
struct CpuidRegs {
  unsigned a = 0, b = 0, c = 0, d = 0;
};

CpuidRegs Cpuid(unsigned leaf, unsigned subleaf) {
  CpuidRegs r;
  if (!__get_cpuid_count(leaf, subleaf, &r.a, &r.b, &r.c, &r.d)) return CpuidRegs{};
  return r;
}

// XCR0: which register states the OS saves on a context switch. A CPU feature whose state the
// OS does not save must not be used even if CPUID reports it.
unsigned long long ReadXcr0() {
  unsigned lo = 0, hi = 0;
  __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
  return (static_cast<unsigned long long>(hi) << 32) | lo;
}

bool Bit(unsigned reg, int bit) {
  return (reg >> bit) & 1u;
}

CpuFeatures Probe() {
  CpuFeatures f;
  const CpuidRegs l1 = Cpuid(1, 0);
  const bool osxsave = Bit(l1.c, 27);
  if (!osxsave) return f;
  const unsigned long long xcr0 = ReadXcr0();
  const bool ymm_state = (xcr0 & 0x6) == 0x6;           // SSE + AVX
  const bool zmm_state = (xcr0 & 0xe6) == 0xe6;         // + opmask, ZMM_Hi256, Hi16_ZMM
  const bool tile_state = (xcr0 & 0x60000) == 0x60000;  // XTILECFG + XTILEDATA
  const CpuidRegs l7 = Cpuid(7, 0);
  const CpuidRegs l7s1 = Cpuid(7, 1);
  const bool fma = Bit(l1.c, 12), f16c = Bit(l1.c, 29);
  f.avx2 = ymm_state && Bit(l7.b, 5) && fma && f16c;
  f.avx512 = f.avx2 && zmm_state && Bit(l7.b, 16) /*F*/ && Bit(l7.b, 17) /*DQ*/ &&
             Bit(l7.b, 30) /*BW*/ && Bit(l7.b, 31) /*VL*/;
  f.avx512_vnni = f.avx512 && Bit(l7.c, 11);
  f.avx512_bf16 = f.avx512 && Bit(l7s1.a, 5);
  f.avx_vnni = f.avx2 && Bit(l7s1.a, 4);
  f.amx_bf16 = tile_state && Bit(l7.d, 22) && Bit(l7.d, 24);
  return f;
}
#elif defined(__aarch64__)
CpuFeatures Probe() {
  CpuFeatures f;
#if defined(__linux__)
  f.arm_dotprod = (getauxval(AT_HWCAP) & HWCAP_ASIMDDP) != 0;
#elif defined(__APPLE__)
  f.arm_dotprod = true;  // every Apple silicon core has the dot-product extension
#endif
  return f;
}
#else
CpuFeatures Probe() {
  return CpuFeatures{};
}
#endif

}  // namespace

const CpuFeatures& GetCpuFeatures() {
  static const CpuFeatures features = Probe();
  return features;
}

}  // namespace gemma
