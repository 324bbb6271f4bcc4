// Large in-memory buffers the engine fills itself: synthetic weights and the bandwidth probe.
// A model file mapped from disk is read through 2 MiB pages where the kernel can (ext4 and
// xfs map their large page-cache folios that way on Linux 6.x), which cuts TLB misses in the
// once-per-token weight stream; buffers made here ask for the same (transparent huge pages),
// so a synthetic model streams like a real file and the probe measures what the weights see.
#pragma once

#include <cstdint>
#include <memory>

namespace gemma {

// `bytes` of zeroed memory aligned to 2 MiB, advised for transparent huge pages where the OS
// has them (advisory: plain pages otherwise). Throws Error(kIo) when the memory is not there.
std::shared_ptr<uint8_t[]> AllocateLargeBuffer(uint64_t bytes);

}  // namespace gemma
