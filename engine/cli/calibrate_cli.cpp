// `incsim calibrate`: argument parsing, Ctrl-C handling, progress and the table of targets for
// run_calibration. The first Ctrl-C lets the evaluation being computed finish (the record
// keeps every evaluation, and the same command resumes); a second one stops at once.
#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>

#include "cli/cli.h"
#include "cli/distributed.h"
#include "cli/mpi.h"
#include "incsim/calibrate.h"
#include "incsim/hdf5.h"

namespace incsim::cli {
namespace {

constexpr int kExitInvalid = 2;
constexpr int kExitInterrupted = 130;

// Set on SIGINT (InterruptGuard): stop after the current evaluation.
std::atomic<bool> interrupted{false};
constexpr char kInterrupted[] =
    "\nincsim calibrate: interrupted; finishing the current evaluation (Ctrl-C again to stop "
    "now)\n";

std::string g6(double x) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.6g", x);
  return buffer;
}

std::string values_text(const CalibrationSpec& spec, const std::vector<double>& x) {
  std::string out;
  for (std::size_t i = 0; i < x.size(); ++i)
    out += (i ? ", " : "") + spec.parameters[i].path + "=" + parameter_text(x[i]);
  return out;
}

}  // namespace

CLI::App* add_calibrate_command(CLI::App& app, CalibrateArgs& args) {
  CLI::App* cmd = app.add_subcommand(
      "calibrate", "fit a scenario's unobserved parameters to observed targets (MODEL.md 12)");
  cmd->add_option("calibration", args.file, "calibration YAML file (base, parameters, targets)")
      ->required();
  cmd->add_option("-o,--output", args.output,
                  "calibrated scenario (default: <calibration file stem>.calibrated.yaml, in the "
                  "current directory)");
  cmd->add_option("--record", args.record,
                  "HDF5 record of every evaluation, from which an interrupted calibration "
                  "resumes (default: the output with .h5 for .yaml)");
  cmd->add_option("--threads", args.threads, "worker threads (default: all cores), at most 1024")
      ->check(CLI::Range(0, 1024));
  cmd->add_option("--set", args.sets,
                  "override a value of the base scenario (repeatable; after the file's set:)")
      ->type_name("PATH=VALUE")
      ->allow_extra_args(false);
  cmd->add_flag("--allow-large", args.allow_large,
                "run even when the check run's memory estimate exceeds 80% of this machine's "
                "memory");
  cmd->add_flag("--restart", args.restart,
                "discard the record of an earlier, different calibration instead of refusing");
  return cmd;
}

