// Fuzzes `incsim inspect`: the input is the content of a result file, written to a scratch .h5
// file and read by incsim::cli::inspect_isolated (engine/cli/isolate.cpp, the command's own
// path), which reads with inspect_file (engine/cli/inspect.cpp) in a child process.
//
// libhdf5 (Debian 12's 1.10.8, not instrumented) trusts the sizes and offsets of a corrupt
// file and crashes, loops or allocates without bound inside its own code on some inputs; the
// command survives that by reading in the child, and so does this harness. The contract
// checked per input:
// - inspect_isolated returns 0 or 1 and the harness (the parent) never crashes or hangs;
// - a child that died printed nothing (no partial tables) and was reported as corrupt;
// - any fault in the child whose innermost frame outside the C, C++ and sanitizer runtimes is
//   in incsim's code is a finding: an ASan/UBSan report, a signal, 10 s of CPU, 1.5 GB of
//   resident memory, an LSan leak (libhdf5's own are suppressed, lsan.supp), and an HDF5 file,
//   group, dataset or attribute left open after inspect_file returns (a handle that escaped
//   the RAII wrapper). The same faults inside libhdf5 are the command's to survive, not ours to
//   fix (README.md, "Findings").
// Coverage: the child's SanitizerCoverage counters are copied into memory shared with the
// parent and merged into the parent's before libFuzzer reads them, so the fuzzer is guided by
// what the reader did in the child.
#include <fcntl.h>
#include <hdf5.h>
#include <sanitizer/common_interface_defs.h>
#include <sanitizer/lsan_interface.h>
#include <sys/mman.h>
#include <sys/time.h>
#include <unistd.h>

#include <csignal>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <regex>
#include <sstream>
#include <streambuf>
#include <string>

#include "cli/cli.h"
#include "fuzz_support.h"

namespace incsim::fuzz {
// coverage_region.cpp: the counters libFuzzer reads (null if there are none).
std::uint8_t* coverage_counters_begin();
std::uint8_t* coverage_counters_end();
}  // namespace incsim::fuzz

