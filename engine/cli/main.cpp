// The `incsim` command: argument parsing and dispatch only.
//   incsim run SCENARIO [-o OUT.h5] [--replications N] [--seed S] [--threads K] [--set p=v]...
//   incsim validate SCENARIO [--set p=v]...
//   incsim inspect OUT.h5
//   incsim compare A.h5 B.h5 [--csv FILE]
//   incsim export RESULT.h5 --csv DIR
//   incsim schema [--markdown]
//   incsim run SCENARIO --part I/N [-o PART.h5] ...   (replications of part I of N)
//   incsim merge PART.h5... [-o OUT.h5] [--threads K]
//   incsim sweep SWEEP.yaml [-o OUT.h5] [--threads K] [--set p=v]... [--restart] [--table-only]
//   incsim calibrate CALIB.yaml [-o CALIBRATED.yaml] [--record R.h5] [--threads K] [--restart]
// Exit status: 0 success, 2 invalid scenario or usage, 1 any other failure.
#include <malloc.h>
#include <CLI/CLI.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <iostream>
#include <limits>
#include <sstream>

#include "cli/cli.h"
#include "cli/distributed.h"
#include "cli/mpi.h"
#include "cli/schema_cli.h"
#include "incsim/choice.h"
#include "incsim/engine.h"
#include "incsim/hdf5.h"
#include "incsim/load.h"
#include "incsim/output.h"
#include "incsim/part.h"
#include "incsim/version.h"

