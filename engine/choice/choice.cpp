// Households choose their portfolios (MODEL.md section 8); see incsim/choice.h.
#include "incsim/choice.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "incsim/draws.h"
#include "incsim/pilot.h"
#include "incsim/rng.h"
#include "incsim/simulate.h"

namespace incsim {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

std::vector<int> candidates_of(const Scenario& s) {
  if (!s.choice.candidates.empty()) return s.choice.candidates;
  std::vector<int> all(s.industries.size());
  for (std::size_t i = 0; i < all.size(); ++i) all[i] = static_cast<int>(i);
  return all;
}

// rule fixed: the csv columns, or a draw on the choice stream against the cumulative shares.
void fixed_choice(const Scenario& s, std::vector<int>& main, std::vector<int>& aux) {
  const rng::Addressed draw{rng::make_key(s.seed, rng::Stream::choice)};
  for (std::size_t h = 0; h < main.size(); ++h) {
    if (s.choice.from_csv) {
      main[h] = s.population.records[h].main.value_or(-1);
      aux[h] = s.population.records[h].aux.value_or(-1);
      continue;
    }
    const double u =
        rng::uniform(draw(static_cast<std::uint32_t>(h), 0, 0, draws::kFixedPortfolio)[0]);
    double cumulative = 0.0;
    for (const PortfolioShare& p : s.choice.portfolios) {
      cumulative += p.share;
      if (u < cumulative) {
        main[h] = p.main;
        aux[h] = p.aux;
        break;
      }
    }
  }
}

}  // namespace

std::vector<std::pair<int, int>> candidate_portfolios(const Scenario& s) {
  std::vector<std::pair<int, int>> out;
  const std::vector<int> cand = candidates_of(s);
  for (int main : cand) {
    for (int aux : cand)
      if (aux != main) out.push_back({main, aux});
    if (!s.choice.two_industries) out.push_back({main, -1});
  }
  return out;
}

// Streaming form of the certainty equivalent: add() each pilot value, then value(). CRRA sums
// (max(y, floor) / floor)^(1-g) (or log), CARA sums exp(-a (y - y0)) with y0 the first value,
// so no term cancels catastrophically.
class CertaintyEquivalent {
 public:
  explicit CertaintyEquivalent(const ChoiceSpec& c) : c_(c) {}
  void add(double y) {
    if (n_ == 0) first_ = y;
    n_ += 1.0;
    if (c_.utility == UtilityKind::cara) {
      sum_ += c_.cara == 0.0 ? y : std::exp(-c_.cara * (y - first_));
    } else if (c_.crra == 1.0) {
      sum_ += std::log(std::max(y, c_.floor));
    } else {
      sum_ += std::pow(std::max(y, c_.floor) / c_.floor, 1.0 - c_.crra);
    }
  }
  double value() const {
    const double mean = sum_ / n_;
    if (c_.utility == UtilityKind::cara)
      return c_.cara == 0.0 ? mean : first_ - std::log(mean) / c_.cara;
    if (c_.crra == 1.0) return std::exp(mean);
    return c_.floor * std::pow(mean, 1.0 / (1.0 - c_.crra));
  }

 private:
  const ChoiceSpec& c_;
  double n_ = 0.0, sum_ = 0.0, first_ = 0.0;
};

double certainty_equivalent(const ChoiceSpec& c, const std::vector<double>& ybar) {
  CertaintyEquivalent ce(c);
  for (double y : ybar) ce.add(y);
  return ce.value();
}

