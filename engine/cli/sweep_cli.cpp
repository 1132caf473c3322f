// `incsim sweep`: argument parsing, Ctrl-C handling and progress for run_sweep. The first
// Ctrl-C lets the point being computed finish and keeps every finished point for a later
// resume; a second one stops at once (atomic renames mean no half-written point is kept).
#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <optional>

#include "cli/cli.h"
#include "cli/distributed.h"
#include "cli/mpi.h"
#include "incsim/hdf5.h"
#include "incsim/sweep.h"

namespace incsim::cli {
namespace {

constexpr int kExitInvalid = 2;
constexpr int kExitInterrupted = 130;  // 128 + SIGINT, as shells report it

// Set on SIGINT (InterruptGuard): stop after the current point.
std::atomic<bool> interrupted{false};
constexpr char kInterrupted[] =
    "\nincsim sweep: interrupted; finishing the current point (Ctrl-C again to stop now)\n";

std::string point_label(const SweepSpec& spec, std::size_t k) {
  const SweepPoint& p = spec.points[k];
  if (spec.mode == SweepMode::stack) return k == 0 ? "base" : "+ " + p.labels.front();
  std::string text;
  for (std::size_t i = 0; i < spec.parameters.size(); ++i)
    text += (i ? ", " : "") + spec.parameters[i].path + "=" + p.labels[i];
  return text;
}

std::string seconds_text(double s) {
  char buffer[32];
  if (s < 120)
    std::snprintf(buffer, sizeof buffer, "%.1f s", s);
  else
    std::snprintf(buffer, sizeof buffer, "%.1f min", s / 60);
  return buffer;
}

// Prints one line per point on stderr (and the replication progress of the current point when
// stderr is a terminal).
class SweepProgress {
 public:
  SweepProgress(const SweepSpec& spec, std::string sidecar)
      : spec_(spec), sidecar_(std::move(sidecar)) {}

  void operator()(const SweepEvent& e) {
    switch (e.kind) {
      case SweepEvent::reused:
        ++reused_;
        break;
      case SweepEvent::rejected:
        std::fprintf(stderr, "  point %zu/%zu: %s cannot be reused: %s; computing it again\n",
                     e.point + 1, e.points, e.file.c_str(), e.reason.c_str());
        break;
      case SweepEvent::starting:  // the choice step: households done, not replications
        report_reused();
        bar_.reset();
        if (e.pilot_replications > 0)
          bar_.emplace(e.households, choosing_, "households choosing", e.pilot_replications);
        break;
      case SweepEvent::simulating:
        bar_.reset();
        replications_.store(0);
        bar_.emplace(e.replications, replications_);
        break;
      case SweepEvent::finished: {
        bar_.reset();
        ++computed_;
        seconds_ += e.seconds;
        const double eta = seconds_ / double(computed_) * double(e.points - e.done);
        std::fprintf(stderr, "  point %zu/%zu done in %s (%s); %zu of %zu done%s\n", e.point + 1,
                     e.points, seconds_text(e.seconds).c_str(), point_label(spec_, e.point).c_str(),
                     e.done, e.points,
                     e.done < e.points ? (", ETA " + seconds_text(eta)).c_str() : "");
        break;
      }
    }
  }
  void report_reused() {
    if (reused_ == 0 || reported_) return;
    reported_ = true;
    std::fprintf(stderr, "  resuming: %zu of %zu points already computed in %s/\n", reused_,
                 spec_.points.size(), sidecar_.c_str());
  }
  std::atomic<std::int64_t>& counter() { return replications_; }
  std::atomic<std::int64_t>& choice_counter() { return choosing_; }

