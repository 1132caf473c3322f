// Health shocks (MODEL.md sections 7a, 9, 11; v2) against closed forms and hand computations:
// illness frequency (episodes per person = sum of the illness probabilities), lognormal costs
// with the stated mean and cv, independent per person and illness, the reimbursed share by
// group, the out-of-pocket cap, wages net of days lost, the poverty guard and dibao responding
// to out-of-pocket costs, the medically impoverished share, group totals, the draw addresses
// of draws.h (a hand computation from the raw Philox words), and the output layout with and
// without a health section. Statistical checks: within 4 Monte Carlo standard
// errors with fixed seeds; deterministic ones: exact (or 1e-9 relative where the hand formula
// rounds differently).
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <map>
#include <numbers>
#include <string>
#include <vector>

#include "h5_bytes.h"
#include "incsim/engine.h"
#include "incsim/hdf5.h"
#include "incsim/model.h"
#include "incsim/output.h"
#include "incsim/rng.h"
#include "incsim/simulate.h"
#include "support.h"

namespace incsim {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

Illness illness(const std::string& name, double probability, double mean, double cv,
                double days_lost = 0.0) {
  Illness e;
  e.name = name;
  e.probability = probability;
  e.cost = {mean, cv};
  e.days_lost = days_lost;
  return e;
}

// simple_scenario without farming (incomes are wages, transfers and health costs), household
// sizes 1..max_size with equal weights and a health section without illnesses yet.
Scenario health_scenario(int households, int years, std::int64_t reps, int max_size) {
  Scenario s = test::simple_scenario(households, years, reps);
  s.choice.portfolios.clear();
  s.population.all.size_values.clear();
  for (int k = 1; k <= max_size; ++k) s.population.all.size_values.push_back(k);
  s.population.all.size_weights.assign(static_cast<std::size_t>(max_size), 1.0);
  s.health.enabled = true;
  return s;
}

// Calls f(const YearOutcome&) for every replication-year of the model's kernel.
template <class F>
void for_each_year(const Model& model, F&& f) {
  const Kernel kernel(model);
  Workspace ws(model);
  for (std::int64_t r = 0; r < model.replications; ++r) kernel.run_replication(r, ws, f);
}

double relative_tolerance(double expected) {
  return 1e-9 * std::max(1.0, std::fabs(expected));
}

// ---- a. Illness frequency ---------------------------------------------------------------------

TEST(HealthFrequency, EpisodesPerPersonEqualTheSumOfTheIllnessProbabilities) {
  Scenario s = health_scenario(3000, 3, 60, 6);
  s.health.illnesses = {illness("cold", 0.3, 100.0, 0.5), illness("fracture", 0.05, 5000.0, 1.0),
                        illness("flu", 0.12, 300.0, 0.0)};
  const Model model = build_model(s, 2);
  const RunResults res = run_simulation(model, {2, nullptr});
  ASSERT_TRUE(res.health_enabled);
  const double persons = static_cast<double>(model.persons);
  ASSERT_GT(persons, 3000.0 * 3.0);
  const double mean = 0.3 + 0.05 + 0.12;
  // Binomial closed form: each (person, illness) is an independent Bernoulli(q_e).
  const double var = 0.3 * 0.7 + 0.05 * 0.95 + 0.12 * 0.88;
  const double se = std::sqrt(var / persons / static_cast<double>(s.replications));
  for (int t = 0; t < s.years; ++t) {
    EXPECT_NEAR(res.health.episodes_per_person.mean[t], mean, 4.0 * se) << "year " << t + 1;
    // The reported standard error (from 60 replications) agrees with the closed form within
    // its own sampling error (relative sd about 9%).
    EXPECT_GT(res.health.episodes_per_person.se[t], 0.6 * se) << "year " << t + 1;
    EXPECT_LT(res.health.episodes_per_person.se[t], 1.4 * se) << "year " << t + 1;
  }
}

TEST(HealthFrequency, OneIllnessPerPersonOfEveryHouseholdSize) {
  // q = 1: every person of every household has exactly one episode of each illness, whatever
  // its size, and nobody beyond the household's size does.
  Scenario s = health_scenario(500, 2, 3, 7);
  s.health.illnesses = {illness("a", 1.0, 10.0, 0.0), illness("b", 1.0, 1.0, 0.0),
                        illness("never", 0.0, 1e6, 0.0)};
  const Model model = build_model(s, 2);
  const RunResults res = run_simulation(model, {2, nullptr});
  const double persons = static_cast<double>(model.persons);
  for (int t = 0; t < s.years; ++t) {
    EXPECT_EQ(res.health.episodes_per_person.mean[t], 2.0);
    EXPECT_EQ(res.health.cost.mean[t], 11.0 * persons);
  }
}

// ---- b. Cost mean and cv ----------------------------------------------------------------------

TEST(HealthCost, YearlyCostTotalIsPersonsTimesProbabilityTimesMean) {
  const double q = 0.2, m = 1000.0, cv = 0.8;
  Scenario s = health_scenario(4000, 2, 60, 4);
  s.health.illnesses = {illness("inpatient", q, m, cv)};
  const Model model = build_model(s, 2);
  const RunResults res = run_simulation(model, {2, nullptr});
  const double persons = static_cast<double>(model.persons);
  // Per person: X = B c, E[X] = q m, E[X^2] = q m^2 (1 + cv^2).
  const double var_person = q * m * m * (1.0 + cv * cv) - q * q * m * m;
  const double se = std::sqrt(persons * var_person / static_cast<double>(s.replications));
  for (int t = 0; t < s.years; ++t) {
    EXPECT_NEAR(res.health.cost.mean[t], persons * q * m, 4.0 * se)
        << "year " << t + 1 << ", persons " << persons;
    // Reimbursement 0, no cap: the households pay everything.
    EXPECT_EQ(res.health.out_of_pocket.mean[t], res.health.cost.mean[t]);
    EXPECT_EQ(res.health.reimbursed.mean[t], 0.0);
  }
}

TEST(HealthCost, CostPerEpisodeIsLognormalWithTheStatedMeanAndCv) {
  // Size-1 households, q = 1, reimbursement 0: each household's out-of-pocket cost is one
  // episode's cost.
  const double m = 800.0, cv = 0.6;
  Scenario s = health_scenario(2000, 2, 30, 1);
  s.health.illnesses = {illness("visit", 1.0, m, cv)};
  const Model model = build_model(s);
  std::vector<double> cost, logs;
  for_each_year(model, [&](const YearOutcome& y) {
    for (double o : y.out_of_pocket) {
      cost.push_back(o);
      logs.push_back(std::log(o));
    }
  });
  ASSERT_EQ(cost.size(), 2000u * 2u * 30u);
  const test::SampleStats st = test::sample_stats(cost);
  EXPECT_NEAR(st.mean, m, 4.0 * st.se_mean());
  EXPECT_NEAR(st.var, cv * cv * m * m, 4.0 * st.se_var());
  const double s2 = std::log1p(cv * cv);
  const test::SampleStats ls = test::sample_stats(logs);
  EXPECT_NEAR(ls.mean, std::log(m) - s2 / 2, 4.0 * ls.se_mean());
  EXPECT_NEAR(ls.var, s2, 4.0 * ls.se_var());
}

TEST(HealthCost, CostsAreIndependentAcrossPersonsIllnessesAndYears) {
  // Size 3, two illnesses with q = 1: the household cost is a sum of 6 independent lognormals,
  // mean 3 (m1 + m2) and variance 3 (cv1^2 m1^2 + cv2^2 m2^2); years are uncorrelated.
  const double m1 = 500.0, cv1 = 0.5, m2 = 2000.0, cv2 = 1.2;
  Scenario s = health_scenario(2000, 2, 20, 1);
  s.population.all.size_values = {3};
  s.health.illnesses = {illness("outpatient", 1.0, m1, cv1), illness("inpatient", 1.0, m2, cv2)};
  const Model model = build_model(s);
  std::vector<double> year1, year2;
  for_each_year(model, [&](const YearOutcome& y) {
    for (double o : y.out_of_pocket) (y.year == 1 ? year1 : year2).push_back(o);
  });
  std::vector<double> all = year1;
  all.insert(all.end(), year2.begin(), year2.end());
  const test::SampleStats st = test::sample_stats(all);
  EXPECT_NEAR(st.mean, 3.0 * (m1 + m2), 4.0 * st.se_mean());
  const double var = 3.0 * (cv1 * cv1 * m1 * m1 + cv2 * cv2 * m2 * m2);
  EXPECT_NEAR(st.var, var, 4.0 * st.se_var()) << "correlated persons or illnesses change it";
  EXPECT_NEAR(test::correlation(year1, year2), 0.0, 4.0 / std::sqrt(double(year1.size())));
}

// ---- c. Reimbursed share by group --------------------------------------------------------------

TEST(HealthReimbursement, EachGroupIsReimbursedItsShareOfItsOwnCosts) {
  const double r_poor = 0.9, r_other = 0.4;
  Scenario s = health_scenario(1500, 2, 20, 5);
  s.population.poor_share = 0.5;
  s.income.transfers_per_capita = 50.0;
  s.health.illnesses = {illness("a", 0.3, 1000.0, 1.0), illness("b", 0.1, 8000.0, 0.5)};
  s.health.reimbursement = {r_poor, r_other};
  const Model model = build_model(s);
  std::size_t checked = 0;
  for_each_year(model, [&](const YearOutcome& y) {
    // Each household's cost from its out-of-pocket cost: C = O / (1 - r_group).
    double cost_poor = 0.0, cost_other = 0.0, oop = 0.0;
    for (std::size_t h = 0; h < model.households.count(); ++h) {
      const double o = y.out_of_pocket[y.position[h]];
      oop += o;
      if (model.households.poor[h])
        cost_poor += o / (1.0 - r_poor);
      else
        cost_other += o / (1.0 - r_other);
    }
    ASSERT_GT(cost_poor, 0.0);
    ASSERT_GT(cost_other, 0.0);
    const double cost = cost_poor + cost_other;
    EXPECT_NEAR(y.health.cost, cost, relative_tolerance(cost));
    EXPECT_NEAR(y.health.out_of_pocket, oop, relative_tolerance(oop));
    const double reimbursed = r_poor * cost_poor + r_other * cost_other;
    EXPECT_NEAR(y.health.reimbursed, reimbursed, relative_tolerance(reimbursed));
    // Reimbursements are public spending (MODEL.md section 9); no dibao here.
    EXPECT_NEAR(y.government_cost, model.government_fixed[y.year - 1] + reimbursed,
                relative_tolerance(reimbursed));
    EXPECT_GT(model.government_fixed[y.year - 1], 0.0);
    ++checked;
  });
  EXPECT_EQ(checked, 40u);
}

TEST(HealthReimbursement, YearlyTotalsOfAllPoorAndNonePoorPopulations) {
  for (double poor_share : {1.0, 0.0}) {
    Scenario s = health_scenario(800, 2, 10, 4);
    s.population.poor_share = poor_share;
    s.health.illnesses = {illness("a", 0.4, 600.0, 1.0)};
    s.health.reimbursement = {0.9117, 0.55};
    const double r = poor_share == 1.0 ? 0.9117 : 0.55;
    const RunResults res = run_simulation(build_model(s), {2, nullptr});
    for (int t = 0; t < s.years; ++t) {
      const double cost = res.health.cost.mean[t];
      ASSERT_GT(cost, 0.0);
      EXPECT_NEAR(res.health.reimbursed.mean[t], r * cost, relative_tolerance(cost))
          << "poor share " << poor_share;
      EXPECT_NEAR(res.health.out_of_pocket.mean[t], (1.0 - r) * cost, relative_tolerance(cost))
          << "poor share " << poor_share;
    }
  }
}

// ---- d. Out-of-pocket cap ----------------------------------------------------------------------

TEST(HealthCap, OutOfPocketIsTheSmallerOfTheCapAndTheUnreimbursedCost) {
  const double m = 1000.0, r_poor = 0.9, r_other = 0.5, cap_poor = 150.0, cap_other = 1200.0;
  Scenario s = health_scenario(400, 2, 3, 4);
  s.population.poor_share = 0.4;
  s.health.illnesses = {illness("a", 1.0, m, 0.0)};
  s.health.reimbursement = {r_poor, r_other};
  s.health.out_of_pocket_cap = {cap_poor, cap_other};
  const Model model = build_model(s);
  const Households& hh = model.households;
  double total = 0.0, persons = 0.0;
  std::vector<double> expected(hh.count());
  int capped[2] = {0, 0}, uncapped[2] = {0, 0};
  for (std::size_t h = 0; h < hh.count(); ++h) {
    const bool poor = hh.poor[h];
    const double unreimbursed = (1.0 - (poor ? r_poor : r_other)) * hh.size[h] * m;
    const double cap = poor ? cap_poor : cap_other;
    expected[h] = std::min(cap, unreimbursed);
    ++(unreimbursed > cap ? capped : uncapped)[poor];
    total += expected[h];
    persons += hh.size[h];
  }
  // Both groups have households above and below their cap.
  for (int g = 0; g < 2; ++g) {
    EXPECT_GT(capped[g], 0) << g;
    EXPECT_GT(uncapped[g], 0) << g;
  }
  for_each_year(model, [&](const YearOutcome& y) {
    for (std::size_t h = 0; h < hh.count(); ++h)
      ASSERT_NEAR(y.out_of_pocket[y.position[h]], expected[h], relative_tolerance(expected[h]))
          << "household " << h << " size " << hh.size[h] << " poor " << int(hh.poor[h]);
    EXPECT_EQ(y.health.cost, persons * m);
    EXPECT_NEAR(y.health.out_of_pocket, total, relative_tolerance(total));
    EXPECT_NEAR(y.health.reimbursed, persons * m - total, relative_tolerance(total));
  });
}

// ---- e. Wages net of days lost -----------------------------------------------------------------

// Deterministic wages (cv 0, employment 1) of 1000 per laborer; sizes 1..4 with laborers
// round(size / 2), at least 1; every person ill with probability 1.
Scenario days_lost_scenario(std::vector<Illness> illnesses) {
  Scenario s = health_scenario(200, 2, 2, 4);
  s.income.wage = {1000.0, 0.0, 1.0};
  s.health.illnesses = std::move(illnesses);
  return s;
}

void expect_wage_factor(const Scenario& s, double factor) {
  const Model model = build_model(s);
  EXPECT_TRUE(model.stochastic_wage()) << "days lost make the wage a kernel stage";
  const Households& hh = model.households;
  for_each_year(model, [&](const YearOutcome& y) {
    for (std::size_t h = 0; h < hh.count(); ++h) {
      const double want = hh.laborers[h] * 1000.0 * factor / hh.size[h];
      ASSERT_NEAR(y.income_of(h), want, 1e-12 * 1000.0)
          << "household " << h << " size " << hh.size[h] << " laborers " << hh.laborers[h];
    }
  });
}

TEST(HealthDaysLost, LaborerEarnsTheShareOfTheYearItCanWork) {
  // 50 of 250 days lost: 80% of the wage (the cost is 0, so income is the wage).
  expect_wage_factor(days_lost_scenario({illness("a", 1.0, 0.0, 0.0, 50.0)}), 0.8);
  // Two illnesses add: 50 + 100 of 200 labor days.
  Scenario two =
      days_lost_scenario({illness("a", 1.0, 0.0, 0.0, 50.0), illness("b", 1.0, 0.0, 0.0, 100.0)});
  two.population.labor_days_per_laborer = 200.0;
  expect_wage_factor(two, 0.25);
  // 150 + 120 > 250 days: nothing, not a negative wage.
  expect_wage_factor(
      days_lost_scenario({illness("a", 1.0, 0.0, 0.0, 150.0), illness("b", 1.0, 0.0, 0.0, 120.0)}),
      0.0);
  // An illness nobody has loses no days.
  expect_wage_factor(
      days_lost_scenario({illness("a", 0.0, 0.0, 0.0, 250.0), illness("b", 1.0, 0.0, 0.0, 25.0)}),
      0.9);
}

TEST(HealthDaysLost, ExpectedWageWithRandomIllnessAndEmployment) {
  // Size 1 = 1 laborer; wage 1000 (cv 0.3) employed with probability 0.7; illness with
  // probability 0.4 costs 100 of 250 days: E[wage] = 0.7 x 1000 x (1 - 0.4 x 0.4).
  Scenario s = health_scenario(3000, 2, 20, 1);
  s.income.wage = {1000.0, 0.3, 0.7};
  s.health.illnesses = {illness("a", 0.4, 0.0, 0.0, 100.0)};
  const Model model = build_model(s);
  std::vector<double> wage;
  for_each_year(model, [&](const YearOutcome& y) {
    for (double v : y.income_per_capita) wage.push_back(v);
  });
  const test::SampleStats st = test::sample_stats(wage);
  const double p = 0.7, w = 1000.0, cv = 0.3, q = 0.4, f = 0.6;
  const double mean = p * w * (1 - q + q * f);
  const double second = p * w * w * (1 + cv * cv) * (1 - q + q * f * f);
  EXPECT_NEAR(st.mean, mean, 4.0 * st.se_mean());
  EXPECT_NEAR(st.var, second - mean * mean, 4.0 * st.se_var());
}

// ---- f. A household-by-household hand computation ---------------------------------------------

HouseholdRecord record(const std::string& id, int size, int laborers, bool poor, bool guard,
                       bool post) {
  HouseholdRecord r;
  r.id = id;
  r.village = "v";
  r.size = size;
  r.laborers = laborers;
  r.poor = poor;
  r.enrolled[kAgricultural] = false;
  r.enrolled[kIncomeIndex] = false;
  r.enrolled[kPovertyGuard] = guard;
  r.public_post = post;
  return r;
}

// Seven households, deterministic: every person has both illnesses every year (cost 1000 with
// 50 of 250 days lost, cost 200); reimbursement poor 0.8 (cap 150), other 0.5 (no cap); wages
// 2000 (other) and 1200 (poor, wage.poor) per laborer, transfers 100 per capita, one post of
// 1500; poverty guard to 1 x the line of 1000 with cap 800 and premium 10 per capita (poor
// fully subsidised, other half); dibao to 900 for the poor.
Scenario hand_scenario() {
  Scenario s = test::simple_scenario(1, 2, 2);
  s.choice.portfolios.clear();
  s.population.records = {
      record("h0", 1, 1, true, true, false),  record("h1", 2, 1, false, true, false),
      record("h2", 3, 2, true, false, true),  record("h3", 4, 2, false, false, false),
      record("h4", 2, 0, true, false, false), record("h5", 1, 1, false, false, false),
      record("h6", 1, 1, true, false, false)};
  s.population.households = static_cast<int>(s.population.records.size());
  s.income.wage = {2000.0, 0.0, 1.0};
  s.income.wage_poor = {1200.0, 0.0, 1.0};
  s.income.wage_poor_block = true;
  s.income.transfers_per_capita = 100.0;
  s.income.public_posts = {0.0, 1500.0};
  s.income.dibao = {true, 900.0, DibaoEligible::poor};
  s.poverty.line = 1000.0;
  PovertyGuard& pg = s.insurance.poverty_guard;
  pg.enabled = true;
  pg.threshold = 1.0;
  pg.cap = 800.0;
  pg.premium_per_capita = 10.0;
  pg.subsidy = {1.0, 0.5};
  s.health.enabled = true;
  s.health.illnesses = {illness("a", 1.0, 1000.0, 0.0, 50.0), illness("b", 1.0, 200.0, 0.0)};
  s.health.reimbursement = {0.8, 0.5};
  s.health.out_of_pocket_cap = {150.0, kInf};
  return s;
}

TEST(HealthByHand, GuardAndDibaoRespondToOutOfPocketCosts) {
  const Scenario s = hand_scenario();
  const Model model = build_model(s);
  ASSERT_EQ(model.households.count(), 7u);
  // Per household (MODEL.md sections 6, 7, 7a): medical cost C = 1200 x size; O = min(150,
  // 0.2 C) (poor) or 0.5 C; wage per laborer x (1 - 50/250); y_pre net of the premium share and
  // of O; guard min(800, size x max(0, 1000 - y_pre)); dibao size x (900 - y) for the poor.
  //   h0 1 poor  guard: 960 + 100 - 0 - 150 = 910 -> guard 90 -> 1000
  //   h1 2 other guard: 1600 + 200 - 10 - 1200 = 590 -> guard min(800, 1410) -> 1390 -> 695
  //   h2 3 poor  post:  1920 + 300 + 1500 - 150 = 3570 -> 1190
  //   h3 4 other:       3200 + 400 - 2400 = 1200 -> 300
  //   h4 2 poor  no laborer: 200 - 150 = 50 -> 25 -> dibao 2 x 875 = 1750 -> 900
  //   h5 1 other:       1600 + 100 - 600 = 1100
  //   h6 1 poor:        960 + 100 - 150 = 910 (above the dibao line, below the poverty line)
  const double income[7] = {1000.0, 695.0, 1190.0, 300.0, 900.0, 1100.0, 910.0};
  const double oop[7] = {150.0, 1200.0, 150.0, 2400.0, 150.0, 600.0, 150.0};
  const double persons = 14.0;
  RunResults res = run_simulation(model, {1, nullptr});
  for_each_year(model, [&](const YearOutcome& y) {
    for (std::size_t h = 0; h < 7; ++h) {
      EXPECT_NEAR(y.income_of(h), income[h], 1e-9) << "household h" << h << " year " << y.year;
      EXPECT_NEAR(y.out_of_pocket[y.position[h]], oop[h], 1e-9) << "household h" << h;
    }
    EXPECT_NEAR(y.insurance[kPovertyGuard].payout, 90.0 + 800.0, 1e-9);
    EXPECT_EQ(y.insurance[kPovertyGuard].premium, 10.0 + 20.0);
    EXPECT_EQ(y.insurance[kPovertyGuard].subsidy, 10.0 + 10.0);
    EXPECT_NEAR(y.dibao, 1750.0, 1e-9);
    EXPECT_EQ(y.health.cost, 1200.0 * persons);
    EXPECT_NEAR(y.health.out_of_pocket, 4800.0, 1e-9);
    EXPECT_NEAR(y.health.reimbursed, 16800.0 - 4800.0, 1e-9);
    EXPECT_EQ(y.health.episodes, 2.0 * persons);
    EXPECT_EQ(y.health.impoverished, 3.0) << "h1 (2 persons) and h6 (1)";
  });
  // Government: transfers 1400 + post 1500 + guard subsidies 20 (model.cpp's government_fixed),
  // dibao 1750 and reimbursements 12000.
  for (int t = 0; t < s.years; ++t) {
    EXPECT_EQ(model.government_fixed[t], 1400.0 + 1500.0 + 20.0);
    EXPECT_NEAR(res.government_cost.mean[t], 1400.0 + 1500.0 + 20.0 + 1750.0 + 12000.0, 1e-9);
    EXPECT_NEAR(res.income_mean.mean[t], 10970.0 / persons, 1e-9);
    EXPECT_NEAR(res.fgt0.mean[t], 9.0 / persons, 1e-15) << "h1, h3, h4, h6";
    EXPECT_NEAR(res.dibao.mean[t], 1750.0, 1e-9);
    EXPECT_EQ(res.health.cost.mean[t], 16800.0);
    EXPECT_NEAR(res.health.out_of_pocket.mean[t], 4800.0, 1e-9);
    EXPECT_NEAR(res.health.reimbursed.mean[t], 12000.0, 1e-9);
    EXPECT_EQ(res.health.episodes_per_person.mean[t], 2.0);
    EXPECT_NEAR(res.health.impoverished.mean[t], 3.0 / persons, 1e-15);
    EXPECT_EQ(res.health.impoverished.se[t], 0.0);
  }
}

// ---- g. The medically impoverished share --------------------------------------------------------

// Generated population, deterministic: q = 1, cost 1000 per person, no days lost; wages 2000
// (other) and 1200 (poor) per laborer; transfers 100 per capita; line 1000; no guard or dibao.
Scenario impoverished_scenario() {
  Scenario s = health_scenario(600, 2, 2, 6);
  s.population.poor_share = 0.3;
  s.income.wage = {2000.0, 0.0, 1.0};
  s.income.wage_poor = {1200.0, 0.0, 1.0};
  s.income.wage_poor_block = true;
  s.income.transfers_per_capita = 100.0;
  s.poverty.line = 1000.0;
  s.health.illnesses = {illness("a", 1.0, 1000.0, 0.0)};
  s.health.reimbursement = {0.75, 0.5};
  s.health.out_of_pocket_cap = {300.0, 800.0};
  return s;
}

TEST(HealthImpoverished, ShareOfPersonsPoorOnlyBecauseOfOutOfPocketCosts) {
  const Scenario s = impoverished_scenario();
  const Model model = build_model(s);
  const Households& hh = model.households;
  double persons = 0.0, poor = 0.0, impoverished = 0.0, income = 0.0;
  std::vector<double> y(hh.count());
  for (std::size_t h = 0; h < hh.count(); ++h) {
    const bool is_poor = hh.poor[h];
    const double size = hh.size[h];
    const double o = std::min(is_poor ? 300.0 : 800.0, (is_poor ? 0.25 : 0.5) * size * 1000.0);
    y[h] = (100.0 * size + hh.laborers[h] * (is_poor ? 1200.0 : 2000.0) - o) / size;
    persons += size;
    income += size * y[h];
    if (y[h] < 1000.0) poor += size;
    if (y[h] < 1000.0 && y[h] + o / size >= 1000.0) impoverished += size;
  }
  ASSERT_GT(impoverished, 0.1 * persons) << "the case tests nothing";
  ASSERT_GT(poor, impoverished) << "some households are poor before health costs too";
  const RunResults res = run_simulation(model, {2, nullptr});
  for (int t = 0; t < s.years; ++t) {
    EXPECT_DOUBLE_EQ(res.health.impoverished.mean[t], impoverished / persons);
    EXPECT_DOUBLE_EQ(res.fgt0.mean[t], poor / persons);
    EXPECT_NEAR(res.income_mean.mean[t], income / persons, 1e-9 * income / persons);
  }
  for_each_year(model, [&](const YearOutcome& out) {
    for (std::size_t h = 0; h < hh.count(); ++h)
      ASSERT_NEAR(out.income_of(h), y[h], 1e-9 * std::fabs(y[h]) + 1e-9) << "household " << h;
  });

  // Without deduct_out_of_pocket nobody is impoverished and incomes are the wages and transfers.
  Scenario official = s;
  official.health.deduct_out_of_pocket = false;
  const Model official_model = build_model(official);
  const RunResults res_official = run_simulation(official_model, {2, nullptr});
  for (int t = 0; t < s.years; ++t) {
    EXPECT_EQ(res_official.health.impoverished.mean[t], 0.0);
    EXPECT_EQ(res_official.health.out_of_pocket.mean[t], res.health.out_of_pocket.mean[t]);
  }
  for_each_year(official_model, [&](const YearOutcome& out) {
    for (std::size_t h = 0; h < hh.count(); ++h) {
      const double want =
          (100.0 * hh.size[h] + hh.laborers[h] * (hh.poor[h] ? 1200.0 : 2000.0)) / hh.size[h];
      ASSERT_NEAR(out.income_of(h), want, 1e-9 * want) << "household " << h;
    }
  });
}

// A varied scenario (random prices, yields, wages, dibao) whose illnesses lose no working days.
Scenario random_scenario_with_health(bool deduct) {
  Scenario s = test::varied_scenario(500, 3, 24, 4, 5);
  s.health.enabled = true;
  s.health.illnesses = {illness("outpatient", 0.4, 600.0, 1.0),
                        illness("inpatient", 0.08, 12000.0, 1.2)};
  s.health.reimbursement = {0.9117, 0.55};
  s.health.out_of_pocket_cap = {3000.0, kInf};
  s.health.deduct_out_of_pocket = deduct;
  return s;
}

TEST(HealthImpoverished, NotDeductedLeavesEveryIncomeAsWithoutHealth) {
  Scenario none = random_scenario_with_health(false);
  none.health = HealthSpec{};
  const Model model_none = build_model(none, 2);
  const RunResults without = run_simulation(model_none, {2, nullptr});
  const Model model = build_model(random_scenario_with_health(false), 2);
  const RunResults with = run_simulation(model, {2, nullptr});
  ASSERT_FALSE(without.health_enabled);
  ASSERT_TRUE(with.health_enabled);
  // The health draws take nothing from the other draws (addressed, MODEL.md section 10).
  EXPECT_EQ(with.household_mean_income, without.household_mean_income);
  EXPECT_EQ(with.per_replication.mean_income, without.per_replication.mean_income);
  EXPECT_EQ(with.per_replication.fgt0, without.per_replication.fgt0);
  EXPECT_EQ(with.per_replication.dibao, without.per_replication.dibao);
  EXPECT_EQ(with.income_quantiles, without.income_quantiles);
  const ReplicationTable& a = with.per_replication;
  for (std::size_t c = 0; c < a.government_cost.size(); ++c) {
    EXPECT_EQ(a.health.impoverished[c], 0.0);
    ASSERT_GT(a.health.reimbursed[c], 0.0);
    EXPECT_NEAR(a.government_cost[c],
                without.per_replication.government_cost[c] + a.health.reimbursed[c],
                relative_tolerance(a.government_cost[c]));
  }
  // Deducted, the same draws lower incomes and impoverish some.
  const RunResults deducted =
      run_simulation(build_model(random_scenario_with_health(true), 2), {2, nullptr});
  EXPECT_EQ(deducted.health.cost.mean, with.health.cost.mean);
  for (int t = 0; t < 3; ++t) {
    EXPECT_LT(deducted.income_mean.mean[t], without.income_mean.mean[t]);
    EXPECT_GT(deducted.health.impoverished.mean[t], 0.0);
  }
}

// ---- Draw addresses (MODEL.md section 10, include/incsim/draws.h) ------------------------------

// Each household's out-of-pocket cost and income computed here from the raw Philox4x32-10
// words at the addresses of draws.h as they are today ("never renumber"): Stream::replication,
// counter {household, r, t, index}; person 4b + w has illness e when uniform(word w of index
// 0x1000000 + e x 0x10000 + b) < q_e; the cost of person j's episode is mean x exp(s z -
// s^2/2) with z the cos branch of Box-Muller on words (w0, w1) of index 0x1000000 + e x
// 0x10000 + 0x8000 + j. Sizes up to 10 use person blocks 0, 1 and 2. Within 1e-12 relative
// (the kernel's vector maths may differ from scalar libm in the last bits).
TEST(HealthDraws, OutOfPocketCostsAndWagesFromTheRawWords) {
  Scenario s = health_scenario(300, 2, 3, 10);
  s.seed = 987654321;
  s.population.poor_share = 0.5;
  s.income.wage = {1000.0, 0.0, 1.0};
  s.income.transfers_per_capita = 100.0;
  s.health.illnesses = {illness("a", 0.5, 700.0, 0.7), illness("b", 0.3, 2000.0, 0.0, 40.0),
                        illness("c", 0.2, 300.0, 1.5, 100.0)};
  s.health.reimbursement = {0.8, 0.3};
  s.health.out_of_pocket_cap = {500.0, kInf};
  const Model model = build_model(s);
  const Households& hh = model.households;
  const rng::Addressed draw{rng::make_key(s.seed, rng::Stream::replication)};
  auto uniform = [](std::uint32_t w) { return (static_cast<double>(w) + 0.5) / 4294967296.0; };
  std::size_t ill_laborers = 0, blocks_beyond_first = 0;
  for (std::int64_t r = 0; r < s.replications; ++r) {
    const Kernel kernel(model);
    Workspace ws(model);
    kernel.run_replication(r, ws, [&](const YearOutcome& y) {
      for (std::size_t h = 0; h < hh.count(); ++h) {
        const auto unit = static_cast<std::uint32_t>(h);
        const auto rep = static_cast<std::uint32_t>(r), year = static_cast<std::uint32_t>(y.year);
        double cost = 0.0;
        std::vector<double> days(static_cast<std::size_t>(hh.laborers[h]), 0.0);
        for (std::uint32_t e = 0; e < s.health.illnesses.size(); ++e) {
          const Illness& ill = s.health.illnesses[e];
          for (int j = 0; j < hh.size[h]; ++j) {
            const std::uint32_t index =
                0x1000000u + e * 0x10000u + static_cast<std::uint32_t>(j / 4);
            const rng::Block w = draw(unit, rep, year, index);
            if (!(uniform(w[j % 4]) < ill.probability)) continue;
            blocks_beyond_first += j >= 4;
            const rng::Block c = draw(unit, rep, year, 0x1000000u + e * 0x10000u + 0x8000u + j);
            const double z = std::sqrt(-2.0 * std::log(uniform(c[0]))) *
                             std::cos(2.0 * std::numbers::pi * uniform(c[1]));
            const double sigma = std::sqrt(std::log1p(ill.cost.cv * ill.cost.cv));
            cost += ill.cost.mean * std::exp(sigma * z - 0.5 * sigma * sigma);
            if (j < hh.laborers[h]) days[j] += ill.days_lost;
          }
        }
        const bool poor = hh.poor[h];
        const double oop = std::min(poor ? 500.0 : kInf, (poor ? 0.2 : 0.7) * cost);
        double wage = 0.0;
        for (double d : days) {
          wage += 1000.0 * std::max(0.0, 1.0 - d / 250.0);
          ill_laborers += d > 0.0;
        }
        const double income = (100.0 * hh.size[h] + wage - oop) / hh.size[h];
        const double got_oop = y.out_of_pocket[y.position[h]];
        ASSERT_NEAR(got_oop, oop, 1e-12 * oop)
            << "household " << h << " r " << r << " t " << y.year;
        ASSERT_NEAR(y.income_of(h), income, 1e-12 * std::max(1.0, std::fabs(income)) + 1e-9)
            << "household " << h << " r " << r << " t " << y.year;
      }
    });
  }
  EXPECT_GT(ill_laborers, 100u);
  EXPECT_GT(blocks_beyond_first, 100u);
}

// ---- h. Output layout ---------------------------------------------------------------------------

bool has_prefix(const std::string& s, const std::string& prefix) {
  return s.compare(0, prefix.size(), prefix) == 0;
}

// Bitwise equality of two vectors (NaN, e.g. of an empty group, equals NaN of the same bits).
bool same_bits(const std::vector<double>& a, const std::vector<double>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(double)) == 0;
}

