// gemma tokenize: text -> ids (or pieces), one text or JSON lines in bulk.
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/command.h"
#include "cli/common.h"
#include "gemma/error.h"

namespace gemma::cli {
namespace {

struct TokenizeFlags {
  std::string model;
  std::string tokenizer_file;
  std::string text;
  bool ids = false;
  bool pieces = false;
  bool jsonl = false;
  bool bos = false;
};

Tokenizer OpenTokenizer(const TokenizeFlags& f) {
  if (f.model.empty() == f.tokenizer_file.empty()) {
    Fail(ErrorKind::kUsage, "give exactly one of -m/--model or --tokenizer");
  }
  if (!f.model.empty()) {
    // Only the tokenizer is needed: open the checkpoint without binding weights.
    const Checkpoint ck = OpenCheckpoint(f.model);
    return Tokenizer::Load(ck.tokenizer, ck.path);
  }
  TokenizerSource src;
  if (f.tokenizer_file.size() >= 5 &&
      f.tokenizer_file.compare(f.tokenizer_file.size() - 5, 5, ".json") == 0) {
    src.hf_tokenizer_json_path = f.tokenizer_file;
  } else {
    src.spm_model_path = f.tokenizer_file;
  }
  return Tokenizer::Load(src);
}

std::vector<int> EncodeText(const Tokenizer& tok, const std::string& text, bool bos) {
  std::vector<int> ids;
  if (bos) ids.push_back(tok.bos_id());
  const std::vector<int> body = tok.Encode(text);
  ids.insert(ids.end(), body.begin(), body.end());
  return ids;
}

int Run(const TokenizeFlags& f) {
  if (f.ids && f.pieces) Fail(ErrorKind::kUsage, "--ids and --pieces exclude each other");
  const Tokenizer tok = OpenTokenizer(f);
  if (f.jsonl) {
    if (!f.text.empty()) Fail(ErrorKind::kUsage, "--jsonl reads stdin; give no TEXT");
    std::string line;
    int64_t line_no = 0;
    while (std::getline(std::cin, line)) {
      ++line_no;
      if (line.empty()) continue;
      nlohmann::json in;
      try {
        in = nlohmann::json::parse(line);
      } catch (const nlohmann::json::exception&) {
        Fail(ErrorKind::kUsage, "stdin line " + std::to_string(line_no) + ": not valid JSON");
      }
      if (!in.is_object() || !in.contains("text") || !in.at("text").is_string()) {
        Fail(ErrorKind::kUsage, "stdin line " + std::to_string(line_no) +
                                    ": expected an object with a \"text\" string");
      }
      nlohmann::json out;
      out["ids"] = EncodeText(tok, in.at("text").get<std::string>(), f.bos);
      std::cout << out.dump() << '\n';
    }
    return kExitOk;
  }
  const std::string text = f.text;
  const std::vector<int> ids = EncodeText(tok, text, f.bos);
  if (f.pieces) {
    for (int id : ids) std::cout << id << '\t' << nlohmann::json(tok.IdToPiece(id)).dump() << '\n';
  } else {
    std::cout << nlohmann::json(ids).dump() << '\n';
  }
  return kExitOk;
}

}  // namespace

Command MakeTokenizeCommand() {
  auto f = std::make_shared<TokenizeFlags>();
  Command c;
  c.name = "tokenize";
  c.summary = "Print the token ids (or pieces) of a text";
  c.define = [f](CLI::App& app) {
    app.add_option("-m,--model,--weights", f->model, "Model directory or .gguf (its tokenizer)");
    app.add_option("--tokenizer", f->tokenizer_file, "tokenizer.model or tokenizer.json alone");
    app.add_option("text", f->text, "Text to tokenize");
    app.add_flag("--ids", f->ids, "Print ids as a JSON list (default)");
    app.add_flag("--pieces", f->pieces, "Print one 'id<TAB>\"piece\"' line per token");
    app.add_flag("--jsonl", f->jsonl,
                 "Read JSON lines with a \"text\" field on stdin; write {\"ids\": [...]} per line");
    app.add_flag("--bos", f->bos, "Put <bos> in front (default: no)");
    app.footer(
        "Examples:\n"
        "  gemma tokenize -m ~/models/gemma-3-1b-it \"Hello world\"\n"
        "  gemma tokenize --tokenizer tokenizer.model --pieces \"Hello world\"\n"
        "  printf '{\"text\":\"a\"}\\n{\"text\":\"b\"}\\n' | gemma tokenize --tokenizer "
        "tokenizer.model --jsonl");
  };
  c.run = [f] { return Run(*f); };
  return c;
}

}  // namespace gemma::cli
