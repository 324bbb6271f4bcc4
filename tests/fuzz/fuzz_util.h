// Helpers shared by the libFuzzer targets: the readers take paths (MappedFile maps a file), so
// each input is written to a per-process scratch directory in /dev/shm (tmpfs, no disk I/O).
// A target calls a reader and swallows gemma::Error only: any other exception escapes to
// libFuzzer (reported as a crash via std::terminate), as do ASan/UBSan reports.
#pragma once

#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>

namespace gemma::fuzz {

// A directory private to this process, created on first use and removed at exit.
inline const std::string& ScratchDir() {
  static const std::string dir = [] {
    std::string base = "/dev/shm";
    if (!std::filesystem::is_directory(base)) base = std::filesystem::temp_directory_path();
    std::string d = base + "/gemma-fuzz-" + std::to_string(::getpid());
    std::filesystem::create_directories(d);
    static struct Cleanup {
      std::string path;
      ~Cleanup() {
        std::error_code ec;
        std::filesystem::remove_all(path, ec);
      }
    } cleanup{d};
    return d;
  }();
  return dir;
}

// Writes `bytes` to `name` inside the scratch directory and returns the full path.
inline std::string WriteScratch(const std::string& name, std::string_view bytes) {
  const std::string path = ScratchDir() + "/" + name;
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  out.close();
  if (!out) {
    std::fprintf(stderr, "fuzz: cannot write %s\n", path.c_str());
    std::abort();
  }
  return path;
}

inline std::string_view AsText(const uint8_t* data, size_t size) {
  return std::string_view(reinterpret_cast<const char*>(data), size);
}

}  // namespace gemma::fuzz
