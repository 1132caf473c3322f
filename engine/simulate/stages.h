// The kernel's stages (private to engine/simulate/). Each is one short loop, or a few, over
// the lanes of a batch with one purpose; they run in the order of Kernel::simulate_batch and
// communicate only through the workspace's batch columns:
//   load             units, fixed income                      -> total
//   year_survival    county x village survival, household hazards -> survival[slot]
//   indemnities      agricultural (every year), income index (harvest years) -> total, paid
//   farm_revenue     n x H x sum_p Y x sale price (harvest years)             -> revenue, total
//   wages            laborers' employment and lognormal earnings             -> total
//   poverty_guard    products paying on y_pre (PayoutRule::income_guard)       -> total, paid
//   dibao            dibao last, per-capita income and farm net income         -> income
//   totals           the batch's payouts, households paid and dibao, in lane order
// A new shock or output is a new stage here, not a branch in another stage.
#pragma once

#include "incsim/simulate.h"

namespace incsim {

// Where a batch lies: `count` lanes of segment `seg` from kernel position `begin`, padded to
// `padded` (a multiple of rng::kLanes) by repeating the last lane.
struct BatchRange {
  const KernelSegment* seg = nullptr;
  std::size_t begin = 0, count = 0, padded = 0;
  std::uint32_t r = 0;
  int t = 1;
};

// Per-batch totals of the insurance products (kProductTable order) and dibao, in lane order.
struct BatchTotals {
  double payout[kProducts] = {};
  double paid[kProducts] = {};  // households with a payout > 0
  double dibao = 0.0;
};

// What the stages need to know of the model beyond its tables (engine/simulate/kernel.cpp).
Kernel::Plan make_kernel_plan(const Model& model);

double loss_of(double affects, double severity);  // min(1, affects x S)

struct Stages {
  const Model& model;
  const Kernel::Plan& plan;
  rng::Key key;

  // Once per year: prices, sale prices, county and village survival per industry, and the
  // income-index payout per unit.
  void common_shocks(std::uint32_t r, int t, Workspace& ws) const;

  void load(const BatchRange& b, Workspace& ws) const;
  void year_survival(const BatchRange& b, Workspace& ws) const;
  void indemnities(const BatchRange& b, Workspace& ws) const;
  void farm_revenue(const BatchRange& b, Workspace& ws) const;
  void wages(const BatchRange& b, Workspace& ws) const;
  void poverty_guard(const BatchRange& b, Workspace& ws) const;
  void dibao(const BatchRange& b, Workspace& ws) const;
  BatchTotals totals(const BatchRange& b, const Workspace& ws) const;

 private:
  void household_hazards(const BatchRange& b, Workspace& ws) const;
  void product_revenue(const BatchRange& b, int slot, Workspace& ws) const;
  void hazard_loss_payout(const BatchRange& b, int p, int slot, Workspace& ws) const;
  void revenue_index_payout(const BatchRange& b, int p, int slot, Workspace& ws) const;
};

}  // namespace incsim
