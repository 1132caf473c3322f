// Parallel replications with a deterministic reduction (see incsim/engine.h).
#include <tbb/blocked_range.h>
#include <tbb/parallel_reduce.h>
#include <tbb/task_arena.h>

#include <algorithm>
#include <cmath>

#include "incsim/engine.h"
#include "incsim/simulate.h"

namespace incsim {
namespace {

// Where the first `count` replications' per-household incomes go: (S, H, T) float32.
struct SamplePaths {
  std::int64_t count = 0;
  std::vector<float> income;
};

// The reduce body: one accumulator and one kernel workspace per body.
class Body {
 public:
  Body(const Kernel& kernel, const std::vector<Grouping>& groupings, ReplicationTable& table,
       SamplePaths& paths, std::atomic<std::int64_t>* progress)
      : kernel_(kernel),
        groupings_(groupings),
        table_(table),
        paths_(paths),
        progress_(progress),
        acc_(kernel.model(), groupings),
        ws_(kernel.model()) {}
  Body(Body& other, tbb::split)
      : Body(other.kernel_, other.groupings_, other.table_, other.paths_, other.progress_) {}

  void operator()(const tbb::blocked_range<std::int64_t>& range) {
    const std::size_t n = kernel_.model().households.count();
    const auto years = static_cast<std::size_t>(kernel_.model().years);
    for (std::int64_t r = range.begin(); r != range.end(); ++r) {
      acc_.begin_replication();
      kernel_.run_replication(r, ws_, [&](const YearOutcome& y) {
        acc_.add_year(r, y, table_);
        if (r < paths_.count) {  // each replication owns its slot: no sharing between bodies
          float* out = paths_.income.data() + static_cast<std::size_t>(r) * n * years;
          for (std::size_t h = 0; h < n; ++h)
            out[h * years + (y.year - 1)] = static_cast<float>(y.income_per_capita[h]);
        }
      });
      acc_.end_replication(r, table_);
      if (progress_) progress_->fetch_add(1, std::memory_order_relaxed);
    }
  }
  void join(Body& rhs) { acc_.merge(rhs.acc_); }
  const Accumulator& accumulator() const { return acc_; }

 private:
  const Kernel& kernel_;
  const std::vector<Grouping>& groupings_;
  ReplicationTable& table_;
  SamplePaths& paths_;
  std::atomic<std::int64_t>* progress_;
  Accumulator acc_;
  Workspace ws_;
};

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
  for (auto* v : {&mean_income, &within_var, &fgt0, &fgt1, &fgt2, &relapse, &government_cost,
                  &dibao, &negative_farm_share, &two_consecutive_poor})
    v->resize(n);
  for (ProductColumns& c : insurance)
    for (auto* v : {&c.premium, &c.subsidy, &c.payout, &c.paid_share}) v->resize(n);
  prices.resize(n * markets);
  ever_poor.resize(static_cast<std::size_t>(r));
  two_consecutive_poor_ever.resize(static_cast<std::size_t>(r));
  replications = r;
}

RunResults run_simulation(const Model& model, const RunOptions& options) {
  const Kernel kernel(model);
  const std::vector<Grouping> groupings = make_groupings(model);
  const std::int64_t max_reps = model.replications;
  ReplicationTable table(max_reps, model.years, static_cast<int>(model.markets.size()));
  SamplePaths paths;
  paths.count = std::min(model.scenario.output.sample_paths, max_reps);
  paths.income.assign(
      static_cast<std::size_t>(paths.count) * model.households.count() * model.years, 0.0f);
  Body body(kernel, groupings, table, paths, options.progress);
  const ConvergenceTarget& target = model.scenario.output.target;
  std::vector<ConvergenceRow> convergence;
  std::int64_t done = 0;

  const int threads =
      options.threads > 0 ? options.threads : tbb::this_task_arena::max_concurrency();
  tbb::task_arena arena(threads);
  arena.execute([&] {
    if (!target.enabled) {
      tbb::parallel_deterministic_reduce(
          tbb::blocked_range<std::int64_t>(0, max_reps, reduction_grain(max_reps)), body);
      done = max_reps;
      return;
    }
    // Convergence mode: batches in order, each reduced on its own and merged into `body` in
    // batch order; the stopping rule reads only the per-replication table, so the stopping
    // point is the same for any thread count.
    const std::vector<double>& column = measure_column(table, target.measure);
    while (done < max_reps) {
      const std::int64_t n = std::min(target.batch, max_reps - done);
      Body batch(kernel, groupings, table, paths, options.progress);
      tbb::parallel_deterministic_reduce(
          tbb::blocked_range<std::int64_t>(done, done + n, reduction_grain(n)), batch);
      body.join(batch);
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
  RunResults out = finalize(model, body.accumulator(), table, groupings);
  out.replications_requested = max_reps;
  out.convergence = std::move(convergence);
  out.sample_path_count = paths.count;
  out.sample_paths = std::move(paths.income);
  return out;
}

}  // namespace incsim
