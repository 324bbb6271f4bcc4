// libFuzzer target: model.safetensors.index.json. The index reader (ShardFiles in
// hf_checkpoint.cpp) has no API of its own, so each input is written as the index of a scratch
// Hugging Face directory holding a small valid config.json and two tiny shards, and the whole
// directory goes through OpenHfCheckpoint and Model::FromCheckpoint.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>

#include "formats/hf_checkpoint.h"
#include "fuzz_util.h"
#include "gemma/error.h"
#include "model/model.h"

namespace {

std::string Shard(const std::string& header, size_t data_bytes) {
  const uint64_t n = header.size();
  std::string out(8, '\0');
  std::memcpy(out.data(), &n, 8);
  return out + header + std::string(data_bytes, '\0');
}

void WriteFixedFiles() {
  using gemma::fuzz::WriteScratch;
  WriteScratch("config.json", R"({"model_type":"gemma","hidden_size":4,"num_hidden_layers":1,)"
                              R"("num_attention_heads":1,"num_key_value_heads":1,"head_dim":4,)"
                              R"("intermediate_size":8,"vocab_size":8})");
  // Shard 1: the embedding and the final norm; shard 2: layer 0.
  WriteScratch("model-00001-of-00002.safetensors",
               Shard(R"({"model.embed_tokens.weight":{"dtype":"F32","shape":[8,4],)"
                     R"("data_offsets":[0,128]},"model.norm.weight":{"dtype":"F32",)"
                     R"("shape":[4],"data_offsets":[128,144]}})",
                     144));
  std::string h = "{";
  size_t off = 0;
  auto add = [&](const std::string& name, int rows, int cols) {
    const size_t bytes = size_t(rows) * size_t(cols) * 4;
    if (h.size() > 1) h += ",";
    h += "\"model.layers.0." + name + "\":{\"dtype\":\"F32\",\"shape\":[" +
         (rows > 1 ? std::to_string(rows) + "," : std::string()) + std::to_string(cols) +
         "],\"data_offsets\":[" + std::to_string(off) + "," + std::to_string(off + bytes) + "]}";
    off += bytes;
  };
  add("input_layernorm.weight", 1, 4);
  add("post_attention_layernorm.weight", 1, 4);
  add("self_attn.q_proj.weight", 4, 4);
  add("self_attn.k_proj.weight", 4, 4);
  add("self_attn.v_proj.weight", 4, 4);
  add("self_attn.o_proj.weight", 4, 4);
  add("mlp.gate_proj.weight", 8, 4);
  add("mlp.up_proj.weight", 8, 4);
  add("mlp.down_proj.weight", 4, 8);
  h += "}";
  WriteScratch("model-00002-of-00002.safetensors", Shard(h, off));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace gemma;
  static const bool once = (WriteFixedFiles(), true);
  (void)once;
  fuzz::WriteScratch("model.safetensors.index.json", fuzz::AsText(data, size));
  try {
    (void)Model::FromCheckpoint(OpenHfCheckpoint(fuzz::ScratchDir()));
  } catch (const Error&) {
  }
  return 0;
}
