// Engine entry points: scenario -> model -> parallel replications -> results -> file.
// Replications run in fixed blocks (reduction_grain), each summed in order by one worker and
// then folded into exact (fixed-point) sums, so every result is bit-identical for any thread
// count and any split of the blocks into parts merged in any order (MODEL.md sections 10, 13).
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "incsim/model.h"
#include "incsim/stats.h"

namespace incsim {

// Scenario -> model with the households' portfolios chosen: build_population_model, then
// choose_portfolios (incsim/choice.h). `threads` bounds the choice stage (0 = all cores);
// `choice_progress` counts its pilot household-replications (progress display only).
// `share` splits the choice pilot across the processes of an MPI job (incsim/choice.h).
struct PilotShare;
Model build_model(const Scenario& scenario, int threads = 0,
                  std::atomic<std::int64_t>* choice_progress = nullptr,
                  const PilotShare* share = nullptr);

struct RunOptions {
  int threads = 0;  // 0 = all available
  // Incremented by one per finished replication (progress display only; never read back).
  std::atomic<std::int64_t>* progress = nullptr;
};

// Replications per block: a function of the replication count only (about 64 blocks, 1 to 64
// replications each), never of the thread count. Part of the reproducibility contract: the
// per-household sums of a block are rounded to the exact grid once, so results depend on it.
inline std::int64_t reduction_grain(std::int64_t replications) {
  const std::int64_t per_leaf = (replications + 63) / 64;
  return per_leaf < 1 ? 1 : (per_leaf > 64 ? 64 : per_leaf);
}

// The number of blocks of reduction_grain replications: at most that many parts (--part, MPI
// ranks) split a run.
inline std::int64_t block_count(std::int64_t replications) {
  const std::int64_t grain = reduction_grain(replications);
  return (replications + grain - 1) / grain;
}

RunResults run_simulation(const Model& model, const RunOptions& options = {});

// A run restricted to the replications [begin, end) (MODEL.md sections 10 and 13): the
// exact accumulator of that range, its per-replication rows and sample paths. Parts of one
// run whose boundaries fall on the block grid (see part_boundaries) merge into exactly the
// unsplit run.
struct RunPart {
  std::int64_t begin = 0, end = 0;  // the span of its replications
  // The replication ranges it holds, sorted, disjoint and not touching: {{begin, end}} for a
  // part of consecutive replications (run_part, --part), several for the blocks a process
  // took from a shared queue (run_blocks, MPI).
  std::vector<std::pair<std::int64_t, std::int64_t>> ranges;
  std::shared_ptr<const std::vector<Grouping>> groupings;  // the accumulator points into it
  std::unique_ptr<Accumulator> accumulator;
  ReplicationTable table{0, 0, 0};     // (R, T) of the whole run; rows outside the ranges are NaN
  std::int64_t sample_path_count = 0;  // S
  std::vector<float> sample_paths;     // (S, H, T) of the whole run; zero outside the ranges
};

// A part of `model` that holds no replication yet: its accumulator, a table of the whole run
// (rows NaN) and its sample-path count; `sample_paths` is left empty.
RunPart empty_part(const Model& model);

// Boundaries 0 = b_0 < ... < b_N = R of N parts on the block grid, as equal as blocks allow
// (N at most the number of blocks).
std::vector<std::int64_t> part_boundaries(std::int64_t replications, int parts);

// Simulates replications [begin, end) of `model` (convergence mode is not split).
RunPart run_part(const Model& model, std::int64_t begin, std::int64_t end,
                 const RunOptions& options = {});

// Where the worker threads of a process take their next block of replications from when
// processes share the blocks of a run as they go (dynamic balancing under MPI): the index of a
// block of the grid (block_count(R) blocks of reduction_grain(R) replications) that no other
// caller, in this process or another, has received, or -1 when none remain. Called
// concurrently by the workers: it must be thread-safe.
using NextBlock = std::function<std::int64_t()>;

// Simulates the blocks `next` hands out until it returns -1, with options.threads workers each
// asking for its next block when it finishes one: the part of the blocks this process took
// (any set of blocks; the parts of all processes merge into the unsplit run, bit for bit).
RunPart run_blocks(const Model& model, const NextBlock& next, const RunOptions& options = {});

// Adds `right` to `left`; their replications must be disjoint (std::invalid_argument if
// not). Exact, so parts may be combined in any order and any tree: (a + b) + c equals
// a + (b + c) and b + a.
void merge_parts(RunPart& left, RunPart&& right);

// The finished results of a part that covers every replication (std::invalid_argument if it
// does not).
RunResults finish_run(const Model& model, RunPart&& whole);

// Writing results: incsim/output.h.

}  // namespace incsim
