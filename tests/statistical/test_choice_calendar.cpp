// Choice v2 (MODEL.md section 8): utility over the years with discount weights, industry
// capacities served in priority order, and why a household runs none
// (Households::binding_constraint, section 4's units and shortages).
//
// Every scenario here has all shocks off (no price volatility, yield_cv 0, no hazards, no
// insurance, deterministic wages, no health section), so each household's income under each
// portfolio is a closed form computed in this file from the scenario's numbers (mirrored in
// the `Ind` tables next to the YAML): revenue in harvest years = units x yield x price, minus
// the operating cost every year, minus the setup cost net of subsidy in year 1, plus wages and
// per-capita transfers, divided by the household size. Household sizes are 1, 2 or 4 and
// every amount an integer, so per-capita incomes and their horizon means are exact and the
// designed ties are exact ties in the engine too.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <limits>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "incsim/choice.h"
#include "incsim/draws.h"
#include "incsim/engine.h"
#include "incsim/hdf5.h"
#include "incsim/load.h"
#include "incsim/model.h"
#include "incsim/output.h"
#include "incsim/rng.h"
#include "incsim/simulate.h"
#include "support.h"

namespace incsim {
namespace {

namespace fs = std::filesystem;

constexpr auto kNone = BindingConstraint::none;
constexpr auto kFarmland = BindingConstraint::farmland;
constexpr auto kForest = BindingConstraint::forest;
constexpr auto kLabor = BindingConstraint::labor;
constexpr auto kCash = BindingConstraint::cash;
constexpr auto kCapacity = BindingConstraint::capacity;
constexpr auto kNoCandidate = BindingConstraint::no_candidate;

// ---- the closed form ---------------------------------------------------------------------------

// An industry as the test reads it (mirrors the YAML of each scenario below).
struct Ind {
  std::string name;
  int cycle = 1;
  double revenue = 0.0;  // per unit per harvest: yield x price
  double operating = 0.0;
  double setup = 0.0;  // per unit, before subsidy
  double subsidy = 0.0;
  double farmland = 0.0, forest = 0.0, labor = 0.0;
  int max_units = 1;
};

struct Hh {
  std::string id;
  int size = 1;
  int laborers = 0;
  double farmland = 0.0, forest = 0.0, capital = 0.0;
};

struct Economy {
  std::vector<Ind> industries;
  int years = 0;
  double wage = 0.0;      // per laborer-year, deterministic
  double transfer = 0.0;  // per capita
  double labor_days = 250.0;
};

Hh household_of(const Model& m, std::size_t h) {
  const Households& hh = m.households;
  return {hh.id[h], hh.size[h], hh.laborers[h], hh.farmland_mu[h], hh.forest_mu[h], hh.capital[h]};
}

bool fits_in(double used, double need, double available) {
  return used + need <= available + 1e-9 * std::max(1.0, std::abs(available));
}

// Section 4, written out: one unit of main, then one of aux, then main grows to max_units, then
// aux, while farmland, forest, labor days and net setup cost fit. {0, 0} if infeasible.
Units units_by_hand(const Economy& e, int main, int aux, const Hh& h) {
  double farmland = 0, forest = 0, labor = 0, cash = 0;
  auto add = [&](int i) {
    const Ind& d = e.industries[static_cast<std::size_t>(i)];
    const double setup = d.setup * (1.0 - d.subsidy);
    if (!fits_in(farmland, d.farmland, h.farmland) || !fits_in(forest, d.forest, h.forest) ||
        !fits_in(labor, d.labor, h.laborers * e.labor_days) || !fits_in(cash, setup, h.capital))
      return false;
    farmland += d.farmland;
    forest += d.forest;
    labor += d.labor;
    cash += setup;
    return true;
  };
  Units n;
  if (!add(main)) return {};
  n.main = 1;
  if (aux >= 0) {
    if (!add(aux)) return {};
    n.aux = 1;
  }
  while (n.main < e.industries[static_cast<std::size_t>(main)].max_units && add(main)) ++n.main;
  if (aux >= 0)
    while (n.aux < e.industries[static_cast<std::size_t>(aux)].max_units && add(aux)) ++n.aux;
  return n;
}

// Per-capita income y_t, t = 1..T (index t-1), of household h running (main, aux) with `n`.
std::vector<double> incomes_by_hand(const Economy& e, int main, int aux, Units n, const Hh& h) {
  std::vector<double> y(static_cast<std::size_t>(e.years));
  for (int t = 1; t <= e.years; ++t) {
    double total = h.laborers * e.wage + h.size * e.transfer;
    for (int slot = 0; slot < 2; ++slot) {
      const int i = slot == 0 ? main : aux;
      const int units = slot == 0 ? n.main : n.aux;
      if (i < 0 || units == 0) continue;
      const Ind& d = e.industries[static_cast<std::size_t>(i)];
      if (t % d.cycle == 0) total += units * d.revenue;
      total -= units * d.operating;
      if (t == 1) total -= units * d.setup * (1.0 - d.subsidy);
    }
    y[static_cast<std::size_t>(t - 1)] = total / h.size;
  }
  return y;
}

struct Utility {
  bool cara = false;
  double g = 2.0;  // CRRA
  double a = 0.0;  // CARA
  double floor = 500.0;
};

// CRRA u(y) = (max(y, floor)^(1-g) - 1) / (1-g) without its constant -1/(1-g): the weights and
// the mean over replications sum to 1, so the constant drops out of u^-1(E[sum_t w_t u]) and
// leaving it in would only cancel digits away at high g.
double utility(const Utility& u, double y) {
  if (u.cara) return -std::exp(-u.a * y);
  const double x = std::max(y, u.floor);
  if (u.g == 1.0) return std::log(x);
  return std::pow(x, 1.0 - u.g) / (1.0 - u.g);
}

double inverse_utility(const Utility& u, double v) {
  if (u.cara) return -std::log(-v) / u.a;
  if (u.g == 1.0) return std::exp(v);
  return std::pow((1.0 - u.g) * v, 1.0 / (1.0 - u.g));
}

// w_t = beta^(t-1) / sum_s beta^(s-1), beta = 1 / (1 + rate), written out.
std::vector<double> weights_by_hand(double rate, int years) {
  std::vector<double> w;
  double total = 0.0;
  for (int t = 1; t <= years; ++t) {
    w.push_back(std::pow(1.0 / (1.0 + rate), t - 1));
    total += w.back();
  }
  for (double& x : w) x /= total;
  return w;
}

// u^-1(mean_r sum_t w_t u(y[r, t])) (years) or u^-1(mean_r u(mean_t y[r, t])) (horizon mean),
// `y` replication-major.
double ce_by_hand(const Utility& u, bool over_years, double rate, const std::vector<double>& y,
                  int years) {
  const std::vector<double> w = weights_by_hand(rate, years);
  const std::size_t reps = y.size() / static_cast<std::size_t>(years);
  double mean = 0.0;
  for (std::size_t r = 0; r < reps; ++r) {
    double v = 0.0, total = 0.0;
    for (int t = 0; t < years; ++t) {
      const double x = y[r * static_cast<std::size_t>(years) + static_cast<std::size_t>(t)];
      v += w[static_cast<std::size_t>(t)] * utility(u, x);
      total += x;  // exact for the integer incomes here: designed ties stay exact
    }
    mean += (over_years ? v : utility(u, total / years)) / static_cast<double>(reps);
  }
  return inverse_utility(u, mean);
}

// Candidate portfolios in the order of section 8 (main-major; singles after each main's pairs
// when two_industries is false), written out.
std::vector<std::pair<int, int>> portfolios_by_hand(const std::vector<int>& candidates,
                                                    bool two_industries) {
  std::vector<std::pair<int, int>> out;
  for (int m : candidates) {
    for (int a : candidates)
      if (a != m) out.push_back({m, a});
    if (!two_industries) out.push_back({m, -1});
  }
  return out;
}

struct Ranked {
  int best = -1;  // index into the portfolios, -1 = none feasible
  double ce = std::numeric_limits<double>::quiet_NaN();
  // Smallest relative gap between the best CE and a different, not exactly equal CE: the
  // closed form decides the ranking only if this is well above rounding.
  double closest_gap = std::numeric_limits<double>::infinity();
};

// The expected-utility choice by the closed form: highest CE, ties to the first.
Ranked rank_by_hand(const Economy& e, const std::vector<std::pair<int, int>>& portfolios,
                    const Hh& h, const Utility& u, bool over_years, double rate) {
  Ranked r;
  std::vector<double> ce(portfolios.size(), std::numeric_limits<double>::quiet_NaN());
  for (std::size_t p = 0; p < portfolios.size(); ++p) {
    const Units n = units_by_hand(e, portfolios[p].first, portfolios[p].second, h);
    if (n.main == 0) continue;
    ce[p] =
        ce_by_hand(u, over_years, rate,
                   incomes_by_hand(e, portfolios[p].first, portfolios[p].second, n, h), e.years);
    if (r.best < 0 || ce[p] > r.ce) r.best = static_cast<int>(p), r.ce = ce[p];
  }
  for (double v : ce)
    if (!std::isnan(v) && v != r.ce)
      r.closest_gap = std::min(r.closest_gap, std::abs(v - r.ce) / std::abs(r.ce));
  return r;
}

// ---- scenarios ---------------------------------------------------------------------------------

std::string write_csv(const std::string& name, const std::vector<Hh>& households,
                      const std::vector<std::pair<std::string, std::string>>& portfolios = {}) {
  const fs::path dir = test::temp_path("_dir");
  fs::create_directories(dir);
  std::string text = "id,village,size,laborers,farmland_mu,forest_mu,capital,poor";
  if (!portfolios.empty()) text += ",main,aux";
  text += "\n";
  for (std::size_t k = 0; k < households.size(); ++k) {
    const Hh& h = households[k];
    text += h.id + ",v," + std::to_string(h.size) + "," + std::to_string(h.laborers) + "," +
            std::to_string(h.farmland) + "," + std::to_string(h.forest) + "," +
            std::to_string(h.capital) + ",0";
    if (!portfolios.empty()) text += "," + portfolios[k].first + "," + portfolios[k].second;
    text += "\n";
  }
  test::write_file(dir / name, text);
  return (dir / "scenario.yaml").string();  // the csv is named relative to this
}

Scenario load(const std::string& yaml, const std::string& source,
              const std::vector<Override>& overrides = {}) {
  return load_scenario_text(yaml, source, overrides);
}

// Test 1 and 2. Over 6 years: `steady` nets 800 per unit every year; `lumpy` (2-year cycle)
// nets -200, 1800, -200, 1800, -200, 1800: the same horizon mean, 800; `herb` (3-year cycle,
// setup 2000 half subsidised) nets -1100, -100, 4900, -100, -100, 4900: mean 1400.
const char* kCalendarYaml = R"(
scenario: {name: calendar, years: 6, replications: 2, seed: 11}
markets:
  grain: {unit: kg, price: 10}
industries:
  steady:
    operating_cost: 200
    needs: {farmland_mu: 1, labor_days: 50}
    max_units: 2
    products: [{market: grain, yield: 100}]
  lumpy:
    cycle_years: 2
    operating_cost: 200
    needs: {farmland_mu: 1, labor_days: 50}
    max_units: 2
    products: [{market: grain, yield: 200}]
  herb:
    cycle_years: 3
    setup_cost: 2000
    setup_subsidy: 0.5
    operating_cost: 100
    needs: {forest_mu: 1, labor_days: 100}
    max_units: 2
    products: [{market: grain, yield: 500}]
population: {csv: households.csv}
income:
  wage: {per_laborer: 1000}
  transfers_per_capita: 100
choice:
  rule: expected_utility
  two_industries: false
  utility: {crra: 2, floor: 100, over: years, discount_rate: 0.1}
  pilot_replications: 2
poverty: {line: 1000}
)";

Economy calendar_economy() {
  Economy e;
  e.years = 6;
  e.wage = 1000.0;
  e.transfer = 100.0;
  e.industries = {
      {"steady", 1, 1000.0, 200.0, 0.0, 0.0, 1.0, 0.0, 50.0, 2},
      {"lumpy", 2, 2000.0, 200.0, 0.0, 0.0, 1.0, 0.0, 50.0, 2},
      {"herb", 3, 5000.0, 100.0, 2000.0, 0.5, 0.0, 1.0, 100.0, 2},
  };
  return e;
}

const std::vector<Hh> kCalendarHouseholds = {
    {"solo", 1, 1, 1, 0, 0},          // steady or lumpy, one unit
    {"two_mu", 2, 1, 2, 0, 0},        // pairs of steady and lumpy, or two units of one
    {"big", 4, 2, 3, 2, 5000},        // everything
    {"herb_only", 2, 1, 0, 2, 3000},  // no farmland: herb
    {"poor_herb", 4, 1, 0, 1, 1000},  // exactly the net setup cost; year 1 below the floor
    {"no_labor", 2, 0, 3, 3, 5000},   // nothing feasible
    {"mixed", 1, 1, 1, 1, 1000},      // (steady, herb) one unit each
    {"rich", 4, 3, 4, 4, 10000},      // two units of everything
    {"crowded", 4, 1, 1, 0, 0},       // four persons on one unit of steady or lumpy
    {"no_cash", 2, 2, 2, 1, 500},     // herb unaffordable
    {"four_one", 4, 1, 2, 2, 2000},   // one laborer, 250 days: labor binds the units
    {"two_two", 2, 2, 2, 2, 4000},    // two of each
    {"one_herb", 1, 1, 0, 1, 1000},   // herb alone, one unit
    {"land_rich", 2, 1, 4, 0, 0},     // steady and lumpy up to max_units
};

std::string calendar_source() {
  return write_csv("households.csv", kCalendarHouseholds);
}

int industry(const Economy& e, const std::string& name) {
  for (std::size_t i = 0; i < e.industries.size(); ++i)
    if (e.industries[i].name == name) return static_cast<int>(i);
  ADD_FAILURE() << name;
  return -1;
}

std::size_t index_of(const Model& m, const std::string& id) {
  for (std::size_t h = 0; h < m.households.count(); ++h)
    if (m.households.id[h] == id) return h;
  ADD_FAILURE() << "no household " << id;
  return 0;
}

// Checks the model's choice against the closed form for every household; returns how many
// households run a portfolio.
int expect_closed_form_choice(const Model& m, const Economy& e, const Utility& u, bool over_years,
                              double rate, const std::vector<int>& candidates,
                              const std::string& what) {
  const auto portfolios = portfolios_by_hand(candidates, false);
  EXPECT_EQ(candidate_portfolios(m.scenario), portfolios) << what;
  int running = 0;
  for (std::size_t h = 0; h < m.households.count(); ++h) {
    const Hh hh = household_of(m, h);
    const Ranked r = rank_by_hand(e, portfolios, hh, u, over_years, rate);
    const std::string where = what + ", household " + hh.id;
    EXPECT_GT(r.closest_gap, 1e-9) << where << ": the design has a near tie";
    if (r.best < 0) {
      EXPECT_EQ(m.households.main[h], -1) << where;
      EXPECT_TRUE(std::isnan(m.households.certainty_equivalent[h])) << where;
      continue;
    }
    ++running;
    const auto [main, aux] = portfolios[static_cast<std::size_t>(r.best)];
    const Units n = units_by_hand(e, main, aux, hh);
    EXPECT_EQ(m.households.main[h], main) << where;
    EXPECT_EQ(m.households.aux[h], aux) << where;
    EXPECT_EQ(m.households.units_main[h], n.main) << where;
    EXPECT_EQ(m.households.units_aux[h], n.aux) << where;
    EXPECT_NEAR(m.households.certainty_equivalent[h], r.ce, 1e-9 * std::abs(r.ce)) << where;
  }
  return running;
}

// ---- 1. choice by the closed form -----------------------------------------------------------

TEST(ChoiceCalendar, HandComputedIncomesOfAFewHouseholds) {
  // The closed form itself, by hand, before it is used as the reference.
  const Economy e = calendar_economy();
  const Hh solo = kCalendarHouseholds[0], poor_herb = kCalendarHouseholds[4];
  EXPECT_EQ(incomes_by_hand(e, 0, -1, {1, 0}, solo), std::vector<double>(6, 1900.0));
  EXPECT_EQ(incomes_by_hand(e, 1, -1, {1, 0}, solo),
            (std::vector<double>{900, 2900, 900, 2900, 900, 2900}));
  // poor_herb: 1 laborer (1000) + 4 x 100, one herb unit: -1100 in year 1, 4900 at harvests, -100
  // otherwise.
  EXPECT_EQ(incomes_by_hand(e, 2, -1, {1, 0}, poor_herb),
            (std::vector<double>{75, 325, 1575, 325, 325, 1575}));
  EXPECT_EQ(units_by_hand(e, 2, -1, poor_herb).main, 1) << "capital equal to the net setup cost";
  const Hh four_one = kCalendarHouseholds[10];  // 250 labor days: herb 100 each
  const Units u = units_by_hand(e, 2, 0, four_one);
  EXPECT_EQ(u.main, 2);
  EXPECT_EQ(u.aux, 1);  // 100 + 50 + 100 = 250 days
  // Harmonic mean of the lumpy incomes (CRRA 2, no discounting) < 1900 of steady.
  const Utility crra2{false, 2.0, 0.0, 100.0};
  EXPECT_NEAR(ce_by_hand(crra2, true, 0.0, incomes_by_hand(e, 1, -1, {1, 0}, solo), 6),
              2.0 / (1.0 / 900 + 1.0 / 2900), 1e-9);
}

TEST(ChoiceCalendar, OverYearsRanksByTheDiscountedUtilityOfEachYear) {
  const std::string source = calendar_source();
  const Economy e = calendar_economy();
  const Utility u{false, 2.0, 0.0, 100.0};
  for (double rate : {0.1, 0.0}) {
    const Model m = build_model(
        load(kCalendarYaml, source, {{"choice.utility.discount_rate", std::to_string(rate)}}), 2);
    EXPECT_EQ(m.scenario.choice.over, UtilityOver::years);
    const int running = expect_closed_form_choice(m, e, u, true, rate, {0, 1, 2},
                                                  "years, rate " + std::to_string(rate));
    EXPECT_EQ(running, static_cast<int>(kCalendarHouseholds.size()) - 1) << "all but no_labor";
    // Steady beats lumpy (same mean): solo runs steady, CE its constant income.
    const std::size_t solo = index_of(m, "solo");
    EXPECT_EQ(m.households.main[solo], 0);
    EXPECT_EQ(m.households.aux[solo], -1);
    EXPECT_NEAR(m.households.certainty_equivalent[solo], 1900.0, 1e-9 * 1900);
    // With two mu the pair's main is steady (grows to 2 units), not lumpy.
    const std::size_t two_mu = index_of(m, "two_mu");
    EXPECT_EQ(m.households.main[two_mu], 0);
    EXPECT_EQ(m.households.units_main[two_mu], 2);
    // The herb's lean years (and year 1's setup) outweigh its higher mean: steady alone.
    const std::size_t mixed = index_of(m, "mixed");
    EXPECT_EQ(m.households.main[mixed], 0);
    EXPECT_EQ(m.households.aux[mixed], -1);
  }
}

TEST(ChoiceCalendar, OverYearsSteadyWinsInEitherCandidateOrder) {
  const std::string source = calendar_source();
  const Economy e = calendar_economy();
  const Utility u{false, 2.0, 0.0, 100.0};
  const Model m =
      build_model(load(kCalendarYaml, source, {{"choice.candidates", "[lumpy, steady, herb]"}}), 2);
  expect_closed_form_choice(m, e, u, true, 0.1, {1, 0, 2}, "years, lumpy first");
  for (const char* id : {"solo", "crowded", "two_mu"}) {
    const std::size_t h = index_of(m, id);
    EXPECT_EQ(m.households.main[h], 0) << id << ": steady although lumpy is listed first";
  }
  // land_rich runs two units of each: (lumpy, steady) and (steady, lumpy) are the same
  // incomes, so the first listed wins.
  EXPECT_EQ(m.households.main[index_of(m, "land_rich")], 1);
  EXPECT_EQ(m.households.units_main[index_of(m, "land_rich")], 2);
  EXPECT_EQ(m.households.units_aux[index_of(m, "land_rich")], 2);
}

TEST(ChoiceCalendar, HorizonMeanTiesGoToTheFirstCandidate) {
  const std::string source = calendar_source();
  const Economy e = calendar_economy();
  const Utility u{false, 2.0, 0.0, 100.0};
  // discount_rate is set but horizon_mean is version 1's rule: the utility of ybar, undiscounted.
  for (const bool lumpy_first : {false, true}) {
    std::vector<Override> o = {{"choice.utility.over", "horizon_mean"}};
    if (lumpy_first) o.push_back({"choice.candidates", "[lumpy, steady, herb]"});
    const Model m = build_model(load(kCalendarYaml, source, o), 2);
    ASSERT_EQ(m.scenario.choice.over, UtilityOver::horizon_mean);
    const std::vector<int> candidates =
        lumpy_first ? std::vector<int>{1, 0, 2} : std::vector<int>{0, 1, 2};
    const std::string what = lumpy_first ? "horizon_mean, lumpy first" : "horizon_mean";
    expect_closed_form_choice(m, e, u, false, 0.0, candidates, what);
    const int first = lumpy_first ? 1 : 0;
    for (const char* id : {"solo", "crowded", "land_rich", "two_mu"}) {
      const std::size_t h = index_of(m, id);
      EXPECT_EQ(m.households.main[h], first) << what << ", " << id << ": a tie goes to the first";
    }
    // CE of ybar: solo's horizon mean is 1900 either way.
    EXPECT_NEAR(m.households.certainty_equivalent[index_of(m, "solo")], 1900.0, 1e-9 * 1900);
    // By the horizon mean the herb is worth its 1400 a unit: mixed adds it to its first
    // candidate, CE (800 + 1400 + 1000 + 100) / 1.
    const std::size_t mixed = index_of(m, "mixed");
    EXPECT_EQ(m.households.main[mixed], first) << what;
    EXPECT_EQ(m.households.aux[mixed], 2) << what;
    EXPECT_NEAR(m.households.certainty_equivalent[mixed], 3300.0, 1e-9 * 3300) << what;
  }
}

TEST(ChoiceCalendar, RiskNeutralOverYearsDiscountingPrefersEarlierIncome) {
  // CRRA 0 (with its floor): discounted, lumpy's income comes later and loses although it is
  // listed first. Undiscounted, steady and lumpy tie in exact arithmetic (their sums of
  // weights 1/6 differ in the last bits): the tie goes to the first listed.
  const std::string source = calendar_source();
  const Economy e = calendar_economy();
  const Utility u{false, 0.0, 0.0, 100.0};
  for (const double rate : {0.1, 0.3}) {
    const Model m = build_model(load(kCalendarYaml, source,
                                     {{"choice.utility.crra", "0"},
                                      {"choice.utility.discount_rate", std::to_string(rate)},
                                      {"choice.candidates", "[lumpy, steady, herb]"}}),
                                1);
    expect_closed_form_choice(m, e, u, true, rate, {1, 0, 2},
                              "crra 0, rate " + std::to_string(rate));
    for (const char* id : {"solo", "crowded"})
      EXPECT_EQ(m.households.main[index_of(m, id)], 0) << rate << " " << id;
  }
  for (const auto& [candidates, first] : std::vector<std::pair<std::string, int>>{
           {"[lumpy, steady, herb]", 1}, {"[steady, lumpy, herb]", 0}}) {
    const Model m = build_model(load(kCalendarYaml, source,
                                     {{"choice.utility.crra", "0"},
                                      {"choice.utility.discount_rate", "0"},
                                      {"choice.candidates", candidates}}),
                                1);
    for (const char* id : {"solo", "crowded"})
      EXPECT_EQ(m.households.main[index_of(m, id)], first) << candidates << " " << id;
  }
}

// ---- 2. certainty equivalents -----------------------------------------------------------------

TEST(ChoiceCalendar, CertaintyEquivalentOfEachHouseholdIsTheDiscountedYearlyUtility) {
  const std::string source = calendar_source();
  const Economy e = calendar_economy();
  struct Case {
    const char* name;
    std::vector<Override> set;
    Utility u;
  };
  const std::vector<Case> cases = {
      {"crra 2",
       {{"choice.utility", "{crra: 2, floor: 100, discount_rate: 0.1}"}},
       {false, 2.0, 0.0, 100.0}},
      {"crra 1",
       {{"choice.utility", "{crra: 1, floor: 100, discount_rate: 0.1}"}},
       {false, 1.0, 0.0, 100.0}},
      {"crra 3.5",
       {{"choice.utility", "{crra: 3.5, floor: 100, discount_rate: 0.1}"}},
       {false, 3.5, 0.0, 100.0}},
      {"cara",
       {{"choice.utility", "{cara: 0.0005, discount_rate: 0.1}"}},
       {true, 0.0, 0.0005, 0.0}},
  };
  for (const Case& c : cases) {
    for (const char* only : {"herb", "lumpy"}) {
      std::vector<Override> set = c.set;
      set.push_back({"choice.candidates", std::string("[") + only + "]"});
      set.push_back({"choice.pilot_replications", "3"});
      const Model m = build_model(load(kCalendarYaml, source, set), 2);
      const int i = industry(e, only);
      int checked = 0;
      for (std::size_t h = 0; h < m.households.count(); ++h) {
        const Hh hh = household_of(m, h);
        const Units n = units_by_hand(e, i, -1, hh);
        const std::string where = std::string(c.name) + ", " + only + ", " + hh.id;
        if (n.main == 0) {
          EXPECT_EQ(m.households.main[h], -1) << where;
          continue;
        }
        ASSERT_EQ(m.households.main[h], i) << where;
        ASSERT_EQ(m.households.units_main[h], n.main) << where;
        const std::vector<double> y = incomes_by_hand(e, i, -1, n, hh);
        // u^-1(sum_t w_t u(y_t)), the weights written out here.
        const std::vector<double> w = weights_by_hand(0.1, 6);
        double v = 0.0;
        for (int t = 0; t < 6; ++t) v += w[t] * utility(c.u, y[t]);
        const double expected = inverse_utility(c.u, v);
        EXPECT_NEAR(m.households.certainty_equivalent[h], expected, 1e-9 * std::abs(expected))
            << where;
        ++checked;
      }
      EXPECT_GE(checked, 5) << c.name << " " << only;
    }
  }
}

TEST(ChoiceCalendar, CertaintyEquivalentOfASpanByHand) {
  // 3 replications x 4 years with noise; one value below the floor (300 < 500).
  const std::vector<double> y = {1200, 300, 4000, 800, 2500, 2600, 900, 3100, 1800, 700, 5200, 650};
  ChoiceSpec c;
  c.floor = 500.0;
  c.discount_rate = 0.1;
  const std::vector<double> w = weights_by_hand(0.1, 4);
  for (const double g : {2.0, 1.0, 0.5, 4.0}) {
    c.utility = UtilityKind::crra;
    c.crra = g;
    c.over = UtilityOver::years;
    // By hand: mean over replications of sum_t w_t u(max(y, floor)), inverted.
    double mean = 0.0;
    for (int r = 0; r < 3; ++r) {
      double v = 0.0;
      for (int t = 0; t < 4; ++t) {
        const double x = std::max(y[r * 4 + t], 500.0);
        v += w[t] * (g == 1.0 ? std::log(x) : std::pow(x, 1 - g) / (1 - g));  // no constant
      }
      mean += v / 3;
    }
    const double expected = g == 1.0 ? std::exp(mean) : std::pow((1 - g) * mean, 1 / (1 - g));
    EXPECT_NEAR(certainty_equivalent(c, y, 4), expected, 1e-9 * expected) << "crra " << g;
    // Horizon mean: u^-1(mean_r u(ybar_r)); no discounting.
    c.over = UtilityOver::horizon_mean;
    std::vector<double> ybar;
    for (int r = 0; r < 3; ++r)
      ybar.push_back((y[r * 4] + y[r * 4 + 1] + y[r * 4 + 2] + y[r * 4 + 3]) / 4);
    const double hm = certainty_equivalent(c, ybar);
    EXPECT_NEAR(certainty_equivalent(c, y, 4), hm, 1e-12 * hm) << "crra " << g;
    double mean_u = 0.0;
    for (double x : ybar) mean_u += (g == 1.0 ? std::log(x) : std::pow(x, 1 - g) / (1 - g)) / 3;
    EXPECT_NEAR(hm, g == 1.0 ? std::exp(mean_u) : std::pow((1 - g) * mean_u, 1 / (1 - g)),
                1e-9 * hm);
    EXPECT_LT(expected, hm) << "year by year, the lean years weigh";
  }
  c.utility = UtilityKind::cara;
  c.cara = 0.0007;
  c.over = UtilityOver::years;
  double mean = 0.0;
  for (int r = 0; r < 3; ++r) {
    double v = 0.0;
    for (int t = 0; t < 4; ++t) v += w[t] * -std::exp(-0.0007 * y[r * 4 + t]);  // no floor
    mean += v / 3;
  }
  const double expected = -std::log(-mean) / 0.0007;
  EXPECT_NEAR(certainty_equivalent(c, y, 4), expected, 1e-9 * expected) << "cara";
  // A rate of 0 weighs the years equally; one replication of a constant is that constant.
  c.discount_rate = 0.0;
  EXPECT_NEAR(certainty_equivalent(c, std::vector<double>{1500, 1500, 1500}, 3), 1500.0, 1e-9);
  c.utility = UtilityKind::crra;
  c.crra = 2.0;
  EXPECT_NEAR(certainty_equivalent(c, std::vector<double>{1000, 4000}, 2),
              1.0 / ((1.0 / 1000 + 1.0 / 4000) / 2), 1e-9);
}

// ---- 3. discount weights ----------------------------------------------------------------------

TEST(ChoiceCalendar, DiscountWeights) {
  for (const double rate : {0.0, 0.1, 0.3, 1.0}) {
    for (const int years : {1, 2, 5, 9}) {
      const std::vector<double> w = discount_weights(rate, years);
      ASSERT_EQ(w.size(), static_cast<std::size_t>(years));
      double total = 0.0;
      for (double x : w) total += x;
      EXPECT_NEAR(total, 1.0, 1e-14) << rate << " " << years;
      for (int t = 1; t < years; ++t)
        EXPECT_NEAR(w[t] / w[t - 1], 1.0 / (1.0 + rate), 1e-14) << rate << " " << years;
      const std::vector<double> hand = weights_by_hand(rate, years);
      for (int t = 0; t < years; ++t) EXPECT_NEAR(w[t], hand[t], 1e-15);
    }
  }
  EXPECT_EQ(discount_weights(0.0, 4), std::vector<double>(4, 0.25));
  EXPECT_EQ(discount_weights(0.37, 1), std::vector<double>{1.0});
  const std::vector<double> halves = discount_weights(1.0, 4);  // 8, 4, 2, 1 over 15
  for (int t = 0; t < 4; ++t) EXPECT_NEAR(halves[t], std::ldexp(8.0, -t) / 15.0, 1e-15);
  const std::vector<double> w = discount_weights(0.1, 5);  // CHOICE_AND_CAPACITY.md, section 3
  const double quoted[5] = {0.240, 0.218, 0.198, 0.180, 0.164};
  for (int t = 0; t < 5; ++t) EXPECT_NEAR(w[t], quoted[t], 0.0006);
}

// ---- 4. capacity ------------------------------------------------------------------------------

// `coop` nets 2500 per unit and year (forest, up to 2 units) and is everyone's first choice
// where feasible; `rice` nets 800 (farmland, up to 3). 40 generated households; coop demand
// far above its capacity of 7.
const char* kCapacityYaml = R"(
scenario: {name: capacity, years: 3, replications: 2, seed: 2024}
markets:
  grain: {unit: kg, price: 10}
industries:
  coop:
    operating_cost: 500
    needs: {forest_mu: 1, labor_days: 50}
    max_units: 2
    capacity: 7
    products: [{market: grain, yield: 300}]
  rice:
    operating_cost: 200
    needs: {farmland_mu: 1, labor_days: 50}
    max_units: 3
    products: [{market: grain, yield: 100}]
population:
  households: 40
  size: {values: [1, 2, 4], weights: [1, 1, 1]}
  farmland_mu: {mean: 2, cv: 0.5}
  forest_mu: {mean: 1.6, cv: 0.6}
  capital: {mean: 1000}
income:
  wage: {per_laborer: 1000}
  transfers_per_capita: 100
choice:
  rule: expected_utility
  two_industries: false
  utility: {crra: 2, floor: 100}
  pilot_replications: 2
poverty: {line: 1000}
)";

