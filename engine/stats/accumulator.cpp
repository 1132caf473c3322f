// Accumulation of one replication's years into the reduce body (MODEL.md section 9).
#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>

#include "incsim/stats.h"

namespace incsim {
namespace {

// Sums over households run in kWays interleaved partial sums (position k goes to k % kWays),
// combined as (s0 + s1) + (s2 + s3): a fixed order, so the bits depend only on the kernel
// order, and the adds pipeline instead of waiting on one chain.
constexpr std::size_t kWays = 4;

struct Ways {
  double s[kWays] = {};
  double total() const { return (s[0] + s[1]) + (s[2] + s[3]); }
};

}  // namespace

ReplicationTable::ReplicationTable(std::int64_t r, int t, int m)
    : replications(r), years(t), markets(m) {
  const auto n = static_cast<std::size_t>(r) * t;
  for (auto* v : {&mean_income, &within_var, &fgt0, &fgt1, &fgt2, &relapse, &government_cost,
                  &dibao, &negative_farm_share, &two_consecutive_poor})
    v->assign(n, std::numeric_limits<double>::quiet_NaN());
  for (ProductColumns& c : insurance)
    for (auto* v : {&c.premium, &c.subsidy, &c.payout, &c.paid_share})
      v->assign(n, std::numeric_limits<double>::quiet_NaN());
  prices.assign(n * m, 0.0);
  ever_poor.assign(static_cast<std::size_t>(r), 0.0);
  two_consecutive_poor_ever.assign(static_cast<std::size_t>(r), 0.0);
}

template <int FractionBits>
void FixedSum<FractionBits>::overflow(double x) {
  throw std::overflow_error("a sum over replications is not finite or too large (" +
                            std::to_string(x) + "): the scenario produces absurd incomes");
}
template class FixedSum<40>;
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
    : model_(&model), groupings_(&groupings) {
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
  cell_y_.assign(cells * kWays, 0.0);
  cell_poor_.assign(cells * kWays, 0.0);
  block_histogram_.assign((t + 1) * kWays * quantile_bins::kCount, 0);
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
  block_open_ = true;
}

void Accumulator::add_year(std::int64_t r, const YearOutcome& year, ReplicationTable& table) {
  const int t = year.year;
  const YearSums sums = year_sums(year);
  add_households(year);
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
  table.two_consecutive_poor[cell] =
      t >= 2 ? sums.consecutive / persons : std::numeric_limits<double>::quiet_NaN();
  table.government_cost[cell] = year.government_cost;
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
  add_groups(t);
}

// The person-weighted sums of the year (MODEL.md section 9). Sums of persons are integers,
// exact in any order; the others are summed in Ways.
Accumulator::YearSums Accumulator::year_sums(const YearOutcome& year) const {
  const KernelTables& kt = model_->kernel;
  const std::size_t n = kt.count();
  const double z = model_->poverty_line[year.year - 1];
  const double* __restrict y = year.income_per_capita.data();
  const double* __restrict size = kt.size.data();
  const double* __restrict farm_net = year.farm_net_income.data();
  const std::uint8_t* __restrict was_poor = prev_poor_.data();
  const std::uint8_t* __restrict farming = kt.farming.data();
  Ways wy, gap, gap2, poor, relapsed, before, farm, farm_neg, consecutive;
  for (std::size_t h = 0; h < n; ++h) {
    const std::size_t k = h % kWays;
    const double w = size[h];
    const double is_poor = static_cast<double>(y[h] < z);
    const double was = static_cast<double>(was_poor[h]);
    const double g = (z - std::max(y[h], 0.0)) / z * is_poor;
    wy.s[k] += w * y[h];
    gap.s[k] += w * g;
    gap2.s[k] += w * g * g;
    poor.s[k] += w * is_poor;
    before.s[k] += w * (1.0 - was);
    relapsed.s[k] += w * (1.0 - was) * is_poor;
    consecutive.s[k] += w * was * is_poor;
    const double farms = static_cast<double>(farming[h]);
    farm.s[k] += w * farms;
    farm_neg.s[k] += w * farms * static_cast<double>(farm_net[h] < 0.0);
  }
  YearSums out;
  out.weighted_income = wy.total();
  out.gap = gap.total();
  out.gap2 = gap2.total();
  out.poor = poor.total();
  out.not_poor_before = before.total();
  out.relapsed = relapsed.total();
  out.consecutive = consecutive.total();
  out.farming = farm.total();
  out.farm_negative = farm_neg.total();
  const double mean = out.weighted_income / static_cast<double>(model_->persons);
  Ways dev2;  // second pass: the exact within-replication variance
  for (std::size_t h = 0; h < n; ++h) {
    const double d = y[h] - mean;
    dev2.s[h % kWays] += size[h] * d * d;
  }
  out.squared_deviation = dev2.total();
  return out;
}

// Per-household state and counters, the histogram and the group cells of the year. The
// histogram and cells have kWays interleaved copies, so neighbours (who often share a bin or
// a cell in kernel order) do not wait on each other's increments.
void Accumulator::add_households(const YearOutcome& year) {
  const KernelTables& kt = model_->kernel;
  const std::size_t n = kt.count();
  const int t = year.year;
  const double z = model_->poverty_line[t - 1];
  const double* __restrict y = year.income_per_capita.data();
  const double* __restrict size = kt.size.data();
  double* __restrict income_sum = block_income_sum_.data() + static_cast<std::size_t>(t - 1) * n;
  std::uint32_t* __restrict poor_count =
      household_poor_count.data() + static_cast<std::size_t>(t - 1) * n;
  for (std::size_t h = 0; h < n; ++h) {
    const std::uint8_t poor = y[h] < z;
    consecutive_ever_[h] |= poor & prev_poor_[h];
    prev_poor_[h] = poor;
    ever_poor_[h] |= poor;
    horizon_sum_[h] += y[h];
    income_sum[h] += y[h];
    poor_count[h] += poor;
  }
  std::uint32_t* hist =
      block_histogram_.data() + static_cast<std::size_t>(t - 1) * kWays * quantile_bins::kCount;
  for (std::size_t h = 0; h < n; ++h)
    hist[(h % kWays) * quantile_bins::kCount + quantile_bins::bin_of(y[h])] +=
        static_cast<std::uint32_t>(size[h]);
  const std::size_t cells = cell_y_.size() / kWays;
  std::fill(cell_y_.begin(), cell_y_.end(), 0.0);
  std::fill(cell_poor_.begin(), cell_poor_.end(), 0.0);
  for (std::size_t h = 0; h < n; ++h) {
    const std::size_t c = (h % kWays) * cells + static_cast<std::size_t>(cell_of_[h]);
    cell_y_[c] += size[h] * y[h];
    cell_poor_[c] += y[h] < z ? size[h] : 0.0;
  }
  double lo[kWays], hi[kWays];
  for (std::size_t k = 0; k < kWays; ++k) lo[k] = minimum[t - 1], hi[k] = maximum[t - 1];
  for (std::size_t h = 0; h < n; ++h) {
    lo[h % kWays] = std::min(lo[h % kWays], y[h]);
    hi[h % kWays] = std::max(hi[h % kWays], y[h]);
  }
  minimum[t - 1] = std::min(std::min(lo[0], lo[1]), std::min(lo[2], lo[3]));
  maximum[t - 1] = std::max(std::max(hi[0], hi[1]), std::max(hi[2], hi[3]));
}

// Each grouping's mean income and headcount of the year, from the combined cells.
void Accumulator::add_groups(int t) {
  const auto years = static_cast<std::size_t>(model_->years);
  for (std::size_t k = 0; k < group_y_.size(); ++k) {
    std::fill(group_y_[k].begin(), group_y_[k].end(), 0.0);
    std::fill(group_poor_[k].begin(), group_poor_[k].end(), 0.0);
    const std::int32_t* group_of_cell = cell_group_[k].data();
    const std::size_t cells = cell_y_.size() / kWays;
    for (std::size_t c = 0; c < cells; ++c) {
      const double cy =
          (cell_y_[c] + cell_y_[cells + c]) + (cell_y_[2 * cells + c] + cell_y_[3 * cells + c]);
      const double cp = (cell_poor_[c] + cell_poor_[cells + c]) +
                        (cell_poor_[2 * cells + c] + cell_poor_[3 * cells + c]);
      group_y_[k][group_of_cell[c]] += cy;
      group_poor_[k][group_of_cell[c]] += cp;
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
  std::uint32_t* hist = block_histogram_.data() + years * kWays * quantile_bins::kCount;
  double ever = 0.0, consecutive = 0.0;
  double lo = minimum[years], hi = maximum[years];
  for (std::size_t h = 0; h < n; ++h) {
    const double ybar = horizon_sum_[h] / m.years;
    hist[(h % kWays) * quantile_bins::kCount + quantile_bins::bin_of(ybar)] +=
        static_cast<std::uint32_t>(kt.size[h]);
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
  ++replications;
}

void Accumulator::end_block() {
  if (!block_open_) return;
  // Histogram copies: integer counts, exact in any order.
  for (std::size_t row = 0; row < histogram.size() / quantile_bins::kCount; ++row)
    for (std::size_t k = 0; k < kWays; ++k) {
      std::uint32_t* copy = block_histogram_.data() + (row * kWays + k) * quantile_bins::kCount;
      std::uint64_t* into = histogram.data() + row * quantile_bins::kCount;
      for (int b = 0; b < quantile_bins::kCount; ++b) into[b] += copy[b];
      std::fill(copy, copy + quantile_bins::kCount, 0u);
    }
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
  for (std::size_t i = 0; i < minimum.size(); ++i) {
    minimum[i] = std::min(minimum[i], other.minimum[i]);
    maximum[i] = std::max(maximum[i], other.maximum[i]);
  }
}

}  // namespace incsim
