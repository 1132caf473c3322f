// incsim scenario: the validated, immutable description of one run (MODEL.md sections 1-9).
// A Scenario is produced only by load_scenario(), which checks every value and reports every
// problem of a file at once; code downstream may therefore rely on all invariants stated here.
#pragma once

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <vector>

namespace incsim {

struct Market {
  std::string name;
  std::string unit;
  double price = 0.0;        // price_m > 0, yuan per unit
  double trend = 0.0;        // g_m > -1, yearly growth of the expected price
  double volatility = 0.0;   // sigma_m >= 0 of the log-price innovation
  double persistence = 0.0;  // phi_m in [-1, 1]
};

struct Product {
  int market = 0;         // index into Scenario::markets
  double yield = 0.0;     // expected yield per unit per harvest, >= 0
  double yield_cv = 0.0;  // >= 0
};

struct Industry {
  std::string name;
  std::string label;
  std::string unit;
  int cycle_years = 1;  // >= 1; harvests in years c, 2c, ...
  double setup_cost = 0.0;
  double operating_cost = 0.0;
  double setup_subsidy = 0.0;  // share in [0, 1] of setup_cost paid by government
  double needs_farmland_mu = 0.0;
  double needs_forest_mu = 0.0;
  double needs_labor_days = 0.0;
  int max_units = 1;  // >= 1
  // Most units of this industry the whole population may run (MODEL.md section 8); >= 0,
  // infinity when unbounded.
  double capacity = std::numeric_limits<double>::infinity();
  std::vector<Product> products;
  // Contract buy-back price per market; index = market, nullopt where none is set.
  std::vector<std::optional<double>> price_floor;
};

// The most replications a scenario or --replications may ask for: beyond any use (the Monte
// Carlo error of 10^8 replications is 10^-4 of one's), and the per-replication tables stay
// addressable.
inline constexpr std::int64_t kMaxReplications = 100'000'000;

// One listed correlation of two markets' price innovations (MODEL.md section 2).
struct CorrelationPair {
  int a = 0, b = 0;  // market indices, a < b
  double rho = 0.0;  // in [-1, 1]
  bool operator==(const CorrelationPair&) const = default;
};

// The groups of markets linked by listed pairs with rho != 0 (connected components), every
// market in exactly one (an uncorrelated market alone), members ascending, groups in order of
// their first member. Linear in markets plus pairs.
std::vector<std::vector<std::size_t>> correlation_groups(std::size_t markets,
                                                         const std::vector<CorrelationPair>& pairs);

struct LognormalSpec {
  double mean = 0.0;  // >= 0
  double cv = 0.0;    // >= 0
};

// One household of a csv population. Optional fields override the random draws.
struct HouseholdRecord {
  std::string id;
  std::string village;
  int size = 1;
  int laborers = 0;
  double farmland_mu = 0.0;
  double forest_mu = 0.0;
  double capital = 0.0;
  bool poor = false;
  // Portfolio from the csv: industry index, -1 = none (an empty aux means a single industry).
  std::optional<int> main;
  std::optional<int> aux;
  std::optional<bool> enrolled[3];  // per InsuranceProduct (kProducts), from its csv column
  std::optional<bool> public_post;
};

// A value for registered poor households and one for the others.
struct GroupShare {
  double poor = 0.0;
  double other = 0.0;
  double of(bool is_poor) const { return is_poor ? poor : other; }
};

// The attribute distributions of generated households (MODEL.md section 4).
struct HouseholdDistributions {
  std::vector<double> size_values;   // positive integers
  std::vector<double> size_weights;  // non-negative, positive sum (normalised by the model)
  double laborer_share_of_size = 0.5;
  int laborer_min = 1;
  LognormalSpec farmland_mu;
  LognormalSpec forest_mu;
  LognormalSpec capital;
};

struct Population {
  // Generated population (csv_path empty) ...
  int villages = 1;
  int households = 0;
  HouseholdDistributions all;  // every household, or the non-poor ones when `poor` is given
  // v2: `population.poor`, the registered-poor households' distributions (used only when
  // poor_block); a key the block leaves out (down to `laborers.min`) is `all`'s.
  HouseholdDistributions poor;
  bool poor_block = false;  // the scenario gives `population.poor`
  double poor_share = 0.0;
  // ... or imported from csv (records non-empty, in file order; `households` is then the
  // number of records and `villages` the number of distinct village names).
  std::string csv_path;  // as resolved against the scenario file's directory
  std::vector<HouseholdRecord> records;
  double labor_days_per_laborer = 250.0;

