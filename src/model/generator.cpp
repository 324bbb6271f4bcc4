#include "model/generator.h"

#include <algorithm>
#include <chrono>

#include "gemma/error.h"

namespace gemma {

const char* FinishReasonName(FinishReason r) {
  switch (r) {
    case FinishReason::kStop:
      return "stop";
    case FinishReason::kLength:
      return "length";
    case FinishReason::kContextFull:
      return "context";
    case FinishReason::kCancelled:
      return "cancelled";
  }
  return "?";
}

GenerateStats Generate(Session& session, Sampler& sampler, const std::vector<int>& prompt,
                       const GenerateOptions& options, const std::function<bool(int)>& on_token) {
  using Clock = std::chrono::steady_clock;
  auto seconds = [](Clock::duration d) { return std::chrono::duration<double>(d).count(); };
  auto cancelled = [&] { return options.cancel != nullptr && options.cancel->load(); };
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
  const int chunk = std::max(1, options.prefill_chunk);
  for (int done = 0; done < stats.prompt_tokens;) {
    if (cancelled()) {
      stats.finish = FinishReason::kCancelled;
      stats.prefill_seconds = seconds(Clock::now() - t0);
      return stats;
    }
    const int n = std::min(chunk, stats.prompt_tokens - done);
    session.Forward(prompt.data() + done, n);
    done += n;
    if (options.on_prefill_progress) options.on_prefill_progress(done, stats.prompt_tokens);
  }
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
    if (cancelled()) {
      stats.finish = FinishReason::kCancelled;
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

StopStringFilter::StopStringFilter(std::vector<std::string> stops) : stops_(std::move(stops)) {
  std::erase_if(stops_, [](const std::string& s) { return s.empty(); });
}

std::string StopStringFilter::Push(std::string_view text) {
  if (stopped_) return std::string();
  held_.append(text);
  size_t first = std::string::npos;
  for (const std::string& s : stops_) first = std::min(first, held_.find(s));
  if (first != std::string::npos) {
    std::string out = held_.substr(0, first);
    held_.clear();
    stopped_ = true;
    return out;
  }
  // Hold back the longest suffix that is a proper prefix of some stop string.
  size_t keep = 0;
  for (const std::string& s : stops_) {
    for (size_t k = std::min(s.size() - 1, held_.size()); k > keep; --k) {
      if (held_.compare(held_.size() - k, k, s, 0, k) == 0) {
        keep = k;
        break;
      }
    }
  }
  std::string out = held_.substr(0, held_.size() - keep);
  held_.erase(0, held_.size() - keep);
  return out;
}

std::string StopStringFilter::Flush() {
  std::string out;
  out.swap(held_);
  return stopped_ ? std::string() : out;
}

TextGeneration GenerateText(Session& session, Sampler& sampler, const Tokenizer& tokenizer,
                            const std::vector<int>& prompt, const GenerateOptions& options,
                            const std::function<void(std::string_view)>& on_text) {
  TextGeneration result;
  StreamDecoder decoder(tokenizer);
  StopStringFilter filter(options.stop_strings);
  auto emit = [&](const std::string& text) {
    if (text.empty()) return;
    result.text += text;
    if (on_text) on_text(text);
  };
  result.stats = Generate(session, sampler, prompt, options, [&](int id) {
    result.ids.push_back(id);
    emit(filter.Push(decoder.Push(id)));
    return !filter.stopped();
  });
  emit(filter.Push(decoder.Flush()));
  emit(filter.Flush());
  if (filter.stopped()) {
    result.stopped_by_string = true;
    result.stats.finish = FinishReason::kStop;
  }
  return result;
}

}  // namespace gemma
