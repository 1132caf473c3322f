// `incsim inspect` reads a result file in a child process (cli.h, inspect_isolated): a file
// we did not write may make libhdf5 (Debian 12's 1.10.8 trusts the sizes and offsets it
// reads) crash, loop or allocate without bound inside its own code, where no check of ours
// can run first. The child takes that: the command reports the file as corrupt, exits with
// status 1 and prints nothing partial.
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <functional>
#include <iostream>
#include <new>
#include <sstream>
#include <string>

#include "cli/cli.h"
#include "incsim/load.h"

namespace incsim::cli {
namespace {

std::string gigabytes(double bytes) {
  char text[32];
  std::snprintf(text, sizeof text, "%.1f GB", bytes / 1e9);
  return text;
}

void apply_limits(const ChildLimits& limits) {
  if (limits.cpu_seconds > 0) {
    // SIGXCPU at the soft limit, SIGKILL 5 s later should it be caught.
    const rlim_t soft = static_cast<rlim_t>(std::ceil(limits.cpu_seconds));
    const rlimit cpu{soft, soft + 5};
    ::setrlimit(RLIMIT_CPU, &cpu);
  }
  if (limits.address_space > 0) {
    const rlimit as{limits.address_space, limits.address_space};
    ::setrlimit(RLIMIT_AS, &as);
  }
}

// What the child writes after its tables once it has finished: a child that ends without it
// (a sanitizer's report and exit, exit() inside a library) did not finish, whatever its status.
constexpr char kDoneBytes[] = "\0incsim: child done\n";
const std::string kDone(kDoneBytes, sizeof kDoneBytes - 1);

// The child: reads, writes its tables to `fd` when done, and leaves without running the
// parent's exit handlers (libhdf5's among them) or flushing its copies of the parent's buffers.
[[noreturn]] void child_main(const std::string& command, const std::string& subject,
                             const std::function<int(std::ostream&)>& body, int fd,
                             const ChildLimits& limits, const ChildHooks& hooks) {
  apply_limits(limits);
  if (hooks.setup != nullptr) hooks.setup(hooks.context);
  std::ostringstream tables;
  int status = 1;
  bool print = true;
  try {
    status = body(tables);
  } catch (const std::bad_alloc&) {
    std::cerr << "incsim " << command << ": " << subject
              << " is corrupt: reading it needs more memory than "
              << (limits.address_space > 0 ? "the limit of " + gigabytes(limits.address_space)
                                           : std::string("there is"))
              << "; nothing printed\n";
    print = false;
  } catch (const std::exception& e) {
    std::cerr << "incsim: " << e.what() << "\n";
    print = false;
  }
  if (hooks.finish != nullptr) status = hooks.finish(status, hooks.context);
  {
    const std::string text = (print ? tables.str() : std::string()) + kDone;
    for (std::size_t done = 0; done < text.size();) {
      const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) ::_exit(1);
      done += static_cast<std::size_t>(n);
    }
  }
  std::cerr.flush();
  ::_exit(status);
}

}  // namespace

ChildLimits inspect_limits(const std::vector<std::string>& paths) {
  ChildLimits limits;
  double bytes = 0;
  for (const std::string& path : paths) {
    std::error_code ec;
    const std::uintmax_t size = std::filesystem::file_size(path, ec);
    if (!ec) bytes += static_cast<double>(size);
  }
  limits.cpu_seconds = 120.0 + bytes / 10e6;
  // AddressSanitizer reserves terabytes of address space for its shadow memory: under an
  // address-space limit it cannot start (tools/sanitize.sh builds), so those builds go without.
#if defined(__SANITIZE_ADDRESS__)
  constexpr bool kAddressSanitizer = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
  constexpr bool kAddressSanitizer = true;
#else
  constexpr bool kAddressSanitizer = false;
#endif
#else
  constexpr bool kAddressSanitizer = false;
#endif
  limits.address_space = kAddressSanitizer ? 0 : static_cast<std::uint64_t>(memory_limit_bytes());
  return limits;
}

int run_isolated(const std::string& command, const std::string& subject,
                 const std::function<int(std::ostream&)>& body, std::ostream& out,
                 std::ostream& err, const ChildLimits& limits, const ChildHooks& hooks) {
  std::cout.flush();
  std::cerr.flush();
  out.flush();
  int pipe_fd[2];
  if (::pipe(pipe_fd) != 0) return body(out);
  const pid_t child = ::fork();
  if (child < 0) {
    ::close(pipe_fd[0]);
    ::close(pipe_fd[1]);
    return body(out);
  }
  if (child == 0) {
    ::close(pipe_fd[0]);
    child_main(command, subject, body, pipe_fd[1], limits, hooks);
  }
  ::close(pipe_fd[1]);
  std::string text;
  char buffer[65536];
  for (ssize_t n; (n = ::read(pipe_fd[0], buffer, sizeof buffer)) != 0;) {
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) break;
    text.append(buffer, static_cast<std::size_t>(n));
  }
  ::close(pipe_fd[0]);
  int status = 0;
  while (::waitpid(child, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFSIGNALED(status)) {
    const int sig = WTERMSIG(status);
    err << "incsim " << command << ": " << subject << " is corrupt: ";
    if (sig == SIGXCPU) {
      err << "reading it did not finish within " << limits.cpu_seconds << " s of CPU time";
    } else {
      err << "reading it crashed (" << ::strsignal(sig) << ")";
    }
    err << "; nothing printed\n";
    return 1;
  }
  if (text.size() < kDone.size() || text.compare(text.size() - kDone.size(), kDone.size(), kDone)) {
    err << "incsim " << command << ": " << subject
        << " is corrupt: reading it ended abnormally (exit status "
        << (WIFEXITED(status) ? WEXITSTATUS(status) : -1) << "); nothing printed\n";
    return 1;
  }
  text.resize(text.size() - kDone.size());
  out << text;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}

int inspect_isolated(const std::string& path, std::ostream& out, std::ostream& err,
                     const ChildLimits& limits, const ChildHooks& hooks) {
  return run_isolated(
      "inspect", path, [&](std::ostream& os) { return inspect_file(path, os); }, out, err, limits,
      hooks);
}

}  // namespace incsim::cli
