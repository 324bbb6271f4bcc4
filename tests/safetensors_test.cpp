// The safetensors reader and the Hugging Face directory loader on well-formed and malformed input.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cstring>
#include <filesystem>

#include "formats/checkpoint.h"
#include "formats/hf_checkpoint.h"
#include "formats/hf_config.h"
#include "formats/safetensors.h"
#include "gemma/error.h"
#include "model/model.h"
#include "model/session.h"
#include "model/synthetic.h"
#include "test_util.h"

namespace gemma {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

std::string Safetensors(const json& header, const std::string& data) {
  // Padded with spaces to 8 bytes, as the safetensors library writes it (data stays aligned).
  std::string h = header.dump();
  while (h.size() % 8 != 0) h.push_back(' ');
  const uint64_t n = h.size();
  std::string out(8, '\0');
  std::memcpy(out.data(), &n, 8);
  return out + h + data;
}

// Expects `fn` to throw gemma::Error of `kind` whose message contains `needle`.
template <typename Fn>
void ExpectError(Fn fn, ErrorKind kind, const std::string& needle) {
  try {
    fn();
    ADD_FAILURE() << "no error; expected one containing '" << needle << "'";
  } catch (const Error& e) {
    EXPECT_EQ(static_cast<int>(e.kind()), static_cast<int>(kind)) << e.what();
    EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    EXPECT_EQ(std::string(e.what()).find('\n'), std::string::npos) << "one line: " << e.what();
  }
}

class SafetensorsFileTest : public ::testing::Test {
 protected:
  std::string Write(const std::string& bytes) {
    const std::string path = test::MakeTempDir("st") + "/model.safetensors";
    test::WriteFileBytes(path, bytes);
    return path;
  }
};

TEST_F(SafetensorsFileTest, ReadsTensorsInPlace) {
  float data[6] = {1, 2, 3, 4, 5, 6};
  const json h = {{"a", {{"dtype", "F32"}, {"shape", {2, 3}}, {"data_offsets", {0, 24}}}},
                  {"__metadata__", {{"format", "pt"}}}};
  const SafetensorsFile f = ReadSafetensors(Write(Safetensors(h, std::string((char*)data, 24))));
  ASSERT_EQ(f.tensors.count("a"), 1u);
  const TensorView& v = f.tensors.at("a");
  EXPECT_EQ(v.dim(0), 2);
  EXPECT_EQ(v.dim(1), 3);
  EXPECT_EQ(reinterpret_cast<const float*>(v.row(1))[2], 6.f);
  // In place: the view points into the mapping, not a copy.
  EXPECT_GE(v.data, f.file->data());
  EXPECT_LT(v.data, f.file->data() + f.file->size());
  EXPECT_EQ(f.metadata.at("format"), "pt");
}

TEST_F(SafetensorsFileTest, RejectsMalformedFiles) {
  const std::string d24(24, '\0');
  auto entry = [](const char* dt, json shape, json offs) {
    return json{{"dtype", dt}, {"shape", shape}, {"data_offsets", offs}};
  };
  ExpectError([&] { ReadSafetensors(Write("abc")); }, ErrorKind::kIo, "truncated");
  std::string big(8, '\0');
  const uint64_t huge = 1ull << 60;
  std::memcpy(big.data(), &huge, 8);
  ExpectError([&] { ReadSafetensors(Write(big)); }, ErrorKind::kFormat, "implausible");
  ExpectError(
      [&] {
        ReadSafetensors(
            Write(Safetensors(json{{"a", entry("F32", {2, 3}, {0, 24})}}, d24).substr(0, 20)));
      },
      ErrorKind::kIo, "runs past the end");
  ExpectError(
      [&] {
        ReadSafetensors(Write(Safetensors(json{{"a", entry("F32", {2, 3}, {0, 48})}}, d24)));
      },
      ErrorKind::kFormat, "runs past the end");
  ExpectError(
      [&] {
        ReadSafetensors(Write(Safetensors(json{{"a", entry("F32", {2, 4}, {0, 24})}}, d24)));
      },
      ErrorKind::kFormat, "bytes of data");
  ExpectError(
      [&] {
        ReadSafetensors(Write(Safetensors(json{{"a", entry("F32", {-2, 3}, {0, 24})}}, d24)));
      },
      ErrorKind::kFormat, "dimension");
  ExpectError(
      [&] {
        ReadSafetensors(Write(Safetensors(json{{"a", entry("F32", {1, 6}, {8, 0})}}, d24)));
      },
      ErrorKind::kFormat, "runs past");
  ExpectError(
      [&] {
        ReadSafetensors(Write(Safetensors(
            json{{"a", entry("F32", {4}, {0, 16})}, {"b", entry("F32", {4}, {8, 24})}}, d24)));
      },
      ErrorKind::kFormat, "overlap");
  ExpectError(
      [&] {
        ReadSafetensors(Write(Safetensors(json{{"a", {{"dtype", "F32"}}}}, d24)));
      },
      ErrorKind::kFormat, "lacks");
  ExpectError(
      [&] {
        ReadSafetensors(Write(Safetensors(json{{"a", entry("F32", {4}, {2, 18})}}, d24)));
      },
      ErrorKind::kFormat, "not aligned to its 4-byte F32 elements");
  std::string bad_json = Safetensors(json::object(), "");
  bad_json[9] = 'x';  // "{x" where "{}" was
  ExpectError([&] { ReadSafetensors(Write(bad_json)); }, ErrorKind::kFormat, "invalid JSON");
  ExpectError(
      [&] {
        ReadSafetensors(Write(Safetensors(
            json{{"a", entry("F32", {uint64_t{1} << 62, uint64_t{1} << 62}, {0, 24})}}, d24)));
      },
      ErrorKind::kFormat, "overflow");
  // Unknown dtypes are recorded, not fatal (only an error if the model needs that tensor).
  const SafetensorsFile f =
      ReadSafetensors(Write(Safetensors(json{{"a", entry("I64", {3}, {0, 24})}}, d24)));
  EXPECT_EQ(f.unsupported.at("a"), "I64");
}

TEST(HfConfig, ParsesFamiliesAndRejectsOthers) {
  const HfConfig g3 = ParseHfConfig(R"({"model_type":"gemma3_text","hidden_size":64,
    "num_hidden_layers":7,"num_attention_heads":4,"num_key_value_heads":1,"head_dim":32,
    "intermediate_size":128,"sliding_window":8,"query_pre_attn_scalar":16,
    "rope_scaling":{"rope_type":"linear","factor":8.0}})",
                                    "config.json");
  const ModelConfig& c = g3.config;
  EXPECT_EQ(c.family, ModelFamily::kGemma3);
  EXPECT_EQ(c.LayerPatternString(), "LLLLLGL");  // default period 6
  EXPECT_EQ(c.layers[5].rope.base, 1e6f);
  EXPECT_EQ(c.layers[5].rope.position_divisor, 8.f);
  EXPECT_EQ(c.layers[0].rope.base, 1e4f);
  EXPECT_EQ(c.layers[0].rope.position_divisor, 1.f);
  EXPECT_EQ(c.layers[0].sliding_window, 8);
  EXPECT_FLOAT_EQ(c.query_scale, 0.25f);
  EXPECT_TRUE(c.qk_norm);
  EXPECT_EQ(c.norm_weight_offset, 1.f);

  const HfConfig g2 = ParseHfConfig(R"({"model_type":"gemma2","hidden_size":64,
    "num_hidden_layers":4,"num_attention_heads":4,"intermediate_size":128,
    "attn_logit_softcapping":50.0,"final_logit_softcapping":30.0})",
                                    "config.json");
  EXPECT_EQ(g2.config.LayerPatternString(), "LGLG");
  EXPECT_EQ(g2.config.attn_softcap, 50.f);
  EXPECT_EQ(g2.config.layers[0].sliding_window, 4096);

  const HfConfig mm = ParseHfConfig(R"({"model_type":"gemma3","text_config":{
    "hidden_size":64,"num_hidden_layers":6,"num_attention_heads":4,"intermediate_size":128,
    "rope_parameters":{"full_attention":{"rope_type":"linear","factor":8.0,"rope_theta":1000000.0},
    "sliding_attention":{"rope_type":"default","rope_theta":10000.0}}}})",
                                    "config.json");
  EXPECT_EQ(mm.config.layers[5].rope.position_divisor, 8.f);
  EXPECT_FALSE(mm.notes.empty());

  ExpectError([] { ParseHfConfig(R"({"model_type":"llama"})", "c.json"); }, ErrorKind::kUnsupported,
              "llama");
  ExpectError([] { ParseHfConfig(R"({"model_type":"gemma"})", "c.json"); }, ErrorKind::kFormat,
              "missing key 'hidden_size'");
  ExpectError([] { ParseHfConfig("{", "c.json"); }, ErrorKind::kFormat, "invalid JSON");
  ExpectError([] { ParseHfConfig(R"({"model_type":"gemma","hidden_size":-5})", "c.json"); },
              ErrorKind::kFormat, "hidden_size");
}

