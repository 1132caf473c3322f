// Basis risk and protection value (MODEL.md section 9, v2) against closed forms and hand
// computations, within 4 Monte Carlo standard errors with fixed seeds:
// - the income index with no yield risk, no hazards, no floors and rho = coverage pays exactly
//   the shortfall (missed = false_alarm = 0, covered = 1, bit for bit);
// - with lognormal yield risk against a lognormal price index, missed, false_alarm and covered
//   equal their integrals (one-dimensional quadrature over the price, the yield in closed form);
// - the agricultural product on one hazard of fixed severity (annual and two-year crops) gives
//   the hand-computed ratios;
// - double is never below either product's covered (nor above either's missed) when every
//   household holds both;
// - the CE gain of a fair unsubsidised index contract is 0 for a risk-neutral household and
//   positive for a risk-averse one it hedges; a fully subsidised contract gains a risk-neutral
//   household its discounted expected payout.
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

double normal_pdf(double x) {
  return std::exp(-0.5 * x * x) / std::sqrt(2.0 * M_PI);
}

// E[max(0, kappa - X)] for X = exp(sqrt(v) Z - v/2) (0 when kappa <= 0).
double put(double kappa, double v) {
  if (kappa <= 0.0) return 0.0;
  if (v == 0.0) return std::max(0.0, kappa - 1.0);
  const double d1 = (-std::log(kappa) + v / 2) / std::sqrt(v);
  const double d2 = d1 - std::sqrt(v);
  return kappa * normal_cdf(-d2) - normal_cdf(-d1);
}

// Simpson's rule for f over [-10, 10] in standard normal units (the integrand carries phi).
template <typename F>
double simpson(F f, int n = 20000) {
  const double lo = -10.0, hi = 10.0, h = (hi - lo) / n;
  double sum = f(lo) + f(hi);
  for (int i = 1; i < n; ++i) sum += f(lo + i * h) * (i % 2 ? 4.0 : 2.0);
  return sum * h / 3.0;
}

const BasisRiskResult& variant(const RunResults& res, const std::string& name) {
  for (const BasisRiskResult& b : res.basis_risk)
    if (b.name == name) return b;
  ADD_FAILURE() << "no basis-risk result " << name;
  return res.basis_risk.front();
}

const ProtectionResult& protection(const RunResults& res, const std::string& name) {
  for (const ProtectionResult& p : res.protection)
    if (p.name == name) return p;
  ADD_FAILURE() << "no protection result " << name;
  return res.protection.front();
}

// `households` households of size 1, no laborers' income, each running one unit of a crop of
// 125 kg per unit (log-sd of yield `yield_sigma`) sold on a market of price 36 with log-price
// innovations of sd 0.25 and no persistence or trend (every year's index has log variance
// 0.0625), all enrolled in an income index of coverage 0.8.
Scenario index_scenario(int households, int years, std::int64_t reps, double yield_sigma) {
  Scenario s = test::simple_scenario(households, years, reps);
  s.markets[0] = {"crayfish", "kg", 36.0, 0.0, 0.25, 0.0};
  s.industries[0].products = {{0, 125.0, yield_sigma}};
  test::cover_index(s, 0.8, 0.05);
  return s;
}

TEST(BasisRisk, IndexWithoutYieldRiskPaysExactlyTheShortfallAtRhoEqualCoverage) {
  Scenario s = index_scenario(40, 3, 400, 0.0);
  s.insurance.basis_risk_reference = 0.8;
  const Model model = build_model(s);
  // Replication by replication, the tallies agree exactly: every loss paid, every payment a
  // loss, the payment equal to the shortfall.
  const Kernel kernel(model);
  Workspace ws(model);
  const std::size_t n_ind = model.industries.size();
  double losses = 0.0;
  for (std::int64_t r = 0; r < 50; ++r)
    kernel.run_replication(r, ws, [&](const YearOutcome& y) {
      const double* tally = y.basis.data() + (kIncomeIndex * n_ind + 0) * kBasisTallies;
      EXPECT_EQ(tally[kMissed], 0.0);
      EXPECT_EQ(tally[kFalseAlarms], 0.0);
      EXPECT_EQ(tally[kLosses], tally[kPaid]);
      EXPECT_EQ(tally[kCompensated], tally[kShortfall]);
      losses += tally[kLosses];
    });
  EXPECT_GT(losses, 0.0) << "the price fell below the guarantee in some year";
  const RunResults res = run_simulation(model, {2, nullptr});
  const BasisRiskResult& index = variant(res, "income_index");
  ASSERT_EQ(index.industries, std::vector<std::string>{"farm"});
  for (int t = 0; t < 3; ++t) {
    EXPECT_EQ(index.missed.mean[t], 0.0) << "year " << t + 1;
    EXPECT_EQ(index.false_alarm.mean[t], 0.0) << "year " << t + 1;
    EXPECT_EQ(index.covered.mean[t], 1.0) << "year " << t + 1;
    EXPECT_EQ(index.covered.se[t], 0.0) << "year " << t + 1;
  }
}