int calibrate_command(const CalibrateArgs& args, const Mpi& mpi) {
  std::vector<Override> overrides;
  for (const std::string& s : args.sets) overrides.push_back(parse_override(s));
  const CalibrationSpec spec = load_calibration(args.file, overrides);
  const std::string output =
      !args.output.empty() ? args.output
                           : std::filesystem::path(args.file).stem().string() + ".calibrated.yaml";
  std::string record = args.record;
  if (record.empty()) {
    std::filesystem::path p(output);
    record = (p.extension() == ".yaml" || p.extension() == ".yml")
                 ? p.replace_extension(".h5").string()
                 : output + ".h5";
  }
  // Under MPI rank 0 owns the output and the record: only its view of them counts.
  std::string problem;
  if (mpi.root()) {
    for (const std::string& path : {output, record}) {
      if (problem.empty()) problem = h5::output_path_problem(path);
      if (problem.empty()) problem = output_replaces_input(path, {spec.file, spec.base_file});
    }
    if (problem.empty() && std::filesystem::absolute(output).lexically_normal() ==
                               std::filesystem::absolute(record).lexically_normal())
      problem = "the output and the record are the same file (" + output + ")";
    if (problem.empty() && !args.allow_large) {
      std::vector<double> start;
      for (const CalibrationParameter& p : spec.parameters) start.push_back(p.start);
      const ResourceEstimate e =
          estimate_resources(load_scenario_text(spec.base_text, spec.base_file,
                                                spec.overrides_at(start, spec.check_replications)),
                             args.threads);
      problem = resource_problem(e);
      if (!problem.empty())
        problem = "the check run at " + std::to_string(spec.check_replications) +
                  " replications: " + problem;
    }
  }
  if (mpi.broadcast(problem.empty() ? 0 : 1) != 0) {
    if (mpi.root()) std::cerr << "incsim calibrate: " << problem << "\n";
    return kExitInvalid;
  }
  if (mpi.root())
    std::cerr << "incsim calibrate: " << spec.parameters.size() << " parameters, "
              << spec.targets.size() << " targets, " << to_string(spec.method) << ", "
              << spec.replications << " replications per evaluation (seed " << spec.seed
              << "), at most " << spec.max_evaluations << " evaluations -> " << output << "\n";
  const auto start = std::chrono::steady_clock::now();
  std::atomic<std::int64_t> done{0};
  CalibrationOptions options;
  options.output = mpi.root() ? output : "";
  options.record = mpi.root() ? record : "";
  options.threads = args.threads;
  options.restart = args.restart;
  options.stop = &interrupted;
  options.progress = &done;
  if (mpi.distributed()) {
    // Every rank replays the same record (rank 0's) and runs every evaluation's share.
    std::vector<unsigned char> image;
    if (mpi.root() && std::filesystem::exists(record)) {
      std::ifstream in(record, std::ios::binary);
      image.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    }
    options.record_image = mpi.broadcast(image);
    options.evaluate = [&](const std::vector<double>& x, int replications) {
      return evaluate_distributed(mpi, spec, x, replications, args.threads, &interrupted);
    };
  }
  std::size_t reused = 0;
  options.on_event = [&](const CalibrationEvent& e) {
    if (!mpi.root()) return;
    switch (e.kind) {
      case CalibrationEvent::reused:
        ++reused;
        break;
      case CalibrationEvent::evaluated:
        if (reused > 0) {
          std::cerr << "  resuming: " << reused << " evaluations taken from " << record << "\n";
          reused = 0;
        }
        std::cerr << "  evaluation " << e.evaluation + 1 << ": objective "
                  << g6(e.current->objective) << " (best " << g6(e.best) << ") in "
                  << g6(e.current->seconds) << " s: " << values_text(spec, e.current->x) << "\n";
        done.store(0);
        break;
      case CalibrationEvent::checking:
        if (reused > 0) {  // every evaluation came from the record
          std::cerr << "  resuming: " << reused << " evaluations taken from " << record << "\n";
          reused = 0;
        }
        std::cerr << "  check run at " << spec.check_replications << " replications...\n";
        done.store(0);
        break;
      case CalibrationEvent::checked:
        break;
    }
  };
  CalibrationResult result;
  try {
    InterruptGuard guard(interrupted, kInterrupted);
    result = run_calibration(spec, options);
  } catch (const CalibrationMismatch& e) {  // alike on every rank: they read the same record
    if (mpi.root())
      std::cerr << "incsim calibrate: " << e.what() << " (use --restart to discard it)\n";
    return kExitInvalid;
  }
  if (!mpi.root()) return result.complete ? 0 : kExitInterrupted;
  if (!result.complete) {
    std::cerr << "incsim calibrate: stopped after " << result.evaluations.size()
              << " evaluations, kept in " << record << "; run the same command again to resume\n";
    return kExitInterrupted;
  }
  std::cout << "\ncalibration: " << result.evaluations.size() << " evaluations (" << result.reused
            << " from the record), " << result.stop_reason << "; best objective "
            << g6(result.evaluations[result.best].objective) << "\n\n"
            << calibration_table(spec, result, "");
  for (std::size_t k = 0; k < spec.targets.size(); ++k)
    if (result.missed[k])
      std::cerr << "warning: target " << spec.targets[k].label()
                << " is missed by more than 3 standard errors at the fit (the targets may be "
                   "incompatible, or the parameters cannot reach it)\n";
  for (std::size_t i = 0; i < spec.parameters.size(); ++i)
    if (result.at_bound[i])
      std::cerr << "warning: parameter " << spec.parameters[i].path
                << " is fitted at a bound of its range; widen it if the range allows\n";
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::cout << "\nwrote " << output << " and the record " << record << " in " << g6(seconds)
            << " s\n";
  return 0;
}

}  // namespace incsim::cli
