// Accumulators -> estimates with Monte Carlo standard errors (MODEL.md section 9).
#include <algorithm>
#include <cmath>
#include <limits>

#include "incsim/stats.h"

namespace incsim {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// Inverse-CDF quantile (smallest bin whose cumulative weight reaches p * total).
int quantile_bin(const std::uint64_t* counts, double total, double p) {
  const double target = p * total;
  double cumulative = 0.0;
  for (int b = 0; b < quantile_bins::kCount; ++b) {
    cumulative += static_cast<double>(counts[b]);
    if (counts[b] > 0 && cumulative >= target) return b;
  }
  return quantile_bins::kCount - 1;
}

double row_total(const std::uint64_t* counts) {
  double total = 0.0;
  for (int b = 0; b < quantile_bins::kCount; ++b) total += static_cast<double>(counts[b]);
  return total;
}

// Exact order statistic of a sample: smallest x with empirical CDF >= p.
double sample_quantile(std::vector<double> values, double p) {
  std::sort(values.begin(), values.end());
  const auto k = static_cast<std::size_t>(std::ceil(p * values.size()));
  return values[std::min(values.size() - 1, k == 0 ? 0 : k - 1)];
}

// Histogram of the pooled income per year on edges that are fine-bin boundaries, so each
// count is exact: a linear grid between the pooled 0.5% and 99.5% quantiles of all years,
// with the outer bins extended to the smallest and largest values seen.
void coarse_histogram(const Model& model, const Accumulator& acc, RunResults& out) {
  const int years = model.years;
  std::vector<std::uint64_t> pooled(quantile_bins::kCount, 0);
  for (int t = 0; t < years; ++t)
    for (int b = 0; b < quantile_bins::kCount; ++b)
      pooled[b] += acc.histogram[static_cast<std::size_t>(t) * quantile_bins::kCount + b];
  const double total = row_total(pooled.data());
  const int lo_bin = quantile_bin(pooled.data(), total, 0.005);
  const int hi_bin = quantile_bin(pooled.data(), total, 0.995);
  const double lo = quantile_bins::lower_edge(lo_bin);
  const double hi = quantile_bins::upper_edge(hi_bin);
  const int bins = model.reporting.histogram_bins;
  std::vector<double> edges;
  double min_all = acc.minimum[0], max_all = acc.maximum[0];
  for (int t = 0; t < years; ++t) {
    min_all = std::min(min_all, acc.minimum[t]);
    max_all = std::max(max_all, acc.maximum[t]);
  }
  edges.push_back(quantile_bins::lower_edge(quantile_bins::bin_of(min_all)));
  for (int k = 1; k < bins; ++k) {
    const double x = lo + (hi - lo) * k / bins;
    const double snapped = quantile_bins::lower_edge(quantile_bins::bin_of(x));
    if (snapped > edges.back()) edges.push_back(snapped);
  }
  const double top = quantile_bins::upper_edge(quantile_bins::bin_of(max_all));
  if (top > edges.back()) edges.push_back(top);
  if (edges.size() < 2) edges.push_back(edges.back() + 1.0);
  const std::size_t nb = edges.size() - 1;
  out.bin_edges = edges;
  out.histogram.assign(static_cast<std::size_t>(years) * nb, 0.0);
  for (int t = 0; t < years; ++t) {
    const std::uint64_t* row =
        acc.histogram.data() + static_cast<std::size_t>(t) * quantile_bins::kCount;
    const double row_sum = row_total(row);
    for (int b = 0; b < quantile_bins::kCount; ++b) {
      if (row[b] == 0) continue;
      const double left = quantile_bins::lower_edge(b);
      auto it = std::upper_bound(edges.begin(), edges.end(), left);
      std::size_t k = it == edges.begin() ? 0 : static_cast<std::size_t>(it - edges.begin()) - 1;
      k = std::min(k, nb - 1);
      out.histogram[static_cast<std::size_t>(t) * nb + k] += static_cast<double>(row[b]) / row_sum;
    }
  }
}

template <class Sum>
Estimate estimate_from_sums(const std::vector<Sum>& sums, const std::vector<Sum>& sumsqs, double n,
                            const std::vector<double>& persons, int years) {
  Estimate e;
  e.mean.assign(sums.size(), kNaN);
  e.se.assign(sums.size(), kNaN);
  for (std::size_t i = 0; i < sums.size(); ++i) {
    if (persons[i / years] <= 0.0) continue;
    const double sum = sums[i].value(), sumsq = sumsqs[i].value();
    e.mean[i] = sum / n;
    if (n > 1) {
      const double var = std::max(0.0, (sumsq - sum * sum / n) / (n - 1));
      e.se[i] = std::sqrt(var / n);
    }
  }
  return e;
}

// Mean and SE of each year's column of an (R, T) table.
Estimate per_year(const std::vector<double>& table, std::int64_t r, int years) {
  Estimate e;
  for (int t = 0; t < years; ++t) {
    const Estimate one = mean_and_se(table, years, t, static_cast<std::size_t>(r));
    e.mean.push_back(one.mean[0]);
    e.se.push_back(one.se[0]);
  }
  return e;
}

// E[payout] / E[premium] per year with the delta-method standard error of a ratio of means.
Estimate loss_ratio(const std::vector<double>& payout, const std::vector<double>& premium,
                    std::int64_t reps, int years) {
  Estimate e;
  const Estimate pay = per_year(payout, reps, years), prem = per_year(premium, reps, years);
  for (int t = 0; t < years; ++t) {
    const double ratio = prem.mean[t] > 0.0 ? pay.mean[t] / prem.mean[t] : kNaN;
    std::vector<double> residual(static_cast<std::size_t>(reps));
    for (std::int64_t r = 0; r < reps; ++r) {
      const std::size_t c = static_cast<std::size_t>(r) * years + t;
      residual[r] = (payout[c] - ratio * premium[c]) / prem.mean[t];
    }
    e.mean.push_back(ratio);
    e.se.push_back(std::isnan(ratio) ? kNaN : mean_and_se(residual, 1, 0, residual.size()).se[0]);
  }
  return e;
}

InsuranceResult insurance_result(const Model& model, const ReplicationTable& table, int p) {
  const std::int64_t reps = table.replications;
  const int years = model.years;
  const ReplicationTable::ProductColumns& c = table.insurance[p];
  InsuranceResult out;
  out.name = kProductTable[p].name;
  out.premium = per_year(c.premium, reps, years);
  out.subsidy = per_year(c.subsidy, reps, years);
  out.payout = per_year(c.payout, reps, years);
  out.loss_ratio = loss_ratio(c.payout, c.premium, reps, years);
  out.paid_share = per_year(c.paid_share, reps, years);
  std::vector<double> result(c.premium.size());
  for (std::size_t i = 0; i < result.size(); ++i) result[i] = c.premium[i] - c.payout[i];
  out.insurer_result = per_year(result, reps, years);
  out.exposed = model.insurance.plan[p].exposed;
  if (p == kIncomeIndex) {
    for (int i : model.reporting.index_covers) {
      out.rate_industries.push_back(model.industries[i].name);
      for (int t = 0; t < years; ++t)
        out.rate_used.push_back(model.insurance.rate_used[static_cast<std::size_t>(i) * years + t]);
    }
  }
  return out;
}

}  // namespace

