// The per-household-year kernel (MODEL.md sections 2, 3, 5-7): common shocks once per year,
// then the stages of engine/simulate/stages.h over batches of one portfolio in kernel order.
// Draws come from the batched counter-based generator addressed by the population index as in
// incsim/draws.h, so a household's shocks never depend on the batch it was computed in.
#include <algorithm>

#include "simulate/stages.h"

namespace incsim {
namespace {

constexpr std::size_t kBatch = Kernel::kBatch;
constexpr std::size_t kSlack = rng::kLanes;  // lanes past kBatch for suffix draws

}  // namespace

Kernel::Plan make_kernel_plan(const Model& model) {
  Kernel::Plan plan;
  plan.hazard_prone.assign(model.industries.size(), 0);
  for (std::size_t k = 0; k < model.hazards.size(); ++k) {
    const HazardModel& hz = model.hazards[k];
    bool any = false;
    for (std::size_t i = 0; i < model.industries.size(); ++i)
      if (hz.affects[i] > 0.0 && hz.probability > 0.0) plan.hazard_prone[i] = 1, any = true;
    if (!any) continue;
    if (hz.scope == HazardScope::village) plan.village_hazards.push_back(static_cast<int>(k));
    if (hz.scope == HazardScope::household) plan.household_hazards.push_back(static_cast<int>(k));
  }
  std::size_t line = 0;
  for (const IndustryModel& ind : model.industries) {
    plan.first_line.push_back(line);
    line += ind.products.size();
  }
  for (const HazardModel& hz : model.hazards)
    plan.hazard_threshold.push_back(rng::bernoulli_threshold(hz.probability));
  for (int g = 0; g < 2; ++g)
    plan.employment_threshold[g] = rng::bernoulli_threshold(model.income.wage[g].employment_rate);
  for (const IllnessModel& ill : model.health.illnesses)
    plan.illness_threshold.push_back(rng::bernoulli_threshold(ill.probability));
  return plan;
}

Workspace::Workspace(const Model& model)
    : market_(model),
      income_(model.kernel.count()),
      farm_net_(model.kernel.count()),
      prices_(model.markets.size()),
      county_severity_(model.hazards.size()),
      area_survival_(model.village_labels.size() * model.industries.size()),
      index_payout_(model.industries.size()),
      units_(kBatch + kSlack),
      words_(4 * (kBatch + kSlack)),
      normals_(4 * (kBatch + kSlack)),
      scratch_(kBatch + kSlack),
      revenue_(kBatch),
      total_(kBatch),
      struck_(kBatch),
      struck_units_(kBatch),
      severity_(kBatch),
      wage_mean_(kBatch + kSlack),
      wage_sigma_(kBatch + kSlack),
      wage_shift_(kBatch + kSlack),
      wage_threshold_(kBatch + kSlack) {
  std::size_t lines = 0;
  for (const IndustryModel& ind : model.industries) lines += ind.products.size();
  sale_price_.resize(lines);
  for (auto& v : cycle_survival_) v.resize(model.kernel.count());
  for (auto& v : survival_) v.resize(kBatch);
  for (auto& v : paid_) v.resize(kBatch);
  topup_.resize(kBatch);
  const ProtectionModel& pm = model.protection;
  if (pm.basis) {
    for (int s = 0; s < 2; ++s) {
      unit_revenue_[s].resize(kBatch + kSlack);
      harvest_factor_[s].resize(kBatch);
      cycle_indemnity_[s].assign(model.kernel.count(), 0.0);
    }
    basis_.assign(static_cast<std::size_t>(kVariants) * model.industries.size() * kBasisTallies,
                  0.0);
  }
  if (pm.any_value) {
    pre_guard_.resize(kBatch);
    for (int v = 0; v < kVariants; ++v)
      if (pm.value[v]) without_[v].assign(model.kernel.count(), 0.0);
  }
  if (model.health.enabled) {
    medical_.assign(model.kernel.count(), 0.0);
    out_of_pocket_.assign(model.kernel.count(), 0.0);
    int most = 0;  // persons of the largest household: a row of work_ per person
    for (std::int32_t size : model.households.size) most = std::max(most, size);
    if (model.health.loses_days)
      work_.assign(static_cast<std::size_t>(most), std::vector<double>(kBatch + kSlack, 1.0));
  }
}

Kernel::Kernel(const Model& model, rng::Stream stream)
    : model_(model), key_(rng::make_key(model.seed, stream)), plan_(make_kernel_plan(model)) {}

void Kernel::begin_replication(Workspace& ws) const {
  ws.market_.reset();
  for (auto& v : ws.cycle_survival_) std::fill(v.begin(), v.end(), 1.0);
  for (auto& v : ws.cycle_indemnity_) std::fill(v.begin(), v.end(), 0.0);
}

// The per-household part of year t's outcome (spans over the workspace).
YearOutcome Kernel::partial_outcome(int t, const Workspace& ws) const {
  YearOutcome out;
  out.year = t;
  out.income_per_capita = ws.income_;
  out.farm_net_income = ws.farm_net_;
  out.prices = ws.prices_;
  out.unit = model_.kernel.unit;
  out.position = model_.kernel.position;
  out.out_of_pocket = ws.out_of_pocket_;
  out.medical_cost = ws.medical_;
  out.basis = ws.basis_;
  for (int v = 0; v < kVariants; ++v) out.income_without[v] = ws.without_[v];
  return out;
}

YearOutcome Kernel::simulate_year(std::int64_t r, int t, Workspace& ws,
                                  const BatchCallback* on_batch) const {
  const auto rep = static_cast<std::uint32_t>(r);
  const Stages stages{model_, plan_, key_};
  stages.common_shocks(rep, t, ws);
  std::fill(ws.basis_.begin(), ws.basis_.end(), 0.0);
  Totals totals;
  YearOutcome out = partial_outcome(t, ws);
  for (const KernelSegment& seg : model_.kernel.segments)
    for (std::size_t start = seg.begin; start < seg.end; start += kBatch) {
      const std::size_t count = std::min(kBatch, seg.end - start);
      simulate_batch(seg, start, count, rep, t, ws, totals);
      if (on_batch) (*on_batch)(out, start, count);
    }
  out.dibao = totals.dibao;
  out.health = totals.health;
  out.government_cost = model_.government_fixed[t - 1] + totals.dibao;
  if (model_.health.enabled) out.government_cost += totals.health.reimbursed;
  for (int p = 0; p < kProducts; ++p) {
    const ProductPlan& plan = model_.insurance.plan[p];
    out.insurance[p] = totals.insurance[p];
    if (!plan.enabled) continue;
    out.insurance[p].premium = plan.premium[t - 1];
    out.insurance[p].subsidy = plan.subsidy[t - 1];
    out.insurance[p].exposed = plan.exposed[t - 1];
  }
  return out;
}

void Kernel::simulate_batch(const KernelSegment& seg, std::size_t begin, std::size_t count,
                            std::uint32_t r, int t, Workspace& ws, Totals& totals) const {
  const Stages stages{model_, plan_, key_};
  const BatchRange b{&seg, begin, count, rng::padded_lanes(count), r, t};
  stages.load(b, ws);
  if (seg.main >= 0) {
    stages.year_survival(b, ws);
    stages.indemnities(b, ws);
    stages.farm_revenue(b, ws);
    stages.basis_risk(b, ws);
  }
  stages.health(b, ws);
  stages.wages(b, ws);
  stages.out_of_pocket(b, ws);
  stages.keep_pre_guard(b, ws);
  stages.poverty_guard(b, ws);
  stages.dibao(b, ws);
  stages.counterfactuals(b, ws);
  const BatchTotals bt = stages.totals(b, ws);
  for (int p = 0; p < kProducts; ++p) {
    totals.insurance[p].payout += bt.payout[p];
    totals.insurance[p].paid += bt.paid[p];
  }
  totals.dibao += bt.dibao;
  totals.health.cost += bt.health.cost;
  totals.health.reimbursed += bt.health.reimbursed;
  totals.health.out_of_pocket += bt.health.out_of_pocket;
  totals.health.episodes += bt.health.episodes;
  totals.health.impoverished += bt.health.impoverished;
}

}  // namespace incsim