  const HouseholdDistributions& of(bool is_poor) const {
    return is_poor && poor_block ? poor : all;
  }
};

struct WageSpec {
  double per_laborer = 0.0;
  double cv = 0.0;
  double employment_rate = 1.0;  // in [0, 1]
};

struct PublicPostSpec {
  double share_of_poor = 0.0;  // in [0, 1]
  double amount = 0.0;         // yuan per post-year
};

enum class DibaoEligible { poor, all };

struct DibaoSpec {
  bool enabled = false;
  double line = 0.0;  // yuan per capita per year, does not grow
  DibaoEligible eligible = DibaoEligible::poor;
  // Extension: share of eligible households enrolled in dibao, drawn once per household on
  // the enrollment stream (default 1: every eligible household).
  double take_up = 1.0;
};

struct IncomeSpec {
  WageSpec wage;
  // v2: `wage.poor`, for the laborers of registered-poor households (used only when
  // wage_poor_block); absent keys are `wage`'s.
  WageSpec wage_poor;
  bool wage_poor_block = false;
  PublicPostSpec public_posts;
  double transfers_per_capita = 0.0;
  DibaoSpec dibao;

  const WageSpec& wage_of(bool is_poor) const {
    return is_poor && wage_poor_block ? wage_poor : wage;
  }
};

// ---- Health shocks (MODEL.md section 7a, v2) ----------------------------------------------

struct Illness {
  std::string name;
  double probability = 0.0;  // per person and year, in [0, 1]
  LognormalSpec cost;        // yuan per episode: mean >= 0, cv >= 0 (cv 0 = the mean)
  double days_lost = 0.0;    // per episode, in [0, population.labor_days_per_laborer]
};

struct HealthSpec {
  bool enabled = false;  // a `health:` section is present
  std::vector<Illness> illnesses;
  GroupShare reimbursement;  // share of medical cost paid by public schemes, in [0, 1]
  // Out-of-pocket cap per household-year by group, >= 0; infinity = unbounded (absent).
  GroupShare out_of_pocket_cap{std::numeric_limits<double>::infinity(),
                               std::numeric_limits<double>::infinity()};
  bool deduct_out_of_pocket = true;
};

enum class ChoiceRule { fixed, expected_utility, logit };

struct PortfolioShare {
  int main = -1;  // industry index
  int aux = -1;   // industry index, -1 = single-industry portfolio
  double share = 0.0;
};

enum class UtilityKind { crra, cara };
// What the utility applies to (MODEL.md section 8): each year's income with discount weights
// (v2 default), or the horizon mean (version 1).
enum class UtilityOver { years, horizon_mean };

struct ChoiceSpec {
  ChoiceRule rule = ChoiceRule::fixed;
  bool two_industries = true;
  std::vector<PortfolioShare> portfolios;  // rule fixed; shares sum to at most 1
  bool from_csv = false;                   // rule fixed with csv main/aux columns
  // expected_utility and logit (MODEL.md section 8)
  UtilityKind utility = UtilityKind::crra;
  double crra = 2.0;     // relative risk aversion g >= 0 (log utility at 1)
  double cara = 0.0;     // absolute risk aversion a >= 0
  double floor = 500.0;  // CRRA floor, yuan per capita, > 0
  UtilityOver over = UtilityOver::years;
  double discount_rate = 0.0;  // in [0, 1]; weights beta^(t-1) / sum, beta = 1 / (1 + rate)
  int pilot_replications = 200;
  double temperature = 1000.0;  // logit, yuan, > 0
  std::vector<int> candidates;  // industry indices; default all, in scenario order
};

// ---- Hazards (MODEL.md section 5) ----------------------------------------------------------

enum class HazardScope { county, village, household };

struct Severity {
  bool fixed = false;       // {fixed: value} or {beta: [a, b]}
  double value = 0.0;       // fixed loss fraction in [0, 1]
  double a = 1.0, b = 1.0;  // Beta shape parameters, > 0
};

struct Hazard {
  std::string name;
  double probability = 0.0;  // per year and scope unit, in [0, 1]
  HazardScope scope = HazardScope::county;
  Severity severity;
  std::vector<double> affects;  // per industry (index), >= 0; 0 where not listed
  // County scope only: multiplies P[m,t] in a year the hazard occurs; 1 where not listed.
  std::vector<double> price_shock;  // per market (index), > 0
};

// ---- Insurance (MODEL.md section 6) -------------------------------------------------------

// The insurance products as a table: every stage iterates over kProductTable instead of
// naming the products. A product's own terms (sums insured, coverage, threshold...) are in
// its spec struct below; what the stages share is here and in InsuranceSpec::terms().
enum InsuranceProduct : int {
  kAgricultural = 0,
  kIncomeIndex = 1,
  kPovertyGuard = 2,
  kProducts = 3
};

// How a product pays and what it is charged on (the kernel stage and premium rule it uses).
enum class PayoutRule {
  hazard_loss,    // n x SI x max(0, L - deductible) every year a covered industry runs
  revenue_index,  // n x max(0, G - I) in a covered industry's harvest years
  income_guard,   // min(cap, size x max(0, threshold x line - y_pre)) every year
};

struct ProductDescriptor {
  const char* name;               // scenario key insurance.<name>, output group /insurance/<name>
  const char* label;              // for people: summaries, inspect, descriptions
  const char* enrollment_column;  // csv column and /households/<column>
  std::uint32_t enrollment_word;  // word of draws::kEnrollment that draws the enrollment
  PayoutRule payout;
};
inline constexpr ProductDescriptor kProductTable[kProducts] = {
    {"agricultural", "agricultural insurance", "enrolled_agricultural", 0, PayoutRule::hazard_loss},
    {"income_index", "income index insurance", "enrolled_income_index", 1,
     PayoutRule::revenue_index},
    {"poverty_guard", "poverty guard", "enrolled_poverty_guard", 2, PayoutRule::income_guard},
};

struct AgriculturalInsurance {
  bool enabled = false;
  std::vector<int> covers;          // industry indices
  std::vector<double> sum_insured;  // per industry (index), yuan per unit; 0 if not covered
  double deductible = 0.0;          // loss fraction retained, in [0, 1]
  double premium_rate = 0.0;        // of sum insured per year, >= 0
  GroupShare subsidy;               // share of premium paid by government, in [0, 1]
  GroupShare enrollment{1.0, 1.0};  // probability of enrollment, in [0, 1]
};

struct IncomeIndexInsurance {
  bool enabled = false;
  std::vector<int> covers;  // industry indices
  double coverage = 0.0;    // share of expected revenue guaranteed, > 0
  bool fair = false;        // premium_rate: fair -> E[payout]/G x (1 + loading), estimated
  double premium_rate = 0.0;
  double loading = 0.0;  // >= 0, with fair
  int fair_replications = 20000;
  GroupShare subsidy;
  GroupShare enrollment{1.0, 1.0};
};

struct PovertyGuard {
  bool enabled = false;
  double threshold = 0.0;  // multiple of the poverty line, per capita, >= 0
  double cap = std::numeric_limits<double>::infinity();  // per household per year
  double premium_per_capita = 0.0;
  GroupShare subsidy;
  GroupShare enrollment{1.0, 1.0};
};

// What every product has: whether it is configured, the government's share of its premium
// and the enrollment probability, by group.
struct ProductTerms {
  bool enabled = false;
  GroupShare subsidy;
  GroupShare enrollment;
};

struct InsuranceSpec {
  AgriculturalInsurance agricultural;
  IncomeIndexInsurance income_index;
  PovertyGuard poverty_guard;
  // rho of the basis-risk measures (MODEL.md section 9): shortfall max(0, rho E - A).
  double basis_risk_reference = 0.8;

