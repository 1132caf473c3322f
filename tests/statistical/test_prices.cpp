// Market prices (MODEL.md section 2): E[P[m,t]] = Pbar[m,t] and the innovation correlation
// is recovered, each within 4 Monte Carlo standard errors (fixed seeds).
#include <gtest/gtest.h>

#include <cmath>

#include "incsim/engine.h"
#include "incsim/model.h"
#include "incsim/simulate.h"
#include "support.h"

namespace incsim {
namespace {

struct PriceDraws {
  std::vector<std::vector<std::vector<double>>> p;  // [m][t][r]
};

PriceDraws simulate_prices(const Scenario& s) {
  const Model model = build_model(s);
  const Kernel kernel(model);
  Workspace ws(model);
  PriceDraws out;
  out.p.assign(s.markets.size(), std::vector<std::vector<double>>(s.years));
  for (std::int64_t r = 0; r < s.replications; ++r)
    kernel.run_replication(r, ws, [&](const YearOutcome& y) {
      for (std::size_t m = 0; m < s.markets.size(); ++m)
        out.p[m][y.year - 1].push_back(y.prices[m]);
    });
  return out;
}

Scenario two_markets(double rho, std::int64_t reps) {
  Scenario s = test::simple_scenario(1, 4, reps);
  s.markets = {{"a", "kg", 36.0, 0.05, 0.25, 0.6}, {"b", "kg", 4.0, -0.02, 0.10, -0.3}};
  s.correlation = {{0, 1, rho}};
  s.industries[0].price_floor.resize(2);
  return s;
}

TEST(Prices, ExpectedPriceEqualsPbarWithinFourStandardErrors) {
  const Scenario s = two_markets(0.5, 40000);
  const PriceDraws d = simulate_prices(s);
  for (std::size_t m = 0; m < 2; ++m) {
    const Market& mk = s.markets[m];
    for (int t = 1; t <= s.years; ++t) {
      const double pbar = mk.price * std::pow(1.0 + mk.trend, t - 1);
      const test::SampleStats st = test::sample_stats(d.p[m][t - 1]);
      EXPECT_NEAR(st.mean, pbar, 4.0 * st.se_mean()) << "market " << mk.name << " year " << t;
      // Var of log price is v[m,t] = sigma^2 sum phi^(2j); check it too (SE of a variance).
      std::vector<double> logs;
      for (double p : d.p[m][t - 1]) logs.push_back(std::log(p));
      double v = 0.0;
      for (int j = 0; j < t; ++j)
        v += mk.volatility * mk.volatility * std::pow(mk.persistence, 2 * j);
      const test::SampleStats ls = test::sample_stats(logs);
      EXPECT_NEAR(ls.var, v, 4.0 * ls.se_var()) << "market " << mk.name << " year " << t;
      EXPECT_NEAR(ls.mean, std::log(pbar) - v / 2, 4.0 * ls.se_mean());
    }
  }
}

// Recovers e[m,t] = (x[m,t] - phi x[m,t-1]) / sigma from the prices and checks corr(e_a, e_b).
std::vector<std::vector<double>> innovations(const Scenario& s, const PriceDraws& d) {
  std::vector<std::vector<double>> e(s.markets.size());
  for (std::size_t m = 0; m < s.markets.size(); ++m) {
    const Market& mk = s.markets[m];
    for (std::size_t r = 0; r < d.p[m][0].size(); ++r) {
      double prev = 0.0, v = 0.0;
      for (int t = 1; t <= s.years; ++t) {
        v = v * mk.persistence * mk.persistence + mk.volatility * mk.volatility;
        const double pbar = mk.price * std::pow(1.0 + mk.trend, t - 1);
        const double x = std::log(d.p[m][t - 1][r] / pbar) + v / 2;
        e[m].push_back((x - mk.persistence * prev) / mk.volatility);
        prev = x;
      }
    }
  }
  return e;
}

TEST(Prices, InputCorrelationIsRecovered) {
  for (double rho : {0.5, -0.7}) {
    const Scenario s = two_markets(rho, 20000);
    const auto e = innovations(s, simulate_prices(s));
    const double n = static_cast<double>(e[0].size());
    const double se = (1.0 - rho * rho) / std::sqrt(n);  // large-sample SE of a correlation
    EXPECT_NEAR(test::correlation(e[0], e[1]), rho, 4.0 * se) << "rho " << rho;
    const test::SampleStats st = test::sample_stats(e[0]);
    EXPECT_NEAR(st.mean, 0.0, 4.0 * st.se_mean());
    EXPECT_NEAR(st.var, 1.0, 4.0 * st.se_var());
  }
}

TEST(Prices, SingularCorrelationGivesIdenticalInnovations) {
  Scenario s = two_markets(1.0, 200);
  const auto e = innovations(s, simulate_prices(s));
  for (std::size_t i = 0; i < e[0].size(); ++i) ASSERT_NEAR(e[0][i], e[1][i], 1e-9) << i;
}

TEST(Prices, InnovationsAreIndependentAcrossYears) {
  const Scenario s = two_markets(0.0, 20000);
  const auto e = innovations(s, simulate_prices(s));
  std::vector<double> y1, y2;
  for (std::size_t i = 0; i + 1 < e[0].size(); i += s.years) {
    y1.push_back(e[0][i]);
    y2.push_back(e[0][i + 1]);
  }
  EXPECT_NEAR(test::correlation(y1, y2), 0.0, 4.0 / std::sqrt(double(y1.size())));
}

TEST(Prices, PriceFloorBindsSalePrice) {
  // One household, yield 100, a floor at Pbar: revenue = 100 * max(P, floor) >= 100 * floor.
  Scenario s = test::simple_scenario(1, 2, 2000);
  s.markets[0].volatility = 0.4;
  s.industries[0].price_floor[0] = 10.0;
  const Model model = build_model(s);
  const Kernel kernel(model);
  Workspace ws(model);
  std::vector<double> farm;
  for (std::int64_t r = 0; r < s.replications; ++r)
    kernel.run_replication(r, ws, [&](const YearOutcome& y) {
      EXPECT_DOUBLE_EQ(y.farm_net_income[0], 100.0 * std::max(y.prices[0], 10.0));
      farm.push_back(y.farm_net_income[0]);
    });
  // E[max(P, K)] with K = Pbar = 10, log-sd 0.4: 10 * (1 + E[max(0, X - 1)]) where the
  // put-call parity call value at the money is 2 N(s/2) - 1.
  const double s0 = 0.4;
  const double call = 10.0 * (std::erf(s0 / 2 / std::sqrt(2.0)));  // 10 (2 N(s/2) - 1)
  const test::SampleStats st = test::sample_stats(farm);
  EXPECT_NEAR(st.mean, 100.0 * (10.0 + call), 4.0 * st.se_mean());
}

}  // namespace
}  // namespace incsim
