// Choice of industry models (MODEL.md section 8): risk-neutral households pick the portfolio
// of highest expected horizon-mean income (brute force and closed form), risk aversion moves
// households away from the risky industry, insurance moves them back, logit at a small
// temperature agrees with expected utility, short resources shrink or remove portfolios, and
// results do not depend on the thread count.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>

#include "incsim/choice.h"
#include "incsim/engine.h"
#include "incsim/model.h"
#include "incsim/simulate.h"
#include "support.h"

namespace incsim {
namespace {

// Two industries on their own markets: `safe` (1000 per unit, price volatility 0.05) and
// `risky` (1300 per unit, volatility 0.6, yield cv 0.3). Households of 1 to 4 persons with
// laborers earning 2000 each and 1 mu of land: room for one unit of one industry, so the choice is
// between safe and risky alone (the pairs are infeasible).
Scenario safe_risky(int households = 300) {
  Scenario s = test::simple_scenario(households, 3, 10);
  s.markets = {{"safe", "kg", 10.0, 0.0, 0.05, 0.0}, {"risky", "kg", 10.0, 0.0, 0.6, 0.3}};
  s.correlation = {};
  Industry safe = s.industries[0];
  safe.name = std::string{"safe"};
  safe.products = {{0, 100.0, 0.05}};
  safe.price_floor.assign(2, std::nullopt);
  safe.needs_farmland_mu = 1.0;
  Industry risky = safe;
  risky.name = std::string{"risky"};
  risky.products = {{1, 130.0, 0.3}};
  s.industries = {safe, risky};
  s.population.all.size_values = {1, 2, 3, 4};  // per-capita stakes differ across households
  s.population.all.size_weights = {1, 1, 1, 1};
  s.population.all.farmland_mu = {1.0, 0.0};
  s.income.wage = {2000.0, 0.0, 1.0};
  s.choice.rule = ChoiceRule::expected_utility;
  s.choice.portfolios.clear();
  s.choice.two_industries = false;
  s.choice.candidates = {0, 1};
  s.choice.pilot_replications = 300;
  s.choice.floor = 1.0;
  return s;
}

double share_running(const Model& m, int main, int aux) {
  double n = 0;
  for (std::size_t h = 0; h < m.households.count(); ++h)
    n += m.households.main[h] == main && m.households.aux[h] == aux;
  return n / m.households.count();
}

TEST(Choice, RiskNeutralPicksHighestExpectedIncomeByBruteForce) {
  Scenario s = safe_risky(200);
  s.choice.crra = 0.0;
  s.population.all.farmland_mu = {1.6, 0.5};  // from no industry to a pair, by land
  const Model chosen = build_model(s);
  // Brute force: every household on every portfolio, mean horizon income over the same pilot
  // draws, argmax (ties: first).
  const auto portfolios = candidate_portfolios(s);
  const Model base = build_model([&] {
    Scenario none = s;
    none.choice.rule = ChoiceRule::fixed;
    return none;
  }());
  const std::size_t n = base.households.count();
  std::vector<double> best(n, -1e300);
  std::vector<int> best_p(n, -1);
  for (std::size_t p = 0; p < portfolios.size(); ++p) {
    Model trial = base;
    set_portfolios(trial, std::vector<int>(n, portfolios[p].first),
                   std::vector<int>(n, portfolios[p].second), {});
    const Kernel kernel(trial, rng::Stream::choice_pilot);
    Workspace ws(trial);
    std::vector<double> mean(n, 0.0);
    for (int r = 0; r < s.choice.pilot_replications; ++r)
      kernel.run_replication(r, ws, [&](const YearOutcome& y) {
        for (std::size_t h = 0; h < n; ++h)
          mean[h] += y.income_of(h) / (s.years * s.choice.pilot_replications);
      });
    for (std::size_t h = 0; h < n; ++h) {
      if (trial.households.main[h] < 0) continue;
      if (mean[h] > best[h] + 1e-9 * std::abs(best[h])) best[h] = mean[h], best_p[h] = int(p);
    }
  }
  int feasible_only_single = 0, pairs = 0, none = 0;
  for (std::size_t h = 0; h < n; ++h) {
    if (best_p[h] < 0) {
      EXPECT_EQ(chosen.households.main[h], -1) << "household " << h << " has no feasible portfolio";
      ++none;
      continue;
    }
    pairs += chosen.households.aux[h] >= 0;
    EXPECT_EQ(chosen.households.main[h], portfolios[best_p[h]].first) << "household " << h;
    EXPECT_EQ(chosen.households.aux[h], portfolios[best_p[h]].second) << "household " << h;
    EXPECT_NEAR(chosen.households.certainty_equivalent[h], best[h], 1e-9 * best[h]);
    feasible_only_single += chosen.households.aux[h] < 0;
  }
  EXPECT_GT(feasible_only_single - none, 0) << "the test should include land-limited households";
  EXPECT_GT(pairs, 0) << "and households with land for two industries";
}

TEST(Choice, RiskNeutralClosedFormOnDeterministicIncomes) {
  // No randomness: net income per unit safe 1000, risky 1300, third 1500 but needs capital.
  Scenario s = safe_risky(60);
  s.choice.crra = 0.0;
  for (Market& m : s.markets) m.volatility = 0.0;
  for (Industry& ind : s.industries) ind.products[0].yield_cv = 0.0;
  Industry third = s.industries[0];
  third.name = std::string{"third"};
  third.products = {{0, 150.0, 0.0}};
  third.setup_cost = 3000.0;  // year-1 cost: over 3 years, 4500 - 3000 = 1500 per 3 years
  s.industries.push_back(third);
  s.choice.candidates = {0, 1, 2};
  s.population.all.capital = {3000.0, 1.0};
  s.population.all.farmland_mu = {2.0, 0.0};
  const Model m = build_model(s);
  for (std::size_t h = 0; h < m.households.count(); ++h) {
    // Horizon totals of each feasible portfolio (1 unit each, land 2 mu): pick the best.
    const bool afford = m.households.capital[h] >= 3000.0 - 1e-9;
    const double safe = 3 * 1000.0, risky = 3 * 1300.0, thr = 3 * 1500.0 - 3000.0;
    double best = risky + safe;  // (risky, safe) or (safe, risky): first is (safe, risky)
    int main = 0, aux = 1;
    if (afford && risky + thr > best) best = risky + thr, main = 1, aux = 2;
    EXPECT_EQ(m.households.main[h], main) << h;
    EXPECT_EQ(m.households.aux[h], aux) << h;
    const double wages = 3 * 2000.0 * m.households.laborers[h];
    EXPECT_NEAR(m.households.certainty_equivalent[h], (wages + best) / 3 / m.households.size[h],
                1e-9);
  }
}

TEST(Choice, RiskAversionNeverIncreasesTheRiskiestPortfolio) {
  double previous = 2.0;
  std::vector<double> shares;
  for (double g : {0.0, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 32.0}) {
    Scenario s = safe_risky();
    s.choice.crra = g;
    const Model m = build_model(s);
    const double share = share_running(m, 1, -1);  // risky alone
    shares.push_back(share);
    EXPECT_LE(share, previous + 1e-12) << "crra " << g;
    previous = share;
  }
  EXPECT_GT(shares.front(), 0.5) << "risk-neutral households take the risky industry";
  EXPECT_LT(shares.back(), shares.front()) << "strong risk aversion moves households away";
}

TEST(Choice, IncomeIndexInsuranceShiftsChoiceTowardsTheInsuredRiskyIndustry) {
  Scenario s = safe_risky();
  s.choice.crra = 8.0;
  const Model without = build_model(s);
  IncomeIndexInsurance& ii = s.insurance.income_index;
  ii.enabled = true;
  ii.covers = {1};
  ii.coverage = 0.9;
  ii.fair = true;
  ii.fair_replications = 2000;
  ii.subsidy = {1.0, 1.0};
  ii.enrollment = {1.0, 1.0};
  const Model with = build_model(s);
  const double risky_without = share_running(without, 1, -1);
  const double risky_with = share_running(with, 1, -1);
  EXPECT_GT(risky_with, risky_without + 0.2) << risky_without << " -> " << risky_with;
}

TEST(Choice, LogitAtSmallTemperatureAgreesWithExpectedUtility) {
  Scenario s = safe_risky();
  const Model eu = build_model(s);
  s.choice.rule = ChoiceRule::logit;
  s.choice.temperature = 1e-6;
  const Model logit = build_model(s);
  EXPECT_EQ(eu.households.main, logit.households.main);
  EXPECT_EQ(eu.households.aux, logit.households.aux);
  // At a high temperature choices spread evenly over the two feasible portfolios.
  s.choice.temperature = 1e9;
  const Model flat = build_model(s);
  for (int main : {0, 1})
    EXPECT_NEAR(share_running(flat, main, -1), 0.5, 4 * std::sqrt(0.25 / 300)) << main;
}

// At a moderate temperature each household's choice follows the softmax of its certainty
// equivalents over all four feasible portfolios (land for two units): the realised share of
// each portfolio matches the mean of the households' probabilities within 4 standard errors
// (independent draws with those probabilities).
TEST(Choice, LogitSharesFollowTheSoftmaxOfCertaintyEquivalents) {
  Scenario s = safe_risky(3000);
  s.population.all.farmland_mu = {2.0, 0.0};
  s.choice.rule = ChoiceRule::logit;
  s.choice.crra = 8.0;
  s.choice.pilot_replications = 100;
  s.choice.temperature = 400.0;
  const Model m = build_model(s);
  Scenario fixed = s;
  fixed.choice.rule = ChoiceRule::fixed;
  const Model base = build_model(fixed);
  const auto portfolios = candidate_portfolios(s);
  const std::size_t np = portfolios.size();
  ASSERT_EQ(np, 4u);
  const std::vector<double> ce = certainty_equivalents(base, portfolios, 2);
  std::vector<double> expected(np, 0.0), variance(np, 0.0), realised(np, 0.0);
  for (std::size_t h = 0; h < base.households.count(); ++h) {
    double best = -1e300, total = 0.0;
    for (std::size_t p = 0; p < np; ++p) best = std::max(best, ce[h * np + p]);
    for (std::size_t p = 0; p < np; ++p)
      total += std::exp((ce[h * np + p] - best) / s.choice.temperature);
    for (std::size_t p = 0; p < np; ++p) {
      const double prob = std::exp((ce[h * np + p] - best) / s.choice.temperature) / total;
      expected[p] += prob;
      variance[p] += prob * (1 - prob);
      realised[p] += m.households.main[h] == portfolios[p].first &&
                     m.households.aux[h] == portfolios[p].second;
    }
  }
  for (std::size_t p = 0; p < np; ++p) {
    EXPECT_GT(variance[p], 20.0) << "portfolio " << p
                                 << ": the temperature should leave randomness";
    EXPECT_NEAR(realised[p], expected[p], 4 * std::sqrt(variance[p])) << "portfolio " << p;
  }
}

TEST(Choice, ShortLandOrCapitalGivesASmallerOrNoPortfolio) {
  Scenario s = safe_risky(3);
  s.industries[1].max_units = 3;
  s.industries[1].setup_cost = 1000.0;
  s.choice.two_industries = false;
  const auto dir = test::temp_path("_dir");
  std::filesystem::create_directories(dir);
  Population& pop = s.population;
  pop.records = {
      {"rich", "v", 2, 1, 10.0, 0.0, 1e6, false, {}, {}, {}, {}},
      {"little_land", "v", 2, 1, 2.0, 0.0, 1e6, false, {}, {}, {}, {}},
      {"no_capital", "v", 2, 1, 10.0, 0.0, 0.0, false, {}, {}, {}, {}},
      {"no_land", "v", 2, 1, 0.5, 0.0, 1e6, false, {}, {}, {}, {}},
  };
  pop.households = 4;
  s.choice.crra = 0.0;
  const Model m = build_model(s);
  const Households& hh = m.households;
  auto units = [&](int h) { return hh.units_main[h] + hh.units_aux[h]; };
  EXPECT_EQ(units(0), 4) << "ample resources: one safe unit and three risky";
  EXPECT_GT(units(0), units(1)) << "short of land: a smaller portfolio";
  EXPECT_EQ(hh.main[2], 0) << "no capital for risky's setup cost: safe alone";
  EXPECT_EQ(hh.aux[2], -1);
  EXPECT_EQ(hh.feasible_portfolios[2], 1);
  EXPECT_EQ(hh.main[3], -1) << "half a mu: no feasible portfolio";
  EXPECT_EQ(hh.feasible_portfolios[3], 0);
  EXPECT_TRUE(std::isnan(hh.certainty_equivalent[3]));
  EXPECT_EQ(hh.feasible_portfolios[0], 4);
}

TEST(Choice, IdenticalForOneAndTwoThreads) {
  Scenario s = safe_risky();
  s.choice.crra = 2.0;
  const Model one = build_model(s, 1);
  const Model two = build_model(s, 2);
  EXPECT_EQ(one.households.main, two.households.main);
  EXPECT_EQ(one.households.aux, two.households.aux);
  for (std::size_t h = 0; h < one.households.count(); ++h)
    EXPECT_EQ(std::memcmp(&one.households.certainty_equivalent[h],
                          &two.households.certainty_equivalent[h], sizeof(double)),
              0);
}

TEST(Choice, CertaintyEquivalentClosedForms) {
  ChoiceSpec c;
  c.crra = 2.0;
  c.floor = 1.0;
  // CRRA 2: harmonic mean.
  EXPECT_NEAR(certainty_equivalent(c, {1000.0, 4000.0}), 1.0 / ((1.0 / 1000 + 1.0 / 4000) / 2),
              1e-9);
  c.crra = 1.0;  // geometric mean
  EXPECT_NEAR(certainty_equivalent(c, {1000.0, 4000.0}), 2000.0, 1e-9);
  c.crra = 0.0;
  EXPECT_NEAR(certainty_equivalent(c, {1000.0, 4000.0}), 2500.0, 1e-9);
  c.floor = 2000.0;  // the floor lifts low incomes
  EXPECT_NEAR(certainty_equivalent(c, {1000.0, 4000.0}), 3000.0, 1e-9);
  c.utility = UtilityKind::cara;
  c.cara = 0.001;
  const double expected = -std::log((std::exp(-1.0) + std::exp(-4.0)) / 2) / 0.001;
  EXPECT_NEAR(certainty_equivalent(c, {1000.0, 4000.0}), expected, 1e-6);
  c.crra = 8.0;
  c.utility = UtilityKind::crra;
  c.floor = 500.0;
  const double ce = certainty_equivalent(c, {15000.0, 15000.0 * (1 + 1e-12)});
  EXPECT_NEAR(ce, 15000.0, 1e-6) << "no cancellation at high risk aversion";
}

}  // namespace
}  // namespace incsim