TEST(HealthOutput, NoHealthSectionMeansNoHealthDatasets) {
  Scenario s = random_scenario_with_health(true);
  s.health = HealthSpec{};
  const Model model = build_model(s, 2);
  const RunResults res = run_simulation(model, {2, nullptr});
  EXPECT_FALSE(res.health_enabled);
  for (const GroupResult& g : res.groups)
    EXPECT_TRUE(g.health_out_of_pocket.mean.empty()) << g.name;
  const std::string path = test::temp_path(".h5").string();
  write_results(path, model, res);
  const auto bytes = test::dataset_bytes(path);
  ASSERT_GT(bytes.size(), 40u);
  for (const auto& [name, data] : bytes) {
    EXPECT_FALSE(has_prefix(name, "health")) << name;
    EXPECT_EQ(name.find("health_"), std::string::npos) << name;
  }
}

TEST(HealthOutput, HealthDatasetsHoldTheResultsPerYear) {
  const Scenario s = random_scenario_with_health(true);
  const Model model = build_model(s, 2);
  const RunResults res = run_simulation(model, {2, nullptr});
  const std::string file = test::temp_path(".h5").string();
  write_results(file, model, res);
  h5::File f = h5::File::open_read(file);
  const h5::Group root = f.root();
  const std::pair<const char*, const Estimate*> datasets[] = {
      {"health/cost", &res.health.cost},
      {"health/reimbursed", &res.health.reimbursed},
      {"health/out_of_pocket", &res.health.out_of_pocket},
      {"health/episodes_per_person", &res.health.episodes_per_person},
      {"health/impoverished", &res.health.impoverished},
      {"fiscal/health_reimbursement", &res.health.reimbursed}};
  for (const auto& [name, estimate] : datasets) {
    ASSERT_TRUE(root.exists(name)) << name;
    const std::string path = std::string("/") + name;
    std::vector<hsize_t> dims;
    EXPECT_TRUE(same_bits(h5::read_doubles(f, path, &dims), estimate->mean)) << path;
    EXPECT_EQ(dims, (std::vector<hsize_t>{3u})) << path;
    EXPECT_TRUE(same_bits(h5::read_doubles(f, path + "_se"), estimate->se)) << path;
    EXPECT_EQ(estimate->mean.size(), 3u) << path;
  }
  for (const GroupResult& g : res.groups) {
    const std::string name = "groups/" + g.name + "/health_out_of_pocket";
    ASSERT_TRUE(root.exists(name)) << name;
    std::vector<hsize_t> dims;
    EXPECT_TRUE(same_bits(h5::read_doubles(f, "/" + name, &dims), g.health_out_of_pocket.mean))
        << name;
    EXPECT_EQ(dims, (std::vector<hsize_t>{g.labels.size(), 3u})) << name;
    EXPECT_TRUE(same_bits(h5::read_doubles(f, "/" + name + "_se"), g.health_out_of_pocket.se))
        << name;
    const std::string cost = "groups/" + g.name + "/health_cost";
    ASSERT_TRUE(root.exists(cost)) << cost;
    EXPECT_TRUE(same_bits(h5::read_doubles(f, "/" + cost, &dims), g.health_cost.mean)) << cost;
    EXPECT_EQ(dims, (std::vector<hsize_t>{g.labels.size(), 3u})) << cost;
    EXPECT_TRUE(same_bits(h5::read_doubles(f, "/" + cost + "_se"), g.health_cost.se)) << cost;
  }
}

