// Micro-benchmarks of the kernels (Google Benchmark): throughput of each weight type's dot
// product and prefill tile per ISA, on cache-resident and DRAM-sized weights. Figures, not
// pass/fail: speed targets live here and in `gemma bench`, never in unit tests.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <memory>
#include <random>
#include <vector>

#include "core/dtype.h"
#include "core/large_buffer.h"
#include "core/quant/quantize.h"
#include "kernels/kernels.h"
#include "kernels/ops.h"
#include "kernels/thread_pool.h"

namespace gemma {
namespace {

// Whether this machine runs `isa`'s table; if not, the benchmark is skipped with a message.
bool IsaSupported(benchmark::State& state, Isa isa) {
  std::vector<Isa> supported = SupportedIsas();
  if (std::find(supported.begin(), supported.end(), isa) != supported.end()) return true;
  state.SkipWithError("ISA not supported here");
  return false;
}

// Weights in the same kind of memory as a synthetic model's (huge pages where available).
struct Weights {
  std::shared_ptr<uint8_t[]> storage;
  uint64_t size = 0;
  TensorView view;
};

Weights MakeWeights(DType t, int64_t rows, int64_t cols) {
  Weights w;
  const uint64_t row_bytes = RowBytes(t, static_cast<uint64_t>(cols));
  w.size = row_bytes * static_cast<uint64_t>(rows);
  w.storage = AllocateLargeBuffer(w.size);
  std::mt19937 rng(1);
  std::normal_distribution<float> nd(0.f, 0.05f);
  std::vector<float> row(static_cast<size_t>(cols));
  for (int64_t r = 0; r < rows; ++r) {
    for (float& v : row) v = nd(rng);
    QuantizeRow(t, row.data(), w.storage.get() + r * row_bytes, cols);
  }
  w.view.dtype = t;
  w.view.n_dims = 2;
  w.view.shape = {rows, cols, 0, 0};
  w.view.data = w.storage.get();
  w.view.n_bytes = w.size;
  return w;
}

// args: dtype, isa, rows, tokens, threads. Gemma 3 1B shapes: d 1152, ff 6912.
void BM_MatMul(benchmark::State& state) {
  const auto t = static_cast<DType>(state.range(0));
  const auto isa = static_cast<Isa>(state.range(1));
  // 1152 (Gemma 3 1B's d) rounded up to whole blocks: 1280 for the 256-element K-quants.
  const int64_t block = GetDTypeInfo(t).block_elems;
  const int64_t rows = state.range(2), tokens = state.range(3);
  const int64_t cols = (1152 + block - 1) / block * block;
  if (!IsaSupported(state, isa)) return;
  if (!HasQuantizer(t)) {
    state.SkipWithError("no quantizer for this type");
    return;
  }
  const KernelTable& k = KernelsFor(isa);
  const Weights w = MakeWeights(t, rows, cols);
  std::vector<float> x(static_cast<size_t>(cols * tokens), 0.5f),
      y(static_cast<size_t>(rows * tokens));
  ThreadPool pool(static_cast<int>(state.range(4)));
  for (auto _ : state) {
    MatMul(k, pool, w.view, x.data(), tokens, cols, y.data(), rows);
    benchmark::DoNotOptimize(y.data());
  }
  state.SetLabel(std::string(DTypeName(t)) + "/" + IsaName(isa));
  state.counters["weights_GBps"] = benchmark::Counter(
      static_cast<double>(w.size) * state.iterations(), benchmark::Counter::kIsRate);
  state.counters["MACs"] = benchmark::Counter(
      static_cast<double>(rows * cols * tokens) * state.iterations(), benchmark::Counter::kIsRate);
}

void Args(benchmark::internal::Benchmark* b) {
  for (DType t : {DType::kBF16, DType::kQ8_0, DType::kQ4_0, DType::kQ5_0, DType::kQ5_1,
                  DType::kQ4_K, DType::kQ5_K, DType::kQ6_K}) {
    for (Isa isa : {Isa::kScalar, Isa::kAvx2F32, Isa::kAvx2, Isa::kAvxVnni, Isa::kAvx512}) {
      // 96 rows: L2-resident weights (compute speed); 6912 x 1152: an ffn matrix from DRAM.
      // 4 tokens: the per-type prefill tiles; 64 and 256: the packed f32 panel path.
      for (int64_t rows : {96, 6912}) {
        for (int64_t tokens : {1, 4, 64, 256}) {
          if (rows == 96 && tokens == 256) continue;
          if (isa == Isa::kScalar && tokens > 1) continue;
          b->Args({static_cast<int64_t>(t), static_cast<int64_t>(isa), rows, tokens, 1});
        }
      }
    }
  }
  b->Args({static_cast<int64_t>(DType::kQ4_0), static_cast<int64_t>(Isa::kAvx2F32), 6912, 1, 2});
  b->Args({static_cast<int64_t>(DType::kBF16), static_cast<int64_t>(Isa::kAvx2F32), 6912, 1, 2});
  // Decode from DRAM on both cores (weights far larger than L3): the figure to hold against
  // `gemma bench --mem`, which reads f32 rows with the same thread pool.
  for (DType t : {DType::kF32, DType::kBF16, DType::kQ8_0, DType::kQ4_0, DType::kQ4_K, DType::kQ5_K,
                  DType::kQ6_K}) {
    for (Isa isa : {Isa::kAvx2, Isa::kAvxVnni, Isa::kAvx512}) {
      b->Args({static_cast<int64_t>(t), static_cast<int64_t>(isa), 65536, 1, 2});
    }
  }
}

BENCHMARK(BM_MatMul)->Apply(Args)->UseRealTime()->Unit(benchmark::kMicrosecond);

// The prefill micro-kernel alone on L1-resident operands: a 256-deep panel slice against 24
// tokens (whole groups of every table: 6 on AVX2 and NEON, 12 on AVX-512), the shape
// PackedMatMul feeds it. Its MAC rate is the ceiling for packed prefill.
void BM_PanelGemm(benchmark::State& state) {
  const auto isa = static_cast<Isa>(state.range(0));
  if (!IsaSupported(state, isa)) return;
  const PanelGemmFn gemm = KernelsFor(isa).panel_gemm;
  const int64_t kc = 256;
  const int64_t tokens = 24;
  std::vector<float> panel(static_cast<size_t>(kc * kPanelRows), 0.01f),
      x(static_cast<size_t>(kc * tokens), 0.5f), y(kPanelRows * tokens);
  for (auto _ : state) {
    gemm(panel.data(), kc, x.data(), kc, tokens, kPanelRows, y.data(), kPanelRows, true);
    benchmark::DoNotOptimize(y.data());
  }
  state.SetLabel(IsaName(isa));
  state.counters["MACs"] =
      benchmark::Counter(static_cast<double>(kc * kPanelRows * tokens) * state.iterations(),
                         benchmark::Counter::kIsRate);
}
BENCHMARK(BM_PanelGemm)
    ->Arg(static_cast<int64_t>(Isa::kScalar))
    ->Arg(static_cast<int64_t>(Isa::kAvx2F32))
    ->Arg(static_cast<int64_t>(Isa::kAvx512))
    ->Arg(static_cast<int64_t>(Isa::kNeon));

// The int8 Q4_0 prefill micro-kernel alone: a packed panel of 36 blocks (L1) against 24 tokens.
void BM_Int8PanelGemm(benchmark::State& state) {
  const auto isa = static_cast<Isa>(state.range(0));
  if (!IsaSupported(state, isa)) return;
  const Int8PanelGemmFn gemm = KernelsFor(isa).int8_panel_gemm;
  if (gemm == nullptr) {
    state.SkipWithError("no int8 Q4_0 panel kernel in this table");
    return;
  }
  const int64_t n_blocks = 36;  // a 1152-wide row, as Gemma 3 1B's
  std::vector<Int8PanelBlock> panel(n_blocks);
  for (Int8PanelBlock& pb : panel) {
    std::memset(pb.q, 9, sizeof pb.q);
    for (float& d : pb.d) d = 0.01f;
  }
  // 24 tokens: whole tiles of every table (3 tokens on AVX2 and NEON, 8 on AVX-512).
  const int64_t tokens = 24;
  std::vector<ActBlockQ8> x(static_cast<size_t>(n_blocks * tokens));
  for (ActBlockQ8& b : x) {
    b.d = 0.5f;
    std::memset(b.qs, 3, sizeof b.qs);
  }
  std::vector<Int8PairCorr> corr(x.size(), MakeInt8PairCorr(x[0], 8));
  const auto& table = KernelsFor(isa);
  if (table.int8_panel_to_signed != nullptr) {  // signed panels: as PackedMatMulInt8 hands them
    table.int8_panel_to_signed(panel.data(), n_blocks, 8);
    for (ActBlockQ8& b : x)
      for (int8_t& q : b.qs) q = static_cast<int8_t>(q ^ 0x80);
  }
  std::vector<float> y(static_cast<size_t>(kInt8PanelRows * tokens));
  for (auto _ : state) {
    gemm(panel.data(), n_blocks, x.data(), corr.data(), n_blocks, tokens, kInt8PanelRows, y.data(),
         kInt8PanelRows, true);
    benchmark::DoNotOptimize(y.data());
  }
  state.SetLabel(IsaName(isa));
  state.counters["MACs"] = benchmark::Counter(
      static_cast<double>(n_blocks * 32 * kInt8PanelRows * tokens) * state.iterations(),
      benchmark::Counter::kIsRate);
}
BENCHMARK(BM_Int8PanelGemm)
    ->Arg(static_cast<int64_t>(Isa::kAvx512))
    ->Arg(static_cast<int64_t>(Isa::kAvxVnni))
    ->Arg(static_cast<int64_t>(Isa::kAvx2))
    ->Arg(static_cast<int64_t>(Isa::kNeonDotprod));

// Attention of 1 or 4 query heads (Gemma 3 1B's GQA group) over n cached keys of their KV head
// (head_dim 256): scores then the weighted sum of V rows. args: cache dtype, isa, keys, heads.
void BM_KvAttention(benchmark::State& state) {
  const auto t = static_cast<DType>(state.range(0));
  const auto isa = static_cast<Isa>(state.range(1));
  const int64_t keys = state.range(2), heads = state.range(3), hd = 256;
  if (!IsaSupported(state, isa)) return;
  const KernelTable& k = KernelsFor(isa);
  std::vector<uint8_t> cache(static_cast<size_t>(keys * hd * 4), 0x3c);
  std::vector<float> q(static_cast<size_t>(heads * hd), 0.1f),
      p(static_cast<size_t>(heads * keys), 0.01f), scores(p.size()),
      out(static_cast<size_t>(heads * hd));
  for (auto _ : state) {
    k.kv_scores[static_cast<size_t>(t)](q.data(), heads, cache.data(), hd, keys, hd, scores.data(),
                                        keys);
    k.kv_accumulate[static_cast<size_t>(t)](p.data(), keys, heads, cache.data(), hd, keys, hd,
                                            out.data());
    benchmark::DoNotOptimize(out.data());
  }
  state.SetLabel(std::string(DTypeName(t)) + "/" + IsaName(isa));
  state.counters["head_keys"] = benchmark::Counter(
      static_cast<double>(keys * heads) * state.iterations(), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_KvAttention)
    ->ArgsProduct({{static_cast<int64_t>(DType::kF32), static_cast<int64_t>(DType::kF16),
                    static_cast<int64_t>(DType::kQ8_0)},
                   {static_cast<int64_t>(Isa::kScalar), static_cast<int64_t>(Isa::kAvx2F32),
                    static_cast<int64_t>(Isa::kAvx512)},
                   {512, 4096},
                   {1, 4}})
    ->UseRealTime()
    ->Unit(benchmark::kMicrosecond);

// The element-wise slots per ISA on the shapes that made them show up in profiles:
// gelu_tanh_mul over a Gemma 3 1B prefill chunk (ff 6912 x 64 tokens), soft_cap over Gemma 2's
// 256k-entry logits row (every decoded token), softmax over 4096 attention scores.
// args: isa. Counters: elements per second.
std::vector<float> NormalValues(int64_t n, float stddev, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> nd(0.f, stddev);
  std::vector<float> v(static_cast<size_t>(n));
  for (float& x : v) x = nd(rng);
  return v;
}

void BM_GeluTanhMul(benchmark::State& state) {
  const auto isa = static_cast<Isa>(state.range(0));
  if (!IsaSupported(state, isa)) return;
  const KernelTable& k = KernelsFor(isa);
  const int64_t n = 6912 * 64;
  const std::vector<float> gate = NormalValues(n, 2.f, 1), up = NormalValues(n, 1.f, 2);
  std::vector<float> out(static_cast<size_t>(n));
  for (auto _ : state) {
    k.gelu_tanh_mul(gate.data(), up.data(), n, out.data());
    benchmark::DoNotOptimize(out.data());
  }
  state.SetLabel(IsaName(isa));
  state.counters["elems"] =
      benchmark::Counter(static_cast<double>(n) * state.iterations(), benchmark::Counter::kIsRate);
}
// In place like the forward pass: each iteration restores the input outside the timed region.
void BM_SoftCap(benchmark::State& state) {
  const auto isa = static_cast<Isa>(state.range(0));
  if (!IsaSupported(state, isa)) return;
  const KernelTable& k = KernelsFor(isa);
  const int64_t n = 262144;
  const std::vector<float> logits = NormalValues(n, 10.f, 3);
  std::vector<float> x = logits;
  for (auto _ : state) {
    state.PauseTiming();
    x = logits;
    state.ResumeTiming();
    k.soft_cap(x.data(), n, 30.f);
    benchmark::DoNotOptimize(x.data());
  }
  state.SetLabel(IsaName(isa));
  state.counters["elems"] =
      benchmark::Counter(static_cast<double>(n) * state.iterations(), benchmark::Counter::kIsRate);
}
void BM_Softmax(benchmark::State& state) {
  const auto isa = static_cast<Isa>(state.range(0));
  if (!IsaSupported(state, isa)) return;
  const KernelTable& k = KernelsFor(isa);
  const int64_t n = 4096;
  const std::vector<float> scores = NormalValues(n, 3.f, 4);
  std::vector<float> x = scores;
  for (auto _ : state) {
    state.PauseTiming();
    x = scores;
    state.ResumeTiming();
    k.softmax(x.data(), n);
    benchmark::DoNotOptimize(x.data());
  }
  state.SetLabel(IsaName(isa));
  state.counters["elems"] =
      benchmark::Counter(static_cast<double>(n) * state.iterations(), benchmark::Counter::kIsRate);
}
// The ISAs built and usable here; avx2-f32 has the same element-wise slots as avx2.
void ElementwiseArgs(benchmark::internal::Benchmark* b) {
  for (Isa isa : SupportedIsas()) {
    if (isa != Isa::kAvx2F32) b->Arg(static_cast<int64_t>(isa));
  }
}
BENCHMARK(BM_GeluTanhMul)->Apply(ElementwiseArgs)->UseRealTime()->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_SoftCap)->Apply(ElementwiseArgs)->UseRealTime()->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_Softmax)->Apply(ElementwiseArgs)->UseRealTime()->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace gemma

BENCHMARK_MAIN();
