// The generation loop shared by run, chat and batch: prefill the prompt, then sample, stream
// and feed back one token at a time until a stop token, the token budget or the context ends.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "model/session.h"
#include "sampling/sampler.h"

namespace gemma {

struct GenerateOptions {
  int max_tokens = -1;        // < 0: until a stop token or the context is full
  std::vector<int> stop_ids;  // generation ends on any of these (not emitted)
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
// generated id as soon as it is sampled and returns false to cancel. Prompt tokens are accepted
// into the sampler's penalty window. Throws Error(kContextOverflow) if the prompt does not fit.
GenerateStats Generate(Session& session, Sampler& sampler, const std::vector<int>& prompt,
                       const GenerateOptions& options, const std::function<bool(int)>& on_token);

}  // namespace gemma