// Every grouping splits the population's medical and out-of-pocket costs: its groups' means
// add up to /health/cost and /health/out_of_pocket each year (the same replications' sums in
// another order: to 1e-12 relative), and each group's costs are at least its out-of-pocket
// (empty groups, NaN, aside).
TEST(HealthOutput, GroupsMedicalCostsAddUpToThePopulations) {
  const Scenario s = random_scenario_with_health(true);
  const Model model = build_model(s, 2);
  const RunResults res = run_simulation(model, {2, nullptr});
  ASSERT_FALSE(res.groups.empty());
  ASSERT_GT(res.health.cost.mean.at(0), 0.0);
  for (const GroupResult& g : res.groups)
    for (std::size_t t = 0; t < 3; ++t) {
      double cost = 0.0, oop = 0.0;
      for (std::size_t k = 0; k < g.labels.size(); ++k) {
        if (g.persons[k] <= 0.0) continue;  // an empty group has NaN, and nothing to add
        const double c = g.health_cost.mean[k * 3 + t], o = g.health_out_of_pocket.mean[k * 3 + t];
        EXPECT_GE(c, o) << g.name << " " << g.labels[k] << " year " << t + 1;
        EXPECT_GE(o, 0.0);
        cost += c;
        oop += o;
      }
      EXPECT_NEAR(cost, res.health.cost.mean[t], 1e-12 * res.health.cost.mean[t]) << g.name;
      EXPECT_NEAR(oop, res.health.out_of_pocket.mean[t], 1e-12 * res.health.cost.mean[t]) << g.name;
    }
}

