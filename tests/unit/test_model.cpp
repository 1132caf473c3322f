// Model building (MODEL.md section 4): the units rule, generated population attributes,
// fixed portfolio shares, public posts, and the fixed income components.
#include <gtest/gtest.h>

#include <cmath>

#include "incsim/engine.h"
#include "incsim/load.h"
#include "incsim/model.h"
#include "support.h"

namespace incsim {
namespace {

Scenario units_scenario() {
  Scenario s = test::simple_scenario(1, 1, 1);
  Industry a = s.industries[0];
  a.name = std::string{"a"};
  a.needs_farmland_mu = 1.0;
  a.needs_labor_days = 100.0;
  a.setup_cost = 1000.0;
  a.setup_subsidy = 0.5;
  a.max_units = 5;
  Industry b = a;
  b.name = std::string{"b"};
  b.needs_farmland_mu = 0.0;
  b.needs_forest_mu = 10.0;
  b.needs_labor_days = 50.0;
  b.setup_cost = 0.0;
  b.max_units = 2;
  s.industries = {a, b};
  return s;
}

TEST(Units, MainGrowsFirstThenAux) {
  const Scenario s = units_scenario();
  // farmland 3, forest 30, 2 laborers = 500 days, capital ample: main 3 (farmland-bound),
  // aux 2 (max_units); labor 3*100 + 2*50 = 400 <= 500.
  const Units n = portfolio_units(s, 0, 1, 3.0, 30.0, 2, 1e6);
  EXPECT_EQ(n.main, 3);
  EXPECT_EQ(n.aux, 2);
}

TEST(Units, LaborLimitsGrowthAfterEachMemberHasOneUnit) {
  const Scenario s = units_scenario();
  // 1 laborer = 250 days: main 1 (100) + aux 1 (50) = 150; main +1 = 250 fits; then no more.
  const Units n = portfolio_units(s, 0, 1, 10.0, 30.0, 1, 1e6);
  EXPECT_EQ(n.main, 2);
  EXPECT_EQ(n.aux, 1);
}

TEST(Units, CapitalNetOfSubsidyLimitsUnits) {
  const Scenario s = units_scenario();
  // setup net of subsidy 500 per unit of a; capital 1200 -> 2 units.
  const Units n = portfolio_units(s, 0, -1, 10.0, 0.0, 10, 1200.0);
  EXPECT_EQ(n.main, 2);
  EXPECT_EQ(n.aux, 0);
  // exactly enough capital for 2 units still fits (no rounding loss)
  EXPECT_EQ(portfolio_units(s, 0, -1, 10.0, 0.0, 10, 1000.0).main, 2);
}

TEST(Units, InfeasibleWhenAMemberGetsNoUnit) {
  const Scenario s = units_scenario();
  const Units no_forest = portfolio_units(s, 0, 1, 10.0, 5.0, 2, 1e6);
  EXPECT_EQ(no_forest.main, 0);
  EXPECT_EQ(no_forest.aux, 0);
  const Units no_capital = portfolio_units(s, 0, 1, 10.0, 30.0, 2, 100.0);
  EXPECT_EQ(no_capital.main, 0);
}

TEST(Population, VillagesLaborersAndSizes) {
  Scenario s = test::simple_scenario(1000, 1, 1);
  s.population.villages = 12;
  s.population.all.size_values = {1, 2, 3, 4, 5, 6};
  s.population.all.size_weights = {0.1, 0.22, 0.26, 0.22, 0.13, 0.07};
  s.population.all.laborer_share_of_size = 0.55;
  s.population.all.laborer_min = 1;
  const Model m = build_model(s);
  const Households& hh = m.households;
  std::vector<double> count(7, 0.0);
  for (std::size_t h = 0; h < hh.count(); ++h) {
    EXPECT_EQ(hh.village[h], static_cast<int>(h * 12 / 1000));
    const int size = hh.size[h];
    EXPECT_EQ(hh.laborers[h], std::min(size, std::max(1, int(std::floor(size * 0.55 + 0.5)))));
    count[size] += 1;
  }
  for (int k = 1; k <= 6; ++k) {
    const double p = s.population.all.size_weights[k - 1];
    EXPECT_NEAR(count[k] / 1000.0, p, 4.0 * std::sqrt(p * (1 - p) / 1000.0)) << "size " << k;
  }
}

TEST(Population, LognormalResourcesAndPoorShare) {
  Scenario s = test::simple_scenario(20000, 1, 1);
  s.population.all.farmland_mu = {3.0, 0.6};
  s.population.all.capital = {8000.0, 1.0};
  s.population.poor_share = 0.3;
  s.income.public_posts = {0.2, 6000.0};
  s.choice.portfolios.clear();
  const Model m = build_model(s);
  const Households& hh = m.households;
  const test::SampleStats land = test::sample_stats(hh.farmland_mu);
  EXPECT_NEAR(land.mean, 3.0, 4.0 * land.se_mean());
  EXPECT_NEAR(land.var, (0.6 * 3.0) * (0.6 * 3.0), 4.0 * land.se_var());  // cv 0.6 of mean 3
  const test::SampleStats cap = test::sample_stats(hh.capital);
  EXPECT_NEAR(cap.mean, 8000.0, 4.0 * cap.se_mean());
  double poor = 0, posts = 0;
  for (std::size_t h = 0; h < hh.count(); ++h) {
    poor += hh.poor[h];
    posts += hh.public_post[h];
    if (hh.public_post[h]) {
      EXPECT_TRUE(hh.poor[h]) << "posts go to poor households only";
    }
  }
  const double n = double(hh.count());
  EXPECT_NEAR(poor / n, 0.3, 4.0 * std::sqrt(0.3 * 0.7 / n));
  EXPECT_NEAR(posts / poor, 0.2, 4.0 * std::sqrt(0.2 * 0.8 / poor));
}

TEST(Population, SameSeedSamePopulationOtherSeedDifferent) {
  Scenario s = test::simple_scenario(200, 1, 1);
  s.population.all.farmland_mu = {3.0, 0.6};
  const Model a = build_model(s);
  const Model b = build_model(s);
  EXPECT_EQ(a.households.farmland_mu, b.households.farmland_mu);
  s.seed += 1;
  const Model c = build_model(s);
  EXPECT_NE(a.households.farmland_mu, c.households.farmland_mu);
}

TEST(Portfolios, FixedSharesAreDrawnAndTheRestRunNone) {
  Scenario s = units_scenario();
  s.population.households = 10000;
  s.population.all.farmland_mu = {100.0, 0.0};
  s.population.all.forest_mu = {100.0, 0.0};
  s.population.all.laborer_share_of_size = 1.0;
  s.population.all.size_values = {4};
  s.choice.portfolios = {{0, 1, 0.3}, {1, -1, 0.2}};
  const Model m = build_model(s);
  double ab = 0, b_only = 0, none = 0;
  for (std::size_t h = 0; h < m.households.count(); ++h) {
    const int main = m.households.main[h], aux = m.households.aux[h];
    ab += (main == 0 && aux == 1);
    b_only += (main == 1 && aux == -1);
    none += (main == -1);
  }
  const double n = 10000;
  EXPECT_NEAR(ab / n, 0.3, 4 * std::sqrt(0.3 * 0.7 / n));
  EXPECT_NEAR(b_only / n, 0.2, 4 * std::sqrt(0.2 * 0.8 / n));
  EXPECT_NEAR(none / n, 0.5, 4 * std::sqrt(0.25 / n));
  ASSERT_FALSE(m.portfolios.empty());
  EXPECT_EQ(m.portfolios.back().main, -1) << "'none' is the last /choice row";
}

TEST(Portfolios, InfeasibleFixedPortfolioLeavesHouseholdRunningNone) {
  Scenario s = units_scenario();
  s.population.households = 50;
  s.population.all.forest_mu = {1.0, 0.0};  // b needs 10 mu of forest
  s.choice.portfolios = {{0, 1, 1.0}};
  const Model m = build_model(s);
  for (std::size_t h = 0; h < m.households.count(); ++h) {
    EXPECT_EQ(m.households.main[h], -1);
    EXPECT_EQ(m.households.units_main[h], 0);
  }
}

TEST(FixedIncome, CostsSubsidiesTransfersAndPosts) {
  Scenario s = units_scenario();
  s.years = 2;
  s.population.households = 1;
  s.population.all.size_values = {3};
  s.population.all.laborer_share_of_size = 1.0;
  s.population.all.farmland_mu = {2.0, 0.0};
  s.population.all.forest_mu = {10.0, 0.0};
  s.industries[0].operating_cost = 100.0;
  s.industries[1].operating_cost = 30.0;
  s.income.transfers_per_capita = 300.0;
  s.choice.portfolios = {{0, 1, 1.0}};
  const Model m = build_model(s);
  const Households& hh = m.households;
  ASSERT_EQ(hh.units_main[0], 2);
  ASSERT_EQ(hh.units_aux[0], 1);
  EXPECT_DOUBLE_EQ(hh.fixed_income[m.cell(0, 2)], 900.0 - 2 * 100.0 - 30.0);
  EXPECT_DOUBLE_EQ(hh.fixed_income[m.cell(0, 1)], 900.0 - 2 * 100.0 - 30.0 - 2 * 500.0);
  EXPECT_DOUBLE_EQ(hh.farm_cost[m.cell(0, 1)], 2 * 100.0 + 30.0 + 2 * 500.0);
  EXPECT_DOUBLE_EQ(m.government_fixed[0], 900.0 + 2 * 500.0);
  EXPECT_DOUBLE_EQ(m.government_fixed[1], 900.0);
}

}  // namespace
}  // namespace incsim

