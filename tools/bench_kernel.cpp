// Google Benchmark of where simulation time goes, in household-years per second (items/s).
//
// Kernel families, on one fixed population: scenarios/tongshan_double_insurance.yaml with
// 10,000 households and fixed portfolio shares summing to 0.6, 5 years. A household drawn to
// a portfolio it cannot run (land, forest, labor, capital) runs none, so fewer farm: the
// `farming` counter is the share that does, `segments` the number of kernel segments.
//   BM_kernel/hazards:H/insurance:I/portfolios:P/health:E
//       one replication of the kernel per iteration (Kernel + Workspace), single thread;
//       items = households x years.
//   BM_kernel_and_stats/hazards:H/insurance:I/portfolios:P
//       the same plus the statistics layer (Accumulator: begin_replication, add_year per
//       year, end_replication, end_block), single thread; items = households x years.
//   H = 0 removes every hazard (--set hazards={}), I = 0 every insurance product
//   (--set insurance={}), health:0 the health shocks (--set health={}); P = 7 runs the seven
//   portfolios of tools/bench.sh, P = 1 only the first (rice_crayfish_115 + chicken_135) with share
//   0.6.
//
//   BM_protection/parts:K
//       the kernel and statistics with hazards, both products, seven portfolios and health,
//       on copies of the model with the protection measures (MODEL.md section 9) switched
//       off in part: K = 0 neither, 1 basis risk only (the shortfall and compensation tallies
//       of the basis_risk stage, the per-unit revenue and cycle indemnities it reads, and the
//       ratio moments), 2 basis risk and protection value (the counterfactual incomes and the
//       per-holder utility sums) as a run computes them. Time(1) / time(0) - 1 is the cost of
//       the basis-risk stage, time(2) / time(1) - 1 that of the protection value.
//
// Choice families, on scenarios/bench.yaml as bundled (10,000 households, 30 candidate
// portfolios), base model with everyone running none, 20 pilot replications, 1 thread:
//   BM_choice_pilot            run_portfolio_pilot with a callback that only takes a checksum
//   BM_certainty_equivalents   certainty_equivalents: the pilot plus the utility per value
//   items = households x portfolios x years x pilot replications.
//
// Models are built once per argument tuple, outside the timed loops.
// Usage: build/incsim_bench_kernel [--benchmark_filter=...] [--benchmark_min_time=0.3]
// Paths: the repository root is $INCSIM_SOURCE_DIR (default "."); the choice scenario is
// $INCSIM_BENCH_SCENARIO (default <root>/scenarios/bench.yaml), the kernel scenario
// <root>/scenarios/tongshan_double_insurance.yaml.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <cstdlib>
#include <exception>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "incsim/choice.h"
#include "incsim/engine.h"
#include "incsim/load.h"
#include "incsim/pilot.h"
#include "incsim/simulate.h"
#include "incsim/stats.h"