TEST(HealthOutput, IllnessesThatNeverOccurChangeNoOtherDataset) {
  Scenario none = random_scenario_with_health(true);
  none.health = HealthSpec{};
  Scenario never = random_scenario_with_health(true);
  for (Illness& e : never.health.illnesses) e.probability = 0.0;
  never.health.illnesses[0].days_lost = 30.0;
  std::map<std::string, std::string> bytes[2];
  int k = 0;
  for (const Scenario* s : {&none, &never}) {
    const Model model = build_model(*s, 2);
    const std::string path = test::temp_path(std::to_string(k) + ".h5").string();
    write_results(path, model, run_simulation(model, {2, nullptr}));
    bytes[k++] = test::dataset_bytes(path);
  }
  std::size_t common = 0;
  for (const auto& [name, data] : bytes[0]) {
    ASSERT_TRUE(bytes[1].count(name)) << name;
    EXPECT_TRUE(bytes[1].at(name) == data) << name << " differs";
    ++common;
  }
  EXPECT_GT(common, 40u);
  EXPECT_GT(bytes[1].size(), bytes[0].size()) << "the health datasets";
}

// ---- i. Group totals
// -----------------------------------------------------------------------------

TEST(HealthGroups, GroupOutOfPocketCostsSumToTheTotal) {
  Scenario s = random_scenario_with_health(true);
  s.insurance.agricultural = {true, {0}, {2000.0}, 0.1, 0.06, {1.0, 0.5}, {1.0, 0.4}};
  s.choice.portfolios = {{0, -1, 0.6}};  // main_industry: "farm" and "none"
  const Model model = build_model(s, 2);
  const RunResults res = run_simulation(model, {2, nullptr});
  ASSERT_EQ(res.groups.size(), 4u);
  for (const GroupResult& g : res.groups) {
    ASSERT_EQ(g.health_out_of_pocket.mean.size(), g.labels.size() * 3u) << g.name;
    for (int t = 0; t < 3; ++t) {
      double sum = 0.0;
      int nonzero = 0;
      for (std::size_t k = 0; k < g.labels.size(); ++k) {
        const double v = g.health_out_of_pocket.mean[k * 3 + t];
        if (g.persons[k] <= 0.0) continue;
        sum += v;
        nonzero += v > 0.0;
        EXPECT_GT(g.health_out_of_pocket.se[k * 3 + t], 0.0) << g.name << " " << g.labels[k];
      }
      EXPECT_GE(nonzero, 2) << g.name;
      const double total = res.health.out_of_pocket.mean[t];
      EXPECT_NEAR(sum, total, relative_tolerance(total)) << g.name << " year " << t + 1;
    }
  }
  // The poor group's total by hand from the kernel's per-household values.
  const GroupResult& poor = res.groups[2];
  ASSERT_EQ(poor.name, "poor");
  std::vector<double> by_year(3, 0.0);
  for_each_year(model, [&](const YearOutcome& y) {
    for (std::size_t h = 0; h < model.households.count(); ++h)
      if (model.households.poor[h]) by_year[y.year - 1] += y.out_of_pocket[y.position[h]];
  });
  for (int t = 0; t < 3; ++t) {
    const double want = by_year[t] / static_cast<double>(s.replications);
    EXPECT_NEAR(poor.health_out_of_pocket.mean[t], want, relative_tolerance(want));
  }
}

