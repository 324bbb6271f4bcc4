#include "core/large_buffer.h"

#include <sys/mman.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "gemma/error.h"

namespace gemma {

std::shared_ptr<uint8_t[]> AllocateLargeBuffer(uint64_t bytes) {
  constexpr uint64_t kHugePage = uint64_t{2} << 20;
  const uint64_t size = (bytes + kHugePage - 1) / kHugePage * kHugePage;
  // Over-reserve by one huge page and trim, so the buffer starts on a 2 MiB boundary.
  void* raw =
      ::mmap(nullptr, size + kHugePage, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (raw == MAP_FAILED) {
    Fail(ErrorKind::kIo,
         "cannot allocate " + std::to_string(bytes) + " bytes: " + std::strerror(errno));
  }
  const auto start = reinterpret_cast<uintptr_t>(raw);
  const uintptr_t aligned = (start + kHugePage - 1) / kHugePage * kHugePage;
  if (aligned > start) ::munmap(raw, aligned - start);
  const uintptr_t end = aligned + size;  // before start + size + kHugePage: a tail is left
  ::munmap(reinterpret_cast<void*>(end), start + size + kHugePage - end);
  auto* p = reinterpret_cast<uint8_t*>(aligned);
#ifdef MADV_HUGEPAGE
  ::madvise(p, size, MADV_HUGEPAGE);  // advisory: no huge pages is not an error
#endif
  return std::shared_ptr<uint8_t[]>(p, [size](uint8_t* q) { ::munmap(q, size); });
}

}  // namespace gemma
