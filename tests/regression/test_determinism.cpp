// Reproducibility (MODEL.md section 10): the same scenario and seed give bit-identical output
// files for 1, 2 and 4 threads (with health shocks and the poor's own endowments and wages).
// Compares the raw bytes of every dataset (not values within a tolerance) and every attribute
// except the creation time.
#include <gtest/gtest.h>
#include <hdf5.h>

#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "h5_bytes.h"
#include "incsim/engine.h"
#include "incsim/hdf5.h"
#include "incsim/output.h"
#include "support.h"

namespace incsim {
namespace {

Scenario determinism_scenario() {
  Scenario s = test::varied_scenario(700, 4, 37, 5, 5);  // 37: blocks do not divide evenly
  s.industries[0].cycle_years = 2;
  s.population.all.capital = {5000, 1.0};
  s.income.public_posts = {0.2, 6000.0};
  s.choice.portfolios = {{0, -1, 0.7}};
  return s;
}

void expect_identical_files(const Scenario& s, const std::vector<std::string>& also = {}) {
  std::map<std::string, std::string> reference;
  for (int threads : {1, 2, 4}) {
    const std::string path = test::temp_path(std::to_string(threads) + "threads.h5").string();
    const Model model = build_model(s, threads);  // the choice stage runs in parallel too
    write_results(path, model, run_simulation(model, {threads, nullptr}));
    const auto bytes = test::dataset_bytes(path);
    ASSERT_GT(bytes.size(), 40u);
    // test::varied_scenario has health shocks: their datasets are compared too.
    for (const char* name : {"health/cost", "health/out_of_pocket_se", "health/impoverished",
                             "fiscal/health_reimbursement", "groups/poor/health_out_of_pocket"})
      EXPECT_TRUE(bytes.count(name)) << name << " missing";
    for (const std::string& name : also) EXPECT_TRUE(bytes.count(name)) << name << " missing";
    if (threads == 1) {
      reference = bytes;
      continue;
    }
    ASSERT_EQ(bytes.size(), reference.size());
    for (const auto& [name, data] : reference) {
      ASSERT_TRUE(bytes.count(name)) << name;
      EXPECT_TRUE(bytes.at(name) == data)
          << name << " differs between 1 and " << threads << " threads";
    }
  }
}

TEST(Determinism, BitIdenticalFilesFor1And2And4Threads) {
  expect_identical_files(determinism_scenario());
}

// Expected-utility choice from pilot runs, hazards of every scope and all three insurance
// products with a fair premium: still bit-identical.
TEST(Determinism, BitIdenticalWithChoiceHazardsAndInsurance) {
  Scenario s = determinism_scenario();
  s.choice.rule = ChoiceRule::expected_utility;
  s.choice.portfolios.clear();
  s.choice.two_industries = false;
  s.choice.candidates = {0};
  s.choice.pilot_replications = 20;
  for (HazardScope scope : {HazardScope::county, HazardScope::village, HazardScope::household}) {
    Hazard h;
    h.name = std::string{"hazard"};
    h.scope = scope;
    h.probability = 0.2;
    h.severity = {false, 0.0, 2.0, 5.0};
    h.affects = {1.0};
    h.price_shock = {1.0, 1.0};
    if (scope == HazardScope::county) h.price_shock[0] = 0.8;
    s.hazards.push_back(h);
  }
  InsuranceSpec& ins = s.insurance;
  ins.agricultural = {true, {0}, {2000.0}, 0.1, 0.06, {1.0, 0.5}, {1.0, 0.4}};
  ins.income_index.enabled = true;
  ins.income_index.covers = {0};
  ins.income_index.coverage = 0.8;
  ins.income_index.fair = true;
  ins.income_index.fair_replications = 500;
  ins.poverty_guard.enabled = true;
  ins.poverty_guard.threshold = 1.2;
  ins.poverty_guard.premium_per_capita = 30.0;
  // Issue 15: basis risk and the CE gains (exact sums in jackknife groups) are compared too.
  expect_identical_files(
      s, {"insurance/agricultural/basis_risk/missed",
          "insurance/income_index/basis_risk/covered_se", "insurance/double/basis_risk/false_alarm",
          "insurance/double/ce_gain", "insurance/double/ce_gain_se",
          "insurance/poverty_guard/ce_gain", "insurance/agricultural/ce_gain"});
}

}  // namespace
}  // namespace incsim
