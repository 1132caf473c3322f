// Engine entry points: scenario -> model -> parallel replications -> results -> file.
// Replications run in fixed blocks of kGrain under tbb::parallel_deterministic_reduce, whose
// split/join tree depends only on the replication count, so every result is bit-identical
// for any thread count (MODEL.md section 10).
#pragma once

#include <atomic>
#include <cstdint>
#include <string>

#include "incsim/model.h"
#include "incsim/stats.h"

namespace incsim {

struct RunOptions {
  int threads = 0;  // 0 = all available
  // Incremented by one per finished replication (progress display only; never read back).
  std::atomic<std::int64_t>* progress = nullptr;
};

// Replications per leaf of the reduction tree. Part of the reproducibility contract: the
// floating-point summation order of the accumulators depends on it.
inline constexpr std::int64_t kGrain = 4;

RunResults run_simulation(const Model& model, const RunOptions& options = {});

// Writes `results` (and the model's households, choice table and provenance) to `path`
// atomically: a temporary file renamed on success, nothing left behind on failure.
void write_results(const std::string& path, const Model& model, const RunResults& results);

}  // namespace incsim
