// What the CPU and the OS let this process run, probed once from CPUID and XGETBV.
#pragma once

namespace gemma {

struct CpuFeatures {
  bool avx2 = false;    // AVX2 + FMA + F16C, with the OS saving YMM state
  bool avx512 = false;  // F + BW + VL + DQ, with the OS saving ZMM/opmask state
  bool avx512_bf16 = false;
  bool avx512_vnni = false;
  bool avx_vnni = false;
  bool amx_bf16 = false;  // tile instructions present and XCR0 enables tile state
  bool arm_dotprod = false;
};

// Probed on first call; later calls return the same object.
const CpuFeatures& GetCpuFeatures();

}  // namespace gemma
