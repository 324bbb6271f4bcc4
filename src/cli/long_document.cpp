#include "cli/long_document.h"

#include <algorithm>

#include "cli/chat_format.h"
#include "cli/terminal.h"
#include "gemma/error.h"
#include "tokenizer/chat_template.h"

namespace gemma::cli {

DocumentRunner::DocumentRunner(Session& session, Sampler& sampler, const Tokenizer& tokenizer,
                               const PromptBuilder& builder, std::string prompt_template,
                               const GenerateOptions& options, LongInputMode mode)
    : session_(session),
      sampler_(sampler),
      tokenizer_(tokenizer),
      builder_(builder),
      template_(std::move(prompt_template)),
      options_(options),
      mode_(mode) {
  const int ctx = session.context_length();
  // Room for the answer: -n tokens, at most half the context; a quarter when -n is unlimited.
  reserve_ = options.max_tokens >= 0 ? std::min(options.max_tokens, ctx / 2) : ctx / 4;
  reserve_ = std::max(reserve_, 1);
  budget_ = ctx - reserve_;
}

std::vector<int> DocumentRunner::PromptFor(const std::string& text) const {
  return builder_.Build(ApplyTemplate(template_, text));
}

int DocumentRunner::TextBudget() const {
  const int overhead = static_cast<int>(PromptFor("").size());
  const int left = budget_ - overhead;
  if (left < 8) {
    Fail(ErrorKind::kContextOverflow, "the prompt template alone is " + std::to_string(overhead) +
                                          " tokens; with " + std::to_string(reserve_) +
                                          " kept for the answer the context of " +
                                          std::to_string(session_.context_length()) +
                                          " tokens leaves no room for text (raise -c or lower -n)");
  }
  return left;
}

TextGeneration DocumentRunner::Once(const std::vector<int>& prompt, DocumentResult* acc) {
  session_.Rewind(0);
  sampler_.Reset();
  GenerateOptions g = options_;
  g.on_prefill_progress = MakeProgressBar("prefill", static_cast<int>(prompt.size()));
  TextGeneration r =
      GenerateShownText(session_, sampler_, tokenizer_, prompt, g, builder_.format(), {});
  if (r.stats.finish == FinishReason::kCancelled) throw Interrupted();
  GenerateStats& s = acc->stats;
  if (s.prompt_tokens == 0) s.time_to_first_token = r.stats.time_to_first_token;
  s.prompt_tokens += r.stats.prompt_tokens;
  s.generated_tokens += r.stats.generated_tokens;
  s.prefill_seconds += r.stats.prefill_seconds;
  s.decode_seconds += r.stats.decode_seconds;
  s.finish = r.stats.finish;
  return r;
}

std::string DocumentRunner::FitPiece(const std::vector<int>& ids, size_t begin, size_t* taken,
                                     bool from_end) {
  const size_t left = ids.size() - begin;
  size_t n = std::min(left, static_cast<size_t>(TextBudget()));
  for (;;) {
    const auto first = from_end ? ids.end() - static_cast<ptrdiff_t>(n)
                                : ids.begin() + static_cast<ptrdiff_t>(begin);
    const std::string text = tokenizer_.Decode(std::vector<int>(first, first + n));
    // Decoding and encoding again may merge or split tokens differently: check, then shrink.
    const size_t size = PromptFor(text).size();
    if (size <= static_cast<size_t>(budget_) || n <= 1) {
      *taken = n;
      return text;
    }
    n -= std::max<size_t>(1, size - static_cast<size_t>(budget_));
  }
}

DocumentResult DocumentRunner::Run(const std::string& text) {
  DocumentResult result;
  const std::vector<int> prompt = PromptFor(text);
  if (static_cast<int>(prompt.size()) <= budget_) {
    result.output = Once(prompt, &result).text;
    return result;
  }
  if (mode_ == LongInputMode::kRefuse) {
    Fail(ErrorKind::kContextOverflow,
         "the prompt is " + std::to_string(prompt.size()) + " tokens but the context holds " +
             std::to_string(session_.context_length()) + " with " + std::to_string(reserve_) +
             " kept for the answer (use --truncate head|tail or --chunked, or raise -c)");
  }
  std::vector<int> ids = tokenizer_.Encode(text);
  if (mode_ != LongInputMode::kChunked) {
    size_t taken = 0;
    const std::string piece = FitPiece(ids, 0, &taken, mode_ == LongInputMode::kTruncateTail);
    result.truncated = true;
    result.output = Once(PromptFor(piece), &result).text;
    return result;
  }
  // Summarize the pieces, then the joined summaries, until they fit in one prompt.
  for (int level = 0;; ++level) {
    std::string joined;
    int pieces = 0;
    for (size_t begin = 0; begin < ids.size(); ++pieces) {
      size_t taken = 0;
      const std::string piece = FitPiece(ids, begin, &taken, /*from_end=*/false);
      begin += taken;
      // With --show-thinking the output shows thinking, but the next pass reads only answers.
      const std::string summary =
          PythonStrip(builder_.format().WithoutThinking(Once(PromptFor(piece), &result).text));
      if (!joined.empty()) joined += "\n\n";
      joined += summary;
    }
    if (level == 0) result.chunks = pieces;
    const std::vector<int> final_prompt = PromptFor(joined);
    if (static_cast<int>(final_prompt.size()) <= budget_) {
      result.output = Once(final_prompt, &result).text;
      return result;
    }
    std::vector<int> next = tokenizer_.Encode(joined);
    if (next.size() >= ids.size()) {
      Fail(ErrorKind::kContextOverflow,
           "the chunk outputs (" + std::to_string(next.size()) +
               " tokens) are no shorter than their input; lower -n or raise -c");
    }
    ids = std::move(next);
  }
}

}  // namespace gemma::cli
