// Parallel replications with a deterministic reduction (see incsim/engine.h).
#include <tbb/blocked_range.h>
#include <tbb/enumerable_thread_specific.h>
#include <tbb/parallel_for.h>
#include <tbb/task_arena.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>
#include <utility>

#include "incsim/engine.h"

#include "incsim/choice.h"
#include "incsim/simulate.h"

namespace incsim {
namespace {

// Where the first `count` replications' per-household incomes go: (S, H, T) float32.
struct SamplePaths {
  std::int64_t count = 0;
  std::vector<float> income;
};

// What the workers share while simulating: the kernel and where per-replication rows go.
// Each replication writes only its own rows and sample-path slot.
struct RangeJob {
  const Kernel& kernel;
  const std::vector<Grouping>& groupings;
  ReplicationTable& table;
  SamplePaths& paths;
  std::atomic<std::int64_t>* progress;
};

// One worker's kernel buffers and accumulator.
struct Worker {
  Worker(const Model& model, const std::vector<Grouping>& groupings)
      : acc(model, groupings), ws(model) {}
  Accumulator acc;
  Workspace ws;
};

void simulate_block(const RangeJob& job, std::int64_t begin, std::int64_t end, Worker& w) {
  const Model& model = job.kernel.model();
  const std::size_t n = model.households.count();
  const auto years = static_cast<std::size_t>(model.years);
  for (std::int64_t r = begin; r != end; ++r) {
    w.acc.begin_replication();
    job.kernel.run_replication(
        r, w.ws,
        [&](const YearOutcome& y, std::size_t first, std::size_t count) {
          w.acc.add_batch(y, first, count);
        },
        [&](const YearOutcome& y) {
          w.acc.end_year(r, y, job.table);
          if (r < job.paths.count) {  // each replication owns its slot
            float* out = job.paths.income.data() + static_cast<std::size_t>(r) * n * years;
            for (std::size_t h = 0; h < n; ++h)
              out[h * years + (y.year - 1)] = static_cast<float>(y.income_of(h));
          }
        });
    w.acc.end_replication(r, job.table);
    if (job.progress) job.progress->fetch_add(1, std::memory_order_relaxed);
  }
  w.acc.end_block();
}

// Simulates [begin, end) in blocks cut at multiples of `grain` and adds them into `into`.
// A block's replications are summed in order by one worker, then folded into exact sums, so
// the result depends only on the block grid, never on the threads or their schedule.
void simulate_range(const RangeJob& job, std::int64_t begin, std::int64_t end, std::int64_t grain,
                    Accumulator& into) {
  std::vector<std::pair<std::int64_t, std::int64_t>> blocks;
  for (std::int64_t b = begin; b < end;) {
    const std::int64_t e = std::min(end, (b / grain + 1) * grain);
    blocks.push_back({b, e});
    b = e;
  }
  const Model& model = job.kernel.model();
  tbb::enumerable_thread_specific<Worker> workers([&] { return Worker(model, job.groupings); });
  tbb::parallel_for(tbb::blocked_range<std::size_t>(0, blocks.size(), 1),
                    [&](const tbb::blocked_range<std::size_t>& range) {
                      Worker& w = workers.local();
                      for (std::size_t k = range.begin(); k != range.end(); ++k)
                        simulate_block(job, blocks[k].first, blocks[k].second, w);
                    });
  for (const Worker& w : workers) into.merge(w.acc);
}

// The per-replication column of the convergence measure.
const std::vector<double>& measure_column(const ReplicationTable& table, const std::string& m) {
  if (m == "fgt1") return table.fgt1;
  if (m == "fgt2") return table.fgt2;
  if (m == "mean_income") return table.mean_income;
  if (m == "government_cost") return table.government_cost;
  return table.fgt0;
}

}  // namespace

void ReplicationTable::truncate(std::int64_t r) {
  const auto n = static_cast<std::size_t>(r) * years;
  for (std::vector<double>* v : year_columns()) v->resize(n);
  prices.resize(n * markets);
  ever_poor.resize(static_cast<std::size_t>(r));
  two_consecutive_poor_ever.resize(static_cast<std::size_t>(r));
  replications = r;
}

namespace {

int thread_count(const RunOptions& options) {
  return options.threads > 0 ? options.threads : tbb::this_task_arena::max_concurrency();
}

std::int64_t sample_path_count(const Model& model) {
  return std::min(model.scenario.output.sample_paths, model.replications);
}

}  // namespace

void ReplicationTable::copy_rows(const ReplicationTable& from, std::int64_t begin,
                                 std::int64_t end) {
  const auto a = static_cast<std::size_t>(begin) * years;
  const auto b = static_cast<std::size_t>(end) * years;
  auto copy = [&](const std::vector<double>& src, std::vector<double>& dst, std::size_t width) {
    std::copy(src.begin() + a * width, src.begin() + b * width, dst.begin() + a * width);
  };
  const std::vector<std::vector<double>*> to = year_columns();
  const std::vector<const std::vector<double>*> src = from.year_columns();
  for (std::size_t k = 0; k < to.size(); ++k) copy(*src[k], *to[k], 1);
  copy(from.prices, prices, static_cast<std::size_t>(markets));
  std::copy(from.ever_poor.begin() + begin, from.ever_poor.begin() + end,
            ever_poor.begin() + begin);
  std::copy(from.two_consecutive_poor_ever.begin() + begin,
            from.two_consecutive_poor_ever.begin() + end,
            two_consecutive_poor_ever.begin() + begin);
}

std::vector<std::int64_t> part_boundaries(std::int64_t replications, int parts) {
  if (parts < 1) throw std::invalid_argument("part_boundaries: at least one part");
  const std::int64_t grain = reduction_grain(replications);
  const std::int64_t blocks = block_count(replications);
  if (parts > blocks)
    throw std::invalid_argument("part_boundaries: " + std::to_string(parts) + " parts of " +
                                std::to_string(blocks) + " blocks of replications");
  std::vector<std::int64_t> cuts;
  for (int i = 0; i <= parts; ++i)
    cuts.push_back(std::min(replications, blocks * i / parts * grain));
  return cuts;
}

RunPart empty_part(const Model& model) {
  RunPart part;
  part.groupings = std::make_shared<const std::vector<Grouping>>(make_groupings(model));
  part.table = ReplicationTable(model.replications, model.years,
                                static_cast<int>(model.markets.size()), &model.protection);
  part.accumulator = std::make_unique<Accumulator>(model, *part.groupings);
  part.sample_path_count = sample_path_count(model);
  return part;
}

namespace {

SamplePaths paths_of(const Model& model) {
  SamplePaths paths;
  paths.count = sample_path_count(model);
  paths.income.assign(
      static_cast<std::size_t>(paths.count) * model.households.count() * model.years, 0.0f);
  return paths;
}

// Sets part.ranges to `ranges` sorted, with touching ones joined, and the span [begin, end)
// from them; throws std::invalid_argument (naming `who`) if two ranges share replications.
void set_ranges(RunPart& part, std::vector<std::pair<std::int64_t, std::int64_t>> ranges,
                const char* who) {
  std::sort(ranges.begin(), ranges.end());
  std::vector<std::pair<std::int64_t, std::int64_t>> joined;  // `part` is untouched on a throw
  for (const auto& r : ranges) {
    if (!joined.empty() && r.first < joined.back().second)
      throw std::invalid_argument(std::string(who) + ": the parts share replications [" +
                                  std::to_string(r.first) + ", " +
                                  std::to_string(std::min(r.second, joined.back().second)) + ")");
    if (!joined.empty() && joined.back().second == r.first)
      joined.back().second = r.second;
    else
      joined.push_back(r);
  }
  part.ranges = std::move(joined);
  part.begin = part.ranges.empty() ? 0 : part.ranges.front().first;
  part.end = part.ranges.empty() ? 0 : part.ranges.back().second;
}

}  // namespace

RunPart run_part(const Model& model, std::int64_t begin, std::int64_t end,
                 const RunOptions& options) {
  const Kernel kernel(model);
  RunPart part = empty_part(model);
  part.begin = begin;
  part.end = end;
  if (end > begin) part.ranges = {{begin, end}};
  SamplePaths paths = paths_of(model);
  const RangeJob job{kernel, *part.groupings, part.table, paths, options.progress};
  tbb::task_arena arena(thread_count(options));
  arena.execute([&] {
    simulate_range(job, begin, end, reduction_grain(model.replications), *part.accumulator);
  });
  part.sample_paths = std::move(paths.income);
  return part;
}

RunPart run_blocks(const Model& model, const NextBlock& next, const RunOptions& options) {
  const Kernel kernel(model);
  RunPart part = empty_part(model);
  SamplePaths paths = paths_of(model);
  const RangeJob job{kernel, *part.groupings, part.table, paths, options.progress};
  const std::int64_t grain = reduction_grain(model.replications);
  const std::int64_t blocks = block_count(model.replications);
  const int workers = thread_count(options);
  // Each worker keeps its own accumulator and list of blocks; both are folded in at the end
  // (exact sums: the order of blocks and workers does not matter).
  std::vector<std::unique_ptr<Worker>> state(static_cast<std::size_t>(workers));
  std::vector<std::vector<std::pair<std::int64_t, std::int64_t>>> taken(state.size());
  tbb::task_arena arena(workers);
  arena.execute([&] {
    tbb::parallel_for(0, workers, [&](int k) {
      const auto i = static_cast<std::size_t>(k);
      for (std::int64_t b = next(); b >= 0; b = next()) {
        if (b >= blocks)
          throw std::logic_error("run_blocks: block " + std::to_string(b) + " of " +
                                 std::to_string(blocks));
        if (!state[i]) state[i] = std::make_unique<Worker>(model, *part.groupings);
        const std::int64_t first = b * grain;
        const std::int64_t last = std::min(model.replications, first + grain);
        simulate_block(job, first, last, *state[i]);
        taken[i].push_back({first, last});
      }
    });
  });
  std::vector<std::pair<std::int64_t, std::int64_t>> all;
  for (std::size_t i = 0; i < state.size(); ++i) {
    if (state[i]) part.accumulator->merge(state[i]->acc);
    all.insert(all.end(), taken[i].begin(), taken[i].end());
  }
  set_ranges(part, std::move(all), "run_blocks (a block handed out twice)");
  part.sample_paths = std::move(paths.income);
  return part;
}

void merge_parts(RunPart& left, RunPart&& right) {
  std::vector<std::pair<std::int64_t, std::int64_t>> all = left.ranges;
  all.insert(all.end(), right.ranges.begin(), right.ranges.end());
  set_ranges(left, std::move(all), "merge_parts");  // checked before anything is added
  left.accumulator->merge(*right.accumulator);
  // Sample path slot r (r < S) belongs to replication r.
  const std::int64_t s_count = left.sample_path_count;
  const std::size_t width =
      s_count > 0 ? left.sample_paths.size() / static_cast<std::size_t>(s_count) : 0;
  for (const auto& [begin, end] : right.ranges) {
    left.table.copy_rows(right.table, begin, end);
    const std::int64_t a = std::min(begin, s_count), b = std::min(end, s_count);
    std::copy(right.sample_paths.begin() + a * width, right.sample_paths.begin() + b * width,
              left.sample_paths.begin() + a * width);
  }
}

RunResults finish_run(const Model& model, RunPart&& whole) {
  const bool complete = whole.ranges.size() == 1 && whole.ranges[0].first == 0 &&
                        whole.ranges[0].second == model.replications;
  if (!complete)
    throw std::invalid_argument("finish_run: the part does not cover every replication");
  RunResults out = finalize(model, *whole.accumulator, whole.table, *whole.groupings);
  out.replications_requested = model.replications;
  out.sample_path_count = whole.sample_path_count;
  out.sample_paths = std::move(whole.sample_paths);
  return out;
}

Model build_model(const Scenario& scenario, int threads, std::atomic<std::int64_t>* choice_progress,
                  const PilotShare* share) {
  Model model = build_population_model(scenario);
  choose_portfolios(model, threads, choice_progress, share);
  return model;
}

RunResults run_simulation(const Model& model, const RunOptions& options) {
  const ConvergenceTarget& target = model.scenario.output.target;
  if (!target.enabled) return finish_run(model, run_part(model, 0, model.replications, options));
  const Kernel kernel(model);
  const std::vector<Grouping> groupings = make_groupings(model);
  const std::int64_t max_reps = model.replications;
  ReplicationTable table(max_reps, model.years, static_cast<int>(model.markets.size()),
                         &model.protection);
  SamplePaths paths;
  paths.count = sample_path_count(model);
  paths.income.assign(
      static_cast<std::size_t>(paths.count) * model.households.count() * model.years, 0.0f);
  Accumulator acc(model, groupings);
  const RangeJob job{kernel, groupings, table, paths, options.progress};
  std::vector<ConvergenceRow> convergence;
  std::int64_t done = 0;
  tbb::task_arena arena(thread_count(options));
  arena.execute([&] {
    // Convergence mode: batches in order on the run's block grid; the stopping rule reads only
    // the per-replication table, so the stopping point is the same for any thread count.
    const std::vector<double>& column = measure_column(table, target.measure);
    while (done < max_reps) {
      const std::int64_t n = std::min(target.batch, max_reps - done);
      simulate_range(job, done, done + n, reduction_grain(max_reps), acc);
      done += n;
      const Estimate e =
          mean_and_se(column, static_cast<std::size_t>(model.years),
                      static_cast<std::size_t>(target.year - 1), static_cast<std::size_t>(done));
      convergence.push_back({done, e.mean[0], e.se[0]});
      const double goal = target.standard_error > 0.0 ? target.standard_error
                                                      : target.relative_error * std::abs(e.mean[0]);
      if (done >= 2 && e.se[0] <= goal) break;
    }
  });
  table.truncate(done);
  paths.count = std::min(paths.count, done);
  paths.income.resize(static_cast<std::size_t>(paths.count) * model.households.count() *
                      model.years);
  RunResults out = finalize(model, acc, table, groupings);
  out.replications_requested = max_reps;
  out.convergence = std::move(convergence);
  out.sample_path_count = paths.count;
  out.sample_paths = std::move(paths.income);
  return out;
}

}  // namespace incsim
