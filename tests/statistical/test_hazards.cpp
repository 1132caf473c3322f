// Hazards (MODEL.md section 5) against closed forms, within 4 Monte Carlo standard errors with
// fixed seeds: occurrence frequencies by scope, independence across villages and sharing at
// county scope, the harvest multiplier of a multi-year crop, Beta severities, price shocks.
#include <gtest/gtest.h>

#include <cmath>

#include "incsim/engine.h"
#include "incsim/model.h"
#include "incsim/shocks.h"
#include "incsim/simulate.h"
#include "kernel_support.h"
#include "support.h"

namespace incsim {
namespace {

// One product worth 1000 per unit and harvest, no other income.
Scenario farm_scenario(int households, int years, std::int64_t reps) {
  Scenario s = test::simple_scenario(households, years, reps);
  return s;
}

Hazard make_hazard(const Scenario& s, HazardScope scope, double p, Severity sev, double affects) {
  Hazard h;
  h.name = std::string{"hazard"};
  h.scope = scope;
  h.probability = p;
  h.severity = sev;
  h.affects.assign(s.industries.size(), affects);
  h.price_shock.assign(s.markets.size(), 1.0);
  return h;
}

TEST(Hazards, VillageEventsAreIndependentAcrossVillagesCountyEventsShared) {
  for (HazardScope scope : {HazardScope::village, HazardScope::county, HazardScope::household}) {
    Scenario s = farm_scenario(4, 1, 40000);
    s.population.villages = 2;  // households 0, 1 in village 0; 2, 3 in village 1
    const double p = 0.3;
    s.hazards.push_back(make_hazard(s, scope, p, {true, 1.0}, 1.0));
    const Model model = build_model(s);
    const auto net = test::farm_net_by_year(model)[0];
    std::vector<double> a, b, same;  // households 0 and 2 (different villages), 0 and 1 (same)
    for (std::size_t r = 0; r < net.size(); r += 4) {
      a.push_back(net[r] == 0.0);
      b.push_back(net[r + 2] == 0.0);
      same.push_back(net[r + 1] == 0.0);
    }
    const double n = double(a.size());
    const test::SampleStats sa = test::sample_stats(a);
    EXPECT_NEAR(sa.mean, p, 4 * std::sqrt(p * (1 - p) / n));
    double cov = 0.0, cov_same = 0.0;
    for (std::size_t i = 0; i < a.size(); ++i) {
      cov += (a[i] - p) * (b[i] - p);
      cov_same += (a[i] - p) * (same[i] - p);
    }
    cov /= n;
    cov_same /= n;
    // Under independence the product of centred indicators has variance (p(1-p))^2.
    const double se = p * (1 - p) / std::sqrt(n);
    const double shared = p * (1 - p);
    const char* name = scope == HazardScope::village  ? "village"
                       : scope == HazardScope::county ? "county"
                                                      : "household";
    if (scope == HazardScope::county) {
      EXPECT_EQ(a, b) << "county events are shared by every household";
      EXPECT_NEAR(cov, shared, 4 * se) << name;
    } else {
      EXPECT_NEAR(cov, 0.0, 4 * se) << name << ": independent across villages";
    }
    if (scope == HazardScope::household)
      EXPECT_NEAR(cov_same, 0.0, 4 * se) << "household events are independent within a village";
    else
      EXPECT_EQ(a, same) << name << " events are shared within a village";
  }
}

TEST(Hazards, ThreeYearCropHarvestMultiplierCombinesItsThreeYears) {
  Scenario s = farm_scenario(2000, 3, 20);
  s.industries[0].cycle_years = 3;
  const double p = 0.4, sev = 0.5;
  s.hazards.push_back(make_hazard(s, HazardScope::household, p, {true, sev}, 1.0));
  const Model model = build_model(s);
  const auto net = test::farm_net_by_year(model);
  // Harvest in year 3 only: revenue 1000 * prod_{tau=1..3} (1 - L_tau), L_tau in {0, 0.5}.
  std::vector<double> count(4, 0.0);
  for (double v : net[0]) EXPECT_EQ(v, 0.0);
  for (double v : net[2]) {
    const double k = std::log(v / 1000.0) / std::log(1 - sev);
    ASSERT_NEAR(k, std::round(k), 1e-9) << v;
    count[static_cast<int>(std::round(k))] += 1;
  }
  const double n = double(net[2].size());
  const double binom[4] = {std::pow(1 - p, 3), 3 * p * std::pow(1 - p, 2), 3 * p * p * (1 - p),
                           p * p * p};
  for (int k = 0; k < 4; ++k)
    EXPECT_NEAR(count[k] / n, binom[k], 4 * std::sqrt(binom[k] * (1 - binom[k]) / n)) << k;
  const test::SampleStats st = test::sample_stats(net[2]);
  EXPECT_NEAR(st.mean, 1000.0 * std::pow(1 - p * sev, 3), 4 * st.se_mean());
}

TEST(Hazards, CombinedYearLossOfTwoHazards) {
  // L = 1 - (1 - l1)(1 - l2) with l = min(1, affects * S): 0.3 and min(1, 2 * 0.6) = 1.
  Scenario s = farm_scenario(1, 1, 1);
  s.hazards.push_back(make_hazard(s, HazardScope::county, 1.0, {true, 0.3}, 1.0));
  const Model one = build_model(s);
  EXPECT_DOUBLE_EQ(test::farm_net_by_year(one)[0][0], 1000.0 * 0.7);
  s.hazards.push_back(make_hazard(s, HazardScope::household, 1.0, {true, 0.2}, 2.0));
  const Model two = build_model(s);
  EXPECT_NEAR(test::farm_net_by_year(two)[0][0], 1000.0 * 0.7 * 0.6, 1e-9);
  s.hazards.back().severity.value = 0.6;
  const Model capped = build_model(s);
  EXPECT_DOUBLE_EQ(test::farm_net_by_year(capped)[0][0], 0.0);
}

TEST(Hazards, BetaSeverityHasBetaMoments) {
  for (auto [a, b] : {std::pair{2.0, 5.0}, std::pair{0.5, 0.7}, std::pair{8.0, 2.0}}) {
    const Severity sev{false, 0.0, a, b};
    const rng::Key key = rng::make_key(3, rng::Stream::replication);
    std::vector<double> x;
    for (std::uint32_t u = 0; u < 40000; ++u) x.push_back(sample_severity(sev, 0, key, u, 1, 1));
    const double mean = a / (a + b);
    const double var = a * b / ((a + b) * (a + b) * (a + b + 1));
    const test::SampleStats st = test::sample_stats(x);
    EXPECT_NEAR(st.mean, mean, 4 * st.se_mean()) << a << "," << b;
    EXPECT_NEAR(st.var, var, 4 * st.se_var()) << a << "," << b;
    for (double v : x) ASSERT_TRUE(v >= 0.0 && v <= 1.0);
  }
}

TEST(Hazards, CountyPriceShockMultipliesThePriceInTheEventYear) {
  Scenario s = farm_scenario(1, 2, 40000);
  s.markets[0].volatility = 0.2;
  Hazard flu = make_hazard(s, HazardScope::county, 0.25, {true, 0.0}, 0.0);
  flu.price_shock[0] = 0.7;
  s.hazards.push_back(flu);
  const Model model = build_model(s);
  const Kernel kernel(model);
  Workspace ws(model);
  std::vector<double> p1;
  for (std::int64_t r = 0; r < s.replications; ++r)
    kernel.run_replication(r, ws, [&](const YearOutcome& y) {
      if (y.year == 1) p1.push_back(y.prices[0]);
    });
  const test::SampleStats st = test::sample_stats(p1);
  EXPECT_NEAR(st.mean, 10.0 * (0.75 + 0.25 * 0.7), 4 * st.se_mean());
}

}  // namespace
}  // namespace incsim
