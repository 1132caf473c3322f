// Google Benchmark of the simulation kernel: one replication of the bench scenario
// (10,000 households x 5 years) per iteration, reported in household-years per second.
// Usage: build/incsim_bench_kernel [--benchmark_filter=...]  (run from the repository root
// or set INCSIM_BENCH_SCENARIO).
#include <benchmark/benchmark.h>

#include <cstdlib>

#include "incsim/engine.h"
#include "incsim/load.h"
#include "incsim/simulate.h"

namespace {

const incsim::Model& bench_model() {
  static const incsim::Model model = [] {
    const char* path = std::getenv("INCSIM_BENCH_SCENARIO");
    return incsim::build_model(incsim::load_scenario(path ? path : "scenarios/bench.yaml"));
  }();
  return model;
}

// The kernel alone: prices, yields, wages, dibao for every household-year.
void BM_kernel_replication(benchmark::State& state) {
  const incsim::Model& model = bench_model();
  const incsim::Kernel kernel(model);
  incsim::Workspace ws(model);
  std::int64_t r = 0;
  double sink = 0.0;
  for (auto _ : state) {
    kernel.run_replication(r++, ws, [&](const incsim::YearOutcome& y) { sink += y.dibao; });
  }
  benchmark::DoNotOptimize(sink);
  state.SetItemsProcessed(state.iterations() * std::int64_t(model.households.count()) *
                          model.years);
}
BENCHMARK(BM_kernel_replication)->Unit(benchmark::kMillisecond);

// Kernel plus statistics accumulation, single thread.
void BM_kernel_and_stats(benchmark::State& state) {
  const incsim::Model& model = bench_model();
  const incsim::Kernel kernel(model);
  incsim::Workspace ws(model);
  const auto groupings = incsim::make_groupings(model);
  incsim::Accumulator acc(model, groupings);
  incsim::ReplicationTable table(1, model.years, int(model.markets.size()));
  for (auto _ : state) {
    acc.begin_replication();
    kernel.run_replication(0, ws, [&](const incsim::YearOutcome& y) { acc.add_year(0, y, table); });
    acc.end_replication(0, table);
  }
  state.SetItemsProcessed(state.iterations() * std::int64_t(model.households.count()) *
                          model.years);
}
BENCHMARK(BM_kernel_and_stats)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
