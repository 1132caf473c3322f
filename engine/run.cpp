// Parallel replications with a deterministic reduction (see incsim/engine.h).
#include <tbb/blocked_range.h>
#include <tbb/parallel_reduce.h>
#include <tbb/task_arena.h>

#include <memory>

#include "incsim/engine.h"
#include "incsim/simulate.h"

namespace incsim {
namespace {

// The reduce body: one accumulator and one kernel workspace per body.
class Body {
 public:
  Body(const Kernel& kernel, const std::vector<Grouping>& groupings, ReplicationTable& table,
       std::atomic<std::int64_t>* progress)
      : kernel_(kernel),
        groupings_(groupings),
        table_(table),
        progress_(progress),
        acc_(kernel.model(), groupings),
        ws_(kernel.model()) {}
  Body(Body& other, tbb::split)
      : Body(other.kernel_, other.groupings_, other.table_, other.progress_) {}

  void operator()(const tbb::blocked_range<std::int64_t>& range) {
    for (std::int64_t r = range.begin(); r != range.end(); ++r) {
      acc_.begin_replication();
      kernel_.run_replication(r, ws_, [&](const YearOutcome& y) { acc_.add_year(r, y, table_); });
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
  std::atomic<std::int64_t>* progress_;
  Accumulator acc_;
  Workspace ws_;
};

}  // namespace

RunResults run_simulation(const Model& model, const RunOptions& options) {
  const Kernel kernel(model);
  const std::vector<Grouping> groupings = make_groupings(model);
  ReplicationTable table(model.replications, model.years, static_cast<int>(model.markets.size()));
  Body body(kernel, groupings, table, options.progress);
  const int threads =
      options.threads > 0 ? options.threads : tbb::this_task_arena::max_concurrency();
  tbb::task_arena arena(threads);
  arena.execute([&] {
    tbb::parallel_deterministic_reduce(
        tbb::blocked_range<std::int64_t>(0, model.replications,
                                         reduction_grain(model.replications)),
        body);
  });
  return finalize(model, body.accumulator(), table, groupings);
}

}  // namespace incsim