namespace incsim {
namespace {

TEST(Dibao, TakeUpIsDrawnOncePerEligibleHousehold) {
  Scenario s = test::simple_scenario(20000, 1, 1);
  s.population.poor_share = 0.5;
  s.income.dibao = {true, 4000.0, DibaoEligible::poor, 0.3};
  const Model m = build_model(s);
  double poor = 0, enrolled = 0;
  for (std::size_t h = 0; h < m.households.count(); ++h) {
    if (!m.households.poor[h]) {
      EXPECT_FALSE(m.households.dibao_eligible[h]) << "only registered poor are eligible";
      continue;
    }
    poor += 1;
    enrolled += m.households.dibao_eligible[h];
  }
  EXPECT_NEAR(enrolled / poor, 0.3, 4 * std::sqrt(0.3 * 0.7 / poor));
  s.income.dibao.take_up = 1.0;
  const Model all = build_model(s);
  for (std::size_t h = 0; h < all.households.count(); ++h)
    EXPECT_EQ(all.households.dibao_eligible[h], all.households.poor[h]);
}

// Kernel order: segments tile the positions, and within one every household runs the same
// portfolio, is enrolled in the same products and holds the same protection variants (what
// the basis-risk, counterfactual and protection stages rely on to skip whole batches), with
// laborers ascending (what the wage stage relies on).
TEST(KernelOrder, SegmentsAreUniformInPortfolioEnrollmentAndVariantsHeld) {
  const Model m = build_model(load_scenario(test::kSplitScenario, {}));
  const KernelTables& kt = m.kernel;
  const Households& hh = m.households;
  ASSERT_FALSE(kt.segments.empty());
  EXPECT_EQ(kt.segments.front().begin, 0u);
  EXPECT_EQ(kt.segments.back().end, kt.count());
  int holding = 0, not_holding = 0, enrolled = 0;
  for (std::size_t s = 0; s < kt.segments.size(); ++s) {
    const KernelSegment& seg = kt.segments[s];
    if (s > 0) {
      EXPECT_EQ(seg.begin, kt.segments[s - 1].end);
    }
    ASSERT_LT(seg.begin, seg.end);
    (seg.holds ? holding : not_holding) += static_cast<int>(seg.end - seg.begin);
    enrolled += seg.enrolled != 0;
    for (std::size_t p = seg.begin; p < seg.end; ++p) {
      const std::uint32_t h = kt.unit[p];
      EXPECT_EQ(hh.main[h], seg.main);
      EXPECT_EQ(hh.aux[h], seg.aux);
      for (int q = 0; q < kProducts; ++q)
        EXPECT_EQ(kt.enrolled[q][p], (seg.enrolled >> q) & 1) << "position " << p;
      for (int v = 0; v < kVariants; ++v) {
        const int bit = (seg.holds >> v) & 1;
        if (m.protection.value[v]) {
          EXPECT_EQ(kt.holds[v][p], bit) << "position " << p << ", variant " << v;
        } else {
          EXPECT_EQ(bit, 0);
        }
      }
      if (p > seg.begin) {
        EXPECT_LE(kt.laborers[p - 1], kt.laborers[p]);
      }
    }
  }
  // The scenario has holders and non-holders, so the split is tested.
  EXPECT_GT(holding, 0);
  EXPECT_GT(not_holding, 0);
  EXPECT_GT(enrolled, 1);
}

}  // namespace
}  // namespace incsim
