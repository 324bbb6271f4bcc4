// The generation loop shared by run, chat and batch: prefill the prompt, then sample, stream
// and feed back one token at a time until a stop token, the token budget or the context ends.
// GenerateText adds detokenizing and stop strings on top.
#pragma once

#include <atomic>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "model/session.h"
#include "sampling/sampler.h"
#include "tokenizer/tokenizer.h"

namespace gemma {

struct GenerateOptions {
  int max_tokens = -1;        // < 0: until a stop token or the context is full
  std::vector<int> stop_ids;  // generation ends on any of these (not emitted, not fed)
  // Text that ends generation when it appears in the output (GenerateText only). The stop
  // string and anything after it are not emitted.
  std::vector<std::string> stop_strings;
  // Checked before every prefill chunk and before every sampled token; when it reads true the
  // loop ends with FinishReason::kCancelled. Safe to set from a signal handler.
  const std::atomic<bool>* cancel = nullptr;
  int prefill_chunk = 256;  // tokens per Forward during prefill
  // Called after every prefill chunk with (tokens fed, prompt tokens).
  std::function<void(int done, int total)> on_prefill_progress;
};

enum class FinishReason { kStop, kLength, kContextFull, kCancelled };
const char* FinishReasonName(FinishReason r);

struct GenerateStats {
  int prompt_tokens = 0;
  int generated_tokens = 0;
  double prefill_seconds = 0;
  double decode_seconds = 0;
  double time_to_first_token = 0;
  FinishReason finish = FinishReason::kStop;
};

// Feeds `prompt` (at the session's current position) and generates. `on_token` receives each
// generated id as soon as it is sampled and returns false to cancel (that id is then not fed).
// Prompt tokens are accepted into the sampler's penalty window. Throws Error(kContextOverflow) if
// the prompt does not fit. When cancelled during the prefill, the session holds only part of the
// prompt (session.position() tells how much); the caller may Rewind.
GenerateStats Generate(Session& session, Sampler& sampler, const std::vector<int>& prompt,
                       const GenerateOptions& options, const std::function<bool(int)>& on_token);

// Holds back text that could be the start of a stop string; cuts the output at the first stop
// string. Works on complete UTF-8 text (as StreamDecoder emits it).
class StopStringFilter {
 public:
  explicit StopStringFilter(std::vector<std::string> stops);
  // Appends `text`; returns what may be shown now. Once a stop string is seen, returns the text
  // before it, stopped() becomes true and later calls return "".
  std::string Push(std::string_view text);
  // The text held back at the end of generation (empty once stopped).
  std::string Flush();
  bool stopped() const { return stopped_; }

 private:
  std::vector<std::string> stops_;
  std::string held_;
  bool stopped_ = false;
};

struct TextGeneration {
  GenerateStats stats;   // finish is kStop when a stop string ended generation
  std::string text;      // everything emitted (without the stop string)
  std::vector<int> ids;  // every generated id passed to on_token (no stop ids)
  bool stopped_by_string = false;
};

// Generate + StreamDecoder + StopStringFilter: `on_text` (may be empty) receives the visible text
// as it becomes final.
TextGeneration GenerateText(Session& session, Sampler& sampler, const Tokenizer& tokenizer,
                            const std::vector<int>& prompt, const GenerateOptions& options,
                            const std::function<void(std::string_view)>& on_text);

}  // namespace gemma
