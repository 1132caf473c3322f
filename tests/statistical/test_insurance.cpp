// Insurance (MODEL.md section 6) against closed forms, within 4 Monte Carlo standard errors
// with fixed seeds: the income-index payout equals the lognormal put formula (years 1 and 3 of
// a persistent market), `fair` rates reproduce E[payout]/G, the agricultural indemnity equals
// p SI E[max(0, min(1, aS) - d)] for Beta S (numerical integral), and the poverty guard and the
// subsidy split on a household computed by hand.
#include <gtest/gtest.h>

#include <cmath>

#include "incsim/engine.h"
#include "incsim/model.h"
#include "incsim/simulate.h"
#include "support.h"

namespace incsim {
namespace {

double normal_cdf(double x) {
  return 0.5 * std::erfc(-x / std::sqrt(2.0));
}

// E[max(0, kappa - X)] and E[max(0, kappa - X)^2] for X = exp(sqrt(v) Z - v/2).
std::pair<double, double> put_moments(double kappa, double v) {
  const double d1 = (-std::log(kappa) + v / 2) / std::sqrt(v);
  const double d2 = d1 - std::sqrt(v);
  const double m1 = kappa * normal_cdf(-d2) - normal_cdf(-d1);
  const double m2 = kappa * kappa * normal_cdf(-d2) - 2 * kappa * normal_cdf(-d1) +
                    std::exp(v) * normal_cdf(-d1 - std::sqrt(v));
  return {m1, m2};
}

// One household running one unit of a 125 kg crop sold on a persistent market, enrolled in
// income index insurance with coverage kappa.
Scenario index_scenario(std::int64_t reps) {
  Scenario s = test::simple_scenario(1, 3, reps);
  s.markets[0] = {"crayfish", "kg", 36.0, 0.03, 0.25, 0.6};
  s.industries[0].products = {{0, 125.0, 0.2}};
  test::cover_index(s, 0.8, 0.05);
  return s;
}

double variance_of_log_price(const Market& m, int t) {
  double v = 0.0;
  for (int j = 0; j < t; ++j) v += m.volatility * m.volatility * std::pow(m.persistence, 2 * j);
  return v;
}

TEST(IncomeIndex, ExpectedPayoutEqualsLognormalPutInYears1And3) {
  const Scenario s = index_scenario(60000);
  const Model model = build_model(s);
  const Kernel kernel(model);
  Workspace ws(model);
  std::vector<std::vector<double>> payout(3);
  for (std::int64_t r = 0; r < s.replications; ++r)
    kernel.run_replication(r, ws, [&](const YearOutcome& y) {
      payout[y.year - 1].push_back(y.insurance[kIncomeIndex].payout);
    });
  const Market& m = s.markets[0];
  for (int t : {1, 3}) {
    const double p0 = m.price * std::pow(1 + m.trend, t - 1);
    const double v = variance_of_log_price(m, t);
    const double expected = 125.0 * p0 * put_moments(0.8, v).first;
    const test::SampleStats st = test::sample_stats(payout[t - 1]);
    EXPECT_NEAR(st.mean, expected, 4 * st.se_mean()) << "year " << t << " v " << v;
  }
}

TEST(IncomeIndex, FairRateReproducesClosedFormWithLoading) {
  Scenario s = index_scenario(10);
  s.insurance.income_index.fair = true;
  s.insurance.income_index.loading = 0.1;
  s.insurance.income_index.fair_replications = 40000;
  const Model model = build_model(s);
  const Market& m = s.markets[0];
  for (int t = 1; t <= 3; ++t) {
    const double v = variance_of_log_price(m, t);
    const auto [m1, m2] = put_moments(0.8, v);
    const double rate = m1 / 0.8;  // E[payout] / G
    const double se = std::sqrt((m2 - m1 * m1) / 40000.0) / 0.8;
    EXPECT_NEAR(model.insurance.rate_used[t - 1], rate * 1.1, 4 * se * 1.1) << "year " << t;
  }
  // The premium charged is n * G * rate: G = 0.8 * 125 * Pbar.
  const double g1 = 0.8 * 125.0 * 36.0;
  EXPECT_NEAR(model.insurance.plan[kIncomeIndex].premium[0], g1 * model.insurance.rate_used[0],
              1e-9);
}

// p SI E[max(0, min(1, a S) - d)] with S ~ Beta(alpha, beta), by Simpson's rule.
double expected_indemnity(double p, double si, double a, double d, double alpha, double beta) {
  const int n = 200000;
  const double log_b = std::lgamma(alpha) + std::lgamma(beta) - std::lgamma(alpha + beta);
  auto f = [&](double x) {
    if (x <= 0.0 || x >= 1.0) return 0.0;
    const double pdf = std::exp((alpha - 1) * std::log(x) + (beta - 1) * std::log1p(-x) - log_b);
    return std::max(0.0, std::min(1.0, a * x) - d) * pdf;
  };
  double sum = f(0.0) + f(1.0);
  for (int i = 1; i < n; ++i) sum += f(double(i) / n) * (i % 2 ? 4.0 : 2.0);
  return p * si * sum / (3.0 * n);
}

TEST(Agricultural, ExpectedIndemnityEqualsIntegralOverBetaSeverity) {
  Scenario s = test::simple_scenario(2000, 2, 60);
  s.hazards.push_back(
      test::make_hazard(s, HazardScope::household, 0.3, {false, 0.0, 2.0, 5.0}, 1.5));
  test::cover_agricultural(s, 1000.0, 0.1, 0.06, {1.0, 0.6});
  const Model model = build_model(s);
  const Kernel kernel(model);
  Workspace ws(model);
  std::vector<double> per_household;  // per replication-year: mean indemnity per household
  for (std::int64_t r = 0; r < s.replications; ++r)
    kernel.run_replication(r, ws, [&](const YearOutcome& y) {
      per_household.push_back(y.insurance[kAgricultural].payout / 2000.0);
      EXPECT_DOUBLE_EQ(y.insurance[kAgricultural].premium, 2000 * 1000.0 * 0.06);
      EXPECT_DOUBLE_EQ(y.insurance[kAgricultural].subsidy, 2000 * 1000.0 * 0.06 * 0.6);
    });
  const double expected = expected_indemnity(0.3, 1000.0, 1.5, 0.1, 2.0, 5.0);
  const test::SampleStats st = test::sample_stats(per_household);
  EXPECT_NEAR(st.mean, expected, 4 * st.se_mean()) << "closed form " << expected;
}

// Size 2, one laborer earning 1000, one unit of a crop worth 100 hit every year by a county
// event of severity 0.4; agricultural SI 500, rate 0.1, deductible 0.1, subsidy 0.5;
// poverty guard threshold 1.5 x line 1000, premium 40 per capita, subsidy 0.25 (other).
Scenario guard_scenario() {
  Scenario s = test::simple_scenario(1, 2, 3);
  s.population.all.size_values = {2};
  s.population.all.laborer_share_of_size = 0.5;
  s.industries[0].products = {{0, 10.0, 0.0}};
  s.income.wage = {1000.0, 0.0, 1.0};
  s.poverty.line = 1000.0;
  s.hazards.push_back(test::make_hazard(s, HazardScope::county, 1.0, {true, 0.4, 1, 1}, 1.0));
  test::cover_agricultural(s, 500.0, 0.1, 0.1, {0.5, 0.5});
  PovertyGuard& pg = s.insurance.poverty_guard;
  pg.enabled = true;
  pg.threshold = 1.5;
  pg.premium_per_capita = 40.0;
  pg.subsidy = {1.0, 0.25};
  return s;
}

TEST(PovertyGuard, HandComputedHouseholdAndSubsidySplit) {
  const Scenario s = guard_scenario();
  const Model model = build_model(s);
  ASSERT_EQ(model.households.laborers[0], 1);
  ASSERT_FALSE(model.households.poor[0]);
  const Kernel kernel(model);
  Workspace ws(model);
  kernel.run_replication(0, ws, [&](const YearOutcome& y) {
    // wage 1000 + revenue 100 x 0.6 + indemnity 500 x (0.4 - 0.1) - agri share 25 - guard
    // share 0.75 x 80 = 1125; y_pre = 562.5; guard pays 2 x (1500 - 562.5) = 1875.
    EXPECT_DOUBLE_EQ(y.insurance[kAgricultural].payout, 150.0);
    EXPECT_DOUBLE_EQ(y.insurance[kAgricultural].premium, 50.0);
    EXPECT_DOUBLE_EQ(y.insurance[kAgricultural].subsidy, 25.0);
    EXPECT_DOUBLE_EQ(y.insurance[kAgricultural].paid, 1.0);
    EXPECT_DOUBLE_EQ(y.insurance[kPovertyGuard].payout, 1875.0);
    EXPECT_DOUBLE_EQ(y.insurance[kPovertyGuard].premium, 80.0);
    EXPECT_DOUBLE_EQ(y.insurance[kPovertyGuard].subsidy, 20.0);
    EXPECT_DOUBLE_EQ(y.income_per_capita[0], 1500.0);
    EXPECT_DOUBLE_EQ(y.government_cost, 25.0 + 20.0);
  });
}

TEST(PovertyGuard, CapAndDibaoAppliedAfterTheGuard) {
  Scenario s = guard_scenario();
  s.insurance.poverty_guard.cap = 1000.0;
  s.population.poor_share = 1.0;  // poor: guard subsidy 1.0, dibao eligible
  s.income.dibao = {true, 1200.0, DibaoEligible::poor};
  const Model model = build_model(s);
  const Kernel kernel(model);
  Workspace ws(model);
  kernel.run_replication(0, ws, [&](const YearOutcome& y) {
    // Poor: guard premium fully subsidised, so pre-guard total = 1000 + 60 + 150 - 25 = 1185;
    // guard pays min(1000, 2 x (1500 - 592.5)) = 1000 -> y = 1092.5 < 1200: dibao 2 x 107.5.
    EXPECT_DOUBLE_EQ(y.insurance[kPovertyGuard].payout, 1000.0);
    EXPECT_DOUBLE_EQ(y.dibao, 215.0);
    EXPECT_DOUBLE_EQ(y.income_per_capita[0], 1200.0);
    EXPECT_DOUBLE_EQ(y.government_cost, 25.0 + 80.0 + 215.0);
  });
}

TEST(Insurance, RunResultsCarryLossRatioAndPaidShare) {
  Scenario s = guard_scenario();
  s.insurance.poverty_guard.enabled = false;
  const Model model = build_model(s);
  const RunResults res = run_simulation(model, {1, nullptr});
  ASSERT_EQ(res.insurance.size(), 1u);
  const InsuranceResult& ag = res.insurance[0];
  EXPECT_EQ(ag.name, "agricultural");
  EXPECT_DOUBLE_EQ(ag.loss_ratio.mean[0], 150.0 / 50.0);
  EXPECT_DOUBLE_EQ(ag.paid_share.mean[1], 1.0);
  EXPECT_DOUBLE_EQ(ag.insurer_result.mean[0], 50.0 - 150.0);
}

TEST(Insurance, NoPolicyMeansNoFlows) {
  const Scenario s = test::simple_scenario(50, 2, 4);
  const Model model = build_model(s);
  const RunResults res = run_simulation(model, {1, nullptr});
  EXPECT_TRUE(res.insurance.empty());
  for (std::size_t h = 0; h < model.households.count(); ++h) {
    EXPECT_FALSE(model.households.enrolled[kAgricultural][h]);
    EXPECT_FALSE(model.households.enrolled[kIncomeIndex][h]);
  }
}

TEST(Insurance, EnrollmentDrawnPerGroupOnce) {
  Scenario s = test::simple_scenario(20000, 1, 1);
  s.population.poor_share = 0.4;
  s.insurance.income_index = index_scenario(1).insurance.income_index;
  s.insurance.income_index.enrollment = {1.0, 0.2};
  const Model model = build_model(s);
  double poor = 0, other = 0, other_enrolled = 0;
  for (std::size_t h = 0; h < model.households.count(); ++h) {
    if (model.households.poor[h]) {
      poor += 1;
      EXPECT_TRUE(model.households.enrolled[kIncomeIndex][h]);
    } else {
      other += 1;
      other_enrolled += model.households.enrolled[kIncomeIndex][h];
    }
  }
  EXPECT_NEAR(other_enrolled / other, 0.2, 4 * std::sqrt(0.2 * 0.8 / other));
  EXPECT_GT(poor, 0);
}

}  // namespace
}  // namespace incsim
