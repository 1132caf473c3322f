// `incsim run` across the ranks of an MPI job (MODEL.md section 13): every rank builds the
// model (the ranks share the choice pilot's households; rank 0 checks that every rank's model
// fingerprint is its own), the ranks' worker threads take blocks of replications from one
// shared counter as they finish them (dynamic balancing), the ranks send their parts to rank 0
// as part messages, and rank 0 merges them and writes the result: bit for bit the file
// of one process. Progress and the summary come from rank 0 only.
#pragma once

#include <atomic>
#include <optional>
#include <string>
#include <vector>

#include "cli/mpi.h"
#include "incsim/calibrate.h"
#include "incsim/model.h"
#include "incsim/scenario.h"
#include "incsim/stats.h"
#include "incsim/sweep.h"

namespace incsim::cli {

int run_distributed(const Mpi& mpi, const Scenario& scenario, const std::string& output,
                    int threads, bool quiet);

// What run_distributed does before writing: every rank builds the model and simulates its
// part; on rank 0 `out.results` is the merged run (on the others it is empty). Returns false
// on every rank when the ranks' models differ (rank 0 says how).
struct DistributedRun {
  Model model;
  RunResults results;
  double seconds = 0.0, choice_seconds = 0.0;  // simulation with the merge; model and choice
  double part_seconds = 0.0;                   // this rank's part alone
  std::string fingerprint;
  std::vector<std::int64_t> replications_per_rank;  // on rank 0
};
// `finish`: the ranks end their part in MPI once the parts are gathered (a run: rank 0 writes
// while they leave); a calibration goes on to its next evaluation.
bool simulate_distributed(const Mpi& mpi, const Scenario& scenario, int threads, bool progress,
                          bool finish, DistributedRun& out);

// One evaluation of a calibration across the ranks (CalibrationOptions::evaluate): the run is
// split as run_distributed splits it, rank 0 reads the targets and sends the estimates to
// every rank, so every rank's optimiser takes the same next step. Empty when rank 0 was
// interrupted (on every rank alike).
std::optional<CalibrationEvaluation> evaluate_distributed(const Mpi& mpi,
                                                          const CalibrationSpec& spec,
                                                          const std::vector<double>& x,
                                                          int replications, int threads,
                                                          const std::atomic<bool>* stop);

// A distributed sweep: rank 0 owns the sidecar and runs run_sweep with this as
// SweepOptions::distribute (the missing points go round-robin to the ranks, rank 0 included;
// each point's file comes back to rank 0, which checks and stores it); the other ranks call
// sweep_worker, which computes their share. `stop` is checked between points.
void distribute_points(const Mpi& mpi, const SweepSpec& spec, int threads,
                       const std::atomic<bool>* stop, const std::vector<std::size_t>& missing,
                       const SweepOptions::StorePoint& store);
void sweep_worker(const Mpi& mpi, const SweepSpec& spec, int threads,
                  const std::atomic<bool>* stop);

}  // namespace incsim::cli
