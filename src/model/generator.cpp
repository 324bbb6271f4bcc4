#include "model/generator.h"

#include <algorithm>
#include <chrono>

#include "gemma/error.h"

namespace gemma {

const char* FinishReasonName(FinishReason r) {
  switch (r) {
    case FinishReason::kStop: return "stop";
    case FinishReason::kLength: return "length";
    case FinishReason::kContextFull: return "context";
    case FinishReason::kCancelled: return "cancelled";
  }
  return "?";
}

GenerateStats Generate(Session& session, Sampler& sampler, const std::vector<int>& prompt,
                       const GenerateOptions& options, const std::function<bool(int)>& on_token) {
  using Clock = std::chrono::steady_clock;
  auto seconds = [](Clock::duration d) { return std::chrono::duration<double>(d).count(); };
  GenerateStats stats;
  stats.prompt_tokens = static_cast<int>(prompt.size());
  // The prompt and at least one generated token must fit.
  if (session.position() + stats.prompt_tokens + 1 > session.context_length()) {
    Fail(ErrorKind::kContextOverflow,
         "the prompt is " + std::to_string(stats.prompt_tokens) + " tokens" +
             (session.position() ? " (after " + std::to_string(session.position()) + " in context)"
                                 : std::string()) +
             " but the context holds " + std::to_string(session.context_length()) +
             " tokens (raise -c/--ctx-size or shorten the input)");
  }
  const auto t0 = Clock::now();
  session.Forward(prompt);
  for (int id : prompt) sampler.Accept(id);
  const auto t1 = Clock::now();
  stats.prefill_seconds = seconds(t1 - t0);

  const int vocab = session.model().config().vocab_size;
  stats.finish = FinishReason::kLength;
  for (;;) {
    if (options.max_tokens >= 0 && stats.generated_tokens >= options.max_tokens) {
      stats.finish = FinishReason::kLength;
      break;
    }
    const int id = sampler.Sample(session.logits().data(), vocab);
    if (stats.generated_tokens == 0) stats.time_to_first_token = seconds(Clock::now() - t0);
    if (std::find(options.stop_ids.begin(), options.stop_ids.end(), id) != options.stop_ids.end()) {
      stats.finish = FinishReason::kStop;
      break;
    }
    ++stats.generated_tokens;
    sampler.Accept(id);
    if (on_token && !on_token(id)) {
      stats.finish = FinishReason::kCancelled;
      break;
    }
    if (session.position() >= session.context_length()) {
      stats.finish = FinishReason::kContextFull;
      break;
    }
    session.Forward(&id, 1);
  }
  stats.decode_seconds = seconds(Clock::now() - t1);
  return stats;
}

}  // namespace gemma
