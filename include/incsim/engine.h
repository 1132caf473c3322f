// Engine entry points: scenario -> model -> parallel replications -> results -> file.
// Replications run in fixed blocks (reduction_grain) under tbb::parallel_deterministic_reduce,
// whose split/join tree depends only on the replication count, so every result is bit-identical for
// any thread count (MODEL.md section 10).
#pragma once

#include <atomic>
#include <cstdint>
#include <string>

#include "incsim/hdf5.h"
#include "incsim/model.h"
#include "incsim/stats.h"

namespace incsim {

struct RunOptions {
  int threads = 0;  // 0 = all available
  // Incremented by one per finished replication (progress display only; never read back).
  std::atomic<std::int64_t>* progress = nullptr;
};

// Replications per leaf of the reduction tree: a function of the replication count only
// (about 64 leaves, 1 to 64 replications each), never of the thread count. Part of the
// reproducibility contract: the summation order of the accumulators depends on it.
inline std::int64_t reduction_grain(std::int64_t replications) {
  const std::int64_t per_leaf = (replications + 63) / 64;
  return per_leaf < 1 ? 1 : (per_leaf > 64 ? 64 : per_leaf);
}

RunResults run_simulation(const Model& model, const RunOptions& options = {});

// Writes `results` (and the model's households, choice table and provenance) to `path`
// atomically: a temporary file renamed on success, nothing left behind on failure.
void write_results(const std::string& path, const Model& model, const RunResults& results);

// Writes the same tree (attributes, scales and datasets) into `group` of an open file, e.g.
// /points/<k> of a sweep.
void write_results(h5::Group group, const Model& model, const RunResults& results);

}  // namespace incsim
