#include <unistd.h>

#include <chrono>
#include <cstdio>

#include "cli/cli.h"

namespace incsim::cli {

Progress::Progress(std::int64_t total, const std::atomic<std::int64_t>& done) {
  if (!isatty(STDERR_FILENO) || total <= 0) return;
  thread_ = std::thread([this, total, &done] {
    using clock = std::chrono::steady_clock;
    const auto start = clock::now();
    bool printed = false;
    while (!stop_.load()) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      const double elapsed = std::chrono::duration<double>(clock::now() - start).count();
      if (elapsed < 0.5) continue;
      const std::int64_t d = done.load(std::memory_order_relaxed);
      const double eta = d > 0 ? elapsed * double(total - d) / double(d) : 0.0;
      std::fprintf(stderr, "\r  %3.0f%%  %lld/%lld replications  %.1f s elapsed  ETA %.1f s   ",
                   100.0 * double(d) / double(total), static_cast<long long>(d),
                   static_cast<long long>(total), elapsed, eta);
      printed = true;
    }
    if (printed) std::fprintf(stderr, "\r%*s\r", 78, "");
  });
}

Progress::~Progress() {
  stop_.store(true);
  if (thread_.joinable()) thread_.join();
}

}  // namespace incsim::cli
