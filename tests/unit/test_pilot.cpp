// The portfolio pilot (incsim/pilot.h) shares draws across portfolios; each portfolio's income
// must still equal, bit for bit, what the kernel computes for a model where every household
// runs that portfolio (same stream, same replications). Checked on a scenario with hazards of
// every scope (Beta and fixed severities, a price shock), all three insurance products, price
// floors, a multi-year crop, stochastic wages over 1 to 4 laborers, dibao and infeasible
// portfolios; and (v2) with health shocks, wage.poor and population.poor.
#include <gtest/gtest.h>

#include <atomic>
#include <barrier>
#include <cmath>
#include <cstring>
#include <string>
#include <thread>
#include <utility>

#include "incsim/choice.h"
#include "incsim/engine.h"
#include "incsim/pilot.h"
#include "incsim/simulate.h"
#include "support.h"

namespace incsim {
namespace {

Scenario pilot_scenario() {
  Scenario s = test::simple_scenario(600, 4, 1);
  s.markets = {{"a", "kg", 36.0, 0.02, 0.25, 0.5},
               {"b", "kg", 4.0, 0.0, 0.08, 0.0},
               {"c", "kg", 20.0, 0.0, 0.15, 0.2}};
  s.correlation = {{0, 1, 0.3}};
  Industry a = s.industries[0];
  a.name = std::string{"paddy"};
  a.products = {{0, 100.0, 0.2}, {1, 500.0, 0.1}};
  a.price_floor = {30.0, std::nullopt, std::nullopt};
  a.needs_farmland_mu = 1.0;
  a.max_units = 3;
  a.setup_cost = 500.0;
  a.operating_cost = 800.0;
  Industry b = a;
  b.name = std::string{"herb"};
  b.products = {{2, 300.0, 0.0}};  // deterministic yield
  b.price_floor.assign(3, std::nullopt);
  b.cycle_years = 2;
  Industry c = a;
  c.name = std::string{"hives"};
  c.products = {{2, 80.0, 0.3}};
  c.price_floor.assign(3, std::nullopt);
  c.needs_farmland_mu = 0.0;
  c.needs_forest_mu = 2.0;
  s.industries = {a, b, c};
  s.population.villages = 5;
  s.population.all.size_values = {1, 2, 3, 4, 5, 6, 7};
  s.population.all.size_weights = {1, 1, 1, 1, 1, 1, 1};
  s.population.all.laborer_share_of_size = 0.6;
  s.population.poor_share = 0.3;
  s.population.all.farmland_mu = {2.0, 0.8};
  s.population.all.forest_mu = {4.0, 0.8};
  s.population.all.capital = {2000.0, 1.0};
  s.income.wage = {9000.0, 0.3, 0.7};
  s.income.public_posts = {0.2, 6000.0};
  s.income.dibao = {true, 2000.0, DibaoEligible::poor};
  s.poverty.line = 3218.0;
  const HazardScope scopes[3] = {HazardScope::county, HazardScope::village, HazardScope::household};
  for (int k = 0; k < 4; ++k) {
    Hazard h;
    h.name = "hazard" + std::to_string(k);
    h.scope = scopes[k % 3];
    h.probability = 0.3;
    h.severity = {k == 3, 0.4, 2.0, 5.0};
    h.affects = {1.0, k == 1 ? 0.5 : 0.0, k >= 2 ? 1.0 : 0.0};
    h.price_shock = {1.0, 1.0, 1.0};
    if (k == 0) h.price_shock[0] = 0.8;
    s.hazards.push_back(h);
  }
  InsuranceSpec& ins = s.insurance;
  ins.agricultural = {true, {0, 2}, {2000.0, 0.0, 1500.0}, 0.1, 0.06, {1.0, 0.5}, {1.0, 0.4}};
  ins.income_index.enabled = true;
  ins.income_index.covers = {0, 1};
  ins.income_index.coverage = 0.8;
  ins.income_index.premium_rate = 0.05;
  ins.income_index.enrollment = {1.0, 0.5};
  ins.poverty_guard.enabled = true;
  ins.poverty_guard.threshold = 1.2;
  ins.poverty_guard.cap = 3000.0;
  ins.poverty_guard.premium_per_capita = 30.0;
  ins.poverty_guard.enrollment = {1.0, 0.5};
  s.choice.rule = ChoiceRule::expected_utility;
  s.choice.portfolios.clear();
  s.choice.two_industries = false;
  s.choice.candidates = {0, 1, 2};
  s.choice.pilot_replications = 6;
  return s;
}

// Runs the pilot over every candidate portfolio and compares each household-year's income with
// the kernel's for a model where everyone runs that portfolio.
void expect_pilot_equals_kernel(const Scenario& s) {
  Model base = build_model(s);
  set_portfolios(base, std::vector<int>(base.households.count(), -1),
                 std::vector<int>(base.households.count(), -1), {});
  const auto portfolios = candidate_portfolios(s);
  ASSERT_EQ(portfolios.size(), 9u);
  const std::size_t n = base.households.count();
  const int years = s.years, reps = s.choice.pilot_replications;
  // pilot[((r * P + p) * T + t - 1) * H + h]
  std::vector<double> pilot(static_cast<std::size_t>(reps) * portfolios.size() * years * n, -1.0);
  run_portfolio_pilot(
      base, portfolios, reps, rng::Stream::choice_pilot, 2, [&](const PilotBatch& b) {
        for (std::size_t lane = 0; lane < b.households.size(); ++lane)
          for (std::size_t p = 0; p < b.portfolios; ++p)
            for (int t = 1; t <= years; ++t)
              pilot[((b.replication * b.portfolios + p) * years + t - 1) * n + b.households[lane]] =
                  b.at(p, t, lane);
      });
  std::size_t compared = 0, infeasible = 0;
  for (std::size_t p = 0; p < portfolios.size(); ++p) {
    Model trial = base;
    set_portfolios(trial, std::vector<int>(n, portfolios[p].first),
                   std::vector<int>(n, portfolios[p].second), {});
    const Kernel kernel(trial, rng::Stream::choice_pilot);
    Workspace ws(trial);
    for (int r = 0; r < reps; ++r)
      kernel.run_replication(r, ws, [&](const YearOutcome& y) {
        for (std::size_t h = 0; h < n; ++h) {
          const double got = pilot[((r * portfolios.size() + p) * years + y.year - 1) * n + h];
          if (trial.households.main[h] < 0) {
            EXPECT_TRUE(std::isnan(got)) << "infeasible household " << h << " portfolio " << p;
            ++infeasible;
            continue;
          }
          const double want = y.income_of(h);
          EXPECT_EQ(std::memcmp(&got, &want, sizeof(double)), 0)
              << "household " << h << " portfolio " << p << " replication " << r << " year "
              << y.year << ": pilot " << got << ", kernel " << want;
          ++compared;
        }
      });
  }
  EXPECT_GT(compared, 10000u);
  EXPECT_GT(infeasible, 100u);
}

TEST(Pilot, IncomeOfEveryPortfolioEqualsTheKernelBitForBit) {
  expect_pilot_equals_kernel(pilot_scenario());
}

// v2: health shocks (lognormal and fixed costs, days lost, a cap for the poor, reimbursement by
// group) and the registered poor's own endowments (some without laborers) and wages.
TEST(Pilot, WithHealthAndPoorHouseholdsIncomeStillEqualsTheKernelBitForBit) {
  Scenario s = pilot_scenario();
  HealthSpec& h = s.health;
  h.enabled = true;
  h.illnesses = {{"outpatient", 0.4, {600.0, 1.0}, 0.0},
                 {"inpatient", 0.15, {12000.0, 1.2}, 60.0},
                 {"chronic", 0.1, {3000.0, 0.0}, 200.0}};
  h.reimbursement = {0.9117, 0.55};
  h.out_of_pocket_cap.poor = 3000.0;
  s.income.wage_poor = {5000.0, 0.5, 0.5};
  s.income.wage_poor_block = true;
  Population& p = s.population;
  p.poor_block = true;
  p.poor = p.all;
  p.poor.size_weights = {3, 2, 2, 1, 1, 1, 1};
  p.poor.laborer_share_of_size = 0.3;
  p.poor.laborer_min = 0;
  p.poor.capital = {800.0, 1.0};
  expect_pilot_equals_kernel(s);
}

// MODEL.md section 13: processes that share the pilot's batches end with the certainty
// equivalents one process computes, bit for bit, whichever process ran which batch: three
// "processes" (threads, exchanging through a barrier as MPI's all_gather does) taking batches
// from one counter as they finish them (one of them taking none), and the even split by rank.
// Two processes that each run every batch are refused at the exchange.
TEST(Pilot, ProcessesSharingTheBatchesEndWithTheOneProcessTable) {
  Scenario s = pilot_scenario();
  s.population.households = 1500;  // 4 batches of Kernel::kBatch, 476 in 8 quarter batches
  Model base = build_model(s);
  const std::size_t n = base.households.count();
  set_portfolios(base, std::vector<int>(n, -1), std::vector<int>(n, -1), {});
  const auto portfolios = candidate_portfolios(s);
  ASSERT_EQ(pilot_batch_count(base), 12u);
  using Range = std::pair<std::size_t, std::size_t>;
  EXPECT_EQ(pilot_batch_range(base, 3), Range(768, 1024));
  EXPECT_EQ(pilot_batch_range(base, 4), Range(1024, 1088));
  EXPECT_EQ(pilot_batch_range(base, 11), Range(1472, 1500));
  const std::vector<double> one = certainty_equivalents(base, portfolios, 2);
  ASSERT_EQ(one.size(), n * portfolios.size());

  enum class Hand { shared_counter, by_rank, everyone_everything };
  auto run = [&](int ranks, Hand hand) {
    std::vector<std::vector<unsigned char>> slots(static_cast<std::size_t>(ranks));
    std::vector<std::vector<double>> tables(slots.size());
    std::vector<std::string> errors(slots.size());
    std::barrier sync(ranks);
    std::atomic<std::int64_t> counter{0};
    std::vector<std::atomic<std::int64_t>> own(slots.size());
    std::vector<std::thread> processes;
    for (int r = 0; r < ranks; ++r)
      processes.emplace_back([&, r] {
        const auto i = static_cast<std::size_t>(r);
        PilotShare share;
        share.rank = r;
        share.ranks = ranks;
        if (hand == Hand::shared_counter)
          share.next_batch = [&, r]() -> std::int64_t {
            return r == ranks - 1 ? -1 : counter.fetch_add(1);  // the last takes none
          };
        if (hand == Hand::everyone_everything)
          share.next_batch = [&, i] { return own[i].fetch_add(1); };
        share.all_gather = [&, i](std::vector<unsigned char> mine) {
          slots[i] = std::move(mine);
          sync.arrive_and_wait();
          std::vector<std::vector<unsigned char>> all = slots;
          sync.arrive_and_wait();
          return all;
        };
        try {
          tables[i] = certainty_equivalents(base, portfolios, 1, nullptr, &share);
        } catch (const std::runtime_error& e) {
          errors[i] = e.what();
        }
      });
    for (std::thread& t : processes) t.join();
    return std::pair{tables, errors};
  };
  for (const auto& [ranks, hand] :
       {std::pair{3, Hand::shared_counter}, {2, Hand::shared_counter}, {3, Hand::by_rank}}) {
    const auto [tables, errors] = run(ranks, hand);
    for (int r = 0; r < ranks; ++r) {
      const auto i = static_cast<std::size_t>(r);
      SCOPED_TRACE("process " + std::to_string(r) + " of " + std::to_string(ranks));
      ASSERT_EQ(errors[i], "");
      ASSERT_EQ(tables[i].size(), one.size());
      EXPECT_EQ(std::memcmp(tables[i].data(), one.data(), one.size() * sizeof(double)), 0);
    }
  }
  const auto [tables, errors] = run(2, Hand::everyone_everything);
  for (const std::string& e : errors)
    EXPECT_NE(e.find("one another process ran"), std::string::npos) << e;
}

}  // namespace
}  // namespace incsim
