// Sustained DRAM read bandwidth, the ceiling decode is held against: plain loads (nothing
// computed), spread over a thread pool in 1 MiB chunks, best of a few passes.
#pragma once

#include <cstdint>
#include <span>

namespace gemma {

class ThreadPool;

// Bytes per second reading every byte of `regions` once per pass, best of `passes`. Given a
// model's weights it measures the very pages decode streams, at the moment it is called.
double MeasureReadBandwidth(std::span<const std::span<const uint8_t>> regions, ThreadPool& pool,
                            int passes);

// The same over a fresh 1 GiB buffer (huge pages where the OS has them, as the weights get), for
// `gemma bench --mem` without a model.
double MeasureReadBandwidth(int n_threads);

}  // namespace gemma
