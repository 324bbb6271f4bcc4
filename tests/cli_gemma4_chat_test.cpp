// Gemma 4's chat format in run / chat / batch (gemma-models.md §4.3): prompts rendered by
// RenderGemma4Chat with a native system turn, <turn|> as a stop token, a multi-turn
// conversation whose KV cache holds exactly the rendered conversation (thinking dropped from
// previous answers), and thinking hidden from the output unless --show-thinking.
//
// The model: the golden gemma4-like checkpoint (10 layers, hidden 64, 512 ids) with the
// synthetic Gemma 4 vocabulary of 512 pieces, which has the chat markers at their real ids.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "cli/chat_format.h"
#include "cli/conversation.h"
#include "cli/prompt_builder.h"
#include "cli/sampling_flags.h"
#include "model/model.h"
#include "model/session.h"
#include "model/synthetic_vocab.h"
#include "test_util.h"
#include "tokenizer/chat_template.h"
#include "tokenizer/gguf_vocab.h"
#include "tokenizer/spm_model_proto.h"
#include "tokenizer/tokenizer.h"

namespace gemma {
namespace {

namespace fs = std::filesystem;
using cli::ChatFormat;
using cli::ChatMarkup;
using cli::ThinkingFlags;
using nlohmann::json;
using test::RunCli;

// A Gemma 4 model folder: the golden gemma4-like config and weights, a tokenizer.model holding
// SyntheticVocab(512, kGemma4), and a chat template (so `run` and `batch` default to chat).
std::string MakeTinyGemma4Dir() {
  const std::string dir = test::MakeTempDir("gemma4");
  const std::string golden = test::TestDataDir() + "/golden/gemma4-like/hf";
  fs::create_symlink(golden + "/config.json", dir + "/config.json");
  fs::create_symlink(golden + "/model.safetensors", dir + "/model.safetensors");
  const TokenizerSource vocab = SyntheticVocab(512, ModelFamily::kGemma4);
  test::WriteFileBytes(dir + "/tokenizer.model",
                       spm::SerializeModelProto(spm::GgufVocabToModelProto(vocab, "synthetic")));
  test::WriteFileBytes(dir + "/tokenizer_config.json",
                       R"({"chat_template": "{#- Gemma 4; rendered in C++ -#}"})");
  return dir;
}

std::string Gemma3Dir() {
  return test::TestDataDir() + "/golden/gemma3-1b-like/hf";
}

std::vector<ChatMessage> SystemAndUser(const std::string& system, const std::string& user) {
  return {ChatMessage{"system", system, {}}, ChatMessage{"user", user, {}}};
}

bool Contains(const std::vector<int>& ids, int id) {
  return std::find(ids.begin(), ids.end(), id) != ids.end();
}

// <bos> followed by `rendered` without its leading "<bos>", tokenized as text.
std::vector<int> BosAnd(const Tokenizer& tok, const std::string& text) {
  std::vector<int> ids = {tok.bos_id()};
  const std::vector<int> rest = tok.Encode(text);
  ids.insert(ids.end(), rest.begin(), rest.end());
  return ids;
}

TEST(CliGemma4Chat, TinyModelIsGemma4WithTheChatMarkers) {
  GEMMA_REQUIRE_TESTDATA();
  auto model = Model::Load(MakeTinyGemma4Dir());
  EXPECT_EQ(model->config().family, ModelFamily::kGemma4);
  const Tokenizer tok = Tokenizer::Load(model->checkpoint().tokenizer);
  EXPECT_EQ(tok.vocab_size(), model->config().vocab_size);
  EXPECT_EQ(tok.PieceToId("<|turn>"), 105);
  EXPECT_EQ(tok.PieceToId("<turn|>"), 106);
  EXPECT_EQ(tok.PieceToId("<|think|>"), 98);
  EXPECT_EQ(tok.PieceToId("<|channel>"), 100);
  EXPECT_EQ(tok.PieceToId("<channel|>"), 101);
  // Markers written in text are the tokens, as the rendered chat needs.
  EXPECT_EQ(tok.Encode("<|turn>model\n").front(), 105);
  EXPECT_EQ(tok.Decode({105, 106, 100, 101}), "<|turn><turn|><|channel><channel|>");
}

TEST(CliGemma4Chat, PromptIdsAreTheRenderedGemma4Chat) {
  GEMMA_REQUIRE_TESTDATA();
  auto model = Model::Load(MakeTinyGemma4Dir());
  const Tokenizer tok = Tokenizer::Load(model->checkpoint().tokenizer);
  const ChatFormat format(model->config().family, ThinkingFlags{});
  ASSERT_EQ(format.markup(), ChatMarkup::kGemma4);
  const cli::PromptBuilder builder(tok, model->config().bos_id, /*chat=*/true, format, "Be brief.");
  const std::vector<int> ids = builder.Build("hello there");
  EXPECT_EQ(ids, TokenizeRenderedChat(
                     tok, RenderGemma4Chat(SystemAndUser("Be brief.", "hello there"), true)));
  // A native system turn, not folded into the user's.
  EXPECT_EQ(ids, BosAnd(tok,
                        "<|turn>system\nBe brief.<turn|>\n<|turn>user\nhello there<turn|>\n"
                        "<|turn>model\n"));

  // --think: <|think|> opens the system turn.
  const cli::PromptBuilder thinking(tok, model->config().bos_id, true,
                                    ChatFormat(model->config().family, ThinkingFlags{true, false}),
                                    "Be brief.");
  EXPECT_EQ(thinking.Build("hello there"),
            BosAnd(tok,
                   "<|turn>system\n<|think|>\nBe brief.<turn|>\n<|turn>user\nhello there<turn|>\n"
                   "<|turn>model\n"));
  // Raw prompts stay raw.
  const cli::PromptBuilder raw(tok, model->config().bos_id, false, format, "");
  EXPECT_EQ(raw.Build("hello there"), BosAnd(tok, "hello there"));
}

TEST(CliGemma4Chat, Gemma3KeepsItsFormatAndIgnoresTheThinkingFlags) {
  GEMMA_REQUIRE_TESTDATA();
  auto model = Model::Load(Gemma3Dir());
  const Tokenizer tok = Tokenizer::Load(model->checkpoint().tokenizer);
  const ChatFormat format(model->config().family, ThinkingFlags{true, true});
  EXPECT_EQ(format.markup(), ChatMarkup::kGemma);
  EXPECT_FALSE(format.hides_thinking());
  const cli::PromptBuilder builder(tok, model->config().bos_id, true, format, "Be brief.");
  EXPECT_EQ(builder.Build("hello there"),
            EncodeGemmaChat(tok, SystemAndUser("Be brief.", "hello there"), true));
  EXPECT_EQ(format.WithoutThinking("a<|channel>b<channel|>c"), "a<|channel>b<channel|>c");
}

TEST(CliGemma4Chat, TurnPiecesAddUpToTheRenderedConversation) {
  const ChatFormat g4(ModelFamily::kGemma4, ThinkingFlags{});
  EXPECT_EQ(g4.turn_end(), "<turn|>");
  EXPECT_EQ(g4.UserTurn(" what now\n"), "<|turn>user\nwhat now<turn|>\n<|turn>model\n");
  EXPECT_EQ(g4.ModelTurnEnd(""), "<turn|>\n");
  // A previous answer loses its thinking and surrounding white space.
  EXPECT_EQ(g4.ModelTurnEnd("<|channel>thought\nhmm<channel|> Hi! "), "Hi!<turn|>\n");
  // With --think the system turn comes once, at the start, never with later turns.
  const ChatFormat think(ModelFamily::kGemma4, ThinkingFlags{true, false});
  EXPECT_EQ(think.UserTurn("what now"), "<|turn>user\nwhat now<turn|>\n<|turn>model\n");
  const std::vector<ChatMessage> two = {{"user", "hi", {}}, {"assistant", "yo", {}}};
  EXPECT_EQ(think.Render(two, false),
            think.Render({}, false) + think.UserTurn("hi") + think.ModelTurnEnd("yo"));

  const ChatFormat g3(ModelFamily::kGemma3, ThinkingFlags{});
  EXPECT_EQ(g3.turn_end(), "<end_of_turn>");
  EXPECT_EQ(g3.UserTurn("what now"),
            "<start_of_turn>user\nwhat now<end_of_turn>\n<start_of_turn>model\n");
  EXPECT_EQ(g3.ModelTurnEnd(""), "<end_of_turn>\n");
}

TEST(CliGemma4Chat, StopIdsIncludeTheTurnEnd) {
  GEMMA_REQUIRE_TESTDATA();
  auto model = Model::Load(MakeTinyGemma4Dir());
  const Tokenizer tok = Tokenizer::Load(model->checkpoint().tokenizer);
  // The golden config names only <eos> (1): <turn|> comes from the chat format.
  EXPECT_EQ(model->config().eos_ids, std::vector<int>{1});
  const std::vector<int> stop = cli::StopIds(*model, tok);
  EXPECT_TRUE(Contains(stop, 1));
  EXPECT_TRUE(Contains(stop, tok.PieceToId("<turn|>")));
  EXPECT_EQ(cli::MakeGenerateOptions(cli::SamplingFlags{}, *model, tok, 8).stop_ids, stop);

  // Gemma 3 stops on <end_of_turn> (the golden vocabulary has no chat markers: a synthetic one).
  auto gemma3 = Model::Load(Gemma3Dir());
  const Tokenizer tok3 = Tokenizer::Load(SyntheticVocab(512, ModelFamily::kGemma3));
  EXPECT_TRUE(Contains(cli::StopIds(*gemma3, tok3), tok3.PieceToId("<end_of_turn>")));
}

TEST(CliGemma4Chat, OutputFilterHidesThinkingUnlessShown) {
  const std::vector<std::string> stream = {
      "Sure", "<|chan", "nel>thought\nThe user", " wants", "<channel", "|> Hello", "!"};
  std::string all;
  for (const std::string& s : stream) all += s;
  auto run = [&](const ChatFormat& format) {
    cli::OutputFilter filter(format);
    std::string out;
    for (const std::string& s : stream) {
      const std::string shown = filter.Feed(s);
      EXPECT_EQ(shown.find("user"), std::string::npos) << "thinking leaked: " << shown;
      out += shown;
    }
    return out + filter.Finish();
  };
  EXPECT_EQ(run(ChatFormat(ModelFamily::kGemma4, ThinkingFlags{})), "Sure Hello!");
  // An unterminated block is thinking to the end.
  cli::OutputFilter cut(ChatFormat(ModelFamily::kGemma4, ThinkingFlags{}));
  EXPECT_EQ(cut.Feed("A<|channel>thought\nstill thinking") + cut.Finish(), "A");

  // --show-thinking, and any other family: the text as generated.
  cli::OutputFilter shown(ChatFormat(ModelFamily::kGemma4, ThinkingFlags{false, true}));
  std::string out;
  for (const std::string& s : stream) out += shown.Feed(s);
  EXPECT_EQ(out + shown.Finish(), all);
  cli::OutputFilter gemma3(ChatFormat(ModelFamily::kGemma3, ThinkingFlags{}));
  out.clear();
  for (const std::string& s : stream) out += gemma3.Feed(s);
  EXPECT_EQ(out + gemma3.Finish(), all);
}

// Two turns of a Conversation whose answers may think: afterwards the KV cache holds exactly
// the tokens of the conversation as RenderGemma4Chat renders it (the first answer without its
// thinking) plus the second answer, and the history keeps no thinking.
void CheckConversationCache(bool show_thinking) {
  auto model = Model::Load(MakeTinyGemma4Dir());
  const Tokenizer tok = Tokenizer::Load(model->checkpoint().tokenizer);
  SessionOptions so;
  so.context_length = 256;
  so.n_threads = 1;
  Session session(model, so);
  // Answers are drawn from letters (their text encodes back to the same byte pieces) and the
  // thinking and turn-end markers, so that an answer thinks and may end its turn.
  const int channel = tok.PieceToId("<|channel>");
  const std::vector<int> allowed = {tok.PieceToId("<0x61>"), tok.PieceToId("<0x62>"), channel,
                                    tok.PieceToId("<channel|>"), tok.PieceToId("<turn|>")};
  SamplingParams sp;
  sp.seed = 7;
  for (int id = 0; id < model->config().vocab_size; ++id) {
    if (!Contains(allowed, id)) sp.banned_ids.push_back(id);
  }
  Sampler sampler(sp);
  const ChatFormat format(model->config().family, ThinkingFlags{false, show_thinking});
  cli::Conversation conv(session, sampler, tok,
                         cli::MakeGenerateOptions(cli::SamplingFlags{}, *model, tok, 8), format,
                         "Be brief.");
  std::string streamed;
  const TextGeneration first =
      conv.Say("hello there", [&](std::string_view text) { streamed += text; });
  const std::string first_raw = tok.Decode(first.ids);
  ASSERT_TRUE(Contains(first.ids, channel)) << "the first answer should think: " << first_raw;
  EXPECT_EQ(first.text, streamed);
  EXPECT_EQ(first.text, show_thinking ? first_raw : format.WithoutThinking(first_raw));

  const TextGeneration second = conv.Say("what now", {});
  ASSERT_NE(second.stats.finish, FinishReason::kCancelled);
  std::vector<int> expected =
      TokenizeRenderedChat(tok, RenderGemma4Chat({{"system", "Be brief.", {}},
                                                  {"user", "hello there", {}},
                                                  {"assistant", first_raw, {}},
                                                  {"user", "what now", {}}},
                                                 /*add_generation_prompt=*/true));
  expected.insert(expected.end(), second.ids.begin(), second.ids.end());
  EXPECT_EQ(conv.tokens(), expected);
  ASSERT_EQ(session.position(), static_cast<int>(expected.size()));

  // The cache itself, not only the bookkeeping: a fresh session fed those tokens predicts the
  // same next token distribution.
  Session fresh(model, so);
  fresh.Forward(expected);
  float max_diff = 0;
  for (size_t i = 0; i < fresh.logits().size(); ++i) {
    max_diff = std::max(max_diff, std::fabs(fresh.logits()[i] - session.logits()[i]));
  }
  EXPECT_LT(max_diff, 1e-3f);

  const std::string saved = test::MakeTempDir(show_thinking ? "shown" : "hidden") + "/c.json";
  conv.Save(saved);
  const json messages = json::parse(test::ReadFileBytes(saved));
  ASSERT_EQ(messages.size(), 5u);
  EXPECT_EQ(messages[2]["content"], format.WithoutThinking(first_raw));
  EXPECT_EQ(messages[2]["content"].get<std::string>().find("<|channel>"), std::string::npos);
}

TEST(CliGemma4Chat, ConversationCacheHoldsTheRenderedConversation) {
  GEMMA_REQUIRE_TESTDATA();
  CheckConversationCache(/*show_thinking=*/false);
}

TEST(CliGemma4Chat, ConversationWithShownThinkingStillKeepsItOutOfTheCache) {
  GEMMA_REQUIRE_TESTDATA();
  CheckConversationCache(/*show_thinking=*/true);
}

// End to end through the binary.

std::string Flags(const std::string& dir) {
  return "-m '" + dir + "' --temp 0 ";
}

TEST(CliGemma4Chat, RunUsesTheGemma4ChatFormat) {
  GEMMA_REQUIRE_TESTDATA();
  const std::string dir = MakeTinyGemma4Dir();
  const std::string run = "run " + Flags(dir) + "--system 'Be brief.' -p 'hello there' -n 8 ";
  const test::CliResult text = RunCli(run + "--chat");
  ASSERT_EQ(text.exit_code, 0) << text.err;
  const test::CliResult j = RunCli(run + "--json");  // chat by default: there is a template
  ASSERT_EQ(j.exit_code, 0) << j.err;
  const json v = json::parse(j.out);
  EXPECT_EQ(v["output"], text.out.substr(0, text.out.size() - 1));
  auto model = Model::Load(dir);
  const Tokenizer tok = Tokenizer::Load(model->checkpoint().tokenizer);
  EXPECT_EQ(v["prompt_tokens"].get<size_t>(),
            BosAnd(tok,
                   "<|turn>system\nBe brief.<turn|>\n<|turn>user\nhello there<turn|>\n"
                   "<|turn>model\n")
                .size());
  // --think puts <|think|>\n into the system turn; --show-thinking is accepted.
  const test::CliResult think = RunCli(run + "--json --think --show-thinking");
  ASSERT_EQ(think.exit_code, 0) << think.err;
  EXPECT_EQ(json::parse(think.out)["prompt_tokens"].get<size_t>(),
            v["prompt_tokens"].get<size_t>() + tok.Encode("<|think|>\n").size());
  const test::CliResult help = RunCli("run --help");
  EXPECT_NE(help.out.find("--show-thinking"), std::string::npos);
  EXPECT_NE(help.out.find("--think"), std::string::npos);
}

TEST(CliGemma4Chat, ChatFeedsOnlyEachTurnsTokens) {
  GEMMA_REQUIRE_TESTDATA();
  const std::string dir = MakeTinyGemma4Dir();
  const test::CliResult r =
      RunCli("chat " + Flags(dir) + "-n 5 --system 'Be brief.'", "hello there\nwhat now\n");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::vector<int> sizes = test::PromptTokens(r.err);
  ASSERT_EQ(sizes.size(), 2u) << r.err;
  auto model = Model::Load(dir);
  const Tokenizer tok = Tokenizer::Load(model->checkpoint().tokenizer);
  // Turn 1: <bos>, the system turn and the user turn.
  EXPECT_EQ(sizes[0], static_cast<int>(BosAnd(tok,
                                              "<|turn>system\nBe brief.<turn|>\n<|turn>user\n"
                                              "hello there<turn|>\n<|turn>model\n")
                                           .size()));
  // Turn 2: the answer's unfed <turn|> and newline, then the new turn; no history again.
  EXPECT_EQ(
      sizes[1],
      static_cast<int>(tok.Encode("<turn|>\n<|turn>user\nwhat now<turn|>\n<|turn>model\n").size()));
}

TEST(CliGemma4Chat, BatchUsesTheGemma4ChatFormat) {
  GEMMA_REQUIRE_TESTDATA();
  const std::string dir = MakeTinyGemma4Dir();
  const std::string doc = test::MakeTempDir("doc") + "/a.txt";
  test::WriteFileBytes(doc, "cats");
  const test::CliResult r =
      RunCli("batch " + Flags(dir) + "-n 4 -p 'Sum up: {text}' --system 'Be brief.' '" + doc + "'");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const json v = json::parse(r.out);
  auto model = Model::Load(dir);
  const Tokenizer tok = Tokenizer::Load(model->checkpoint().tokenizer);
  EXPECT_EQ(v["prompt_tokens"].get<size_t>(),
            BosAnd(tok,
                   "<|turn>system\nBe brief.<turn|>\n<|turn>user\nSum up: cats<turn|>\n"
                   "<|turn>model\n")
                .size());
  EXPECT_EQ(RunCli("batch " + Flags(dir) + "-n 4 --show-thinking --think '" + doc + "'").exit_code,
            0);
}

TEST(CliGemma4Chat, ThinkingFlagsChangeNothingOnGemma3) {
  GEMMA_REQUIRE_TESTDATA();
  const std::string run = "run " + Flags(Gemma3Dir()) + "--chat -p 'hello there' -n 8 --json";
  const test::CliResult plain = RunCli(run);
  const test::CliResult flagged = RunCli(run + " --think --show-thinking");
  ASSERT_EQ(plain.exit_code, 0) << plain.err;
  ASSERT_EQ(flagged.exit_code, 0) << flagged.err;
  const json a = json::parse(plain.out), b = json::parse(flagged.out);
  EXPECT_EQ(a["output"], b["output"]);
  EXPECT_EQ(a["prompt_tokens"], b["prompt_tokens"]);
}

}  // namespace
}  // namespace gemma