constexpr int kCoop = 0, kRice = 1;

Economy capacity_economy() {
  Economy e;
  e.years = 3;
  e.wage = 1000.0;
  e.transfer = 100.0;
  e.industries = {
      {"coop", 1, 3000.0, 500.0, 0.0, 0.0, 0.0, 1.0, 50.0, 2},
      {"rice", 1, 1000.0, 200.0, 0.0, 0.0, 1.0, 0.0, 50.0, 3},
  };
  return e;
}

int units_of_industry(const Households& hh, std::size_t h, int i) {
  return (hh.main[h] == i ? hh.units_main[h] : 0) + (hh.aux[h] == i ? hh.units_aux[h] : 0);
}

double total_units(const Model& m, int i) {
  double n = 0;
  for (std::size_t h = 0; h < m.households.count(); ++h) n += units_of_industry(m.households, h, i);
  return n;
}

void expect_same_allocation(const Model& a, const Model& b, const std::string& what) {
  EXPECT_EQ(a.households.main, b.households.main) << what;
  EXPECT_EQ(a.households.aux, b.households.aux) << what;
  EXPECT_EQ(a.households.units_main, b.households.units_main) << what;
  EXPECT_EQ(a.households.units_aux, b.households.units_aux) << what;
  EXPECT_EQ(a.households.binding_constraint, b.households.binding_constraint) << what;
  ASSERT_EQ(a.capacity_used.size(), b.capacity_used.size()) << what;
  for (std::size_t i = 0; i < a.capacity_used.size(); ++i)
    EXPECT_EQ(std::memcmp(&a.capacity_used[i], &b.capacity_used[i], sizeof(double)), 0) << what;
}

