// gemma quantize IN OUT --type T: writes a Hugging Face directory or a GGUF file as a GGUF of
// another tensor type, following llama.cpp's conventions (formats/gguf_export.h).
#include <fmt/format.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <thread>

#include "cli/command.h"
#include "formats/checkpoint.h"
#include "formats/gguf_export.h"

namespace gemma::cli {
namespace {

struct QuantizeFlags {
  std::string in, out, type;
  int threads = 0;
};

std::string Mib(uint64_t b) {
  return fmt::format("{:.1f} MiB", static_cast<double>(b) / (1 << 20));
}

int Run(const QuantizeFlags& f) {
  const auto start = std::chrono::steady_clock::now();
  FindQuantPreset(f.type);  // reject bad types before opening the model
  const Checkpoint ck = OpenCheckpoint(f.in);
  ExportOptions o;
  o.type = f.type;
  o.n_threads = f.threads > 0 ? f.threads
                              : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  const bool tty = isatty(STDERR_FILENO) != 0;
  if (tty) {
    o.progress = [](const ExportProgress& p) {
      const double pct = p.bytes_total ? 100.0 * static_cast<double>(p.bytes_done) /
                                             static_cast<double>(p.bytes_total)
                                       : 100.0;
      std::fprintf(stderr, "\r\033[K[%3.0f%%] %zu/%zu %s", pct, p.tensor_index + 1, p.n_tensors,
                   p.tensor_name.c_str());
      std::fflush(stderr);
    };
  }
  const ExportStats s = ExportGguf(ck, f.out, o);
  if (tty) std::fprintf(stderr, "\r\033[K");
  for (const std::string& n : s.notes) std::fprintf(stderr, "note: %s\n", n.c_str());
  const double secs =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::fprintf(stderr, "%s\n",
               fmt::format("quantized {} -> {} ({}): {} tensors, {:.2f} M params, {} -> {}, "
                           "{:.1f} s, {} threads",
                           f.in, f.out, f.type, s.n_tensors, static_cast<double>(s.params) / 1e6,
                           Mib(s.in_bytes), Mib(s.out_bytes), secs, o.n_threads)
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
    app.add_option("IN", f->in, "Hugging Face model directory or .gguf file")->required();
    app.add_option("OUT", f->out, "Output .gguf file")->required();
    app.add_option("--type", f->type, "q8_0, q4_0, q4_1, q5_0, q5_1, bf16, f16 or f32")->required();
    app.add_option("-t,--threads", f->threads, "Threads for quantizing rows (default: all cores)");
    app.footer(
        "1-D tensors (norms) stay F32; token_embd is Q8_0 for the 4/5-bit types (llama-quantize's\n"
        "rule). K-quant types (q4_k_m, q6_k, ...) are not implemented yet.\n"
        "Examples:\n"
        "  gemma quantize ~/models/gemma-3-1b-it gemma-3-1b-it-q8_0.gguf --type q8_0\n"
        "  gemma quantize model-f32.gguf model-q4_0.gguf --type q4_0 -t 8");
  };
  c.run = [f] { return Run(*f); };
  return c;
}

}  // namespace gemma::cli
