// The HDF5 output layout (MODEL.md section 11) in one place. Every dataset gets `units` and
// `description`; every dimension has a dimension scale (global ones at the root, group-local
// ones inside /groups/<name>/), so h5py, xarray (h5netcdf) and R open the file as is.
#include <chrono>
#include <cmath>
#include <ctime>
#include <functional>
#include <limits>
#include <map>
#include <numeric>

#include "incsim/hdf5.h"
#include "incsim/output.h"
#include "incsim/version.h"

namespace incsim {
namespace {

using Dims = std::vector<std::string>;

class Writer {
 public:
  explicit Writer(h5::Group root) : root_(std::move(root)) {}

  // A dimension with its coordinate values: written at the root now, and again inside every
  // group that has a dataset using it, so a group opened alone (xarray's `group=`) carries
  // its coordinates. Datasets attach the copy in their own group.
  template <class T>
  void scale(const std::string& name, const std::vector<T>& values, const std::string& units,
             const std::string& description) {
    writers_[name] = [name, values, units, description](h5::Group& g) {
      h5::Dataset d = g.write(name, values);
      d.attr("units", units).attr("description", description).make_scale(name);
      return d;
    };
    lengths_[name] = values.size();
    scales_.emplace(name, writers_[name](root_));
  }

  // A category dimension whose coordinate is its labels (UTF-8 strings, unique): xarray then
  // selects by name, e.g. `sel(market="crayfish")`.
  void label_scale(const std::string& name, const std::vector<std::string>& labels,
                   const std::string& description) {
    writers_[name] = [name, labels, description](h5::Group& g) {
      h5::Dataset d = g.write_strings(name, labels);
      d.attr("units", "1").attr("description", description).make_scale(name);
      return d;
    };
    lengths_[name] = labels.size();
    scales_.emplace(name, writers_[name](root_));
  }

  // Index coordinate 0..n-1 for a dimension without natural values.
  void index_scale(const std::string& name, std::size_t n, const std::string& description) {
    std::vector<std::int64_t> idx(n);
    std::iota(idx.begin(), idx.end(), 0);
    scale(name, idx, "1", description);
  }

  template <class T>
  h5::Dataset put(const std::string& path, const std::vector<T>& data, const Dims& dims,
                  const std::string& units, const std::string& description,
                  const h5::Compression& compression = {}) {
    std::vector<hsize_t> shape;
    for (const std::string& d : dims) shape.push_back(lengths_.at(d));
    auto [group, name] = split(path);
    h5::Dataset ds = group.write(name, data, shape, compression);
    finish(group, ds, dims, units, description);
    return ds;
  }

  h5::Dataset put_strings(const std::string& path, const std::vector<std::string>& data,
                          const Dims& dims, const std::string& description) {
    auto [group, name] = split(path);
    h5::Dataset ds = group.write_strings(name, data);
    finish(group, ds, dims, "1", description);
    return ds;
  }

  template <class T>
  h5::Dataset put_scalar(const std::string& path, T value, const std::string& units,
                         const std::string& description) {
    auto [group, name] = split(path);
    h5::Dataset ds = group.write_scalar(name, value);
    finish(group, ds, {}, units, description);
    return ds;
  }

  // Mean and its standard error as `<path>` and `<path>_se`.
  void put_estimate(const std::string& path, const Estimate& e, const Dims& dims,
                    const std::string& units, const std::string& description) {
    put(path, e.mean, dims, units, description);
    put(path + "_se", e.se, dims, units, "Monte Carlo standard error of " + path);
  }

  h5::Group& root() { return root_; }

 private:
  std::pair<h5::Group, std::string> split(const std::string& path) {
    const auto slash = path.rfind('/');
    if (slash == std::string::npos) throw h5::H5Error("schema: dataset outside a group: " + path);
    return {root_.group(path.substr(0, slash)), path.substr(slash + 1)};
  }
  void finish(h5::Group& group, h5::Dataset& ds, const Dims& dims, const std::string& units,
              const std::string& description) {
    ds.attr("units", units).attr("description", description);
    for (unsigned k = 0; k < dims.size(); ++k) {
      const std::string key = group.path() + "/" + dims[k];
      auto it = scales_.find(key);
      if (it == scales_.end()) it = scales_.emplace(key, writers_.at(dims[k])(group)).first;
      ds.attach_scale(it->second, k).label_dimension(k, dims[k]);
    }
  }

