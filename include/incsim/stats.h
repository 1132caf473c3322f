// Statistics (MODEL.md section 9): mergeable accumulators fed by the kernel one
// replication-year at a time, and their finalisation into estimates with Monte Carlo
// standard errors. Per-replication headline values are kept exactly (R x T); everything
// else is summed in accumulators whose merge order is fixed by the caller, so results are
// bit-identical for any thread count. All population measures are person-weighted.
#pragma once

#include <bit>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "incsim/model.h"
#include "incsim/simulate.h"

namespace incsim {

// Fine log-linear histogram bins for pooled quantiles. |y| < 1 yuan falls in one central bin
// reported as 0; otherwise the bin is given by the binary exponent of |y| and the top 8 bits
// of its mantissa, so a bin [a, b) has b - a = 2^e / 256 <= |y| / 256. The reported value is
// the bin midpoint, hence |reported - exact quantile| <= max(1 yuan, |q| / 512)
// (0.2%), for |y| < 2^32 yuan; beyond that the last bin is open-ended.
namespace quantile_bins {
inline constexpr int kSubBits = 8;
inline constexpr int kOctaves = 32;
inline constexpr int kHalf = kOctaves << kSubBits;  // bins per sign
inline constexpr int kCount = 2 * kHalf + 1;
inline constexpr int kCenter = kHalf;

inline int bin_of(double y) {
  const double a = std::fabs(y);
  if (!(a >= 1.0)) return kCenter;
  const std::uint64_t bits = std::bit_cast<std::uint64_t>(a);
  const int e = static_cast<int>(bits >> 52) - 1023;
  int idx = e >= kOctaves ? kHalf - 1
                          : (e << kSubBits) | static_cast<int>((bits >> (52 - kSubBits)) & 0xff);
  return y > 0 ? kCenter + 1 + idx : kCenter - 1 - idx;
}
double lower_edge(int bin);  // of |y| scale mapped back to signed values
double upper_edge(int bin);
double value(int bin);  // midpoint; 0 for the central bin
// Half-width bound on |value(bin) - y| for any y in the bin.
double error_bound(int bin);
}  // namespace quantile_bins

// Per-replication values kept exactly, row-major (R, T) unless stated.
struct ReplicationTable {
  std::int64_t replications = 0;
  int years = 0;
  int markets = 0;
  std::vector<double> mean_income;  // person-weighted mean of y
  std::vector<double> within_var;   // person-weighted variance of y around that mean
  std::vector<double> fgt0, fgt1, fgt2;
  std::vector<double> relapse;  // NaN in year 1 or with an empty denominator
  // Persons of registered-poor households among the poor persons (NaN when none is poor).
  std::vector<double> registered_share;
  std::vector<double> government_cost;
  std::vector<double> dibao;
  std::vector<double> prices;     // (R, T, M)
  std::vector<double> ever_poor;  // (R)
  // Persons poor in t and in t-1 (R, T; year 1 NaN), and persons whose household is poor in
  // two consecutive years at least once within the horizon (R).
  std::vector<double> two_consecutive_poor;
  std::vector<double> two_consecutive_poor_ever;
  // Share of persons of farming households (running any industry) whose farm net income
  // (revenue - costs) is negative in the year.
  std::vector<double> negative_farm_share;
  // Insurance per product (index InsuranceProduct), each (R, T).
  struct ProductColumns {
    std::vector<double> premium, subsidy, payout, paid_share;
  };
  ProductColumns insurance[kProducts];
  // Health (MODEL.md sections 7a, 9; zero without a health section): medical cost, reimbursed
  // and out-of-pocket in yuan, episodes per person, and the medically impoverished share.
  struct HealthColumns {
    std::vector<double> cost, reimbursed, out_of_pocket, episodes_per_person, impoverished;
  };
  HealthColumns health;
  // Basis risk (MODEL.md section 9) per variant (kProductTable order, then kDouble), each
  // (R, T): the year's tallies (BasisTally) summed over the variant's covered industries, for
  // the sweep table's ratios and their paired differences. Empty for variants without
  // basis-risk measures (ProtectionModel::basis_industries).
  std::vector<double> basis[kVariants][kBasisTallies];