// Copies a golden HF directory so tests can damage it.
std::string CopyGoldenHf(const std::string& name) {
  const std::string dst = test::MakeTempDir("hf");
  fs::copy(test::TestDataDir() + "/golden/" + name + "/hf", dst, fs::copy_options::recursive);
  for (const auto& e : fs::directory_iterator(dst)) {
    fs::permissions(e.path(), fs::perms::owner_write, fs::perm_options::add);
  }
  return dst;
}

// Found by the hf_config fuzzer: a Gemma 4 rope_type that is not a string escaped as a
// nlohmann type_error. Any key of a wrong JSON type must be a one-line format error.
TEST(HfConfig, WrongJsonTypesDeepInsideAreFormatErrors) {
  nlohmann::json j = nlohmann::json::parse(SyntheticConfigJson("gemma4-e2b"));
  nlohmann::json& text = j.contains("text_config") ? j["text_config"] : j;
  text["rope_parameters"] = {{"full_attention", {{"rope_type", 5}}}};
  try {
    ParseHfConfig(j.dump(), "config.json");
    FAIL() << "accepted a numeric rope_type";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kFormat);
    EXPECT_NE(std::string(e.what()).find("config.json"), std::string::npos) << e.what();
  }
}

TEST(HfCheckpoint, ShardedCheckpointGivesTheSameLogits) {
  GEMMA_REQUIRE_TESTDATA();
  const std::string src = test::TestDataDir() + "/golden/gemma3-1b-like/hf";
  const std::string dir = CopyGoldenHf("gemma3-1b-like");
  fs::remove(dir + "/model.safetensors");
  // Split the tensors over two shards and write the index.
  const SafetensorsFile st = ReadSafetensors(src + "/model.safetensors");
  json shard[2], index = {{"metadata", {{"total_size", 0}}}, {"weight_map", json::object()}};
  std::string data[2];
  int i = 0;
  for (const auto& [name, v] : st.tensors) {
    const int s = i++ % 2;
    const uint64_t b = data[s].size();
    data[s].append(reinterpret_cast<const char*>(v.data), v.n_bytes);
    std::vector<int64_t> shape(v.shape.begin(), v.shape.begin() + v.n_dims);
    shard[s][name] = {{"dtype", "F32"}, {"shape", shape}, {"data_offsets", {b, b + v.n_bytes}}};
    index["weight_map"][name] = "model-0000" + std::to_string(s + 1) + "-of-00002.safetensors";
  }
  for (int s = 0; s < 2; ++s) {
    test::WriteFileBytes(dir + "/model-0000" + std::to_string(s + 1) + "-of-00002.safetensors",
                         Safetensors(shard[s], data[s]));
  }
  test::WriteFileBytes(dir + "/model.safetensors.index.json", index.dump());

  auto whole = Model::Load(src);
  auto sharded = Model::Load(dir);
  EXPECT_EQ(sharded->checkpoint().files.size(), 2u);
  const std::vector<int> ids = {2, 100, 200, 300, 400};
  Session a(whole, {}), b(sharded, {});
  a.Forward(ids);
  b.Forward(ids);
  EXPECT_EQ(a.logits(), b.logits());

  // A shard listed in the index but missing is named in the error.
  fs::remove(dir + "/model-00002-of-00002.safetensors");
  ExpectError([&] { Model::Load(dir); }, ErrorKind::kIo, "model-00002-of-00002.safetensors");
}

