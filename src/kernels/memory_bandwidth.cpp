#include "kernels/memory_bandwidth.h"

#include <algorithm>
#include <chrono>
#include <memory>
#include <vector>

#include "core/large_buffer.h"
#include "kernels/thread_pool.h"

namespace gemma {

double MeasureReadBandwidth(const KernelTable& kernels, int n_threads) {
  constexpr int64_t kRowElems = 4096;                              // 16 KiB rows of f32
  constexpr int64_t kRows = (int64_t{1} << 30) / (kRowElems * 4);  // 1 GiB
  // The same kind of pages as the weights (huge pages where the OS has them), so the figure is
  // the bandwidth the weight stream can reach.
  const std::shared_ptr<uint8_t[]> bytes =
      AllocateLargeBuffer(static_cast<uint64_t>(kRows * kRowElems) * sizeof(float));
  auto* buf = reinterpret_cast<float*>(bytes.get());
  ThreadPool pool(n_threads);
  // Touch every page in parallel so the pages are resident (and spread like the weights).
  pool.ParallelFor(kRows, 64, [&](int64_t b, int64_t e, int) {
    for (int64_t r = b; r < e; ++r) std::fill_n(buf + r * kRowElems, kRowElems, 1e-3f);
  });
  std::vector<float> x(kRowElems, 1.f), y(static_cast<size_t>(kRows));
  const DotRowsFn dot = kernels.dot_rows[static_cast<size_t>(DType::kF32)];
  double best = 0;
  for (int pass = 0; pass < 4; ++pass) {
    const auto t0 = std::chrono::steady_clock::now();
    pool.ParallelFor(kRows, 256, [&](int64_t b, int64_t e, int) {
      dot(reinterpret_cast<const uint8_t*>(buf + b * kRowElems), kRowElems * 4, e - b, x.data(),
          kRowElems, y.data() + b);
    });
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    best = std::max(best, static_cast<double>(kRows * kRowElems * 4) / s);
  }
  return best;
}

}  // namespace gemma
