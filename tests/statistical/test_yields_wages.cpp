// Yields and wages (MODEL.md sections 3 and 7): lognormal yield factors with mean 1 and the
// stated cv, shared by all units of a household; harvests only in cycle years; employment
// and wage draws with their closed-form mean and variance. Tolerances: 4 standard errors.
#include <gtest/gtest.h>

#include <cmath>

#include "incsim/engine.h"
#include "incsim/model.h"
#include "incsim/simulate.h"
#include "kernel_support.h"
#include "support.h"

namespace incsim {
namespace {

std::vector<std::vector<double>> farm_net(const Scenario& s) {
  return test::farm_net_by_year(build_model(s));
}

TEST(Yields, LognormalFactorHasMeanOneAndStatedCv) {
  for (double cv : {0.1, 0.3, 0.8}) {
    Scenario s = test::simple_scenario(500, 2, 200);
    s.industries[0].products[0].yield_cv = cv;
    const auto net = farm_net(s);
    for (int t = 0; t < s.years; ++t) {
      std::vector<double> factor;
      for (double v : net[t]) factor.push_back(v / (100.0 * 10.0));
      const test::SampleStats st = test::sample_stats(factor);
      EXPECT_NEAR(st.mean, 1.0, 4.0 * st.se_mean()) << "cv " << cv;
      EXPECT_NEAR(st.var, cv * cv, 4.0 * st.se_var()) << "cv " << cv;
      // log factor ~ N(-s^2/2, s^2)
      std::vector<double> logs;
      for (double f : factor) logs.push_back(std::log(f));
      const double s2 = std::log1p(cv * cv);
      const test::SampleStats ls = test::sample_stats(logs);
      EXPECT_NEAR(ls.mean, -s2 / 2, 4.0 * ls.se_mean());
      EXPECT_NEAR(ls.var, s2, 4.0 * ls.se_var());
    }
  }
}

TEST(Yields, ProductsAndYearsAreIndependent) {
  Scenario s = test::simple_scenario(400, 2, 100);
  s.markets.push_back({"straw", "kg", 1.0, 0.0, 0.0, 0.0});
  s.correlation = {};
  s.industries[0].price_floor.resize(2);
  s.industries[0].products = {{0, 100.0, 0.3}};
  // Two runs with a single product each give the factors of product 0 and (as product 0 of
  // an otherwise identical industry with a second product) the pair.
  Scenario pair = s;
  pair.industries[0].products = {{0, 100.0, 0.3}, {1, 1000.0, 0.3}};
  const auto one = farm_net(s);
  const auto both = farm_net(pair);
  std::vector<double> f0, f1, y1, y2;
  for (std::size_t i = 0; i < one[0].size(); ++i) {
    f0.push_back(one[0][i] / 1000.0);
    f1.push_back((both[0][i] - one[0][i]) / 1000.0);  // product 1 revenue / expected
    y1.push_back(one[0][i]);
    y2.push_back(one[1][i]);
  }
  const double bound = 4.0 / std::sqrt(double(f0.size()));
  EXPECT_NEAR(test::correlation(f0, f1), 0.0, bound);
  EXPECT_NEAR(test::correlation(y1, y2), 0.0, bound);
  const test::SampleStats st = test::sample_stats(f1);
  EXPECT_NEAR(st.mean, 1.0, 4.0 * st.se_mean());
}

TEST(Yields, AllUnitsOfAHouseholdShareOneDraw) {
  Scenario s = test::simple_scenario(50, 2, 20);
  s.industries[0].products[0].yield_cv = 0.4;
  Scenario three = s;
  three.industries[0].max_units = 3;
  const auto a = farm_net(s);
  const auto b = farm_net(three);
  for (std::size_t i = 0; i < a[0].size(); ++i) ASSERT_NEAR(b[0][i], 3.0 * a[0][i], 1e-9 * b[0][i]);
}

TEST(Yields, MultiYearCropHarvestsOnlyAtCycleEnds) {
  Scenario s = test::simple_scenario(3, 7, 2);
  s.industries[0].cycle_years = 3;
  s.industries[0].operating_cost = 50.0;
  s.industries[0].setup_cost = 200.0;
  s.industries[0].setup_subsidy = 0.25;
  const auto net = farm_net(s);
  for (int t = 1; t <= 7; ++t) {
    const double revenue = (t % 3 == 0) ? 100.0 * 10.0 : 0.0;
    const double cost = 50.0 + (t == 1 ? 200.0 * 0.75 : 0.0);
    for (double v : net[t - 1]) EXPECT_DOUBLE_EQ(v, revenue - cost) << "year " << t;
  }
}

TEST(Wages, EmploymentAndLognormalWageMatchClosedForm) {
  Scenario s = test::simple_scenario(2000, 2, 50);
  s.choice.portfolios.clear();  // nobody farms
  s.population.all.size_values = {3};
  s.population.all.laborer_share_of_size = 1.0;  // 3 laborers each
  s.income.wage = {1000.0, 0.3, 0.6};
  const Model model = build_model(s);
  const Kernel kernel(model);
  Workspace ws(model);
  std::vector<double> household_wage;
  for (std::int64_t r = 0; r < s.replications; ++r)
    kernel.run_replication(r, ws, [&](const YearOutcome& y) {
      for (double v : y.income_per_capita) household_wage.push_back(3.0 * v);
    });
  const double w = 1000.0, p = 0.6, cv = 0.3;
  const double mean1 = p * w;
  const double var1 = p * w * w * (1 + cv * cv) - mean1 * mean1;
  const test::SampleStats st = test::sample_stats(household_wage);
  EXPECT_NEAR(st.mean, 3 * mean1, 4.0 * st.se_mean());
  EXPECT_NEAR(st.var, 3 * var1, 4.0 * st.se_var());
  // P(no laborer employed) = 0.4^3.
  double zero = 0;
  for (double v : household_wage) zero += (v == 0.0);
  const double n = double(household_wage.size()), q = std::pow(0.4, 3);
  EXPECT_NEAR(zero / n, q, 4.0 * std::sqrt(q * (1 - q) / n));
}

TEST(Wages, DeterministicWageNeedsNoDraws) {
  Scenario s = test::simple_scenario(10, 2, 3);
  s.choice.portfolios.clear();
  s.population.all.size_values = {2};
  s.income.wage = {1000.0, 0.0, 1.0};
  s.income.transfers_per_capita = 100.0;
  const Model model = build_model(s);
  EXPECT_FALSE(model.stochastic_wage());
  const Kernel kernel(model);
  Workspace ws(model);
  kernel.run_replication(0, ws, [&](const YearOutcome& y) {
    for (double v : y.income_per_capita) EXPECT_DOUBLE_EQ(v, (1000.0 + 200.0) / 2.0);
  });
}

}  // namespace
}  // namespace incsim

namespace incsim {
namespace {

// A deterministic product before a random one must not skip the random one's draws.
TEST(Yields, RandomProductAfterADeterministicOne) {
  Scenario s = test::simple_scenario(400, 1, 100);
  s.markets.push_back({"straw", "kg", 1.0, 0.0, 0.0, 0.0});
  s.correlation = {};
  s.industries[0].price_floor.resize(2);
  s.industries[0].products = {{0, 100.0, 0.0}, {1, 1000.0, 0.5}};
  const auto net = farm_net(s);
  std::vector<double> factor;
  for (double v : net[0]) factor.push_back((v - 1000.0) / 1000.0);
  const test::SampleStats st = test::sample_stats(factor);
  EXPECT_NEAR(st.mean, 1.0, 4.0 * st.se_mean());
  EXPECT_NEAR(st.var, 0.25, 4.0 * st.se_var());
}

}  // namespace
}  // namespace incsim
