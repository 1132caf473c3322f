// Batch parameter sweeps (MODEL.md sections 10 and 11): one base scenario run at K points that
// differ by `--set`-style overrides. Every point keeps the base seed and streams, so shocks are
// common across points and a difference between points is estimated from paired replications.
// A sweep resumes: each finished point is kept in a file of its own (renamed into place when
// complete), and the result is assembled only when every point exists.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

#include "incsim/load.h"

namespace incsim {

enum class SweepMode { grid, zip, stack };
const char* to_string(SweepMode mode);

// An override together with where the sweep file gave it (line 0 for command-line ones).
struct SweepOverride {
  Override item;
  int line = 0;
  int column = 0;
};

struct SweepParameter {
  std::string path;                 // dotted scenario path, e.g. markets.crayfish.volatility
  std::vector<std::string> values;  // YAML scalars as written
  int line = 0;                     // of the parameter's key in the sweep file
  int column = 0;
  bool numeric = false;  // every value reads as a number (stored as float64, else as strings)
};

struct SweepOverlay {
  std::string name;
  std::vector<SweepOverride> set;
  int line = 0;
};

struct SweepPoint {
  std::vector<std::string> labels;       // grid/zip: the value of each parameter; stack: name
  std::vector<SweepOverride> overrides;  // the point's own, applied after the fixed ones
};

// A parsed and fully validated sweep: every point's scenario loaded without error.
struct SweepSpec {
  std::string file;       // sweep file path as given
  std::string text;       // its text
  std::string base_file;  // base scenario path (relative to the sweep file's directory)
  std::string base_text;  // its text as read at load time (every point is run from it)
  SweepMode mode = SweepMode::grid;
  bool table_only = false;                 // `keep: table` or --table-only
  std::vector<SweepOverride> fixed;        // the sweep file's `set:`, applied to every point
  std::vector<Override> command_line;      // `--set` on the command line, after `set:`
  std::vector<SweepParameter> parameters;  // grid and zip
  std::vector<SweepOverlay> overlays;      // stack
  std::vector<SweepPoint> points;          // K >= 1; stack: point 0 is the base itself
  std::vector<std::string> warnings;       // scenario warnings of any point, once each
  std::uint64_t seed = 1;                  // of point 0
  int years = 0;                           // shared by every point
  int start_year = 0;

  // Every override of point k in the order applied: fixed, command line, the point's own.
  std::vector<Override> overrides_of(std::size_t k) const;
};

// Reads the sweep file, expands its points and loads every point's scenario. Throws
// ScenarioError listing every problem (sweep file positions for the sweep's own overrides).
SweepSpec load_sweep(const std::string& path, const std::vector<Override>& command_line = {},
                     bool table_only = false);

// The sidecar directory of an output file, holding finished points until assembly.
std::string sweep_sidecar(const std::string& output);

// The sidecar belongs to a different sweep (base scenario, sweep file, command-line overrides,
// keep mode or engine version changed). The message says what differs.
class SweepMismatch : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct SweepEvent {
  // starting: the point's model is being built (with the households' choice); simulating: its
  // replications run.
  // rejected: a point file found in the sidecar cannot be used (`reason`); it is recomputed.
  enum Kind { starting, simulating, finished, reused, rejected } kind = starting;
  std::size_t point = 0;
  std::size_t points = 0;
  std::size_t done = 0;  // points available, including this one when finished/reused
  std::int64_t replications = 0;
  std::int64_t households = 0;          // starting: households choosing
  std::int64_t pilot_replications = 0;  // starting: per household; 0 when no pilot runs
  double seconds = 0.0;                 // finished: simulation and writing time of this point
  std::string reason, file;             // rejected: why the file `file` cannot be used
};

struct SweepOptions {
  std::string output;
  int threads = 0;       // 0 = all available
  bool restart = false;  // discard a sidecar instead of refusing a mismatch
  // Set (e.g. by a SIGINT handler) to stop after the point being computed.
  const std::atomic<bool>* stop = nullptr;
  // Incremented once per finished replication of the current point (progress display only).
  std::atomic<std::int64_t>* progress = nullptr;
  // Incremented per pilot household-replication of the current point's choice (display only).
  std::atomic<std::int64_t>* choice_progress = nullptr;
  std::function<void(const SweepEvent&)> on_event;  // called from the calling thread
  // Distributed sweeps (MPI, on the process that owns the sidecar): given the points still
  // missing, in order, computes them (here and on other processes, with compute_point_image)
  // and hands each point's file, as it arrives, to `store`, which checks it and writes it into
  // the sidecar. Always called once when set (with an empty list when nothing is missing).
  // Unset: the points are computed here, in order.
  using StorePoint = std::function<void(std::size_t point, const std::vector<unsigned char>& file,
                                        double seconds)>;
  std::function<void(const std::vector<std::size_t>& missing, const StorePoint& store)> distribute;
};

// Point k of `spec` built, run and written as run_sweep writes it into the sidecar, as the
// bytes of an in-memory HDF5 file: what one rank of a distributed sweep computes.
std::vector<unsigned char> compute_point_image(const SweepSpec& spec, std::size_t k, int threads);

struct SweepSummary {
  std::size_t points = 0;
  std::size_t computed = 0;  // in this call
  std::size_t reused = 0;    // found complete in the sidecar
  bool complete = false;     // output assembled; false when stopped early
};

// Computes the missing points into the sidecar, then assembles `options.output` atomically and
// removes the sidecar. Throws SweepMismatch when a sidecar from another sweep is present
// (unless options.restart).
SweepSummary run_sweep(const SweepSpec& spec, const SweepOptions& options);

}  // namespace incsim