  // With `protection`, the basis columns of its variants with basis-risk measures.
  ReplicationTable(std::int64_t r, int t, int m, const ProtectionModel* protection = nullptr);
  // Every (R, T) column, for operations on all rows (not prices, ever_poor, *_ever).
  std::vector<std::vector<double>*> year_columns();
  std::vector<const std::vector<double>*> year_columns() const;
  void truncate(std::int64_t r);  // keep the first r replications (convergence mode)
  // Copies the rows of replications [begin, end) from a table of the same shape.
  void copy_rows(const ReplicationTable& from, std::int64_t begin, std::int64_t end);
  std::size_t at(std::int64_t r, int t) const {
    return static_cast<std::size_t>(r) * years + (t - 1);
  }
};

// Partition of households for /groups: labels and each household's group.
struct Grouping {
  std::string name;
  std::vector<std::string> labels;
  std::vector<std::int32_t> group_of;  // per kernel position (Model::kernel)
  std::vector<double> persons;         // per group
};
std::vector<Grouping> make_groupings(const Model& model);

// An exact sum of doubles: fixed point with 2^-FractionBits resolution in 128 bits. Each
// added value is truncated to that grid once, after which addition is exact, so a sum does
// not depend on the order of its terms: parts of a run merged in any order give the unsplit
// run's bits (MODEL.md section 13). An addend must be below 2^(120 - FractionBits).
template <int FractionBits>
class FixedSum {
 public:
  static constexpr double kScale = static_cast<double>(__int128{1} << FractionBits);
  static constexpr double kLimit = static_cast<double>(__int128{1} << (120 - FractionBits));
  void add(double x) {
    if (!(std::fabs(x) < kLimit)) overflow(x);
    const double scaled = x * kScale;           // exact scaling, then truncation toward zero:
    if (std::fabs(scaled) < 0x1p62)             // in one instruction when it fits 64 bits (the
      v_ += static_cast<std::int64_t>(scaled);  // same integer as the 128-bit conversion)
    else
      v_ += static_cast<__int128>(scaled);
  }
  void add(const FixedSum& other) { v_ += other.v_; }
  double value() const { return static_cast<double>(v_) / kScale; }
  // The exact fixed-point integer, for partial-result files (incsim/part.h).
  __int128 raw() const { return v_; }
  static FixedSum from_raw(__int128 raw) {
    FixedSum s;
    s.v_ = raw;
    return s;
  }

 private:
  [[noreturn]] static void overflow(double x);
  __int128 v_ = 0;
};
using IncomeSum = FixedSum<40>;  // yuan and yuan^2: 9e-13 resolution, addends below 1.2e24
using ShareSum = FixedSum<96>;   // shares in [0, 1]: 1.3e-29 resolution, sums below 2^31

// The utility of the protection value (MODEL.md section 9): the choice rule's utility (its
// defaults, CRRA 2 with floor 500 over years, when the rule has none) as rescaled terms x(y)
// whose weighted sum over a replication's years is an affine image of U, so CE =
// inverse(mean over replications of x) = u^-1(E[U]). The rescaling keeps the terms within
// the exact sums' range: CRRA (max(y, f)/f)^(1-g) (f / max(y, f) at g = 2, log at g = 1, the
// ratio itself at g = 0); CARA exp(-a (y - z1)) about the year-1 poverty line z1, its exponent
// capped at 30 (incomes more than 30/a below z1 count as 30/a below); CARA 0 y / 1000.
class UtilityTerms {
 public:
  explicit UtilityTerms(const Model& model);
  void terms(const double* y, std::size_t n, double* out) const;  // out may alias y
  double inverse(double mean_term) const;
  bool over_years() const { return over_years_; }

 private:
  enum class Kind { power, log, reciprocal, ratio, exponential, thousands };
  Kind kind_ = Kind::reciprocal;
  double g_ = 2.0, floor_ = 500.0, a_ = 0.0, z1_ = 0.0;
  bool over_years_ = true;
};

// Basis risk and protection value (MODEL.md section 9) summed over replications, inside the
// Accumulator (same feeding, exact merge in any order).
class ProtectionSums {
 public:
  // Replication r belongs to jackknife group r mod kGroups (the CE gain's standard error).
  static constexpr int kGroups = 16;
  static constexpr int kMoments = 5;  // sums of a, b, a^2, b^2, a b over replications
  using ValueSum = FixedSum<64>;      // rescaled utility terms: 5e-20 resolution, below 2^56

  explicit ProtectionSums(const Model& model);
  void begin_replication();
  void add_batch(const YearOutcome& year, std::size_t begin, std::size_t count);
  void end_year(const YearOutcome& year);
  void end_replication(std::int64_t r);
  void merge(const ProtectionSums& other);

  // Basis risk, (kVariants, I, T, 3, kMoments): for missed, false_alarm and covered, the
  // moments of each replication-year's numerator a and denominator b (a ratio estimator).
  std::vector<IncomeSum> basis;
  std::size_t basis_cell(int v, int i, int t, int measure) const;
  // Protection value: column 0 is the income as simulated, column c >= 1 the income without
  // variant columns[c - 1]; members are the positions holding some computed variant
  // (ascending); value is (kGroups, members, columns) sums of each replication's utility term
  // (0 in the columns of variants the member does not hold).
  std::vector<int> variants;
  std::vector<std::uint32_t> members;
  std::vector<ValueSum> value;
  std::int64_t group_replications[kGroups] = {};
  std::size_t columns() const { return variants.size() + 1; }
  const UtilityTerms& utility() const { return utility_; }

