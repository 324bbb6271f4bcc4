// gemma bench: prompt-processing and generation speed, in the spirit of llama-bench (same test
// names pp<N>/tg<N>, same JSON field names), plus the bandwidth decode achieves against the
// machine's measured read bandwidth.
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <cmath>
#include <iostream>
#include <nlohmann/json.hpp>
#include <numeric>
#include <thread>

#include "cli/command.h"
#include "cli/common.h"
#include "gemma/error.h"
#include "kernels/memory_bandwidth.h"
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
  bool mem_only = false;
};

std::vector<int> ParseIntList(const std::string& s, const char* flag) {
  std::vector<int> v;
  for (int x : ParseIdList(s)) v.push_back(x);
  if (v.empty()) Fail(ErrorKind::kUsage, std::string(flag) + " needs at least one value");
  return v;
}

DType ParseDType(const std::string& name) {
  for (int i = 0; i < static_cast<int>(DType::kCount); ++i) {
    std::string n(DTypeName(static_cast<DType>(i)));
    for (char& ch : n) ch = static_cast<char>(std::tolower(ch));
    if (n == name) return static_cast<DType>(i);
  }
  Fail(ErrorKind::kUsage, "unknown --type '" + name + "' (e.g. f32, bf16, f16, q8_0, q4_0)");
}

struct Row {
  std::string test;
  int n_threads, n_prompt, n_gen, n_depth;
  std::vector<double> samples_ts;
  double avg_ts = 0, stddev_ts = 0;
  double gbs = 0, roofline = 0;  // decode only
};

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

