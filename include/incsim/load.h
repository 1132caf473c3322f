// Scenario loading: YAML text -> validated Scenario. Every problem of a file is collected
// (file:line:column, what was found, what was expected, the nearest valid key for a typo)
// before loading fails; nothing downstream ever sees an unvalidated value.
#pragma once

#include <stdexcept>
#include <string>
#include <vector>

#include "incsim/scenario.h"

namespace incsim {

struct Diagnostic {
  std::string file;  // scenario or csv path; "--set" for an override
  int line = 0;      // 1-based, 0 when unknown
  int column = 0;    // 1-based, 0 when unknown
  std::string message;

  // "file:line:column: error: message"; without a line "file: error: message", and for an
  // override (file "--set", message "path=value: ...") "error: --set path=value: ...".
  std::string format() const;
};

// Thrown by load_scenario when the scenario is invalid; what() lists every diagnostic.
class ScenarioError : public std::runtime_error {
 public:
  explicit ScenarioError(std::vector<Diagnostic> diagnostics);
  const std::vector<Diagnostic>& diagnostics() const { return diagnostics_; }

 private:
  std::vector<Diagnostic> diagnostics_;
};

// One `--set dotted.path=value` override, applied to the YAML tree before validation.
// A path segment that is a non-negative integer indexes a sequence (`markets.rice.price`,
// `choice.portfolios.0.share`). The value is parsed as YAML (so `[1, 2]` is a list).
struct Override {
  std::string path;
  std::string value;
};

Override parse_override(const std::string& text);  // "a.b=c"; throws ScenarioError if no '='

// Reads and validates the scenario file; throws ScenarioError listing every problem.
Scenario load_scenario(const std::string& path, const std::vector<Override>& overrides = {});

// Same, from text already in memory; `source_name` is used in messages and as the base
// directory for relative csv paths.
Scenario load_scenario_text(const std::string& yaml_text, const std::string& source_name,
                            const std::vector<Override>& overrides = {});

// Human-readable summary of what a valid scenario contains (for `incsim validate`).
std::string describe(const Scenario& scenario);

// What a validated scenario will need (engine/scenario/resources.cpp), estimated from its sizes
// before anything is allocated: peak memory from the dominant tables (per household-year, per
// replication-year, per group, sample paths, the choice pilot's accumulators, the correlation
// blocks, the protection-value sums per worker), and the work of the replications, the choice
// pilot and the fair-premium pilot.
struct ResourceEstimate {
  double memory_bytes = 0.0;
  std::string largest_key;  // the scenario key behind the largest part of the memory
  double household_years = 0.0;
  double pilot_household_years = 0.0;
  double fair_pilot_market_years = 0.0;
};
// `threads`: the worker threads the run will use (each holds its own accumulators); 0 for
// the machine's cores.
ResourceEstimate estimate_resources(const Scenario& scenario, int threads = 0);
// 80% of the machine's physical memory, or of its cgroup's limit when smaller.
double memory_limit_bytes();
// "resources: about ... of memory (limit ...); ... household-years ...", one line.
std::string describe_resources(const ResourceEstimate& estimate);
// A message naming the estimate, the limit, the key to change and --allow-large when the
// memory estimate exceeds memory_limit_bytes(); empty otherwise.
std::string resource_problem(const ResourceEstimate& estimate);

}  // namespace incsim