 private:
  void add_run(const YearOutcome& year, std::size_t begin, std::size_t count, unsigned holds);

  const Model* model_;
  UtilityTerms utility_;
  std::vector<double> weights_;      // w_t (over: years) or 1/T (horizon mean of y)
  std::vector<double> replication_;  // (members, columns) of the open replication
  std::vector<std::uint8_t> held_;   // (members, columns): 1 where the member holds the column
  std::vector<double> gather_;
};

// Everything summed over replications. A worker feeds consecutive replications of one
// block (begin, years in order, end), then end_block() folds the block's double sums into
// the exact totals; blocks and accumulators merge exactly, in any order. Households are in
// kernel order.
class Accumulator {
 public:
  Accumulator(const Model& model, const std::vector<Grouping>& groupings);

  void begin_replication();
  void add_year(std::int64_t r, const YearOutcome& year, ReplicationTable& table);
  // add_year in two steps, for the kernel's batch callback (Kernel::run_replication):
  // add_batch for each batch of the year in kernel order, then end_year with the outcome.
  void add_batch(const YearOutcome& year, std::size_t begin, std::size_t count);
  void end_year(std::int64_t r, const YearOutcome& year, ReplicationTable& table);
  void end_replication(std::int64_t r, ReplicationTable& table);
  void end_block();

  // Adds `other` (whose blocks have ended) into this.
  void merge(const Accumulator& other);

  const Model& model() const { return *model_; }
  std::int64_t replications = 0;
  std::vector<std::uint64_t> histogram;               // (T + 1, kCount): years, then horizon mean
  std::vector<IncomeSum> household_income_sum;        // (T, K)
  std::vector<std::uint32_t> household_poor_count;    // (T, K)
  std::vector<std::uint32_t> household_poor_horizon;  // (K)
  // Per grouping, (G, T): sums over replications of the group's mean income and headcount.
  std::vector<std::vector<IncomeSum>> group_income_sum, group_income_sumsq;
  std::vector<std::vector<ShareSum>> group_fgt0_sum, group_fgt0_sumsq;
  // Per grouping, (G, T): sums over replications of the group's out-of-pocket and total
  // medical costs.
  std::vector<std::vector<IncomeSum>> group_oop_sum, group_oop_sumsq;
  std::vector<std::vector<IncomeSum>> group_cost_sum, group_cost_sumsq;
  std::vector<double> minimum, maximum;  // (T + 1)
  ProtectionSums protection;

 private:
  struct YearSums {
    double weighted_income = 0.0, squared_deviation = 0.0;
    double poor = 0.0, gap = 0.0, gap2 = 0.0;  // persons, sum of w x gap, w x gap^2
    double not_poor_before = 0.0, relapsed = 0.0, consecutive = 0.0;
    double farming = 0.0, farm_negative = 0.0;
    double poor_registered = 0.0;  // persons poor in registered-poor households
  };
  void open_year(int t);
  void add_groups(int t);

