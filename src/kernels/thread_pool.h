// A fixed pool of worker threads, started once; the calling thread takes part in every job.
// Work is handed out in chunks from an atomic counter, so uneven chunks balance themselves.
// Decode issues a few hundred small jobs per token, so workers spin briefly for the next job
// before sleeping, and the caller spins for the last chunk instead of sleeping on a condvar.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace gemma {

class ThreadPool {
 public:
  // n_threads counts the caller: 1 means no workers.
  explicit ThreadPool(int n_threads);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int size() const { return static_cast<int>(workers_.size()) + 1; }

  // Calls fn(begin, end, thread_index) over [0, n) in chunks of `grain`; blocks until done.
  // thread_index is in [0, size()) and stable within one call, for per-thread scratch.
  // Not reentrant: one ParallelFor at a time per pool.
  using RangeFn = std::function<void(int64_t begin, int64_t end, int thread_index)>;
  void ParallelFor(int64_t n, int64_t grain, const RangeFn& fn);

 private:
  void WorkerLoop(int index);
  void RunChunks(int thread_index);

  std::vector<std::thread> workers_;
  std::mutex mu_;
  std::condition_variable wake_cv_;
  std::atomic<uint64_t> generation_{0};
  std::atomic<int> pending_{0};  // workers still inside the current job
  std::atomic<bool> stop_{false};

  // The current job (written before generation_ is bumped, read after it is seen).
  const RangeFn* fn_ = nullptr;
  int64_t n_ = 0, grain_ = 1;
  std::atomic<int64_t> next_{0};
};

}  // namespace gemma
