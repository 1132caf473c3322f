// The kernel's stages (see simulate/stages.h). Every lane of a batch belongs to the same
// portfolio; per-household constants are read contiguously at kernel positions
// b.begin + i, and draws are addressed by the lane's population index ws.units_[i].
#include "simulate/stages.h"

#include <algorithm>
#include <bit>
#include <cassert>
#include <cmath>

#include "incsim/draws.h"

namespace incsim {
double loss_of(double affects, double severity) {
  return std::min(1.0, affects * severity);
}

namespace {

int slot_industry(const KernelSegment& seg, int slot) {
  return slot == 0 ? seg.main : seg.aux;
}

// A wage term that is the same for every lane, or one per lane (wage.poor).
template <class T>
struct Same {
  T value;
  T operator[](std::size_t) const { return value; }
};

// total[i] += the earnings of laborer `laborer` of lane i: its group's wage x lognormal factor
// (x its working factor with health) when the lane has that laborer and it is employed (word
// below the group's threshold), else + 0.
template <class Wage, class Threshold>
void add_wages(int laborer, const std::int32_t* __restrict laborers,
               const std::uint32_t* __restrict employed, const double* __restrict factor, Wage wage,
               Threshold threshold, const double* __restrict work, std::size_t n,
               double* __restrict total) {
  // Masked by multiplying with 0 or 1 (exact for finite earnings, and + 0 leaves the total's
  // bits unchanged), so the loop has no control flow and vectorises.
  if (work) {
    for (std::size_t i = 0; i < n; ++i) {
      const bool earns = (laborer < laborers[i]) & (std::uint64_t{employed[i]} < threshold[i]);
      total[i] += wage[i] * factor[i] * work[i] * static_cast<double>(earns);
    }
    return;
  }
  for (std::size_t i = 0; i < n; ++i) {
    const bool earns = (laborer < laborers[i]) & (std::uint64_t{employed[i]} < threshold[i]);
    total[i] += wage[i] * factor[i] * static_cast<double>(earns);
  }
}

// The guard's payout due on a household total before it (section 6): min(cap, size x max(0,
// line - total / size)); poverty_guard and counterfactuals both use it, so the counterfactual
// of a household that holds nothing removed is its simulated income bit for bit.
inline double guard_due(double cap, double line, double size, double total) {
  return std::min(cap, size * std::max(0.0, line - total / size));
}

// Per-capita income after dibao (section 7): the dibao line for an eligible household below
// it, else total / size (dibao and counterfactuals).
inline double after_dibao(double line, bool eligible, double size, double total) {
  const double y = total / size;
  return eligible && y < line ? line : y;
}

// Sum of a batch column in four interleaved partial sums (lane i to i % 4, combined as
// (s0 + s1) + (s2 + s3)): a fixed order, so the bits depend only on the kernel order, and four
// independent chains instead of one.
double lane_sum(const double* __restrict x, std::size_t n) {
  double s[4] = {0.0, 0.0, 0.0, 0.0};
  std::size_t i = 0;
  for (; i + 4 <= n; i += 4)
    for (std::size_t k = 0; k < 4; ++k) s[k] += x[i + k];
  for (std::size_t k = 0; i < n; ++i, ++k) s[k] += x[i];
  return (s[0] + s[1]) + (s[2] + s[3]);
}

// Count of positive entries (exact in any order).
double positive_count(const double* __restrict x, std::size_t n) {
  std::int64_t c = 0;
  for (std::size_t i = 0; i < n; ++i) c += x[i] > 0.0;
  return static_cast<double>(c);
}

}  // namespace

void Stages::common_shocks(std::uint32_t r, int t, Workspace& ws) const {
  market_year(model, key, r, t, ws.market_, ws.prices_.data(), ws.county_severity_.data());
  std::size_t line = 0;
  for (const IndustryModel& ind : model.industries)
    for (const ProductModel& p : ind.products)
      ws.sale_price_[line++] = std::max(ws.prices_[p.market], p.floor);

  // County survival per industry, then per village the product of the village events; the
  // lane reads county x village for its village (hoisted here, once per village-year).
  const std::size_t n_ind = model.industries.size();
  double* area = ws.area_survival_.data();
  for (std::size_t i = 0; i < n_ind; ++i) area[i] = 1.0;
  for (std::size_t k = 0; k < model.hazards.size(); ++k) {
    if (ws.county_severity_[k] < 0.0) continue;
    for (std::size_t i = 0; i < n_ind; ++i)
      area[i] *= 1.0 - loss_of(model.hazards[k].affects[i], ws.county_severity_[k]);
  }
  const std::size_t villages = model.village_labels.size();
  for (std::size_t v = villages; v-- > 1;) std::copy(area, area + n_ind, area + v * n_ind);
  if (!plan.village_hazards.empty()) {
    std::vector<double> village(n_ind);
    for (std::size_t v = 0; v < villages; ++v) {
      std::fill(village.begin(), village.end(), 1.0);
      const auto unit = static_cast<std::uint32_t>(v);
      for (int k : plan.village_hazards) {
        const HazardModel& hz = model.hazards[k];
        if (!hazard_occurs(hz, k, key, unit, r, t)) continue;
        const double s = sample_severity(hz.severity, k, key, unit, r, t);
        for (std::size_t i = 0; i < n_ind; ++i) village[i] *= 1.0 - loss_of(hz.affects[i], s);
      }
      for (std::size_t i = 0; i < n_ind; ++i) area[v * n_ind + i] *= village[i];
    }
  }
  const InsuranceModel& ins = model.insurance;
  if (!ins.plan[kIncomeIndex].enabled) return;
  for (std::size_t i = 0; i < n_ind; ++i) {
    const double g = ins.guarantee[i * model.years + (t - 1)];
    double index = 0.0;
    for (const ProductModel& p : model.industries[i].products)
      index += p.yield * ws.prices_[p.market];
    ws.index_payout_[i] = g > 0.0 ? std::max(0.0, g - index) : 0.0;
  }
}

void Stages::load(const BatchRange& b, Workspace& ws) const {
  const KernelTables& kt = model.kernel;
  const double* fixed = kt.fixed_income.data() + static_cast<std::size_t>(b.t - 1) * kt.count();
  for (std::size_t i = 0; i < b.padded; ++i)
    ws.units_[i] = kt.unit[b.begin + std::min(i, b.count - 1)];
  for (std::size_t i = 0; i < b.count; ++i) ws.total_[i] = fixed[b.begin + i];
  std::fill(ws.revenue_.begin(), ws.revenue_.begin() + b.padded, 0.0);
  for (auto& paid : ws.paid_) std::fill(paid.begin(), paid.begin() + b.count, 0.0);
}

// Year survival 1 - L[h,i,t] of both slots (section 5): the area's county x village
// survival, then the household events drawn per lane.
void Stages::year_survival(const BatchRange& b, Workspace& ws) const {
  const KernelSegment& seg = *b.seg;
  const bool prone = plan.hazard_prone[seg.main] || (seg.aux >= 0 && plan.hazard_prone[seg.aux]);
  if (!prone) return;
  const std::size_t n_ind = model.industries.size();
  const std::int32_t* village = model.kernel.village.data() + b.begin;
  for (int slot = 0; slot < 2; ++slot) {
    const int ind = slot_industry(seg, slot);
    if (ind < 0) continue;
    double* surv = ws.survival_[slot].data();
    const double* area = ws.area_survival_.data() + ind;
    for (std::size_t i = 0; i < b.count; ++i) surv[i] = area[village[i] * n_ind];
  }
  household_hazards(b, ws);
}

void Stages::household_hazards(const BatchRange& b, Workspace& ws) const {
  const KernelSegment& seg = *b.seg;
  for (std::size_t j = 0; j < plan.household_hazards.size(); ++j) {
    const int k = plan.household_hazards[j];
    const HazardModel& hz = model.hazards[k];
    const double a_main = hz.affects[seg.main];
    const double a_aux = seg.aux >= 0 ? hz.affects[seg.aux] : 0.0;
    if (a_main <= 0.0 && a_aux <= 0.0) continue;
    rng::philox_batch(key, ws.units_.data(), b.r, static_cast<std::uint32_t>(b.t),
                      draws::kHazardOccurrence + static_cast<std::uint32_t>(k), b.padded,
                      ws.words_.data());
    // Compact the struck lanes, then draw their severities in one batch (the expensive part).
    const std::uint64_t threshold = plan.hazard_threshold[k];
    std::size_t struck = 0;
    for (std::size_t i = 0; i < b.count; ++i) {
      ws.struck_[struck] = static_cast<std::uint32_t>(i);
      struck += ws.words_[i] < threshold;
    }
    for (std::size_t m = 0; m < struck; ++m) ws.struck_units_[m] = ws.units_[ws.struck_[m]];
    double* severity = ws.severity_.data();
    sample_severity_batch(hz.severity, k, key, ws.struck_units_.data(), struck, b.r, b.t, severity);
    for (std::size_t m = 0; m < struck; ++m) {
      const std::uint32_t i = ws.struck_[m];
      if (a_main > 0.0) ws.survival_[0][i] *= 1.0 - loss_of(a_main, severity[m]);
      if (a_aux > 0.0) ws.survival_[1][i] *= 1.0 - loss_of(a_aux, severity[m]);
    }
  }
}

// Payouts per unit of a covered industry, slot by slot and product by product in table order
// (section 6): PayoutRule::hazard_loss every year the industry runs, revenue_index in its
// harvest years; and the cycle survival H of the industry's harvest.
void Stages::indemnities(const BatchRange& b, Workspace& ws) const {
  const InsuranceModel& ins = model.insurance;
  for (int slot = 0; slot < 2; ++slot) {
    const int ind = slot_industry(*b.seg, slot);
    if (ind < 0) continue;
    for (int p = 0; p < kProducts; ++p) {
      // A segment not enrolled in p has no cover: its payouts stay 0 (load zeroes paid).
      if (!ins.plan[p].enabled || !(b.seg->enrolled >> p & 1)) continue;
      if (kProductTable[p].payout == PayoutRule::hazard_loss) hazard_loss_payout(b, p, slot, ws);
      if (kProductTable[p].payout == PayoutRule::revenue_index &&
          model.industries[ind].harvest[b.t - 1])
        revenue_index_payout(b, p, slot, ws);
    }
    if (plan.hazard_prone[ind]) {
      const double* surv = ws.survival_[slot].data();
      double* cycle = ws.cycle_survival_[slot].data() + b.begin;
      for (std::size_t i = 0; i < b.count; ++i) cycle[i] *= surv[i];
    }
  }
}

// n SI max(0, L - deductible), L = 1 - the year survival.
void Stages::hazard_loss_payout(const BatchRange& b, int p, int slot, Workspace& ws) const {
  const InsuranceModel& ins = model.insurance;
  const int ind = slot_industry(*b.seg, slot);
  if (!plan.hazard_prone[ind] || !(ins.sum_insured[ind] > 0.0)) return;
  const double* __restrict surv = ws.survival_[slot].data();
  const double* __restrict cover = model.kernel.agricultural_cover[slot].data() + b.begin;
  double* __restrict total = ws.total_.data();
  double* __restrict paid = ws.paid_[p].data();
  for (std::size_t i = 0; i < b.count; ++i) {
    const double pay = cover[i] * std::max(0.0, (1.0 - surv[i]) - ins.deductible);
    total[i] += pay;
    paid[i] += pay;
  }
  if (!model.protection.basis) return;  // the indemnities of the crop's cycle (basis_risk)
  double* __restrict cycle = ws.cycle_indemnity_[slot].data() + b.begin;
  for (std::size_t i = 0; i < b.count; ++i)
    cycle[i] += cover[i] * std::max(0.0, (1.0 - surv[i]) - ins.deductible);
}

// n max(0, G - I): the market-price index against the guarantee, the same for every lane.
void Stages::revenue_index_payout(const BatchRange& b, int p, int slot, Workspace& ws) const {
  const int ind = slot_industry(*b.seg, slot);
  if (!model.insurance.index_covered[ind]) return;
  const double pay_unit = ws.index_payout_[ind];
  const double* __restrict cover = model.kernel.index_cover[slot].data() + b.begin;
  double* __restrict total = ws.total_.data();
  double* __restrict paid = ws.paid_[p].data();
  for (std::size_t i = 0; i < b.count; ++i) {
    const double pay = cover[i] * pay_unit;
    total[i] += pay;
    paid[i] += pay;
  }
}

// Farm revenue n H sum_p Y sale price in harvest years (section 3), H over the cycle's years.
void Stages::farm_revenue(const BatchRange& b, Workspace& ws) const {
  for (int slot = 0; slot < 2; ++slot) {
    const int ind = slot_industry(*b.seg, slot);
    if (ind >= 0 && model.industries[ind].harvest[b.t - 1]) product_revenue(b, slot, ws);
  }
  for (std::size_t i = 0; i < b.count; ++i) ws.total_[i] += ws.revenue_[i];
}

void Stages::product_revenue(const BatchRange& b, int slot, Workspace& ws) const {
  const int ind_index = slot_industry(*b.seg, slot);
  const IndustryModel& ind = model.industries[ind_index];
  const std::size_t np = b.padded;
  // The year survival is no longer needed: its buffer takes units x H.
  double* scale = ws.survival_[slot].data();
  const double* units = model.kernel.units[slot].data() + b.begin;
  // Basis risk (MODEL.md section 9) needs the revenue per unit before H, and H.
  const bool basis = tallies_basis(b, ind_index);
  double* unit_revenue = basis ? ws.unit_revenue_[slot].data() : nullptr;
  if (basis) {
    std::fill(unit_revenue, unit_revenue + np, 0.0);
    double* h = ws.harvest_factor_[slot].data();
    const double* cycle = ws.cycle_survival_[slot].data() + b.begin;
    for (std::size_t i = 0; i < b.count; ++i) h[i] = plan.hazard_prone[ind_index] ? cycle[i] : 1.0;
  }
  for (std::size_t i = 0; i < b.count; ++i) scale[i] = units[i];
  std::fill(scale + b.count, scale + np, 0.0);
  if (plan.hazard_prone[ind_index]) {
    double* cycle = ws.cycle_survival_[slot].data() + b.begin;
    for (std::size_t i = 0; i < b.count; ++i) {
      scale[i] *= cycle[i];
      cycle[i] = 1.0;
    }
  }
  double* revenue = ws.revenue_.data();
  double* scratch = ws.scratch_.data();
  double* z = ws.normals_.data();
  const std::size_t n_products = ind.products.size();
  std::size_t drawn_block = SIZE_MAX;
  for (std::size_t p = 0; p < n_products; ++p) {
    const ProductModel& prod = ind.products[p];
    const double per_unit = prod.yield * ws.sale_price_[plan.first_line[ind_index] + p];
    const double s = prod.log_sigma;
    if (s == 0.0) {
      for (std::size_t i = 0; i < np; ++i) revenue[i] += scale[i] * per_unit;
      if (unit_revenue)
        for (std::size_t i = 0; i < np; ++i) unit_revenue[i] += per_unit;
      continue;
    }
    if (p / 4 != drawn_block) {  // rows 0, 1 agree bit for bit between the two forms
      drawn_block = p / 4;
      const auto idx = draws::yield_index(ind_index, static_cast<int>(drawn_block));
      const auto year = static_cast<std::uint32_t>(b.t);
      if (n_products - 4 * drawn_block == 1)
        rng::normal1_batch(key, ws.units_.data(), b.r, year, idx, np, ws.words_.data(), z);
      else if (n_products - 4 * drawn_block <= 2)
        rng::normal2_batch(key, ws.units_.data(), b.r, year, idx, np, ws.words_.data(), z);
      else
        rng::normal4_batch(key, ws.units_.data(), b.r, year, idx, np, ws.words_.data(), z);
    }
    const double* zp = z + (p % 4) * np;
    const double shift = -0.5 * s * s;
    for (std::size_t i = 0; i < np; ++i) scratch[i] = s * zp[i] + shift;
    rng::exp_batch(scratch, np, scratch);
    for (std::size_t i = 0; i < np; ++i) revenue[i] += scale[i] * per_unit * scratch[i];
    if (unit_revenue)
      for (std::size_t i = 0; i < np; ++i) unit_revenue[i] += per_unit * scratch[i];
  }
}

// Basis risk in the harvest years of a covered industry (MODEL.md section 9): the shortfall
// S = n max(0, rho E - A/n) against the expected revenue, and the compensation K of each
// variant covering it (agricultural: the indemnities of the cycle ending now; income index:
// this year's payout; double: their sum), tallied over the lanes enrolled in a product the
// variant counts, in lane order. Enrollment is uniform over a segment (kernel order), so a
// variant runs on the whole batch or not at all. The shortfall per unit is formed as the index
// payout is, so with no yield risk, no hazards, no floors and rho = coverage, S and the index's
// K agree bit for bit.
bool Stages::tallies_basis(const BatchRange& b, int ind) const {
  const ProtectionModel& pm = model.protection;
  const unsigned enrolled = b.seg->enrolled;
  return pm.basis && ((pm.basis_covers[kAgricultural][ind] && (enrolled >> kAgricultural & 1u)) ||
                      (pm.basis_covers[kIncomeIndex][ind] && (enrolled >> kIncomeIndex & 1u)));
}

void Stages::basis_risk(const BatchRange& b, Workspace& ws) const {
  const ProtectionModel& pm = model.protection;
  if (!pm.basis) return;
  for (int slot = 0; slot < 2; ++slot) {
    const int ind = slot_industry(*b.seg, slot);
    if (ind < 0 || !model.industries[ind].harvest[b.t - 1]) continue;
    if (tallies_basis(b, ind)) basis_tallies(b, slot, ind, ws);
    double* k_agri = ws.cycle_indemnity_[slot].data() + b.begin;
    if (pm.basis_covers[kAgricultural][ind])
      std::fill(k_agri, k_agri + b.count, 0.0);  // the next cycle starts
  }
}

// Each variant's tallies of the industry in slot `slot`, over the batch (in lane order).
void Stages::basis_tallies(const BatchRange& b, int slot, int ind, Workspace& ws) const {
  const ProtectionModel& pm = model.protection;
  const KernelTables& kt = model.kernel;
  // The products counted: covering the industry, and the segment enrolled in them.
  const bool agri = pm.basis_covers[kAgricultural][ind] && (b.seg->enrolled >> kAgricultural & 1);
  const bool index = pm.basis_covers[kIncomeIndex][ind] && (b.seg->enrolled >> kIncomeIndex & 1);
  const double target =
      pm.reference * pm.expected_revenue[static_cast<std::size_t>(ind) * model.years + b.t - 1];
  const double* __restrict units = kt.units[slot].data() + b.begin;
  const double* __restrict a = ws.unit_revenue_[slot].data();
  const double* __restrict h = ws.harvest_factor_[slot].data();
  double* __restrict shortfall = ws.scratch_.data();
  for (std::size_t i = 0; i < b.count; ++i)
    shortfall[i] = units[i] * std::max(0.0, target - a[i] * h[i]);
  const double* __restrict k_agri = ws.cycle_indemnity_[slot].data() + b.begin;
  const double* __restrict index_cover = kt.index_cover[slot].data() + b.begin;
  const double index_unit = pm.basis_covers[kIncomeIndex][ind] ? ws.index_payout_[ind] : 0.0;
  for (const int v : {int{kAgricultural}, int{kIncomeIndex}, kDouble}) {
    // The products the variant counts: itself, or both for double (0 + x is x exactly).
    const bool use_agri = agri && v != kIncomeIndex, use_index = index && v != kAgricultural;
    if (!pm.basis_covers[v][ind] || !(use_agri || use_index)) continue;
    std::int64_t losses = 0, missed = 0, paid = 0, false_alarms = 0;
    double compensated = 0.0, total_shortfall = 0.0;
    for (std::size_t i = 0; i < b.count; ++i) {
      const double k =
          (use_agri ? k_agri[i] : 0.0) + (use_index ? index_cover[i] * index_unit : 0.0);
      const double sh = shortfall[i];
      losses += sh > 0.0;
      missed += (sh > 0.0) & (k == 0.0);
      paid += k > 0.0;
      false_alarms += (k > 0.0) & (sh == 0.0);
      compensated += std::min(k, sh);
      total_shortfall += sh;
    }
    const std::size_t cell = static_cast<std::size_t>(v) * model.industries.size() + ind;
    double* tally = ws.basis_.data() + cell * kBasisTallies;
    tally[kLosses] += static_cast<double>(losses);
    tally[kMissed] += static_cast<double>(missed);
    tally[kPaid] += static_cast<double>(paid);
    tally[kFalseAlarms] += static_cast<double>(false_alarms);
    tally[kCompensated] += compensated;
    tally[kShortfall] += total_shortfall;
  }
}

// Wages with employment risk (section 7). Laborers ascend within a segment, so the lanes with
// a laborer 2k or 2k+1 are a suffix of the batch; block k of their draws gives those two
// laborers their normals (w0, w1) and employment words (w2, w3).
void Stages::wages(const BatchRange& b, Workspace& ws) const {
  const IncomeModel& inc = model.income;
  if (!inc.stochastic_wage) return;
  const std::int32_t* laborers = model.kernel.laborers.data() + b.begin;
  const int most = laborers[b.count - 1];
  if (most == 0) return;
  const bool drawn = inc.wage[0].log_sigma > 0.0 || inc.wage[1].log_sigma > 0.0;
  // With wage.poor, each lane's group terms, padded like the units; else one set for all.
  const bool by_group = inc.wage_by_group;
  const std::uint8_t* poor = model.kernel.poor.data() + b.begin;
  for (std::size_t i = 0; by_group && i < b.padded; ++i) {
    const int g = poor[std::min(i, b.count - 1)] ? 1 : 0;
    const double s = inc.wage[g].log_sigma;
    ws.wage_mean_[i] = inc.wage[g].mean;
    ws.wage_sigma_[i] = s;
    ws.wage_shift_[i] = -0.5 * s * s;
    ws.wage_threshold_[i] = plan.employment_threshold[g];
  }
  const double sigma0 = inc.wage[0].log_sigma, shift0 = -0.5 * sigma0 * sigma0;
  const auto year = static_cast<std::uint32_t>(b.t);
  double* total = ws.total_.data();
  double* scratch = ws.scratch_.data();
  const double* z = ws.normals_.data();
  const std::uint32_t* words = ws.words_.data();
  std::size_t first = 0;
  for (int k = 0; 2 * k < most; ++k) {
    while (laborers[first] <= 2 * k) ++first;
    const std::size_t from = first / rng::kLanes * rng::kLanes;  // aligned start of the suffix
    const std::size_t n = b.padded - from;
    const std::uint32_t* units = ws.units_.data() + from;
    if (drawn && 2 * k + 1 >= most)  // laborer 2k + 1 is nobody's: its normal unused
      rng::normal1_batch(key, units, b.r, year, draws::kWage + k, n, ws.words_.data(),
                         ws.normals_.data());
    else if (drawn)
      rng::normal2_batch(key, units, b.r, year, draws::kWage + k, n, ws.words_.data(),
                         ws.normals_.data());
    else
      rng::philox_batch(key, units, b.r, year, draws::kWage + k, n, ws.words_.data());
    for (int l = 0; l < 2 && 2 * k + l < most; ++l) {
      if (drawn && by_group) {
        const double* sigma = ws.wage_sigma_.data() + from;
        const double* shift = ws.wage_shift_.data() + from;
        for (std::size_t i = 0; i < n; ++i) scratch[i] = sigma[i] * z[l * n + i] + shift[i];
        rng::exp_batch(scratch, n, scratch);
      } else if (drawn) {
        for (std::size_t i = 0; i < n; ++i) scratch[i] = sigma0 * z[l * n + i] + shift0;
        rng::exp_batch(scratch, n, scratch);
      } else {
        std::fill(scratch, scratch + n, 1.0);
      }
      const std::uint32_t* employed = words + (2 + l) * n;
      const double* work = ws.work_.empty() ? nullptr : ws.work_[2 * k + l].data() + from;
      if (by_group)
        add_wages(2 * k + l, laborers + from, employed, scratch, ws.wage_mean_.data() + from,
                  ws.wage_threshold_.data() + from, work, b.count - from, total + from);
      else
        add_wages(2 * k + l, laborers + from, employed, scratch, Same<double>{inc.wage[0].mean},
                  Same<std::uint64_t>{plan.employment_threshold[0]}, work, b.count - from,
                  total + from);
    }
  }
}

void Stages::health(const BatchRange& b, Workspace& ws) const {
  if (!model.health.enabled) return;
  const KernelTables& kt = model.kernel;
  const HealthLanes lanes{ws.units_.data(),
                          kt.size.data() + b.begin,
                          kt.laborers.data() + b.begin,
                          kt.poor.data() + b.begin,
                          b.count,
                          b.padded};
  ws.episodes_ = draw_health(model, plan, key, b.r, b.t, lanes, ws, ws.medical_.data() + b.begin,
                             ws.out_of_pocket_.data() + b.begin, ws.work_);
}

// Out-of-pocket medical costs leave the household's income before the guard and dibao see it
// (MODEL.md section 7a, deduct_out_of_pocket).
void Stages::out_of_pocket(const BatchRange& b, Workspace& ws) const {
  if (!model.health.enabled || !model.health.deduct) return;
  const double* __restrict oop = ws.out_of_pocket_.data() + b.begin;
  double* __restrict total = ws.total_.data();
  for (std::size_t i = 0; i < b.count; ++i) total[i] -= oop[i];
}

namespace {
template <class T>
void grow(std::vector<T>& v, std::size_t n) {
  if (v.size() < n) v.resize(n);
}
}  // namespace

// Illness by illness (so each illness's constants are loop invariants and every lane's costs
// are summed in (illness, person) order): per person block, one Philox batch over the lanes
// with a person in the block, a vectorised pass turning the four words into a mask of ill
// persons, and a branch-free compaction listing the episodes (lane, person); then the
// episodes' lognormal factors in one normal batch with a counter index per episode.
double Stages::draw_health(const Model& model, const Kernel::Plan& plan, rng::Key key,
                           std::uint32_t r, int t, const HealthLanes& in, Workspace& ws,
                           double* cost, double* oop, std::vector<std::vector<double>>& work) {
  const HealthModel& hm = model.health;
  const std::size_t n = in.count;
  Workspace::HealthDraws& d = ws.health_;
  const auto year = static_cast<std::uint32_t>(t);
  grow(d.persons, n);
  int most_persons = 0, most_laborers = 0;
  for (std::size_t i = 0; i < n; ++i) {
    d.persons[i] = static_cast<std::int32_t>(in.size[i]);
    most_persons = std::max(most_persons, d.persons[i]);
    most_laborers = std::max(most_laborers, static_cast<int>(in.laborers[i]));
  }
  const int blocks = (most_persons + 3) / 4;
  // Lanes of each block b >= 1 (block 0 is every lane), padded by repeating the last: listed
  // without a branch per lane (each lane is written, and kept if it has a person in block b).
  d.block_start.assign(1, 0);
  d.block_live.clear();
  std::size_t listed = 0;
  for (int b = 1; b < blocks; ++b) {
    grow(d.block_lane, listed + n + rng::kLanes);
    grow(d.block_unit, listed + n + rng::kLanes);
    std::uint32_t* __restrict lane = d.block_lane.data();
    std::uint32_t* __restrict unit = d.block_unit.data();
    std::size_t end = listed;
    for (std::size_t i = 0; i < n; ++i) {
      lane[end] = static_cast<std::uint32_t>(i);
      unit[end] = in.units[i];
      end += static_cast<std::size_t>(d.persons[i] > 4 * b);
    }
    d.block_live.push_back(end - listed);  // >= 1: the largest household has a person here
    for (; (end - listed) % rng::kLanes != 0; ++end) {
      lane[end] = lane[end - 1];
      unit[end] = unit[end - 1];
    }
    listed = end;
    d.block_start.push_back(listed);
  }
  std::fill(cost, cost + n, 0.0);
  // Days lost per laborer row of `work` (persons 0..laborers-1 are the laborers; a row's
  // entries past a lane's laborers are never read), then the rows become working factors. A
  // row is zeroed when an illness first adds days to it; a row without days is all ones.
  const bool days = hm.loses_days && most_laborers > 0;
  d.touched.assign(static_cast<std::size_t>(days ? most_laborers : 0), 0);

  assert(n <= Kernel::kBatch && most_persons <= 1000);
  grow(d.left, in.padded);
  grow(d.mask, in.padded);
  std::size_t episodes = 0;
  for (std::size_t e = 0; e < hm.illnesses.size(); ++e) {
    const std::uint64_t threshold = plan.illness_threshold[e];
    if (threshold == 0) continue;
    const IllnessModel& ill = hm.illnesses[e];
    const int illness = static_cast<int>(e);
    // word < threshold <=> word <= threshold - 1 (2^32 - 1, every word, at probability 1).
    const auto last = static_cast<std::uint32_t>(threshold - 1);
    std::size_t found = 0;  // episodes of this illness so far
    for (int b = 0; b < blocks; ++b) {
      const bool all = b == 0;
      const std::size_t first = all ? 0 : d.block_start[b - 1];
      const std::size_t count = all ? n : d.block_live[b - 1];
      const std::size_t padded = all ? in.padded : d.block_start[b] - first;
      if (count == 0) continue;
      const std::uint32_t* units = all ? in.units : d.block_unit.data() + first;
      const std::uint32_t* lanes = all ? nullptr : d.block_lane.data() + first;
      grow(d.words, 4 * padded);
      rng::philox_batch(key, units, r, year, draws::health_occurrence(illness, b), padded,
                        d.words.data());
      // Persons of each lane in this block, and its ill ones as a mask (0 past `count`).
      const std::int32_t* __restrict left = d.persons.data();
      if (!all) {
        for (std::size_t k = 0; k < count; ++k) d.left[k] = d.persons[lanes[k]] - 4 * b;
        left = d.left.data();
      }
      const std::uint32_t* __restrict w0 = d.words.data();
      const std::uint32_t* __restrict w1 = w0 + padded;
      const std::uint32_t* __restrict w2 = w1 + padded;
      const std::uint32_t* __restrict w3 = w2 + padded;
      std::uint32_t* __restrict mask = d.mask.data();
      for (std::size_t k = 0; k < count; ++k)
        mask[k] = static_cast<std::uint32_t>((w0[k] <= last) & (left[k] > 0)) |
                  static_cast<std::uint32_t>((w1[k] <= last) & (left[k] > 1)) << 1 |
                  static_cast<std::uint32_t>((w2[k] <= last) & (left[k] > 2)) << 2 |
                  static_cast<std::uint32_t>((w3[k] <= last) & (left[k] > 3)) << 3;
      const std::size_t groups = (count + 7) / 8;  // of eight lanes
      std::fill(mask + count, mask + 8 * groups, 0u);
      std::uint32_t any = 0;
      for (std::size_t k = 0; k < count; ++k) any |= mask[k];
      // Days lost of the laborers of this block: row 4b + j gains days_lost where bit j is set.
      const int rows = days && ill.days_lost > 0.0 ? std::min(4, most_laborers - 4 * b) : 0;
      for (int j = 0; j < rows; ++j) {
        if (!((any >> j) & 1u)) continue;  // nobody of the block's person j is ill
        auto& touched = d.touched[static_cast<std::size_t>(4 * b + j)];
        if (!touched)
          std::fill(work[4 * b + j].begin(),
                    work[4 * b + j].begin() + static_cast<std::ptrdiff_t>(n), 0.0);
        touched = 1;
        double* __restrict row = work[4 * b + j].data();
        if (all)
          for (std::size_t k = 0; k < count; ++k)
            row[k] += ill.days_lost * static_cast<double>((mask[k] >> j) & 1u);
        else
          for (std::size_t k = 0; k < count; ++k)
            row[lanes[k]] += ill.days_lost * static_cast<double>((mask[k] >> j) & 1u);
      }
      // The ill (lane, person) pairs without a branch per lane, as codes lane x 1024 + person
      // (household sizes are at most 1000; batches, of the kernel and the pilot alike, hold
      // Kernel::kBatch lanes): each lane writes its four candidates in mask order and advances
      // by the number ill.
      static constexpr std::uint32_t kBits[16][4] = {
          {0, 0, 0, 0}, {0, 0, 0, 0}, {1, 0, 0, 0}, {0, 1, 0, 0}, {2, 0, 0, 0}, {0, 2, 0, 0},
          {1, 2, 0, 0}, {0, 1, 2, 0}, {3, 0, 0, 0}, {0, 3, 0, 0}, {1, 3, 0, 0}, {0, 1, 3, 0},
          {2, 3, 0, 0}, {0, 2, 3, 0}, {1, 2, 3, 0}, {0, 1, 2, 3}};
      grow(d.episode_code, found + 4 * count + 4);
      std::uint32_t* __restrict code = d.episode_code.data();
      const auto person0 = static_cast<std::uint32_t>(4 * b);
      for (std::size_t g = 0; g < groups && any; ++g) {
        const std::uint32_t* m8 = mask + 8 * g;
        std::uint32_t ill8 = 0;  // any ill person among the eight lanes (often none when rare)
        for (int q = 0; q < 8; ++q) ill8 |= m8[q];
        if (!ill8) continue;
        for (std::size_t k = 8 * g; k < std::min(count, 8 * g + 8); ++k) {
          const std::uint32_t m = mask[k];
          const std::uint32_t base =
              (all ? static_cast<std::uint32_t>(k) : lanes[k]) << 10 | person0;
          for (int q = 0; q < 4; ++q) code[found + q] = base + kBits[m][q];
          found += static_cast<std::size_t>(std::popcount(m));
        }
      }
    }
    episodes += found;
    if (found == 0) continue;
    const std::uint32_t* __restrict code = d.episode_code.data();
    if (ill.log_sigma == 0.0) {  // cv 0: the mean, no draw
      for (std::size_t c = 0; c < found; ++c) cost[code[c] >> 10] += ill.cost_mean;
      continue;
    }
    // Costs: mean x exp(s z - s^2/2); the padding repeats the last episode.
    const std::size_t pe = rng::padded_lanes(found);
    grow(d.episode_unit, pe);
    grow(d.episode_index, pe);
    grow(d.episode_words, 4 * pe);
    grow(d.z, pe);
    std::uint32_t* __restrict unit_of = d.episode_unit.data();
    std::uint32_t* __restrict index_of = d.episode_index.data();
    for (std::size_t c = 0; c < found; ++c) {
      unit_of[c] = in.units[code[c] >> 10];
      index_of[c] = draws::health_cost(illness, static_cast<int>(code[c] & 1023u));
    }
    for (std::size_t c = found; c < pe; ++c) {
      unit_of[c] = unit_of[found - 1];
      index_of[c] = index_of[found - 1];
    }
    double* __restrict z = d.z.data();
    rng::normal1_batch_indexed(key, unit_of, r, year, index_of, pe, d.episode_words.data(), z);
    const double s = ill.log_sigma;
    for (std::size_t c = 0; c < pe; ++c) z[c] = s * z[c] - 0.5 * s * s;
    rng::exp_batch(z, pe, z);
    for (std::size_t c = 0; c < found; ++c) cost[code[c] >> 10] += ill.cost_mean * z[c];
  }
  // Both groups' out-of-pocket, then the lane's: a loop that vectorises.
  const double share0 = hm.out_of_pocket_share[0], share1 = hm.out_of_pocket_share[1];
  const double cap0 = hm.out_of_pocket_cap[0], cap1 = hm.out_of_pocket_cap[1];
  const std::uint8_t* __restrict poor = in.poor;
  for (std::size_t i = 0; i < n; ++i) {
    const double other = std::min(cap0, share0 * cost[i]);
    const double registered = std::min(cap1, share1 * cost[i]);
    oop[i] = poor[i] ? registered : other;
  }
  for (int l = 0; days && l < most_laborers; ++l) {
    double* __restrict row = work[l].data();
    if (!d.touched[static_cast<std::size_t>(l)])
      std::fill(row, row + n, 1.0);  // max(0, 1 - 0 / labor_days)
    else
      for (std::size_t i = 0; i < n; ++i) row[i] = std::max(0.0, 1.0 - row[i] / hm.labor_days);
  }
  return static_cast<double>(episodes);
}

// Products paying on income net of premiums and with the other payouts (section 6): the
// poverty guard, min(cap, size x max(0, threshold x line - y_pre)) to enrolled households.
void Stages::poverty_guard(const BatchRange& b, Workspace& ws) const {
  const InsuranceModel& ins = model.insurance;
  const KernelTables& kt = model.kernel;
  for (int p = 0; p < kProducts; ++p) {
    if (!ins.plan[p].enabled || kProductTable[p].payout != PayoutRule::income_guard ||
        !(b.seg->enrolled >> p & 1))  // not enrolled: pays 0 (load zeroes paid)
      continue;
    const double guard_line = ins.guard_threshold * model.poverty_line[b.t - 1];
    const double* __restrict size = kt.size.data() + b.begin;
    const std::uint8_t* __restrict enrolled = kt.enrolled[p].data() + b.begin;
    double* __restrict total = ws.total_.data();
    double* __restrict pay = ws.paid_[p].data();
    for (std::size_t i = 0; i < b.count; ++i) {
      const double due = guard_due(ins.guard_cap, guard_line, size[i], total[i]);
      pay[i] = due * static_cast<double>(enrolled[i]);  // masked as in add_wages
      total[i] += pay[i];
    }
  }
}

// The income before the guard, kept for the counterfactual incomes (protection value).
void Stages::keep_pre_guard(const BatchRange& b, Workspace& ws) const {
  if (!model.protection.any_value) return;
  std::copy(ws.total_.begin(), ws.total_.begin() + static_cast<std::ptrdiff_t>(b.count),
            ws.pre_guard_.begin());
}

// Dibao applied last (section 7): the per-capita income of each position, and its farm net.
void Stages::dibao(const BatchRange& b, Workspace& ws) const {
  const KernelTables& kt = model.kernel;
  const double line = model.income.dibao_line;
  const double* __restrict size = kt.size.data() + b.begin;
  const double* __restrict total = ws.total_.data();
  const std::uint8_t* __restrict eligible = kt.dibao_eligible.data() + b.begin;
  double* __restrict income = ws.income_.data() + b.begin;
  double* __restrict topup = ws.topup_.data();
  for (std::size_t i = 0; i < b.count; ++i) {
    const double y = total[i] / size[i];
    const double gap = size[i] * (line - y);
    const double low = static_cast<double>((eligible[i] != 0) & (y < line));
    topup[i] = gap * low;
    income[i] = after_dibao(line, eligible[i] != 0, size[i], total[i]);
  }
  const double* __restrict cost =
      kt.farm_cost.data() + static_cast<std::size_t>(b.t - 1) * kt.count() + b.begin;
  double* __restrict farm_net = ws.farm_net_.data() + b.begin;
  for (std::size_t i = 0; i < b.count; ++i) farm_net[i] = ws.revenue_[i] - cost[i];
}

// Protection value (MODEL.md section 9): each position's per-capita income without a
// variant's payouts and without the premium shares it pays for it, the guard (for the other
// variants) and dibao recomputed as poverty_guard and dibao do, for the positions holding the
// variant (whole segments in kernel order); the others are left as they were and never read
// (ProtectionSums reads holders only).
void Stages::counterfactuals(const BatchRange& b, Workspace& ws) const {
  const ProtectionModel& pm = model.protection;
  if (!pm.any_value) return;
  const KernelTables& kt = model.kernel;
  const InsuranceModel& ins = model.insurance;
  const std::size_t year = static_cast<std::size_t>(b.t - 1) * kt.count() + b.begin;
  const double* __restrict size = kt.size.data() + b.begin;
  const double* __restrict pre = ws.pre_guard_.data();
  const std::uint8_t* __restrict eligible = kt.dibao_eligible.data() + b.begin;
  const std::uint8_t* __restrict guard_enrolled = kt.enrolled[kPovertyGuard].data() + b.begin;
  const bool guard = ins.plan[kPovertyGuard].enabled;
  const double guard_line = ins.guard_threshold * model.poverty_line[b.t - 1];
  const double line = model.income.dibao_line;
  double* __restrict x = ws.scratch_.data();
  for (int v = 0; v < kVariants; ++v) {
    if (!pm.value[v] || !(b.seg->holds >> v & 1)) continue;  // holders only (kernel order)
    std::copy(pre, pre + b.count, x);
    // The payouts in `pre` (agricultural, income index) and premium shares the variant removes.
    for (int p : {int{kAgricultural}, int{kIncomeIndex}}) {
      if (v != p && v != kDouble) continue;
      const double* __restrict pay = ws.paid_[p].data();
      const double* __restrict premium = kt.premium_paid[p].data() + year;
      for (std::size_t i = 0; i < b.count; ++i) x[i] = x[i] - pay[i] + premium[i];
    }
    if (v == kPovertyGuard) {  // its payout is not in `pre`: only its premium share goes
      const double* __restrict premium = kt.premium_paid[kPovertyGuard].data() + year;
      for (std::size_t i = 0; i < b.count; ++i) x[i] += premium[i];
    } else if (guard) {
      for (std::size_t i = 0; i < b.count; ++i)
        x[i] += guard_due(ins.guard_cap, guard_line, size[i], x[i]) *
                static_cast<double>(guard_enrolled[i]);
    }
    double* __restrict out = ws.without_[v].data() + b.begin;
    for (std::size_t i = 0; i < b.count; ++i)
      out[i] = after_dibao(line, eligible[i] != 0, size[i], x[i]);
  }
}

BatchTotals Stages::totals(const BatchRange& b, Workspace& ws) const {
  BatchTotals out;
  for (int p = 0; p < kProducts; ++p) {
    if (!model.insurance.plan[p].enabled || !(b.seg->enrolled >> p & 1)) continue;  // 0 paid
    out.payout[p] = lane_sum(ws.paid_[p].data(), b.count);
    out.paid[p] = positive_count(ws.paid_[p].data(), b.count);
  }
  out.dibao = lane_sum(ws.topup_.data(), b.count);
  if (model.health.enabled) {
    const double* oop = ws.out_of_pocket_.data() + b.begin;
    const double* medical = ws.medical_.data() + b.begin;
    out.health.cost = lane_sum(medical, b.count);
    out.health.out_of_pocket = lane_sum(oop, b.count);
    double* reimbursed = ws.scratch_.data();
    for (std::size_t i = 0; i < b.count; ++i) reimbursed[i] = medical[i] - oop[i];
    out.health.reimbursed = lane_sum(reimbursed, b.count);
    out.health.episodes = ws.episodes_;
    if (model.health.deduct) {  // persons poor after out-of-pocket costs, not before (section 9)
      const double z = model.poverty_line[b.t - 1];
      const double* y = ws.income_.data() + b.begin;
      const double* size = model.kernel.size.data() + b.begin;
      double persons = 0.0;  // whole numbers: exact in any order
      for (std::size_t i = 0; i < b.count; ++i)
        persons += (y[i] < z) & (y[i] + oop[i] / size[i] >= z) ? size[i] : 0.0;
      out.health.impoverished = persons;
    }
  }
  return out;
}

}  // namespace incsim
