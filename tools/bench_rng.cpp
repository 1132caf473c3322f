// Throughput of the random-number component (include/incsim/rng.h): scalar Philox and
// Box-Muller against the batched, vectorised forms the simulation kernel uses, and the scalar
// hazard severity sampler (incsim/shocks.h) against the batched one.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <string>
#include <vector>

#include "incsim/rng.h"
#include "incsim/shocks.h"

namespace rng = incsim::rng;

namespace {

const rng::Key kKey = rng::make_key(12345, rng::Stream::replication);

std::vector<std::uint32_t> units_of(std::size_t n) {
  std::vector<std::uint32_t> u(n);
  for (std::size_t i = 0; i < n; ++i) u[i] = static_cast<std::uint32_t>(i);
  return u;
}

// One Philox block per call; items = 32-bit words.
void BM_PhiloxScalar(benchmark::State& state) {
  std::uint32_t index = 0;
  for (auto _ : state) {
    rng::Block b = rng::philox4x32_10(rng::counter(index, 1, 2, 3), kKey);
    benchmark::DoNotOptimize(b);
    ++index;
  }
  state.SetItemsProcessed(state.iterations() * 4);
  state.SetLabel("words");
}
BENCHMARK(BM_PhiloxScalar);

// Two normals per call from scalar libm; items = normals.
void BM_NormalPairScalar(benchmark::State& state) {
  std::uint32_t w = 0x12345678u;
  for (auto _ : state) {
    auto z = rng::normal_pair(w, w * 0x9E3779B9u);
    benchmark::DoNotOptimize(z);
    w += 0x6C8E9CF5u;
  }
  state.SetItemsProcessed(state.iterations() * 2);
  state.SetLabel("normals");
}
BENCHMARK(BM_NormalPairScalar);

// items = 32-bit words (4 per unit).
void BM_PhiloxBatch(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  const auto units = units_of(n);
  std::vector<std::uint32_t> out(4 * n);
  std::uint32_t year = 0;
  for (auto _ : state) {
    rng::philox_batch(kKey, units.data(), 1, year++, 3, n, out.data());
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(4 * n));
  state.SetLabel("words");
}
BENCHMARK(BM_PhiloxBatch)->Arg(8)->Arg(64)->Arg(256)->Arg(4096);

// items = standard normals (4 per unit), Philox included.
void BM_Normal4Batch(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  const auto units = units_of(n);
  std::vector<std::uint32_t> words(4 * n);
  std::vector<double> z(4 * n);
  std::uint32_t year = 0;
  for (auto _ : state) {
    rng::normal4_batch(kKey, units.data(), 1, year++, 3, n, words.data(), z.data());
    benchmark::DoNotOptimize(z.data());
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(4 * n));
  state.SetLabel("normals");
}
BENCHMARK(BM_Normal4Batch)->Arg(8)->Arg(64)->Arg(256)->Arg(4096);

// items = exponentials.
void BM_ExpBatch(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  std::vector<double> x(n), out(n);
  for (std::size_t i = 0; i < n; ++i) x[i] = -5.0 + 10.0 * static_cast<double>(i) / n;
  for (auto _ : state) {
    rng::exp_batch(x.data(), n, out.data());
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(n));
  state.SetLabel("exps");
}
BENCHMARK(BM_ExpBatch)->Arg(64)->Arg(256)->Arg(4096);

// Severity shapes: Tongshan's household hazards (poultry disease, colony loss), both shapes
// below 1, and a county flood's.
const incsim::Severity kSeverities[] = {
    {false, 0.0, 1.0, 4.0}, {false, 0.0, 2.0, 4.0}, {false, 0.0, 0.5, 0.7}, {false, 0.0, 2.0, 5.0}};

void severity_label(benchmark::State& state, const incsim::Severity& sev) {
  state.SetLabel("Beta(" + std::to_string(sev.a).substr(0, 3) + ", " +
                 std::to_string(sev.b).substr(0, 3) + ") variates");
}

// The scalar exact sampler, one occurrence per call; items = variates.
void BM_SeverityScalar(benchmark::State& state) {
  const incsim::Severity& sev = kSeverities[state.range(0)];
  std::uint32_t unit = 0;
  for (auto _ : state) {
    double s = incsim::sample_severity(sev, 1, kKey, unit++, 1, 2);
    benchmark::DoNotOptimize(s);
  }
  state.SetItemsProcessed(state.iterations());
  severity_label(state, sev);
}
BENCHMARK(BM_SeverityScalar)->DenseRange(0, 3);

// The batched sampler on n struck units (a kernel batch of 256 lanes has about 20 to 40 at
// Tongshan's probabilities 0.08 and 0.15); items = variates.
void BM_SeverityBatch(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  const incsim::Severity& sev = kSeverities[state.range(1)];
  std::vector<std::uint32_t> units = units_of(n);
  std::vector<double> out(n);
  for (auto _ : state) {
    incsim::sample_severity_batch(sev, 1, kKey, units.data(), n, 1, 2, out.data());
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
    for (auto& u : units) u += static_cast<std::uint32_t>(n);  // fresh draws every call
  }
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(n));
  severity_label(state, sev);
}
BENCHMARK(BM_SeverityBatch)
    ->ArgsProduct({{1, 8, 20, 32, 64, 256}, {0, 1}})
    ->ArgsProduct({{32}, {2, 3}});

}  // namespace

BENCHMARK_MAIN();
