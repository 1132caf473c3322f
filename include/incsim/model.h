// Model: the plain-data tables the simulation kernel reads, derived once from a validated
// Scenario (MODEL.md sections 2-4, 7-9): market factors, per-year expected prices and
// variances, the population with its portfolios and units, and each household's fixed
// income components. Identical in every replication; nothing here changes after build_model.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "incsim/scenario.h"

namespace incsim {

// Protection and basis risk (MODEL.md section 9, v2). Its variants are the products in
// kProductTable order, then kDouble: the agricultural and income index products together.
inline constexpr int kDouble = kProducts;
inline constexpr int kVariants = kProducts + 1;
const char* variant_name(int v);  // kProductTable[v].name, or "double"

// What one replication-year's basis-risk tallies count, per (variant, industry), over the
// enrolled households running the industry in one of its harvest years: losses #(S > 0),
// missed #(S > 0, K = 0), paid #(K > 0), false alarms #(K > 0, S = 0), sum min(K, S), sum S.
enum BasisTally : int {
  kLosses = 0,
  kMissed,
  kPaid,
  kFalseAlarms,
  kCompensated,
  kShortfall,
  kBasisTallies
};

struct MarketModel {
  std::string name;
  double price = 0.0;
  double sigma = 0.0;
  double phi = 0.0;
  std::vector<double> expected_price;  // Pbar[m,t], t = 1..T at index t-1
  std::vector<double> half_variance;   // v[m,t] / 2
};

// A with A A^T = C for the markets' correlation C, block diagonal over the groups of markets
// linked by listed pairs (one entry 1 for an uncorrelated market): row m holds the entries
// [start[m], start[m + 1]) of (column, value), columns ascending. Memory and time are linear in
// the markets plus the squares of the groups' sizes, not M^2.
struct InnovationFactor {
  std::vector<std::uint32_t> start;  // M + 1
  std::vector<std::uint32_t> column;
  std::vector<double> value;
};

struct ProductModel {
  int market = 0;
  double yield = 0.0;
  double log_sigma = 0.0;  // s = sqrt(ln(1 + cv^2))
  double floor = 0.0;      // sale price = max(P, floor); 0 when no floor is set
};

struct IndustryModel {
  std::string name;
  int cycle_years = 1;
  double setup_cost = 0.0;
  double setup_subsidy = 0.0;
  double operating_cost = 0.0;
  std::vector<ProductModel> products;
  std::vector<std::uint8_t> harvest;  // harvest[t-1] = 1 when t is a harvest year
};

// Why a household runs no industry (MODEL.md section 8, /households/binding_constraint). For a
// household with no candidate portfolio feasible (section 4), the resource whose shortage
// blocks the most candidates on its own (ties: the most candidates it blocks with others,
// then this order); `capacity` when some portfolio was feasible but none fitted in what the
// households served before it left; `no_candidate` when the household was given no portfolio
// (a fixed rule's unassigned share or an empty csv main).
enum class BindingConstraint : std::uint8_t {
  none = 0,  // runs a portfolio
  farmland = 1,
  forest = 2,
  labor = 3,
  cash = 4,
  capacity = 5,
  no_candidate = 6,
};
inline constexpr int kBindingConstraints = 7;
// "none", "farmland", ..., "no_candidate" (the dataset's `labels` attribute).
const char* binding_constraint_name(BindingConstraint c);

// Households in structure-of-arrays form, in population order (index h = RNG unit).
struct Households {
  std::vector<std::string> id;
  std::vector<std::int32_t> village;  // index into Model::village_labels
  std::vector<std::int32_t> size;
  std::vector<std::int32_t> laborers;
  std::vector<double> farmland_mu;
  std::vector<double> forest_mu;
  std::vector<double> capital;
  std::vector<std::uint8_t> poor;
  std::vector<std::uint8_t> public_post;
  std::vector<std::int32_t> main;  // industry index, -1 = none
  std::vector<std::int32_t> aux;   // industry index, -1 = none
  std::vector<std::int32_t> units_main;
  std::vector<std::int32_t> units_aux;
  std::vector<std::uint8_t> enrolled[kProducts];  // per product (kProductTable order)
  std::vector<std::uint8_t> dibao_eligible;
  std::vector<double> certainty_equivalent;       // of the chosen portfolio; NaN when not estimated
  std::vector<std::int32_t> feasible_portfolios;  // candidate portfolios feasible for h
  std::vector<std::uint8_t> binding_constraint;   // BindingConstraint: why h runs none
  // Household yuan per year, year-major (T, H) (see Model::cell), that does not depend on the
  // shocks: public post, per-capita transfers, deterministic wages, minus farm costs and minus the
  // household's share of every premium due that year.
  std::vector<double> fixed_income;
  // Farm costs in yuan, (T, H): operating, plus the household's setup share in year 1.
  std::vector<double> farm_cost;