 private:
  const SweepSpec& spec_;
  std::string sidecar_;
  std::size_t reused_ = 0, computed_ = 0;
  bool reported_ = false;
  double seconds_ = 0.0;
  std::atomic<std::int64_t> replications_{0}, choosing_{0};
  std::optional<Progress> bar_;
};

// `incsim sweep --dry-run`: every point has been loaded and validated (load_sweep); prints
// each point's values, replications and resource estimate, and the output it would write.
// Status 2 if the output or a point's memory would be refused, else 0.
int print_dry_run(const SweepSpec& spec, const std::string& output, const std::string& problem,
                  bool allow_large) {
  std::cout << "incsim sweep --dry-run: " << spec.file << ", " << spec.points.size() << " points ("
            << to_string(spec.mode) << ") of " << spec.base_file << ", every point valid\n";
  std::vector<std::string> names;
  if (spec.mode == SweepMode::stack)
    names.push_back("overlay");
  else
    for (const SweepParameter& p : spec.parameters) names.push_back(p.path);
  std::vector<std::size_t> widths;
  for (std::size_t i = 0; i < names.size(); ++i) {
    std::size_t w = names[i].size();
    for (const SweepPoint& p : spec.points)
      if (i < p.labels.size()) w = std::max(w, p.labels[i].size());
    widths.push_back(w);
  }
  std::string header = "  point";
  for (std::size_t i = 0; i < names.size(); ++i)
    header += "  " + names[i] + std::string(widths[i] - names[i].size(), ' ');
  std::cout << header << "  replications  memory  household-years (replications + choice pilot)\n";
  double total_years = 0;
  std::vector<std::string> refused;
  for (std::size_t k = 0; k < spec.points.size(); ++k) {
    const Scenario s = load_scenario_text(spec.base_text, spec.base_file, spec.overrides_of(k));
    const ResourceEstimate e = estimate_resources(s);
    total_years += e.household_years + e.pilot_household_years;
    std::string line = "  " +
                       std::string(5 - std::min<std::size_t>(5, std::to_string(k).size()), ' ') +
                       std::to_string(k);
    for (std::size_t i = 0; i < names.size(); ++i) {
      const std::string& label = i < spec.points[k].labels.size() ? spec.points[k].labels[i] : "";
      line += "  " + label + std::string(widths[i] - std::min(widths[i], label.size()), ' ');
    }
    char sizes[160];
    std::snprintf(sizes, sizeof sizes, "  %12lld  %4.2f GB  %.3g + %.3g",
                  static_cast<long long>(s.replications), e.memory_bytes / 1e9, e.household_years,
                  e.pilot_household_years);
    std::cout << line << sizes << "\n";
    if (!allow_large && !resource_problem(e).empty())
      refused.push_back("point " + std::to_string(k) + ": " + resource_problem(e));
  }
  char total[96];
  std::snprintf(total, sizeof total, "%.3g", total_years);
  std::cout << "  total: " << total << " household-years; output " << output
            << (spec.table_only ? " (the /sweep table only)"
                                : " (the table and every point's tree)")
            << "\n";
  if (!problem.empty()) refused.insert(refused.begin(), problem);
  for (const std::string& r : refused) std::cerr << "incsim: " << r << "\n";
  std::cout << (refused.empty() ? "dry run: nothing was run or written\n"
                                : "dry run: the sweep would be refused (above); nothing was run\n");
  return refused.empty() ? 0 : kExitInvalid;
}

}  // namespace

CLI::App* add_sweep_command(CLI::App& app, SweepArgs& args) {
  CLI::App* cmd = app.add_subcommand(
      "sweep", "run a scenario at every point of a parameter sweep (common random numbers)");
  cmd->add_option("sweep", args.file, "sweep YAML file (base, parameters or overlays)")->required();
  cmd->add_option("-o,--output", args.output,
                  "output file (default: <sweep file stem>.h5, in the current directory)");
  cmd->add_option("--threads", args.threads, "worker threads (default: all cores), at most 1024")
      ->check(CLI::Range(0, 1024));
  cmd->add_option("--set", args.sets,
                  "override a value of the base scenario at every point (repeatable; applied "
                  "after the sweep file's set: and before the point's own values)")
      ->type_name("PATH=VALUE")
      ->allow_extra_args(false);
  cmd->add_flag("--allow-large", args.allow_large,
                "run even when a point's memory estimate exceeds 80% of this machine's memory");
  cmd->add_flag("--restart", args.restart,
                "discard the finished points of an earlier, different run of this sweep");
  cmd->add_flag("--table-only", args.table_only,
                "keep only the /sweep table, not each point's full tree (keep: table)");
  cmd->add_flag("-q,--quiet", args.quiet, "print no table at the end");
  cmd->add_flag("--dry-run", args.dry_run,
                "validate every point and print the table of points with their sizes; run "
                "nothing and write nothing");
  return cmd;
}

int sweep_command(const SweepArgs& args, const Mpi& mpi) {
  std::vector<Override> overrides;
  for (const std::string& s : args.sets) overrides.push_back(parse_override(s));
  const SweepSpec spec = load_sweep(args.file, overrides, args.table_only);
  const std::string output =
      args.output_given ? args.output : std::filesystem::path(args.file).stem().string() + ".h5";
  // Under MPI rank 0 owns the output and its sidecar: only its view of them counts.
  std::string problem;
  if (mpi.root()) {
    problem = h5::output_path_problem(output);
    if (problem.empty()) problem = output_replaces_input(output, {spec.file, spec.base_file});
  }
  if (args.dry_run) return mpi.root() ? print_dry_run(spec, output, problem, args.allow_large) : 0;
  for (std::size_t k = 0; k < spec.points.size() && problem.empty() && !args.allow_large; ++k) {
    const ResourceEstimate e = estimate_resources(
        load_scenario_text(spec.base_text, spec.base_file, spec.overrides_of(k)), args.threads);
    problem = resource_problem(e);
    if (!problem.empty()) problem = "point " + std::to_string(k + 1) + ": " + problem;
  }
  if (mpi.broadcast(problem.empty() ? 0 : 1) != 0) {
    if (mpi.root()) std::cerr << "incsim: " << problem << "\n";
    return kExitInvalid;
  }
  if (!mpi.root()) {  // a worker rank: its share of the points, sent to rank 0
    InterruptGuard guard(interrupted, kInterrupted);
    sweep_worker(mpi, spec, args.threads, &interrupted);
    return 0;
  }
  for (const std::string& w : spec.warnings) std::cerr << "warning: " << w << "\n";
  std::cerr << "incsim sweep: " << spec.points.size() << " points (" << to_string(spec.mode)
            << ") of " << spec.base_file << " -> " << output << "\n";

  const auto start = std::chrono::steady_clock::now();
  SweepProgress progress(spec, sweep_sidecar(output));
  SweepOptions options;
  options.output = output;
  options.threads = args.threads;
  options.restart = args.restart;
  options.stop = &interrupted;
  options.progress = &progress.counter();
  options.choice_progress = &progress.choice_counter();
  options.on_event = [&progress](const SweepEvent& e) { progress(e); };
  if (mpi.distributed())
    options.distribute = [&](const std::vector<std::size_t>& missing,
                             const SweepOptions::StorePoint& store) {
      distribute_points(mpi, spec, args.threads, &interrupted, missing, store);
    };
  SweepSummary summary;
  try {
    InterruptGuard guard(interrupted, kInterrupted);
    summary = run_sweep(spec, options);
  } catch (const SweepMismatch& e) {
    std::cerr << "incsim sweep: " << e.what() << "\n";
    if (mpi.distributed()) mpi.abort(kExitInvalid);  // the worker ranks wait for the points
    return kExitInvalid;
  }
  progress.report_reused();
  if (!summary.complete) {
    std::cerr << "incsim sweep: stopped with " << summary.reused + summary.computed << " of "
              << summary.points << " points kept in " << sweep_sidecar(output)
              << "/; run the same command again to compute the rest\n";
    return kExitInterrupted;
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (!args.quiet) inspect_file(output, std::cout);
  std::cout << "\nwrote " << output << " (" << summary.points << " points: " << summary.computed
            << " computed, " << summary.reused << " reused) in " << seconds_text(seconds) << "\n";
  return 0;
}

}  // namespace incsim::cli
