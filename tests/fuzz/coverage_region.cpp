// The bounds of SanitizerCoverage's inline 8-bit counters (the __sancov_cntrs section, whose
// __start_/__stop_ symbols the linker defines), for fuzz_inspect's child processes. Compiled
// without coverage instrumentation (tests/fuzz/CMakeLists.txt): an instrumented translation
// unit that names these symbols makes the instrumentation's own references to them resolve
// to a renamed, null declaration, and libFuzzer then registers no counters at all.
#include <cstdint>

extern "C" {
extern std::uint8_t __start___sancov_cntrs[] __attribute__((weak));
extern std::uint8_t __stop___sancov_cntrs[] __attribute__((weak));
}

namespace incsim::fuzz {

std::uint8_t* coverage_counters_begin() {
  return __start___sancov_cntrs;
}

std::uint8_t* coverage_counters_end() {
  return __stop___sancov_cntrs;
}

}  // namespace incsim::fuzz