// ---- g. Who the poor are: /poverty/registered_share ------------------------------------------

// health_scenario without illness: a share of registered households and one wage (per laborer,
// cv, employment rate) for each group.
Scenario registered_scenario(int households, int years, std::int64_t reps, int max_size,
                             double poor_share, WageSpec other, WageSpec poor, double line) {
  Scenario s = health_scenario(households, years, reps, max_size);
  s.population.poor_share = poor_share;
  s.income.wage = other;
  s.income.wage_poor = poor;
  s.income.wage_poor_block = true;
  s.poverty.line = line;
  return s;
}

TEST(RegisteredShare, EqualsTheShareOfRegisteredPersonsAmongThePoorYearByYear) {
  // Sizes 1..4, wages drawn (employment 0.6 for the others, 0.3 for the registered), a line
  // that some of both groups miss: each replication's share computed here from the kernel's
  // incomes, averaged over the replications with someone poor, is the dataset.
  const Scenario s =
      registered_scenario(400, 3, 60, 4, 0.3, {1000.0, 0.3, 0.6}, {800.0, 0.3, 0.3}, 300.0);
  const Model model = build_model(s);
  const KernelTables& kt = model.kernel;
  std::vector<double> sum(3, 0.0), count(3, 0.0);
  for_each_year(model, [&](const YearOutcome& y) {
    double poor = 0.0, registered = 0.0;
    for (std::size_t k = 0; k < kt.count(); ++k)
      if (y.income_per_capita[k] < model.poverty_line[y.year - 1]) {
        poor += kt.size[k];
        if (kt.poor[k]) registered += kt.size[k];
      }
    if (poor > 0.0) {
      sum[y.year - 1] += registered / poor;
      count[y.year - 1] += 1.0;
    }
  });
  const RunResults res = run_simulation(model, {2, nullptr});
  ASSERT_EQ(res.registered_share.mean.size(), 3u);
  for (int t = 0; t < 3; ++t) {
    ASSERT_GT(count[t], 0.0);
    const double expected = sum[t] / count[t];
    EXPECT_GT(expected, 0.05);
    EXPECT_LT(expected, 0.95);  // both groups have poor persons: a real share
    EXPECT_NEAR(res.registered_share.mean[t], expected, 1e-12) << "year " << t + 1;
    EXPECT_GT(res.registered_share.se[t], 0.0);
  }
}

