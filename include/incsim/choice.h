// Choice of industry models (MODEL.md section 8). Portfolios are enumerated in candidate order
// (main-major; single-industry portfolios follow each main's pairs when two_industries is
// false). Certainty equivalents come from pilot replications of the simulation kernel itself
// on the choice_pilot stream, the same pilot draws for every portfolio (common random
// numbers), with the insurance each household is enrolled in.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <span>
#include <utility>
#include <vector>

#include "incsim/model.h"

namespace incsim {

// A choice pilot shared by the processes of an MPI job (MODEL.md section 13): process `rank`
// of `ranks` runs the pilot batches (pilot_batch_count) that `next_batch` hands out as its
// workers finish batches (each index to one caller of one process; -1 when none remain; called
// concurrently), or an even share by rank when next_batch is empty, and `all_gather` (every
// process's bytes, in rank order, on every process) brings the others' certainty
// equivalents, so every process ends with the table one process computes, bit for bit.
struct PilotShare {
  int rank = 0, ranks = 1;
  std::function<std::int64_t()> next_batch;
  std::function<std::vector<std::vector<unsigned char>>(std::vector<unsigned char>)> all_gather;
};

// Applies the scenario's choice rule to a model from build_population_model: fixed shares on
// the choice stream (or the csv columns), or certainty equivalents from the portfolio pilot
// (incsim/pilot.h) for expected_utility and logit. Households are served in the capacity
// priority order (section 8; population order when no capacity is bounded), each taking its
// portfolio only if its units fit in what the capacities have left; then set_portfolios, and
// Households::binding_constraint and Model::capacity_used are set. `threads` bounds the
// pilot's parallelism (0 = all); the result does not depend on it. `progress`, if given, is
// incremented by the households of each pilot batch after each of its pilot replications.
// `share`, if given, splits the pilot across processes (PilotShare); the result is the same.
void choose_portfolios(Model& model, int threads = 0, std::atomic<std::int64_t>* progress = nullptr,
                       const PilotShare* share = nullptr);

// Per household of `base` (a model from build_population_model), the BindingConstraint that
// leaves it no portfolio before any capacity applies: none where some portfolio it may take
// is feasible; for rule fixed, of the portfolio it draws (no_candidate if it draws none).
// What `incsim validate` can say without running the pilot.
std::vector<std::uint8_t> resource_constraints(const Model& base);

// The candidate portfolios of a scenario, (main, aux) with aux -1 for a single industry.
std::vector<std::pair<int, int>> candidate_portfolios(const Scenario& scenario);

// Certainty equivalent u^-1(mean_r u(v_r)) of one value per replication (e.g. the horizon
// mean) under the scenario's utility: CRRA (with floor; log at 1) or CARA. Computed in a form
// that avoids cancellation: CRRA CE = floor (mean (max(v, floor) / floor)^(1-g))^(1/(1-g)).
double certainty_equivalent(const ChoiceSpec& choice, const std::vector<double>& values);

// Certainty equivalent of per-capita incomes `income` (replication-major, `years` per
// replication) by the scenario's rule (section 8): over: years gives
// u^-1(mean_r sum_t w_t u(y[r, t])) with the discount weights; over: horizon_mean the CE of
// each replication's mean.
double certainty_equivalent(const ChoiceSpec& choice, std::span<const double> income, int years);

// CE[h * P + p] of every household h for every candidate portfolio p (NaN where infeasible),
// from `pilot_replications` replications of the kernel. `base` is the model with enrollment
// drawn; its portfolios are ignored. `progress` as for choose_portfolios.
std::vector<double> certainty_equivalents(const Model& base,
                                          const std::vector<std::pair<int, int>>& portfolios,
                                          int threads,
                                          std::atomic<std::int64_t>* progress = nullptr,
                                          const PilotShare* share = nullptr);

}  // namespace incsim