TEST(ChoiceCapacity, UsedWithinCapacityAndEqualToTheUnitsRun) {
  const Scenario s = load(kCapacityYaml, "capacity.yaml");
  ASSERT_EQ(s.industries[kCoop].capacity, 7.0);
  ASSERT_TRUE(std::isinf(s.industries[kRice].capacity));
  const Model m = build_model(s, 2);
  ASSERT_EQ(m.capacity_used.size(), 2u);
  EXPECT_LE(m.capacity_used[kCoop], 7.0);
  EXPECT_EQ(m.capacity_used[kCoop], total_units(m, kCoop));
  EXPECT_TRUE(std::isnan(m.capacity_used[kRice])) << "unbounded";
  // Demand without the capacity is far above it, and the capacity is (nearly) exhausted: what
  // is left is less than the 1 or 2 units any turned-away household would take.
  Scenario unbounded = s;
  unbounded.industries[kCoop].capacity = std::numeric_limits<double>::infinity();
  const Model free = build_model(unbounded, 2);
  EXPECT_GT(total_units(free, kCoop), 20.0) << "the design should make the capacity bind";
  for (double x : free.capacity_used) EXPECT_TRUE(std::isnan(x));
  EXPECT_GE(m.capacity_used[kCoop], 6.0);
  // A capacity above the demand changes nothing.
  Scenario ample = s;
  ample.industries[kCoop].capacity = 1000.0;
  const Model roomy = build_model(ample, 2);
  EXPECT_EQ(roomy.households.main, free.households.main);
  EXPECT_EQ(roomy.households.aux, free.households.aux);
  EXPECT_EQ(roomy.households.units_main, free.households.units_main);
  EXPECT_EQ(roomy.capacity_used[kCoop], total_units(free, kCoop));
}