namespace {

constexpr int kPilotReplications = 20;

std::string source_dir() {
  const char* dir = std::getenv("INCSIM_SOURCE_DIR");
  return dir && *dir ? dir : ".";
}

std::string kernel_scenario_path() {
  return source_dir() + "/scenarios/tongshan_double_insurance.yaml";
}

std::string choice_scenario_path() {
  const char* path = std::getenv("INCSIM_BENCH_SCENARIO");
  return path && *path ? path : source_dir() + "/scenarios/bench.yaml";
}

// The fixed shares of tools/bench.sh (0.6 in all).
const char* const kSevenPortfolios =
    "[{main: rice_crayfish_115, aux: chicken_135, share: 0.20},"
    " {main: rice_crayfish_115, aux: perilla_114, share: 0.10},"
    " {main: chicken_135, aux: perilla_114, share: 0.10},"
    " {main: perilla_114, aux: bee_212, share: 0.05},"
    " {main: shegan_139, aux: perilla_114, share: 0.05},"
    " {main: huangjing_143, aux: chicken_135, share: 0.05},"
    " {main: bee_212, aux: chicken_135, share: 0.05}]";
const char* const kOnePortfolio = "[{main: rice_crayfish_115, aux: chicken_135, share: 0.60}]";

// The kernel population with or without hazards and insurance, one or seven portfolios.
// Built on first use and kept for the whole run.
const incsim::Model& kernel_model(bool hazards, bool insurance, int portfolios, bool health) {
  static std::map<std::tuple<bool, bool, int, bool>, std::unique_ptr<const incsim::Model>> cache;
  auto& slot = cache[{hazards, insurance, portfolios, health}];
  if (!slot) {
    if (portfolios != 1 && portfolios != 7) throw std::invalid_argument("portfolios: 1 or 7");
    std::vector<incsim::Override> overrides = {
        {"population.households", "10000"},
        {"choice.rule", "fixed"},
        {"choice.portfolios", portfolios == 7 ? kSevenPortfolios : kOnePortfolio},
    };
    if (!hazards) overrides.push_back({"hazards", "{}"});
    if (!insurance) overrides.push_back({"insurance", "{}"});
    if (!health) overrides.push_back({"health", "{}"});
    auto model = std::make_unique<incsim::Model>(
        incsim::build_model(incsim::load_scenario(kernel_scenario_path(), overrides)));
    // The overrides must have done what the case name says.
    if (hazards == model->hazards.empty()) throw std::logic_error("hazards override failed");
    bool any_product = false;
    for (const incsim::ProductPlan& p : model->insurance.plan) any_product |= p.enabled;
    if (insurance != any_product) throw std::logic_error("insurance override failed");
    if (health != model->health.enabled) throw std::logic_error("health override failed");
    slot = std::move(model);
  }
  return *slot;
}

// The choice population: bench.yaml as bundled (its choice step, with the pilot size of this
// benchmark, runs once while building), then everyone set to run none, as the pilot's base.
struct ChoiceSetup {
  incsim::Model base;
  std::vector<std::pair<int, int>> portfolios;
};

const ChoiceSetup& choice_setup() {
  static const std::unique_ptr<const ChoiceSetup> setup = [] {
    const incsim::Scenario scenario =
        incsim::load_scenario(choice_scenario_path(),
                              {{"choice.pilot_replications", std::to_string(kPilotReplications)}});
    // The model before the choice: every household runs none.
    auto s =
        std::make_unique<ChoiceSetup>(ChoiceSetup{incsim::build_population_model(scenario), {}});
    if (s->base.scenario.choice.pilot_replications != kPilotReplications)
      throw std::logic_error("pilot_replications override failed");
    s->portfolios = incsim::candidate_portfolios(scenario);
    return s;
  }();
  return *setup;
}

std::int64_t household_years(const incsim::Model& model) {
  return static_cast<std::int64_t>(model.households.count()) * model.years;
}

void label_population(benchmark::State& state, const incsim::Model& model) {
  std::size_t farming = 0;
  for (std::uint8_t f : model.kernel.farming) farming += f;
  state.counters["farming"] =
      static_cast<double>(farming) / static_cast<double>(model.households.count());
  state.counters["segments"] = static_cast<double>(model.kernel.segments.size());
}

// Runs `body(model)` on the kernel model of the case, or skips the case if it cannot be built.
template <class Body>
void with_kernel_model(benchmark::State& state, Body&& body) {
  const incsim::Model* model = nullptr;
  try {
    model = &kernel_model(state.range(0) != 0, state.range(1) != 0, int(state.range(2)),
                          state.range(3) != 0);
  } catch (const std::exception& e) {
    state.SkipWithError(e.what());
    return;
  }
  body(*model);
  state.SetItemsProcessed(state.iterations() * household_years(*model));
  label_population(state, *model);
}

// The kernel alone: prices, hazards, yields, insurance, wages, dibao for every household-year.
// Each iteration is a new replication (r = 0, 1, ...), so no two iterations share draws.
void BM_kernel(benchmark::State& state) {
  with_kernel_model(state, [&](const incsim::Model& model) {
    const incsim::Kernel kernel(model);
    incsim::Workspace ws(model);
    std::int64_t r = 0;
    double sink = 0.0;
    for (auto _ : state) {
      kernel.run_replication(r++, ws, [&](const incsim::YearOutcome& y) { sink += y.dibao; });
    }
    benchmark::DoNotOptimize(sink);
  });
}

// Kernel plus statistics accumulation, single thread, in the calling sequence of
// simulate_block (engine/run.cpp) with one replication per block (a run folds a block of
// reduction_grain(R) replications, 64 for R >= 4033, so end_block weighs a little more here).
// Every replication writes row 0 of a one-row table (add_year and end_replication use the
// replication index only as the table row).
void BM_kernel_and_stats(benchmark::State& state) {
  with_kernel_model(state, [&](const incsim::Model& model) {
    const incsim::Kernel kernel(model);
    incsim::Workspace ws(model);
    const std::vector<incsim::Grouping> groupings = incsim::make_groupings(model);
    incsim::Accumulator acc(model, groupings);
    incsim::ReplicationTable table(1, model.years, static_cast<int>(model.markets.size()));
    std::int64_t r = 0;
    for (auto _ : state) {
      acc.begin_replication();
      kernel.run_replication(r++, ws,
                             [&](const incsim::YearOutcome& y) { acc.add_year(0, y, table); });
      acc.end_replication(0, table);
      acc.end_block();
    }
    benchmark::DoNotOptimize(table.mean_income.data());
    benchmark::DoNotOptimize(acc.replications);
  });
}

void kernel_args(benchmark::internal::Benchmark* b) {
  b->ArgNames({"hazards", "insurance", "portfolios", "health"})
      ->ArgsProduct({{0, 1}, {0, 1}, {1, 7}, {0, 1}})
      ->Unit(benchmark::kMillisecond);
}
BENCHMARK(BM_kernel)->Apply(kernel_args);
BENCHMARK(BM_kernel_and_stats)->Apply(kernel_args);

// The protection model of `parts` (BM_protection): 0 none, 1 basis risk only, 2 both.
const incsim::Model& protection_model(int parts) {
  static std::map<int, std::unique_ptr<const incsim::Model>> cache;
  auto& slot = cache[parts];
  if (!slot) {
    auto model = std::make_unique<incsim::Model>(kernel_model(true, true, 7, true));
    incsim::ProtectionModel& pm = model->protection;
    if (!pm.basis || !pm.any_value) throw std::logic_error("no protection measures to switch");
    if (parts < 2) {
      for (bool& v : pm.value) v = false;
      pm.any_value = false;
    }
    if (parts < 1) pm.basis = false;
    slot = std::move(model);
  }
  return *slot;
}

void BM_protection(benchmark::State& state) {
  const incsim::Model* model = nullptr;
  try {
    model = &protection_model(static_cast<int>(state.range(0)));
  } catch (const std::exception& e) {
    state.SkipWithError(e.what());
    return;
  }
  const incsim::Kernel kernel(*model);
  incsim::Workspace ws(*model);
  const std::vector<incsim::Grouping> groupings = incsim::make_groupings(*model);
  incsim::Accumulator acc(*model, groupings);
  incsim::ReplicationTable table(1, model->years, static_cast<int>(model->markets.size()),
                                 &model->protection);
  std::int64_t r = 0;
  for (auto _ : state) {
    acc.begin_replication();
    kernel.run_replication(
        r++, ws,
        [&](const incsim::YearOutcome& y, std::size_t first, std::size_t count) {
          acc.add_batch(y, first, count);
        },
        [&](const incsim::YearOutcome& y) { acc.end_year(0, y, table); });
    acc.end_replication(0, table);  // row 0 of the one-row table, as BM_kernel_and_stats
    acc.end_block();
  }
  benchmark::DoNotOptimize(table.mean_income.data());
  state.SetItemsProcessed(state.iterations() * household_years(*model));
}
BENCHMARK(BM_protection)->ArgName("parts")->DenseRange(0, 2)->Unit(benchmark::kMillisecond);

// Runs `body(setup)` on the choice population, or skips the case if it cannot be built.
template <class Body>
void with_choice_setup(benchmark::State& state, Body&& body) {
  const ChoiceSetup* setup = nullptr;
  try {
    setup = &choice_setup();
  } catch (const std::exception& e) {
    state.SkipWithError(e.what());
    return;
  }
  body(*setup);
  state.SetItemsProcessed(state.iterations() * household_years(setup->base) *
                          static_cast<std::int64_t>(setup->portfolios.size()) * kPilotReplications);
  state.counters["portfolios"] = static_cast<double>(setup->portfolios.size());
}

// The portfolio pilot alone: every household's income under every candidate portfolio.
// The callback takes one value per batch, so it costs nothing next to the pilot.
void BM_choice_pilot(benchmark::State& state) {
  with_choice_setup(state, [&](const ChoiceSetup& s) {
    double checksum = 0.0;
    std::int64_t batches = 0;
    for (auto _ : state) {
      incsim::run_portfolio_pilot(s.base, s.portfolios, kPilotReplications,
                                  incsim::rng::Stream::choice_pilot, 1,
                                  [&](const incsim::PilotBatch& batch) {
                                    checksum += batch.income[batch.income.size() / 2];
                                    ++batches;
                                  });
      benchmark::DoNotOptimize(checksum);
    }
    benchmark::DoNotOptimize(batches);
  });
}
BENCHMARK(BM_choice_pilot)->Unit(benchmark::kMillisecond)->MeasureProcessCPUTime();

// The pilot plus the utility: certainty equivalents of every household and portfolio
// (horizon means, CRRA terms, one accumulator per household and portfolio).
void BM_certainty_equivalents(benchmark::State& state) {
  with_choice_setup(state, [&](const ChoiceSetup& s) {
    for (auto _ : state) {
      std::vector<double> ce = incsim::certainty_equivalents(s.base, s.portfolios, 1);
      benchmark::DoNotOptimize(ce.data());
      benchmark::ClobberMemory();
    }
  });
}
BENCHMARK(BM_certainty_equivalents)->Unit(benchmark::kMillisecond)->MeasureProcessCPUTime();

}  // namespace

BENCHMARK_MAIN();
