// What running a model at a given context costs in RAM, and whether this machine has it.
// Checked before the forward pass touches the mapping, so an oversized request is refused with
// a hint instead of the process being killed by the OOM killer mid-prompt.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "model/model.h"

namespace gemma {

struct MemoryPlan {
  uint64_t weight_bytes = 0;    // tensor bytes the forward pass reads (mapped or owned)
  uint64_t kv_cache_bytes = 0;  // K and V for the context (sliding layers: their window only)
  // Every buffer a Session owns besides the KV cache (Session::Plan: exactly what
  // Session::scratch_bytes() reports), plus the matmul kernels' per-thread buffers (estimated).
  uint64_t scratch_bytes = 0;
  uint64_t total() const { return weight_bytes + kv_cache_bytes + scratch_bytes; }
};

// What a Session with these options costs; n_threads 0 means hardware concurrency, as in
// SessionOptions.
MemoryPlan PlanMemory(const Model& model, int context_length, int max_batch,
                      DType kv_type = DType::kF32, int n_threads = 0);

// Bytes this process may still use: MemAvailable from /proc/meminfo, lowered to the cgroup
// limit when one is set; the environment variable GEMMA_MEMORY_LIMIT (bytes, or with a K/M/G
// suffix) overrides both. Empty when nothing can be read (then no check is made).
std::optional<uint64_t> AvailableMemoryBytes();

// Parses "123", "512M", "4G", "1.5G" (powers of 1024); throws Error(kUsage) on anything else.
uint64_t ParseByteSize(const std::string& text);

// The context length to use: `requested` when > 0, else the largest context up to
// min(model maximum, `cap`) whose plan fits in `available` (never below `floor`, so that an
// impossible fit is reported by CheckMemoryFits rather than hidden by a tiny context).
int ChooseContextLength(const Model& model, int requested, int max_batch, int cap,
                        std::optional<uint64_t> available, DType kv_type = DType::kF32,
                        int floor = 512);

// Throws Error(kUnsupported) with the figures and what to try when `plan` exceeds `available`.
void CheckMemoryFits(const MemoryPlan& plan, int context_length, std::optional<uint64_t> available);

std::string FormatBytes(uint64_t bytes);

}  // namespace gemma
