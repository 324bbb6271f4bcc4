// gemma quantize IN OUT --type T: writes a Hugging Face directory or a GGUF file as a GGUF of
// another tensor type, following llama.cpp's conventions (formats/gguf_export.h).
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <cstdio>
#include <thread>

#include "cli/command.h"
#include "cli/terminal.h"
#include "formats/checkpoint.h"
#include "formats/gguf_export.h"
#include "gemma/error.h"
#include "model/synthetic.h"
#include "model/synthetic_vocab.h"

namespace gemma::cli {
namespace {

struct QuantizeFlags {
  std::string in, out, type;
  std::string synthetic;  // a real config with random weights instead of IN
  int threads = 0;
};

// IN, or a random-weight model of a real config (bf16, like the released checkpoints) with a
// stand-in vocabulary, so llama.cpp and gemma can be timed on the very same file.
Checkpoint OpenInput(const QuantizeFlags& f) {
  if (f.synthetic.empty()) {
    if (f.in.empty()) Fail(ErrorKind::kUsage, "give IN (a model) or --synthetic NAME");
    return OpenCheckpoint(f.in);
  }
  if (!f.in.empty()) Fail(ErrorKind::kUsage, "give IN or --synthetic NAME, not both");
  Checkpoint ck = MakeSyntheticCheckpoint(f.synthetic, FindQuantPreset("bf16"));
  ck.tokenizer = SyntheticVocab(ck.config.vocab_size, ck.config.family);
  return ck;
}

std::string Mib(uint64_t b) {
  return fmt::format("{:.1f} MiB", static_cast<double>(b) / (1 << 20));
}

// "[#########.....................]  31% 12/340 blk.3.ffn_down.weight", redrawn in place.
void DrawProgress(const ExportProgress& p) {
  constexpr int kWidth = 30;
  const double frac =
      p.bytes_total ? static_cast<double>(p.bytes_done) / static_cast<double>(p.bytes_total) : 1.0;
  const int filled = static_cast<int>(frac * kWidth);
  std::string bar(static_cast<size_t>(filled), '#');
  bar.append(static_cast<size_t>(kWidth - filled), '.');
  std::fprintf(stderr, "\r\033[K[%s] %3.0f%% %zu/%zu %s", bar.c_str(), 100.0 * frac,
               p.tensor_index + 1, p.n_tensors, p.tensor_name.c_str());
  std::fflush(stderr);
}

int Run(QuantizeFlags f) {
  // With --synthetic the one positional argument is OUT.
  if (!f.synthetic.empty() && f.out.empty()) std::swap(f.in, f.out);
  if (f.out.empty()) Fail(ErrorKind::kUsage, "OUT (the .gguf file to write) is required");
  const auto start = std::chrono::steady_clock::now();
  FindQuantPreset(f.type);  // reject bad types before opening the model
  const Checkpoint ck = OpenInput(f);
  ExportOptions o;
  o.type = f.type;
  o.n_threads = f.threads > 0 ? f.threads
                              : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  // Ctrl-C stops between chunks; the writer then removes its partial file.
  InstallSigintHandler();
  const bool bar = StderrIsTerminal() && spdlog::should_log(spdlog::level::info);
  o.progress = [bar](const ExportProgress& p) {
    ThrowIfInterrupted();
    if (bar) DrawProgress(p);
  };
  const ExportStats s = ExportGguf(ck, f.out, o);
  if (bar) std::fprintf(stderr, "\r\033[K");
  for (const std::string& n : s.notes) std::fprintf(stderr, "note: %s\n", n.c_str());
  const double secs =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (!spdlog::should_log(spdlog::level::info)) return kExitOk;
  std::string types;
  for (const auto& [t, n] : s.tensor_types) {
    types += fmt::format("{}{} {}", types.empty() ? "" : ", ", n, DTypeName(t));
  }
  std::fprintf(stderr, "%s\n",
               fmt::format("quantized {} -> {} ({}): {} tensors ({}), {:.2f} M params, {} -> {}, "
                           "{:.1f} s, {} threads",
                           f.synthetic.empty() ? f.in : "synthetic " + f.synthetic, f.out, f.type,
                           s.n_tensors, types, static_cast<double>(s.params) / 1e6, Mib(s.in_bytes),
                           Mib(s.out_bytes), secs, o.n_threads)
                   .c_str());
  return kExitOk;
}

}  // namespace

Command MakeQuantizeCommand() {
  auto f = std::make_shared<QuantizeFlags>();
  Command c;
  c.name = "quantize";
  c.summary = "Convert a model to a GGUF file of another tensor type";
  c.define = [f](CLI::App& app) {
    app.add_option("IN", f->in, "Hugging Face model directory or .gguf file");
    app.add_option("OUT", f->out, "Output .gguf file (required)");
    app.add_option("--synthetic", f->synthetic,
                   "Instead of IN: random weights in a real config (gemma3-1b, gemma2-2b, ...)");
    app.add_option("--type", f->type, SupportedQuantTypeNames())->required();
    app.add_option("-t,--threads", f->threads, "Threads for quantizing rows (default: all cores)");
    app.footer(
        "Tensor types follow llama-quantize: 1-D tensors (norms) stay F32; token_embd (also the\n"
        "output matrix) is Q6_K, or Q8_0 when its rows are not a multiple of 256; q4_k_m/q5_k_m\n"
        "(and _s) raise attn_v and ffn_down to Q6_K (Q5_K) in some layers; q4_k and q5_k put\n"
        "every matrix in that type (llama-quantize --pure). K-quants need rows of 256 elements:\n"
        "other tensors fall back to Q5_0 (q4_k), Q5_1 (q5_k) or Q8_0 (q6_k), as llama.cpp does.\n"
        "Examples:\n"
        "  gemma quantize ~/models/gemma-3-1b-it gemma-3-1b-it-q8_0.gguf --type q8_0\n"
        "  gemma quantize model-f32.gguf model-q4_0.gguf --type q4_0 -t 8\n"
        "  gemma quantize --synthetic gemma3-1b gemma3-1b-random-q4_0.gguf --type q4_0");
  };
  c.run = [f] { return Run(*f); };
  return c;
}

}  // namespace gemma::cli
