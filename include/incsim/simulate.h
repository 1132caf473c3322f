// Simulation kernel: one replication of the model, year by year (MODEL.md sections 2, 3, 7).
// Pure: the outcome of replication r depends only on (model, r), never on which thread runs
// it or what ran before. Households are swept in batches of kBatch, grouped by portfolio, so
// draws and transforms vectorise; per-household results come back in population order.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "incsim/model.h"
#include "incsim/rng.h"

namespace incsim {

// What one replication-year produced, handed to the statistics layer.
struct YearOutcome {
  int year = 1;                               // t, 1-based
  std::span<const double> income_per_capita;  // y[h,t] after dibao, population order
  std::span<const double> farm_net_income;    // household farm revenue - costs, yuan
  std::span<const double> prices;             // P[m,t]
  double government_cost = 0.0;               // yuan, whole population
  double dibao = 0.0;                         // yuan paid as dibao top-ups
};

// Reusable buffers of one worker; contents never influence results.
class Workspace {
 public:
  explicit Workspace(const Model& model);

 private:
  friend class Kernel;
  std::vector<double> income_;       // y per household, population order
  std::vector<double> farm_net_;     // farm net per household
  std::vector<double> prices_;       // P[m,t]
  std::vector<double> log_dev_;      // x[m,t]
  std::vector<double> innovations_;  // independent normals of year t, per market
  std::vector<double> sale_price_;   // per industry x product, max(P, floor)
  // batch buffers (kBatch lanes)
  std::vector<std::uint32_t> units_;
  std::vector<std::uint32_t> words_;
  std::vector<double> normals_;
  std::vector<double> scratch_;
  std::vector<double> revenue_;
  std::vector<double> total_;
};

class Kernel {
 public:
  static constexpr std::size_t kBatch = 256;

  explicit Kernel(const Model& model, rng::Stream stream = rng::Stream::replication);

  // Simulates replication r and calls on_year(const YearOutcome&) for t = 1..T in order.
  template <class OnYear>
  void run_replication(std::int64_t r, Workspace& ws, OnYear&& on_year) const {
    std::fill(ws.log_dev_.begin(), ws.log_dev_.end(), 0.0);
    for (int t = 1; t <= model_.years; ++t) on_year(simulate_year(r, t, ws));
  }

  const Model& model() const { return model_; }

 private:
  YearOutcome simulate_year(std::int64_t r, int t, Workspace& ws) const;
  void draw_prices(std::uint32_t r, int t, Workspace& ws) const;
  void simulate_group(const PortfolioGroup& g, std::uint32_t r, int t, Workspace& ws,
                      double& dibao) const;

  const Model& model_;
  rng::Key key_;
};

}  // namespace incsim