// With lognormal yield Y (log-sd s, mean 1) and price index X (log variance v, mean 1), per
// unit of expected revenue: S = max(0, rho - Y X), K = max(0, kappa - X). Conditioning on X = x,
// P(S > 0 | x) = Phi((ln(rho / x) + s^2/2) / s) and E[min(K, S) | x] = E[S | x] -
// E[max(0, rho - K - Y x) | x], each a lognormal put: x put(c / x, s^2).
struct IndexBasisClosedForm {
  double missed, false_alarm, covered;
};

IndexBasisClosedForm index_basis_closed_form(double rho, double kappa, double s, double v) {
  const double sv = std::sqrt(v);
  auto price = [&](double z) { return std::exp(sv * z - v / 2); };
  auto loss_given = [&](double x) { return normal_cdf((std::log(rho / x) + s * s / 2) / s); };
  const double p_loss = simpson([&](double z) { return normal_pdf(z) * loss_given(price(z)); });
  const double p_loss_unpaid = simpson([&](double z) {
    const double x = price(z);
    return x >= kappa ? normal_pdf(z) * loss_given(x) : 0.0;
  });
  const double p_paid = normal_cdf((std::log(kappa) + v / 2) / sv);
  const double p_paid_no_loss = simpson([&](double z) {
    const double x = price(z);
    return x < kappa ? normal_pdf(z) * (1.0 - loss_given(x)) : 0.0;
  });
  const double shortfall = put(rho, s * s + v);
  const double compensated = simpson([&](double z) {
    const double x = price(z);
    const double k = std::max(0.0, kappa - x);
    return normal_pdf(z) * x * (put(rho / x, s * s) - put((rho - k) / x, s * s));
  });
  return {p_loss_unpaid / p_loss, p_paid_no_loss / p_paid, compensated / shortfall};
}

TEST(BasisRisk, IndexWithYieldRiskMatchesTheLognormalIntegrals) {
  for (const double rho : {0.8, 0.9}) {
    Scenario s = index_scenario(60, 2, 6000, 0.2);
    s.insurance.basis_risk_reference = rho;
    const Model model = build_model(s);
    const RunResults res = run_simulation(model, {2, nullptr});
    const BasisRiskResult& index = variant(res, "income_index");
    const IndexBasisClosedForm cf =
        index_basis_closed_form(rho, 0.8, std::sqrt(std::log1p(0.04)), 0.0625);
    for (int t = 0; t < 2; ++t) {
      SCOPED_TRACE("rho " + std::to_string(rho) + " year " + std::to_string(t + 1));
      EXPECT_NEAR(index.missed.mean[t], cf.missed, 4 * index.missed.se[t]);
      EXPECT_NEAR(index.false_alarm.mean[t], cf.false_alarm, 4 * index.false_alarm.se[t]);
      EXPECT_NEAR(index.covered.mean[t], cf.covered, 4 * index.covered.se[t]);
      // The standard errors are those of the replications, not tiny.
      EXPECT_GT(index.missed.se[t], 1e-4);
      EXPECT_LT(index.missed.se[t], 0.05);
    }
    // Yield risk creates basis risk on both sides.
    EXPECT_GT(cf.missed, 0.2);
    EXPECT_GT(cf.false_alarm, 0.1);
  }
}

// The ratio estimator's standard error from the replications' tallies, computed directly.
TEST(BasisRisk, StandardErrorIsTheRatioEstimatorOverReplications) {
  Scenario s = index_scenario(30, 1, 300, 0.2);
  const Model model = build_model(s);
  const Kernel kernel(model);
  Workspace ws(model);
  std::vector<double> a, b;  // missed and losses per replication
  for (std::int64_t r = 0; r < s.replications; ++r)
    kernel.run_replication(r, ws, [&](const YearOutcome& y) {
      const double* tally = y.basis.data() + kIncomeIndex * model.industries.size() * kBasisTallies;
      a.push_back(tally[kMissed]);
      b.push_back(tally[kLosses]);
    });
  double sa = 0, sb = 0;
  for (std::size_t k = 0; k < a.size(); ++k) sa += a[k], sb += b[k];
  const double ratio = sa / sb, n = static_cast<double>(a.size());
  double ss = 0;
  for (std::size_t k = 0; k < a.size(); ++k) ss += (a[k] - ratio * b[k]) * (a[k] - ratio * b[k]);
  const double se = std::sqrt(ss / (n * (n - 1))) / (sb / n);
  const RunResults res = run_simulation(model, {1, nullptr});
  const BasisRiskResult& index = variant(res, "income_index");
  EXPECT_NEAR(index.missed.mean[0], ratio, 1e-12);
  EXPECT_NEAR(index.missed.se[0], se, 1e-9 * se);
}

