#include <unistd.h>

#include <chrono>
#include <cstdio>

#include "cli/cli.h"

namespace incsim::cli {

Progress::Progress(std::int64_t total, const std::atomic<std::int64_t>& done, std::string what,
                   std::int64_t per_item) {
  if (!isatty(STDERR_FILENO) || total <= 0 || per_item <= 0) return;
  thread_ = std::thread([this, total, &done, what = std::move(what), per_item] {
    using clock = std::chrono::steady_clock;
    const auto start = clock::now();
    bool printed = false;
    while (!stop_.load()) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      const double elapsed = std::chrono::duration<double>(clock::now() - start).count();
      if (elapsed < 0.5) continue;
      const double steps = static_cast<double>(done.load(std::memory_order_relaxed));
      const double d = steps / static_cast<double>(per_item);  // items done, fractional
      const double eta = d > 0 ? elapsed * (double(total) - d) / d : 0.0;
      std::fprintf(stderr, "\r  %3.0f%%  %lld/%lld %s  %.1f s elapsed  ETA %.1f s   ",
                   100.0 * d / double(total), static_cast<long long>(d),
                   static_cast<long long>(total), what.c_str(), elapsed, eta);
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