std::vector<double> certainty_equivalents(const Model& base,
                                          const std::vector<std::pair<int, int>>& portfolios,
                                          int threads) {
  const std::size_t n = base.households.count();
  const std::size_t np = portfolios.size();
  const int years = base.years;
  const int pilots = base.scenario.choice.pilot_replications;
  // One accumulator per (household, portfolio), fed in replication order; each household is
  // in one pilot batch, so batches running in parallel never touch the same accumulator.
  std::vector<CertaintyEquivalent> acc(n * np, CertaintyEquivalent(base.scenario.choice));
  std::vector<std::uint8_t> feasible(n * np, 0);
  run_portfolio_pilot(base, portfolios, pilots, rng::Stream::choice_pilot, threads,
                      [&](const PilotBatch& batch) {
                        const std::size_t lanes = batch.households.size();
                        std::vector<double> ybar(lanes);
                        for (std::size_t p = 0; p < np; ++p) {
                          std::fill(ybar.begin(), ybar.end(), 0.0);
                          for (int t = 1; t <= years; ++t) {
                            const double* y = &batch.at(p, t, 0);
                            for (std::size_t lane = 0; lane < lanes; ++lane) ybar[lane] += y[lane];
                          }
                          for (std::size_t lane = 0; lane < lanes; ++lane) {
                            if (std::isnan(ybar[lane])) continue;  // infeasible
                            const std::size_t c = batch.households[lane] * np + p;
                            acc[c].add(ybar[lane] / years);
                            feasible[c] = 1;
                          }
                        }
                      });
  std::vector<double> ce(n * np, kNaN);
  for (std::size_t c = 0; c < n * np; ++c)
    if (feasible[c]) ce[c] = acc[c].value();
  return ce;
}

void choose_portfolios(Model& model, int threads) {
  const Scenario& scenario = model.scenario;
  const std::size_t n = model.households.count();
  std::vector<int> main(n, -1), aux(n, -1);
  Households& hh = model.households;
  if (scenario.choice.rule == ChoiceRule::fixed) {
    fixed_choice(scenario, main, aux);
    std::vector<std::pair<int, int>> listed;
    for (const PortfolioShare& p : scenario.choice.portfolios) listed.push_back({p.main, p.aux});
    set_portfolios(model, main, aux, listed);
    for (std::size_t h = 0; h < n; ++h) hh.feasible_portfolios[h] = hh.main[h] >= 0 ? 1 : 0;
    return;
  }

  const std::vector<std::pair<int, int>> portfolios = candidate_portfolios(scenario);
  const std::size_t np = portfolios.size();
  const std::vector<double> ce = certainty_equivalents(model, portfolios, threads);
  const rng::Addressed draw{rng::make_key(scenario.seed, rng::Stream::choice)};
  const double temperature = scenario.choice.temperature;
  std::vector<double> chosen_ce(n, kNaN);
  for (std::size_t h = 0; h < n; ++h) {
    int best = -1;
    int feasible = 0;
    for (std::size_t p = 0; p < np; ++p) {
      const double v = ce[h * np + p];
      if (std::isnan(v)) continue;
      ++feasible;
      if (best < 0 || v > ce[h * np + best]) best = static_cast<int>(p);  // ties: first
    }
    hh.feasible_portfolios[h] = feasible;
    if (best < 0) continue;  // no feasible portfolio: runs none
    if (scenario.choice.rule == ChoiceRule::logit) {
      // P(p) proportional to exp(CE_p / temperature), shifted by the best CE for stability.
      const double shift = ce[h * np + best];
      auto weight = [&](std::size_t p) { return std::exp((ce[h * np + p] - shift) / temperature); };
      double total = 0.0;
      for (std::size_t p = 0; p < np; ++p)
        if (!std::isnan(ce[h * np + p])) total += weight(p);
      const double u =
          rng::uniform(draw(static_cast<std::uint32_t>(h), 0, 0, draws::kLogitPortfolio)[0]) *
          total;
      double cumulative = 0.0;
      for (std::size_t p = 0; p < np; ++p) {
        if (std::isnan(ce[h * np + p])) continue;
        cumulative += weight(p);
        best = static_cast<int>(p);  // the last feasible one if rounding leaves u >= total
        if (u < cumulative) break;
      }
    }
    main[h] = portfolios[best].first;
    aux[h] = portfolios[best].second;
    chosen_ce[h] = ce[h * np + best];
  }
  set_portfolios(model, main, aux, portfolios);
  for (std::size_t h = 0; h < n; ++h) hh.certainty_equivalent[h] = chosen_ce[h];
}

}  // namespace incsim