// One crop of 100 kg per unit at a fixed price 10 (expected revenue 1000 per unit, no price or
// yield risk), harvested every `cycle` years, hit in each year with probability `p` by a
// household-scope hazard destroying `loss` of it; agricultural insurance with sum insured 500
// per unit and deductible `d`; reference 0.8.
Scenario hazard_scenario(double p, double loss, double d, int cycle, int years) {
  Scenario s = test::simple_scenario(400, years, 40);
  s.industries[0].cycle_years = cycle;
  s.hazards.push_back(test::make_hazard(s, HazardScope::household, p, {true, loss, 1, 1}, 1.0));
  test::cover_agricultural(s, 500.0, d, 0.05);
  s.insurance.basis_risk_reference = 0.8;
  return s;
}

TEST(BasisRisk, AgriculturalOnOneFixedHazardMatchesHandComputation) {
  struct Case {
    double loss, deductible, missed, false_alarm, covered;
  };
  const double nan = std::nan("");
  // Hit: revenue 1000 (1 - loss), shortfall S = 1000 max(0, 0.8 - (1 - loss)), indemnity
  // K = 500 max(0, loss - d); not hit: S = K = 0.
  const Case cases[] = {
      {0.5, 0.1, 0.0, 0.0, 200.0 / 300.0},  // S 300, K 200
      {0.3, 0.35, 1.0, nan, 0.0},           // S 100, K 0: every loss missed
      {0.15, 0.1, nan, 1.0, nan},           // S 0, K 25: every payment a false alarm
      {0.9, 0.0, 0.0, 0.0, 450.0 / 700.0},  // S 700, K 450
  };
  for (const Case& c : cases) {
    SCOPED_TRACE("loss " + std::to_string(c.loss) + " deductible " + std::to_string(c.deductible));
    const Model model = build_model(hazard_scenario(0.4, c.loss, c.deductible, 1, 2));
    const RunResults res = run_simulation(model, {2, nullptr});
    const BasisRiskResult& agri = variant(res, "agricultural");
    for (int t = 0; t < 2; ++t) {
      auto expect = [](double got, double want) {
        if (std::isnan(want))
          EXPECT_TRUE(std::isnan(got)) << got;
        else
          EXPECT_NEAR(got, want, 1e-12);
      };
      expect(agri.missed.mean[t], c.missed);
      expect(agri.false_alarm.mean[t], c.false_alarm);
      expect(agri.covered.mean[t], c.covered);
    }
  }
}

TEST(BasisRisk, AgriculturalIndemnitiesOfATwoYearCycleAccumulate) {
  // Hit every year by 0.3: the harvest of year 2 keeps 0.7^2 = 0.49 of 1000, the shortfall is
  // 1000 (0.8 - 0.49) = 310, the indemnities of years 1 and 2 are 2 x 500 x 0.2 = 200.
  const Model model = build_model(hazard_scenario(1.0, 0.3, 0.1, 2, 4));
  const RunResults res = run_simulation(model, {1, nullptr});
  const BasisRiskResult& agri = variant(res, "agricultural");
  for (int t : {0, 2}) {  // not harvest years
    EXPECT_TRUE(std::isnan(agri.covered.mean[t]));
    EXPECT_TRUE(std::isnan(agri.missed.mean[t]));
  }
  for (int t : {1, 3}) {
    EXPECT_NEAR(agri.covered.mean[t], 200.0 / 310.0, 1e-12) << "year " << t + 1;
    EXPECT_EQ(agri.missed.mean[t], 0.0);
    EXPECT_EQ(agri.false_alarm.mean[t], 0.0);
  }
}

