// The portfolio pilot (see incsim/pilot.h). Its per-portfolio arithmetic mirrors the stages of
// engine/simulate/stages.cpp step for step (same operations in the same order), so a
// household's pilot income under a portfolio equals the kernel's bit for bit; the test
// Choice.PilotEqualsTheKernelPerPortfolio holds it to that.
#include "incsim/pilot.h"

#include <tbb/parallel_for.h>
#include <tbb/task_arena.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "incsim/draws.h"
#include "simulate/stages.h"

namespace incsim {

// One batch of households through all pilot replications.
class PilotWorker {
 public:
  PilotWorker(const Model& base, const Kernel::Plan& plan, rng::Key key,
              const std::vector<std::pair<int, int>>& portfolios,
              const std::vector<std::vector<Units>>& units_of_portfolio)
      : base_(base),
        plan_(plan),
        key_(key),
        portfolios_(portfolios),
        units_of_portfolio_(units_of_portfolio),
        ws_(base) {
    for (const auto& [main, aux] : portfolios)
      for (int i : {main, aux})
        if (i >= 0 && std::find(industries_.begin(), industries_.end(), i) == industries_.end())
          industries_.push_back(i);
    slot_of_.assign(base.industries.size(), -1);
    for (std::size_t j = 0; j < industries_.size(); ++j) slot_of_[industries_[j]] = int(j);
  }

  void run(std::span<const std::uint32_t> households, int replications,
           const std::function<void(const PilotBatch&)>& on_batch);

 private:
  void setup(std::span<const std::uint32_t> households);
  void copy_households();  // setup: each lane's household constants
  void fixed_incomes();    // setup: units and fixed income per portfolio, year and lane
  void wage_terms();       // setup: each lane's wage group terms
  void survival(std::uint32_t r, int t);
  void revenue_factors(std::uint32_t r, int t);
  void wages(std::uint32_t r, int t);
  void portfolio_income(std::size_t p, int t);
  void add_wages_guard_and_dibao(int t, double* __restrict y);