  h5::Group root_;
  std::map<std::string, std::function<h5::Dataset(h5::Group&)>> writers_;
  std::map<std::string, h5::Dataset> scales_;  // by "group path/dimension" (root: the name)
  std::map<std::string, std::size_t> lengths_;
};

template <class To, class From>
std::vector<To> cast(const std::vector<From>& v) {
  return std::vector<To>(v.begin(), v.end());
}

void write_root_attributes(h5::Group& root, const Model& model, const RunResults& res) {
  const Scenario& s = model.scenario;
  root.attr("incsim_version", INCSIM_VERSION)
      .attr("schema_version", INCSIM_SCHEMA_VERSION)
      .attr("scenario", s.text_as_run)
      .attr("scenario_file", s.source_file)
      .attr("scenario_name", s.name)
      .attr("overrides", s.overrides)
      .attr("replications", static_cast<std::int64_t>(res.replications))
      .attr("replications_requested", static_cast<std::int64_t>(res.replications_requested))
      .attr("years", static_cast<std::int64_t>(model.years))
      .attr("households", static_cast<std::int64_t>(model.households.count()))
      .attr("persons", static_cast<std::int64_t>(model.persons))
      .attr("start_year", static_cast<std::int64_t>(s.start_year))
      .attr("created_utc", utc_now());
  root.attr("seed", std::uint64_t{s.seed});  // unsigned 64-bit, stored exactly
}

void write_households(Writer& w, const Model& model, const RunResults& res,
                      const std::vector<std::string>& industry_names) {
  const Households& hh = model.households;
  const Dims h{"household"};
  w.put_strings("households/id", hh.id, h, "household identifier (csv id or generated index)");
  w.put("households/village", hh.village, h, "1", "village index into /households/village_labels");
  w.put_strings("households/village_labels", model.village_labels, {"village_index"},
                "village names in index order");
  w.put("households/size", hh.size, h, "persons", "household size");
  w.put("households/laborers", hh.laborers, h, "persons", "laborers");
  w.put("households/farmland_mu", hh.farmland_mu, h, "mu", "farmland");
  w.put("households/forest_mu", hh.forest_mu, h, "mu", "forest land");
  w.put("households/capital", hh.capital, h, "yuan", "cash available for setup costs");
  w.put("households/poor", hh.poor, h, "1", "registered poor household (1) or not (0)");
  w.put("households/public_post", hh.public_post, h, "1", "holds a public-welfare post");
  w.put("households/main", hh.main, h, "1",
        "main industry run (index into /industries/name); -1 = none")
      .attr("industries", industry_names);
  w.put("households/aux", hh.aux, h, "1",
        "auxiliary industry run (index into /industries/name); -1 = none")
      .attr("industries", industry_names);
  w.put("households/units_main", hh.units_main, h, "units", "units of the main industry");
  w.put("households/units_aux", hh.units_aux, h, "units", "units of the auxiliary industry");
  for (int p = 0; p < kProducts; ++p)
    w.put(std::string("households/") + kProductTable[p].enrollment_column, hh.enrolled[p], h, "1",
          std::string("enrolled in the ") + kProductTable[p].label);
  w.put("households/certainty_equivalent", hh.certainty_equivalent, h, "yuan per capita",
        "certainty equivalent of the chosen portfolio (NaN when the choice rule does not estimate "
        "one)");
  w.put("households/feasible_portfolios", hh.feasible_portfolios, h, "1",
        "number of candidate portfolios (rule fixed: 1 for its drawn portfolio) its farmland, "
        "forest, labor and cash allow, capacity aside (0: it runs none)");
  std::vector<std::string> constraint_names;
  for (int c = 0; c < kBindingConstraints; ++c)
    constraint_names.push_back(binding_constraint_name(static_cast<BindingConstraint>(c)));
  w.put("households/binding_constraint", hh.binding_constraint, h, "1",
        "why the household runs no industry (index into the labels attribute): 0 none (it runs "
        "one), 1 farmland, 2 forest, 3 labor, 4 cash (no candidate portfolio's first units fit; "
        "the shortage that alone blocks the most candidates), 5 capacity (feasible portfolios "
        "were full when it was served), 6 no_candidate (given no portfolio)")
      .attr("labels", constraint_names);
  w.put("households/mean_income", res.household_mean_income, {"household", "year"},
        "yuan per capita", "mean over replications of the household's per-capita net income");
  w.put("households/vulnerability", res.household_vulnerability, {"household", "year"}, "1",
        "share of replications in which the household is below the poverty line");
  w.put(
      "households/vulnerability_horizon", res.household_vulnerability_horizon, h, "1",
      "share of replications in which the household's horizon-mean income is below the mean line");
}

// /fiscal/by_component (component, year) and its standard errors: the parts of
// /fiscal/government_cost, in the order of MODEL.md section 9. Premium subsidies, transfers,
// posts and setup subsidies do not depend on the shocks (standard error 0); dibao and medical
// reimbursements are the replications' means. Every component is present (0 where the
// scenario has none), so the rows of two results line up.
void write_fiscal_components(Writer& w, const Model& model, const RunResults& res) {
  const std::size_t years = static_cast<std::size_t>(model.years);
  std::vector<std::string> names;
  std::vector<double> mean, se;
  const auto add = [&](const std::string& name, const std::vector<double>& m,
                       const std::vector<double>* e) {
    names.push_back(name);
    for (std::size_t t = 0; t < years; ++t) {
      mean.push_back(m.empty() ? 0.0 : m[t]);
      se.push_back(e == nullptr || e->empty() ? 0.0 : (*e)[t]);
    }
  };
  const std::vector<double> none;
  for (int p = 0; p < kProducts; ++p) {
    const std::string product = kProductTable[p].name;
    const InsuranceResult* found = nullptr;
    for (const InsuranceResult& ins : res.insurance)
      if (ins.name == product) found = &ins;
    add("premium_subsidy_" + product, found ? found->subsidy.mean : none,
        found ? &found->subsidy.se : nullptr);
  }
  add("public_posts", model.posts_paid, nullptr);
  add("transfers", model.transfers_paid, nullptr);
  add("setup_subsidies", model.setup_subsidies_paid, nullptr);
  add("dibao", res.dibao.mean, &res.dibao.se);
  add("health_reimbursement", res.health_enabled ? res.health.reimbursed.mean : none,
      res.health_enabled ? &res.health.reimbursed.se : nullptr);
  w.label_scale("component", names, "part of the government cost (/fiscal/government_cost)");
  w.put("fiscal/by_component", mean, {"component", "year"}, "yuan",
        "the government cost by component: premium subsidies per product, public-welfare "
        "posts, per-capita transfers, setup subsidies, dibao, medical reimbursements; the "
        "components sum to /fiscal/government_cost");
  w.put("fiscal/by_component_se", se, {"component", "year"}, "yuan",
        "Monte Carlo standard error of fiscal/by_component (0 for the parts that do not depend "
        "on the shocks)");
}

// Basis risk and protection value (MODEL.md sections 9, 11): /insurance/<variant>/basis_risk/
// and /insurance/<variant>/ce_gain, after the groups (ce_gain uses the `poor` labels).
void write_protection(Writer& w, const RunResults& res) {
  const Dims t = {"year"};
  for (const BasisRiskResult& br : res.basis_risk) {
    const std::string base = "insurance/" + br.name + "/basis_risk";
    const std::string dim = br.name == "income_index" ? "index_industry" : br.name + "_industry";
    if (br.name == "agricultural")
      w.label_scale(dim, br.industries,
                    "industry covered by agricultural insurance (as "
                    "/insurance/agricultural/basis_risk/industries)");
    if (br.name == "double")
      w.label_scale(dim, br.industries,
                    "industry covered by agricultural or income index insurance (as "
                    "/insurance/double/basis_risk/industries)");
    w.put_strings(base + "/industries", br.industries, {dim}, "covered industries");
    const Dims d = {dim, "year"};
    w.put_estimate(base + "/missed", br.missed, d, "1",
                   "share of shortfalls S > 0 with no compensation K = 0, over enrolled "
                   "households running the industry in a harvest year, pooled over replications "
                   "(ratio-estimator standard error; NaN: no shortfall or no harvest)");
    w.put_estimate(base + "/false_alarm", br.false_alarm, d, "1",
                   "share of compensations K > 0 paid without a shortfall S = 0 (NaN: nothing "
                   "paid or no harvest)");
    w.put_estimate(base + "/covered", br.covered, d, "1",
                   "sum min(K, S) / sum S: the share of the shortfall compensated (NaN: no "
                   "shortfall or no harvest)");
  }
  if (res.protection.empty()) return;
  const Dims g = {"group_poor"};
  for (const ProtectionResult& pr : res.protection) {
    const std::string base = "insurance/" + pr.name;
    w.put_estimate(base + "/ce_gain", pr.ce_gain, g, "yuan per capita",
                   "certainty-equivalent gain: person-weighted mean over the households holding "
                   "the product (double: agricultural or income index) of CE(income as "
                   "simulated) - CE(income without its payouts and premium shares, guard and "
                   "dibao recomputed), per registered-poor group; jackknife standard error");
    w.put(base + "/ce_holders", pr.holders, g, "persons",
          "persons in the households holding it (exposed in some year)");
  }
}

}  // namespace

std::string utc_now() {
  const std::time_t now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm tm{};
  gmtime_r(&now, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

void write_results(h5::Group group, const Model& model, const RunResults& res) {
  Writer w(std::move(group));
  write_root_attributes(w.root(), model, res);
  std::vector<std::string> industry_names;
  for (const IndustryModel& ind : model.industries) industry_names.push_back(ind.name);

  w.scale("year", res.calendar_years, "year", "calendar year");
  w.scale("quantile", res.quantile_levels, "1", "probability level");
  w.index_scale("replication", static_cast<std::size_t>(res.replications), "replication index");
  w.index_scale("household", model.households.count(), "household index (population order)");
  w.label_scale("market", res.market_names, "market name (in the order of /markets/name)");
  w.label_scale("village_index", model.village_labels,
                "village name (position: the index /households/village holds)");
  w.label_scale("industry", industry_names,
                "industry model name (in the order of /industries/name)");
  w.index_scale("bin", res.bin_edges.size() - 1, "income histogram bin");
  w.index_scale("bin_edge", res.bin_edges.size(), "income histogram bin edge");
  std::vector<std::string> portfolio_names;
  for (const PortfolioRow& p : model.portfolios)
    portfolio_names.push_back(portfolio_label(model, p.main, p.aux));
  w.label_scale("portfolio", portfolio_names,
                "portfolio: \"main + aux\", \"main\" or \"none\" (rows of /choice)");

  w.put_strings("markets/name", res.market_names, {"market"}, "market names");
  w.put_strings("industries/name", industry_names, {"industry"}, "industry model names");

  const Dims tm{"year", "market"};
  w.put("prices/mean", res.price_mean, tm, "yuan per market unit",
        "mean price P[m,t] over replications")
      .attr("markets", res.market_names);
  w.put("prices/p05", res.price_p05, tm, "yuan per market unit",
        "5% point of P[m,t] over replications")
      .attr("markets", res.market_names);
  w.put("prices/p95", res.price_p95, tm, "yuan per market unit",
        "95% point of P[m,t] over replications")
      .attr("markets", res.market_names);

  const Dims t{"year"};
  const std::string pc = "yuan per capita";
  w.put("income/mean", res.income_mean.mean, t, pc, "person-weighted mean per-capita net income");
  w.put("income/mean_se", res.income_mean.se, t, pc, "Monte Carlo standard error of income/mean");
  w.put("income/std", res.income_std, t, pc,
        "standard deviation of the pooled person-weighted distribution");
  w.put("income/min", res.income_min, t, pc, "smallest per-capita income seen");
  w.put("income/max", res.income_max, t, pc, "largest per-capita income seen");
  w.put("income/quantiles", res.income_quantiles, {"year", "quantile"}, pc,
        "quantiles of the pooled person-weighted distribution over persons and replications")
      .attr("error_bound",
            "|reported - exact| <= income/quantile_error_bound = max(1 yuan, |q|/512)");
  w.put("income/quantile_error_bound", res.income_quantile_error_bound, {"year", "quantile"}, pc,
        "bound on the absolute error of income/quantiles (half the fine-bin width)");
  w.put("income/horizon_mean_quantiles", res.horizon_mean_quantiles, {"quantile"}, pc,
        "quantiles of ybar, the household's horizon-mean per-capita income, person-weighted");
  w.put("income/horizon_mean_quantile_error_bound", res.horizon_mean_quantile_error_bound,
        {"quantile"}, pc, "bound on the absolute error of income/horizon_mean_quantiles");
  w.put("income/histogram", res.histogram, {"year", "bin"}, "1",
        "share of persons x replications with income in [bin_edges[k], bin_edges[k+1])");
  w.put("income/bin_edges", res.bin_edges, {"bin_edge"}, pc, "histogram bin edges");

  w.put("poverty/line", res.poverty_line, t, pc, "poverty line z_t");
  w.put_estimate("poverty/fgt0", res.fgt0, t, "1", "headcount ratio FGT0, person-weighted");
  w.put_estimate("poverty/fgt1", res.fgt1, t, "1", "poverty gap FGT1");
  w.put_estimate("poverty/fgt2", res.fgt2, t, "1", "poverty severity FGT2");
  w.put_estimate("poverty/relapse", res.relapse, t, "1",
                 "persons poor in t among persons not poor in t-1 (year 1 NaN)");
  w.put_estimate("poverty/registered_share", res.registered_share, t, "1",
                 "persons of registered-poor households among the poor persons (mean over "
                 "replications with someone poor)");
  w.put_scalar("poverty/ever_poor", res.ever_poor.mean[0], "1",
               "persons in households below the line in at least one year");
  w.put_scalar("poverty/ever_poor_se", res.ever_poor.se[0], "1", "standard error of ever_poor");
  w.put_estimate("poverty/two_consecutive_poor", res.two_consecutive_poor, t, "1",
                 "persons in households poor in year t and in t-1 (year 1 NaN)");
  w.put_scalar("poverty/two_consecutive_poor_ever", res.two_consecutive_poor_ever.mean[0], "1",
               "persons in households poor in two consecutive years at least once");
  w.put_scalar("poverty/two_consecutive_poor_ever_se", res.two_consecutive_poor_ever.se[0], "1",
               "standard error of two_consecutive_poor_ever");
  w.put("poverty/fgt0_quantiles", res.fgt0_quantiles, {"year", "quantile"}, "1",
        "quantiles over replications of the county headcount FGT0 (exact order statistics)");
  w.put("poverty/vulnerable_share", res.vulnerable_share, t, "1",
        "share of persons whose household has P(y < z_t) >= 0.5");
  w.put_scalar("poverty/vulnerable_share_horizon", res.vulnerable_share_horizon, "1",
               "share of persons whose household has P(ybar < mean z) >= 0.5");
  w.put_estimate("poverty/target_risk", res.target_risk, t, "1",
                 "probability over replications that headcount exceeds exit_target");
  w.put_estimate("poverty/negative_farm_income", res.negative_farm_income, t, "1",
                 "share of persons in farming households whose farm net income is negative");

  w.put("replications/fgt0", res.per_replication.fgt0, {"replication", "year"}, "1",
        "headcount per replication");
  w.put("replications/government_cost", res.per_replication.government_cost,
        {"replication", "year"}, "yuan", "government cost per replication");
  w.put("replications/mean_income", res.per_replication.mean_income, {"replication", "year"}, pc,
        "person-weighted mean income per replication");
  w.put("replications/fgt1", res.per_replication.fgt1, {"replication", "year"}, "1",
        "poverty gap FGT1 per replication");
  w.put("replications/fgt2", res.per_replication.fgt2, {"replication", "year"}, "1",
        "poverty severity FGT2 per replication");
  for (int p = 0; p < kProducts; ++p) {
    if (!model.insurance.plan[p].enabled) continue;
    const std::string product = kProductTable[p].name;
    w.put("replications/payout_" + product, res.per_replication.insurance[p].payout,
          {"replication", "year"}, "yuan", product + " payouts per replication");
  }

  w.put_estimate("fiscal/government_cost", res.government_cost, t, "yuan",
                 res.health_enabled ? "premium subsidies + public posts + transfers + dibao + "
                                      "setup subsidies + medical reimbursements"
                                    : "premium subsidies + public posts + transfers + dibao + "
                                      "setup subsidies");
  w.put_estimate("fiscal/dibao", res.dibao, t, "yuan", "dibao top-ups paid");
  write_fiscal_components(w, model, res);
  if (res.health_enabled) {
    const HealthResult& h = res.health;
    w.put_estimate("fiscal/health_reimbursement", h.reimbursed, t, "yuan",
                   "medical costs reimbursed by public schemes (part of the government cost)");
    w.put_estimate("health/cost", h.cost, t, "yuan", "medical costs of all illness episodes");
    w.put_estimate("health/reimbursed", h.reimbursed, t, "yuan",
                   "medical costs reimbursed by public schemes");
    w.put_estimate("health/out_of_pocket", h.out_of_pocket, t, "yuan",
                   "medical costs paid by households: min(cap, (1 - reimbursement) x cost)");
    w.put_estimate("health/episodes_per_person", h.episodes_per_person, t, "episodes per person",
                   "occurrences of (person, illness) in the year divided by persons");
    w.put_estimate("health/impoverished", h.impoverished, t, "1",
                   "share of persons in households below the line whose income before "
                   "out-of-pocket costs, y + O/size, is at least the line");
  }

  for (const InsuranceResult& ins : res.insurance) {
    const std::string base = "insurance/" + ins.name;
    w.put_estimate(base + "/premium", ins.premium, t, "yuan",
                   "premiums due (household + government shares)");
    w.put_estimate(base + "/subsidy", ins.subsidy, t, "yuan", "government share of the premiums");
    w.put_estimate(base + "/payout", ins.payout, t, "yuan", "indemnities and payouts");
    w.put_estimate(base + "/loss_ratio", ins.loss_ratio, t, "1",
                   "E[payout] / E[premium] (delta-method standard error)");
    w.put_estimate(base + "/paid_share", ins.paid_share, t, "1",
                   "share of enrolled households exposed that year that received a payout");
    w.put_estimate(base + "/insurer_result", ins.insurer_result, t, "yuan",
                   "premiums minus payouts: the insurer's result");
    w.put(base + "/exposed", ins.exposed, t, "households",
          "enrolled households exposed that year (running a covered industry, or enrolled in the "
          "guard)");
    if (!ins.rate_industries.empty()) {
      w.label_scale("index_industry", ins.rate_industries,
                    "industry covered by income index insurance (as "
                    "/insurance/income_index/industries)");
      w.put_strings(base + "/industries", ins.rate_industries, {"index_industry"},
                    "covered industries");
      w.put(base + "/rate_used", ins.rate_used, {"index_industry", "year"}, "1",
            "premium rate of sum guaranteed G used per covered industry and harvest year (NaN: no "
            "harvest)");
    }
  }

  write_households(w, model, res, industry_names);

  if (res.sample_path_count > 0) {
    // Opt-in sample paths: float32, chunked by replication, shuffled and compressed.
    w.index_scale("sample", static_cast<std::size_t>(res.sample_path_count),
                  "replication index of the sample path");
    const auto n = static_cast<hsize_t>(model.households.count());
    h5::Compression gzip;
    gzip.enabled = true;
    gzip.chunk = {1, std::min<hsize_t>(n, 4096), static_cast<hsize_t>(model.years)};
    w.put("paths/income", res.sample_paths, {"sample", "household", "year"}, pc,
          "per-capita net income of every household in the first replications", gzip);
  }
  if (!res.convergence.empty()) {
    const ConvergenceTarget& target = model.scenario.output.target;
    std::vector<std::int64_t> reps;
    std::vector<double> estimate, se;
    for (const ConvergenceRow& row : res.convergence) {
      reps.push_back(row.replications);
      estimate.push_back(row.estimate);
      se.push_back(row.standard_error);
    }
    w.index_scale("batch", reps.size(), "replication batch");
    w.put("convergence/replications", reps, {"batch"}, "replications",
          "replications done after each batch")
        .attr("measure", target.measure)
        .attr("year", std::int64_t{target.year})
        .attr("target_standard_error", target.standard_error)
        .attr("target_relative_error", target.relative_error);
    w.put("convergence/estimate", estimate, {"batch"}, "as the measure",
          "estimate of the target measure after each batch");
    w.put("convergence/standard_error", se, {"batch"}, "as the measure",
          "its Monte Carlo standard error after each batch");
  }

  std::vector<std::int32_t> pmain, paux;
  std::vector<double> pshare, ppersons;
  for (const PortfolioRow& p : model.portfolios) {
    pmain.push_back(p.main);
    paux.push_back(p.aux);
    pshare.push_back(p.household_share);
    ppersons.push_back(p.person_share);
  }
  const Dims pd{"portfolio"};
  w.put("choice/portfolio_main", pmain, pd, "1", "main industry (-1 = none)")
      .attr("industries", industry_names);
  w.put("choice/portfolio_aux", paux, pd, "1", "auxiliary industry (-1 = none)")
      .attr("industries", industry_names);
  w.put("choice/share", pshare, pd, "1", "share of households running the portfolio");
  w.put("choice/person_share", ppersons, pd, "1", "share of persons in households running it");
  w.put("choice/capacity_used", model.capacity_used, {"industry"}, "units",
        "units of each industry taken by the households (industries.<i>.capacity); NaN where "
        "the capacity is unbounded")
      .attr("capacity", [&] {
        std::vector<double> c;
        for (const Industry& ind : model.scenario.industries)
          c.push_back(std::isfinite(ind.capacity) ? ind.capacity
                                                  : std::numeric_limits<double>::quiet_NaN());
        return c;
      }());

  for (const GroupResult& g : res.groups) {
    const std::string base = "groups/" + g.name;
    const std::string dim = "group_" + g.name;
    w.label_scale(dim, g.labels, "group label (as /" + base + "/labels)");
    w.put_strings(base + "/labels", g.labels, {dim}, "group labels");
    w.put(base + "/persons", g.persons, {dim}, "persons", "persons in the group");
    w.put_estimate(base + "/fgt0", g.fgt0, {dim, "year"}, "1", "headcount ratio within the group");
    w.put_estimate(base + "/income_mean", g.income_mean, {dim, "year"}, pc,
                   "person-weighted mean per-capita income within the group");
    if (res.health_enabled) {
      w.put_estimate(base + "/health_out_of_pocket", g.health_out_of_pocket, {dim, "year"}, "yuan",
                     "the group's out-of-pocket medical costs per year (all its households)");
      w.put_estimate(base + "/health_cost", g.health_cost, {dim, "year"}, "yuan",
                     "the group's medical costs per year, reimbursed and out of pocket (all its "
                     "households)");
    }
  }
  write_protection(w, res);
}

void write_results(const std::string& path, const Model& model, const RunResults& res) {
  h5::AtomicFile out(path);
  write_results(out.file().root(), model, res);
  out.commit();
}

}  // namespace incsim