TEST(ChoiceCapacity, TurnedAwayHouseholdsWantedMoreThanWasLeft) {
  const Scenario s = load(kCapacityYaml, "capacity.yaml");
  const Model m = build_model(s, 2);
  const Model base = build_population_model(s);
  const auto portfolios = candidate_portfolios(s);
  const std::size_t np = portfolios.size();
  const std::vector<double> ce = certainty_equivalents(base, portfolios, 2);
  const double left = 7.0 - m.capacity_used[kCoop];
  const Households& hh = m.households;
  int turned_away = 0, got = 0;
  for (std::size_t h = 0; h < hh.count(); ++h) {
    if (units_of_industry(hh, h, kCoop) > 0) {
      ++got;
      continue;
    }
    // Its CE (NaN if it runs none): every portfolio with coop it ranks higher did not fit.
    double chosen = -std::numeric_limits<double>::infinity();
    for (std::size_t p = 0; p < np; ++p)
      if (portfolios[p].first == hh.main[h] && portfolios[p].second == hh.aux[h])
        chosen = ce[h * np + p];
    bool wanted = false;
    for (std::size_t p = 0; p < np; ++p) {
      const double v = ce[h * np + p];
      if (std::isnan(v) || !(v > chosen)) continue;
      const Units n =
          portfolio_units(s, portfolios[p].first, portfolios[p].second, hh.farmland_mu[h],
                          hh.forest_mu[h], hh.laborers[h], hh.capital[h]);
      const int coop_units =
          (portfolios[p].first == kCoop ? n.main : 0) + (portfolios[p].second == kCoop ? n.aux : 0);
      ASSERT_GT(coop_units, 0) << "household " << h << " ranks a portfolio without coop higher";
      EXPECT_GT(coop_units, left) << "household " << h << " portfolio " << p << " would fit";
      wanted = true;
    }
    turned_away += wanted;
  }
  EXPECT_GT(turned_away, 5) << "households turned away by the capacity";
  EXPECT_GT(got, 2);
}

