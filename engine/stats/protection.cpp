// Basis risk and protection value (MODEL.md section 9, v2): the sums over replications and
// their estimates. The kernel's basis_risk stage tallies each replication-year; its
// counterfactuals stage gives each household's income without a variant, whose utility is
// summed here per household and jackknife group.
#include <algorithm>
#include <array>
#include <cmath>
#include <limits>

#include "incsim/rng.h"
#include "incsim/stats.h"

namespace incsim {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kCaraCap = 30.0;  // largest CARA exponent (UtilityTerms)

// The ratio measures of a variant from one replication-year's tallies: (a, b) of missed,
// false_alarm and covered.
void ratio_terms(const double* tally, double (*ab)[2]) {
  ab[0][0] = tally[kMissed];
  ab[0][1] = tally[kLosses];
  ab[1][0] = tally[kFalseAlarms];
  ab[1][1] = tally[kPaid];
  ab[2][0] = tally[kCompensated];
  ab[2][1] = tally[kShortfall];
}

}  // namespace

UtilityTerms::UtilityTerms(const Model& model) {
  const ChoiceSpec& c = model.scenario.choice;
  over_years_ = c.over == UtilityOver::years;
  floor_ = c.floor;
  z1_ = model.poverty_line.empty() ? 0.0 : model.poverty_line[0];
  if (c.utility == UtilityKind::cara) {
    a_ = c.cara;
    kind_ = a_ == 0.0 ? Kind::thousands : Kind::exponential;
    return;
  }
  g_ = c.crra;
  kind_ = g_ == 2.0   ? Kind::reciprocal
          : g_ == 1.0 ? Kind::log
          : g_ == 0.0 ? Kind::ratio
                      : Kind::power;
}

void UtilityTerms::terms(const double* y, std::size_t n, double* out) const {
  switch (kind_) {
    case Kind::reciprocal:
      for (std::size_t i = 0; i < n; ++i) out[i] = floor_ / std::max(y[i], floor_);
      return;
    case Kind::ratio:
      for (std::size_t i = 0; i < n; ++i) out[i] = std::max(y[i], floor_) / floor_;
      return;
    case Kind::log:
      for (std::size_t i = 0; i < n; ++i) out[i] = std::max(y[i], floor_) / floor_;
      rng::log_batch(out, n, out);
      return;
    case Kind::power:
      for (std::size_t i = 0; i < n; ++i) out[i] = std::max(y[i], floor_) / floor_;
      rng::log_batch(out, n, out);
      for (std::size_t i = 0; i < n; ++i) out[i] *= 1.0 - g_;
      rng::exp_batch(out, n, out);
      return;
    case Kind::exponential:
      for (std::size_t i = 0; i < n; ++i) out[i] = std::min(kCaraCap, -a_ * (y[i] - z1_));
      rng::exp_batch(out, n, out);
      return;
    case Kind::thousands:
      for (std::size_t i = 0; i < n; ++i) out[i] = y[i] / 1000.0;
      return;
  }
}

double UtilityTerms::inverse(double x) const {
  switch (kind_) {
    case Kind::reciprocal:
      return floor_ / x;
    case Kind::ratio:
      return floor_ * x;
    case Kind::log:
      return floor_ * std::exp(x);
    case Kind::power:
      return floor_ * std::exp(std::log(x) / (1.0 - g_));
    case Kind::exponential:
      return z1_ - std::log(x) / a_;
    case Kind::thousands:
      return 1000.0 * x;
  }
  return kNaN;
}

ProtectionSums::ProtectionSums(const Model& model) : model_(&model), utility_(model) {
  const ProtectionModel& pm = model.protection;
  const std::size_t n_ind = model.industries.size();
  const auto years = static_cast<std::size_t>(model.years);
  if (pm.basis) basis.assign(kVariants * n_ind * years * 3 * kMoments, IncomeSum{});
  if (!pm.any_value) return;
  const KernelTables& kt = model.kernel;
  for (int v = 0; v < kVariants; ++v)
    if (pm.value[v]) variants.push_back(v);
  for (std::size_t k = 0; k < kt.count(); ++k) {
    bool holds = false;
    for (int v : variants) holds |= kt.holds[v][k] != 0;
    if (!holds) continue;
    members.push_back(static_cast<std::uint32_t>(k));
    held_.push_back(1);  // column 0: the income as simulated
    for (int v : variants) held_.push_back(kt.holds[v][k]);
  }
  value.assign(members.size() * columns() * kGroups, ValueSum{});
  replication_.assign(members.size() * columns(), 0.0);
  weights_ = utility_.over_years()
                 ? discount_weights(model.scenario.choice.discount_rate, model.years)
                 : std::vector<double>(years, 1.0 / model.years);
}

