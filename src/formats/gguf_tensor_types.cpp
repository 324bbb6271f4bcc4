#include "formats/gguf_tensor_types.h"

#include <cctype>
#include <cstdlib>

#include "core/quant/quantize.h"
#include "gemma/error.h"

namespace gemma {
namespace {

// llama.h enum llama_ftype. q4_k and q5_k are `llama-quantize --pure` of Q4_K_M / Q5_K_M (every
// eligible tensor in that type; plain llama-quantize treats them as aliases of the _M mixtures),
// so they carry the _M file type as --pure does.
const std::vector<QuantPreset> kPresets = {
    {"f32", 0, DType::kF32, true, false},       {"f16", 1, DType::kF16, true, false},
    {"bf16", 32, DType::kBF16, true, false},    {"q8_0", 7, DType::kQ8_0, true, false},
    {"q4_0", 2, DType::kQ4_0, true, false},     {"q4_1", 3, DType::kQ4_1, true, false},
    {"q5_0", 8, DType::kQ5_0, true, false},     {"q5_1", 9, DType::kQ5_1, true, false},
    {"q4_k", 15, DType::kQ4_K, true, true},     {"q5_k", 17, DType::kQ5_K, true, true},
    {"q6_k", 18, DType::kQ6_K, true, false},    {"q4_k_s", 14, DType::kQ4_K, true, false},
    {"q4_k_m", 15, DType::kQ4_K, true, false},  {"q5_k_s", 16, DType::kQ5_K, true, false},
    {"q5_k_m", 17, DType::kQ5_K, true, false},  {"q2_k", 10, DType::kQ2_K, false, false},
    {"q3_k_s", 11, DType::kQ3_K, false, false}, {"q3_k_m", 12, DType::kQ3_K, false, false},
    {"q3_k_l", 13, DType::kQ3_K, false, false},
};

enum FileType : uint32_t { kQ4_K_S = 14, kQ4_K_M = 15, kQ5_K_S = 16, kQ5_K_M = 17 };

enum class Role { kTokenEmbd, kAttnV, kFfnDown, kOther };

Role RoleOf(const std::string& name) {
  if (name == "token_embd.weight") return Role::kTokenEmbd;
  if (name.find("attn_v.weight") != std::string::npos) return Role::kAttnV;
  if (name.find("ffn_down") != std::string::npos) return Role::kFfnDown;
  return Role::kOther;
}

// llama.cpp's use_more_bits: the first and last eighth of the layers and every third between.
bool UseMoreBits(int i, int n) {
  return i < n / 8 || i >= 7 * n / 8 || (i - n / 8) % 3 == 2;
}

// llama_tensor_get_type_impl, reduced to the rules that can fire for a Gemma checkpoint and the
// presets we offer (no output.weight, no experts, no 70B rule, no imatrix). `layer` is the
// block number, which equals llama.cpp's i_attention_wv / i_ffn_down counters because it visits
// tensors sorted by block and every Gemma block has one attn_v and one ffn_down.
DType MixtureType(const QuantPreset& p, Role role, int layer, int n_layers, int64_t ncols) {
  const DType t = p.dtype;
  const uint32_t ft = p.file_type;
  switch (role) {
    case Role::kTokenEmbd:  // tied output: "nx % qk_k != 0 -> Q8_0, else not Q8_0 -> Q6_K"
      if (ncols % GetDTypeInfo(t).block_elems != 0) return DType::kQ8_0;
      return t == DType::kQ8_0 ? t : DType::kQ6_K;
    case Role::kAttnV:
      if ((ft == kQ4_K_M || ft == kQ5_K_M) && UseMoreBits(layer, n_layers)) return DType::kQ6_K;
      if (ft == kQ4_K_S && layer < 4) return DType::kQ5_K;
      return t;
    case Role::kFfnDown:
      if ((ft == kQ4_K_M || ft == kQ5_K_M) && UseMoreBits(layer, n_layers)) return DType::kQ6_K;
      if (ft == kQ4_K_S && layer < n_layers / 8) return DType::kQ5_K;
      return t;
    case Role::kOther:
      return t;
  }
  return t;
}

// tensor_type_fallback: a type whose block does not divide the row length. llama.cpp refuses
// the simple types here; we keep such tensors F32 instead.
DType FallbackType(DType t, int64_t ncols) {
  if (ncols % GetDTypeInfo(t).block_elems == 0) return t;
  DType f;
  switch (t) {
    case DType::kQ4_K:
      f = DType::kQ5_0;
      break;
    case DType::kQ5_K:
      f = DType::kQ5_1;
      break;
    case DType::kQ6_K:
      f = DType::kQ8_0;
      break;
    default:
      return DType::kF32;
  }
  return ncols % GetDTypeInfo(f).block_elems == 0 ? f : DType::kF16;
}

int LayerOf(const std::string& name) {
  return name.rfind("blk.", 0) == 0 ? std::atoi(name.c_str() + 4) : -1;
}

}  // namespace

const std::vector<QuantPreset>& QuantPresets() {
  return kPresets;
}

std::string SupportedQuantTypeNames() {
  std::string s;
  for (const QuantPreset& p : kPresets) {
    if (p.supported) s += (s.empty() ? "" : ", ") + std::string(p.name);
  }
  return s;
}

const QuantPreset* PresetOfFileType(uint32_t file_type) {
  for (const QuantPreset& p : kPresets) {
    if (p.file_type == file_type && !p.pure) return &p;
  }
  return nullptr;
}

const QuantPreset& FindQuantPreset(std::string_view name) {
  std::string lower(name);
  for (char& ch : lower) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  for (const QuantPreset& p : kPresets) {
    if (p.name != lower) continue;
    if (!p.supported) {
      Fail(ErrorKind::kUnsupported, "quantization type '" + lower +
                                        "' needs Q2_K/Q3_K quantizers, which are not implemented "
                                        "(supported: " +
                                        SupportedQuantTypeNames() + ")");
    }
    return p;
  }
  Fail(ErrorKind::kUsage, "unknown quantization type '" + std::string(name) +
                              "' (supported: " + SupportedQuantTypeNames() + ")");
}

DType ExportTensorType(const std::string& name, const TensorView& src, const QuantPreset& p,
                       int n_layers) {
  if (src.n_dims <= 1) return DType::kF32;
  if (!IsQuantized(p.dtype)) return p.dtype;
  const int64_t ncols = src.row_elems();
  const DType t = p.pure ? p.dtype : MixtureType(p, RoleOf(name), LayerOf(name), n_layers, ncols);
  return FallbackType(t, ncols);
}

}  // namespace gemma
