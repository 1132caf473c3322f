// Accumulation of one replication's years into the reduce body (MODEL.md section 9).
#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>

#include "incsim/stats.h"

namespace incsim {

ReplicationTable::ReplicationTable(std::int64_t r, int t, int m, const ProtectionModel* protection)
    : replications(r), years(t), markets(m) {
  const auto n = static_cast<std::size_t>(r) * t;
  for (int v = 0; protection && protection->basis && v < kVariants; ++v)
    if (!protection->basis_industries[v].empty())
      for (std::vector<double>& column : basis[v]) column.resize(n);  // NaN below
  for (std::vector<double>* v : year_columns())
    v->assign(n, std::numeric_limits<double>::quiet_NaN());
  prices.assign(n * m, 0.0);
  ever_poor.assign(static_cast<std::size_t>(r), 0.0);
  two_consecutive_poor_ever.assign(static_cast<std::size_t>(r), 0.0);
}

std::vector<std::vector<double>*> ReplicationTable::year_columns() {
  std::vector<std::vector<double>*> out = {&mean_income,
                                           &within_var,
                                           &fgt0,
                                           &fgt1,
                                           &fgt2,
                                           &relapse,
                                           &government_cost,
                                           &dibao,
                                           &negative_farm_share,
                                           &two_consecutive_poor,
                                           &registered_share};
  for (ProductColumns& c : insurance)
    for (auto* v : {&c.premium, &c.subsidy, &c.payout, &c.paid_share}) out.push_back(v);
  for (auto* v : {&health.cost, &health.reimbursed, &health.out_of_pocket,
                  &health.episodes_per_person, &health.impoverished})
    out.push_back(v);
  for (auto& variant : basis)
    for (std::vector<double>& column : variant)
      if (!column.empty()) out.push_back(&column);
  return out;
}

std::vector<const std::vector<double>*> ReplicationTable::year_columns() const {
  const std::vector<std::vector<double>*> columns =
      const_cast<ReplicationTable*>(this)->year_columns();
  return {columns.begin(), columns.end()};
}

template <int FractionBits>
void FixedSum<FractionBits>::overflow(double x) {
  throw std::overflow_error("a sum over replications is not finite or too large (" +
                            std::to_string(x) + "): the scenario produces absurd incomes");
}
template class FixedSum<40>;
template class FixedSum<64>;
template class FixedSum<96>;

std::vector<Grouping> make_groupings(const Model& model) {
  const Households& hh = model.households;
  const KernelTables& kt = model.kernel;
  const std::size_t n = kt.count();
  std::vector<Grouping> out(4);
  out[0].name = "main_industry";
  for (const IndustryModel& ind : model.industries) out[0].labels.push_back(ind.name);
  out[0].labels.push_back("none");
  out[1].name = "village";
  out[1].labels = model.village_labels;
  out[2].name = "poor";
  out[2].labels = {"poor", "other"};
  out[3].name = "insured";
  out[3].labels = {"insured", "uninsured"};
  const auto none = static_cast<std::int32_t>(model.industries.size());
  for (Grouping& g : out) {
    g.group_of.resize(n);
    g.persons.assign(g.labels.size(), 0.0);
  }
  for (std::size_t k = 0; k < n; ++k) {
    const std::uint32_t h = kt.unit[k];
    bool insured = false;
    for (const auto& enrolled : hh.enrolled) insured |= enrolled[h] != 0;
    out[0].group_of[k] = hh.main[h] < 0 ? none : hh.main[h];
    out[1].group_of[k] = hh.village[h];
    out[2].group_of[k] = hh.poor[h] ? 0 : 1;
    out[3].group_of[k] = insured ? 0 : 1;
    for (Grouping& g : out) g.persons[g.group_of[k]] += hh.size[h];
  }
  return out;
}

Accumulator::Accumulator(const Model& model, const std::vector<Grouping>& groupings)
    : protection(model), model_(&model), groupings_(&groupings) {
  const std::size_t n = model.kernel.count();
  const auto t = static_cast<std::size_t>(model.years);
  histogram.assign((t + 1) * quantile_bins::kCount, 0);
  household_income_sum.assign(n * t, IncomeSum{});
  household_poor_count.assign(n * t, 0);
  household_poor_horizon.assign(n, 0);
  block_income_sum_.assign(n * t, 0.0);
  for (const Grouping& g : groupings) {
    const std::size_t cells = g.labels.size() * t;
    group_income_sum.emplace_back(cells);
    group_income_sumsq.emplace_back(cells);
    group_fgt0_sum.emplace_back(cells);
    group_fgt0_sumsq.emplace_back(cells);
    group_oop_sum.emplace_back(cells);
    group_oop_sumsq.emplace_back(cells);
    group_oop_.emplace_back(g.labels.size(), 0.0);
    group_cost_sum.emplace_back(cells);
    group_cost_sumsq.emplace_back(cells);
    group_cost_.emplace_back(g.labels.size(), 0.0);
    group_y_.emplace_back(g.labels.size(), 0.0);
    group_poor_.emplace_back(g.labels.size(), 0.0);
  }
  // Combined cells: households with the same group in every grouping share one cell, so the
  // year loop scatters once per household instead of once per grouping (when there are
  // fewer cells than households; otherwise every household is its own cell).
  std::size_t cells = 1;
  for (const Grouping& g : groupings) cells *= g.labels.size();
  cell_of_.resize(n);
  if (cells <= std::max<std::size_t>(64, n / 2)) {
    for (std::size_t h = 0; h < n; ++h) {
      std::size_t c = 0;
      for (const Grouping& g : groupings) c = c * g.labels.size() + g.group_of[h];
      cell_of_[h] = static_cast<std::int32_t>(c);
    }
  } else {
    cells = n;
    for (std::size_t h = 0; h < n; ++h) cell_of_[h] = static_cast<std::int32_t>(h);
  }
  cell_group_.assign(groupings.size(), std::vector<std::int32_t>(cells, 0));
  for (std::size_t h = 0; h < n; ++h)
    for (std::size_t k = 0; k < groupings.size(); ++k)
      cell_group_[k][cell_of_[h]] = groupings[k].group_of[h];
  cell_y_.assign(cells, 0.0);
  cell_poor_.assign(cells, 0.0);
  if (model.health.enabled) {
    cell_oop_.assign(cells, 0.0);
    cell_cost_.assign(cells, 0.0);
  }
  minimum.assign(t + 1, std::numeric_limits<double>::infinity());
  maximum.assign(t + 1, -std::numeric_limits<double>::infinity());
  prev_poor_.assign(n, 0);
  ever_poor_.assign(n, 0);
  consecutive_ever_.assign(n, 0);
  horizon_sum_.assign(n, 0.0);
}

void Accumulator::begin_replication() {
  std::fill(prev_poor_.begin(), prev_poor_.end(), 0);
  std::fill(ever_poor_.begin(), ever_poor_.end(), 0);
  std::fill(consecutive_ever_.begin(), consecutive_ever_.end(), 0);
  std::fill(horizon_sum_.begin(), horizon_sum_.end(), 0.0);
  protection.begin_replication();
  block_open_ = true;
}

void Accumulator::add_year(std::int64_t r, const YearOutcome& year, ReplicationTable& table) {
  add_batch(year, 0, model_->kernel.count());
  end_year(r, year, table);
}

void Accumulator::end_year(std::int64_t r, const YearOutcome& year, ReplicationTable& table) {
  const int t = year.year;
  YearSums& sums = year_;
  year_open_ = false;
  minimum[t - 1] = lo_;
  maximum[t - 1] = hi_;
  const double mean = sums.weighted_income / static_cast<double>(model_->persons);
  const double* __restrict y = year.income_per_capita.data();
  const double* __restrict size = model_->kernel.size.data();
  for (std::size_t h = 0; h < model_->kernel.count(); ++h) {  // exact within variance
    const double d = y[h] - mean;
    sums.squared_deviation += size[h] * d * d;
  }
  const double persons = static_cast<double>(model_->persons);
  const std::size_t cell = table.at(r, t);
  table.mean_income[cell] = sums.weighted_income / persons;
  table.within_var[cell] = sums.squared_deviation / persons;
  table.fgt0[cell] = sums.poor / persons;
  table.fgt1[cell] = sums.gap / persons;
  table.fgt2[cell] = sums.gap2 / persons;
  table.relapse[cell] = (t >= 2 && sums.not_poor_before > 0.0)
                            ? sums.relapsed / sums.not_poor_before
                            : std::numeric_limits<double>::quiet_NaN();
  table.registered_share[cell] =
      sums.poor > 0.0 ? sums.poor_registered / sums.poor : std::numeric_limits<double>::quiet_NaN();
  table.two_consecutive_poor[cell] =
      t >= 2 ? sums.consecutive / persons : std::numeric_limits<double>::quiet_NaN();
  table.government_cost[cell] = year.government_cost;
  ReplicationTable::HealthColumns& health = table.health;
  health.cost[cell] = year.health.cost;
  health.reimbursed[cell] = year.health.reimbursed;
  health.out_of_pocket[cell] = year.health.out_of_pocket;
  health.episodes_per_person[cell] = year.health.episodes / persons;
  health.impoverished[cell] = year.health.impoverished / persons;
  table.dibao[cell] = year.dibao;
  table.negative_farm_share[cell] = sums.farming > 0.0 ? sums.farm_negative / sums.farming
                                                       : std::numeric_limits<double>::quiet_NaN();
  std::copy(year.prices.begin(), year.prices.end(), table.prices.begin() + cell * table.markets);
  for (int p = 0; p < kProducts; ++p) {
    const ProductYear& py = year.insurance[p];
    ReplicationTable::ProductColumns& c = table.insurance[p];
    c.premium[cell] = py.premium;
    c.subsidy[cell] = py.subsidy;
    c.payout[cell] = py.payout;
    c.paid_share[cell] =
        py.exposed > 0.0 ? py.paid / py.exposed : std::numeric_limits<double>::quiet_NaN();
  }
  for (int v = 0; v < kVariants; ++v) {
    if (table.basis[v][0].empty()) continue;
    const std::size_t n_ind = model_->industries.size();
    for (int k = 0; k < kBasisTallies; ++k) {
      double total = 0.0;
      for (int i : model_->protection.basis_industries[v])
        total += year.basis[(static_cast<std::size_t>(v) * n_ind + i) * kBasisTallies + k];
      table.basis[v][k][cell] = total;
    }
  }
  add_groups(t);
  protection.end_year(year);
}

void Accumulator::open_year(int t) {
  year_ = YearSums{};
  lo_ = minimum[t - 1];
  hi_ = maximum[t - 1];
  std::fill(cell_y_.begin(), cell_y_.end(), 0.0);
  std::fill(cell_poor_.begin(), cell_poor_.end(), 0.0);
  std::fill(cell_oop_.begin(), cell_oop_.end(), 0.0);
  std::fill(cell_cost_.begin(), cell_cost_.end(), 0.0);
  year_open_ = true;
}

namespace {

// cell_a[cell_of[h]] += a[h] and cell_b[cell_of[h]] += b[h] for the positions [begin, begin +
// count), in that order, summed in registers while the cell stays the same (consecutive
// households mostly share one).
void add_by_cell(const double* __restrict a, const double* __restrict b,
                 const std::int32_t* __restrict cell_of, std::size_t begin, std::size_t count,
                 double* __restrict cell_a, double* __restrict cell_b) {
  if (count == 0) return;
  std::int32_t c = cell_of[begin];
  double sum_a = cell_a[c], sum_b = cell_b[c];
  for (std::size_t h = begin; h < begin + count; ++h) {
    if (cell_of[h] != c) {
      cell_a[c] = sum_a;
      cell_b[c] = sum_b;
      c = cell_of[h];
      sum_a = cell_a[c];
      sum_b = cell_b[c];
    }
    sum_a += a[h];
    sum_b += b[h];
  }
  cell_a[c] = sum_a;
  cell_b[c] = sum_b;
}

}  // namespace

// Positions [begin, begin + count) of year t, in kernel order (the batches of a year come in
// order, so every sum runs over the households in kernel order): the person-weighted sums
// (MODEL.md section 9), per-household state and counters, the histogram and the group cells.
void Accumulator::add_batch(const YearOutcome& year, std::size_t begin, std::size_t count) {
  const KernelTables& kt = model_->kernel;
  const std::size_t n = kt.count();
  const int t = year.year;
  if (!year_open_) open_year(t);
  const double z = model_->poverty_line[t - 1];
  const double* __restrict y = year.income_per_capita.data();
  const double* __restrict size = kt.size.data();
  const double* __restrict farm_net = year.farm_net_income.data();
  const std::uint8_t* __restrict farming = kt.farming.data();
  const std::uint8_t* __restrict registered = kt.poor.data();
  std::uint64_t* __restrict hist =
      histogram.data() + static_cast<std::size_t>(t - 1) * quantile_bins::kCount;
  double* __restrict income_sum = block_income_sum_.data() + static_cast<std::size_t>(t - 1) * n;
  std::uint32_t* __restrict poor_count =
      household_poor_count.data() + static_cast<std::size_t>(t - 1) * n;
  // Raw pointers: byte stores could otherwise alias the vectors' own pointers.
  std::uint8_t* __restrict prev = prev_poor_.data();
  std::uint8_t* __restrict ever = ever_poor_.data();
  std::uint8_t* __restrict consecutive_ever = consecutive_ever_.data();
  double* __restrict horizon = horizon_sum_.data();
  double* __restrict cell_y = cell_y_.data();
  double* __restrict cell_poor = cell_poor_.data();
  const std::int32_t* __restrict cell_of = cell_of_.data();
  YearSums s = year_;
  double lo = lo_, hi = hi_;
  for (std::size_t h = begin; h < begin + count; ++h) {
    const double w = size[h];
    const double yh = y[h];
    const bool poor = yh < z;
    s.weighted_income += w * yh;
    if (poor) {
      const double gap = (z - std::max(yh, 0.0)) / z;
      s.poor += w;
      s.gap += w * gap;
      s.gap2 += w * gap * gap;
      if (registered[h]) s.poor_registered += w;
    }
    if (!prev[h]) {
      s.not_poor_before += w;
      if (poor) s.relapsed += w;
    }
    if (farming[h]) {
      s.farming += w;
      if (farm_net[h] < 0.0) s.farm_negative += w;
    }
    if (poor && prev[h]) {
      s.consecutive += w;
      consecutive_ever[h] = 1;
    }
    prev[h] = poor;
    ever[h] |= poor;
    horizon[h] += yh;
    hist[quantile_bins::bin_of(yh)] += static_cast<std::uint64_t>(w);
    lo = std::min(lo, yh);
    hi = std::max(hi, yh);
    income_sum[h] += yh;
    poor_count[h] += poor;
    const std::int32_t c = cell_of[h];
    cell_y[c] += w * yh;
    cell_poor[c] += poor ? w : 0.0;
  }
  year_ = s;
  lo_ = lo;
  hi_ = hi;
  if (!cell_oop_.empty()) {  // health: each cell's out-of-pocket and medical costs
    add_by_cell(year.out_of_pocket.data(), year.medical_cost.data(), cell_of, begin, count,
                cell_oop_.data(), cell_cost_.data());
  }
  protection.add_batch(year, begin, count);
}

// Each grouping's mean income and headcount of the year, from the combined cells.
void Accumulator::add_groups(int t) {
  const auto years = static_cast<std::size_t>(model_->years);
  for (std::size_t k = 0; k < group_y_.size(); ++k) {
    std::fill(group_y_[k].begin(), group_y_[k].end(), 0.0);
    std::fill(group_poor_[k].begin(), group_poor_[k].end(), 0.0);
    const std::int32_t* group_of_cell = cell_group_[k].data();
    for (std::size_t c = 0; c < cell_y_.size(); ++c) {
      group_y_[k][group_of_cell[c]] += cell_y_[c];
      group_poor_[k][group_of_cell[c]] += cell_poor_[c];
    }
    const Grouping& grouping = (*groupings_)[k];
    for (std::size_t g = 0; g < grouping.labels.size(); ++g) {
      if (grouping.persons[g] <= 0.0) continue;
      const double gm = group_y_[k][g] / grouping.persons[g];
      const double gf = group_poor_[k][g] / grouping.persons[g];
      const std::size_t c = g * years + (t - 1);
      group_income_sum[k][c].add(gm);
      group_income_sumsq[k][c].add(gm * gm);
      group_fgt0_sum[k][c].add(gf);
      group_fgt0_sumsq[k][c].add(gf * gf);
    }
    if (cell_oop_.empty()) continue;
    // Health: each group's out-of-pocket and medical costs of the year (group totals, yuan).
    const auto add_totals = [&](const std::vector<double>& cells, std::vector<double>& total,
                                std::vector<IncomeSum>& sum, std::vector<IncomeSum>& sumsq) {
      std::fill(total.begin(), total.end(), 0.0);
      for (std::size_t c = 0; c < cells.size(); ++c) total[group_of_cell[c]] += cells[c];
      for (std::size_t g = 0; g < grouping.labels.size(); ++g) {
        const std::size_t c = g * years + (t - 1);
        sum[c].add(total[g]);
        sumsq[c].add(total[g] * total[g]);
      }
    };
    add_totals(cell_oop_, group_oop_[k], group_oop_sum[k], group_oop_sumsq[k]);
    add_totals(cell_cost_, group_cost_[k], group_cost_sum[k], group_cost_sumsq[k]);
  }
}

void Accumulator::end_replication(std::int64_t r, ReplicationTable& table) {
  const Model& m = *model_;
  const KernelTables& kt = m.kernel;
  const std::size_t n = kt.count();
  const auto years = static_cast<std::size_t>(m.years);
  double mean_line = 0.0;
  for (double z : m.poverty_line) mean_line += z;
  mean_line /= m.years;
  std::uint64_t* hist = histogram.data() + years * quantile_bins::kCount;
  double ever = 0.0, consecutive = 0.0;
  double lo = minimum[years], hi = maximum[years];
  for (std::size_t h = 0; h < n; ++h) {
    const double ybar = horizon_sum_[h] / m.years;
    hist[quantile_bins::bin_of(ybar)] += static_cast<std::uint64_t>(kt.size[h]);
    household_poor_horizon[h] += ybar < mean_line;
    if (ever_poor_[h]) ever += kt.size[h];
    if (consecutive_ever_[h]) consecutive += kt.size[h];
    lo = std::min(lo, ybar);
    hi = std::max(hi, ybar);
  }
  minimum[years] = lo;
  maximum[years] = hi;
  table.ever_poor[static_cast<std::size_t>(r)] = ever / static_cast<double>(m.persons);
  table.two_consecutive_poor_ever[static_cast<std::size_t>(r)] =
      consecutive / static_cast<double>(m.persons);
  protection.end_replication(r);
  ++replications;
}

void Accumulator::end_block() {
  if (!block_open_) return;
  for (std::size_t i = 0; i < block_income_sum_.size(); ++i) {
    household_income_sum[i].add(block_income_sum_[i]);
    block_income_sum_[i] = 0.0;
  }
  block_open_ = false;
}

void Accumulator::merge(const Accumulator& other) {
  replications += other.replications;
  for (std::size_t i = 0; i < histogram.size(); ++i) histogram[i] += other.histogram[i];
  for (std::size_t i = 0; i < household_income_sum.size(); ++i)
    household_income_sum[i].add(other.household_income_sum[i]);
  for (std::size_t i = 0; i < household_poor_count.size(); ++i)
    household_poor_count[i] += other.household_poor_count[i];
  for (std::size_t i = 0; i < household_poor_horizon.size(); ++i)
    household_poor_horizon[i] += other.household_poor_horizon[i];
  auto add = [](auto& a, const auto& b) {
    for (std::size_t k = 0; k < a.size(); ++k)
      for (std::size_t i = 0; i < a[k].size(); ++i) a[k][i].add(b[k][i]);
  };
  add(group_income_sum, other.group_income_sum);
  add(group_income_sumsq, other.group_income_sumsq);
  add(group_fgt0_sum, other.group_fgt0_sum);
  add(group_fgt0_sumsq, other.group_fgt0_sumsq);
  add(group_oop_sum, other.group_oop_sum);
  add(group_oop_sumsq, other.group_oop_sumsq);
  add(group_cost_sum, other.group_cost_sum);
  add(group_cost_sumsq, other.group_cost_sumsq);
  protection.merge(other.protection);
  for (std::size_t i = 0; i < minimum.size(); ++i) {
    minimum[i] = std::min(minimum[i], other.minimum[i]);
    maximum[i] = std::max(maximum[i], other.maximum[i]);
  }
}

}  // namespace incsim