  const Model* model_;
  const std::vector<Grouping>* groupings_;
  // State within the current replication and block.
  std::vector<std::uint8_t> prev_poor_, ever_poor_, consecutive_ever_;
  std::vector<double> horizon_sum_;
  std::vector<double> block_income_sum_;  // (T, K) over the block's replications
  bool block_open_ = false;
  bool year_open_ = false;
  YearSums year_;  // of the open year
  double lo_ = 0.0, hi_ = 0.0;
  std::vector<std::vector<double>> group_y_, group_poor_;
  std::vector<std::int32_t> cell_of_;                  // per position
  std::vector<std::vector<std::int32_t>> cell_group_;  // per grouping: group of each cell
  std::vector<double> cell_y_, cell_poor_, cell_oop_, cell_cost_;
  std::vector<std::vector<double>> group_oop_, group_cost_;
};

// Estimates with standard errors, ready to write (shapes as MODEL.md section 11).
struct Estimate {
  std::vector<double> mean;
  std::vector<double> se;
};

struct GroupResult {
  std::string name;
  std::vector<std::string> labels;
  std::vector<double> persons;    // (G)
  Estimate fgt0;                  // (G, T)
  Estimate income_mean;           // (G, T)
  Estimate health_out_of_pocket;  // (G, T) yuan per year; empty without health
  Estimate health_cost;           // (G, T) yuan per year; empty without health
};

// Health shocks per year (MODEL.md sections 7a, 9), each (T) with its standard error.
struct HealthResult {
  Estimate cost, reimbursed, out_of_pocket;  // yuan per year, whole population
  Estimate episodes_per_person;              // occurrences of (person, illness) / persons
  Estimate impoverished;                     // share of persons medically impoverished
};

// Basis risk of one variant (MODEL.md section 9): (I_p, T) ratios pooled over enrolled
// households and replications, NaN where a denominator is 0 or in non-harvest years, with the
// ratio estimator's standard error over replications.
struct BasisRiskResult {
  std::string name;  // agricultural | income_index | double
  std::vector<std::string> industries;
  Estimate missed, false_alarm, covered;
};

// Protection value of one variant: per `poor` group (poor, other), the person-weighted mean
// CE gain of its holders, with the delete-a-group jackknife standard error.
struct ProtectionResult {
  std::string name;             // a product, or double
  Estimate ce_gain;             // (G) yuan per capita
  std::vector<double> holders;  // (G) persons in households holding the variant
};

struct InsuranceResult {
  std::string name;                   // agricultural | income_index | poverty_guard
  Estimate premium, subsidy, payout;  // (T) yuan
  Estimate loss_ratio;                // (T) E[payout] / E[premium], delta-method SE
  Estimate paid_share;                // (T) share of enrolled exposed households paid
  Estimate insurer_result;            // (T) premiums - payouts, yuan
  std::vector<double> exposed;        // (T) enrolled exposed households
  // income_index only: premium rate per covered industry and year (I, T).
  std::vector<std::string> rate_industries;
  std::vector<double> rate_used;
};

// One step of convergence mode: the estimate and its standard error after `replications`.
struct ConvergenceRow {
  std::int64_t replications = 0;
  double estimate = 0.0;
  double standard_error = 0.0;
};

struct RunResults {
  std::int64_t replications = 0;            // used
  std::int64_t replications_requested = 0;  // scenario.replications (the maximum)
  std::vector<ConvergenceRow> convergence;  // empty unless output.target is set
  std::int64_t sample_path_count = 0;       // S
  std::vector<float> sample_paths;          // (S, H, T) per-capita income
  int years = 0;
  std::vector<int> calendar_years;
  std::vector<double> quantile_levels;
  std::vector<double> poverty_line;
  // prices (T, M)
  std::vector<std::string> market_names;
  std::vector<double> price_mean, price_p05, price_p95;
  // income
  Estimate income_mean;                                   // (T)
  std::vector<double> income_std;                         // (T) of the pooled distribution
  std::vector<double> income_quantiles;                   // (T, Q)
  std::vector<double> income_quantile_error_bound;        // (T, Q)
  std::vector<double> horizon_mean_quantiles;             // (Q)
  std::vector<double> horizon_mean_quantile_error_bound;  // (Q)
  std::vector<double> income_min, income_max;             // (T)
  std::vector<double> histogram;                          // (T, B) share of persons x replications
  std::vector<double> bin_edges;                          // (B + 1)
  // poverty
  Estimate fgt0, fgt1, fgt2, relapse;    // (T)
  Estimate registered_share;             // (T), replications with nobody poor left out
  Estimate ever_poor;                    // scalar (size 1)
  Estimate two_consecutive_poor;         // (T), year 1 NaN
  Estimate two_consecutive_poor_ever;    // scalar
  std::vector<double> fgt0_quantiles;    // (T, Q): distribution of headcount over replications
  Estimate negative_farm_income;         // (T)
  std::vector<double> vulnerable_share;  // (T)
  double vulnerable_share_horizon = 0.0;
  Estimate target_risk;  // (T)
  // fiscal
  Estimate government_cost;                  // (T)
  Estimate dibao;                            // (T)
  std::vector<InsuranceResult> insurance;    // configured products only
  std::vector<BasisRiskResult> basis_risk;   // variants with basis-risk measures
  std::vector<ProtectionResult> protection;  // variants whose CE gain is computed
  bool health_enabled = false;               // a health section: `health` is filled
  HealthResult health;
  // households
  std::vector<double> household_mean_income;            // (H, T)
  std::vector<double> household_vulnerability;          // (H, T)
  std::vector<double> household_vulnerability_horizon;  // (H)
  std::vector<GroupResult> groups;
  // Every per-replication value (R, T): the basis of paired differences between sweep points.
  ReplicationTable per_replication{0, 0, 0};
};

RunResults finalize(const Model& model, const Accumulator& acc, const ReplicationTable& table,
                    const std::vector<Grouping>& groupings);
std::vector<BasisRiskResult> basis_risk_results(const Model& model, const ProtectionSums& sums,
                                                std::int64_t replications);
std::vector<ProtectionResult> protection_results(const Model& model, const ProtectionSums& sums);

// Mean and standard error of the mean of n values (NaN values skipped); se = sd / sqrt(n).
Estimate mean_and_se(const std::vector<double>& values, std::size_t stride, std::size_t offset,
                     std::size_t count);

}  // namespace incsim