  std::size_t count() const { return size.size(); }
};

// The households in kernel order (sorted by portfolio, then by the protection variants they
// hold, the products they are enrolled in, laborers and population index) with every
// per-household constant the kernel reads, contiguous in that order. Position k holds household
// unit[k] of the population (its RNG unit: draws stay addressed by the population index, so the
// order never changes a draw). Built by set_portfolios.
struct KernelSegment {  // positions [begin, end) run the portfolio (main, aux) and hold alike
  int main = -1;
  int aux = -1;
  std::uint8_t enrolled = 0;  // bit q: enrolled in product q (configured)
  std::uint8_t holds = 0;     // bit v: holds variant v (KernelTables::holds)
  std::size_t begin = 0, end = 0;
};
static_assert(kVariants <= 8, "KernelSegment keeps a bit per product and variant in 8 bits");

struct KernelTables {
  std::vector<std::uint32_t> unit;      // population index of position k
  std::vector<std::uint32_t> position;  // kernel position of population index h
  std::vector<KernelSegment> segments;
  std::vector<double> size;                       // persons
  std::vector<std::int32_t> laborers;             // ascending within a segment
  std::vector<std::int32_t> village;              // index into Model::village_labels
  std::vector<double> units[2];                   // units of the main (0) and auxiliary (1) slot
  std::vector<double> agricultural_cover[2];      // enrolled x n x SI per slot, else 0
  std::vector<double> index_cover[2];             // enrolled x n per slot if covered, else 0
  std::vector<std::uint8_t> enrolled[kProducts];  // enrolled in product p (configured), else 0
  // Protection value (ProtectionModel::value): the household's share of product p's premium,
  // (T, K), and per variant whether the household holds it (is exposed to it in some year).
  std::vector<double> premium_paid[kProducts];
  std::vector<std::uint8_t> holds[kVariants];
  std::vector<std::uint8_t> dibao_eligible;
  std::vector<std::uint8_t> poor;     // registered poor (group of wage and health terms)
  std::vector<std::uint8_t> farming;  // runs any industry
  std::vector<double> fixed_income;   // (T, K): Households::fixed_income reordered
  std::vector<double> farm_cost;      // (T, K)

