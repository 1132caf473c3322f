// The kernel's stages (private to engine/simulate/). Each is one short loop, or a few, over
// the lanes of a batch with one purpose; they run in the order of Kernel::simulate_batch and
// communicate only through the workspace's batch columns:
//   load             units, fixed income                      -> total
//   year_survival    county x village survival, household hazards -> survival[slot]
//   indemnities      agricultural (every year), income index (harvest years) -> total, paid
//   farm_revenue     n x H x sum_p Y x sale price (harvest years)             -> revenue, total
//   basis_risk       shortfall against rho E and each variant's compensation  -> basis tallies
//   health           illnesses, medical costs, out-of-pocket, working days  -> medical, oop, work
//   wages            laborers' employment and lognormal earnings (x work)    -> total
//   out_of_pocket    out-of-pocket medical costs deducted (by default)       -> total
//   poverty_guard    products paying on y_pre (PayoutRule::income_guard)       -> total, paid
//   keep_pre_guard   the income before the guard, for the counterfactuals      -> pre_guard
//   dibao            dibao last, per-capita income and farm net income         -> income
//   counterfactuals  income without each variant's payouts and premiums       -> without
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
  HealthYear health;
};

// Illness of `count` lanes in year t (MODEL.md section 7a), shared by the kernel and the
// portfolio pilot so both draw and add in the same order: each lane's medical cost and
// out-of-pocket cost and, when illnesses cost working days, each laborer's working factor
// max(0, 1 - D / labor days) in work[l] (work has a row per person of the largest household:
// rows past a lane's laborers are scratch). Uses only the workspace's health_ buffers.
// Returns the number of episodes.
struct HealthLanes {
  const std::uint32_t* units;  // RNG unit per lane, padded
  const double* size;
  const std::int32_t* laborers;
  const std::uint8_t* poor;
  std::size_t count = 0, padded = 0;
};
// (Stages::draw_health below.)

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
  void basis_risk(const BatchRange& b, Workspace& ws) const;
  // Whether basis_risk tallies industry `ind` in batch b: it is covered by a product the
  // batch's segment is enrolled in (then product_revenue keeps its revenue per unit and H).
  bool tallies_basis(const BatchRange& b, int ind) const;
  void basis_tallies(const BatchRange& b, int slot, int ind, Workspace& ws) const;
  void health(const BatchRange& b, Workspace& ws) const;
  static double draw_health(const Model& model, const Kernel::Plan& plan, rng::Key key,
                            std::uint32_t r, int t, const HealthLanes& lanes, Workspace& ws,
                            double* cost, double* oop, std::vector<std::vector<double>>& work);
  void wages(const BatchRange& b, Workspace& ws) const;
  void out_of_pocket(const BatchRange& b, Workspace& ws) const;
  void keep_pre_guard(const BatchRange& b, Workspace& ws) const;
  void poverty_guard(const BatchRange& b, Workspace& ws) const;
  void dibao(const BatchRange& b, Workspace& ws) const;
  void counterfactuals(const BatchRange& b, Workspace& ws) const;
  BatchTotals totals(const BatchRange& b, Workspace& ws) const;

 private:
  void household_hazards(const BatchRange& b, Workspace& ws) const;
  void product_revenue(const BatchRange& b, int slot, Workspace& ws) const;
  void hazard_loss_payout(const BatchRange& b, int p, int slot, Workspace& ws) const;
  void revenue_index_payout(const BatchRange& b, int p, int slot, Workspace& ws) const;
};

}  // namespace incsim
