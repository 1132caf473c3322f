// Poverty measures (MODEL.md section 9) on a hand-computed csv population. Every income is
// deterministic, so FGT0/1/2, relapse, ever-poor, vulnerability and group measures are exact.
//
//   id size lab crop       y1 (line 1000)        y2                  y3
//   A   2    1   -         1000/2 = 500          500                 500
//   B   1    1   -         1000                  1000 (not poor)     1000
//   C   4    3   -         3000/4 = 750          750                 750
//   D   3    1   slow      (1000-600)/3          (1000+3000-600)/3   (1000-600)/3
//   E   1    0   slow      -600                  2400                -600
// slow: 2-year cycle, 300 kg x 10 yuan at harvest, 600 yuan per year operating cost.
#include <gtest/gtest.h>

#include <cmath>

#include "incsim/engine.h"
#include "incsim/hdf5.h"
#include "incsim/load.h"
#include "incsim/output.h"
#include "support.h"

namespace incsim {
namespace {

constexpr const char* kCsv =
    "id,village,size,laborers,farmland_mu,forest_mu,capital,poor,main,aux\n"
    "A,north,2,1,0,0,0,1,,\n"
    "B,north,1,1,0,0,0,0,,\n"
    "C,south,4,3,0,0,0,1,,\n"
    "D,south,3,1,1,0,0,0,slow,\n"
    "E,east,1,0,1,0,0,0,slow,\n";

constexpr const char* kScenario = R"(
scenario: {name: fgt, years: 3, replications: 3, seed: 7}
markets:
  grain: {unit: kg, price: 10}
industries:
  slow:
    cycle_years: 2
    operating_cost: 600
    needs: {farmland_mu: 1}
    products:
      - {market: grain, yield: 300}
population:
  csv: fgt.csv
income:
  wage: {per_laborer: 1000}
poverty: {line: 1000}
)";

class PovertyCsv : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto dir = test::temp_path("_dir");  // one per test: ctest runs cases in parallel
    std::filesystem::create_directories(dir);
    test::write_file(dir / "fgt.csv", kCsv);
    test::write_file(dir / "fgt.yaml", kScenario);
    scenario_path_ = (dir / "fgt.yaml").string();
    model_ = std::make_unique<Model>(build_model(load_scenario(scenario_path_)));
    results_ = run_simulation(*model_, {2, nullptr});
  }
  std::string scenario_path_;
  std::unique_ptr<Model> model_;
  RunResults results_;
};

const double yD1 = 400.0 / 3.0, yD2 = 3400.0 / 3.0;
const double kPersons = 11.0;
double gap(double y) {
  return (1000.0 - std::max(y, 0.0)) / 1000.0;
}

TEST_F(PovertyCsv, HeadcountGapAndSeverity) {
  const double f0[3] = {10 / kPersons, 6 / kPersons, 10 / kPersons};
  const double f1_1 = (2 * gap(500) + 4 * gap(750) + 3 * gap(yD1) + 1 * gap(-600)) / kPersons;
  const double f1_2 = (2 * gap(500) + 4 * gap(750)) / kPersons;
  const double f2_1 =
      (2 * std::pow(gap(500), 2) + 4 * std::pow(gap(750), 2) + 3 * std::pow(gap(yD1), 2) + 1.0) /
      kPersons;
  for (int t = 0; t < 3; ++t) EXPECT_NEAR(results_.fgt0.mean[t], f0[t], 1e-12) << "year " << t + 1;
  EXPECT_NEAR(results_.fgt1.mean[0], f1_1, 1e-12);
  EXPECT_NEAR(results_.fgt1.mean[1], f1_2, 1e-12);
  EXPECT_NEAR(results_.fgt1.mean[2], f1_1, 1e-12);
  EXPECT_NEAR(results_.fgt2.mean[0], f2_1, 1e-12);
  EXPECT_NEAR(results_.fgt0.se[0], 0.0, 1e-12) << "identical replications have no spread";
}

