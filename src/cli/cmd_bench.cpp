// gemma bench: prompt-processing and generation speed, in the spirit of llama-bench (same test
// names pp<N>/tg<N>, same JSON field names), plus the bandwidth decode achieves against the read
// bandwidth of the same weights measured right before each decode repetition (this is a shared
// machine: a figure taken minutes apart moves by a third).
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <cmath>
#include <iostream>
#include <nlohmann/json.hpp>
#include <numeric>
#include <sstream>
#include <thread>

#include <sys/resource.h>

#include "cli/command.h"
#include "cli/common.h"
#include "gemma/error.h"
#include "kernels/memory_bandwidth.h"
#include "kernels/thread_pool.h"
#include "model/synthetic.h"

namespace gemma::cli {
namespace {

struct BenchFlags {
  std::string model;
  std::string synthetic;
  std::string type = "q4_0";
  std::string prompts = "512";
  std::string gens = "128";
  std::string depths = "0";
  std::string threads;
  int reps = 3;
  std::string output = "md";
  std::string isa = "auto";
  std::string baseline;
  std::string kv_type = "f16";
  bool mem_only = false;
};

std::vector<int> ParseIntList(const std::string& s, const char* flag) {
  std::vector<int> v;
  for (int x : ParseIdList(s)) v.push_back(x);
  if (v.empty()) Fail(ErrorKind::kUsage, std::string(flag) + " needs at least one value");
  return v;
}

struct Row {
  std::string model_type;
  uint64_t model_bytes = 0;
  std::string isa;
  std::string test;
  int n_threads = 0, n_prompt = 0, n_gen = 0, n_depth = 0;
  std::vector<double> samples_ts;
  double avg_ts = 0, stddev_ts = 0;
  double gbs = 0, roofline = 0;  // decode only
  double probe_gbs = 0;          // decode only: the weights' read bandwidth, mean over reps
  double baseline_ts = 0;        // --baseline: the matching row's avg_ts, 0 when none
};

// A row of a llama-bench JSON/JSONL file (or any file with its field names).
struct BaselineRow {
  std::string model_type;  // lower-cased, e.g. "gemma3 1b q4_0"
  int n_threads = 0, n_prompt = 0, n_gen = 0, n_depth = 0;
  double avg_ts = 0;
};

std::string Lower(std::string s) {
  for (char& ch : s) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  return s;
}

std::vector<BaselineRow> ReadBaseline(const std::string& path) {
  const std::string text = ReadFileOrThrow(path);
  std::vector<nlohmann::json> items;
  try {
    const size_t first = text.find_first_not_of(" \t\r\n");
    if (first != std::string::npos && text[first] == '[') {
      for (const auto& j : nlohmann::json::parse(text)) items.push_back(j);
    } else {
      std::istringstream lines(text);
      std::string line;
      while (std::getline(lines, line)) {
        if (line.find_first_not_of(" \t\r") == std::string::npos || line[0] == '#') continue;
        items.push_back(nlohmann::json::parse(line));
      }
    }
  } catch (const nlohmann::json::exception& e) {
    Fail(ErrorKind::kFormat, path + ": not llama-bench JSON/JSONL: " + e.what());
  }
  std::vector<BaselineRow> rows;
  for (const auto& j : items) {
    if (!j.is_object() || !j.contains("avg_ts")) {
      Fail(ErrorKind::kFormat, path + ": a row lacks avg_ts");
    }
    BaselineRow b;
    b.model_type = Lower(j.value("model_type", std::string()));
    b.n_threads = j.value("n_threads", 0);
    b.n_prompt = j.value("n_prompt", 0);
    b.n_gen = j.value("n_gen", 0);
    b.n_depth = j.value("n_depth", 0);
    b.avg_ts = j.at("avg_ts").get<double>();
    rows.push_back(b);
  }
  return rows;
}

// The baseline row for the same test, thread count and weight type (the type name must appear
// in the baseline's model_type, as llama-bench writes it: "gemma3 1B Q4_0").
double FindBaseline(const std::vector<BaselineRow>& base, const Row& r, const std::string& dtype) {
  for (const BaselineRow& b : base) {
    if (b.n_threads == r.n_threads && b.n_prompt == r.n_prompt && b.n_gen == r.n_gen &&
        b.n_depth == r.n_depth && b.model_type.find(Lower(dtype)) != std::string::npos) {
      return b.avg_ts;
    }
  }
  return 0;
}

long PeakRssBytes() {
  struct rusage u {};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_maxrss * 1024L;  // Linux reports KiB
}

void Summarize(Row* r) {
  const double n = static_cast<double>(r->samples_ts.size());
  r->avg_ts = std::accumulate(r->samples_ts.begin(), r->samples_ts.end(), 0.0) / n;
  double var = 0;
  for (double s : r->samples_ts) var += (s - r->avg_ts) * (s - r->avg_ts);
  r->stddev_ts = n > 1 ? std::sqrt(var / (n - 1)) : 0;
}

// Random token ids (speed does not depend on them) in the vocabulary.
std::vector<int> Tokens(int n, int vocab, uint32_t seed) {
  std::vector<int> t(static_cast<size_t>(n));
  for (int& id : t) {
    seed = seed * 1664525u + 1013904223u;
    id = 4 + static_cast<int>(seed % static_cast<uint32_t>(vocab - 4));
  }
  return t;
}

double Seconds(std::chrono::steady_clock::duration d) {
  return std::chrono::duration<double>(d).count();
}

// Runs every pp/tg test of `f` on one model and ISA, appending to `rows`.
void BenchModel(const BenchFlags& f, const std::shared_ptr<const Model>& model,
                const std::string& model_type, const std::string& isa_request,
                const std::vector<int>& thread_counts, std::vector<Row>& rows) {
  const uint64_t model_bytes = model->checkpoint().WeightBytes();
  // What one generated token reads: not the unused experts nor all of a per-layer token table.
  const uint64_t decode_bytes = DecodeReadBytes(model->weights(), model->config(), model_bytes);
  const int vocab = model->config().vocab_size;
  const std::string isa = IsaName(SelectKernels(isa_request).isa);
  const std::vector<int> prompts = ParseIntList(f.prompts, "-p");
  const std::vector<int> gens = ParseIntList(f.gens, "-n");
  const std::vector<int> depths = ParseIntList(f.depths, "-d");
  std::vector<std::span<const uint8_t>> weight_regions;
  for (const auto& [name, t] : model->checkpoint().tensors)
    weight_regions.emplace_back(static_cast<const uint8_t*>(t.view.data), t.view.n_bytes);
  auto new_row = [&](const std::string& test, int threads, int np, int ng, int depth) {
    Row r;
    r.model_type = model_type;
    r.model_bytes = model_bytes;
    r.isa = isa;
    r.test = test;
    r.n_threads = threads;
    r.n_prompt = np;
    r.n_gen = ng;
    r.n_depth = depth;
    return r;
  };
  for (int threads : thread_counts) {
    for (int depth : depths) {
      auto make_session = [&](int tokens) {
        SessionOptions o;
        o.n_threads = threads;
        o.isa = isa_request;
        o.context_length = depth + tokens + 1;
        o.max_batch = 512;
        o.kv_type = ParseKvType(f.kv_type);
        return std::make_unique<Session>(model, o);
      };
      for (int np : prompts) {
        if (np <= 0) continue;
        Row r = new_row("pp" + std::to_string(np), threads, np, 0, depth);
        const std::vector<int> fill = Tokens(depth, vocab, 7), toks = Tokens(np, vocab, 11);
        for (int rep = -1; rep < f.reps; ++rep) {  // rep -1: warm-up
          auto s = make_session(np);
          if (depth) s->Forward(fill);
          const auto t0 = std::chrono::steady_clock::now();
          s->Forward(toks);
          if (rep >= 0) r.samples_ts.push_back(np / Seconds(std::chrono::steady_clock::now() - t0));
        }
        Summarize(&r);
        rows.push_back(r);
        spdlog::info("{} {} {} t={} d={}: {:.2f} t/s", model_type, isa, r.test, threads, depth,
                     r.avg_ts);
      }
      for (int ng : gens) {
        if (ng <= 0) continue;
        Row r = new_row("tg" + std::to_string(ng), threads, 0, ng, depth);
        const std::vector<int> fill = Tokens(depth, vocab, 7);
        ThreadPool probe_pool(threads);
        double probe_sum = 0;
        for (int rep = -1; rep < f.reps; ++rep) {
          auto s = make_session(ng);
          if (depth) s->Forward(fill);
          if (rep >= 0) probe_sum += MeasureReadBandwidth(weight_regions, probe_pool, 2);
          int tok = 5;
          const auto t0 = std::chrono::steady_clock::now();
          for (int i = 0; i < ng; ++i) s->Forward(&tok, 1);
          if (rep >= 0) r.samples_ts.push_back(ng / Seconds(std::chrono::steady_clock::now() - t0));
        }
        Summarize(&r);
        // Every weight byte is read once per generated token (the tied embedding too, for the
        // logits), so achieved bandwidth = bytes * tokens/s.
        r.gbs = static_cast<double>(decode_bytes) * r.avg_ts / 1e9;
        r.probe_gbs = probe_sum / f.reps / 1e9;
        r.roofline = 100.0 * r.gbs / r.probe_gbs;
        rows.push_back(r);
        spdlog::info("{} {} {} t={} d={}: {:.2f} t/s", model_type, isa, r.test, threads, depth,
                     r.avg_ts);
      }
    }
  }
}

std::vector<std::string> SplitList(const std::string& s) {
  std::vector<std::string> out;
  std::string cur;
  for (char ch : s + ",") {
    if (ch == ',') {
      if (!cur.empty()) out.push_back(cur);
      cur.clear();
    } else if (ch != ' ') {
      cur += ch;
    }
  }
  return out;
}

int Run(const BenchFlags& f) {
  const std::vector<int> thread_counts =
      f.threads.empty()
          ? std::vector<int>{static_cast<int>(std::max(1u, std::thread::hardware_concurrency()))}
          : ParseIntList(f.threads, "-t");
  const std::vector<std::string> isas = SplitList(f.isa.empty() ? "auto" : f.isa);
  if (f.mem_only) {
    for (int t : thread_counts)
      std::cout << fmt::format("threads {}: {:.1f} GB/s\n", t, MeasureReadBandwidth(t) / 1e9);
    return kExitOk;
  }
  if (f.model.empty() == f.synthetic.empty()) {
    Fail(ErrorKind::kUsage, "give exactly one of -m/--model or --synthetic NAME");
  }
  const std::vector<BaselineRow> baseline =
      f.baseline.empty() ? std::vector<BaselineRow>{} : ReadBaseline(f.baseline);
  std::vector<Row> rows;
  std::vector<std::string> dtype_of_row;  // for baseline matching
  long peak_rss = 0;
  uint64_t largest_model = 0;
  auto bench = [&](const std::shared_ptr<const Model>& model, const std::string& model_type,
                   const std::string& dtype) {
    largest_model = std::max(largest_model, model->checkpoint().WeightBytes());
    for (const std::string& isa : isas) {
      BenchModel(f, model, model_type, isa, thread_counts, rows);
      dtype_of_row.resize(rows.size(), dtype);
    }
  };
  if (!f.synthetic.empty()) {
    for (const std::string& type_name : SplitList(f.type)) {
      const QuantPreset& preset = FindQuantPreset(type_name);
      std::string label(preset.name);
      for (char& ch : label) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
      spdlog::info("building synthetic {} in {}", f.synthetic, label);
      auto model = Model::FromCheckpoint(MakeSyntheticCheckpoint(f.synthetic, preset));
      bench(model, f.synthetic + " " + label, label);
      peak_rss = std::max(peak_rss, PeakRssBytes());
    }
  } else {
    ModelFlags mf;
    mf.model = f.model;
    auto model = LoadModel(mf);
    // The file's declared quantization (GGUF general.file_type, as llama-bench names the model)
    // or else the dominant weight type names the model, for baseline matching too.
    std::string label = model->checkpoint().quant_type;
    for (char& ch : label) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
    if (label.empty()) {
      std::map<DType, uint64_t> by_type;
      for (const auto& [name, t] : model->checkpoint().tensors)
        by_type[t.view.dtype] += t.view.n_bytes;
      DType main = DType::kF32;
      for (const auto& [t, b] : by_type) {
        if (b > by_type[main]) main = t;
      }
      label = DTypeName(main);
    }
    bench(model, model->config().architecture + " " + model->checkpoint().format + " " + label,
          label);
    peak_rss = PeakRssBytes();
  }
  for (size_t i = 0; i < rows.size(); ++i)
    rows[i].baseline_ts = FindBaseline(baseline, rows[i], dtype_of_row[i]);
  spdlog::info("peak RSS {:.2f} GiB (largest model's weights {:.2f} GiB)",
               peak_rss / double(1ull << 30), largest_model / double(1ull << 30));

  const bool with_baseline = !baseline.empty();
  if (f.output == "json" || f.output == "jsonl") {
    nlohmann::json all = nlohmann::json::array();
    for (const Row& r : rows) {
      nlohmann::json j = {{"model_type", r.model_type},
                          {"model_size", r.model_bytes},
                          {"n_threads", r.n_threads},
                          {"n_prompt", r.n_prompt},
                          {"n_gen", r.n_gen},
                          {"n_depth", r.n_depth},
                          {"test", r.test},
                          {"isa", r.isa},
                          {"avg_ts", r.avg_ts},
                          {"stddev_ts", r.stddev_ts},
                          {"samples_ts", r.samples_ts},
                          {"bandwidth_gbs", r.gbs},
                          {"measured_bandwidth_gbs", r.probe_gbs},
                          {"roofline_pct", r.roofline},
                          {"peak_rss_bytes", peak_rss}};
      if (r.baseline_ts > 0) {
        j["baseline_avg_ts"] = r.baseline_ts;
        j["speedup"] = r.avg_ts / r.baseline_ts;
      }
      if (f.output == "jsonl") std::cout << j.dump() << '\n';
      all.push_back(j);
    }
    if (f.output == "json") std::cout << all.dump(2) << '\n';
  } else if (f.output == "csv") {
    std::cout << "model_type,model_size,isa,n_threads,test,n_prompt,n_gen,n_depth,avg_ts,stddev_ts,"
                 "bandwidth_gbs,roofline_pct,baseline_avg_ts,speedup\n";
    for (const Row& r : rows) {
      std::cout << fmt::format(
          "\"{}\",{},{},{},{},{},{},{},{:.3f},{:.3f},{:.2f},{:.1f},{},{}\n", r.model_type,
          r.model_bytes, r.isa, r.n_threads, r.test, r.n_prompt, r.n_gen, r.n_depth, r.avg_ts,
          r.stddev_ts, r.gbs, r.roofline,
          r.baseline_ts > 0 ? fmt::format("{:.3f}", r.baseline_ts) : "",
          r.baseline_ts > 0 ? fmt::format("{:.3f}", r.avg_ts / r.baseline_ts) : "");
    }
  } else if (f.output == "md") {
    std::cout
        << "| model | size | isa | threads | test | t/s | GB/s (decode) | % of measured bandwidth |"
        << (with_baseline ? " baseline t/s | ratio |" : "") << "\n"
        << "| --- | ---: | --- | ---: | --- | ---: | ---: | ---: |"
        << (with_baseline ? " ---: | ---: |" : "") << "\n";
    for (const Row& r : rows) {
      const std::string test = r.n_depth ? fmt::format("{} @ d{}", r.test, r.n_depth) : r.test;
      std::cout << fmt::format(
          "| {} | {:.2f} GiB | {} | {} | {} | {:.2f} ± {:.2f} | {} | {} |", r.model_type,
          r.model_bytes / double(1ull << 30), r.isa, r.n_threads, test, r.avg_ts, r.stddev_ts,
          r.n_gen ? fmt::format("{:.1f}", r.gbs) : "",
          r.n_gen ? fmt::format("{:.0f} % of {:.1f}", r.roofline, r.probe_gbs) : "");
      if (with_baseline) {
        std::cout << (r.baseline_ts > 0 ? fmt::format(" {:.2f} | {:.2f}x |", r.baseline_ts,
                                                      r.avg_ts / r.baseline_ts)
                                        : std::string(" | |"));
      }
      std::cout << "\n";
    }
  } else {
    Fail(ErrorKind::kUsage, "unknown -o '" + f.output + "' (md, csv, json, jsonl)");
  }
  return kExitOk;
}

}  // namespace

Command MakeBenchCommand() {
  auto f = std::make_shared<BenchFlags>();
  Command c;
  c.name = "bench";
  c.summary = "Measure prompt processing (pp) and generation (tg) speed, llama-bench style";
  c.define = [f](CLI::App& app) {
    app.add_option("-m,--model", f->model, "Model file or directory to bench");
    app.add_option("--synthetic", f->synthetic,
                   "Bench a random-weight model of a real config instead (gemma3-1b, ...)");
    app.add_option(
        "--type", f->type,
        "Weight types of the synthetic model, comma separated, as `gemma quantize --type` "
        "names them (f32, bf16, q8_0, q4_0, q4_k_m...); matrices get llama-quantize's per-tensor "
        "types");
    app.add_option("-p,--n-prompt", f->prompts, "Prompt lengths, comma separated (default 512)");
    app.add_option("-n,--n-gen", f->gens, "Generated tokens, comma separated (default 128)");
    app.add_option("-d,--n-depth", f->depths, "Tokens already in the KV cache (default 0)");
    app.add_option("-r,--repetitions", f->reps, "Repetitions per test (default 3)")
        ->check(CLI::PositiveNumber);
    app.add_option("-t,--threads", f->threads, "Thread counts to sweep, comma separated");
    app.add_option("-o,--output", f->output, "md (default), csv, json, jsonl");
    app.add_option("--isa", f->isa,
                   "Kernel instruction sets, comma separated (auto, avx512, avx-vnni, avx2, "
                   "avx2-f32, neon-dotprod, neon, scalar)");
    app.add_option("--baseline", f->baseline,
                   "llama-bench JSON/JSONL output to compare with (adds baseline t/s and ratio)");
    app.add_option("--kv-type,--cache-type-k", f->kv_type,
                   "KV cache storage: f16 (default), bf16, q8_0, f32")
        ->check(CLI::IsMember({"f32", "f16", "bf16", "q8_0"}));
    app.add_flag("--mem", f->mem_only, "Only measure and print the memory read bandwidth");
    app.footer(
        "Examples:\n"
        "  gemma bench --synthetic gemma3-1b --type q4_0 -p 512 -n 64 -t 2\n"
        "  gemma bench --synthetic gemma3-1b --type bf16,q8_0,q4_0 -p 512 -n 64 -t 2 \\\n"
        "      --baseline bench/baselines/llamacpp-this-machine.jsonl\n"
        "  gemma bench -m gemma-3-1b-it-q4_0.gguf -p 128,512 -n 64 -o jsonl\n"
        "  gemma bench --mem -t 1,2");
  };
  c.run = [f] { return Run(*f); };
  return c;
}

}  // namespace gemma::cli
