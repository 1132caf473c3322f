// Hazards (MODEL.md section 5) against closed forms, within 4 Monte Carlo standard errors with
// fixed seeds: occurrence frequencies by scope, independence across villages and sharing at
// county scope, the harvest multiplier of a multi-year crop, Beta severities, price shocks.
#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <vector>

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

using test::make_hazard;

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

// Batched severities (shocks.h sample_severity_batch, used for household-scope hazards).
std::vector<double> batched_severities(const Severity& sev, int k, rng::Key key,
                                       const std::vector<std::uint32_t>& units, std::uint32_t r,
                                       int t) {
  std::vector<double> out(units.size(), -1.0);
  sample_severity_batch(sev, k, key, units.data(), units.size(), r, t, out.data());
  return out;
}

std::uint64_t bits(double x) {
  return std::bit_cast<std::uint64_t>(x);
}

// Position independence: a unit's severity is bit-identical sampled alone and anywhere in
// batches of 3, 31, 33 and 100 units (across the sampler's chunk and group boundaries) with
// any other units, including rejected attempts and the block refills they cause.
TEST(Hazards, BatchedSeverityDoesNotDependOnTheBatch) {
  const rng::Key key = rng::make_key(11, rng::Stream::replication);
  for (auto [a, b] :
       {std::pair{2.0, 5.0}, std::pair{0.5, 0.7}, std::pair{1.0, 4.0}, std::pair{0.3, 2.0}}) {
    const Severity sev{false, 0.0, a, b};
    constexpr std::uint32_t kUnits = 400;
    std::vector<double> alone(kUnits);
    for (std::uint32_t u = 0; u < kUnits; ++u) {
      alone[u] = batched_severities(sev, 1, key, {u}, 2, 3)[0];
      ASSERT_TRUE(alone[u] >= 0.0 && alone[u] <= 1.0) << u;
    }
    for (std::size_t size : {3, 31, 33, 100}) {
      for (std::uint32_t shift = 0; shift < kUnits; shift += 17) {
        // Units in a scrambled order (a stride coprime to kUnits), so each unit meets other
        // neighbours and positions in every batch; the last batch repeats one unit.
        std::vector<std::uint32_t> units(size);
        for (std::size_t i = 0; i < size; ++i)
          units[i] = static_cast<std::uint32_t>((shift + 7 * i * (shift + 1)) % kUnits);
        if (shift + 17 >= kUnits) units[size / 2] = units[0];
        const std::vector<double> got = batched_severities(sev, 1, key, units, 2, 3);
        for (std::size_t i = 0; i < size; ++i)
          ASSERT_EQ(bits(got[i]), bits(alone[units[i]]))
              << "unit " << units[i] << " at position " << i << " of " << size << " (a " << a
              << ", b " << b << ")";
      }
    }
  }
}

TEST(Hazards, BatchedBetaSeverityHasBetaMoments) {
  for (auto [a, b] : {std::pair{2.0, 5.0}, std::pair{0.5, 0.7}, std::pair{8.0, 2.0},
                      std::pair{1.0, 4.0}, std::pair{0.3, 3.0}, std::pair{3.0, 0.4}}) {
    const Severity sev{false, 0.0, a, b};
    const rng::Key key = rng::make_key(5, rng::Stream::replication);
    std::vector<double> x;
    std::vector<std::uint32_t> units;
    for (std::uint32_t u = 0; u < 40000; ++u) {
      units.push_back(u);
      if (units.size() == 37 || u + 1 == 40000) {  // batches of an odd size
        for (double v : batched_severities(sev, 2, key, units, 1, 4)) x.push_back(v);
        units.clear();
      }
    }
    ASSERT_EQ(x.size(), 40000u);
    const double mean = a / (a + b);
    const double var = a * b / ((a + b) * (a + b) * (a + b + 1));
    const test::SampleStats st = test::sample_stats(x);
    EXPECT_NEAR(st.mean, mean, 4 * st.se_mean()) << a << "," << b;
    EXPECT_NEAR(st.var, var, 4 * st.se_var()) << a << "," << b;
    for (double v : x) ASSERT_TRUE(v >= 0.0 && v <= 1.0);
  }
}

// The batched sampler takes the scalar one's words in the scalar one's order and does its
// arithmetic operation for operation; only log, cos and pow come from vector kernels (SLEEF,
// libmvec) instead of libm (a few ulp apart), so nearly every severity agrees to ~1e-15 (about
// 60-80% bit for bit). Not 100%, for two reasons: (a) when v = 1 + c z is close to 0 the few-ulp
// difference of z is amplified in v^3 (relative error ~ 3 c |dz| / v), beyond 1e-12 for v below
// ~1e-4, about one attempt in 10^5 to 10^6; (b) when the acceptance test ln u < 0.5 z^2 + d - d v +
// d ln v is within those few ulp of a tie, the two samplers can decide differently, and from then
// on they use different words and give unrelated variates (of order 1e-15 per attempt). A wrong
// word address or order, on the other hand, fails this at once.
TEST(Hazards, BatchedSeverityAgreesWithTheScalarSampler) {
  const rng::Key key = rng::make_key(17, rng::Stream::replication);
  for (auto [a, b] : {std::pair{2.0, 5.0}, std::pair{0.5, 0.7}, std::pair{1.0, 4.0}}) {
    const Severity sev{false, 0.0, a, b};
    constexpr std::uint32_t kDraws = 100000;
    std::vector<std::uint32_t> units(kDraws);
    for (std::uint32_t u = 0; u < kDraws; ++u) units[u] = 3 * u + 1;
    const std::vector<double> got = batched_severities(sev, 3, key, units, 7, 2);
    std::size_t agree = 0;
    for (std::uint32_t i = 0; i < kDraws; ++i) {
      const double want = sample_severity(sev, 3, key, units[i], 7, 2);
      agree += std::abs(got[i] - want) <= 1e-12 * want;
    }
    EXPECT_GE(agree, kDraws - kDraws / 1000) << a << "," << b;
  }
  const Severity fixed{true, 0.3, 0.0, 0.0};
  const std::vector<std::uint32_t> units = {4, 9, 1};
  for (double v : batched_severities(fixed, 0, key, units, 1, 1)) EXPECT_EQ(bits(v), bits(0.3));
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
