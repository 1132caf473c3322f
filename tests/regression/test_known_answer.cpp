// Known answer (MODEL.md sections 2, 3, 7 and 10): one household of one person with one
// laborer, one year, one market with volatility, one product with yield risk and a stochastic
// wage with unemployment, on a fixed portfolio. The household-year's per-capita income is
// computed here by hand from the raw Philox4x32-10 words, with scalar std::log, std::cos,
// std::exp, and compared with the engine (Kernel::run_replication and run_simulation) within
// 1e-12 relative: the kernel uses glibc's vector maths, which may differ in the last bits.
//
// No expected number is hard-coded: the expected value is a function of the words. What is
// hard-coded is the address of each draw, i.e. the table of include/incsim/draws.h as it is
// today (the reproducibility contract: "never renumber"):
//
//   price innovation  Stream::replication, counter {market 0, r, t, 0},       z = cos branch
//                     of Box-Muller on (w0, w1)
//   yield normal      Stream::replication, counter {household 0, r, t, 0x10000} (yield block
//                     0 of industry 0), product 0 = cos branch of (w0, w1)
//   wage normal       Stream::replication, counter {household 0, r, t, 0x100} (wage block 0),
//                     laborer 0 = cos branch of (w0, w1); employed when uniform(w2) < rate
//
// so renumbering any of these entries (or swapping a Box-Muller branch or a word) makes the
// engine's income differ from the hand computation, and the test fail. The test also shows
// that each neighbouring address gives a different income, i.e. that it would notice.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <numbers>
#include <string>
#include <vector>

#include "incsim/draws.h"
#include "incsim/engine.h"
#include "incsim/rng.h"
#include "incsim/simulate.h"
#include "support.h"

