// libFuzzer target: config.json text -> ParseHfConfig, and the same text as
// generation_config.json -> ParseHfGenerationConfig.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "formats/hf_config.h"
#include "fuzz_util.h"
#include "gemma/error.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace gemma;
  const std::string text(fuzz::AsText(data, size));
  try {
    const HfConfig c = ParseHfConfig(text, "config.json");
    (void)c.config.LayerPatternString();
  } catch (const Error&) {
  }
  try {
    GenerationDefaults g;
    std::vector<int> eos;
    ParseHfGenerationConfig(text, "generation_config.json", &g, &eos);
  } catch (const Error&) {
  }
  return 0;
}
