// Pieces of the `incsim` command that are not argument parsing: progress display and the
// end-of-run summary. No model logic lives in engine/cli/.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <optional>
#include <ostream>
#include <string>
#include <thread>
#include <vector>

#include "incsim/hdf5.h"
#include "incsim/model.h"
#include "incsim/stats.h"

namespace CLI {
class App;
}

namespace incsim::cli {

// Prints "replications done, elapsed, ETA" to stderr every half second while alive, only when
// stderr is a terminal. Reads the counter the engine increments; never influences results.
// `what` names the items; the counter may count `per_item` steps per item (e.g. the pilot
// replications of a household), shown as whole items.
class Progress {
 public:
  Progress(std::int64_t total, const std::atomic<std::int64_t>& done,
           std::string what = "replications", std::int64_t per_item = 1);
  ~Progress();
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;

 private:
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

// `seconds`: the replications; `model_seconds`: building the model, including the households'
// choice of portfolios.
void print_summary(std::ostream& os, const Model& model, const RunResults& results, double seconds,
                   double model_seconds);

// Lines saying how many households run no industry and why, by BindingConstraint, most
// common first, each with the scenario key that relaxes it; empty when every household runs
// one. `capacity_used` (Model::capacity_used) adds what was taken of each bounded capacity.
std::string why_no_industry(const Scenario& s, const std::vector<std::uint8_t>& constraint,
                            const std::vector<double>* capacity_used);

// A message if writing `output` would replace one of the files the run reads (`inputs`, e.g.
// the scenario, its population csv, a sweep file): the same file by any name (device and
// inode compared), so `-o s.yaml` and `-o ./s.yaml` are both refused. Empty if none.
std::string output_replaces_input(const std::string& output,
                                  const std::vector<std::string>& inputs);

// `incsim inspect`: prints the headline tables of a finished result file to `os` (metadata,
// income, poverty, government cost, groups, insurance when present). Returns 0, or 1 after a
// message on stderr when `path` is missing, not HDF5, or not an incsim result.
int inspect_file(const std::string& path, std::ostream& os);

// The bounds of the child process in which `incsim inspect` reads a file (isolate.cpp): libhdf5
// trusts the sizes and offsets of a corrupt file, and can crash, loop or allocate without
// bound inside its own code; the child takes that, not the command.
struct ChildLimits {
  double cpu_seconds = 0;           // RLIMIT_CPU of the child; 0: none
  std::uint64_t address_space = 0;  // RLIMIT_AS of the child in bytes; 0: none
};

// The limits `incsim inspect`, `compare` and `export` use on the files they read: 120 s of CPU
// plus 1 s per 10 MB of the files (a result of gigabytes prints in seconds), and the resource
// guard's memory limit (80% of the machine's or cgroup's memory, memory_limit_bytes()).
ChildLimits inspect_limits(const std::vector<std::string>& paths);

// Hooks the fuzz harness (tests/fuzz/fuzz_inspect.cpp) runs in the child: `setup` before the
// file is read, `finish` after (its return value is the child's exit status). Null: none.
struct ChildHooks {
  void (*setup)(void* context) = nullptr;
  int (*finish)(int status, void* context) = nullptr;
  void* context = nullptr;
};

// `incsim inspect PATH`: inspect_file in a child process under `limits`. The child's tables
// reach `out` only when it finishes; a child killed by a signal (a crash inside libhdf5, the
// CPU limit) is reported on `err` as a corrupt file with status 1, and nothing is printed.
// Memory beyond the limit is reported likewise (status 1). Falls back to reading in-process
// if no child can be started. Returns inspect_file's status, or 1.
int inspect_isolated(const std::string& path, std::ostream& out, std::ostream& err,
                     const ChildLimits& limits, const ChildHooks& hooks = {});

// The same for any reading command: `body` runs in the child and writes to the stream it is
// given; a crash is reported as "incsim COMMAND: SUBJECT is corrupt: ...".
int run_isolated(const std::string& command, const std::string& subject,
                 const std::function<int(std::ostream&)>& body, std::ostream& out,
                 std::ostream& err, const ChildLimits& limits, const ChildHooks& hooks = {});

// Opens a file we may not have written for reading, after checking that it exists, is a
// regular file (a FIFO would block) and is HDF5; otherwise prints "incsim COMMAND: ..." on
// stderr and returns nothing.
std::optional<h5::File> open_result_file(const std::string& path, const std::string& command);

// `incsim compare A.h5 B.h5 [--csv FILE]` (compare.cpp): the headline measures of two runs per
// year, B - A with its standard error, paired (common random numbers, from /replications)
// when both runs share seed, replications and population, else unpaired. Returns the exit
// status (1 after a message on stderr for a file that is not a run result).
int compare_files(const std::string& a, const std::string& b, const std::string& csv,
                  std::ostream& os);

// `incsim export RESULT.h5 --csv DIR` (export.cpp): tidy csv tables of a run or sweep result
// into DIR (created if missing; each file written to a temporary name and renamed). Returns
// the exit status.
int export_csv(const std::string& path, const std::string& directory, std::ostream& os);

// Sets `flag` on SIGINT and writes `message` to stderr, for its lifetime; SA_RESETHAND makes
// a second Ctrl-C fatal (sweep and calibrate finish the piece of work they are computing).
// One guard at a time (the handler reads a process-wide slot set by the constructor).
class InterruptGuard {
 public:
  InterruptGuard(std::atomic<bool>& flag, const char* message);
  ~InterruptGuard();
  InterruptGuard(const InterruptGuard&) = delete;
  InterruptGuard& operator=(const InterruptGuard&) = delete;

 private:
  struct Previous;
  Previous* previous_;
};

// `incsim sweep SWEEP.yaml [-o OUT.h5] [--threads K] [--set p=v]... [--restart] [--table-only]`
// (sweep_cli.cpp): registers the subcommand, and runs it once parsed. Returns the exit status;
// an invalid sweep file throws ScenarioError (exit 2 in main).
struct SweepArgs {
  std::string file;
  std::string output;
  bool output_given = false;  // -o was given (possibly as '')
  bool allow_large = false;   // skip the memory guard
  std::vector<std::string> sets;
  int threads = 0;
  bool restart = false;
  bool table_only = false;
  bool quiet = false;
  bool dry_run = false;  // validate every point and print the table of points; run nothing
};
CLI::App* add_sweep_command(CLI::App& app, SweepArgs& args);
class Mpi;
int sweep_command(const SweepArgs& args, const Mpi& mpi);

// `incsim calibrate CALIB.yaml [-o CALIBRATED.yaml] [--record R.h5] [--threads K] [--set p=v]...
// [--restart]` (calibrate_cli.cpp). An invalid calibration file throws ScenarioError (exit 2).
struct CalibrateArgs {
  std::string file;
  std::string output;
  std::string record;
  std::vector<std::string> sets;
  int threads = 0;
  bool restart = false;
  bool allow_large = false;
};
CLI::App* add_calibrate_command(CLI::App& app, CalibrateArgs& args);
int calibrate_command(const CalibrateArgs& args, const Mpi& mpi);

}  // namespace incsim::cli