TEST_F(PovertyCsv, RelapseEverPoorAndVulnerability) {
  EXPECT_TRUE(std::isnan(results_.relapse.mean[0])) << "no relapse in year 1";
  EXPECT_NEAR(results_.relapse.mean[1], 0.0, 1e-12);        // only B not poor in year 1
  EXPECT_NEAR(results_.relapse.mean[2], 4.0 / 5.0, 1e-12);  // B, D, E not poor in 2; D, E fall
  EXPECT_NEAR(results_.ever_poor.mean[0], 10 / kPersons, 1e-12);
  // Poor in t and t-1: A and C in years 2 and 3 (D and E are poor in 1 and 3, not in 2).
  EXPECT_TRUE(std::isnan(results_.two_consecutive_poor.mean[0]));
  EXPECT_NEAR(results_.two_consecutive_poor.mean[1], 6 / kPersons, 1e-12);
  EXPECT_NEAR(results_.two_consecutive_poor.mean[2], 6 / kPersons, 1e-12);
  EXPECT_NEAR(results_.two_consecutive_poor_ever.mean[0], 6 / kPersons, 1e-12);
  // Identical replications: every quantile of the headcount distribution is the headcount.
  for (double q : results_.fgt0_quantiles) EXPECT_TRUE(q == 10 / kPersons || q == 6 / kPersons);
  EXPECT_NEAR(results_.vulnerable_share[1], 6 / kPersons, 1e-12);
  // Horizon means: A 500, B 1000, C 750, D (400+3400+400)/9 = 466.7, E 400: all but B poor.
  EXPECT_NEAR(results_.vulnerable_share_horizon, 10 / kPersons, 1e-12);
}

TEST_F(PovertyCsv, PersonWeightedMeanAndGroups) {
  EXPECT_NEAR(results_.income_mean.mean[0],
              (2 * 500.0 + 1000.0 + 4 * 750.0 + 3 * yD1 - 600.0) / kPersons, 1e-9);
  EXPECT_NEAR(results_.income_mean.mean[1],
              (2 * 500.0 + 1000.0 + 4 * 750.0 + 3 * yD2 + 2400.0) / kPersons, 1e-9);
  const GroupResult& by_main = results_.groups[0];
  ASSERT_EQ(by_main.labels, (std::vector<std::string>{"slow", "none"}));
  EXPECT_DOUBLE_EQ(by_main.persons[0], 4.0);
  EXPECT_NEAR(by_main.fgt0.mean[0 * 3 + 1], 0.0, 1e-12);        // slow, year 2
  EXPECT_NEAR(by_main.fgt0.mean[1 * 3 + 1], 6.0 / 7.0, 1e-12);  // none, year 2
  EXPECT_NEAR(by_main.income_mean.mean[0 * 3 + 1], (3 * yD2 + 2400.0) / 4.0, 1e-9);
  const GroupResult& by_village = results_.groups[1];
  ASSERT_EQ(by_village.labels, (std::vector<std::string>{"north", "south", "east"}));
  EXPECT_NEAR(by_village.fgt0.mean[0], 2.0 / 3.0, 1e-12);  // north, year 1: A poor, B not
  const GroupResult& by_poor = results_.groups[2];
  EXPECT_NEAR(by_poor.fgt0.mean[0], 1.0, 1e-12);          // A and C
  EXPECT_NEAR(by_poor.fgt0.mean[1 * 3 + 1], 0.0, 1e-12);  // other, year 2
}

TEST_F(PovertyCsv, QuantilesOfADiscreteDistribution) {
  // Year 2 incomes by person: 500 x2, 750 x4, 1000, 1133 x3, 2400. Median (6th of 11) = 750.
  const auto& q = results_.income_quantiles;
  const auto& levels = results_.quantile_levels;
  const std::size_t nq = levels.size();
  for (std::size_t k = 0; k < nq; ++k) {
    if (levels[k] == 0.5) {
      EXPECT_NEAR(q[1 * nq + k], 750.0, results_.income_quantile_error_bound[1 * nq + k]);
    }
  }
}

TEST_F(PovertyCsv, FileHasTheMeasuresAndHouseholdIds) {
  const std::string out = test::temp_path(".h5").string();
  write_results(out, *model_, results_);
  const h5::File f = h5::File::open_read(out);
  const std::vector<double> fgt0 = h5::read_doubles(f, "/poverty/fgt0");
  ASSERT_EQ(fgt0.size(), 3u);
  EXPECT_NEAR(fgt0[1], 6 / kPersons, 1e-12);
  EXPECT_EQ(h5::read_strings(f, "/households/id"),
            (std::vector<std::string>{"A", "B", "C", "D", "E"}));
  EXPECT_EQ(h5::read_int64s(f, "/households/main"), (std::vector<std::int64_t>{-1, -1, -1, 0, 0}));
}

}  // namespace
}  // namespace incsim
