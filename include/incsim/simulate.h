// Simulation kernel: one replication of the model, year by year (MODEL.md sections 2, 3, 5-7).
// Pure: the outcome of replication r depends only on (model, r), never on which thread runs
// it or what ran before. Households are processed in kernel order (Model::kernel) in batches
// of at most kBatch lanes of one portfolio, through a pipeline of short stages that read and
// write batch columns; per-household results come back in kernel order.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
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

// Health shocks in one replication-year, whole population (MODEL.md sections 7a, 9).
struct HealthYear {
  double cost = 0.0;           // medical costs, yuan
  double reimbursed = 0.0;     // paid by public schemes, yuan (in the government cost)
  double out_of_pocket = 0.0;  // paid by households, yuan
  double episodes = 0.0;       // occurrences of (person, illness)
  double impoverished = 0.0;   // persons poor after out-of-pocket costs and not before
};

// What one replication-year produced, handed to the statistics layer. Per-household spans are
// in kernel order: position k is household `unit[k]` of the population.
struct YearOutcome {
  int year = 1;                               // t, 1-based
  std::span<const double> income_per_capita;  // y after dibao
  std::span<const double> farm_net_income;    // household farm revenue - costs, yuan
  std::span<const double> prices;             // P[m,t] including hazard price shocks
  std::span<const std::uint32_t> unit;        // population index of each position
  std::span<const std::uint32_t> position;    // kernel position of each population index
  std::span<const double> out_of_pocket;      // medical costs paid by the household (health)
  std::span<const double> medical_cost;       // the household's medical costs (health)
  // Basis risk (MODEL.md section 9): the year's tallies (kVariants, I, kBasisTallies), in
  // kernel order; empty without agricultural or income index insurance.
  std::span<const double> basis;
  // Protection value: per variant computed (ProtectionModel::value), each position's income
  // per capita without that variant's payouts and premium shares, guard and dibao recomputed
  // (the income as simulated for households that do not hold it); else empty.
  std::span<const double> income_without[kVariants];
  double government_cost = 0.0;  // yuan, whole population
  double dibao = 0.0;            // yuan paid as dibao top-ups
  std::array<ProductYear, kProducts> insurance{};
  HealthYear health{};

  // Values of population household h.
  double income_of(std::size_t h) const { return income_per_capita[position[h]]; }
  double farm_net_of(std::size_t h) const { return farm_net_income[position[h]]; }
};

// Reusable buffers of one worker; contents never influence results.
class Workspace {
 public:
  explicit Workspace(const Model& model);