std::size_t ProtectionSums::basis_cell(int v, int i, int t, int measure) const {
  const std::size_t n_ind = model_->industries.size();
  const auto years = static_cast<std::size_t>(model_->years);
  return (((static_cast<std::size_t>(v) * n_ind + i) * years + (t - 1)) * 3 + measure) * kMoments;
}

void ProtectionSums::begin_replication() {
  std::fill(replication_.begin(), replication_.end(), 0.0);
}

// Each member's weighted utility terms (over: years) or weighted incomes (horizon mean) of
// positions [begin, begin + count), column by column, for the variants it holds (the others
// stay 0 and are never read). What a position holds is uniform over a kernel segment, so each
// segment's part is added on its own.
void ProtectionSums::add_batch(const YearOutcome& year, std::size_t begin, std::size_t count) {
  if (members.empty()) return;
  const std::vector<KernelSegment>& segments = model_->kernel.segments;
  auto seg = std::upper_bound(segments.begin(), segments.end(), begin,
                              [](std::size_t p, const KernelSegment& s) { return p < s.end; });
  for (; seg != segments.end() && seg->begin < begin + count; ++seg) {
    const std::size_t lo = std::max(begin, seg->begin), hi = std::min(begin + count, seg->end);
    if (seg->holds) add_run(year, lo, hi - lo, seg->holds);
  }
}

void ProtectionSums::add_run(const YearOutcome& year, std::size_t begin, std::size_t m,
                             unsigned holds) {
  const auto first = std::lower_bound(members.begin(), members.end(), begin);
  const std::size_t j0 = static_cast<std::size_t>(first - members.begin());
  const std::size_t cols = columns();
  const double w = weights_[static_cast<std::size_t>(year.year - 1)];
  if (gather_.size() < m) gather_.resize(m);
  double* g = gather_.data();
  for (std::size_t c = 0; c < cols; ++c) {
    if (c > 0 && !(holds >> variants[c - 1] & 1u)) continue;
    const double* y =
        c == 0 ? year.income_per_capita.data() : year.income_without[variants[c - 1]].data();
    std::copy(y + begin, y + begin + m, g);  // members [j0, j0 + m) are positions [begin, +m)
    if (utility_.over_years()) utility_.terms(g, m, g);
    double* acc = replication_.data() + j0 * cols + c;
    for (std::size_t j = 0; j < m; ++j) acc[j * cols] += w * g[j];
  }
}

// The basis-risk tallies of the year: each ratio's numerator and denominator moments.
void ProtectionSums::end_year(const YearOutcome& year) {
  if (basis.empty()) return;
  const ProtectionModel& pm = model_->protection;
  const std::size_t n_ind = model_->industries.size();
  for (int v = 0; v < kVariants; ++v)
    for (int i : pm.basis_industries[v]) {
      if (!model_->industries[i].harvest[year.year - 1]) continue;
      const double* tally =
          year.basis.data() + (static_cast<std::size_t>(v) * n_ind + i) * kBasisTallies;
      double ab[3][2];
      ratio_terms(tally, ab);
      for (int k = 0; k < 3; ++k) {
        IncomeSum* cell = basis.data() + basis_cell(v, i, year.year, k);
        const double a = ab[k][0], b = ab[k][1];
        cell[0].add(a);
        cell[1].add(b);
        cell[2].add(a * a);
        cell[3].add(b * b);
        cell[4].add(a * b);
      }
    }
}

void ProtectionSums::end_replication(std::int64_t r) {
  if (members.empty()) return;
  const auto group = static_cast<std::size_t>(r % kGroups);
  ++group_replications[group];
  // Horizon mean: the replication holds each member's mean income; its term is the utility.
  if (!utility_.over_years())
    utility_.terms(replication_.data(), replication_.size(), replication_.data());
  ValueSum* row = value.data() + group * replication_.size();  // contiguous per group
  for (std::size_t k = 0; k < replication_.size(); ++k)
    if (held_[k]) row[k].add(replication_[k]);
}

void ProtectionSums::merge(const ProtectionSums& other) {
  for (std::size_t k = 0; k < basis.size(); ++k) basis[k].add(other.basis[k]);
  for (std::size_t k = 0; k < value.size(); ++k) value[k].add(other.value[k]);
  for (int g = 0; g < kGroups; ++g) group_replications[g] += other.group_replications[g];
}