// The allocation by hand: priorities u_h on the choice stream (draws.h kCapacityPriority),
// households served in ascending order, each taking its highest-CE portfolio (ties: first)
// among those whose section 4 units fit in full in what every capacity has left. Checks the
// model against it.
struct Allocation {
  int capacity_blocked = 0;  // households that run none because of a capacity
  int fallback = 0;          // households running rice that could have run coop
};
Allocation expect_priority_allocation(const Scenario& s, const std::string& what) {
  const Model m = build_model(s, 2);
  const Model base = build_population_model(s);
  const Economy e = capacity_economy();
  const auto portfolios = candidate_portfolios(s);
  const std::size_t np = portfolios.size(), n = base.households.count();
  const std::vector<double> ce = certainty_equivalents(base, portfolios, 2);
  const rng::Addressed draw{rng::make_key(s.seed, rng::Stream::choice)};
  std::vector<std::pair<double, std::size_t>> order;
  for (std::size_t h = 0; h < n; ++h)
    order.push_back(
        {rng::uniform(draw(static_cast<std::uint32_t>(h), 0, 0, draws::kCapacityPriority)[0]), h});
  std::sort(order.begin(), order.end());
  std::vector<double> left;
  for (const Industry& ind : s.industries) left.push_back(ind.capacity);
  auto need = [&](const std::pair<int, int>& p, Units u, int i) {
    return (p.first == i ? u.main : 0) + (p.second == i ? u.aux : 0);
  };
  std::vector<int> main(n, -1), aux(n, -1), units_main(n, 0), units_aux(n, 0);
  std::vector<std::uint8_t> capacity_blocked(n, 0);
  Allocation out;
  for (const auto& [priority, h] : order) {
    const Hh hh = household_of(base, h);
    int best = -1, feasible = 0;
    Units best_units;
    for (std::size_t p = 0; p < np; ++p) {
      const Units u = units_by_hand(e, portfolios[p].first, portfolios[p].second, hh);
      if (u.main == 0) {
        EXPECT_TRUE(std::isnan(ce[h * np + p])) << what << " " << h << " " << p;
        continue;
      }
      ++feasible;
      bool fits = true;
      for (int i = 0; i < static_cast<int>(left.size()); ++i)
        fits = fits && need(portfolios[p], u, i) <= left[static_cast<std::size_t>(i)];
      if (!fits) continue;
      if (best < 0 || ce[h * np + p] > ce[h * np + best])
        best = static_cast<int>(p), best_units = u;
    }
    if (best < 0) {
      capacity_blocked[h] = feasible > 0;
      continue;
    }
    main[h] = portfolios[best].first;
    aux[h] = portfolios[best].second;
    units_main[h] = best_units.main;
    units_aux[h] = best_units.aux;
    for (int i = 0; i < static_cast<int>(left.size()); ++i)
      left[static_cast<std::size_t>(i)] -= need(portfolios[best], best_units, i);
  }
  EXPECT_EQ(m.households.main, main) << what;
  EXPECT_EQ(m.households.aux, aux) << what;
  EXPECT_EQ(m.households.units_main, units_main) << what;
  EXPECT_EQ(m.households.units_aux, units_aux) << what;
  for (std::size_t i = 0; i < left.size(); ++i) {
    if (std::isinf(s.industries[i].capacity)) {
      EXPECT_TRUE(std::isnan(m.capacity_used[i])) << what << " " << i;
    } else {
      EXPECT_EQ(m.capacity_used[i], s.industries[i].capacity - left[i]) << what << " " << i;
      EXPECT_LE(m.capacity_used[i], s.industries[i].capacity) << what << " " << i;
    }
  }
  for (std::size_t h = 0; h < n; ++h) {
    out.capacity_blocked += capacity_blocked[h];
    if (capacity_blocked[h]) {
      EXPECT_EQ(m.households.binding_constraint[h],
                static_cast<std::uint8_t>(BindingConstraint::capacity))
          << what << " " << h;
    }
    if (main[h] >= 0) {
      EXPECT_EQ(m.households.binding_constraint[h], 0) << what << " " << h;
    }
  }
  for (std::size_t h = 0; h < n; ++h)
    out.fallback += main[h] == kRice && units_by_hand(e, kCoop, -1, household_of(base, h)).main > 0;
  return out;
}