int Run(const BenchFlags& f) {
  const std::vector<int> thread_counts =
      f.threads.empty() ? std::vector<int>{static_cast<int>(std::max(1u, std::thread::hardware_concurrency()))}
                        : ParseIntList(f.threads, "-t");
  const KernelTable& kernels = SelectKernels(f.isa);
  std::map<int, double> bandwidth;  // threads -> bytes/s
  for (int t : thread_counts) {
    bandwidth[t] = MeasureReadBandwidth(kernels, t);
    spdlog::info("measured read bandwidth with {} threads: {:.1f} GB/s", t, bandwidth[t] / 1e9);
  }
  if (f.mem_only) {
    for (const auto& [t, bw] : bandwidth) std::cout << fmt::format("threads {}: {:.1f} GB/s\n", t, bw / 1e9);
    return kExitOk;
  }
  if (f.model.empty() == f.synthetic.empty()) {
    Fail(ErrorKind::kUsage, "give exactly one of -m/--model or --synthetic NAME");
  }
  std::shared_ptr<const Model> model;
  std::string model_type;
  if (!f.synthetic.empty()) {
    const DType type = ParseDType(f.type);
    spdlog::info("building synthetic {} in {}", f.synthetic, DTypeName(type));
    model = Model::FromCheckpoint(MakeSyntheticCheckpoint(f.synthetic, type));
    model_type = f.synthetic + " " + std::string(DTypeName(type));
  } else {
    ModelFlags mf;
    mf.model = f.model;
    model = LoadModel(mf);
    model_type = model->config().architecture + " " + model->checkpoint().format;
  }
  const uint64_t model_bytes = model->checkpoint().WeightBytes();
  const int vocab = model->config().vocab_size;
  const std::vector<int> prompts = ParseIntList(f.prompts, "-p");
  const std::vector<int> gens = ParseIntList(f.gens, "-n");
  const std::vector<int> depths = ParseIntList(f.depths, "-d");

  std::vector<Row> rows;
  for (int threads : thread_counts) {
    for (int depth : depths) {
      auto make_session = [&](int tokens) {
        SessionOptions o;
        o.n_threads = threads;
        o.isa = f.isa;
        o.context_length = depth + tokens + 1;
        o.max_batch = 512;
        return std::make_unique<Session>(model, o);
      };
      for (int np : prompts) {
        if (np <= 0) continue;
        Row r{"pp" + std::to_string(np), threads, np, 0, depth, {}};
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
        spdlog::info("{} t={} d={}: {:.2f} t/s", r.test, threads, depth, r.avg_ts);
      }
      for (int ng : gens) {
        if (ng <= 0) continue;
        Row r{"tg" + std::to_string(ng), threads, 0, ng, depth, {}};
        const std::vector<int> fill = Tokens(depth, vocab, 7);
        for (int rep = -1; rep < f.reps; ++rep) {
          auto s = make_session(ng);
          if (depth) s->Forward(fill);
          int tok = 5;
          const auto t0 = std::chrono::steady_clock::now();
          for (int i = 0; i < ng; ++i) s->Forward(&tok, 1);
          if (rep >= 0) r.samples_ts.push_back(ng / Seconds(std::chrono::steady_clock::now() - t0));
        }
        Summarize(&r);
        // Every weight byte is read once per generated token (the tied embedding too, for the
        // logits), so achieved bandwidth = bytes * tokens/s.
        r.gbs = static_cast<double>(model_bytes) * r.avg_ts / 1e9;
        r.roofline = 100.0 * r.gbs * 1e9 / bandwidth[threads];
        rows.push_back(r);
        spdlog::info("{} t={} d={}: {:.2f} t/s", r.test, threads, depth, r.avg_ts);
      }
    }
  }

  const std::string isa = IsaName(kernels.isa);
  if (f.output == "json" || f.output == "jsonl") {
    nlohmann::json all = nlohmann::json::array();
    for (const Row& r : rows) {
      nlohmann::json j = {{"model_type", model_type}, {"model_size", model_bytes},
                          {"n_threads", r.n_threads}, {"n_prompt", r.n_prompt},
                          {"n_gen", r.n_gen},         {"n_depth", r.n_depth},
                          {"test", r.test},           {"isa", isa},
                          {"avg_ts", r.avg_ts},       {"stddev_ts", r.stddev_ts},
                          {"samples_ts", r.samples_ts},
                          {"bandwidth_gbs", r.gbs},   {"measured_bandwidth_gbs", bandwidth[r.n_threads] / 1e9},
                          {"roofline_pct", r.roofline}};
      if (f.output == "jsonl") std::cout << j.dump() << '\n';
      all.push_back(j);
    }
    if (f.output == "json") std::cout << all.dump(2) << '\n';
  } else if (f.output == "csv") {
    std::cout << "model_type,model_size,isa,n_threads,test,n_prompt,n_gen,n_depth,avg_ts,stddev_ts,bandwidth_gbs,roofline_pct\n";
    for (const Row& r : rows) {
      std::cout << fmt::format("\"{}\",{},{},{},{},{},{},{},{:.3f},{:.3f},{:.2f},{:.1f}\n", model_type,
                               model_bytes, isa, r.n_threads, r.test, r.n_prompt, r.n_gen, r.n_depth,
                               r.avg_ts, r.stddev_ts, r.gbs, r.roofline);
    }
  } else if (f.output == "md") {
    std::cout << "| model | size | isa | threads | test | t/s | GB/s (decode) | % of measured bandwidth |\n"
              << "| --- | ---: | --- | ---: | --- | ---: | ---: | ---: |\n";
    for (const Row& r : rows) {
      const std::string test = r.n_depth ? fmt::format("{} @ d{}", r.test, r.n_depth) : r.test;
      std::cout << fmt::format("| {} | {:.2f} GiB | {} | {} | {} | {:.2f} ± {:.2f} | {} | {} |\n",
                               model_type, model_bytes / double(1ull << 30), isa, r.n_threads, test,
                               r.avg_ts, r.stddev_ts, r.n_gen ? fmt::format("{:.1f}", r.gbs) : "",
                               r.n_gen ? fmt::format("{:.0f} % of {:.1f}", r.roofline,
                                                     bandwidth[r.n_threads] / 1e9)
                                       : "");
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
    app.add_option("--type", f->type, "Weight type of the synthetic model (f32, bf16, q8_0, q4_0...)");
    app.add_option("-p,--n-prompt", f->prompts, "Prompt lengths, comma separated (default 512)");
    app.add_option("-n,--n-gen", f->gens, "Generated tokens, comma separated (default 128)");
    app.add_option("-d,--n-depth", f->depths, "Tokens already in the KV cache (default 0)");
    app.add_option("-r,--repetitions", f->reps, "Repetitions per test (default 3)")->check(CLI::PositiveNumber);
    app.add_option("-t,--threads", f->threads, "Thread counts to sweep, comma separated");
    app.add_option("-o,--output", f->output, "md (default), csv, json, jsonl");
    app.add_option("--isa", f->isa, "Kernel instruction set (auto, avx2, scalar, ...)");
    app.add_flag("--mem", f->mem_only, "Only measure and print the memory read bandwidth");
    app.footer(
        "Examples:\n"
        "  gemma bench --synthetic gemma3-1b --type q4_0 -p 512 -n 64 -t 2\n"
        "  gemma bench -m gemma-3-1b-it-q4_0.gguf -p 128,512 -n 64 -o jsonl\n"
        "  gemma bench --mem -t 1,2");
  };
  c.run = [f] { return Run(*f); };
  return c;
}

}  // namespace gemma::cli
