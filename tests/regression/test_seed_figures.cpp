// The six deterministic figures of the seed report (scenarios/xianning_2019.yaml header):
// with every volatility and yield cv at 0, one harvest's revenue minus the operating costs of
// its cycle, per unit, equals the report's net income per unit. Run through the loader (with
// --set overrides) and the kernel, so a change to the bundled scenario that breaks the
// calibration fails here.
#include <gtest/gtest.h>

#include "incsim/engine.h"
#include "incsim/load.h"
#include "incsim/model.h"
#include "incsim/simulate.h"

namespace incsim {
namespace {

struct Figure {
  const char* industry;
  double net_per_unit;
};

void PrintTo(const Figure& f, std::ostream* os) {
  *os << f.industry << " " << f.net_per_unit;
}

class SeedFigures : public ::testing::TestWithParam<Figure> {};

TEST_P(SeedFigures, NetIncomePerUnitAndHarvest) {
  const std::string path = std::string(INCSIM_SOURCE_DIR) + "/scenarios/xianning_2019.yaml";
  const Scenario base = load_scenario(path);
  const int i = base.industry_index(GetParam().industry);
  ASSERT_GE(i, 0);
  const int cycle = base.industries[i].cycle_years;
  std::vector<Override> ov = {
      {"scenario.years", std::to_string(cycle)},
      {"scenario.replications", "2"},
      {"population.households", "1"},
      {"population.size", "{values: [1], weights: [1]}"},
      {"population.farmland_mu", "{mean: 100, cv: 0}"},
      {"population.forest_mu", "{mean: 100, cv: 0}"},
      {"population.capital", "{mean: 1000000, cv: 0}"},
      {"population.poor_share", "0"},
      {"choice.rule", "fixed"},
      {"choice.portfolios", std::string("[{main: ") + GetParam().industry + ", share: 1.0}]"},
  };
  for (const Market& m : base.markets) ov.push_back({"markets." + m.name + ".volatility", "0"});
  for (const Industry& ind : base.industries)
    for (std::size_t p = 0; p < ind.products.size(); ++p)
      ov.push_back(
          {"industries." + ind.name + ".products." + std::to_string(p) + ".yield_cv", "0"});
  const Model model = build_model(load_scenario(path, ov));
  const int units = model.households.units_main[0];
  ASSERT_GE(units, 1);
  const Kernel kernel(model);
  Workspace ws(model);
  double net = 0.0;
  kernel.run_replication(0, ws, [&](const YearOutcome& y) { net += y.farm_net_income[0]; });
  const Industry& ind = base.industries[i];
  const double setup_paid = units * ind.setup_cost * (1.0 - ind.setup_subsidy);
  EXPECT_NEAR((net + setup_paid) / units, GetParam().net_per_unit, 1e-6)
      << GetParam().industry << " with " << units << " units over " << cycle << " years";
}

INSTANTIATE_TEST_SUITE_P(
    Xianning2019, SeedFigures,
    ::testing::Values(Figure{"chicken_135", 5000}, Figure{"rice_crayfish_115", 5000},
                      Figure{"perilla_114", 4000}, Figure{"shegan_139", 9000},
                      Figure{"huangjing_143", 30000}, Figure{"bee_212", 20000}),
    [](const ::testing::TestParamInfo<Figure>& p) { return std::string(p.param.industry); });

}  // namespace
}  // namespace incsim
