// Registered-poor households differ (MODEL.md section 4, v2 `population.poor`; section 7, v2
// `wage.poor`): the poor block changes poor households only (same seed, every other household
// bit for bit), poor households' attributes follow the block's distributions (closed forms
// within 4 standard errors on 20,000 households), `laborers.min: 0` gives households without
// labour that run no industry needing labor days and earn no wage, and the laborers of poor
// households earn by wage.poor.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <vector>

#include "incsim/engine.h"
#include "incsim/model.h"
#include "incsim/simulate.h"
#include "support.h"

namespace incsim {
namespace {

// MODEL.md section 4's examples: the general distributions and the poor block.
Scenario population_scenario(int households, bool poor_block) {
  Scenario s = test::simple_scenario(households, 1, 1);
  Population& p = s.population;
  p.villages = 12;
  p.poor_share = 0.3;
  p.all.size_values = {1, 2, 3, 4, 5, 6};
  p.all.size_weights = {0.10, 0.22, 0.26, 0.22, 0.13, 0.07};
  p.all.laborer_share_of_size = 0.55;
  p.all.laborer_min = 1;
  p.all.farmland_mu = {3.0, 0.6};
  p.all.forest_mu = {8.0, 0.9};
  p.all.capital = {8000.0, 1.0};
  p.poor = p.all;
  if (poor_block) {
    p.poor_block = true;
    p.poor.size_weights = {0.20, 0.25, 0.22, 0.18, 0.10, 0.05};
    p.poor.laborer_share_of_size = 0.35;
    p.poor.laborer_min = 0;
    p.poor.farmland_mu = {2.0, 0.6};
    p.poor.forest_mu = {5.0, 0.9};
    p.poor.capital = {1500.0, 1.0};
  }
  return s;
}

bool same_bits(double a, double b) {
  return std::memcmp(&a, &b, sizeof(double)) == 0;
}

TEST(PoorBlock, ChangesPoorHouseholdsOnly) {
  const Model plain = build_population_model(population_scenario(5000, false));
  const Model block = build_population_model(population_scenario(5000, true));
  const Households& a = plain.households;
  const Households& b = block.households;
  ASSERT_EQ(a.count(), b.count());
  std::size_t poor = 0, other = 0, size_differs = 0, capital_differs = 0;
  for (std::size_t h = 0; h < a.count(); ++h) {
    ASSERT_EQ(a.poor[h], b.poor[h]) << "household " << h << ": poor status is drawn first";
    EXPECT_EQ(a.village[h], b.village[h]) << h;
    if (!a.poor[h]) {
      ++other;
      EXPECT_EQ(a.size[h], b.size[h]) << h;
      EXPECT_EQ(a.laborers[h], b.laborers[h]) << h;
      EXPECT_TRUE(same_bits(a.farmland_mu[h], b.farmland_mu[h])) << h;
      EXPECT_TRUE(same_bits(a.forest_mu[h], b.forest_mu[h])) << h;
      EXPECT_TRUE(same_bits(a.capital[h], b.capital[h])) << h;
      continue;
    }
    ++poor;
    size_differs += a.size[h] != b.size[h];
    capital_differs += !same_bits(a.capital[h], b.capital[h]);
    // Each attribute maps the same draw through the group's distribution: a lognormal of the
    // same cv scales by the ratio of the means.
    EXPECT_NEAR(b.farmland_mu[h], a.farmland_mu[h] * 2.0 / 3.0, 1e-12 * a.farmland_mu[h]) << h;
    EXPECT_NEAR(b.forest_mu[h], a.forest_mu[h] * 5.0 / 8.0, 1e-12 * a.forest_mu[h]) << h;
    EXPECT_NEAR(b.capital[h], a.capital[h] * 1500.0 / 8000.0, 1e-12 * a.capital[h]) << h;
    // The size is the inverse CDF of the same uniform: the poor block's weights put more mass
    // on small households, so no poor household grows.
    EXPECT_LE(b.size[h], a.size[h]) << h;
  }
  EXPECT_GT(poor, 1000u);
  EXPECT_GT(other, 3000u);
  EXPECT_EQ(capital_differs, poor);
  EXPECT_GT(size_differs, poor / 10);
}

// Mean and variance of the discrete size distribution.
std::pair<double, double> size_moments(const HouseholdDistributions& d) {
  double total = 0.0, m1 = 0.0, m2 = 0.0;
  for (double w : d.size_weights) total += w;
  for (std::size_t k = 0; k < d.size_values.size(); ++k) {
    m1 += d.size_weights[k] / total * d.size_values[k];
    m2 += d.size_weights[k] / total * d.size_values[k] * d.size_values[k];
  }
  return {m1, m2 - m1 * m1};
}

// E[laborers] and its variance under the rule min(size, max(min, round(size x share))).
std::pair<double, double> laborer_moments(const HouseholdDistributions& d) {
  double total = 0.0, m1 = 0.0, m2 = 0.0;
  for (double w : d.size_weights) total += w;
  for (std::size_t k = 0; k < d.size_values.size(); ++k) {
    const int size = static_cast<int>(d.size_values[k]);
    const int l = std::min(
        size, std::max(d.laborer_min,
                       static_cast<int>(std::floor(size * d.laborer_share_of_size + 0.5))));
    m1 += d.size_weights[k] / total * l;
    m2 += d.size_weights[k] / total * l * l;
  }
  return {m1, m2 - m1 * m1};
}

void expect_lognormal(const std::vector<double>& x, const LognormalSpec& spec, const char* what) {
  const test::SampleStats st = test::sample_stats(x);
  EXPECT_NEAR(st.mean, spec.mean, 4.0 * spec.mean * spec.cv / std::sqrt(st.n)) << what;
  std::vector<double> logs;
  for (double v : x) logs.push_back(std::log(v));
  const double s2 = std::log1p(spec.cv * spec.cv);
  const test::SampleStats ls = test::sample_stats(logs);
  EXPECT_NEAR(ls.mean, std::log(spec.mean) - s2 / 2, 4.0 * std::sqrt(s2 / ls.n)) << what;
  // Var of a normal sample variance: 2 s^4 / (n - 1).
  EXPECT_NEAR(ls.var, s2, 4.0 * std::sqrt(2.0 * s2 * s2 / (ls.n - 1))) << what;
  EXPECT_NEAR(st.var, spec.cv * spec.cv * spec.mean * spec.mean, 4.0 * st.se_var()) << what;
}

TEST(PoorBlock, EachGroupFollowsItsOwnDistributions) {
  const Scenario s = population_scenario(20000, true);
  const Model model = build_population_model(s);
  const Households& hh = model.households;
  for (int group = 0; group < 2; ++group) {
    const bool is_poor = group == 1;
    const HouseholdDistributions& d = is_poor ? s.population.poor : s.population.all;
    std::vector<double> size, laborers, farmland, forest, capital;
    for (std::size_t h = 0; h < hh.count(); ++h) {
      if ((hh.poor[h] != 0) != is_poor) continue;
      size.push_back(hh.size[h]);
      laborers.push_back(hh.laborers[h]);
      farmland.push_back(hh.farmland_mu[h]);
      forest.push_back(hh.forest_mu[h]);
      capital.push_back(hh.capital[h]);
      const int rule = std::min(
          hh.size[h],
          std::max(d.laborer_min,
                   static_cast<int>(std::floor(hh.size[h] * d.laborer_share_of_size + 0.5))));
      ASSERT_EQ(hh.laborers[h], rule) << "household " << h << " size " << hh.size[h];
    }
    const double n = static_cast<double>(size.size());
    const double q = is_poor ? 0.3 : 0.7;
    EXPECT_NEAR(n / 20000.0, q, 4.0 * std::sqrt(q * (1 - q) / 20000.0)) << "group " << group;
    const auto [size_mean, size_var] = size_moments(d);
    EXPECT_NEAR(test::sample_stats(size).mean, size_mean, 4.0 * std::sqrt(size_var / n))
        << "group " << group;
    const auto [lab_mean, lab_var] = laborer_moments(d);
    EXPECT_NEAR(test::sample_stats(laborers).mean, lab_mean, 4.0 * std::sqrt(lab_var / n))
        << "group " << group;
    expect_lognormal(farmland, d.farmland_mu, is_poor ? "poor farmland" : "other farmland");
    expect_lognormal(forest, d.forest_mu, is_poor ? "poor forest" : "other forest");
    expect_lognormal(capital, d.capital, is_poor ? "poor capital" : "other capital");
  }
  // The poor block's share 0.35 and min 0 leave size-1 poor households without labour.
  std::size_t without = 0;
  for (std::size_t h = 0; h < hh.count(); ++h) {
    if (hh.laborers[h] == 0) {
      EXPECT_TRUE(hh.poor[h]) << h;
      EXPECT_EQ(hh.size[h], 1) << h;
      ++without;
    }
  }
  EXPECT_GT(without, 500u);
}

TEST(PoorBlock, HouseholdsWithoutLaborersRunNoLaborIndustryAndEarnNoWage) {
  Scenario s = population_scenario(3000, true);
  s.years = 2;
  s.replications = 5;
  s.industries[0].needs_labor_days = 10.0;  // farmland, forest and capital are ample below
  s.population.all.farmland_mu = s.population.poor.farmland_mu = {10.0, 0.0};
  s.population.all.forest_mu = s.population.poor.forest_mu = {10.0, 0.0};
  s.population.all.capital = s.population.poor.capital = {1e6, 0.0};
  s.income.wage = {9000.0, 0.3, 0.8};
  s.income.transfers_per_capita = 100.0;
  const Model model = build_model(s);
  const Households& hh = model.households;
  std::size_t without = 0;
  for (std::size_t h = 0; h < hh.count(); ++h) {
    if (hh.laborers[h] == 0) {
      ++without;
      EXPECT_EQ(hh.main[h], -1) << "household " << h << " has no labor days";
    } else {
      EXPECT_EQ(hh.main[h], 0) << "household " << h << " laborers " << hh.laborers[h];
    }
  }
  ASSERT_GT(without, 50u);
  const Kernel kernel(model);
  Workspace ws(model);
  double with_wage = 0.0;  // household-years of households with laborers earning a wage
  for (std::int64_t r = 0; r < s.replications; ++r)
    kernel.run_replication(r, ws, [&](const YearOutcome& y) {
      for (std::size_t h = 0; h < hh.count(); ++h) {
        if (hh.laborers[h] == 0)
          ASSERT_EQ(y.income_of(h), 100.0) << "household " << h << ": transfers only";
        else
          with_wage += y.income_of(h) > 100.0 + 1000.0 / hh.size[h] + 1e-6;  // + farm revenue
      }
    });
  EXPECT_GT(with_wage, 0.5 * (hh.count() - without) * s.replications * s.years);

  // An industry that needs no labor days is open to them.
  Scenario no_labor = s;
  no_labor.industries[0].needs_labor_days = 0.0;
  const Model open = build_model(no_labor);
  for (std::size_t h = 0; h < open.households.count(); ++h)
    EXPECT_EQ(open.households.main[h], 0) << "household " << h;
}

// ---- wage.poor (MODEL.md section 7, v2) ---------------------------------------------------------

// Nobody farms; sizes 1..3, every member a laborer.
Scenario wage_scenario(int households, std::int64_t reps) {
  Scenario s = test::simple_scenario(households, 2, reps);
  s.choice.portfolios.clear();
  s.population.poor_share = 0.4;
  s.population.all.size_values = {1, 2, 3};
  s.population.all.size_weights = {1, 1, 1};
  s.population.all.laborer_share_of_size = 1.0;
  s.income.wage = {1000.0, 0.3, 0.6};
  s.income.wage_poor = {400.0, 0.5, 0.9};
  s.income.wage_poor_block = true;
  return s;
}

TEST(WagePoor, LaborersOfPoorHouseholdsEarnByThePoorTerms) {
  const Scenario s = wage_scenario(4000, 25);
  const Model model = build_model(s);
  const Households& hh = model.households;
  // Per household, per-capita income = the mean wage of its laborers; size-1 households give
  // single laborers' wages (for the variance).
  std::vector<double> mean[2], single[2];
  const Kernel kernel(model);
  Workspace ws(model);
  for (std::int64_t r = 0; r < s.replications; ++r)
    kernel.run_replication(r, ws, [&](const YearOutcome& y) {
      for (std::size_t h = 0; h < hh.count(); ++h) {
        const int g = hh.poor[h] ? 1 : 0;
        mean[g].push_back(y.income_of(h));
        if (hh.size[h] == 1) single[g].push_back(y.income_of(h));
      }
    });
  for (int g = 0; g < 2; ++g) {
    const WageSpec& w = g ? s.income.wage_poor : s.income.wage;
    const double m = w.per_laborer * w.employment_rate;
    const double var =
        w.employment_rate * w.per_laborer * w.per_laborer * (1 + w.cv * w.cv) - m * m;
    const test::SampleStats st = test::sample_stats(mean[g]);
    EXPECT_NEAR(st.mean, m, 4.0 * st.se_mean()) << (g ? "poor" : "other");
    const test::SampleStats one = test::sample_stats(single[g]);
    EXPECT_NEAR(one.mean, m, 4.0 * one.se_mean()) << (g ? "poor" : "other");
    EXPECT_NEAR(one.var, var, 4.0 * one.se_var()) << (g ? "poor" : "other");
    double zero = 0.0;
    for (double v : single[g]) zero += v == 0.0;
    const double n = static_cast<double>(single[g].size()), q = 1.0 - w.employment_rate;
    EXPECT_NEAR(zero / n, q, 4.0 * std::sqrt(q * (1 - q) / n)) << (g ? "poor" : "other");
  }
}

TEST(WagePoor, DeterministicPoorWageBesideARandomGeneralWageIsExact) {
  // The kernel draws wages for everyone (the general wage is random); a poor laborer's wage of
  // cv 0 and employment 1 must still be exactly per_laborer.
  Scenario s = wage_scenario(600, 4);
  s.income.wage_poor = {400.0, 0.0, 1.0};
  const Model model = build_model(s);
  ASSERT_TRUE(model.stochastic_wage());
  const Households& hh = model.households;
  const Kernel kernel(model);
  Workspace ws(model);
  std::size_t poor = 0;
  for (std::int64_t r = 0; r < s.replications; ++r)
    kernel.run_replication(r, ws, [&](const YearOutcome& y) {
      for (std::size_t h = 0; h < hh.count(); ++h) {
        if (!hh.poor[h]) continue;
        ++poor;
        ASSERT_EQ(y.income_of(h), 400.0) << "household " << h << " size " << hh.size[h];
      }
    });
  EXPECT_GT(poor, 100u);
}

TEST(WagePoor, DeterministicWagesByGroupAreFixedIncome) {
  Scenario s = wage_scenario(300, 2);
  s.income.wage = {1000.0, 0.0, 1.0};
  s.income.wage_poor = {400.0, 0.0, 1.0};
  const Model model = build_model(s);
  EXPECT_FALSE(model.stochastic_wage());
  const Households& hh = model.households;
  const Kernel kernel(model);
  Workspace ws(model);
  std::size_t poor = 0;
  kernel.run_replication(0, ws, [&](const YearOutcome& y) {
    for (std::size_t h = 0; h < hh.count(); ++h) {
      EXPECT_EQ(y.income_of(h), hh.poor[h] ? 400.0 : 1000.0) << "household " << h;
      poor += hh.poor[h];
    }
  });
  EXPECT_GT(poor, 0u);
  // Without the block every laborer earns the general wage.
  s.income.wage_poor_block = false;
  const Model general = build_model(s);
  const Kernel k2(general);
  Workspace ws2(general);
  k2.run_replication(0, ws2, [&](const YearOutcome& y) {
    for (std::size_t h = 0; h < hh.count(); ++h) EXPECT_EQ(y.income_of(h), 1000.0) << h;
  });
}

}  // namespace
}  // namespace incsim
