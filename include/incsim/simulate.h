// Simulation kernel: one replication of the model, year by year (MODEL.md sections 2, 3, 5-7).
// Pure: the outcome of replication r depends only on (model, r), never on which thread runs
// it or what ran before. Households are swept in batches of kBatch, grouped by portfolio and
// laborer count, so draws and transforms vectorise; per-household results come back in
// population order.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <vector>

#include "incsim/model.h"
#include "incsim/rng.h"
#include "incsim/shocks.h"

namespace incsim {

// One insurance product in one replication-year, whole population.
struct ProductYear {
  double premium = 0.0;  // total premiums due, yuan (household + government shares)
  double subsidy = 0.0;  // government share of the premiums, yuan
  double payout = 0.0;   // indemnities / payouts, yuan
  double paid = 0.0;     // enrolled exposed households with a payout > 0
  double exposed = 0.0;  // enrolled households exposed this year
};

// What one replication-year produced, handed to the statistics layer.
struct YearOutcome {
  int year = 1;                               // t, 1-based
  std::span<const double> income_per_capita;  // y[h,t] after dibao, population order
  std::span<const double> farm_net_income;    // household farm revenue - costs, yuan
  std::span<const double> prices;             // P[m,t] including hazard price shocks
  double government_cost = 0.0;               // yuan, whole population
  double dibao = 0.0;                         // yuan paid as dibao top-ups
  std::array<ProductYear, kProducts> insurance{};
};

// Reusable buffers of one worker; contents never influence results.
class Workspace {
 public:
  explicit Workspace(const Model& model);

 private:
  friend class Kernel;
  MarketState market_;
  std::vector<double> income_;             // y per household, population order
  std::vector<double> farm_net_;           // farm net per household
  std::vector<double> prices_;             // P[m,t]
  std::vector<double> sale_price_;         // per industry x product, max(P, floor)
  std::vector<double> county_severity_;    // per hazard, -1 = did not occur
  std::vector<double> county_survival_;    // per industry: prod (1 - l) of county events
  std::vector<double> village_survival_;   // (V, I)
  std::vector<double> index_payout_;       // income index payout per unit, per industry
  std::vector<double> cycle_survival_[2];  // per household: prod (1 - L) since last harvest
  // batch buffers (kBatch lanes)
  std::vector<std::uint32_t> units_;
  std::vector<std::uint32_t> words_;
  std::vector<double> normals_;
  std::vector<double> scratch_;
  std::vector<double> revenue_;
  std::vector<double> total_;
  std::vector<double> survival_[2];  // year survival of main and aux
  std::vector<double> paid_[kProducts];
};

class Kernel {
 public:
  static constexpr std::size_t kBatch = 256;

  explicit Kernel(const Model& model, rng::Stream stream = rng::Stream::replication);

  // Simulates replication r and calls on_year(const YearOutcome&) for t = 1..T in order.
  template <class OnYear>
  void run_replication(std::int64_t r, Workspace& ws, OnYear&& on_year) const {
    begin_replication(ws);
    for (int t = 1; t <= model_.years; ++t) on_year(simulate_year(r, t, ws));
  }

  const Model& model() const { return model_; }

 private:
  struct Totals {
    double dibao = 0.0;
    std::array<ProductYear, kProducts> insurance{};
  };
  void begin_replication(Workspace& ws) const;
  YearOutcome simulate_year(std::int64_t r, int t, Workspace& ws) const;
  void common_shocks(std::uint32_t r, int t, Workspace& ws) const;
  void year_survival(const PortfolioGroup& g, std::uint32_t r, int t, std::size_t np,
                     std::size_t nb, Workspace& ws) const;
  void simulate_group(const PortfolioGroup& g, std::uint32_t r, int t, Workspace& ws,
                      Totals& totals) const;

  const Model& model_;
  rng::Key key_;
  std::vector<std::uint8_t> hazard_prone_;  // per industry: some hazard affects it
  std::vector<int> village_hazards_, household_hazards_;
  std::vector<std::size_t> first_line_;  // first sale-price line of each industry
};

}  // namespace incsim