  std::size_t count() const { return unit.size(); }
};

// One row of /choice: a portfolio and the share of households running it.
struct PortfolioRow {
  int main = -1;
  int aux = -1;
  double household_share = 0.0;
  double person_share = 0.0;
};

struct HazardModel {
  std::string name;
  HazardScope scope = HazardScope::county;
  double probability = 0.0;
  Severity severity;
  std::vector<double> affects;      // per industry
  std::vector<double> price_shock;  // per market (county scope), 1 = none
};

// Per-year totals of an insurance product that do not depend on the shocks.
struct ProductPlan {
  bool enabled = false;
  std::vector<double> premium;  // (T) total premium, yuan
  std::vector<double> subsidy;  // (T) government share of it
  std::vector<double> exposed;  // (T) enrolled households exposed that year
};

struct InsuranceModel {
  ProductPlan plan[kProducts];
  // Agricultural: sum insured per unit, per industry (0 = not covered).
  std::vector<double> sum_insured;
  double deductible = 0.0;
  // Income index, per industry (index) and year (index t-1), (I_all, T) row-major:
  std::vector<std::uint8_t> index_covered;  // per industry
  std::vector<double> guarantee;            // G per unit in harvest years, else 0
  std::vector<double> rate_used;            // premium rate per year (NaN in non-harvest years)
  // Poverty guard.
  double guard_threshold = 0.0;
  double guard_cap = 0.0;
};

struct ProtectionModel {
  // Basis risk: per variant, the covered industries in scenario order (empty: not reported;
  // the guard never, double only when both products are configured), and per industry
  // whether the variant covers it.
  std::vector<int> basis_industries[kVariants];
  std::vector<std::uint8_t> basis_covers[kVariants];
  bool basis = false;      // some variant has basis-risk measures
  double reference = 0.8;  // rho
  // Expected revenue per unit E of industry i in year t, (I, T): sum_p yield_p Pbar[m(p), t],
  // summed as the income index's guarantee is, so rho = coverage gives rho E == G bit for bit.
  std::vector<double> expected_revenue;
  // Protection value: the variants whose CE gain is computed (product configured; double:
  // both), and whether any is.
  bool value[kVariants] = {};
  bool any_value = false;
};

// Income constants the kernel reads (MODEL.md section 7), derived from the scenario.
// Wage terms of one group of laborers (MODEL.md section 7; v2 `wage.poor`).
struct WageTerms {
  double mean = 0.0;             // per laborer-year
  double log_sigma = 0.0;        // s = sqrt(ln(1 + cv^2))
  double employment_rate = 1.0;  // in [0, 1]
};

struct IncomeModel {
  // Wages drawn in the kernel: cv > 0 or employment_rate < 1 in either group, or illnesses
  // that cost working days; otherwise they are part of the fixed income.
  bool stochastic_wage = false;
  WageTerms wage[2];           // [0] other households' laborers, [1] registered-poor households'
  bool wage_by_group = false;  // the two differ (wage.poor): the kernel reads terms per lane
  double dibao_line = 0.0;
};

// Health shocks (MODEL.md section 7a, v2), derived from Scenario::health.
struct IllnessModel {
  std::string name;
  double probability = 0.0;  // per person-year
  double cost_mean = 0.0;    // yuan per episode
  double log_sigma = 0.0;    // of the lognormal cost; 0 = the mean
  double days_lost = 0.0;    // per episode
};
struct HealthModel {
  bool enabled = false;
  std::vector<IllnessModel> illnesses;
  double out_of_pocket_share[2] = {0.0, 0.0};  // 1 - reimbursement: [0] other, [1] poor
  double out_of_pocket_cap[2] = {0.0, 0.0};    // per household-year (infinity = none)
  bool deduct = true;                          // out-of-pocket costs reduce income
  bool loses_days = false;                     // some illness has days_lost > 0
  double labor_days = 250.0;                   // per laborer-year
};

// What the statistics report and how (MODEL.md sections 9, 11), derived from the scenario.
struct ReportingModel {
  int start_year = 1;
  std::vector<double> quantiles;
  int histogram_bins = 100;
  double exit_target = 0.02;
  std::vector<int> index_covers;  // industries the income index covers, scenario order
};

struct Model {
  Scenario scenario;  // the validated input, kept for provenance; later stages read the
                      // derived tables below, not this
  int years = 0;
  std::int64_t replications = 0;
  std::uint64_t seed = 0;

  std::vector<MarketModel> markets;
  InnovationFactor innovation_factor;  // A with A A^T = C, sparse
  std::vector<IndustryModel> industries;
  std::vector<HazardModel> hazards;
  InsuranceModel insurance;
  Households households;
  KernelTables kernel;
  std::vector<PortfolioRow> portfolios;
  // Units of each industry taken by the households (I), NaN where its capacity is unbounded.
  std::vector<double> capacity_used;
  std::vector<std::string> village_labels;
  std::vector<double> poverty_line;  // z_t, index t-1
  IncomeModel income;
  HealthModel health;
  ProtectionModel protection;
  ReportingModel reporting;
  std::int64_t persons = 0;