TEST(ChoiceCapacity, HouseholdsAreServedInAscendingPriorityOrder) {
  const Scenario s = load(kCapacityYaml, "capacity.yaml");
  EXPECT_GT(expect_priority_allocation(s, "coop 7").fallback, 0)
      << "households that would run coop fall back to rice once it is full";
  // Both bounded (a pair must fit in both), a fractional capacity, pairs only, and a bigger
  // population.
  Scenario both = s;
  both.industries[kRice].capacity = 12.0;
  EXPECT_GT(expect_priority_allocation(both, "coop 7, rice 12").capacity_blocked, 0);
  Scenario fractional = s;
  fractional.industries[kCoop].capacity = 6.5;
  EXPECT_GT(expect_priority_allocation(fractional, "coop 6.5").fallback, 0);
  const Scenario pairs =
      load(kCapacityYaml, "capacity.yaml",
           {{"choice.two_industries", "true"}, {"industries.rice.capacity", "25"}});
  EXPECT_GT(expect_priority_allocation(pairs, "pairs only, rice 25").capacity_blocked, 0);
  const Scenario bigger =
      load(kCapacityYaml, "capacity.yaml",
           {{"population.households", "80"}, {"industries.coop.capacity", "15"}});
  const Allocation a = expect_priority_allocation(bigger, "80 households, coop 15");
  EXPECT_GT(a.fallback, 10);
  EXPECT_GT(a.capacity_blocked, 0) << "households with forest but no farmland";
}

TEST(ChoiceCapacity, IdenticalForOneAndFourThreads) {
  // 700 households: three pilot batches of Kernel::kBatch, so threads share the pilot.
  Scenario s = load(kCapacityYaml, "capacity.yaml",
                    {{"population.households", "700"}, {"industries.coop.capacity", "60"}});
  ASSERT_GT(s.population.households, 2 * static_cast<int>(Kernel::kBatch));
  s.industries[kRice].capacity = 400.0;  // two bounded industries
  const Model one = build_model(s, 1), four = build_model(s, 4);
  expect_same_allocation(one, four, "threads 1 vs 4");
  EXPECT_EQ(one.capacity_used[kCoop], total_units(one, kCoop));
  EXPECT_GE(one.capacity_used[kCoop], 59.0) << "exhausted";
  EXPECT_LE(one.capacity_used[kRice], 400.0);
  EXPECT_EQ(one.capacity_used[kRice], total_units(one, kRice));
  for (std::size_t h = 0; h < one.households.count(); ++h)
    EXPECT_EQ(std::memcmp(&one.households.certainty_equivalent[h],
                          &four.households.certainty_equivalent[h], sizeof(double)),
              0)
        << h;
  s.choice.rule = ChoiceRule::logit;
  s.choice.temperature = 300.0;
  const Model logit1 = build_model(s, 1), logit4 = build_model(s, 4);
  expect_same_allocation(logit1, logit4, "logit, threads 1 vs 4");
  EXPECT_LE(logit1.capacity_used[kCoop], 60.0);
  EXPECT_EQ(logit1.capacity_used[kCoop], total_units(logit1, kCoop));
  EXPECT_LE(logit1.capacity_used[kRice], 400.0);
  EXPECT_EQ(logit1.capacity_used[kRice], total_units(logit1, kRice));
}

TEST(ChoiceCapacity, ZeroCapacityMeansNobodyRunsIt) {
  for (const char* rule : {"expected_utility", "logit"}) {
    const Model m = build_model(load(kCapacityYaml, "capacity.yaml",
                                     {{"industries.coop.capacity", "0"}, {"choice.rule", rule}}),
                                2);
    EXPECT_EQ(total_units(m, kCoop), 0.0) << rule;
    EXPECT_EQ(m.capacity_used[kCoop], 0.0) << rule;
    int rice = 0;
    for (std::size_t h = 0; h < m.households.count(); ++h) {
      rice += m.households.main[h] == kRice;
      // Coop alone is feasible for many, but rice alone too unless they lack land.
      if (m.households.main[h] < 0 && m.households.feasible_portfolios[h] > 0) {
        EXPECT_EQ(m.households.binding_constraint[h],
                  static_cast<std::uint8_t>(BindingConstraint::capacity))
            << rule << " " << h;
      }
    }
    EXPECT_GT(rice, 10) << rule;
  }
}

TEST(ChoiceCapacity, FixedDrawThatDoesNotFitRunsNoneWithCodeCapacity) {
  const std::vector<Override> fixed = {
      {"choice", "{rule: fixed, portfolios: [{main: coop, share: 0.6}, {main: rice, share: 0.3}]}"},
      {"industries.coop.capacity", "5"}};
  const Model m = build_model(load(kCapacityYaml, "capacity.yaml", fixed), 2);
  Scenario free_s = load(kCapacityYaml, "capacity.yaml", {fixed[0]});
  free_s.industries[kCoop].capacity = std::numeric_limits<double>::infinity();
  const Model free = build_model(free_s, 2);  // the same draws, no capacity
  const Households &hh = m.households, &fh = free.households;
  EXPECT_LE(m.capacity_used[kCoop], 5.0);
  EXPECT_EQ(m.capacity_used[kCoop], total_units(m, kCoop));
  EXPECT_TRUE(std::isnan(m.capacity_used[kRice]));
  const double left = 5.0 - m.capacity_used[kCoop];
  int blocked = 0, unassigned = 0;
  for (std::size_t h = 0; h < hh.count(); ++h) {
    const auto code = static_cast<BindingConstraint>(hh.binding_constraint[h]);
    if (fh.main[h] == kCoop) {
      if (hh.main[h] == kCoop) {
        EXPECT_EQ(hh.units_main[h], fh.units_main[h]) << h;
        EXPECT_EQ(code, BindingConstraint::none) << h;
      } else {
        ++blocked;
        EXPECT_EQ(hh.main[h], -1) << h << ": a fixed draw that does not fit runs none";
        EXPECT_EQ(code, BindingConstraint::capacity) << h;
        EXPECT_EQ(hh.feasible_portfolios[h], 1) << h << ": feasible by resources, capacity aside";
        EXPECT_GT(fh.units_main[h], left) << h << ": its units would have fitted";
      }
    } else {
      // Rice, none drawn, or infeasible: as without the capacity.
      EXPECT_EQ(hh.main[h], fh.main[h]) << h;
      EXPECT_EQ(hh.units_main[h], fh.units_main[h]) << h;
      EXPECT_EQ(hh.binding_constraint[h], fh.binding_constraint[h]) << h;
      EXPECT_NE(code, BindingConstraint::capacity) << h;
      unassigned += code == BindingConstraint::no_candidate;
    }
  }
  EXPECT_GT(blocked, 3);
  EXPECT_GT(unassigned, 0) << "the 10% without a portfolio: no_candidate";
  for (std::size_t h = 0; h < fh.count(); ++h) {
    // A drawn portfolio that is infeasible is a resource shortage: coop needs a mu of forest,
    // rice one of farmland (every household has a laborer and nothing costs setup).
    if (fh.main[h] >= 0 || fh.binding_constraint[h] == static_cast<std::uint8_t>(kNoCandidate))
      continue;
    const auto code = static_cast<BindingConstraint>(fh.binding_constraint[h]);
    EXPECT_TRUE(code == BindingConstraint::forest || code == BindingConstraint::farmland) << h;
    if (code == BindingConstraint::forest) {
      EXPECT_LT(fh.forest_mu[h], 1.0) << h;
    }
    if (code == BindingConstraint::farmland) {
      EXPECT_LT(fh.farmland_mu[h], 1.0) << h;
    }
  }
}

// ---- 5. binding constraints ---------------------------------------------------------------------

// X: farmland 2, forest 1; Y: farmland 1, forest 2; both need labor and cash. Portfolios
// (two_industries false): P1 (X, Y), P2 (X), P3 (Y, X), P4 (Y). Farmland 1.5 blocks P1-P3,
// forest 1.5 blocks P1, P3, P4, and a shortage of labor or cash for one unit blocks all four.
const char* kConstraintYaml = R"(
scenario: {name: constraints, years: 2, replications: 2, seed: 5}
markets:
  grain: {unit: kg, price: 10}
industries:
  x:
    setup_cost: 1000
    needs: {farmland_mu: 2, forest_mu: 1, labor_days: 50}
    products: [{market: grain, yield: 100}]
  y:
    setup_cost: 2000
    needs: {farmland_mu: 1, forest_mu: 2, labor_days: 100}
    products: [{market: grain, yield: 150}]
population: {csv: households.csv}
income:
  wage: {per_laborer: 1000}
choice:
  rule: expected_utility
  two_industries: false
  pilot_replications: 1
poverty: {line: 1000}
)";

struct ConstraintCase {
  Hh household;
  BindingConstraint expected;
  const char* why;
};