  ProductTerms terms(InsuranceProduct p) const {
    switch (p) {
      case kAgricultural:
        return {agricultural.enabled, agricultural.subsidy, agricultural.enrollment};
      case kIncomeIndex:
        return {income_index.enabled, income_index.subsidy, income_index.enrollment};
      default:
        return {poverty_guard.enabled, poverty_guard.subsidy, poverty_guard.enrollment};
    }
  }
  bool any_enabled() const {
    return agricultural.enabled || income_index.enabled || poverty_guard.enabled;
  }
};

struct PovertySpec {
  double line = 0.0;  // yuan per capita per year in year 1
  double line_growth = 0.0;
  double exit_target = 0.02;
};

// Convergence mode: add batches of replications until the Monte Carlo standard error of
// `measure` in `year` is at most `standard_error` (or `relative_error` x |estimate|), or
// scenario.replications (then the maximum) is reached.
struct ConvergenceTarget {
  bool enabled = false;
  std::string measure = "fgt0";  // fgt0 | fgt1 | fgt2 | mean_income | government_cost
  int year = 1;
  double standard_error = 0.0;  // absolute target, > 0 (or 0 when relative)
  double relative_error = 0.0;  // relative target, > 0 (or 0 when absolute)
  std::int64_t batch = 100;     // replications per batch
};

struct OutputSpec {
  std::vector<double> quantiles{0.01, 0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99};
  int histogram_bins = 100;
  std::int64_t sample_paths = 0;  // first S replications' incomes in /paths/income
  ConvergenceTarget target;
};

struct Scenario {
  std::string name;
  int start_year = 1;
  int years = 0;  // T >= 1
  std::int64_t replications = 1000;
  std::uint64_t seed = 1;

  std::vector<Market> markets;
  // The listed pairs of correlated markets, a < b, ascending by (a, b), each once; every pair
  // not listed is 0 (the matrix is PSD with unit diagonal, checked per group of linked markets).
  std::vector<CorrelationPair> correlation;
  std::vector<Industry> industries;
  Population population;
  IncomeSpec income;
  HealthSpec health;
  std::vector<Hazard> hazards;
  InsuranceSpec insurance;
  ChoiceSpec choice;
  PovertySpec poverty;
  OutputSpec output;

  // Provenance, recorded in the output file.
  std::string source_file;             // path as given
  std::string text_as_run;             // YAML text with overrides applied
  std::vector<std::string> overrides;  // "path=value" as given
  std::vector<std::string> warnings;   // e.g. a crop that never harvests within the horizon

  int market_index(const std::string& name) const;    // -1 if absent
  int industry_index(const std::string& name) const;  // -1 if absent
};

}  // namespace incsim