  // Government yuan per year (T) independent of shocks: posts + transfers + premium
  // subsidies (+ setup subsidies in year 1). Dibao is added by the kernel.
  std::vector<double> government_fixed;
  // Its parts other than the premium subsidies (ProductPlan::subsidy), per year (T), for
  // /fiscal/by_component: per-capita transfers, public-welfare post wages, setup subsidies.
  std::vector<double> transfers_paid, posts_paid, setup_subsidies_paid;

  bool stochastic_wage() const;
  // Index of (household h, year t) in the year-major (T, H) household tables, so the kernel
  // reads one year's values in household order.
  std::size_t cell(std::size_t h, int t) const {
    return static_cast<std::size_t>(t - 1) * households.count() + h;
  }
};

// The model before households choose: a generated population drawn from the population stream
// (or the csv), enrollment and posts from their stream, every derived table, and every
// household running none. The choice stage (incsim/choice.h) then sets the portfolios;
// engine.h's build_model does both.
Model build_population_model(const Scenario& scenario);

// Gives household h the portfolio (main[h], aux[h]) (-1 = none; aux -1 = single industry)
// with units by the rule of section 4 (infeasible -> none), then recomputes the fixed income,
// premiums, kernel tables and /choice rows (`listed` portfolios first, in order).
void set_portfolios(Model& model, const std::vector<int>& main, const std::vector<int>& aux,
                    const std::vector<std::pair<int, int>>& listed);

// Units of a portfolio for one household by the rule of MODEL.md section 4: one unit of each
// member first (main, then aux), then main grows to max_units, then aux, while farmland,
// forest, labor days and setup capital (net of subsidy) still fit. Returns {0, 0} when the
// portfolio is infeasible (some member would get no unit). aux < 0: single industry.
struct Units {
  int main = 0;
  int aux = 0;
};
Units portfolio_units(const Scenario& scenario, int main, int aux, double farmland_mu,
                      double forest_mu, int laborers, double capital);
// The resources a household lacks for the first unit of each member of (main, aux): a bit
// per resource, 1 << BindingConstraint::farmland ... cash; 0 exactly when portfolio_units
// gives the portfolio at least one unit of each member.
unsigned portfolio_shortage(const Scenario& scenario, int main, int aux, double farmland_mu,
                            double forest_mu, int laborers, double capital);
// "main + aux", "main" or "none": a portfolio's label (the /portfolio coordinate of a result,
// the sweep table's portfolio columns).
std::string portfolio_label(const Model& model, int main, int aux);
// Utility weights over the years (MODEL.md section 8): w_t = beta^(t-1) / sum_s beta^(s-1),
// beta = 1 / (1 + rate), for t = 1..years.
std::vector<double> discount_weights(double rate, int years);
// The units of (main, aux) for every household of the model, population order.
std::vector<Units> household_units(const Model& model, int main, int aux);

// A portfolio as two slots (main, aux): industry (-1 = none) and units.
struct PortfolioSlots {
  int industry[2] = {-1, -1};
  int units[2] = {0, 0};
};
// Premiums due from household h in year t if it ran `slots`, split into the household's and
// the government's shares, per product and in total.
struct ProductPremiums {
  struct Share {
    double premium = 0.0, government = 0.0;
    bool exposed = false;
  };
  Share product[kProducts];
  double household = 0.0;   // the household's share, yuan
  double government = 0.0;  // premium subsidies, yuan
};
ProductPremiums premiums_of(const Model& model, std::size_t h, const PortfolioSlots& slots, int t);

// What household h would get or pay in year t running `slots`, independent of the shocks
// (MODEL.md sections 3, 6, 7): transfers, posts, deterministic wages, minus farm costs and
// the household's premium shares. The kernel's Households::fixed_income is this value.
struct FixedIncome {
  double income = 0.0;     // yuan
  double farm_cost = 0.0;  // operating costs, plus the household's setup share in year 1
  double setup_subsidy = 0.0;
  ProductPremiums premiums;
};
FixedIncome fixed_income_of(const Model& model, std::size_t h, const PortfolioSlots& slots, int t);

}  // namespace incsim
