// gemma perplexity: token-level perplexity of a text file, in the windowed definition that
// tools/train_demo_model.py uses, so the engine can be checked against the training script.
//
// The file is tokenized as one string without <bos> and cut into consecutive chunks of N tokens
// (the last may be shorter). Each chunk c of k tokens is fed as <bos> c[0..k-2] from an empty
// context, and c[i] is scored by the logits at position i. Perplexity = exp(mean -log p).
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cmath>
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/command.h"
#include "cli/common.h"
#include "gemma/error.h"

namespace gemma::cli {
namespace {

struct PerplexityFlags {
  ModelFlags model;
  std::string file;
  int chunk = 0;
  bool json = false;
};

// Rows of logits computed per Forward call: bounds the buffer for 262k-entry vocabularies
// without changing the result (the session continues where the previous call stopped).
constexpr int kLogitRows = 64;

double LogSoftmaxAt(const float* row, int64_t n, int target) {
  const float mx = *std::max_element(row, row + n);
  double sum = 0;
  for (int64_t i = 0; i < n; ++i) sum += std::exp(static_cast<double>(row[i]) - mx);
  return static_cast<double>(row[target]) - mx - std::log(sum);
}

int Run(const PerplexityFlags& f) {
  auto model = LoadModel(f.model);
  const Tokenizer tokenizer = LoadTokenizer(*model, f.model);
  const std::string text = f.file == "-" ? ReadAllStdin() : ReadFileOrThrow(f.file);
  const std::vector<int> ids = tokenizer.Encode(text);
  if (ids.empty()) Fail(ErrorKind::kUsage, f.file + ": no tokens to score");

  const ModelConfig& c = model->config();
  int chunk = f.chunk > 0 ? f.chunk : f.model.ctx_size;
  if (chunk == 0) chunk = std::min(c.context_length, SessionOptions::kDefaultContextCap);
  ModelFlags mf = f.model;
  mf.ctx_size = chunk;
  Session session(model, MakeSessionOptions(mf, *model));
  if (session.context_length() < chunk) {
    Fail(ErrorKind::kContextOverflow,
         fmt::format("chunks of {} tokens do not fit the context of {}", chunk,
                     session.context_length()));
  }

  const int64_t V = c.vocab_size;
  std::vector<float> logits(static_cast<size_t>(kLogitRows * V));
  double nll = 0;
  int64_t n_chunks = 0;
  for (size_t begin = 0; begin < ids.size(); begin += static_cast<size_t>(chunk)) {
    const size_t k = std::min(ids.size() - begin, static_cast<size_t>(chunk));
    std::vector<int> input = {c.bos_id};
    input.insert(input.end(), ids.begin() + static_cast<std::ptrdiff_t>(begin),
                 ids.begin() + static_cast<std::ptrdiff_t>(begin + k - 1));
    session.Rewind(0);
    for (size_t done = 0; done < k;) {
      const int n = static_cast<int>(std::min<size_t>(kLogitRows, k - done));
      session.Forward(input.data() + done, n, logits.data());
      for (int i = 0; i < n; ++i) {
        nll -= LogSoftmaxAt(logits.data() + i * V, V, ids[begin + done + static_cast<size_t>(i)]);
      }
      done += static_cast<size_t>(n);
    }
    ++n_chunks;
  }
  const double mean = nll / static_cast<double>(ids.size());
  const double ppl = std::exp(mean);
  spdlog::info("{} tokens in {} chunks of at most {}: mean NLL {:.6f}", ids.size(), n_chunks, chunk,
               mean);
  if (f.json) {
    nlohmann::json out = {{"file", f.file},       {"perplexity", ppl},  {"mean_nll", mean},
                          {"tokens", ids.size()}, {"chunks", n_chunks}, {"ctx", chunk}};
    std::cout << out.dump() << '\n';
  } else {
    std::cout << fmt::format("{:.4f}", ppl) << '\n';
  }
  return kExitOk;
}

}  // namespace

Command MakePerplexityCommand() {
  auto f = std::make_shared<PerplexityFlags>();
  Command c;
  c.name = "perplexity";
  c.summary =
      "Perplexity of a text file, scored in non-overlapping chunks that each start with <bos>";
  c.define = [f](CLI::App& app) {
    AddModelFlags(app, &f->model);
    AddTokenizerFlag(app, &f->model);
    app.add_option("-f,--file", f->file, "Text file to score (- for stdin)")->required();
    app.add_option("--ctx", f->chunk, "Tokens per chunk (default: -c, else the model's context)")
        ->check(CLI::PositiveNumber);
    app.add_flag("--json", f->json, "Print one JSON object: perplexity, mean_nll, tokens, chunks");
    app.footer(
        "Each chunk of N text tokens is fed as <bos> + its first N-1 tokens and every token is\n"
        "scored; perplexity = exp(mean negative log-likelihood).\n\n"
        "Example:\n  gemma perplexity -m models/brown-gemma3-6m.gguf -f models/brown-heldout.txt");
  };
  c.run = [f] { return Run(*f); };
  return c;
}

}  // namespace gemma::cli
