// Shared pieces of the libFuzzer harnesses (tests/fuzz/fuzz_*.cpp): a private scratch
// directory per fuzzing process (inputs that the engine reads by path are written there),
// and whole-file reads and writes. Nothing here is fuzzed; a failure aborts loudly, since a
// harness that cannot set itself up would fuzz nothing while looking like a pass.
#pragma once

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <system_error>

namespace incsim::fuzz {

[[noreturn]] inline void fail(const std::string& what) {
  std::fprintf(stderr, "fuzz harness: %s\n", what.c_str());
  std::abort();
}

inline std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail("cannot read " + path.string());
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

inline void write_file(const std::filesystem::path& path, const char* data, std::size_t size) {
  std::FILE* out = std::fopen(path.c_str(), "wb");
  if (out == nullptr) fail("cannot write " + path.string());
  if (size > 0 && std::fwrite(data, 1, size, out) != size) fail("short write to " + path.string());
  if (std::fclose(out) != 0) fail("cannot close " + path.string());
}

inline void write_file(const std::filesystem::path& path, const std::string& text) {
  write_file(path, text.data(), text.size());
}

// The source tree (tests/fuzz/CMakeLists.txt defines INCSIM_SOURCE_DIR).
inline std::filesystem::path source_dir() {
  return INCSIM_SOURCE_DIR;
}

// A fresh directory under $TMPDIR (or /tmp) owned by this process, removed at exit. libFuzzer's
// -fork/-jobs run several processes: each has its own.
inline const std::filesystem::path& scratch_dir() {
  // Never destroyed, so the exit handler below can still read it.
  static const std::filesystem::path* const dir = [] {
    const char* tmp = std::getenv("TMPDIR");
    std::string pattern =
        std::string(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp") + "/incsim-fuzz-XXXXXX";
    if (::mkdtemp(pattern.data()) == nullptr) fail("cannot create a directory " + pattern);
    return new std::filesystem::path(pattern);
  }();
  static const bool cleanup = [] {
    return std::atexit([] {
             std::error_code ec;
             std::filesystem::remove_all(*dir, ec);
           }) == 0;
  }();
  (void)cleanup;
  return *dir;
}

inline void copy_into_scratch(const std::filesystem::path& from, const std::string& name) {
  std::error_code ec;
  std::filesystem::create_directories((scratch_dir() / name).parent_path(), ec);
  std::filesystem::copy_file(from, scratch_dir() / name,
                             std::filesystem::copy_options::overwrite_existing, ec);
  if (ec) fail("cannot copy " + from.string() + ": " + ec.message());
}

}  // namespace incsim::fuzz
