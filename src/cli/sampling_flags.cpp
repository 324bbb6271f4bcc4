#include "cli/sampling_flags.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cmath>
#include <random>

#include "cli/chat_format.h"
#include "cli/terminal.h"

namespace gemma::cli {

void AddSamplingFlags(CLI::App& app, SamplingFlags* f) {
  app.add_option("--temp,--temperature", f->temperature, "Temperature (0: greedy)");
  app.add_option("--top-k,--top_k", f->top_k, "Keep the k most likely tokens (0: off)");
  app.add_option("--top-p,--top_p", f->top_p, "Nucleus sampling mass (1: off)");
  app.add_option("--min-p,--min_p", f->min_p, "Drop tokens below min-p times the top one (0: off)");
  app.add_option("-s,--seed", f->seed, "Random seed (default: random, printed with -v)");
  app.add_option("--repeat-penalty", f->repeat_penalty, "Repetition penalty (1: off)");
  app.add_option("--presence-penalty", f->presence_penalty, "Presence penalty (0: off)");
  app.add_option("--frequency-penalty", f->frequency_penalty, "Frequency penalty (0: off)");
  app.add_option("--repeat-last-n", f->repeat_last_n, "Tokens the penalties look back over");
  app.add_option(
         "--stop", f->stop,
         "Stop when the output contains this text (not printed; repeatable; \\n is a newline)")
      ->allow_extra_args(false);
}

SamplingParams MakeSamplingParams(const SamplingFlags& f, const Model& model,
                                  const Tokenizer& tokenizer) {
  const GenerationDefaults& d = model.checkpoint().generation;
  SamplingParams p;
  p.temperature = 1.0f;
  p.top_k = 64;
  p.top_p = 0.95f;
  p.min_p = 0.0f;
  if (d.has_temperature) p.temperature = d.temperature;
  if (d.has_top_k) p.top_k = d.top_k;
  if (d.has_top_p) p.top_p = d.top_p;
  if (d.has_min_p) p.min_p = d.min_p;
  if (!d.do_sample) p.temperature = 0.f;
  if (f.temperature) p.temperature = *f.temperature;
  if (f.top_k) p.top_k = *f.top_k;
  if (f.top_p) p.top_p = *f.top_p;
  if (f.min_p) p.min_p = *f.min_p;
  p.repeat_penalty = f.repeat_penalty;
  p.presence_penalty = f.presence_penalty;
  p.frequency_penalty = f.frequency_penalty;
  p.penalty_last_n = f.repeat_last_n;
  p.seed = f.seed ? *f.seed : std::random_device{}();
  // Never sample ids the tokenizer cannot decode (embedding rows past the vocabulary).
  p.max_id = std::min(model.config().vocab_size, tokenizer.vocab_size());
  spdlog::debug("sampling: temp {} top-k {} top-p {} min-p {} seed {}{}", p.temperature, p.top_k,
                p.top_p, p.min_p, p.seed,
                d.has_temperature || d.has_top_k || d.has_top_p ? " (model defaults applied)" : "");
  ValidateSamplingParams(p);
  return p;
}

std::vector<int> StopIds(const Model& model, const Tokenizer& tokenizer) {
  std::vector<int> ids = model.config().eos_ids;
  // A checkpoint may name only one of them (a GGUF has one eos_token_id, some HF configs only
  // <eos>): both end an answer, whatever the prompt format.
  const ChatFormat format(model.config().family, ThinkingFlags{});
  for (const std::string_view piece : {std::string_view("<eos>"), format.turn_end()}) {
    const int id = tokenizer.PieceToId(piece);
    if (id >= 0 && std::find(ids.begin(), ids.end(), id) == ids.end()) ids.push_back(id);
  }
  return ids;
}

// --stop '\n' means a newline: \n, \t, \r and \\ are unescaped.
static std::string UnescapeStop(const std::string& text) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '\\' || i + 1 == text.size()) {
      out += text[i];
      continue;
    }
    const char next = text[++i];
    if (next == 'n') {
      out += '\n';
    } else if (next == 't') {
      out += '\t';
    } else if (next == 'r') {
      out += '\r';
    } else if (next == '\\') {
      out += '\\';
    } else {
      out += '\\';
      out += next;
    }
  }
  return out;
}

GenerateOptions MakeGenerateOptions(const SamplingFlags& flags, const Model& model,
                                    const Tokenizer& tokenizer, int max_tokens) {
  GenerateOptions g;
  g.max_tokens = max_tokens;
  g.stop_ids = StopIds(model, tokenizer);
  for (const std::string& stop : flags.stop) g.stop_strings.push_back(UnescapeStop(stop));
  g.cancel = InterruptFlag();
  return g;
}

void LogStats(const GenerateStats& s) {
  auto rate = [](int n, double sec) { return sec > 0 ? n / sec : 0.0; };
  spdlog::info(
      "prompt: {} tokens in {:.2f} s ({:.1f} t/s); generated: {} tokens in {:.2f} s "
      "({:.1f} t/s); finish: {}",
      s.prompt_tokens, s.prefill_seconds, rate(s.prompt_tokens, s.prefill_seconds),
      s.generated_tokens, s.decode_seconds, rate(s.generated_tokens, s.decode_seconds),
      FinishReasonName(s.finish));
}

const char* JsonFinishReason(FinishReason r) {
  switch (r) {
    case FinishReason::kStop:
      return "stop";
    case FinishReason::kLength:
    case FinishReason::kContextFull:
      return "length";
    case FinishReason::kCancelled:
      return "cancelled";
  }
  return "error";
}

nlohmann::ordered_json StatsJson(const GenerateStats& s) {
  auto rate = [](int n, double sec) { return sec > 0 ? std::round(n / sec * 100) / 100 : 0.0; };
  nlohmann::ordered_json j;
  j["prompt_tokens"] = s.prompt_tokens;
  j["generated_tokens"] = s.generated_tokens;
  j["time_to_first_token_ms"] = std::round(s.time_to_first_token * 1e5) / 100;
  j["prompt_tokens_per_second"] = rate(s.prompt_tokens, s.prefill_seconds);
  j["tokens_per_second"] = rate(s.generated_tokens, s.decode_seconds);
  j["finish_reason"] = JsonFinishReason(s.finish);
  return j;
}

std::string JsonLine(const nlohmann::ordered_json& value) {
  return value.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

}  // namespace gemma::cli
