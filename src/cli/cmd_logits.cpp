// gemma logits: the logits of every position of a token sequence, as a .npy file.
#include <spdlog/spdlog.h>

#include "cli/command.h"
#include "cli/common.h"
#include "cli/npy.h"
#include "gemma/error.h"

namespace gemma::cli {
namespace {

struct LogitsFlags {
  ModelFlags model;
  std::string ids;
  std::string prompt;
  std::string output;
};

int Run(const LogitsFlags& f) {
  if (f.ids.empty() == f.prompt.empty()) {
    Fail(ErrorKind::kUsage, "give exactly one of --ids or -p/--prompt");
  }
  auto model = LoadModel(f.model);
  std::vector<int> ids;
  if (!f.ids.empty()) {
    ids = ParseIdList(f.ids);
  } else {
    const Tokenizer tokenizer = LoadTokenizer(*model);
    ids.push_back(model->config().bos_id);
    const std::vector<int> body = tokenizer.Encode(f.prompt);
    ids.insert(ids.end(), body.begin(), body.end());
  }
  if (ids.empty()) Fail(ErrorKind::kUsage, "no token ids given");
  ModelFlags mf = f.model;
  if (mf.ctx_size == 0) mf.ctx_size = std::max<int>(static_cast<int>(ids.size()), 1);
  Session session(model, MakeSessionOptions(mf, *model));
  const int64_t vocab = model->config().vocab_size;
  std::vector<float> logits(ids.size() * static_cast<size_t>(vocab));
  session.Forward(ids, logits.data());
  WriteNpyF32(f.output, logits.data(), {static_cast<int64_t>(ids.size()), vocab});
  spdlog::info("wrote {} x {} logits to {}", ids.size(), vocab, f.output);
  return kExitOk;
}

}  // namespace

Command MakeLogitsCommand() {
  auto f = std::make_shared<LogitsFlags>();
  Command c;
  c.name = "logits";
  c.summary = "Write the float32 logits of every position as a NumPy .npy [n_ids, vocab]";
  c.define = [f](CLI::App& app) {
    // Logits are for comparing against references: an exact f32 KV cache unless asked otherwise.
    f->model.kv_type = "f32";
    AddModelFlags(app, &f->model);
    app.add_option("--ids", f->ids, "Token ids, comma separated (fed verbatim: include <bos>)");
    app.add_option("-p,--prompt", f->prompt, "Text to tokenize (with <bos>) instead of --ids");
    app.add_option("-o,--output", f->output, "Output .npy file")->required();
    app.footer("Example:\n  gemma logits -m model.gguf --ids 2,651,1234 -o logits.npy");
  };
  c.run = [f] { return Run(*f); };
  return c;
}

}  // namespace gemma::cli