Estimate mean_and_se(const std::vector<double>& values, std::size_t stride, std::size_t offset,
                     std::size_t count) {
  double n = 0.0, sum = 0.0;
  for (std::size_t i = 0; i < count; ++i) {
    const double v = values[offset + i * stride];
    if (std::isnan(v)) continue;
    n += 1.0;
    sum += v;
  }
  if (n == 0.0) return {{kNaN}, {kNaN}};
  const double mean = sum / n;
  double ss = 0.0;
  for (std::size_t i = 0; i < count; ++i) {
    const double v = values[offset + i * stride];
    if (!std::isnan(v)) ss += (v - mean) * (v - mean);
  }
  const double se = n > 1.0 ? std::sqrt(ss / (n - 1.0) / n) : kNaN;
  return {{mean}, {se}};
}

RunResults finalize(const Model& model, const Accumulator& acc, const ReplicationTable& table,
                    const std::vector<Grouping>& groupings) {
  RunResults out;
  const int years = model.years;
  const std::int64_t reps = table.replications;
  const std::size_t n = model.households.count();
  const auto& quantiles = model.reporting.quantiles;
  const std::size_t m_count = model.markets.size();
  out.replications = reps;
  out.years = years;
  out.quantile_levels = quantiles;
  out.poverty_line = model.poverty_line;
  for (int t = 0; t < years; ++t) out.calendar_years.push_back(model.reporting.start_year + t);

  // Prices (T, M): mean and exact 5% / 95% points over replications.
  for (const MarketModel& mk : model.markets) out.market_names.push_back(mk.name);
  out.price_mean.assign(years * m_count, 0.0);
  out.price_p05 = out.price_p95 = out.price_mean;
  for (int t = 0; t < years; ++t) {
    for (std::size_t m = 0; m < m_count; ++m) {
      std::vector<double> v(static_cast<std::size_t>(reps));
      for (std::int64_t r = 0; r < reps; ++r) v[r] = table.prices[table.at(r, t + 1) * m_count + m];
      double s = 0.0;
      for (double x : v) s += x;
      out.price_mean[t * m_count + m] = s / static_cast<double>(reps);
      out.price_p05[t * m_count + m] = sample_quantile(v, 0.05);
      out.price_p95[t * m_count + m] = sample_quantile(std::move(v), 0.95);
    }
  }

  // Income: the pooled mean is the mean of replication means (equal person totals), the
  // pooled variance is mean within-variance plus the variance of replication means.
  out.income_mean = per_year(table.mean_income, reps, years);
  for (int t = 0; t < years; ++t) {
    double within = 0.0, between = 0.0;
    for (std::int64_t r = 0; r < reps; ++r) {
      within += table.within_var[table.at(r, t + 1)];
      const double d = table.mean_income[table.at(r, t + 1)] - out.income_mean.mean[t];
      between += d * d;
    }
    out.income_std.push_back(std::sqrt((within + between) / static_cast<double>(reps)));
  }
  auto quantile_row = [&](int row, std::vector<double>& values, std::vector<double>& bounds) {
    const std::uint64_t* counts =
        acc.histogram.data() + static_cast<std::size_t>(row) * quantile_bins::kCount;
    const double total = row_total(counts);
    for (double p : quantiles) {
      const int b = quantile_bin(counts, total, p);
      values.push_back(quantile_bins::value(b));
      bounds.push_back(quantile_bins::error_bound(b));
    }
  };
  for (int t = 0; t < years; ++t)
    quantile_row(t, out.income_quantiles, out.income_quantile_error_bound);
  quantile_row(years, out.horizon_mean_quantiles, out.horizon_mean_quantile_error_bound);
  out.income_min.assign(acc.minimum.begin(), acc.minimum.begin() + years);
  out.income_max.assign(acc.maximum.begin(), acc.maximum.begin() + years);
  coarse_histogram(model, acc, out);

  // Poverty.
  out.fgt0 = per_year(table.fgt0, reps, years);
  out.fgt1 = per_year(table.fgt1, reps, years);
  out.fgt2 = per_year(table.fgt2, reps, years);
  out.relapse = per_year(table.relapse, reps, years);
  out.registered_share = per_year(table.registered_share, reps, years);
  out.negative_farm_income = per_year(table.negative_farm_share, reps, years);
  out.ever_poor = mean_and_se(table.ever_poor, 1, 0, static_cast<std::size_t>(reps));
  out.two_consecutive_poor = per_year(table.two_consecutive_poor, reps, years);
  out.two_consecutive_poor_ever =
      mean_and_se(table.two_consecutive_poor_ever, 1, 0, static_cast<std::size_t>(reps));
  for (int t = 0; t < years; ++t) {
    std::vector<double> column(static_cast<std::size_t>(reps));
    for (std::int64_t r = 0; r < reps; ++r) column[r] = table.fgt0[table.at(r, t + 1)];
    for (double p : quantiles) out.fgt0_quantiles.push_back(sample_quantile(column, p));
  }
  const double exit_target = model.reporting.exit_target;
  for (int t = 0; t < years; ++t) {
    double above = 0.0;
    for (std::int64_t r = 0; r < reps; ++r) above += table.fgt0[table.at(r, t + 1)] > exit_target;
    const double p = above / static_cast<double>(reps);
    out.target_risk.mean.push_back(p);
    out.target_risk.se.push_back(std::sqrt(p * (1.0 - p) / static_cast<double>(reps)));
  }

  // Fiscal.
  out.government_cost = per_year(table.government_cost, reps, years);
  out.dibao = per_year(table.dibao, reps, years);
  for (int p = 0; p < kProducts; ++p)
    if (model.insurance.plan[p].enabled) out.insurance.push_back(insurance_result(model, table, p));
  out.basis_risk = basis_risk_results(model, acc.protection, acc.replications);
  out.protection = protection_results(model, acc.protection);
  out.health_enabled = model.health.enabled;
  if (out.health_enabled) {
    const ReplicationTable::HealthColumns& h = table.health;
    out.health.cost = per_year(h.cost, reps, years);
    out.health.reimbursed = per_year(h.reimbursed, reps, years);
    out.health.out_of_pocket = per_year(h.out_of_pocket, reps, years);
    out.health.episodes_per_person = per_year(h.episodes_per_person, reps, years);
    out.health.impoverished = per_year(h.impoverished, reps, years);
  }

  // Households and vulnerability.
  // The accumulator is (T, K) in kernel order; the results are (H, T) in population order.
  const Households& hh = model.households;
  const double r_count = static_cast<double>(reps);
  out.household_mean_income.resize(n * years);
  out.household_vulnerability.resize(n * years);
  out.household_vulnerability_horizon.resize(n);
  out.vulnerable_share.assign(years, 0.0);
  double horizon_share = 0.0;
  for (std::size_t h = 0; h < n; ++h) {
    const std::size_t k = model.kernel.position[h];
    for (int t = 0; t < years; ++t) {
      const std::size_t c = h * years + t, a = static_cast<std::size_t>(t) * n + k;
      out.household_mean_income[c] = acc.household_income_sum[a].value() / r_count;
      out.household_vulnerability[c] = acc.household_poor_count[a] / r_count;
      if (out.household_vulnerability[c] >= 0.5) out.vulnerable_share[t] += hh.size[h];
    }
    out.household_vulnerability_horizon[h] = acc.household_poor_horizon[k] / r_count;
    if (out.household_vulnerability_horizon[h] >= 0.5) horizon_share += hh.size[h];
  }
  for (double& v : out.vulnerable_share) v /= static_cast<double>(model.persons);
  out.vulnerable_share_horizon = horizon_share / static_cast<double>(model.persons);

  // Groups.
  for (std::size_t k = 0; k < groupings.size(); ++k) {
    GroupResult g;
    g.name = groupings[k].name;
    g.labels = groupings[k].labels;
    g.persons = groupings[k].persons;
    g.income_mean = estimate_from_sums(acc.group_income_sum[k], acc.group_income_sumsq[k], r_count,
                                       g.persons, years);
    g.fgt0 = estimate_from_sums(acc.group_fgt0_sum[k], acc.group_fgt0_sumsq[k], r_count, g.persons,
                                years);
    if (model.health.enabled) {
      g.health_out_of_pocket = estimate_from_sums(acc.group_oop_sum[k], acc.group_oop_sumsq[k],
                                                  r_count, g.persons, years);
      g.health_cost = estimate_from_sums(acc.group_cost_sum[k], acc.group_cost_sumsq[k], r_count,
                                         g.persons, years);
    }
    out.groups.push_back(std::move(g));
  }

  out.per_replication = table;
  return out;
}

}  // namespace incsim
