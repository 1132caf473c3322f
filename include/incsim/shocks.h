// Common shocks shared by the kernel and the fair-premium estimation (MODEL.md sections 2, 5):
// the correlated log-AR(1) market prices of a year, county-scope hazard events with their
// price shocks, and exact hazard severity draws. Every draw is addressed (incsim/draws.h), so
// the same (stream, replication, year) gives the same shocks wherever they are computed.
#pragma once

#include <cstdint>
#include <vector>

#include "incsim/model.h"
#include "incsim/rng.h"

namespace incsim {

// Whether hazard k occurs for scope unit `unit` in (r, t): uniform(w0) < probability.
bool hazard_occurs(const HazardModel& hazard, int k, rng::Key key, std::uint32_t unit,
                   std::uint32_t r, int t);

// Loss fraction S of an occurrence: the fixed value, or an exact Beta(a, b) draw (ratio of two
// Marsaglia-Tsang gamma variates) from the words of consecutive counters starting at
// draws::severity_index(k).
double sample_severity(const Severity& severity, int k, rng::Key key, std::uint32_t unit,
                       std::uint32_t r, int t);

// The severities of many occurrences at once (household scope: every struck lane of a batch):
// out[i] = the severity of units[i], from the same draws as sample_severity but through
// rng::beta_batch's vector maths, so it may differ from sample_severity in the last bits
// (very rarely by more: a different acceptance). A unit's severity never depends on n, on its
// position or on the other units, so the kernel and the choice pilot, which batch households
// differently, agree bit for bit. Fixed severities are `value` exactly.
void sample_severity_batch(const Severity& severity, int k, rng::Key key,
                           const std::uint32_t* units, std::size_t n, std::uint32_t r, int t,
                           double* out);

// State of the market process within one replication.
struct MarketState {
  explicit MarketState(const Model& model);
  void reset();
  std::vector<double> log_dev;      // x[m, t]
  std::vector<double> innovations;  // scratch
};

// Advances the markets to year t: fills prices[m] = P[m,t] including county price shocks,
// and county_severity[k] = S of county hazard k if it occurred in (r, t), else -1 (also -1
// for hazards of other scopes).
void market_year(const Model& model, rng::Key key, std::uint32_t r, int t, MarketState& state,
                 double* prices, double* county_severity);

}  // namespace incsim