namespace {

constexpr int kExitInvalid = 2;
constexpr int kExitFailure = 1;

struct Common {
  std::string scenario;
  std::vector<std::string> sets;
};

std::vector<incsim::Override> overrides_of(const Common& c) {
  std::vector<incsim::Override> out;
  for (const std::string& s : c.sets) out.push_back(incsim::parse_override(s));
  return out;
}

void add_common(CLI::App* cmd, Common& c) {
  cmd->add_option("scenario", c.scenario, "scenario YAML file")->required();
  cmd->add_option("--set", c.sets,
                  "override a scenario value before validation, e.g. --set markets.rice.price=4.2 "
                  "(repeatable; adds the key if the file omits it)")
      ->type_name("PATH=VALUE")
      ->allow_extra_args(false);  // one PATH=VALUE per --set: the scenario may follow it
}

// "rank R of K: " in an MPI job, else nothing.
std::string rank_prefix(const incsim::cli::Mpi& mpi) {
  return mpi.distributed()
             ? "rank " + std::to_string(mpi.rank()) + " of " + std::to_string(mpi.size()) + ": "
             : std::string();
}

int print_errors(const incsim::ScenarioError& e) {
  for (const incsim::Diagnostic& d : e.diagnostics()) std::cerr << d.format() << "\n";
  std::cerr << e.diagnostics().size() << " error" << (e.diagnostics().size() == 1 ? "" : "s")
            << "; nothing was run\n";
  return kExitInvalid;
}

std::string default_output(const std::string& scenario) {
  return std::filesystem::path(scenario).stem().string() + ".h5";
}

// "I/N" of --part: part I (1-based) of N.
struct PartSpec {
  int index = 0, parts = 0;
};

std::optional<PartSpec> parse_part(const std::string& text) {
  const std::size_t slash = text.find('/');
  auto number = [](const std::string& t) -> int {
    if (t.empty() || t.size() > 6 || t.find_first_not_of("0123456789") != std::string::npos)
      return 0;
    return std::stoi(t);
  };
  if (slash == std::string::npos) return std::nullopt;
  const PartSpec p{number(text.substr(0, slash)), number(text.substr(slash + 1))};
  if (p.index < 1 || p.parts < 1 || p.index > p.parts) return std::nullopt;
  return p;
}

int run_command(const incsim::cli::Mpi& mpi, const Common& c, std::string output, bool output_given,
                bool allow_large, std::optional<std::int64_t> replications,
                std::optional<std::string> seed, int threads, bool quiet,
                const std::optional<std::string>& part_text) {
  std::vector<incsim::Override> ov = overrides_of(c);
  if (replications) ov.push_back({"scenario.replications", std::to_string(*replications)});
  if (seed) ov.push_back({"scenario.seed", *seed});
  const incsim::Scenario scenario = incsim::load_scenario(c.scenario, ov);
  std::optional<PartSpec> part;
  if (part_text && mpi.distributed()) {
    if (mpi.root())
      std::cerr << "incsim: --part under MPI: the ranks already split the run (give one or the "
                   "other)\n";
    return kExitInvalid;
  }
  if (part_text) {
    part = parse_part(*part_text);
    if (!part) {
      std::cerr << "incsim: --part " << part_text->substr(0, 40)
                << ": expected I/N, part I of N with 1 <= I <= N (e.g. --part 2/8)\n";
      return kExitInvalid;
    }
    if (scenario.output.target.enabled) {
      std::cerr << "incsim: --part cannot split a run with output.target (convergence mode "
                   "decides when to stop from the replications run so far)\n";
      return kExitInvalid;
    }
    const std::int64_t blocks = incsim::block_count(scenario.replications);
    if (part->parts > blocks) {
      std::cerr << "incsim: --part " << *part_text << ": " << scenario.replications
                << " replications run in " << blocks << " blocks, so at most " << blocks
                << " parts\n";
      return kExitInvalid;
    }
  }
  if (!output_given)
    output = part ? std::filesystem::path(c.scenario).stem().string() + ".part" +
                        std::to_string(part->index) + "of" + std::to_string(part->parts) + ".h5"
                  : default_output(c.scenario);
  // Under MPI only rank 0 writes, so only its view of the output path counts.
  std::string problem;
  if (mpi.root()) {
    problem = incsim::h5::output_path_problem(output);
    if (problem.empty())
      problem = incsim::cli::output_replaces_input(
          output, {scenario.source_file, scenario.population.csv_path});
  }
  if (problem.empty() && !allow_large)
    problem = incsim::resource_problem(incsim::estimate_resources(scenario, threads));
  if (mpi.broadcast(problem.empty() ? 0 : 1) != 0) {
    if (mpi.root())
      std::cerr << "incsim: " << problem << "\n";  // before anything is built or simulated
    return kExitInvalid;
  }
  if (mpi.distributed()) {
    if (mpi.root())
      for (const std::string& w : scenario.warnings) std::cerr << "warning: " << w << "\n";
    if (!scenario.output.target.enabled)
      return incsim::cli::run_distributed(mpi, scenario, output, threads, quiet);
    // Convergence mode stops on the replications run so far: it does not split. Rank 0 runs
    // it as one process would, the other ranks have nothing to do.
    if (!mpi.root()) return 0;
    std::cerr << "warning: output.target (convergence mode) runs on rank 0 alone: it decides "
                 "when to stop from the replications run so far\n";
  }
  for (const std::string& w : scenario.warnings) std::cerr << "warning: " << w << "\n";
  if (scenario.choice.rule != incsim::ChoiceRule::fixed && isatty(STDERR_FILENO)) {
    std::cerr << "choosing portfolios: " << incsim::candidate_portfolios(scenario).size()
              << " candidate portfolios x " << scenario.choice.pilot_replications
              << " pilot replications per household...\n";
  }
  const auto choice_start = std::chrono::steady_clock::now();
  std::atomic<std::int64_t> chosen{0};
  const incsim::Model model = [&] {
    const bool pilot = scenario.choice.rule != incsim::ChoiceRule::fixed;
    incsim::cli::Progress progress(pilot ? scenario.population.households : 0, chosen,
                                   "households choosing", scenario.choice.pilot_replications);
    return incsim::build_model(scenario, threads, &chosen);
  }();
  const double choice_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - choice_start).count();