 private:
  friend class Kernel;
  friend struct Stages;
  friend class PilotWorker;
  MarketState market_;
  std::vector<double> income_;             // y per position
  std::vector<double> farm_net_;           // farm net per position
  std::vector<double> prices_;             // P[m,t]
  std::vector<double> sale_price_;         // per industry x product, max(P, floor)
  std::vector<double> county_severity_;    // per hazard, -1 = did not occur
  std::vector<double> area_survival_;      // (V, I): county x village survival of the year
  std::vector<double> index_payout_;       // income index payout per unit, per industry
  std::vector<double> cycle_survival_[2];  // per position: prod (1 - L) since last harvest
  // Batch columns (kBatch lanes).
  std::vector<std::uint32_t> units_;  // RNG unit (population index) of each lane
  std::vector<std::uint32_t> words_;  // 4 x kBatch
  std::vector<double> normals_;       // 4 x kBatch
  std::vector<double> scratch_;
  std::vector<double> revenue_;              // farm revenue
  std::vector<double> total_;                // household yuan so far
  std::vector<double> survival_[2];          // year survival of the main and aux slot
  std::vector<double> paid_[kProducts];      // payout of each product to each lane
  std::vector<double> topup_;                // dibao of each lane
  std::vector<std::uint32_t> struck_;        // lanes hit by a household hazard
  std::vector<std::uint32_t> struck_units_;  // their RNG units
  std::vector<double> severity_;             // their severities
  // Wage terms of each lane (its group's, MODEL.md section 7 v2).
  std::vector<double> wage_mean_, wage_sigma_, wage_shift_;
  std::vector<std::uint64_t> wage_threshold_;
  // Health (section 7a): medical cost and out-of-pocket per position (the whole year: the
  // accumulator sums them by group), and per person row the days lost, then each laborer's
  // working factor (Stages::draw_health).
  std::vector<double> medical_;
  std::vector<double> out_of_pocket_;
  std::vector<std::vector<double>> work_;
  double episodes_ = 0.0;  // of the batch
  // Health draws of a batch (grow as needed): per person block b >= 1, the lanes with a
  // person in it; per lane its persons left in a block and its ill persons there as a 4-bit
  // mask; one illness's episodes as codes lane x 1024 + person, with their RNG unit and counter
  // index.
  struct HealthDraws {
    std::vector<std::int32_t> persons;                  // per lane
    std::vector<std::uint32_t> block_lane, block_unit;  // lanes of blocks 1, 2, ... in turn
    std::vector<std::size_t> block_start;               // per block b >= 1: offset, then end
    std::vector<std::size_t> block_live;  // per block b >= 1: lanes before the padding
    std::vector<std::uint32_t> words;
    std::vector<std::int32_t> left;
    std::vector<std::uint32_t> mask;
    std::vector<std::uint8_t> touched;  // per laborer row of `work`: days added this year
    std::vector<std::uint32_t> episode_code, episode_unit, episode_index, episode_words;
    std::vector<double> z;
  };
  HealthDraws health_;
  // Basis risk and protection value (stages basis_risk, counterfactuals): per slot the
  // revenue per unit before H and H of a harvest (lanes), and the agricultural indemnities
  // since the last harvest (positions); the year's tallies; the income before the guard
  // (lanes); the incomes without each variant (positions).
  std::vector<double> unit_revenue_[2], harvest_factor_[2];
  std::vector<double> cycle_indemnity_[2];
  std::vector<double> basis_;
  std::vector<double> pre_guard_;
  std::vector<double> without_[kVariants];
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

  // As above, and on_batch(const YearOutcome& partial, std::size_t begin, std::size_t count)
  // right after each batch of year t, while its values are in cache: positions [begin,
  // begin + count) of the partial outcome's per-household spans are final, and batches come
  // in kernel order. Its totals (payouts, dibao, government cost) are final only in on_year.
  template <class OnBatch, class OnYear>
  void run_replication(std::int64_t r, Workspace& ws, OnBatch&& on_batch, OnYear&& on_year) const {
    begin_replication(ws);
    const BatchCallback callback = [&](const YearOutcome& partial, std::size_t begin,
                                       std::size_t count) { on_batch(partial, begin, count); };
    for (int t = 1; t <= model_.years; ++t) on_year(simulate_year(r, t, ws, &callback));
  }

  const Model& model() const { return model_; }

  // What the stages need to know of the model, derived once.
  struct Plan {
    std::vector<std::uint8_t> hazard_prone;  // per industry: some hazard can affect it
    std::vector<int> village_hazards, household_hazards;
    std::vector<std::size_t> first_line;             // first sale-price line of each industry
    std::vector<std::uint64_t> hazard_threshold;     // per hazard: rng::bernoulli_threshold
    std::uint64_t employment_threshold[2] = {0, 0};  // per group: [0] other, [1] poor
    std::vector<std::uint64_t> illness_threshold;    // per illness: rng::bernoulli_threshold
  };

 private:
  struct Totals {
    double dibao = 0.0;
    std::array<ProductYear, kProducts> insurance{};
    HealthYear health{};
  };
  void begin_replication(Workspace& ws) const;
  using BatchCallback = std::function<void(const YearOutcome&, std::size_t, std::size_t)>;
  YearOutcome simulate_year(std::int64_t r, int t, Workspace& ws,
                            const BatchCallback* on_batch = nullptr) const;
  YearOutcome partial_outcome(int t, const Workspace& ws) const;
  void simulate_batch(const KernelSegment& seg, std::size_t begin, std::size_t count,
                      std::uint32_t r, int t, Workspace& ws, Totals& totals) const;

  const Model& model_;
  rng::Key key_;
  Plan plan_;
};

}  // namespace incsim
