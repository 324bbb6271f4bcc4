// Writes NumPy .npy files (format 1.0, little-endian float32, C order).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace gemma::cli {

// Throws Error(kIo) when the file cannot be written.
void WriteNpyF32(const std::string& path, const float* data, const std::vector<int64_t>& shape);

}  // namespace gemma::cli
