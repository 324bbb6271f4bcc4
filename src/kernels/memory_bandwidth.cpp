#include "kernels/memory_bandwidth.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>
#include <memory>
#include <vector>

#include "core/large_buffer.h"
#include "kernels/thread_pool.h"

namespace gemma {
namespace {

// XOR of every 8-byte word: one load per word and no dependency longer than one XOR, so the
// loop runs at the memory's pace (the compiler vectorizes it; on x86 also a 256-bit clone,
// picked at load time, as one core keeps more bytes in flight with wider loads).
#if defined(__x86_64__) && defined(__GNUC__)
__attribute__((target_clones("avx2", "default")))
#endif
uint64_t
XorWords(const uint8_t* p, uint64_t n) {
  uint64_t acc[8] = {};
  uint64_t i = 0;
  for (; i + 64 <= n; i += 64) {
    for (int k = 0; k < 8; ++k) {
      uint64_t v;
      std::memcpy(&v, p + i + 8 * k, 8);
      acc[k] ^= v;
    }
  }
  uint64_t out = 0;
  for (; i < n; ++i) out ^= p[i];
  for (uint64_t a : acc) out ^= a;
  return out;
}

}  // namespace

double MeasureReadBandwidth(std::span<const std::span<const uint8_t>> regions, ThreadPool& pool,
                            int passes) {
  constexpr uint64_t kChunk = uint64_t{1} << 20;
  std::vector<std::span<const uint8_t>> chunks;
  uint64_t total = 0;
  for (std::span<const uint8_t> r : regions) {
    for (uint64_t off = 0; off < r.size(); off += kChunk)
      chunks.push_back(r.subspan(off, std::min<uint64_t>(kChunk, r.size() - off)));
    total += r.size();
  }
  std::atomic<uint64_t> sink{0};  // keeps the reads from being optimized away
  double best = 0;
  for (int pass = 0; pass < passes; ++pass) {
    const auto t0 = std::chrono::steady_clock::now();
    pool.ParallelFor(static_cast<int64_t>(chunks.size()), 4, [&](int64_t b, int64_t e, int) {
      uint64_t x = 0;
      for (int64_t c = b; c < e; ++c) {
        const auto chunk = chunks[static_cast<size_t>(c)];
        x ^= XorWords(chunk.data(), chunk.size());
      }
      sink.fetch_xor(x, std::memory_order_relaxed);
    });
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    best = std::max(best, static_cast<double>(total) / s);
  }
  return best;
}

double MeasureReadBandwidth(int n_threads) {
  constexpr uint64_t kBytes = uint64_t{1} << 30;
  const std::shared_ptr<uint8_t[]> bytes = AllocateLargeBuffer(kBytes);
  ThreadPool pool(n_threads);
  // Touch every page in parallel so the pages are resident (and spread like the weights).
  constexpr int64_t kPage = int64_t{1} << 21;
  pool.ParallelFor(static_cast<int64_t>(kBytes) / kPage, 16, [&](int64_t b, int64_t e, int) {
    std::memset(bytes.get() + b * kPage, 1, static_cast<size_t>((e - b) * kPage));
  });
  const std::span<const uint8_t> region(bytes.get(), kBytes);
  return MeasureReadBandwidth(std::span(&region, 1), pool, 4);
}

}  // namespace gemma