  if (part) {  // the part's replications only, as a partial result for incsim merge
    const std::vector<std::int64_t> cuts = incsim::part_boundaries(model.replications, part->parts);
    const std::int64_t begin = cuts[part->index - 1], end = cuts[part->index];
    std::atomic<std::int64_t> done{0};
    const auto start = std::chrono::steady_clock::now();
    incsim::RunPart result;
    {
      incsim::cli::Progress progress(end - begin, done);
      result = incsim::run_part(model, begin, end, {threads, &done});
    }
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    incsim::write_part(output, model, result, part->index, part->parts);
    if (!quiet)
      std::cout << "part " << part->index << " of " << part->parts << ": replications " << begin
                << " to " << end - 1 << " of " << model.replications << " in " << seconds
                << " s (model " << incsim::model_fingerprint(model) << ")\n";
    std::cout << "wrote " << output << "\n";
    return 0;
  }
  std::atomic<std::int64_t> done{0};
  const auto start = std::chrono::steady_clock::now();
  incsim::RunResults results;
  {
    incsim::cli::Progress progress(model.replications, done);
    results = incsim::run_simulation(model, {threads, &done});
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  incsim::write_results(output, model, results);
  if (!quiet) incsim::cli::print_summary(std::cout, model, results, seconds, choice_seconds);
  std::cout << "\nwrote " << output << "\n";
  return 0;
}

// `incsim merge PART.h5... -o OUT.h5`: the parts of one run (any order) into the run's result,
// bit for bit the file `incsim run` writes (created_utc aside). The model is built again from
// the parts' scenario text (the choice and fair-premium pilots are deterministic) and must have
// their fingerprint; each part is read first in a child process, so a corrupt file cannot crash
// the merge.
int merge_command(const std::vector<std::string>& paths, std::string output, bool output_given,
                  int threads, bool allow_large) {
  // Reads `path` in a child process with `body` (a part file we did not write may crash
  // libhdf5); a failure is reported there, and its status returned here.
  auto isolated = [](const std::string& path, const std::function<void()>& body) {
    return incsim::cli::run_isolated(
        "merge", path,
        [&](std::ostream&) {
          try {
            if (!incsim::cli::open_result_file(path, "merge")) return kExitFailure;
            body();
            return 0;
          } catch (const std::exception& e) {
            std::cerr << "incsim merge: " << e.what() << "\n";
            return kExitFailure;
          }
        },
        std::cout, std::cerr, incsim::cli::inspect_limits({path}));
  };
  std::vector<incsim::PartHeader> headers;
  for (const std::string& p : paths) {
    if (const int status = isolated(p, [&] { incsim::read_part_header(p); }); status != 0)
      return status;
    headers.push_back(incsim::read_part_header(p));
  }
  try {
    headers = incsim::check_parts(std::move(headers));
  } catch (const std::exception& e) {
    std::cerr << "incsim merge: " << e.what() << "\n";
    return kExitFailure;
  }
  const incsim::PartHeader& first = headers.front();
  if (!output_given) output = std::filesystem::path(first.scenario_file).stem().string() + ".h5";
  std::string problem = incsim::h5::output_path_problem(output);
  if (problem.empty()) problem = incsim::cli::output_replaces_input(output, paths);
  // Loaded from where the scenario file was (a csv it names is found relative to it), then
  // named as the parts name it, with their overrides (the text has them applied).
  incsim::Scenario scenario =
      incsim::load_scenario_text(first.scenario_text, first.scenario_path, {});
  scenario.source_file = first.scenario_file;
  scenario.overrides = first.overrides;
  if (problem.empty() && !allow_large)
    problem = incsim::resource_problem(incsim::estimate_resources(scenario, threads));
  if (!problem.empty()) {
    std::cerr << "incsim merge: " << problem << "\n";
    return kExitInvalid;
  }
  const incsim::Model model = incsim::build_model(scenario, threads);
  const std::string fingerprint = incsim::model_fingerprint(model);
  if (fingerprint != first.model_fingerprint) {
    std::cerr << "incsim merge: the parts were simulated from a model with fingerprint "
              << first.model_fingerprint << ", but their scenario builds " << fingerprint
              << " here (another incsim build, or a changed population csv)\n";
    return kExitFailure;
  }
  for (const incsim::PartHeader& h : headers)
    if (const int status = isolated(h.path, [&] { incsim::read_part(h.path, model); }); status != 0)
      return status;
  incsim::RunPart whole = incsim::read_part(headers.front().path, model);
  for (std::size_t k = 1; k < headers.size(); ++k)
    incsim::merge_parts(whole, incsim::read_part(headers[k].path, model));
  const incsim::RunResults results = incsim::finish_run(model, std::move(whole));
  incsim::write_results(output, model, results);
  std::cout << "merged " << headers.size() << " part" << (headers.size() == 1 ? "" : "s") << " ("
            << model.replications << " replications, model " << fingerprint << ")\nwrote " << output
            << "\n";
  return 0;
}

int validate_command(const Common& c) {
  const incsim::Scenario scenario = incsim::load_scenario(c.scenario, overrides_of(c));
  for (const std::string& w : scenario.warnings) std::cerr << "warning: " << w << "\n";
  std::cout << incsim::describe(scenario);
  const incsim::ResourceEstimate estimate = incsim::estimate_resources(scenario);
  std::cout << incsim::describe_resources(estimate);
  if (const std::string problem = incsim::resource_problem(estimate); !problem.empty()) {
    std::cout << "warning: " << problem << "\n";
    std::cout << "scenario is valid\n";
    return 0;  // valid, but not built here: the population alone may not fit
  }
  // Who can run nothing follows from the population alone (the pilot is not run).
  const incsim::Model base = incsim::build_population_model(scenario);
  const std::string blocked =
      incsim::cli::why_no_industry(scenario, incsim::resource_constraints(base), nullptr);
  bool bounded = false;
  for (const incsim::Industry& ind : scenario.industries) bounded |= std::isfinite(ind.capacity);
  if (!blocked.empty() || bounded) {
    std::cout << "households without a portfolio before any capacity applies"
              << (scenario.choice.rule == incsim::ChoiceRule::fixed ? " (their fixed draws)" : "")
              << ":\n"
              << (blocked.empty() ? std::string("    none\n") : blocked);
    if (bounded) std::cout << "    (capacities can keep more out: `incsim run` reports how many)\n";
  }
  std::cout << "scenario is valid\n";
  return 0;
}

// Freed blocks stay with the process for its next phase. By default glibc returns a freed block
// above its mmap threshold to the system at once and trims the heap above 128 KiB, so every
// phase (pilot, simulation, merging parts, writing) faults in fresh pages for its arrays; on
// these virtual machines a page fault costs several microseconds (a fresh 2.6 MB buffer
// 10 ms to fill, a reused one 0.3 ms). Blocks up to glibc's largest threshold (32 MiB) come
// from the heap, and the heap is not trimmed: the process holds no more than its peak.
void keep_freed_memory() {
  mallopt(M_MMAP_THRESHOLD, 32 << 20);
  mallopt(M_TRIM_THRESHOLD, std::numeric_limits<int>::max());
}

}  // namespace

