// The `incsim` command: argument parsing and dispatch only.
//   incsim run SCENARIO [-o OUT.h5] [--replications N] [--seed S] [--threads K] [--set p=v]...
//   incsim validate SCENARIO [--set p=v]...
//   incsim inspect OUT.h5
//   incsim compare A.h5 B.h5 [--csv FILE]
//   incsim export RESULT.h5 --csv DIR
//   incsim schema [--markdown]
//   incsim sweep SWEEP.yaml [-o OUT.h5] [--threads K] [--set p=v]... [--restart] [--table-only]
// Exit status: 0 success, 2 invalid scenario or usage, 1 any other failure.
#include <CLI/CLI.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <sstream>

#include "cli/cli.h"
#include "cli/schema_cli.h"
#include "incsim/choice.h"
#include "incsim/engine.h"
#include "incsim/hdf5.h"
#include "incsim/load.h"
#include "incsim/output.h"
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

int print_errors(const incsim::ScenarioError& e) {
  for (const incsim::Diagnostic& d : e.diagnostics()) std::cerr << d.format() << "\n";
  std::cerr << e.diagnostics().size() << " error" << (e.diagnostics().size() == 1 ? "" : "s")
            << "; nothing was run\n";
  return kExitInvalid;
}

std::string default_output(const std::string& scenario) {
  return std::filesystem::path(scenario).stem().string() + ".h5";
}

int run_command(const Common& c, std::string output, bool output_given, bool allow_large,
                std::optional<std::int64_t> replications, std::optional<std::string> seed,
                int threads, bool quiet) {
  std::vector<incsim::Override> ov = overrides_of(c);
  if (replications) ov.push_back({"scenario.replications", std::to_string(*replications)});
  if (seed) ov.push_back({"scenario.seed", *seed});
  const incsim::Scenario scenario = incsim::load_scenario(c.scenario, ov);
  if (!output_given) output = default_output(c.scenario);
  std::string problem = incsim::h5::output_path_problem(output);
  if (problem.empty())
    problem = incsim::cli::output_replaces_input(
        output, {scenario.source_file, scenario.population.csv_path});
  if (problem.empty() && !allow_large)
    problem = incsim::resource_problem(incsim::estimate_resources(scenario, threads));
  if (!problem.empty()) {
    std::cerr << "incsim: " << problem << "\n";  // before anything is built or simulated
    return kExitInvalid;
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

}  // namespace

int main(int argc, char** argv) {
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

  // A mistyped subcommand is named (CLI11 would only say that one is required).
  if (argc > 1 && argv[1][0] != '-') {
    const std::string word = argv[1];
    const std::vector<std::string> commands = {"run",     "validate", "sweep", "inspect",
                                               "compare", "export",   "schema"};
    if (std::find(commands.begin(), commands.end(), word) == commands.end()) {
      std::cerr << "incsim: unknown command '" << word.substr(0, 60)
                << "' (expected run, validate, sweep, inspect, compare, export or schema; see "
                   "incsim --help)\n";
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
      return run_command(run_args, output, run->count("--output") > 0, allow_large, replications,
                         seed, threads, quiet);
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
      return incsim::cli::sweep_command(sweep_args);
    }
    return validate_command(validate_args);
  } catch (const incsim::ScenarioError& e) {
    return print_errors(e);
  } catch (const incsim::h5::H5Error& e) {
    std::cerr << "incsim: " << e.what() << "\n";
    // The temporary file is gone (its owner unwound), but a file whose close failed stays
    // registered in the HDF5 library, whose exit handler would then crash flushing it again:
    // leave without running the exit handlers.
    std::cout.flush();
    std::cerr.flush();
    std::_Exit(kExitFailure);
  } catch (const std::exception& e) {
    std::cerr << "incsim: " << e.what() << "\n";
    return kExitFailure;
  }
}