TEST(HfCheckpoint, BadDirectoriesFailWithOneLineErrors) {
  GEMMA_REQUIRE_TESTDATA();
  ExpectError([] { Model::Load("/nonexistent/model"); }, ErrorKind::kIo, "no such file");
  const std::string empty = test::MakeTempDir("empty");
  ExpectError([&] { Model::Load(empty); }, ErrorKind::kIo, "config.json");

  std::string dir = CopyGoldenHf("gemma2-2b-like");
  fs::remove(dir + "/model.safetensors");
  ExpectError([&] { Model::Load(dir); }, ErrorKind::kIo, "no model.safetensors");

  dir = CopyGoldenHf("gemma2-2b-like");
  const std::string st = test::ReadFileBytes(dir + "/model.safetensors");
  test::WriteFileBytes(dir + "/model.safetensors", st.substr(0, st.size() / 2));
  ExpectError([&] { Model::Load(dir); }, ErrorKind::kFormat, "runs past the end");

  // A tensor the model needs is missing: drop it by renaming it in the header.
  dir = CopyGoldenHf("gemma2-2b-like");
  std::string bytes = test::ReadFileBytes(dir + "/model.safetensors");
  const size_t at = bytes.find("model.layers.3.mlp.up_proj.weight");
  ASSERT_NE(at, std::string::npos);
  bytes.replace(at, 5, "xodel");
  test::WriteFileBytes(dir + "/model.safetensors", bytes);
  ExpectError([&] { Model::Load(dir); }, ErrorKind::kFormat, "blk.3.ffn_up.weight");

  // A wrong shape in config.json is caught against the tensors.
  dir = CopyGoldenHf("gemma2-2b-like");
  json cfg = json::parse(test::ReadFileBytes(dir + "/config.json"));
  cfg["intermediate_size"] = 96;
  test::WriteFileBytes(dir + "/config.json", cfg.dump());
  ExpectError([&] { Model::Load(dir); }, ErrorKind::kFormat, "expected [96, 64]");

  cfg["model_type"] = "mistral";
  test::WriteFileBytes(dir + "/config.json", cfg.dump());
  ExpectError([&] { Model::Load(dir); }, ErrorKind::kUnsupported, "mistral");
}

TEST(HfCheckpoint, TensorNamesMapToCanonicalRoles) {
  EXPECT_EQ(CanonicalTensorName(ModelFamily::kGemma1, "layers.0.post_attention_layernorm.weight"),
            "blk.0.ffn_norm.weight");  // Gemma 1: the pre-FFN norm
  EXPECT_EQ(CanonicalTensorName(ModelFamily::kGemma2, "layers.0.post_attention_layernorm.weight"),
            "blk.0.post_attention_norm.weight");
  EXPECT_EQ(CanonicalTensorName(ModelFamily::kGemma3, "layers.12.self_attn.k_norm.weight"),
            "blk.12.attn_k_norm.weight");
  EXPECT_EQ(CanonicalTensorName(ModelFamily::kGemma3, "embed_tokens.weight"), "token_embd.weight");
  EXPECT_EQ(CanonicalTensorName(ModelFamily::kGemma3, "vision_tower.x.weight"), "");
}

}  // namespace
}  // namespace gemma