const std::vector<ConstraintCase> kConstraintCases = {
    {{"ok", 2, 2, 10, 10, 1e5}, kNone, "ample"},
    {{"no_farmland", 2, 2, 0, 10, 1e5}, kFarmland, "farmland alone blocks all"},
    {{"no_forest", 2, 2, 10, 0, 1e5}, kForest, "forest alone blocks all"},
    {{"no_labor", 2, 0, 10, 10, 1e5}, kLabor, "no laborers"},
    {{"no_cash", 2, 2, 10, 10, 0}, kCash, "capital 0 with setup costs"},
    {{"cash_alone", 2, 2, 1.5, 10, 0}, kCash, "cash alone blocks P4, farmland none alone"},
    {{"forest_alone", 2, 2, 1.5, 0, 1e5}, kForest, "forest alone blocks P4"},
    {{"most_with_others", 2, 2, 1.5, 1.5, 0},
     kCash,
     "none alone; cash blocks 4, farmland and forest 3"},
    {{"enum_order", 2, 2, 1.5, 1.5, 1e5},
     kFarmland,
     "farmland and forest each alone 1 and with others 3: the first in order"},
    {{"some_feasible", 2, 1, 1.5, 2.5, 2500}, kNone, "Y alone fits"},
};

TEST(BindingConstraint, MatchesAHandMadePopulation) {
  std::vector<Hh> households;
  for (const ConstraintCase& c : kConstraintCases) households.push_back(c.household);
  const std::string source = write_csv("households.csv", households);
  const Model m = build_model(load(kConstraintYaml, source), 1);
  ASSERT_EQ(m.households.count(), kConstraintCases.size());
  for (std::size_t h = 0; h < kConstraintCases.size(); ++h) {
    const ConstraintCase& c = kConstraintCases[h];
    EXPECT_EQ(static_cast<int>(m.households.binding_constraint[h]), static_cast<int>(c.expected))
        << c.household.id << ": " << c.why;
    EXPECT_EQ(m.households.main[h] >= 0, c.expected == kNone) << c.household.id;
  }
  EXPECT_EQ(m.households.main[9], 1) << "some_feasible runs y";
  EXPECT_EQ(m.households.feasible_portfolios[9], 1);
  EXPECT_EQ(m.households.feasible_portfolios[0], 4);
  // Every capacity 0: households with a feasible portfolio are turned away by capacity, the
  // others keep their resource.
  const Model full =
      build_model(load(kConstraintYaml, source,
                       {{"industries.x.capacity", "0"}, {"industries.y.capacity", "0"}}),
                  1);
  for (std::size_t h = 0; h < kConstraintCases.size(); ++h) {
    const ConstraintCase& c = kConstraintCases[h];
    EXPECT_EQ(full.households.main[h], -1) << c.household.id;
    EXPECT_EQ(static_cast<int>(full.households.binding_constraint[h]),
              static_cast<int>(c.expected == kNone ? kCapacity : c.expected))
        << c.household.id;
  }
  EXPECT_EQ(full.capacity_used, (std::vector<double>{0.0, 0.0}));
}

TEST(BindingConstraint, FixedRuleFromTheCsvColumns) {
  const std::vector<Hh> households = {
      {"runs_x", 2, 2, 10, 10, 1e5},    {"empty_main", 2, 2, 10, 10, 1e5},
      {"x_no_land", 2, 2, 0, 10, 1e5},  {"y_x_cash", 2, 2, 10, 10, 1500},
      {"x_y_land", 2, 2, 2.5, 10, 1e5}, {"y_no_labor", 2, 0, 10, 10, 1e5},
  };
  const std::vector<std::pair<std::string, std::string>> columns = {
      {"x", ""}, {"", ""}, {"x", ""}, {"y", "x"}, {"x", "y"}, {"y", ""}};
  const std::string source = write_csv("households.csv", households, columns);
  std::string yaml = kConstraintYaml;
  yaml = yaml.substr(0, yaml.find("choice:")) + "poverty: {line: 1000}\n";
  const Model m = build_model(load(yaml, source), 1);
  ASSERT_TRUE(m.scenario.choice.from_csv);
  const std::vector<BindingConstraint> expected = {kNone, kNoCandidate, kFarmland,
                                                   kCash, kFarmland,    kLabor};
  for (std::size_t h = 0; h < households.size(); ++h)
    EXPECT_EQ(static_cast<int>(m.households.binding_constraint[h]), static_cast<int>(expected[h]))
        << households[h].id;
  EXPECT_EQ(m.households.main[0], 0);
  for (std::size_t h = 1; h < households.size(); ++h) EXPECT_EQ(m.households.main[h], -1);
  for (double x : m.capacity_used) EXPECT_TRUE(std::isnan(x));
}

TEST(BindingConstraint, PortfolioShortageBits) {
  std::vector<Hh> households = {{"a", 1, 1, 1, 1, 1}};
  const Scenario s = load(kConstraintYaml, write_csv("households.csv", households));
  auto bit = [](BindingConstraint c) { return 1u << static_cast<unsigned>(c); };
  const int x = 0, y = 1;
  EXPECT_EQ(portfolio_shortage(s, x, -1, 10, 10, 2, 1e5), 0u);
  EXPECT_EQ(portfolio_shortage(s, x, y, 10, 10, 2, 1e5), 0u);
  EXPECT_EQ(portfolio_shortage(s, x, -1, 0, 10, 2, 1e5), bit(kFarmland));
  EXPECT_EQ(portfolio_shortage(s, x, -1, 0, 0, 0, 0),
            bit(kFarmland) | bit(kForest) | bit(kLabor) | bit(kCash));
  // The aux's first unit on top of the main's: 2 + 1 farmland > 2.5; 1000 + 2000 > 2999.
  EXPECT_EQ(portfolio_shortage(s, x, y, 2.5, 10, 2, 2999), bit(kFarmland) | bit(kCash));
  EXPECT_EQ(portfolio_shortage(s, y, -1, 2.5, 1.5, 2, 2000), bit(kForest)) << "cash exactly";
  // 100 + 50 labor days fit one laborer (250).
  EXPECT_EQ(portfolio_shortage(s, y, x, 3, 3, 1, 3000), 0u);
  // Zero exactly when section 4 gives every member a unit, over a grid.
  for (double farmland : {0.0, 1.0, 1.5, 2.0, 3.0})
    for (double forest : {0.0, 1.0, 2.0, 3.0})
      for (int laborers : {0, 1})
        for (double capital : {0.0, 1000.0, 2000.0, 3000.0})
          for (const auto& [main, aux] : candidate_portfolios(s)) {
            const unsigned mask =
                portfolio_shortage(s, main, aux, farmland, forest, laborers, capital);
            const Units u = portfolio_units(s, main, aux, farmland, forest, laborers, capital);
            EXPECT_EQ(mask == 0, u.main > 0) << main << aux << " " << farmland << " " << forest
                                             << " " << laborers << " " << capital;
            EXPECT_EQ(mask & ~0x1eu, 0u);
          }
}

// ---- 6. parser --------------------------------------------------------------------------------

const std::string kParserYaml = R"(scenario: {years: 3}
markets:
  rice: {price: 4.0}
industries:
  rice_only:
    capacity: 12
    products: [{market: rice, yield: 500}]
population:
  households: 10
  size: {values: [3], weights: [1]}
  farmland_mu: {mean: 2}
  forest_mu: {mean: 0}
  capital: {mean: 1000}
choice:
  rule: expected_utility
  two_industries: false
  utility: {crra: 2, over: horizon_mean, discount_rate: 0.05}
poverty: {line: 3218}
)";

std::vector<Diagnostic> errors_of(const std::string& text) {
  try {
    load_scenario_text(text, "s.yaml");
  } catch (const ScenarioError& e) {
    return e.diagnostics();
  }
  ADD_FAILURE() << "scenario loaded without error:\n" << text;
  return {};
}

std::string replaced(std::string text, const std::string& from, const std::string& to) {
  const auto at = text.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  if (at != std::string::npos) text.replace(at, from.size(), to);
  return text;
}

// The one diagnostic containing every needle, with its position.
void expect_diagnostic(const std::vector<Diagnostic>& all, const std::vector<std::string>& needles,
                       int line, int column) {
  std::string listed;
  for (const Diagnostic& d : all) {
    const std::string text = d.format();
    listed += "  " + text + "\n";
    bool match = true;
    for (const std::string& n : needles) match = match && text.find(n) != std::string::npos;
    if (!match) continue;
    EXPECT_EQ(d.line, line) << text;
    EXPECT_EQ(d.column, column) << text;
    return;
  }
  std::string wanted;
  for (const std::string& n : needles) wanted += "'" + n + "' ";
  ADD_FAILURE() << "no diagnostic with " << wanted << "in:\n" << listed;
}