namespace incsim {
namespace {

// The addresses of draws.h pinned by this test (see the header comment).
constexpr std::uint32_t kPriceIndex = 0x0;       // draws::kPriceInnovation
constexpr std::uint32_t kWageIndex = 0x100;      // draws::kWage + 0
constexpr std::uint32_t kYieldIndex = 0x10000;   // draws::yield_index(0, 0)
constexpr std::uint32_t kReplicationStream = 6;  // rng::Stream::replication

// Parameters of the scenario (MODEL.md notation).
constexpr double kPrice = 10.0, kVolatility = 0.3, kPersistence = 0.5;
constexpr double kYield = 100.0, kYieldCv = 0.25;
constexpr double kWagePerLaborer = 9000.0, kWageCv = 0.3, kEmploymentRate = 0.6;
constexpr double kOperatingCost = 250.0, kTransfers = 120.0;
constexpr int kYear = 1;
constexpr std::int64_t kReplication = 3;  // not 0: the replication word must be the counter's

Scenario known_answer_scenario(std::uint64_t seed, std::int64_t replications) {
  Scenario s = test::simple_scenario(1, 1, replications);
  s.seed = seed;
  s.markets = {{"grain", "kg", kPrice, 0.0, kVolatility, kPersistence}};
  s.correlation = {};
  s.industries[0].products = {{0, kYield, kYieldCv}};
  s.industries[0].operating_cost = kOperatingCost;
  s.income.wage = {kWagePerLaborer, kWageCv, kEmploymentRate};
  s.income.transfers_per_capita = kTransfers;
  return s;
}

// Where each draw is taken from; the defaults are the engine's addresses.
struct Addresses {
  std::uint32_t stream = kReplicationStream;
  std::uint32_t replication = 0;
  std::uint32_t year = kYear;
  std::uint32_t household_unit = 0;
  std::uint32_t price_index = kPriceIndex;
  std::uint32_t yield_index = kYieldIndex;
  std::uint32_t wage_index = kWageIndex;
  bool price_sin = false, yield_sin = false, wage_sin = false;  // Box-Muller branch
  int employment_word = 2;
};

rng::Block words(std::uint64_t seed, const Addresses& a, std::uint32_t unit, std::uint32_t index) {
  return rng::philox4x32_10({unit, a.replication, a.year, index},
                            rng::make_key(seed, static_cast<rng::Stream>(a.stream)));
}

// Box-Muller by hand: sqrt(-2 ln u(w0)) times cos (or sin) of 2 pi u(w1).
double normal(const rng::Block& w, bool sin_branch) {
  const double u1 = (static_cast<double>(w[0]) + 0.5) / 4294967296.0;
  const double u2 = (static_cast<double>(w[1]) + 0.5) / 4294967296.0;
  const double r = std::sqrt(-2.0 * std::log(u1));
  const double theta = 2.0 * std::numbers::pi * u2;
  return r * (sin_branch ? std::sin(theta) : std::cos(theta));
}

double uniform_of(std::uint32_t w) {
  return (static_cast<double>(w) + 0.5) / 4294967296.0;
}

struct HandResult {
  double price = 0.0;
  double income = 0.0;
  bool employed = false;
};

// The household-year by MODEL.md: P = price exp(sigma z - sigma^2/2) in year 1 (x_0 = 0, one
// market so the correlation factor is 1); revenue = units x yield x P x exp(s z_y - s^2/2)
// with s = sqrt(ln(1 + cv^2)); wage = employed x w exp(s_w z_w - s_w^2/2); income = transfers
// - operating cost + revenue + wage, per capita with size 1.
HandResult by_hand(std::uint64_t seed, const Addresses& a) {
  HandResult out;
  const double z_price = normal(words(seed, a, 0, a.price_index), a.price_sin);
  const double log_dev = kPersistence * 0.0 + kVolatility * z_price;
  out.price = kPrice * std::exp(log_dev - 0.5 * kVolatility * kVolatility);

  const double s = std::sqrt(std::log1p(kYieldCv * kYieldCv));
  const double z_yield = normal(words(seed, a, a.household_unit, a.yield_index), a.yield_sin);
  const double revenue = 1.0 * kYield * out.price * std::exp(s * z_yield - 0.5 * s * s);

  const rng::Block w = words(seed, a, a.household_unit, a.wage_index);
  const double s_w = std::sqrt(std::log1p(kWageCv * kWageCv));
  out.employed = uniform_of(w[a.employment_word]) < kEmploymentRate;
  const double wage =
      out.employed ? kWagePerLaborer * std::exp(s_w * normal(w, a.wage_sin) - 0.5 * s_w * s_w)
                   : 0.0;
  out.income = (kTransfers - kOperatingCost + revenue + wage) / 1.0;
  return out;
}

Addresses at_replication(std::int64_t r) {
  Addresses a;
  a.replication = static_cast<std::uint32_t>(r);
  return a;
}

// The first seed in 1..100 for which the laborer is employed in kReplication (uniform(w2) <
// rate) and laborer 1's word w3 would say unemployed, so that both the employment decision and
// the word it is read from matter.
std::uint64_t employed_seed() {
  for (std::uint64_t seed = 1; seed <= 100; ++seed) {
    const rng::Block w = words(seed, at_replication(kReplication), 0, kWageIndex);
    if (uniform_of(w[2]) < kEmploymentRate && !(uniform_of(w[3]) < kEmploymentRate)) return seed;
  }
  return 0;
}

// The engine's per-capita income of household 0 in year 1 of replication r.
double kernel_income(const Model& model, std::int64_t r, double* price = nullptr) {
  const Kernel kernel(model);
  Workspace ws(model);
  double income = std::nan("");
  kernel.run_replication(r, ws, [&](const YearOutcome& y) {
    if (y.year != kYear) return;
    income = y.income_per_capita[0];
    if (price) *price = y.prices[0];
  });
  return income;
}

void expect_relative(double actual, double expected, const std::string& what) {
  EXPECT_NEAR(actual, expected, 1e-12 * std::abs(expected))
      << what << ": engine " << actual << ", by hand " << expected;
}

TEST(KnownAnswer, AddressesAreTheDrawTableOfToday) {
  // Renumbering an entry of draws.h breaks every stored result: these are contract values.
  EXPECT_EQ(draws::kPriceInnovation, kPriceIndex);
  EXPECT_EQ(draws::kWage, kWageIndex);
  EXPECT_EQ(draws::kYieldBase, kYieldIndex);
  EXPECT_EQ(draws::yield_index(0, 0), kYieldIndex);
  EXPECT_EQ(static_cast<std::uint32_t>(rng::Stream::replication), kReplicationStream);
}

TEST(KnownAnswer, IncomeOfOneHouseholdYearFromTheRawWords) {
  const std::uint64_t seed = employed_seed();
  ASSERT_NE(seed, 0u) << "no seed in 1..100 gives an employed laborer";
  std::printf("known answer: seed %llu, replication %lld, year %d (laborer employed)\n",
              static_cast<unsigned long long>(seed), static_cast<long long>(kReplication), kYear);
  RecordProperty("seed", std::to_string(seed));

  const Scenario s = known_answer_scenario(seed, kReplication + 1);
  const Model model = build_model(s, 1);
  ASSERT_EQ(model.households.count(), 1u);
  ASSERT_EQ(model.households.size[0], 1);
  ASSERT_EQ(model.households.laborers[0], 1);
  ASSERT_EQ(model.households.main[0], 0);
  ASSERT_EQ(model.households.units_main[0], 1);
  ASSERT_TRUE(model.stochastic_wage());

  const HandResult hand = by_hand(seed, at_replication(kReplication));
  ASSERT_TRUE(hand.employed);
  double price = 0.0;
  const double income = kernel_income(model, kReplication, &price);
  expect_relative(price, hand.price, "price P[grain, 1]");
  expect_relative(income, hand.income, "per-capita income (Kernel::run_replication)");

  // The same value through the whole engine: the per-replication mean income of a population
  // of one person is that person's income.
  const RunResults results = run_simulation(model, {2, nullptr});
  ASSERT_EQ(results.per_replication.replications, kReplication + 1);
  const std::size_t cell = results.per_replication.at(kReplication, kYear);
  expect_relative(results.per_replication.mean_income[cell], hand.income,
                  "per-capita income (run_simulation, /replications/mean_income)");
  expect_relative(results.per_replication.prices[cell], hand.price,
                  "price (run_simulation, /prices per replication)");

  // Every neighbouring address gives a clearly different income: had the engine used it, the
  // comparison above would have failed.
  struct Neighbour {
    const char* what;
    Addresses a;
  };
  std::vector<Neighbour> neighbours;
  auto add = [&](const char* what, auto change) {
    Addresses a = at_replication(kReplication);
    change(a);
    neighbours.push_back({what, a});
  };
  add("price innovation index + 1", [](Addresses& a) { ++a.price_index; });
  add("price innovation sin branch", [](Addresses& a) { a.price_sin = true; });
  add("yield block + 1 (yield_index(0, 1))", [](Addresses& a) { ++a.yield_index; });
  add("next industry's yield (yield_index(1, 0))", [](Addresses& a) { a.yield_index += 0x100; });
  add("yield sin branch (product 1)", [](Addresses& a) { a.yield_sin = true; });
  add("wage block + 1 (kWage + 1)", [](Addresses& a) { ++a.wage_index; });
  add("wage sin branch (laborer 1)", [](Addresses& a) { a.wage_sin = true; });
  add("employment from w3 (laborer 1)", [](Addresses& a) { a.employment_word = 3; });
  add("household unit 1", [](Addresses& a) { a.household_unit = 1; });
  add("replication - 1", [](Addresses& a) { --a.replication; });
  add("replication + 1", [](Addresses& a) { ++a.replication; });
  add("year 0", [](Addresses& a) { a.year = 0; });
  add("year 2", [](Addresses& a) { a.year = 2; });
  add("choice pilot stream", [](Addresses& a) { a.stream = 3; });
  for (const Neighbour& n : neighbours) {
    const double other = by_hand(seed, n.a).income;
    EXPECT_GT(std::abs(other - income), 1e-9 * std::abs(income))
        << n.what << " gives the same income " << other;
  }
}

// The other replications of the same model, employed or not: the hand computation agrees in
// every one, and both branches of the employment draw occur.
TEST(KnownAnswer, EveryReplicationEmployedOrNot) {
  const std::uint64_t seed = employed_seed();
  ASSERT_NE(seed, 0u);
  constexpr std::int64_t kReplications = 16;
  const Model model = build_model(known_answer_scenario(seed, kReplications), 1);
  int employed = 0;
  for (std::int64_t r = 0; r < kReplications; ++r) {
    const HandResult hand = by_hand(seed, at_replication(r));
    employed += hand.employed ? 1 : 0;
    expect_relative(kernel_income(model, r), hand.income,
                    "per-capita income in replication " + std::to_string(r));
  }
  EXPECT_GT(employed, 0);
  EXPECT_LT(employed, kReplications);
}

}  // namespace
}  // namespace incsim
