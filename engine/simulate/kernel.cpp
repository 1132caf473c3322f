// The per-household-year kernel (MODEL.md sections 2, 3, 5-7). Households of one portfolio are
// processed kBatch at a time in structure-of-arrays buffers; draws come from the batched
// counter-based generator addressed as in incsim/draws.h, so a household's shocks depend only
// on (seed, replication, year, household) and never on the batch it was computed in.
#include <algorithm>
#include <cmath>

#include "incsim/draws.h"
#include "incsim/simulate.h"

namespace incsim {
namespace {

constexpr std::size_t kBatch = Kernel::kBatch;

std::size_t padded(std::size_t n) {
  return (n + rng::kLanes - 1) / rng::kLanes * rng::kLanes;
}

double loss_of(double affects, double severity) {
  return std::min(1.0, affects * severity);
}

}  // namespace

Workspace::Workspace(const Model& model)
    : market_(model),
      income_(model.households.count()),
      farm_net_(model.households.count()),
      prices_(model.markets.size()),
      county_severity_(model.hazards.size()),
      county_survival_(model.industries.size()),
      village_survival_(model.village_labels.size() * model.industries.size()),
      index_payout_(model.industries.size()),
      units_(kBatch),
      words_(4 * kBatch),
      normals_(4 * kBatch),
      scratch_(kBatch),
      revenue_(kBatch),
      total_(kBatch) {
  std::size_t lines = 0;
  for (const IndustryModel& ind : model.industries) lines += ind.products.size();
  sale_price_.resize(lines);
  for (auto& v : cycle_survival_) v.resize(model.households.count());
  for (auto& v : survival_) v.resize(kBatch);
  for (auto& v : paid_) v.resize(kBatch);
}

Kernel::Kernel(const Model& model, rng::Stream stream)
    : model_(model), key_(rng::make_key(model.seed, stream)) {
  hazard_prone_.assign(model.industries.size(), 0);
  for (std::size_t k = 0; k < model.hazards.size(); ++k) {
    const HazardModel& hz = model.hazards[k];
    bool any = false;
    for (std::size_t i = 0; i < model.industries.size(); ++i) {
      if (hz.affects[i] > 0.0 && hz.probability > 0.0) hazard_prone_[i] = 1, any = true;
    }
    if (!any) continue;
    if (hz.scope == HazardScope::village) village_hazards_.push_back(static_cast<int>(k));
    if (hz.scope == HazardScope::household) household_hazards_.push_back(static_cast<int>(k));
  }
  std::size_t line = 0;
  for (const IndustryModel& ind : model.industries) {
    first_line_.push_back(line);
    line += ind.products.size();
  }
}

void Kernel::begin_replication(Workspace& ws) const {
  ws.market_.reset();
  for (auto& v : ws.cycle_survival_) std::fill(v.begin(), v.end(), 1.0);
}

// Prices, county and village hazards, and the income-index payouts of year t: everything
// shared by more than one household.
void Kernel::common_shocks(std::uint32_t r, int t, Workspace& ws) const {
  market_year(model_, key_, r, t, ws.market_, ws.prices_.data(), ws.county_severity_.data());
  std::size_t line = 0;
  for (const IndustryModel& ind : model_.industries)
    for (const ProductModel& p : ind.products)
      ws.sale_price_[line++] = std::max(ws.prices_[p.market], p.floor);

  const std::size_t n_ind = model_.industries.size();
  std::fill(ws.county_survival_.begin(), ws.county_survival_.end(), 1.0);
  for (std::size_t k = 0; k < model_.hazards.size(); ++k) {
    if (ws.county_severity_[k] < 0.0) continue;
    for (std::size_t i = 0; i < n_ind; ++i)
      ws.county_survival_[i] *= 1.0 - loss_of(model_.hazards[k].affects[i], ws.county_severity_[k]);
  }
  if (!village_hazards_.empty()) {
    std::fill(ws.village_survival_.begin(), ws.village_survival_.end(), 1.0);
    for (std::size_t v = 0; v < model_.village_labels.size(); ++v) {
      const auto unit = static_cast<std::uint32_t>(v);
      for (int k : village_hazards_) {
        const HazardModel& hz = model_.hazards[k];
        if (!hazard_occurs(hz, k, key_, unit, r, t)) continue;
        const double s = sample_severity(hz.severity, k, key_, unit, r, t);
        for (std::size_t i = 0; i < n_ind; ++i)
          ws.village_survival_[v * n_ind + i] *= 1.0 - loss_of(hz.affects[i], s);
      }
    }
  }
  const InsuranceModel& ins = model_.insurance;
  if (ins.plan[kIncomeIndex].enabled) {
    for (std::size_t i = 0; i < n_ind; ++i) {
      const double g = ins.guarantee[i * model_.years + (t - 1)];
      double index = 0.0;
      for (const ProductModel& p : model_.industries[i].products)
        index += p.yield * ws.prices_[p.market];
      ws.index_payout_[i] = g > 0.0 ? std::max(0.0, g - index) : 0.0;
    }
  }
}

YearOutcome Kernel::simulate_year(std::int64_t r, int t, Workspace& ws) const {
  const auto rep = static_cast<std::uint32_t>(r);
  common_shocks(rep, t, ws);
  Totals totals;
  for (const PortfolioGroup& g : model_.groups) simulate_group(g, rep, t, ws, totals);
  YearOutcome out;
  out.year = t;
  out.income_per_capita = ws.income_;
  out.farm_net_income = ws.farm_net_;
  out.prices = ws.prices_;
  out.dibao = totals.dibao;
  out.government_cost = model_.government_fixed[t - 1] + totals.dibao;
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

// Year survival 1 - L[h,i,t] of the group's main and aux industries for the batch in
// ws.units_ (section 5): county and village events, then household events drawn per lane.
void Kernel::year_survival(const PortfolioGroup& g, std::uint32_t r, int t, std::size_t np,
                           std::size_t nb, Workspace& ws) const {
  const Households& hh = model_.households;
  const std::size_t n_ind = model_.industries.size();
  const std::uint32_t* units = ws.units_.data();
  const int slots[2] = {g.main, g.aux};
  for (int k = 0; k < 2; ++k) {
    const int ind = slots[k];
    if (ind < 0) continue;
    double* surv = ws.survival_[k].data();
    for (std::size_t i = 0; i < np; ++i) surv[i] = ws.county_survival_[ind];
    if (!village_hazards_.empty())
      for (std::size_t i = 0; i < nb; ++i)
        surv[i] *= ws.village_survival_[hh.village[units[i]] * n_ind + ind];
  }
  for (int k : household_hazards_) {
    const HazardModel& hz = model_.hazards[k];
    const double a_main = g.main >= 0 ? hz.affects[g.main] : 0.0;
    const double a_aux = g.aux >= 0 ? hz.affects[g.aux] : 0.0;
    if (a_main <= 0.0 && a_aux <= 0.0) continue;
    rng::philox_batch(key_, units, r, static_cast<std::uint32_t>(t),
                      draws::kHazardOccurrence + static_cast<std::uint32_t>(k), np,
                      ws.words_.data());
    for (std::size_t i = 0; i < nb; ++i) {
      if (!(rng::uniform(ws.words_[i]) < hz.probability)) continue;
      const double s = sample_severity(hz.severity, k, key_, units[i], r, t);
      if (a_main > 0.0) ws.survival_[0][i] *= 1.0 - loss_of(a_main, s);
      if (a_aux > 0.0) ws.survival_[1][i] *= 1.0 - loss_of(a_aux, s);
    }
  }
}

void Kernel::simulate_group(const PortfolioGroup& g, std::uint32_t r, int t, Workspace& ws,
                            Totals& totals) const {
  const Households& hh = model_.households;
  const Scenario& sc = model_.scenario;
  const InsuranceModel& ins = model_.insurance;
  const auto year = static_cast<std::uint32_t>(t);
  const bool wage_draws = model_.stochastic_wage();
  const double wage = sc.income.wage.per_laborer;
  const double wage_s = std::sqrt(std::log1p(sc.income.wage.cv * sc.income.wage.cv));
  const double employment = sc.income.wage.employment_rate;
  const double line = sc.income.dibao.line;
  const int slots[2] = {g.main, g.aux};
  const bool hazards =
      (g.main >= 0 && hazard_prone_[g.main]) || (g.aux >= 0 && hazard_prone_[g.aux]);
  const bool agri = ins.plan[kAgricultural].enabled;
  const bool index = ins.plan[kIncomeIndex].enabled;
  const bool guard = ins.plan[kPovertyGuard].enabled;

  const double* fixed_income = hh.fixed_income.data() + model_.cell(0, t);
  const double* farm_cost = hh.farm_cost.data() + model_.cell(0, t);
  std::uint32_t* units = ws.units_.data();
  double* revenue = ws.revenue_.data();
  double* total = ws.total_.data();
  double* scratch = ws.scratch_.data();
  double* z = ws.normals_.data();
  std::uint32_t* words = ws.words_.data();

  for (std::size_t start = 0; start < g.members.size(); start += kBatch) {
    const std::size_t nb = std::min(kBatch, g.members.size() - start);
    const std::size_t np = padded(nb);
    for (std::size_t i = 0; i < np; ++i) units[i] = g.members[start + std::min(i, nb - 1)];
    for (std::size_t i = 0; i < np; ++i) revenue[i] = 0.0;
    for (std::size_t i = 0; i < np; ++i) total[i] = fixed_income[units[i]];
    if (agri || index)
      for (int p = 0; p < 2; ++p) std::fill(ws.paid_[p].begin(), ws.paid_[p].begin() + np, 0.0);
    if (hazards) year_survival(g, r, t, np, nb, ws);

    for (int k = 0; k < 2; ++k) {
      const int ind_index = slots[k];
      if (ind_index < 0) continue;
      const IndustryModel& ind = model_.industries[ind_index];
      const std::vector<std::int32_t>& n_units = k == 0 ? hh.units_main : hh.units_aux;
      const bool prone = hazard_prone_[ind_index];
      const bool harvest = ind.harvest[t - 1];
      double* surv = ws.survival_[k].data();
      double* cycle = ws.cycle_survival_[k].data();

      // Agricultural insurance: n SI max(0, L - deductible) every year the industry runs.
      if (prone && agri && ins.sum_insured[ind_index] > 0.0) {
        const double si = ins.sum_insured[ind_index];
        for (std::size_t i = 0; i < nb; ++i) {
          if (!hh.enrolled_agricultural[units[i]]) continue;
          const double pay =
              n_units[units[i]] * si * std::max(0.0, (1.0 - surv[i]) - ins.deductible);
          total[i] += pay;
          ws.paid_[kAgricultural][i] += pay;
        }
      }
      if (prone)
        for (std::size_t i = 0; i < nb; ++i) cycle[units[i]] *= surv[i];
      if (!harvest) continue;

      // Income index: n max(0, G - I) in harvest years of a covered industry.
      if (index && ins.index_covered[ind_index]) {
        const double pay_unit = ws.index_payout_[ind_index];
        for (std::size_t i = 0; i < nb; ++i) {
          if (!hh.enrolled_income_index[units[i]]) continue;
          const double pay = n_units[units[i]] * pay_unit;
          total[i] += pay;
          ws.paid_[kIncomeIndex][i] += pay;
        }
      }

      // Farm revenue: n * H * sum_p Y * sale price (section 3); H over the cycle's years.
      // The year survival is no longer needed: reuse its buffer for units x H.
      for (std::size_t i = 0; i < np; ++i) surv[i] = n_units[units[i]];
      if (prone) {
        for (std::size_t i = 0; i < nb; ++i) {
          surv[i] *= cycle[units[i]];
          cycle[units[i]] = 1.0;
        }
      }
      const std::size_t n_products = ind.products.size();
      std::size_t drawn_block = SIZE_MAX;
      for (std::size_t p = 0; p < n_products; ++p) {
        const ProductModel& prod = ind.products[p];
        const double per_unit = prod.yield * ws.sale_price_[first_line_[ind_index] + p];
        const double s = prod.log_sigma;
        if (s == 0.0) {
          for (std::size_t i = 0; i < np; ++i) revenue[i] += surv[i] * per_unit;
          continue;
        }
        if (p / 4 != drawn_block) {  // rows 0, 1 agree bit for bit between the two forms
          drawn_block = p / 4;
          const auto idx = draws::yield_index(ind_index, static_cast<int>(drawn_block));
          if (n_products - 4 * drawn_block <= 2)
            rng::normal2_batch(key_, units, r, year, idx, np, words, z);
          else
            rng::normal4_batch(key_, units, r, year, idx, np, words, z);
        }
        const double* zp = z + (p % 4) * np;
        const double shift = -0.5 * s * s;
        for (std::size_t i = 0; i < np; ++i) scratch[i] = s * zp[i] + shift;
        rng::exp_batch(scratch, np, scratch);
        for (std::size_t i = 0; i < np; ++i) revenue[i] += surv[i] * per_unit * scratch[i];
      }
    }

    for (std::size_t i = 0; i < np; ++i) total[i] += revenue[i];

    // Wages with employment risk (section 7): every member of the group has g.laborers
    // laborers; block k gives laborers 2k, 2k+1 their normals and employment words.
    if (wage_draws) {
      const double shift = -0.5 * wage_s * wage_s;
      for (int k = 0; 2 * k < g.laborers; ++k) {
        if (wage_s > 0.0)
          rng::normal2_batch(key_, units, r, year, draws::kWage + k, np, words, z);
        else
          rng::philox_batch(key_, units, r, year, draws::kWage + k, np, words);
        for (int l = 0; l < 2 && 2 * k + l < g.laborers; ++l) {
          if (wage_s > 0.0) {
            for (std::size_t i = 0; i < np; ++i) scratch[i] = wage_s * z[l * np + i] + shift;
            rng::exp_batch(scratch, np, scratch);
          } else {
            for (std::size_t i = 0; i < np; ++i) scratch[i] = 1.0;
          }
          const std::uint32_t* employed = words + (2 + l) * np;
          for (std::size_t i = 0; i < np; ++i)
            total[i] += rng::uniform(employed[i]) < employment ? wage * scratch[i] : 0.0;
        }
      }
    }

    // Insurance totals of the batch, in household order.
    for (int p = 0; p < 2; ++p) {
      if (!ins.plan[p].enabled) continue;
      for (std::size_t i = 0; i < nb; ++i) {
        totals.insurance[p].payout += ws.paid_[p][i];
        totals.insurance[p].paid += ws.paid_[p][i] > 0.0 ? 1.0 : 0.0;
      }
    }

    // Poverty guard on income net of premiums and with the other payouts (section 6), then
    // dibao applied last (section 7); scatter back to population order.
    const double guard_line = ins.guard_threshold * model_.poverty_line[t - 1];
    for (std::size_t i = 0; i < nb; ++i) {
      const std::uint32_t h = units[i];
      const double size = hh.size[h];
      if (guard && hh.enrolled_poverty_guard[h]) {
        const double pay =
            std::min(ins.guard_cap, size * std::max(0.0, guard_line - total[i] / size));
        total[i] += pay;
        totals.insurance[kPovertyGuard].payout += pay;
        totals.insurance[kPovertyGuard].paid += pay > 0.0 ? 1.0 : 0.0;
      }
      double y = total[i] / size;
      if (hh.dibao_eligible[h] && y < line) {
        totals.dibao += size * (line - y);
        y = line;
      }
      ws.income_[h] = y;
      ws.farm_net_[h] = revenue[i] - farm_cost[h];
    }
  }
}

}  // namespace incsim