TEST(ChoiceCalendarParser, KeysAreReadWithDefaults) {
  const Scenario s = load_scenario_text(kParserYaml, "s.yaml");
  EXPECT_EQ(s.industries[0].capacity, 12.0);
  EXPECT_EQ(s.choice.over, UtilityOver::horizon_mean);
  EXPECT_EQ(s.choice.discount_rate, 0.05);
  const Scenario d = load_scenario_text(
      replaced(replaced(kParserYaml, "    capacity: 12\n", ""),
               "  utility: {crra: 2, over: horizon_mean, discount_rate: 0.05}\n", ""),
      "s.yaml");
  EXPECT_TRUE(std::isinf(d.industries[0].capacity));
  EXPECT_GT(d.industries[0].capacity, 0.0);
  EXPECT_EQ(d.choice.over, UtilityOver::years) << "v2 default";
  EXPECT_EQ(d.choice.discount_rate, 0.0);
  const Scenario edges = load_scenario_text(
      replaced(replaced(kParserYaml, "capacity: 12", "capacity: 0"),
               "over: horizon_mean, discount_rate: 0.05", "over: years, discount_rate: 1"),
      "s.yaml");
  EXPECT_EQ(edges.industries[0].capacity, 0.0);
  EXPECT_EQ(edges.choice.over, UtilityOver::years);
  EXPECT_EQ(edges.choice.discount_rate, 1.0);
  // industries_defaults gives a default capacity.
  const Scenario defaults =
      load_scenario_text(replaced(replaced(kParserYaml, "    capacity: 12\n", ""), "industries:\n",
                                  "industries_defaults: {capacity: 3}\nindustries:\n"),
                         "s.yaml");
  EXPECT_EQ(defaults.industries[0].capacity, 3.0);
}

// 1-based line and column of `needle` in `text`, plus `offset` columns (e.g. to its value).
std::pair<int, int> position_of(const std::string& text, const std::string& needle,
                                int offset = 0) {
  const auto at = text.find(needle);
  EXPECT_NE(at, std::string::npos) << needle;
  if (at == std::string::npos) return {0, 0};
  const int line = 1 + static_cast<int>(std::count(text.begin(), text.begin() + at, '\n'));
  const auto start = text.rfind('\n', at);
  const int column = static_cast<int>(at - (start == std::string::npos ? 0 : start + 1)) + 1;
  return {line, column + offset};
}

void expect_diagnostic_at(const std::string& text, const std::vector<std::string>& needles,
                          const std::string& where, int offset) {
  const auto [line, column] = position_of(text, where, offset);
  expect_diagnostic(errors_of(text), needles, line, column);
}

TEST(ChoiceCalendarParser, OverTypoSuggestsYears) {
  // Value errors point at the value.
  const std::string typo = replaced(kParserYaml, "over: horizon_mean", "over: year");
  expect_diagnostic_at(typo, {"choice.utility.over", "'year'", "did you mean 'years'"},
                       "over: year", 6);
  const std::string other = replaced(kParserYaml, "over: horizon_mean", "over: calendar");
  expect_diagnostic_at(other, {"choice.utility.over", "years or horizon_mean", "'calendar'"},
                       "over: calendar", 6);
}

TEST(ChoiceCalendarParser, DiscountRateOutsideZeroOneIsAnError) {
  for (const std::string bad : {"1.5", "-0.1", "low"}) {
    const std::string text = replaced(kParserYaml, "discount_rate: 0.05", "discount_rate: " + bad);
    expect_diagnostic_at(text, {"choice.utility.discount_rate", bad}, "discount_rate: " + bad, 15);
    if (bad != "low")
      expect_diagnostic_at(text, {"choice.utility.discount_rate", "[0, 1]"},
                           "discount_rate: " + bad, 15);
  }
}

TEST(ChoiceCalendarParser, NegativeCapacityIsAnError) {
  const std::string negative = replaced(kParserYaml, "capacity: 12", "capacity: -1");
  expect_diagnostic_at(negative, {"industries.rice_only.capacity", ">= 0", "-1"}, "capacity: -1",
                       10);
  // Unknown keys point at the key.
  const std::string typo = replaced(kParserYaml, "capacity: 12", "capacty: 12");
  expect_diagnostic_at(typo, {"capacty", "did you mean 'capacity'"}, "capacty", 0);
  const std::string utility = replaced(kParserYaml, "over: horizon_mean", "ovr: years");
  expect_diagnostic_at(utility, {"ovr", "did you mean 'over'"}, "ovr", 0);
}

TEST(ChoiceCalendarParser, DescribeStatesTheRuleAndTheCapacities) {
  const std::string years =
      describe(load(kCapacityYaml, "capacity.yaml", {{"choice.utility.discount_rate", "0.1"}}));
  EXPECT_NE(years.find("each year's income (discount rate 10% per year)"), std::string::npos)
      << years;
  EXPECT_NE(years.find("coop 7 units"), std::string::npos) << years;
  EXPECT_EQ(years.find("rice 3"), std::string::npos) << "rice is unbounded";
  const std::string mean =
      describe(load(kCapacityYaml, "capacity.yaml", {{"choice.utility.over", "horizon_mean"}}));
  EXPECT_NE(mean.find("horizon-mean income"), std::string::npos) << mean;
}

// ---- 7. HDF5 output ---------------------------------------------------------------------------

TEST(ChoiceCalendarOutput, CapacityUsedAndBindingConstraintInTheFile) {
  // The capacity scenario plus a csv-free check of every code that can occur there.
  const Scenario s = load(kCapacityYaml, "capacity.yaml", {{"scenario.replications", "3"}});
  const Model m = build_model(s, 2);
  const RunResults res = run_simulation(m, {2, nullptr});
  const fs::path out = test::temp_path(".h5");
  fs::remove(out);
  write_results(out.string(), m, res);
  const h5::File f = h5::File::open_read(out.string());
  std::vector<hsize_t> dims;
  const std::vector<double> used = h5::read_doubles(f, "/choice/capacity_used", &dims);
  ASSERT_EQ(dims, std::vector<hsize_t>{2});
  EXPECT_EQ(used[kCoop], m.capacity_used[kCoop]);
  EXPECT_EQ(used[kCoop], total_units(m, kCoop));
  EXPECT_TRUE(std::isnan(used[kRice])) << "unbounded";
  EXPECT_EQ(h5::read_string_attribute(f, "/choice/capacity_used", "units"), "units");
  EXPECT_FALSE(h5::read_string_attribute(f, "/choice/capacity_used", "description").empty());
  const std::vector<double> capacity =
      h5::read_doubles_attribute(f, "/choice/capacity_used", "capacity");
  ASSERT_EQ(capacity.size(), 2u);
  EXPECT_EQ(capacity[kCoop], 7.0);
  EXPECT_TRUE(std::isnan(capacity[kRice]));
  const std::vector<std::int64_t> codes =
      h5::read_int64s(f, "/households/binding_constraint", &dims);
  ASSERT_EQ(dims, std::vector<hsize_t>{m.households.count()});
  std::map<std::int64_t, int> seen;
  for (std::size_t h = 0; h < codes.size(); ++h) {
    EXPECT_EQ(codes[h], m.households.binding_constraint[h]) << h;
    ++seen[codes[h]];
  }
  EXPECT_GT(seen[0], 0);
  EXPECT_GT(seen[static_cast<int>(kCapacity)], 0) << "the capacity binds in this scenario";
  EXPECT_EQ(h5::read_strings_attribute(f, "/households/binding_constraint", "labels"),
            (std::vector<std::string>{"none", "farmland", "forest", "labor", "cash", "capacity",
                                      "no_candidate"}));
  EXPECT_FALSE(
      h5::read_string_attribute(f, "/households/binding_constraint", "description").empty());
  for (int c = 0; c < kBindingConstraints; ++c)
    EXPECT_STREQ(
        binding_constraint_name(static_cast<BindingConstraint>(c)),
        h5::read_strings_attribute(f, "/households/binding_constraint", "labels")[c].c_str());
}

TEST(ChoiceCalendarOutput, AllUnboundedIsAllNaN) {
  const Scenario s = load(kCapacityYaml, "capacity.yaml",
                          {{"industries.coop.capacity", "1e300"}, {"scenario.replications", "2"}});
  const Model m = build_model(s, 1);
  const RunResults res = run_simulation(m, {1, nullptr});
  const fs::path out = test::temp_path(".h5");
  fs::remove(out);
  write_results(out.string(), m, res);
  const h5::File f = h5::File::open_read(out.string());
  const std::vector<double> used = h5::read_doubles(f, "/choice/capacity_used");
  ASSERT_EQ(used.size(), 2u);
  EXPECT_EQ(used[kCoop], total_units(m, kCoop)) << "a finite capacity is reported";
  EXPECT_TRUE(std::isnan(used[kRice]));
}

}  // namespace
}  // namespace incsim
