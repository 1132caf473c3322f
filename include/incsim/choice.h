// Choice of industry models (MODEL.md section 8). Portfolios are enumerated in candidate order
// (main-major; single-industry portfolios follow each main's pairs when two_industries is
// false). Certainty equivalents come from pilot replications of the simulation kernel itself
// on the choice_pilot stream, the same pilot draws for every portfolio (common random
// numbers), with the insurance each household is enrolled in.
#pragma once

#include <utility>
#include <vector>

#include "incsim/model.h"

namespace incsim {

// Applies the scenario's choice rule to a model from build_population_model: fixed shares on
// the choice stream (or the csv columns), or certainty equivalents from the portfolio pilot
// (incsim/pilot.h) for expected_utility and logit; then set_portfolios. `threads` bounds the
// pilot's parallelism (0 = all); the result does not depend on it.
void choose_portfolios(Model& model, int threads = 0);

// The candidate portfolios of a scenario, (main, aux) with aux -1 for a single industry.
std::vector<std::pair<int, int>> candidate_portfolios(const Scenario& scenario);

// Certainty equivalent of per-capita horizon-mean income from pilot values `ybar` under the
// scenario's utility: CRRA (with floor; log at 1) or CARA. Computed in a form that avoids
// cancellation: CRRA CE = (mean max(y, floor)^(1-g))^(1/(1-g)).
double certainty_equivalent(const ChoiceSpec& choice, const std::vector<double>& ybar);

// CE[h * P + p] of every household h for every candidate portfolio p (NaN where infeasible),
// from `pilot_replications` replications of the kernel. `base` is the model with enrollment
// drawn; its portfolios are ignored.
std::vector<double> certainty_equivalents(const Model& base,
                                          const std::vector<std::pair<int, int>>& portfolios,
                                          int threads);

}  // namespace incsim
