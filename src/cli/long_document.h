// One document through a prompt template, when it may be longer than the context: refuse it
// (Error kContextOverflow, exit 3), keep its head or tail (--truncate), or summarize it in
// chunks whose outputs go through the template again until they fit (--chunked).
#pragma once

#include <string>
#include <vector>

#include "cli/prompt_builder.h"
#include "model/generator.h"
#include "model/session.h"
#include "sampling/sampler.h"
#include "tokenizer/tokenizer.h"

namespace gemma::cli {

enum class LongInputMode { kRefuse, kTruncateHead, kTruncateTail, kChunked };

struct DocumentResult {
  std::string output;
  GenerateStats stats;  // summed over every generation; finish and TTFT of the first/last
  int chunks = 1;       // pieces of the first chunking pass (1: the document fit)
  bool truncated = false;
};

class DocumentRunner {
 public:
  // `reserve` tokens of the context are kept for the answer; a prompt fits when it leaves them.
  DocumentRunner(Session& session, Sampler& sampler, const Tokenizer& tokenizer,
                 const PromptBuilder& builder, std::string prompt_template,
                 const GenerateOptions& options, LongInputMode mode);

  // Runs the template over `text` from an empty context. Throws Error(kContextOverflow) when the
  // document does not fit and the mode is kRefuse, Interrupted on SIGINT.
  DocumentResult Run(const std::string& text);

  int reserve() const { return reserve_; }
  int prompt_budget() const { return budget_; }

 private:
  std::vector<int> PromptFor(const std::string& text) const;
  TextGeneration Once(const std::vector<int>& prompt, DocumentResult* acc);
  // The longest head or tail of `ids` (text tokens) whose prompt fits, as text.
  std::string FitPiece(const std::vector<int>& ids, size_t begin, size_t* taken, bool from_end);
  int TextBudget() const;

  Session& session_;
  Sampler& sampler_;
  const Tokenizer& tokenizer_;
  const PromptBuilder& builder_;
  std::string template_;
  GenerateOptions options_;
  LongInputMode mode_;
  int reserve_;
  int budget_;  // largest prompt that fits
};

// The default when no --truncate/--chunked is given.
inline constexpr LongInputMode kDefaultLongInputMode = LongInputMode::kRefuse;

}  // namespace gemma::cli