namespace {

constexpr double kChildCpuSeconds = 10;
constexpr long kChildRssBytes = 1536L << 20;
constexpr int kStatusLeftOpen = 99;
constexpr int kStatusLeak = 98;

std::string h5_path;
std::string err_path;  // the child's stderr
std::uint8_t* counters = nullptr;
std::uint8_t* shared_counters = nullptr;
std::size_t counter_count = 0;

class NullBuffer : public std::streambuf {
 protected:
  int overflow(int c) override { return c == traits_type::eof() ? 0 : c; }
  std::streamsize xsputn(const char*, std::streamsize n) override { return n; }
};

// In the child (and async-signal-safe): what the child covered, for the parent.
void harness_copy_counters() {
  std::memcpy(shared_counters, counters, counter_count);
}

void harness_say(const char* text) {
  const ssize_t ignored = ::write(2, text, std::strlen(text));
  (void)ignored;
}

// Ends the child as a crash would (the command then reports a corrupt file): after a report.
[[noreturn]] void harness_die(int sig) {
  harness_copy_counters();
  std::signal(sig, SIG_DFL);
  ::raise(sig);
  ::_exit(127);
}

// ASan and UBSan reports end here (__sanitizer_set_death_callback) in place of libFuzzer's
// callback, which would write a crash artefact from the child.
void harness_on_death() {
  harness_die(SIGABRT);
}

void harness_on_signal(int sig) {
  harness_say(sig == SIGXCPU ? "fuzz harness: the child used its CPU limit\n"
                             : "fuzz harness: the child received a deadly signal\n");
  __sanitizer_print_stack_trace();
  harness_die(sig);
}

// Every 50 ms of the child's CPU time: its resident memory against kChildRssBytes.
void harness_on_profile_tick(int) {
  const int fd = ::open("/proc/self/statm", O_RDONLY);
  if (fd < 0) return;
  char text[128];
  const ssize_t n = ::read(fd, text, sizeof text - 1);
  ::close(fd);
  if (n <= 0) return;
  text[n] = '\0';
  long pages = 0;
  const char* p = text;
  while (*p != ' ' && *p != '\0') ++p;  // the first field is the total size
  while (*p == ' ') ++p;
  for (; *p >= '0' && *p <= '9'; ++p) pages = pages * 10 + (*p - '0');
  if (pages * ::sysconf(_SC_PAGESIZE) <= kChildRssBytes) return;
  harness_say("fuzz harness: the child's resident memory passed 1.5 GB\n");
  __sanitizer_print_stack_trace();
  harness_die(SIGKILL);
}

void harness_child_setup(void*) {
  const int fd = ::open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  if (fd >= 0) {
    ::dup2(fd, 2);
    ::close(fd);
  }
  __sanitizer_set_death_callback(harness_on_death);
  struct sigaction action {};
  action.sa_handler = harness_on_signal;
  action.sa_flags = SA_ONSTACK;
  sigemptyset(&action.sa_mask);
  for (const int sig : {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT, SIGXCPU})
    ::sigaction(sig, &action, nullptr);
  action.sa_handler = harness_on_profile_tick;
  action.sa_flags = SA_RESTART;
  ::sigaction(SIGPROF, &action, nullptr);
  const itimerval tick{{0, 50000}, {0, 50000}};
  ::setitimer(ITIMER_PROF, &tick, nullptr);
}

int harness_child_finish(int status, void*) {
  const itimerval off{};
  ::setitimer(ITIMER_PROF, &off, nullptr);
  // Files and the objects in them (groups, datasets, attributes, committed types); HDF5 has
  // no public count of dataspace or property-list identifiers.
  const ssize_t open = H5Fget_obj_count(H5F_OBJ_ALL, H5F_OBJ_ALL);
  if (open != 0) {
    const std::string text =
        "fuzz harness: " + std::to_string(open) + " HDF5 objects left open after inspect_file\n";
    harness_say(text.c_str());
    status = kStatusLeftOpen;
  }
  if (__lsan_do_recoverable_leak_check() != 0) status = kStatusLeak;
  harness_copy_counters();
  return status;
}

// The innermost stack frame of the first report in `report` that is neither the sanitizers',
// libFuzzer's, the harness's own nor the C and C++ runtimes' (empty if there is none).
std::string innermost_frame(const std::string& report) {
  static const std::regex frame(R"(^ +#[0-9]+ 0x[0-9a-f]+ .*)");
  static const std::regex runtime(
      R"(__interceptor|__asan|__sanitizer|__lsan|__ubsan|fuzzer::|harness_|libc\.so|libgcc_s|)"
      R"(libstdc\+\+|operator new| in (std::|__gnu_cxx::|malloc|calloc|realloc|abort|raise|)"
      R"(__pthread|__restore_rt|__mem))");
  std::istringstream lines(report);
  bool in_report = false;
  for (std::string line; std::getline(lines, line);) {
    if (line.find("ERROR: ") != std::string::npos ||
        line.find("runtime error:") != std::string::npos ||
        line.find("fuzz harness:") != std::string::npos)
      in_report = true;
    if (in_report && std::regex_match(line, frame) && !std::regex_search(line, runtime))
      return line;
  }
  return "";
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  using namespace incsim::fuzz;
  counters = coverage_counters_begin();
  if (counters == nullptr || coverage_counters_end() <= counters)
    fail(
        "no SanitizerCoverage counters (__sancov_cntrs): the child's coverage cannot reach "
        "the fuzzer");
  counter_count = static_cast<std::size_t>(coverage_counters_end() - counters);
  void* shared =
      ::mmap(nullptr, counter_count, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (shared == MAP_FAILED) fail("cannot map memory shared with the child");
  shared_counters = static_cast<std::uint8_t*>(shared);
  h5_path = (scratch_dir() / "result.h5").string();
  err_path = (scratch_dir() / "child.err").string();
  write_file(h5_path, read_file(source_dir() / "tests/fuzz/seeds/inspect/minimal_result.hdf5"));
  std::ostringstream out, err;
  if (incsim::cli::inspect_isolated(h5_path, out, err, {kChildCpuSeconds, 0}) != 0 ||
      out.str().empty())
    fail("tests/fuzz/seeds/inspect/minimal_result.hdf5 does not inspect: " + err.str());
  // inspect_file's messages for unreadable files: one per input is noise in the fuzzer's log.
  static NullBuffer null;
  std::cerr.rdbuf(&null);
  return 0;
}

// A fork from a process with other threads can leave the sanitizer allocator's lock held in
// the child for ever (its leak check then never returns): run with -rss_limit_mb=0, which
// starts no RSS thread (tools/fuzz.sh does).
void check_single_threaded() {
  std::size_t threads = 0;
  for (const auto& entry : std::filesystem::directory_iterator("/proc/self/task")) {
    (void)entry;
    ++threads;
  }
  if (threads != 1)
    incsim::fuzz::fail(std::to_string(threads) +
                       " threads: fuzz_inspect forks per input and must run single-threaded "
                       "(libFuzzer: -rss_limit_mb=0)");
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using incsim::fuzz::fail;
  static const bool single = (check_single_threaded(), true);
  (void)single;
  incsim::fuzz::write_file(h5_path, reinterpret_cast<const char*>(data), size);
  std::memset(shared_counters, 0, counter_count);
  std::ostringstream out, err;
  const incsim::cli::ChildHooks hooks{harness_child_setup, harness_child_finish, nullptr};
  const int status = incsim::cli::inspect_isolated(h5_path, out, err, {kChildCpuSeconds, 0}, hooks);
  for (std::size_t i = 0; i < counter_count; ++i)
    if (shared_counters[i] > counters[i]) counters[i] = shared_counters[i];

  const std::string report = incsim::fuzz::read_file(err_path);
  const bool faulted = status == kStatusLeftOpen || status == kStatusLeak ||
                       report.find("ERROR: ") != std::string::npos ||
                       report.find("runtime error:") != std::string::npos ||
                       report.find("fuzz harness:") != std::string::npos;
  if (faulted) {
    const std::string frame = innermost_frame(report);
    const bool in_libhdf5 = frame.find("libhdf5") != std::string::npos;
    if (status == kStatusLeftOpen || status == kStatusLeak || !in_libhdf5) {
      const ssize_t ignored = ::write(2, report.data(), report.size());
      (void)ignored;
      fail("the child reading the file faulted in incsim's code (innermost frame: " +
           (frame.empty() ? std::string("none found") : frame) + "); its report is above");
    }
  }
  if (status != 0 && status != 1) fail("inspect_isolated returned " + std::to_string(status));
  if (faulted || err.str().find(" is corrupt: ") != std::string::npos) {
    if (!out.str().empty())
      fail("a child that died printed " + std::to_string(out.str().size()) + " bytes of tables");
    if (status != 1 || err.str().find(" is corrupt: ") == std::string::npos)
      fail("a child that died was not reported as a corrupt file (status " +
           std::to_string(status) + ", message '" + err.str() + "')");
  }
  return 0;
}