int main(int argc, char** argv) {
  keep_freed_memory();
  const incsim::cli::Mpi mpi;  // a world of one unless started by mpirun or srun
  // A file-size limit makes a write fail with EFBIG instead of killing the process, so the
  // error is reported and the temporary file removed.
  std::signal(SIGXFSZ, SIG_IGN);
  incsim::h5::install_temporary_cleanup();  // Ctrl-C or kill while writing leaves no
                                            // OUT.h5.tmp-<pid>
  CLI::App app{"incsim: household income projections under market and disaster risk"};
  app.set_version_flag("--version", std::string("incsim ") + INCSIM_VERSION + " (output schema " +
                                        INCSIM_SCHEMA_VERSION + ")");
  app.require_subcommand(1);

  Common run_args;
  std::string output;
  std::optional<std::int64_t> replications;
  std::optional<std::string> seed;
  int threads = 0;
  bool quiet = false;
  CLI::App* run = app.add_subcommand("run", "run a scenario and write an HDF5 result file");
  add_common(run, run_args);
  run->add_option("-o,--output", output,
                  "output file (default: <scenario file stem>.h5, in the current directory)");
  run->add_option("--replications", replications,
                  "number of replications (overrides the file), 1 to " +
                      std::to_string(incsim::kMaxReplications))
      ->check(CLI::Validator(
          [](std::string& text) -> std::string {
            const bool digits = !text.empty() && text.size() <= 18 &&
                                text.find_first_not_of("0123456789") == std::string::npos;
            if (!digits || std::stoll(text) < 1 || std::stoll(text) > incsim::kMaxReplications)
              return "expected a whole number from 1 to " +
                     std::to_string(incsim::kMaxReplications) + ", found '" + text.substr(0, 40) +
                     "'";
            return "";
          },
          "INT in [1, " + std::to_string(incsim::kMaxReplications) + "]"));
  run->add_option("--seed", seed, "random seed (overrides the file)");
  run->add_option("--threads", threads, "worker threads (default: all cores), at most 1024")
      ->check(CLI::Range(0, 1024));
  run->add_flag("-q,--quiet", quiet, "print no summary table");
  bool allow_large = false;
  run->add_flag("--allow-large", allow_large,
                "run even when the memory estimate exceeds 80% of this machine's memory");
  std::optional<std::string> part_text;
  run->add_option("--part", part_text,
                  "run only part I of N of the replications and write a partial result for "
                  "incsim merge (default output: <scenario stem>.partIofN.h5)")
      ->type_name("I/N");

  std::vector<std::string> merge_paths;
  std::string merge_output;
  int merge_threads = 0;
  bool merge_allow_large = false;
  CLI::App* merge = app.add_subcommand(
      "merge", "merge the part files of one run (incsim run --part I/N) into its result file");
  merge->add_option("parts", merge_paths, "part files, in any order")->required();
  merge->add_option("-o,--output", merge_output,
                    "output file (default: <scenario file stem>.h5, in the current directory)");
  merge
      ->add_option("--threads", merge_threads,
                   "worker threads for rebuilding the model (default: all cores)")
      ->check(CLI::Range(0, 1024));
  merge->add_flag("--allow-large", merge_allow_large,
                  "merge even when the memory estimate exceeds 80% of this machine's memory");

  Common validate_args;
  CLI::App* validate =
      app.add_subcommand("validate", "check a scenario and print what it contains, or every error");
  add_common(validate, validate_args);

  std::string inspect_path;
  CLI::App* inspect =
      app.add_subcommand("inspect", "print the headline tables of a result file (OUT.h5)");
  inspect->add_option("file", inspect_path, "incsim result file (HDF5)")->required();

  std::string compare_a, compare_b, compare_csv;
  CLI::App* compare = app.add_subcommand(
      "compare",
      "differences B - A of two run results per year, with standard errors (paired "
      "when both share seed and population)");
  compare->add_option("a", compare_a, "run result A (HDF5)")->required();
  compare->add_option("b", compare_b, "run result B (HDF5)")->required();
  compare->add_option("--csv", compare_csv, "also write the table as tidy csv to this file");

  std::string export_path, export_dir;
  CLI::App* export_cmd =
      app.add_subcommand("export", "write tidy csv tables of a run or sweep result");
  export_cmd->add_option("file", export_path, "incsim result file (HDF5)")->required();
  export_cmd->add_option("--csv", export_dir, "directory for the csv files (created if missing)")
      ->required();

  incsim::cli::SweepArgs sweep_args;
  CLI::App* sweep = incsim::cli::add_sweep_command(app, sweep_args);
  CLI::App* schema = incsim::cli::add_schema_command(app);
  incsim::cli::CalibrateArgs calibrate_args;
  CLI::App* calibrate = incsim::cli::add_calibrate_command(app, calibrate_args);

  // A mistyped subcommand is named (CLI11 would only say that one is required).
  if (argc > 1 && argv[1][0] != '-') {
    const std::string word = argv[1];
    const std::vector<std::string> commands = {
        "run", "validate", "sweep", "calibrate", "inspect", "compare", "export", "schema", "merge"};
    if (std::find(commands.begin(), commands.end(), word) == commands.end()) {
      std::cerr
          << "incsim: unknown command '" << word.substr(0, 60)
          << "' (expected run, validate, sweep, calibrate, merge, inspect, compare, export or "
             "schema; see incsim --help)\n";
      return kExitInvalid;
    }
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? 0 : kExitInvalid;
  }

  try {
    if (run->parsed())
      return run_command(mpi, run_args, output, run->count("--output") > 0, allow_large,
                         replications, seed, mpi.usable_threads(threads), quiet, part_text);
    if (merge->parsed())
      return merge_command(merge_paths, merge_output, merge->count("--output") > 0, merge_threads,
                           merge_allow_large);
    if (inspect->parsed())
      return incsim::cli::inspect_isolated(inspect_path, std::cout, std::cerr,
                                           incsim::cli::inspect_limits({inspect_path}));
    if (compare->parsed()) {
      if (!compare_csv.empty()) {
        if (const std::string problem = incsim::h5::output_path_problem(compare_csv);
            !problem.empty()) {
          std::cerr << "incsim compare: " << problem << "\n";
          return kExitInvalid;
        }
        const std::string replaced =
            incsim::cli::output_replaces_input(compare_csv, {compare_a, compare_b});
        if (!replaced.empty()) {
          std::cerr << "incsim compare: " << replaced << "\n";
          return kExitInvalid;
        }
      }
      return incsim::cli::run_isolated(
          "compare", compare_a + " or " + compare_b,
          [&](std::ostream& os) {
            return incsim::cli::compare_files(compare_a, compare_b, compare_csv, os);
          },
          std::cout, std::cerr, incsim::cli::inspect_limits({compare_a, compare_b}));
    }
    if (export_cmd->parsed())
      return incsim::cli::run_isolated(
          "export", export_path,
          [&](std::ostream& os) { return incsim::cli::export_csv(export_path, export_dir, os); },
          std::cout, std::cerr, incsim::cli::inspect_limits({export_path}));
    if (schema->parsed()) return incsim::cli::schema_command(*schema, std::cout);
    if (sweep->parsed()) {
      sweep_args.output_given = sweep->count("--output") > 0;
      sweep_args.threads = mpi.usable_threads(sweep_args.threads);
      return incsim::cli::sweep_command(sweep_args, mpi);
    }
    if (calibrate->parsed()) {
      calibrate_args.threads = mpi.usable_threads(calibrate_args.threads);
      return incsim::cli::calibrate_command(calibrate_args, mpi);
    }
    return validate_command(validate_args);
  } catch (const incsim::ScenarioError& e) {
    // Every rank reads the same input and fails alike: rank 0 says so.
    if (!mpi.root()) return kExitInvalid;
    return print_errors(e);
  } catch (const incsim::h5::H5Error& e) {
    std::cerr << "incsim: " << rank_prefix(mpi) << e.what() << "\n";
    if (mpi.distributed()) mpi.abort(kExitFailure);  // no rank goes on to write
    // The temporary file is gone (its owner unwound), but a file whose close failed stays
    // registered in the HDF5 library, whose exit handler would then crash flushing it again:
    // leave without running the exit handlers.
    std::cout.flush();
    std::cerr.flush();
    std::_Exit(kExitFailure);
  } catch (const std::exception& e) {
    std::cerr << "incsim: " << rank_prefix(mpi) << e.what() << "\n";
    if (mpi.distributed()) mpi.abort(kExitFailure);  // no rank goes on to write
    return kExitFailure;
  }
}