// Both products on one crop with yield, price and hazard risk, every household enrolled in
// both: double counts K_agri + K_index, so it compensates at least what either does.
TEST(BasisRisk, DoubleIsNeverBelowEitherProductWhenEveryHouseholdHoldsBoth) {
  Scenario s = index_scenario(300, 3, 300, 0.15);
  s.hazards.push_back(
      test::make_hazard(s, HazardScope::village, 0.25, {false, 0.0, 2.0, 5.0}, 1.2));
  s.population.villages = 10;
  test::cover_agricultural(s, 2000.0, 0.1, 0.06);
  const Model model = build_model(s);
  const RunResults res = run_simulation(model, {2, nullptr});
  const BasisRiskResult& agri = variant(res, "agricultural");
  const BasisRiskResult& index = variant(res, "income_index");
  const BasisRiskResult& both = variant(res, "double");
  for (int t = 0; t < 3; ++t) {
    SCOPED_TRACE("year " + std::to_string(t + 1));
    EXPECT_GE(both.covered.mean[t], agri.covered.mean[t]);
    EXPECT_GE(both.covered.mean[t], index.covered.mean[t]);
    EXPECT_LE(both.missed.mean[t], agri.missed.mean[t]);
    EXPECT_LE(both.missed.mean[t], index.missed.mean[t]);
    // Not trivially: each product alone leaves part of the shortfall.
    EXPECT_LT(agri.covered.mean[t], 0.99);
    EXPECT_LT(index.covered.mean[t], 0.99);
    EXPECT_GT(both.covered.mean[t], std::max(agri.covered.mean[t], index.covered.mean[t]));
  }
}

// The index scenario with 200 households of size 1 and nothing else to live on, priced at the
// fair rate E[payout] / G = E[max(0, 0.8 - X)] / 0.8 (closed form), over 3 years discounted at
// 5%.
Scenario fair_index_scenario(std::int64_t reps) {
  Scenario s = index_scenario(200, 3, reps, 0.0);
  s.insurance.income_index.premium_rate = put(0.8, 0.0625) / 0.8;
  s.choice.discount_rate = 0.05;
  return s;
}

void risk_neutral(Scenario& s) {
  s.choice.utility = UtilityKind::cara;
  s.choice.cara = 0.0;
}

TEST(ProtectionValue, FairIndexGainsARiskNeutralHouseholdNothing) {
  Scenario s = fair_index_scenario(4000);
  risk_neutral(s);
  const RunResults res = run_simulation(build_model(s), {2, nullptr});
  const ProtectionResult& index = protection(res, "income_index");
  EXPECT_EQ(index.holders[0], 0.0);  // nobody is registered poor
  EXPECT_EQ(index.holders[1], 200.0);
  EXPECT_TRUE(std::isnan(index.ce_gain.mean[0]));
  const double gain = index.ce_gain.mean[1], se = index.ce_gain.se[1];
  EXPECT_NEAR(gain, 0.0, 4 * se);
  EXPECT_GT(se, 0.0);
  EXPECT_LT(se, 20.0);  // of a premium of about 200 a year: the test has power
}

TEST(ProtectionValue, FairIndexGainsARiskAverseHouseholdItHedges) {
  Scenario s = fair_index_scenario(4000);  // CRRA 2, floor 500, over years
  const RunResults res = run_simulation(build_model(s), {2, nullptr});
  const ProtectionResult& index = protection(res, "income_index");
  const double gain = index.ce_gain.mean[1], se = index.ce_gain.se[1];
  EXPECT_GT(gain, 4 * se) << "gain " << gain << " se " << se;
}

TEST(ProtectionValue, FullySubsidisedIndexGainsARiskNeutralHouseholdItsExpectedPayout) {
  Scenario s = fair_index_scenario(4000);
  risk_neutral(s);
  // A trending, persistent market: each year's expected payout differs, so the discount
  // weights matter.
  s.markets[0] = {"crayfish", "kg", 36.0, 0.03, 0.25, 0.6};
  s.insurance.income_index.subsidy = {1.0, 1.0};
  const Model model = build_model(s);
  const RunResults res = run_simulation(model, {2, nullptr});
  const ProtectionResult& index = protection(res, "income_index");
  // Payout per unit in year t: 125 Pbar_t E[max(0, 0.8 - X_t)], Pbar_t = 36 x 1.03^(t-1), X_t
  // of log variance 0.0625 sum_{j<t} 0.36^j; weights 1.05^-(t-1) / sum.
  double w = 1.0, total = 0.0, weighted = 0.0, v = 0.0;
  for (int t = 1; t <= 3; ++t, w /= 1.05) {
    v += 0.0625 * std::pow(0.36, t - 1);
    total += w;
    weighted += w * 125.0 * 36.0 * std::pow(1.03, t - 1) * put(0.8, v);
  }
  const double expected = weighted / total;
  const double gain = index.ce_gain.mean[1], se = index.ce_gain.se[1];
  EXPECT_NEAR(gain, expected, 4 * se) << "expected payout " << expected;
  EXPECT_GT(expected, 10 * se);
}

}  // namespace
}  // namespace incsim
