#include "formats/gguf_export.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <sys/mman.h>
#include <unistd.h>

#include "core/quant/dequantize.h"
#include "core/quant/quantize.h"
#include "formats/gguf_writer.h"
#include "gemma/error.h"
#include "kernels/thread_pool.h"
#include "tokenizer/hf_tokenizer_json.h"
#include "tokenizer/spm_model_proto.h"

namespace gemma {
namespace {

bool EndsWith(const std::string& s, std::string_view suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

std::string ReadBytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) Fail(ErrorKind::kIo, path + ": cannot open");
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

struct Vocab {
  std::string model;
  std::vector<std::string> tokens;
  std::vector<float> scores;
  std::vector<int32_t> types;
  std::vector<std::string> merges;
};

Vocab LoadVocab(const TokenizerSource& t) {
  Vocab v;
  if (!t.gguf_tokens.empty()) {
    v.model = t.gguf_model.empty() ? "llama" : t.gguf_model;
    v.tokens = t.gguf_tokens;
    v.scores = t.gguf_scores;
    v.types = t.gguf_token_types;
    v.merges = t.gguf_merges;
    return v;
  }
  spm::ModelProto proto;
  if (!t.spm_model_path.empty()) {
    proto = spm::ParseModelProto(ReadBytes(t.spm_model_path), t.spm_model_path);
  } else if (!t.hf_tokenizer_json_path.empty()) {
    proto = spm::LoadHfTokenizerJson(t.hf_tokenizer_json_path);
  } else {
    return v;
  }
  v.model = "llama";
  for (const spm::Piece& p : proto.pieces) {
    v.tokens.push_back(p.piece);
    v.scores.push_back(p.score);
    v.types.push_back(static_cast<int32_t>(p.type));
  }
  return v;
}

int FindToken(const Vocab& v, const char* piece) {
  for (size_t i = 0; i < v.tokens.size(); ++i) {
    if (v.tokens[i] == piece) return static_cast<int>(i);
  }
  return -1;
}

// llama.cpp hard-codes the layer pattern per architecture (gemma-models.md §3.2); a checkpoint
// whose pattern differs cannot be expressed in GGUF.
int PatternPeriod(const ModelConfig& c) {
  bool any_sliding = false;
  for (const LayerConfig& l : c.layers) any_sliding |= l.attention == AttentionType::kSliding;
  int period = 1;
  if (c.family == ModelFamily::kGemma2) period = 2;
  if (c.family == ModelFamily::kGemma3 && any_sliding) period = 6;
  for (int i = 0; i < c.n_layers; ++i) {
    const bool global = c.layers[static_cast<size_t>(i)].attention == AttentionType::kGlobal;
    if (global != IsGlobalLayerInPattern(i, period)) {
      Fail(ErrorKind::kUnsupported,
           "layer pattern " + c.LayerPatternString() + " cannot be stored in a GGUF file: " +
               "llama.cpp hard-codes the pattern for architecture " + c.architecture);
    }
  }
  return period;
}

// Writes a per-layer value as a scalar when all layers agree, else as an array.
void SetPerLayer(GgufWriter& w, const std::string& key, const ModelConfig& c,
                 int LayerConfig::*field) {
  std::vector<uint32_t> v;
  for (const LayerConfig& l : c.layers) v.push_back(static_cast<uint32_t>(l.*field));
  if (std::all_of(v.begin(), v.end(), [&](uint32_t x) { return x == v[0]; })) {
    w.SetU32(key, v[0]);
  } else {
    w.Set(key, GgufOutValue::RawArray(GgufType::kUint32, v.data(), v.size()));
  }
}

void WriteHyperParameters(GgufWriter& w, const ModelConfig& c, ExportStats* stats) {
  const std::string a = c.architecture;
  if (c.layers.empty()) Fail(ErrorKind::kFormat, "checkpoint has no layers");
  const int period = PatternPeriod(c);
  const LayerConfig& l0 = c.layers[0];
  for (const LayerConfig& l : c.layers) {
    if (l.head_dim != l0.head_dim) {
      Fail(ErrorKind::kUnsupported, "per-layer head dimensions cannot be stored for " + a);
    }
  }
  w.SetU32(a + ".context_length", static_cast<uint32_t>(c.context_length));
  w.SetU32(a + ".embedding_length", static_cast<uint32_t>(c.d_model));
  w.SetU32(a + ".block_count", static_cast<uint32_t>(c.n_layers));
  SetPerLayer(w, a + ".feed_forward_length", c, &LayerConfig::ff_dim);
  SetPerLayer(w, a + ".attention.head_count", c, &LayerConfig::n_heads);
  SetPerLayer(w, a + ".attention.head_count_kv", c, &LayerConfig::n_kv_heads);
  w.SetF32(a + ".attention.layer_norm_rms_epsilon", c.rms_norm_eps);
  w.SetU32(a + ".attention.key_length", static_cast<uint32_t>(l0.head_dim));
  w.SetU32(a + ".attention.value_length", static_cast<uint32_t>(l0.head_dim));

  // RoPE: the global layers' θ and linear factor; Gemma 3 local layers θ_swa, never scaled.
  const LayerConfig* global = nullptr;
  const LayerConfig* local = nullptr;
  for (const LayerConfig& l : c.layers) {
    if (l.attention == AttentionType::kGlobal && !global) global = &l;
    if (l.attention == AttentionType::kSliding && !local) local = &l;
  }
  for (const LayerConfig& l : c.layers) {
    const LayerConfig* ref = l.attention == AttentionType::kGlobal ? global : local;
    const bool same = l.rope.base == ref->rope.base &&
                      l.rope.position_divisor == ref->rope.position_divisor &&
                      l.sliding_window == ref->sliding_window;
    const bool local_ok = c.family == ModelFamily::kGemma3 || !global || !local ||
                          (local->rope.base == global->rope.base);
    if (!same || !local_ok || (local && local->rope.position_divisor != 1.f) ||
        (c.family != ModelFamily::kGemma3 && global && global->rope.position_divisor != 1.f)) {
      Fail(ErrorKind::kUnsupported,
           "this checkpoint's per-layer RoPE / window settings cannot be stored for " + a);
    }
  }
  const LayerConfig& rope_ref = global ? *global : *local;
  w.SetF32(a + ".rope.freq_base", rope_ref.rope.base);
  if (c.family == ModelFamily::kGemma3) {
    if (global && global->rope.position_divisor != 1.f) {
      w.SetString(a + ".rope.scaling.type", "linear");
      w.SetF32(a + ".rope.scaling.factor", global->rope.position_divisor);
    }
    if (local) w.SetF32(a + ".rope.freq_base_swa", local->rope.base);
  }
  if (period > 1) {
    w.SetU32(a + ".attention.sliding_window", static_cast<uint32_t>(local->sliding_window));
  }
  if (c.family == ModelFamily::kGemma2) {
    w.SetF32(a + ".attn_logit_softcapping", c.attn_softcap);
    w.SetF32(a + ".final_logit_softcapping", c.final_softcap);
  } else if (c.family == ModelFamily::kGemma3) {
    if (c.attn_softcap > 0.f) w.SetF32(a + ".attn_logit_softcapping", c.attn_softcap);
    if (c.final_softcap > 0.f) w.SetF32(a + ".final_logit_softcapping", c.final_softcap);
  } else if (c.attn_softcap > 0.f || c.final_softcap > 0.f) {
    Fail(ErrorKind::kUnsupported, "logit softcapping cannot be stored for " + a);
  }
  // GGUF has no query_pre_attn_scalar; readers derive the scale (gemma-models.md §3.2).
  const float derived =
      GgufGemmaQueryScale(c.family, c.n_layers, c.d_model, l0.n_heads, l0.head_dim);
  if (std::fabs(derived - c.query_scale) > 1e-6f * derived) {
    stats->notes.push_back("the checkpoint's attention query scale " +
                           std::to_string(c.query_scale) + " differs from " +
                           std::to_string(derived) + ", which GGUF readers derive for " + a);
  }
}

void WriteVocab(GgufWriter& w, const Checkpoint& ck, const Vocab& v) {
  const ModelConfig& c = ck.config;
  w.SetString("tokenizer.ggml.model", v.model);
  w.SetString("tokenizer.ggml.pre", "default");
  w.Set("tokenizer.ggml.tokens", GgufOutValue::StringArray(v.tokens));
  if (!v.scores.empty()) w.Set("tokenizer.ggml.scores", GgufOutValue::F32Array(v.scores));
  if (!v.types.empty()) w.Set("tokenizer.ggml.token_type", GgufOutValue::I32Array(v.types));
  if (!v.merges.empty()) w.Set("tokenizer.ggml.merges", GgufOutValue::StringArray(v.merges));
  const int n = static_cast<int>(v.tokens.size());
  auto set_id = [&](const char* key, int id) {
    if (id >= 0 && id < n) w.SetU32(key, static_cast<uint32_t>(id));
  };
  set_id("tokenizer.ggml.bos_token_id", c.bos_id);
  const int eos_piece = FindToken(v, "<eos>");
  set_id("tokenizer.ggml.eos_token_id",
         eos_piece >= 0 ? eos_piece : (c.eos_ids.empty() ? -1 : c.eos_ids[0]));
  int unk = -1;
  for (int i = 0; i < static_cast<int>(v.types.size()) && unk < 0; ++i) {
    if (v.types[static_cast<size_t>(i)] == static_cast<int32_t>(spm::PieceType::kUnknown)) unk = i;
  }
  set_id("tokenizer.ggml.unknown_token_id", unk);
  set_id("tokenizer.ggml.padding_token_id", c.pad_id);
  set_id("tokenizer.ggml.eot_token_id", FindToken(v, "<end_of_turn>"));
  w.SetBool("tokenizer.ggml.add_bos_token", true);
  w.SetBool("tokenizer.ggml.add_eos_token", false);
  w.SetBool("tokenizer.ggml.add_space_prefix", false);
  if (!ck.chat_template.empty()) w.SetString("tokenizer.chat_template", ck.chat_template);
}

void WriteGenerationDefaults(GgufWriter& w, const GenerationDefaults& g) {
  if (g.has_temperature) w.SetF32("general.sampling.temp", g.temperature);
  if (g.has_top_k) w.SetI32("general.sampling.top_k", g.top_k);
  if (g.has_top_p) w.SetF32("general.sampling.top_p", g.top_p);
  if (g.has_min_p) w.SetF32("general.sampling.min_p", g.min_p);
}

// Output order: token_embd, blocks by number (source order inside a block), the rest.
int LayerOf(const std::string& name) {
  if (name == "token_embd.weight") return -1;
  if (name.rfind("blk.", 0) != 0) return 1 << 30;
  return std::atoi(name.c_str() + 4);
}

struct Job {
  std::string name;
  const TensorView* src;
  DType dtype;
  std::vector<int64_t> shape;
  bool add_one;
  uint64_t out_bytes;
};

// Drops the pages of a converted source tensor from this process's resident set, so reading a
// model through its mapping does not grow RSS to the model size. Only for file mappings (read
// only, so the pages are re-read from the file if anything touches them again), never for a
// checkpoint's in-memory tensors, which MADV_DONTNEED would zero.
void ReleaseSourcePages(const Checkpoint& ck, const uint8_t* data, uint64_t n_bytes) {
  const auto begin = reinterpret_cast<uintptr_t>(data);
  const uintptr_t end = begin + n_bytes;
  bool mapped = false;
  for (const auto& f : ck.files) {
    const auto fb = reinterpret_cast<uintptr_t>(f->data());
    mapped |= begin >= fb && end <= fb + f->size();
  }
  const auto page = static_cast<uintptr_t>(sysconf(_SC_PAGESIZE));
  const uintptr_t first = (begin + page - 1) / page * page, last = end / page * page;
  if (mapped && last > first) {
    madvise(reinterpret_cast<void*>(first), last - first, MADV_DONTNEED);  // advisory only
  }
}

void ConvertTensor(const Checkpoint& ck, GgufWriter& w, const Job& job, ThreadPool& pool,
                   const ExportOptions& o, ExportProgress* progress, std::vector<uint8_t>* buf) {
  const TensorView& s = *job.src;
  const int64_t n_rows = job.shape.size() == 1 ? 1 : job.shape[0] * (s.n_rows() / s.dim(0));
  const int64_t row_elems = s.row_elems();
  const uint64_t out_row = RowBytes(job.dtype, static_cast<uint64_t>(row_elems));
  const bool copy = !job.add_one && s.dtype == job.dtype;
  const int64_t chunk_rows =
      std::max<int64_t>(1, static_cast<int64_t>(o.chunk_bytes / std::max<uint64_t>(1, out_row)));
  std::vector<std::vector<float>> scratch(static_cast<size_t>(pool.size()));
  for (int64_t r0 = 0; r0 < n_rows; r0 += chunk_rows) {
    const int64_t rows = std::min(chunk_rows, n_rows - r0);
    const uint64_t bytes = static_cast<uint64_t>(rows) * out_row;
    if (copy) {
      w.WriteData(s.row(r0), bytes);
    } else {
      buf->resize(bytes);
      uint8_t* dst = buf->data();
      pool.ParallelFor(rows, 16, [&](int64_t b, int64_t e, int t) {
        std::vector<float>& f = scratch[static_cast<size_t>(t)];
        f.resize(static_cast<size_t>(row_elems));
        for (int64_t r = b; r < e; ++r) {
          DequantizeRow(s.dtype, s.row(r0 + r), f.data(), row_elems);
          if (job.add_one) {
            for (float& x : f) x += 1.f;
          }
          QuantizeRow(job.dtype, f.data(), dst + static_cast<uint64_t>(r) * out_row, row_elems);
        }
      });
      w.WriteData(dst, bytes);
    }
    ReleaseSourcePages(
        ck, s.row(r0),
        RowBytes(s.dtype, static_cast<uint64_t>(row_elems)) * static_cast<uint64_t>(rows));
    progress->bytes_done += bytes;
    if (o.progress) o.progress(*progress);
  }
}

}  // namespace

ExportStats ExportGguf(const Checkpoint& ck, const std::string& out_path, const ExportOptions& o) {
  const QuantPreset& preset = FindQuantPreset(o.type);
  const ModelConfig& c = ck.config;
  if (c.family != ModelFamily::kGemma1 && c.family != ModelFamily::kGemma2 &&
      c.family != ModelFamily::kGemma3) {
    Fail(ErrorKind::kUnsupported, ck.path +
                                      ": GGUF export supports gemma, gemma2 and gemma3, not " +
                                      std::string(FamilyName(c.family)));
  }
  ExportStats stats;
  GgufWriter w;
  w.SetString("general.architecture", c.architecture);
  w.SetString("general.type", "model");
  const std::filesystem::path src_path(ck.path);
  const std::string stem =
      src_path.has_filename() ? src_path.stem().string() : src_path.parent_path().stem().string();
  if (!stem.empty()) w.SetString("general.name", stem);
  WriteHyperParameters(w, c, &stats);
  w.SetU32("general.file_type", preset.file_type);
  w.SetU32("general.quantization_version", 2);
  WriteGenerationDefaults(w, ck.generation);

  const Vocab vocab = LoadVocab(ck.tokenizer);
  int64_t embd_rows = c.vocab_size;
  if (vocab.tokens.empty()) {
    stats.notes.push_back("the checkpoint has no tokenizer; the GGUF carries no vocabulary");
  } else {
    Vocab v = vocab;
    const auto n_tok = static_cast<int64_t>(v.tokens.size());
    if (n_tok < c.vocab_size && c.family == ModelFamily::kGemma3) {
      embd_rows = n_tok;  // llama.cpp's converter truncates token_embd to the tokenizer
    } else if (n_tok < c.vocab_size) {
      for (int64_t i = n_tok; i < c.vocab_size; ++i) {  // and pads the vocabulary otherwise
        v.tokens.push_back("[PAD" + std::to_string(i) + "]");
        if (!v.scores.empty()) v.scores.push_back(0.f);
        if (!v.types.empty()) v.types.push_back(static_cast<int32_t>(spm::PieceType::kUnused));
      }
    }
    WriteVocab(w, ck, v);
  }

  // Tensor plan.
  std::vector<std::pair<std::string, const NamedTensor*>> order;
  for (const auto& [name, t] : ck.tensors) order.emplace_back(name, &t);
  std::stable_sort(order.begin(), order.end(), [](const auto& a, const auto& b) {
    const int la = LayerOf(a.first), lb = LayerOf(b.first);
    if (la != lb) return la < lb;
    if (a.second->file != b.second->file) return a.second->file < b.second->file;
    return a.second->view.data < b.second->view.data;
  });
  const bool add_one = c.norm_weight_offset == 1.f;
  if (c.norm_weight_offset != 0.f && !add_one) {
    Fail(ErrorKind::kUnsupported, ck.path + ": norm weight offset " +
                                      std::to_string(c.norm_weight_offset) + " cannot be stored");
  }
  std::vector<Job> jobs;
  ExportProgress progress;
  for (const auto& [name, t] : order) {
    const TensorView& v = t->view;
    Job j{name,
          &v,
          ExportTensorType(name, v, preset, c.n_layers),
          {},
          add_one && EndsWith(name, "norm.weight"),
          0};
    j.shape.assign(v.shape.begin(), v.shape.begin() + v.n_dims);
    if (name == "token_embd.weight" && j.shape.size() == 2) j.shape[0] = embd_rows;
    j.out_bytes = w.AddTensor(name, j.dtype, j.shape);
    progress.bytes_total += j.out_bytes;
    stats.in_bytes += v.n_bytes;
    stats.params += static_cast<uint64_t>(v.n_elements());
    jobs.push_back(std::move(j));
  }
  w.Begin(out_path);
  ThreadPool pool(std::max(1, o.n_threads));
  std::vector<uint8_t> buf;
  progress.n_tensors = jobs.size();
  for (size_t i = 0; i < jobs.size(); ++i) {
    progress.tensor_index = i;
    progress.tensor_name = jobs[i].name;
    ConvertTensor(ck, w, jobs[i], pool, o, &progress, &buf);
    ++stats.tensor_types[jobs[i].dtype];
  }
  w.Finish();
  stats.n_tensors = jobs.size();
  stats.out_bytes = w.bytes_written();
  return stats;
}

}  // namespace gemma
