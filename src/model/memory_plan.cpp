#include "model/memory_plan.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "gemma/error.h"
#include "model/session.h"

namespace gemma {
namespace {

std::optional<uint64_t> ReadMemAvailable() {
  std::ifstream in("/proc/meminfo");
  std::string key;
  uint64_t kib = 0;
  std::string unit;
  while (in >> key >> kib >> unit) {
    if (key == "MemAvailable:") return kib * 1024;
  }
  return std::nullopt;
}

std::optional<uint64_t> ReadCgroupLimit() {
  for (const char* path :
       {"/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"}) {
    std::ifstream in(path);
    std::string text;
    if (!(in >> text) || text == "max") continue;
    char* end = nullptr;
    const unsigned long long v = std::strtoull(text.c_str(), &end, 10);
    // cgroup v1 reports "no limit" as a number near 2^63.
    if (end != text.c_str() && *end == '\0' && v < (1ULL << 60)) return v;
  }
  return std::nullopt;
}

}  // namespace

MemoryPlan PlanMemory(const Model& model, int context_length, int max_batch, DType kv_type,
                      int n_threads) {
  SessionOptions options;
  options.context_length = context_length;
  options.max_batch = max_batch;
  options.n_threads = n_threads;
  options.kv_type = kv_type;
  // Sized by the Session's own functions, so the plan is what a Session really allocates.
  const Session::PlannedBytes session = Session::Plan(model.config(), options);
  MemoryPlan p;
  p.weight_bytes = model.checkpoint().WeightBytes();
  p.kv_cache_bytes = session.kv_cache;
  p.scratch_bytes = session.scratch + session.kernel_threads;
  return p;
}

uint64_t ParseByteSize(const std::string& text) {
  std::istringstream in(text);
  double value = 0;
  std::string suffix;
  if (!(in >> value) || value < 0) Fail(ErrorKind::kUsage, "bad byte size '" + text + "'");
  in >> suffix;
  double scale = 1;
  if (suffix == "K" || suffix == "k" || suffix == "KiB")
    scale = 1024.0;
  else if (suffix == "M" || suffix == "MiB")
    scale = 1024.0 * 1024;
  else if (suffix == "G" || suffix == "GiB")
    scale = 1024.0 * 1024 * 1024;
  else if (suffix == "T" || suffix == "TiB")
    scale = 1024.0 * 1024 * 1024 * 1024;
  else if (!suffix.empty() && suffix != "B")
    Fail(ErrorKind::kUsage, "bad byte size '" + text + "'");
  const double bytes = value * scale;
  if (bytes > 1.8e19) Fail(ErrorKind::kUsage, "byte size '" + text + "' is too large");
  return static_cast<uint64_t>(bytes);
}

std::optional<uint64_t> AvailableMemoryBytes() {
  if (const char* env = std::getenv("GEMMA_MEMORY_LIMIT"); env != nullptr && *env != '\0') {
    return ParseByteSize(env);
  }
  std::optional<uint64_t> available = ReadMemAvailable();
  if (const auto limit = ReadCgroupLimit()) {
    available = available ? std::min(*available, *limit) : *limit;
  }
  return available;
}

int ChooseContextLength(const Model& model, int requested, int max_batch, int cap,
                        std::optional<uint64_t> available, DType kv_type, int floor) {
  if (requested < 0) Fail(ErrorKind::kUsage, "context size must be positive");
  if (requested > 0) return requested;
  const int hi = std::max(1, std::min(model.config().context_length, cap));
  if (!available || PlanMemory(model, hi, max_batch, kv_type).total() <= *available) return hi;
  // The plan grows with the context: binary search the largest that fits.
  int lo = std::min(floor, hi), best = lo;
  int top = hi;
  while (lo <= top) {
    const int mid = lo + (top - lo) / 2;
    if (PlanMemory(model, mid, max_batch, kv_type).total() <= *available) {
      best = mid;
      lo = mid + 1;
    } else {
      top = mid - 1;
    }
  }
  return best;
}

void CheckMemoryFits(const MemoryPlan& plan, int context_length,
                     std::optional<uint64_t> available) {
  if (!available || plan.total() <= *available) return;
  std::string hint;
  if (plan.weight_bytes > *available) {
    hint =
        "the weights alone do not fit: use a smaller model or a quantized type "
        "(gemma quantize IN OUT --type q4_0)";
  } else {
    hint = fmt::format("try a smaller context (-c {}) or a quantized type",
                       std::max(1, context_length / 4));
  }
  Fail(ErrorKind::kUnsupported,
       fmt::format("not enough memory: need about {} (weights {}, KV cache {} for {} tokens, "
                   "scratch {}) but only {} is available; {}",
                   FormatBytes(plan.total()), FormatBytes(plan.weight_bytes),
                   FormatBytes(plan.kv_cache_bytes), context_length,
                   FormatBytes(plan.scratch_bytes), FormatBytes(*available), hint));
}

std::string FormatBytes(uint64_t bytes) {
  const double b = static_cast<double>(bytes);
  if (b >= 1024.0 * 1024 * 1024) return fmt::format("{:.2f} GiB", b / (1024.0 * 1024 * 1024));
  if (b >= 1024.0 * 1024) return fmt::format("{:.1f} MiB", b / (1024.0 * 1024));
  if (b >= 1024.0) return fmt::format("{:.1f} KiB", b / 1024.0);
  return fmt::format("{} B", bytes);
}

}  // namespace gemma
