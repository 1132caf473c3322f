// Shared test helpers: scenarios built in code (independent of the YAML loader), temporary
// files, and sample statistics with their standard errors.
#pragma once

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "incsim/scenario.h"

namespace incsim::test {

inline std::filesystem::path temp_dir() {
  const char* env = std::getenv("INCSIM_TEST_TMP");
  std::filesystem::path dir = env ? env : std::filesystem::temp_directory_path() / "incsim-tests";
  std::filesystem::create_directories(dir);
  return dir;
}

// A unique path inside temp_dir() for the current test.
inline std::filesystem::path temp_path(const std::string& suffix) {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  std::string name = std::string(info->test_suite_name()) + "_" + info->name();
  for (char& c : name)
    if (c == '/') c = '_';
  return temp_dir() / (name + suffix);
}

// A fresh, empty directory for the current test.
inline std::filesystem::path fresh_dir() {
  const std::filesystem::path dir = temp_path("_dir");
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

inline void write_file(const std::filesystem::path& path, const std::string& text) {
  std::ofstream out(path);
  out << text;
}

// One market, one single-product industry, a generated population of `households`
// households of size 1 with ample resources, everyone running the industry (1 unit).
inline Scenario simple_scenario(int households = 100, int years = 3, std::int64_t reps = 100) {
  Scenario s;
  s.name = "test";
  s.years = years;
  s.replications = reps;
  s.seed = 12345;
  s.markets.push_back({"grain", "kg", 10.0, 0.0, 0.0, 0.0});
  s.correlation = {};
  Industry ind;
  ind.name = "farm";
  ind.label = "farm";
  ind.unit = "mu";
  ind.products.push_back({0, 100.0, 0.0});
  ind.price_floor.resize(1);
  s.industries.push_back(ind);
  Population& p = s.population;
  p.households = households;
  p.villages = 1;
  p.all.size_values = {1};
  p.all.size_weights = {1};
  p.all.farmland_mu = {10.0, 0.0};
  p.all.forest_mu = {10.0, 0.0};
  p.all.capital = {1e6, 0.0};
  s.choice.rule = ChoiceRule::fixed;
  s.choice.portfolios.push_back({0, -1, 1.0});
  s.poverty.line = 500.0;
  return s;
}

// A hazard named "hazard" hitting every industry of `s` with the same `affects`, no price
// shock.
inline Hazard make_hazard(const Scenario& s, HazardScope scope, double probability,
                          Severity severity, double affects) {
  Hazard h;
  h.name = "hazard";
  h.scope = scope;
  h.probability = probability;
  h.severity = severity;
  h.affects.assign(s.industries.size(), affects);
  h.price_shock.assign(s.markets.size(), 1.0);
  return h;
}

// Agricultural insurance of industry 0 with `sum_insured` per unit (everyone enrolled, no
// subsidy unless given).
inline void cover_agricultural(Scenario& s, double sum_insured, double deductible,
                               double premium_rate, GroupShare subsidy = {}) {
  AgriculturalInsurance& ag = s.insurance.agricultural;
  ag.enabled = true;
  ag.covers = {0};
  ag.sum_insured.assign(s.industries.size(), 0.0);
  ag.sum_insured[0] = sum_insured;
  ag.deductible = deductible;
  ag.premium_rate = premium_rate;
  ag.subsidy = subsidy;
}

// Income index insurance of industry 0 (everyone enrolled, no subsidy).
inline void cover_index(Scenario& s, double coverage, double premium_rate) {
  IncomeIndexInsurance& ii = s.insurance.income_index;
  ii.enabled = true;
  ii.covers = {0};
  ii.coverage = coverage;
  ii.premium_rate = premium_rate;
}

// The run that split-run tests (test_parts, test_mpi) cut into parts or ranks: every feature
// on (tests/regression/scenarios/all_features_logit.yaml), 60 households, 24 replications (24
// blocks of one), 3 sample paths; incsim arguments after `run SCENARIO -o OUT`.
inline const std::string kSplitScenario =
    std::string(INCSIM_SOURCE_DIR) + "/tests/regression/scenarios/all_features_logit.yaml";
inline const std::string kSplitArgs =
    " -q --replications 24 --set population.households=60 --set choice.pilot_replications=10 "
    "--set output.sample_paths=3";

// simple_scenario with two correlated markets, a two-product industry with yield risk, villages,
// household sizes 1 to `max_size`, 30% registered poor with their own endowments (some without
// laborers) and wages, stochastic wages, dibao and health shocks (two illnesses, one costing
// working days; reimbursement by group, a cap for the poor): the base of the determinism and
// split-run tests.
inline Scenario varied_scenario(int households, int years, std::int64_t reps, int villages,
                                int max_size) {
  Scenario s = simple_scenario(households, years, reps);
  s.markets = {{"a", "kg", 36.0, 0.02, 0.25, 0.5}, {"b", "kg", 4.0, 0.0, 0.08, 0.0}};
  s.correlation = {{0, 1, 0.3}};
  s.industries[0].products = {{0, 100.0, 0.2}, {1, 500.0, 0.1}};
  s.industries[0].price_floor.resize(2);
  s.population.villages = villages;
  s.population.all.size_values.clear();
  for (int k = 1; k <= max_size; ++k) s.population.all.size_values.push_back(k);
  s.population.all.size_weights.assign(static_cast<std::size_t>(max_size), 1.0);
  s.population.poor_share = 0.3;
  s.income.wage = {9000.0, 0.3, 0.6};
  s.income.dibao = {true, 2000.0, DibaoEligible::poor};
  s.poverty.line = 3218.0;
  // v2: population.poor, wage.poor and health.
  Population& p = s.population;
  p.poor = p.all;
  p.poor_block = true;
  p.poor.size_weights.assign(p.all.size_weights.size(), 1.0);
  p.poor.size_weights[0] = 3.0;
  p.poor.laborer_share_of_size = 0.35;
  p.poor.laborer_min = 0;
  p.poor.capital = {1500.0, 1.0};
  s.income.wage_poor = {6000.0, 0.4, 0.5};
  s.income.wage_poor_block = true;
  HealthSpec& h = s.health;
  h.enabled = true;
  Illness outpatient;
  outpatient.name = "outpatient";
  outpatient.probability = 0.4;
  outpatient.cost = {600.0, 1.0};
  Illness inpatient;
  inpatient.name = "inpatient";
  inpatient.probability = 0.08;
  inpatient.cost = {12000.0, 1.2};
  inpatient.days_lost = 60.0;
  h.illnesses = {outpatient, inpatient};
  h.reimbursement = {0.9117, 0.55};
  h.out_of_pocket_cap.poor = 3000.0;
  return s;
}

inline std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

// Single-quotes a word for /bin/sh.
inline std::string shell_quote(const std::string& text) {
  std::string quoted = "'";
  for (char c : text) {
    if (c == '\'')
      quoted += "'\\''";
    else
      quoted += c;
  }
  return quoted + "'";
}

// A path single-quoted for /bin/sh.
inline std::string quoted(const std::filesystem::path& path) {
  return shell_quote(path.string());
}

struct CommandResult {
  int exit_status = -1;  // -1 if the command did not exit normally
  std::string out;
  std::string err;
};

// Runs the incsim binary with `arguments` (already shell-quoted where needed), capturing
// stdout and stderr through files named after the current test.
inline CommandResult run_incsim(const std::string& arguments) {
  const auto out_file = temp_path(".stdout"), err_file = temp_path(".stderr");
  const std::string command = shell_quote(INCSIM_BINARY) + " " + arguments + " >" +
                              shell_quote(out_file.string()) + " 2>" +
                              shell_quote(err_file.string());
  const int status = std::system(command.c_str());
  CommandResult result;
  if (status != -1 && WIFEXITED(status)) result.exit_status = WEXITSTATUS(status);
  result.out = read_file(out_file);
  result.err = read_file(err_file);
  return result;
}

// Starts the incsim binary with `args` in the background (stdout and stderr to `log`), waits
// until `ready()` holds (at most 60 s), then sends `signal`. Returns the exit status, or
// -signal when the signal ended it.
inline int interrupt_incsim(const std::vector<std::string>& args, const std::string& log,
                            const std::function<bool()>& ready, int signal) {
  std::vector<std::string> argv_text = {INCSIM_BINARY};
  argv_text.insert(argv_text.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (std::string& a : argv_text) argv.push_back(a.data());
  argv.push_back(nullptr);
  const pid_t pid = fork();
  if (pid == 0) {
    const int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    dup2(fd, 1);
    dup2(fd, 2);
    execv(INCSIM_BINARY, argv.data());
    _exit(127);
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (!ready() && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  kill(pid, signal);
  int status = 0;
  waitpid(pid, &status, 0);
  if (WIFSIGNALED(status)) return -WTERMSIG(status);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1000;
}

struct SampleStats {
  double n = 0, mean = 0, var = 0, m4 = 0;  // central moments (var, 4th) of the sample
  double se_mean() const { return std::sqrt(var / n); }
  // Standard error of the sample variance: sqrt((m4 - var^2) / n).
  double se_var() const { return std::sqrt(std::max(0.0, m4 - var * var) / n); }
};

inline SampleStats sample_stats(const std::vector<double>& x) {
  SampleStats s;
  s.n = static_cast<double>(x.size());
  for (double v : x) s.mean += v;
  s.mean /= s.n;
  for (double v : x) {
    const double d = (v - s.mean) * (v - s.mean);
    s.var += d;
    s.m4 += d * d;
  }
  s.var /= (s.n - 1);
  s.m4 /= s.n;
  return s;
}

inline double correlation(const std::vector<double>& a, const std::vector<double>& b) {
  const SampleStats sa = sample_stats(a), sb = sample_stats(b);
  double c = 0;
  for (std::size_t i = 0; i < a.size(); ++i) c += (a[i] - sa.mean) * (b[i] - sb.mean);
  return c / (a.size() - 1) / std::sqrt(sa.var * sb.var);
}

}  // namespace incsim::test
