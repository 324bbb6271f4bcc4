#include "cli/npy.h"

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "gemma/error.h"

namespace gemma::cli {

void WriteNpyF32(const std::string& path, const float* data, const std::vector<int64_t>& shape) {
  std::string dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (";
  int64_t count = 1;
  for (size_t i = 0; i < shape.size(); ++i) {
    dict += std::to_string(shape[i]) + (shape.size() == 1 || i + 1 < shape.size() ? ", " : "");
    count *= shape[i];
  }
  dict += "), }";
  // Magic (6) + version (2) + header length (2) + dict + padding + '\n' is a multiple of 64.
  const size_t unpadded = 10 + dict.size() + 1;
  dict.append((64 - unpadded % 64) % 64, ' ');
  dict += '\n';
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) Fail(ErrorKind::kIo, path + ": cannot write: " + std::strerror(errno));
  const uint16_t header_len = static_cast<uint16_t>(dict.size());
  const char magic[8] = {'\x93', 'N', 'U', 'M', 'P', 'Y', 1, 0};
  bool ok = std::fwrite(magic, 1, 8, f) == 8;
  ok = ok && std::fwrite(&header_len, 2, 1, f) == 1;
  ok = ok && std::fwrite(dict.data(), 1, dict.size(), f) == dict.size();
  ok = ok && std::fwrite(data, sizeof(float), static_cast<size_t>(count), f) ==
                 static_cast<size_t>(count);
  ok = std::fclose(f) == 0 && ok;
  if (!ok) Fail(ErrorKind::kIo, path + ": write failed");
}

}  // namespace gemma::cli