  const Model& base_;
  const Kernel::Plan& plan_;
  rng::Key key_;
  const std::vector<std::pair<int, int>>& portfolios_;
  const std::vector<std::vector<Units>>& units_of_portfolio_;  // (P, H) population order
  Workspace ws_;                                               // common shocks and draw buffers
  std::vector<int> industries_;                                // candidate industries
  std::vector<int> slot_of_;  // industry -> index into industries_, or -1
  std::size_t lanes_ = 0, padded_ = 0;
  std::vector<std::uint32_t> units_;  // population index per lane
  std::vector<std::int32_t> laborers_, village_;
  std::vector<double> size_;  // and 0 / 1 masks:
  std::vector<double> agri_enrolled_, index_enrolled_, guard_enrolled_, dibao_eligible_;
  std::vector<double> units_of_;                                   // (P, 2, lanes)
  std::vector<double> fixed_;                                      // (P, T, lanes)
  std::vector<std::vector<double>> surv_, cycle_, harvest_scale_;  // per candidate industry
  std::vector<std::vector<double>> factor_;  // per candidate industry: (products, lanes)
  std::vector<std::vector<double>> wage_;    // per laborer: earnings per lane
  std::vector<std::uint8_t> poor_;           // registered poor per lane
  std::vector<double> wage_mean_, wage_sigma_, wage_shift_;  // the lane's group terms (padded)
  std::vector<std::uint64_t> wage_threshold_;
  std::vector<double> medical_, oop_;             // health: cost and out-of-pocket per lane
  std::vector<std::vector<double>> work_;         // health: working factor per person and lane
  std::vector<double> revenue_, scale_, income_;  // (lanes), (lanes), (P, T, lanes)
};

void PilotWorker::setup(std::span<const std::uint32_t> households) {
  lanes_ = households.size();
  padded_ = rng::padded_lanes(lanes_);
  units_.assign(households.begin(), households.end());
  units_.resize(padded_, units_.back());
  copy_households();
  fixed_incomes();
  const std::size_t ni = industries_.size();
  surv_.assign(ni, std::vector<double>(lanes_, 1.0));
  cycle_.assign(ni, std::vector<double>(lanes_, 1.0));
  harvest_scale_.assign(ni, std::vector<double>(lanes_, 1.0));
  factor_.resize(ni);
  for (std::size_t j = 0; j < ni; ++j)
    factor_[j].assign(base_.industries[industries_[j]].products.size() * padded_, 1.0);
  wage_terms();
  if (base_.health.enabled) {
    medical_.assign(padded_, 0.0);
    oop_.assign(padded_, 0.0);
    if (base_.health.loses_days)
      work_.assign(static_cast<std::size_t>(*std::max_element(size_.begin(), size_.end())),
                   std::vector<double>(padded_, 1.0));  // a row per person (draw_health)
  }
  revenue_.assign(lanes_, 0.0);
  scale_.assign(lanes_, 0.0);
  income_.assign(portfolios_.size() * base_.years * lanes_, 0.0);
}

void PilotWorker::copy_households() {
  const Households& hh = base_.households;
  const InsuranceModel& ins = base_.insurance;
  laborers_.resize(lanes_);
  village_.resize(lanes_);
  size_.resize(lanes_);
  agri_enrolled_.resize(lanes_);
  index_enrolled_.resize(lanes_);
  guard_enrolled_.resize(lanes_);
  dibao_eligible_.resize(lanes_);
  for (std::size_t i = 0; i < lanes_; ++i) {
    const std::uint32_t h = units_[i];
    laborers_[i] = hh.laborers[h];
    village_[i] = hh.village[h];
    size_[i] = hh.size[h];
    agri_enrolled_[i] = ins.plan[kAgricultural].enabled && hh.enrolled[kAgricultural][h];
    index_enrolled_[i] = ins.plan[kIncomeIndex].enabled && hh.enrolled[kIncomeIndex][h];
    guard_enrolled_[i] = ins.plan[kPovertyGuard].enabled && hh.enrolled[kPovertyGuard][h];
    dibao_eligible_[i] = hh.dibao_eligible[h];
  }
}

void PilotWorker::fixed_incomes() {
  const std::size_t np = portfolios_.size();
  const int years = base_.years;
  units_of_.assign(np * 2 * lanes_, 0.0);
  fixed_.assign(np * years * lanes_, std::numeric_limits<double>::quiet_NaN());
  for (std::size_t p = 0; p < np; ++p) {
    const auto [main, aux] = portfolios_[p];
    for (std::size_t i = 0; i < lanes_; ++i) {
      const std::uint32_t h = units_[i];
      const Units n = units_of_portfolio_[p][h];
      if (n.main == 0) continue;  // infeasible: income stays NaN
      units_of_[(p * 2) * lanes_ + i] = n.main;
      units_of_[(p * 2 + 1) * lanes_ + i] = n.aux;
      PortfolioSlots slots;
      slots.industry[0] = main;
      slots.industry[1] = aux;
      slots.units[0] = n.main;
      slots.units[1] = n.aux;
      for (int t = 1; t <= years; ++t)
        fixed_[(p * years + (t - 1)) * lanes_ + i] = fixed_income_of(base_, h, slots, t).income;
    }
  }
}

void PilotWorker::wage_terms() {
  const Households& hh = base_.households;
  const int most = lanes_ ? *std::max_element(laborers_.begin(), laborers_.end()) : 0;
  wage_.assign(static_cast<std::size_t>(most), std::vector<double>(padded_, 0.0));
  poor_.resize(lanes_);
  wage_mean_.resize(padded_);
  wage_sigma_.resize(padded_);
  wage_shift_.resize(padded_);
  wage_threshold_.resize(padded_);
  for (std::size_t i = 0; i < padded_; ++i) {
    const int g = hh.poor[units_[i]] ? 1 : 0;  // padding lanes repeat the last lane
    if (i < lanes_) poor_[i] = hh.poor[units_[i]];
    const double s = base_.income.wage[g].log_sigma;
    wage_mean_[i] = base_.income.wage[g].mean;
    wage_sigma_[i] = s;
    wage_shift_[i] = -0.5 * s * s;
    wage_threshold_[i] = plan_.employment_threshold[g];
  }
}

void PilotWorker::run(std::span<const std::uint32_t> households, int replications,
                      const std::function<void(const PilotBatch&)>& on_batch) {
  setup(households);
  const Stages stages{base_, plan_, key_};
  for (int r = 0; r < replications; ++r) {
    const auto rep = static_cast<std::uint32_t>(r);
    ws_.market_.reset();
    for (auto& c : cycle_) std::fill(c.begin(), c.end(), 1.0);
    for (int t = 1; t <= base_.years; ++t) {
      stages.common_shocks(rep, t, ws_);
      survival(rep, t);
      revenue_factors(rep, t);
      wages(rep, t);
      for (std::size_t p = 0; p < portfolios_.size(); ++p) portfolio_income(p, t);
    }
    on_batch({r, households, portfolios_.size(), base_.years, income_});
  }
}

// Year survival of every candidate industry (Stages::year_survival and household_hazards),
// and the cycle survival (Stages::indemnities).
void PilotWorker::survival(std::uint32_t r, int t) {
  const std::size_t n_ind = base_.industries.size();
  for (std::size_t j = 0; j < industries_.size(); ++j) {
    const int ind = industries_[j];
    if (!plan_.hazard_prone[ind]) continue;
    const double* area = ws_.area_survival_.data() + ind;
    for (std::size_t i = 0; i < lanes_; ++i) surv_[j][i] = area[village_[i] * n_ind];
  }
  for (int k : plan_.household_hazards) {
    const HazardModel& hz = base_.hazards[k];
    bool any = false;
    for (int ind : industries_) any |= hz.affects[ind] > 0.0;
    if (!any) continue;
    rng::philox_batch(key_, units_.data(), r, static_cast<std::uint32_t>(t),
                      draws::kHazardOccurrence + static_cast<std::uint32_t>(k), padded_,
                      ws_.words_.data());
    // The struck lanes' severities in one batch, as Stages::household_hazards draws them.
    const std::uint64_t threshold = plan_.hazard_threshold[k];
    std::size_t struck = 0;
    for (std::size_t i = 0; i < lanes_; ++i) {
      ws_.struck_[struck] = static_cast<std::uint32_t>(i);
      ws_.struck_units_[struck] = units_[i];
      struck += ws_.words_[i] < threshold;
    }
    double* severity = ws_.severity_.data();
    sample_severity_batch(hz.severity, k, key_, ws_.struck_units_.data(), struck, r, t, severity);
    for (std::size_t m = 0; m < struck; ++m) {
      const std::uint32_t i = ws_.struck_[m];
      for (std::size_t j = 0; j < industries_.size(); ++j) {
        const double a = hz.affects[industries_[j]];
        if (a > 0.0) surv_[j][i] *= 1.0 - loss_of(a, severity[m]);
      }
    }
  }
  for (std::size_t j = 0; j < industries_.size(); ++j)
    if (plan_.hazard_prone[industries_[j]])
      for (std::size_t i = 0; i < lanes_; ++i) cycle_[j][i] *= surv_[j][i];
}

// Lognormal yield factors of the industries harvesting in t, and their cycle survival H
// (Stages::product_revenue without the units).
void PilotWorker::revenue_factors(std::uint32_t r, int t) {
  double* z = ws_.normals_.data();
  for (std::size_t j = 0; j < industries_.size(); ++j) {
    const int ind_index = industries_[j];
    const IndustryModel& ind = base_.industries[ind_index];
    if (!ind.harvest[t - 1]) continue;
    if (plan_.hazard_prone[ind_index]) {
      std::copy(cycle_[j].begin(), cycle_[j].end(), harvest_scale_[j].begin());
      std::fill(cycle_[j].begin(), cycle_[j].end(), 1.0);
    }
    const std::size_t n_products = ind.products.size();
    std::size_t drawn_block = SIZE_MAX;
    for (std::size_t p = 0; p < n_products; ++p) {
      const double s = ind.products[p].log_sigma;
      if (s == 0.0) continue;
      if (p / 4 != drawn_block) {
        drawn_block = p / 4;
        const auto idx = draws::yield_index(ind_index, static_cast<int>(drawn_block));
        const auto year = static_cast<std::uint32_t>(t);
        if (n_products - 4 * drawn_block == 1)
          rng::normal1_batch(key_, units_.data(), r, year, idx, padded_, ws_.words_.data(), z);
        else if (n_products - 4 * drawn_block <= 2)
          rng::normal2_batch(key_, units_.data(), r, year, idx, padded_, ws_.words_.data(), z);
        else
          rng::normal4_batch(key_, units_.data(), r, year, idx, padded_, ws_.words_.data(), z);
      }
      double* f = factor_[j].data() + p * padded_;
      const double* zp = z + (p % 4) * padded_;
      const double shift = -0.5 * s * s;
      for (std::size_t i = 0; i < padded_; ++i) f[i] = s * zp[i] + shift;
      rng::exp_batch(f, padded_, f);
    }
  }
}

// Each laborer's earnings (Stages::wages; lanes are not sorted here, so every lane draws),
// after the year's illnesses (Stages::health), which also give each lane's out-of-pocket cost.
void PilotWorker::wages(std::uint32_t r, int t) {
  const IncomeModel& inc = base_.income;
  if (base_.health.enabled) {
    const HealthLanes lanes{units_.data(), size_.data(), laborers_.data(),
                            poor_.data(),  lanes_,       padded_};
    Stages::draw_health(base_, plan_, key_, r, t, lanes, ws_, medical_.data(), oop_.data(), work_);
  }
  if (!inc.stochastic_wage) return;
  const bool drawn = inc.wage[0].log_sigma > 0.0 || inc.wage[1].log_sigma > 0.0;
  const auto year = static_cast<std::uint32_t>(t);
  double* scratch = ws_.scratch_.data();
  const double* z = ws_.normals_.data();
  for (std::size_t k = 0; 2 * k < wage_.size(); ++k) {
    const auto index = draws::kWage + static_cast<std::uint32_t>(k);
    if (drawn && 2 * k + 1 >= wage_.size())  // as in Stages::wages
      rng::normal1_batch(key_, units_.data(), r, year, index, padded_, ws_.words_.data(),
                         ws_.normals_.data());
    else if (drawn)
      rng::normal2_batch(key_, units_.data(), r, year, index, padded_, ws_.words_.data(),
                         ws_.normals_.data());
    else
      rng::philox_batch(key_, units_.data(), r, year, index, padded_, ws_.words_.data());
    for (std::size_t l = 0; l < 2 && 2 * k + l < wage_.size(); ++l) {
      if (drawn) {
        for (std::size_t i = 0; i < padded_; ++i)
          scratch[i] = wage_sigma_[i] * z[l * padded_ + i] + wage_shift_[i];
        rng::exp_batch(scratch, padded_, scratch);
      } else {
        std::fill(scratch, scratch + padded_, 1.0);
      }
      const std::uint32_t* employed = ws_.words_.data() + (2 + l) * padded_;
      const auto laborer = static_cast<std::int32_t>(2 * k + l);
      double* out = wage_[2 * k + l].data();
      const double* work = work_.empty() ? nullptr : work_[2 * k + l].data();
      for (std::size_t i = 0; i < lanes_; ++i) {
        const bool earns =
            (laborer < laborers_[i]) & (std::uint64_t{employed[i]} < wage_threshold_[i]);
        out[i] = work ? wage_mean_[i] * scratch[i] * work[i] * static_cast<double>(earns)
                      : wage_mean_[i] * scratch[i] * static_cast<double>(earns);
      }
    }
  }
}

// Income under portfolio p in year t: Stages::load, indemnities, farm_revenue, wages and
// guard_and_dibao in that order, on the shared draws. Masks multiply by 0 or 1 as in the
// stages (exact), so the loops have no control flow and vectorise.
void PilotWorker::portfolio_income(std::size_t p, int t) {
  const InsuranceModel& ins = base_.insurance;
  const int years = base_.years;
  const std::size_t n_lanes = lanes_;
  const int slots[2] = {portfolios_[p].first, portfolios_[p].second};
  const double* fixed = fixed_.data() + (p * years + (t - 1)) * n_lanes;
  double* __restrict y = income_.data() + (p * years + (t - 1)) * n_lanes;
  double* __restrict revenue = revenue_.data();
  std::copy(fixed, fixed + n_lanes, y);  // the running total; NaN where infeasible
  std::fill(revenue, revenue + n_lanes, 0.0);
  for (int s = 0; s < 2; ++s) {
    const int ind = slots[s];
    if (ind < 0) continue;
    const double* __restrict surv = surv_[static_cast<std::size_t>(slot_of_[ind])].data();
    const double* __restrict n = units_of_.data() + (p * 2 + s) * n_lanes;
    if (plan_.hazard_prone[ind] && ins.plan[kAgricultural].enabled && ins.sum_insured[ind] > 0.0) {
      const double si = ins.sum_insured[ind];
      const double* __restrict enrolled = agri_enrolled_.data();
      for (std::size_t i = 0; i < n_lanes; ++i)
        y[i] += (n[i] * si * enrolled[i]) * std::max(0.0, (1.0 - surv[i]) - ins.deductible);
    }
    if (!base_.industries[ind].harvest[t - 1]) continue;
    if (ins.plan[kIncomeIndex].enabled && ins.index_covered[ind]) {
      const double pay_unit = ws_.index_payout_[ind];
      const double* __restrict enrolled = index_enrolled_.data();
      for (std::size_t i = 0; i < n_lanes; ++i) y[i] += (n[i] * enrolled[i]) * pay_unit;
    }
  }
  for (int s = 0; s < 2; ++s) {
    const int ind = slots[s];
    if (ind < 0 || !base_.industries[ind].harvest[t - 1]) continue;
    const std::size_t j = static_cast<std::size_t>(slot_of_[ind]);
    const double* __restrict n = units_of_.data() + (p * 2 + s) * n_lanes;
    double* __restrict scale = scale_.data();
    std::copy(n, n + n_lanes, scale);
    if (plan_.hazard_prone[ind]) {
      const double* __restrict h = harvest_scale_[j].data();
      for (std::size_t i = 0; i < n_lanes; ++i) scale[i] *= h[i];
    }
    const IndustryModel& industry = base_.industries[ind];
    for (std::size_t q = 0; q < industry.products.size(); ++q) {
      const double per_unit =
          industry.products[q].yield * ws_.sale_price_[plan_.first_line[ind] + q];
      if (industry.products[q].log_sigma == 0.0) {
        for (std::size_t i = 0; i < n_lanes; ++i) revenue[i] += scale[i] * per_unit;
        continue;
      }
      const double* __restrict f = factor_[j].data() + q * padded_;
      for (std::size_t i = 0; i < n_lanes; ++i) revenue[i] += scale[i] * per_unit * f[i];
    }
  }
  for (std::size_t i = 0; i < n_lanes; ++i) y[i] += revenue[i];
  add_wages_guard_and_dibao(t, y);
}

// Stages::wages, poverty_guard and dibao on the running totals y (the lane's income after).
void PilotWorker::add_wages_guard_and_dibao(int t, double* __restrict y) {
  const InsuranceModel& ins = base_.insurance;
  const std::size_t n_lanes = lanes_;
  for (const std::vector<double>& w : wage_) {
    const double* __restrict earnings = w.data();
    for (std::size_t i = 0; i < n_lanes; ++i) y[i] += earnings[i];
  }
  if (base_.health.enabled && base_.health.deduct) {  // Stages::out_of_pocket
    const double* __restrict oop = oop_.data();
    for (std::size_t i = 0; i < n_lanes; ++i) y[i] -= oop[i];
  }
  const double* __restrict size = size_.data();
  if (ins.plan[kPovertyGuard].enabled) {
    const double guard_line = ins.guard_threshold * base_.poverty_line[t - 1];
    const double* __restrict enrolled = guard_enrolled_.data();
    for (std::size_t i = 0; i < n_lanes; ++i) {
      const double due =
          std::min(ins.guard_cap, size[i] * std::max(0.0, guard_line - y[i] / size[i]));
      y[i] += due * enrolled[i];
    }
  }
  const double line = base_.income.dibao_line;
  const double* __restrict eligible = dibao_eligible_.data();
  for (std::size_t i = 0; i < n_lanes; ++i) {
    const double v = y[i] / size[i];
    y[i] = (eligible[i] != 0.0) & (v < line) ? line : v;
  }
}

std::vector<std::uint32_t> pilot_order(const Model& base) {
  // Households by laborer count, so a batch's wage draws cover nearly every lane.
  std::vector<std::uint32_t> order(base.households.count());
  std::iota(order.begin(), order.end(), 0u);
  std::stable_sort(order.begin(), order.end(), [&](std::uint32_t a, std::uint32_t b) {
    return base.households.laborers[a] < base.households.laborers[b];
  });
  return order;
}

namespace {

constexpr std::size_t kTailBatches = 2;                 // full batches' worth cut finer
constexpr std::size_t kTailBatch = Kernel::kBatch / 4;  // households in a batch of the tail

// Full batches before the tail.
std::size_t full_batches(std::size_t n) {
  const std::size_t all = (n + Kernel::kBatch - 1) / Kernel::kBatch;
  return all > kTailBatches ? all - kTailBatches : 0;
}

}  // namespace

std::size_t pilot_batch_count(const Model& base) {
  const std::size_t n = base.households.count(), full = full_batches(n);
  return full + (n - full * Kernel::kBatch + kTailBatch - 1) / kTailBatch;
}

std::pair<std::size_t, std::size_t> pilot_batch_range(const Model& base, std::size_t b) {
  const std::size_t n = base.households.count(), full = full_batches(n);
  const std::size_t first =
      b < full ? b * Kernel::kBatch : full * Kernel::kBatch + (b - full) * kTailBatch;
  const std::size_t size = b < full ? Kernel::kBatch : kTailBatch;
  return {std::min(n, first), std::min(n, first + size)};
}

void run_portfolio_pilot(const Model& base, const std::vector<std::pair<int, int>>& portfolios,
                         int replications, rng::Stream stream, int threads,
                         const std::function<void(const PilotBatch&)>& on_batch,
                         const std::function<std::int64_t()>& next_batch) {
  const std::vector<std::uint32_t> order = pilot_order(base);
  const Kernel::Plan plan = make_kernel_plan(base);
  std::vector<std::vector<Units>> units(portfolios.size());
  for (std::size_t p = 0; p < portfolios.size(); ++p)
    units[p] = household_units(base, portfolios[p].first, portfolios[p].second);
  const rng::Key key = rng::make_key(base.seed, stream);
  const std::size_t batches = pilot_batch_count(base);
  auto run_batch = [&](std::size_t b) {
    PilotWorker worker(base, plan, key, portfolios, units);
    const auto [begin, end] = pilot_batch_range(base, b);
    worker.run(std::span<const std::uint32_t>(order).subspan(begin, end - begin), replications,
               on_batch);
  };
  const int workers = threads > 0 ? threads : tbb::this_task_arena::max_concurrency();
  tbb::task_arena arena(workers);
  arena.execute([&] {
    if (!next_batch) {
      tbb::parallel_for(std::size_t{0}, batches, run_batch);
      return;
    }
    // Each worker asks for its next batch when it finishes one.
    tbb::parallel_for(0, workers, [&](int) {
      for (std::int64_t b = next_batch(); b >= 0 && static_cast<std::size_t>(b) < batches;
           b = next_batch())
        run_batch(static_cast<std::size_t>(b));
    });
  });
}

}  // namespace incsim