std::vector<BasisRiskResult> basis_risk_results(const Model& model, const ProtectionSums& sums,
                                                std::int64_t replications) {
  std::vector<BasisRiskResult> out;
  if (sums.basis.empty()) return out;
  const double n = static_cast<double>(replications);
  for (int v = 0; v < kVariants; ++v) {
    const std::vector<int>& industries = model.protection.basis_industries[v];
    if (industries.empty()) continue;
    BasisRiskResult res;
    res.name = variant_name(v);
    Estimate* measures[3] = {&res.missed, &res.false_alarm, &res.covered};
    for (int i : industries) {
      res.industries.push_back(model.industries[i].name);
      for (int t = 1; t <= model.years; ++t)
        for (int k = 0; k < 3; ++k) {
          const IncomeSum* cell = sums.basis.data() + sums.basis_cell(v, i, t, k);
          const double a = cell[0].value(), b = cell[1].value();
          const double aa = cell[2].value(), bb = cell[3].value(), ab = cell[4].value();
          double ratio = kNaN, se = kNaN;
          if (model.industries[i].harvest[t - 1] && b > 0.0) {
            ratio = a / b;
            // Ratio estimator over replications: var = sum (a_r - R b_r)^2 / (n (n - 1) bbar^2).
            if (n > 1.0) {
              const double ss = std::max(0.0, aa - 2.0 * ratio * ab + ratio * ratio * bb);
              const double mean_b = b / n;
              se = std::sqrt(ss / (n * (n - 1.0))) / mean_b;
            }
          }
          measures[k]->mean.push_back(ratio);
          measures[k]->se.push_back(se);
        }
    }
    out.push_back(std::move(res));
  }
  return out;
}

// CE gain of each variant per poor group: sum over holders h of size_h (CE_with,h - CE_v,h)
// over their persons, CE = inverse(mean term); the standard error by the delete-a-group
// jackknife over the kGroups replication groups (groups without replications skipped).
std::vector<ProtectionResult> protection_results(const Model& model, const ProtectionSums& sums) {
  std::vector<ProtectionResult> out;
  if (sums.variants.empty()) return out;
  const KernelTables& kt = model.kernel;
  const UtilityTerms& u = sums.utility();
  const std::size_t cols = sums.columns();
  constexpr int G = ProtectionSums::kGroups;
  std::int64_t total = 0;
  std::vector<int> live;
  for (int g = 0; g < G; ++g) {
    total += sums.group_replications[g];
    if (sums.group_replications[g] > 0) live.push_back(g);
  }
  // CE of member j, column c, over every replication (drop = -1) or all but group `drop`.
  auto ce = [&](std::size_t j, std::size_t c, int drop) {
    ProtectionSums::ValueSum s;
    std::int64_t reps = 0;
    for (int g = 0; g < G; ++g) {
      if (g == drop) continue;
      s.add(sums.value[(static_cast<std::size_t>(g) * sums.members.size() + j) * cols + c]);
      reps += sums.group_replications[g];
    }
    return reps > 0 ? u.inverse(s.value() / static_cast<double>(reps)) : kNaN;
  };
  for (std::size_t c = 1; c < cols; ++c) {
    const int v = sums.variants[c - 1];
    ProtectionResult res;
    res.name = variant_name(v);
    res.holders.assign(2, 0.0);
    // gain[d][group]: weighted sum of gains with replication group live[d] left out (d <
    // live.size()) or with every replication (d = live.size()).
    std::vector<std::array<double, 2>> gain(live.size() + 1, {0.0, 0.0});
    for (std::size_t j = 0; j < sums.members.size(); ++j) {
      const std::uint32_t k = sums.members[j];
      if (!kt.holds[v][k]) continue;
      const int group = kt.poor[k] ? 0 : 1;
      const double w = kt.size[k];
      res.holders[group] += w;
      for (std::size_t d = 0; d <= live.size(); ++d) {
        const int drop = d < live.size() ? live[d] : -1;
        gain[d][group] += w * (ce(j, 0, drop) - ce(j, c, drop));
      }
    }
    const double b = static_cast<double>(live.size());
    for (int group = 0; group < 2; ++group) {
      const double persons = res.holders[group];
      if (!(persons > 0.0) || total == 0) {
        res.ce_gain.mean.push_back(kNaN);
        res.ce_gain.se.push_back(kNaN);
        continue;
      }
      res.ce_gain.mean.push_back(gain[live.size()][group] / persons);
      if (live.size() < 2) {
        res.ce_gain.se.push_back(kNaN);
        continue;
      }
      double mean = 0.0;
      for (std::size_t d = 0; d < live.size(); ++d) mean += gain[d][group] / persons;
      mean /= b;
      double ss = 0.0;
      for (std::size_t d = 0; d < live.size(); ++d) {
        const double e = gain[d][group] / persons - mean;
        ss += e * e;
      }
      res.ce_gain.se.push_back(std::sqrt((b - 1.0) / b * ss));
    }
    out.push_back(std::move(res));
  }
  return out;
}

}  // namespace incsim