TEST(RegisteredShare, OnlyRegisteredPoorGiveOneAndEveryonePoorGivesTheirPersonShare) {
  // No wage for the registered and a wage above the line for the others: every poor person is
  // registered (share 1, SE 0). With a line above every income: the registered persons' share
  // of all persons.
  Scenario s =
      registered_scenario(300, 2, 10, 3, 0.4, {2000.0, 0.0, 1.0}, {2000.0, 0.0, 0.0}, 1000.0);
  RunResults res = run_simulation(build_model(s), {2, nullptr});
  for (int t = 0; t < 2; ++t) {
    EXPECT_EQ(res.registered_share.mean[t], 1.0);
    EXPECT_EQ(res.registered_share.se[t], 0.0);
  }
  s.poverty.line = 1e9;
  const Model model = build_model(s);
  double registered = 0.0, persons = 0.0;
  for (std::size_t k = 0; k < model.kernel.count(); ++k) {
    persons += model.kernel.size[k];
    if (model.kernel.poor[k]) registered += model.kernel.size[k];
  }
  ASSERT_GT(registered, 0.0);
  ASSERT_LT(registered, persons);
  res = run_simulation(model, {2, nullptr});
  for (int t = 0; t < 2; ++t) EXPECT_DOUBLE_EQ(res.registered_share.mean[t], registered / persons);
}

}  // namespace
}  // namespace incsim
