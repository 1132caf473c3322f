// Scenario -> Model: derived tables for the kernel (MODEL.md sections 2-4, 7, 9).
#include "incsim/model.h"

#include <Eigen/Cholesky>
#include <Eigen/Eigenvalues>
#include <algorithm>
#include <cmath>
#include <map>
#include <stdexcept>

#include "incsim/draws.h"
#include "incsim/rng.h"
#include "model/internal.h"

namespace incsim {
namespace {

// Tolerance of the resource check: a need equal to what is left fits despite rounding.
bool fits(double used, double need, double available) {
  return used + need <= available + 1e-9 * std::max(1.0, std::abs(available));
}

std::vector<MarketModel> build_markets(const Scenario& s) {
  std::vector<MarketModel> out;
  for (const Market& m : s.markets) {
    MarketModel mm;
    mm.name = m.name;
    mm.price = m.price;
    mm.sigma = m.volatility;
    mm.phi = m.persistence;
    double v = 0.0;
    double phi_pow = 1.0;  // phi^(2j)
    for (int t = 1; t <= s.years; ++t) {
      mm.expected_price.push_back(m.price * std::pow(1.0 + m.trend, t - 1));
      v += m.volatility * m.volatility * phi_pow;
      phi_pow *= m.persistence * m.persistence;
      mm.half_variance.push_back(0.5 * v);
    }
    out.push_back(std::move(mm));
  }
  return out;
}

// A with A A^T = C, group by group of linked markets: the Cholesky factor of a group's block
// when it is positive definite, else its symmetric square root from the eigen-decomposition (C
// may be singular but is PSD by validation).
InnovationFactor innovation_factor(const Scenario& s) {
  const std::size_t m = s.markets.size();
  const std::vector<std::vector<std::size_t>> groups = correlation_groups(m, s.correlation);
  std::vector<std::vector<std::pair<std::uint32_t, double>>> rows(m);
  std::vector<std::size_t> position(m, 0);  // of a market within its group
  std::map<std::pair<int, int>, double> rho;
  for (const CorrelationPair& p : s.correlation) rho[{p.a, p.b}] = p.rho;
  for (const std::vector<std::size_t>& g : groups) {
    const int n = static_cast<int>(g.size());
    for (int i = 0; i < n; ++i) position[g[i]] = static_cast<std::size_t>(i);
    Eigen::MatrixXd c = Eigen::MatrixXd::Identity(n, n);
    for (int i = 0; i < n; ++i)
      for (int j = i + 1; j < n; ++j) {
        const auto it = rho.find({static_cast<int>(g[i]), static_cast<int>(g[j])});
        if (it != rho.end()) c(i, j) = c(j, i) = it->second;
      }
    Eigen::MatrixXd a;
    Eigen::LLT<Eigen::MatrixXd> llt(c);
    if (llt.info() == Eigen::Success) {
      a = llt.matrixL();
    } else {
      Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> eig(c);
      Eigen::VectorXd root = eig.eigenvalues().cwiseMax(0.0).cwiseSqrt();
      a = eig.eigenvectors() * root.asDiagonal() * eig.eigenvectors().transpose();
    }
    for (int i = 0; i < n; ++i)
      for (int j = 0; j < n; ++j)
        if (a(i, j) != 0.0) rows[g[i]].push_back({static_cast<std::uint32_t>(g[j]), a(i, j)});
  }
  InnovationFactor out;
  out.start.push_back(0);
  for (auto& row : rows) {
    std::sort(row.begin(), row.end());  // columns ascending, as the dense row summed them
    for (const auto& [column, value] : row) {
      out.column.push_back(column);
      out.value.push_back(value);
    }
    out.start.push_back(static_cast<std::uint32_t>(out.column.size()));
  }
  return out;
}

std::vector<IndustryModel> build_industries(const Scenario& s) {
  std::vector<IndustryModel> out;
  for (const Industry& ind : s.industries) {
    IndustryModel im;
    im.name = ind.name;
    im.cycle_years = ind.cycle_years;
    im.setup_cost = ind.setup_cost;
    im.setup_subsidy = ind.setup_subsidy;
    im.operating_cost = ind.operating_cost;
    for (const Product& p : ind.products) {
      ProductModel pm;
      pm.market = p.market;
      pm.yield = p.yield;
      pm.log_sigma = std::sqrt(std::log1p(p.yield_cv * p.yield_cv));
      const auto& fl = ind.price_floor;
      pm.floor = (p.market < static_cast<int>(fl.size()) && fl[p.market]) ? *fl[p.market] : 0.0;
      im.products.push_back(pm);
    }
    for (int t = 1; t <= s.years; ++t) im.harvest.push_back(t % ind.cycle_years == 0 ? 1 : 0);
    out.push_back(std::move(im));
  }
  return out;
}

// Draws the enrollment and public posts (enrollment stream), unless the csv gives them.
void assign_posts(const Scenario& s, Households& hh) {
  const rng::Addressed draw{rng::make_key(s.seed, rng::Stream::enrollment)};
  const bool csv = !s.population.records.empty();
  for (std::size_t h = 0; h < hh.count(); ++h) {
    const auto u = static_cast<std::uint32_t>(h);
    if (csv && s.population.records[h].public_post) {
      hh.public_post[h] = *s.population.records[h].public_post ? 1 : 0;
    } else {
      const double post = rng::uniform(draw(u, 0, 0, draws::kPublicPost)[0]);
      hh.public_post[h] = (hh.poor[h] && post < s.income.public_posts.share_of_poor) ? 1 : 0;
    }
  }
}

std::vector<HazardModel> build_hazards(const Scenario& s) {
  std::vector<HazardModel> out;
  for (const Hazard& hz : s.hazards)
    out.push_back({hz.name, hz.scope, hz.probability, hz.severity, hz.affects, hz.price_shock});
  return out;
}

// Everything every household gets or pays each year that does not depend on the shocks, and
// the product plans (premium totals, subsidies, exposed households).
void compute_fixed_income(Model& model) {
  Households& hh = model.households;
  const int years = model.years;
  for (ProductPlan& plan : model.insurance.plan)
    plan.premium = plan.subsidy = plan.exposed = std::vector<double>(years, 0.0);
  hh.fixed_income.assign(hh.count() * years, 0.0);
  hh.farm_cost.assign(hh.count() * years, 0.0);
  model.government_fixed.assign(years, 0.0);
  model.transfers_paid.assign(years, 0.0);
  model.posts_paid.assign(years, 0.0);
  model.setup_subsidies_paid.assign(years, 0.0);
  const double transfers_per_capita = model.scenario.income.transfers_per_capita;
  for (std::size_t h = 0; h < hh.count(); ++h) {
    PortfolioSlots slots;
    slots.industry[0] = hh.main[h];
    slots.industry[1] = hh.aux[h];
    slots.units[0] = hh.units_main[h];
    slots.units[1] = hh.units_aux[h];
    for (int t = 1; t <= years; ++t) {
      const FixedIncome f = fixed_income_of(model, h, slots, t);
      for (int p = 0; p < kProducts; ++p) {
        const auto& share = f.premiums.product[p];
        if (!share.exposed) continue;
        ProductPlan& plan = model.insurance.plan[p];
        plan.premium[t - 1] += share.premium;
        plan.subsidy[t - 1] += share.government;
        plan.exposed[t - 1] += 1.0;
      }
      hh.farm_cost[model.cell(h, t)] = f.farm_cost;
      hh.fixed_income[model.cell(h, t)] = f.income;
      double transfers = hh.size[h] * transfers_per_capita;
      model.transfers_paid[t - 1] += transfers;
      if (hh.public_post[h]) {
        transfers += model.scenario.income.public_posts.amount;
        model.posts_paid[t - 1] += model.scenario.income.public_posts.amount;
      }
      model.setup_subsidies_paid[t - 1] += f.setup_subsidy;
      model.government_fixed[t - 1] += transfers + f.setup_subsidy + f.premiums.government;
    }
  }
}

}  // namespace

FixedIncome fixed_income_of(const Model& model, std::size_t h, const PortfolioSlots& slots, int t) {
  const Scenario& s = model.scenario;
  const Households& hh = model.households;
  double transfers = hh.size[h] * s.income.transfers_per_capita;
  if (hh.public_post[h]) transfers += s.income.public_posts.amount;
  const double wage = model.income.stochastic_wage
                          ? 0.0
                          : hh.laborers[h] * model.income.wage[hh.poor[h] ? 1 : 0].mean;
  FixedIncome f;
  for (int k = 0; k < 2; ++k) {
    if (slots.industry[k] < 0) continue;
    const IndustryModel& ind = model.industries[slots.industry[k]];
    f.farm_cost += slots.units[k] * ind.operating_cost;
    if (t == 1) {
      f.farm_cost += slots.units[k] * ind.setup_cost * (1.0 - ind.setup_subsidy);
      f.setup_subsidy += slots.units[k] * ind.setup_cost * ind.setup_subsidy;
    }
  }
  f.premiums = premiums_of(model, h, slots, t);
  f.income = transfers + wage - f.farm_cost - f.premiums.household;
  return f;
}

namespace {

// /choice rows: `listed` in order, then any other portfolio run, then "none".
void build_portfolio_rows(Model& model, const std::vector<std::pair<int, int>>& listed) {
  const Households& hh = model.households;
  model.portfolios.clear();
  std::map<std::pair<int, int>, std::pair<double, double>> run;  // households, persons
  for (std::size_t h = 0; h < hh.count(); ++h) {
    const int main = hh.main[h], aux = hh.aux[h];
    auto& counts = run[{main, aux}];
    counts.first += 1.0;
    counts.second += hh.size[h];
  }
  const double households = static_cast<double>(hh.count());
  const double persons = static_cast<double>(model.persons);
  std::vector<std::pair<int, int>> rows;
  for (const auto& p : listed)
    if (p.first >= 0 && std::find(rows.begin(), rows.end(), p) == rows.end()) rows.push_back(p);
  for (const auto& [key, counts] : run)
    if (key.first >= 0 && std::find(rows.begin(), rows.end(), key) == rows.end())
      rows.push_back(key);
  rows.push_back({-1, -1});
  for (const auto& key : rows) {
    const auto it = run.find(key);
    const double n = it == run.end() ? 0.0 : it->second.first;
    const double w = it == run.end() ? 0.0 : it->second.second;
    model.portfolios.push_back({key.first, key.second, n / households, w / persons});
  }
}

HealthModel build_health(const Scenario& s) {
  HealthModel m;
  const HealthSpec& spec = s.health;
  m.enabled = spec.enabled && !spec.illnesses.empty();
  for (const Illness& ill : spec.illnesses) {
    m.illnesses.push_back({ill.name, ill.probability, ill.cost.mean,
                           std::sqrt(std::log1p(ill.cost.cv * ill.cost.cv)), ill.days_lost});
    m.loses_days |= m.enabled && ill.days_lost > 0.0 && ill.probability > 0.0;
  }
  for (int g = 0; g < 2; ++g) {
    m.out_of_pocket_share[g] = 1.0 - spec.reimbursement.of(g == 1);
    m.out_of_pocket_cap[g] = spec.out_of_pocket_cap.of(g == 1);
  }
  m.deduct = spec.deduct_out_of_pocket;
  m.labor_days = s.population.labor_days_per_laborer;
  return m;
}

}  // namespace

bool Model::stochastic_wage() const {
  return income.stochastic_wage;
}

Units portfolio_units(const Scenario& s, int main, int aux, double farmland_mu, double forest_mu,
                      int laborers, double capital) {
  const double labor_days = laborers * s.population.labor_days_per_laborer;
  struct Used {
    double farmland = 0, forest = 0, labor = 0, capital = 0;
  } used;
  auto try_add = [&](int i) {
    const Industry& ind = s.industries[i];
    const double setup = ind.setup_cost * (1.0 - ind.setup_subsidy);
    if (!fits(used.farmland, ind.needs_farmland_mu, farmland_mu) ||
        !fits(used.forest, ind.needs_forest_mu, forest_mu) ||
        !fits(used.labor, ind.needs_labor_days, labor_days) || !fits(used.capital, setup, capital))
      return false;
    used.farmland += ind.needs_farmland_mu;
    used.forest += ind.needs_forest_mu;
    used.labor += ind.needs_labor_days;
    used.capital += setup;
    return true;
  };
  Units n;
  if (!try_add(main)) return {};
  n.main = 1;
  if (aux >= 0) {
    if (!try_add(aux)) return {};
    n.aux = 1;
  }
  while (n.main < s.industries[main].max_units && try_add(main)) ++n.main;
  if (aux >= 0)
    while (n.aux < s.industries[aux].max_units && try_add(aux)) ++n.aux;
  return n;
}

std::string portfolio_label(const Model& model, int main, int aux) {
  if (main < 0) return "none";
  std::string label = model.industries[static_cast<std::size_t>(main)].name;
  if (aux >= 0) label += " + " + model.industries[static_cast<std::size_t>(aux)].name;
  return label;
}

unsigned portfolio_shortage(const Scenario& s, int main, int aux, double farmland_mu,
                            double forest_mu, int laborers, double capital) {
  const Industry& m = s.industries[main];
  const Industry* a = aux >= 0 ? &s.industries[aux] : nullptr;
  auto setup = [](const Industry& ind) { return ind.setup_cost * (1.0 - ind.setup_subsidy); };
  // As portfolio_units adds them: main's first unit, then aux's on top of it.
  auto short_of = [&](double need_main, double need_aux, double available) {
    return !fits(0.0, need_main, available) || (a && !fits(need_main, need_aux, available));
  };
  auto bit = [](BindingConstraint c) { return 1u << static_cast<unsigned>(c); };
  unsigned mask = 0;
  if (short_of(m.needs_farmland_mu, a ? a->needs_farmland_mu : 0.0, farmland_mu))
    mask |= bit(BindingConstraint::farmland);
  if (short_of(m.needs_forest_mu, a ? a->needs_forest_mu : 0.0, forest_mu))
    mask |= bit(BindingConstraint::forest);
  if (short_of(m.needs_labor_days, a ? a->needs_labor_days : 0.0,
               laborers * s.population.labor_days_per_laborer))
    mask |= bit(BindingConstraint::labor);
  if (short_of(setup(m), a ? setup(*a) : 0.0, capital)) mask |= bit(BindingConstraint::cash);
  return mask;
}

const char* binding_constraint_name(BindingConstraint c) {
  switch (c) {
    case BindingConstraint::none:
      return "none";
    case BindingConstraint::farmland:
      return "farmland";
    case BindingConstraint::forest:
      return "forest";
    case BindingConstraint::labor:
      return "labor";
    case BindingConstraint::cash:
      return "cash";
    case BindingConstraint::capacity:
      return "capacity";
    case BindingConstraint::no_candidate:
      return "no_candidate";
  }
  return "?";
}

Model build_population_model(const Scenario& scenario) {
  Model model;
  model.scenario = scenario;
  model.years = scenario.years;
  model.replications = scenario.replications;
  model.seed = scenario.seed;
  model.markets = build_markets(scenario);
  model.innovation_factor = innovation_factor(scenario);
  model.industries = build_industries(scenario);
  model.hazards = build_hazards(scenario);
  model.health = build_health(scenario);
  for (int g = 0; g < 2; ++g) {
    const WageSpec& wage = scenario.income.wage_of(g == 1);
    WageTerms& terms = model.income.wage[g];
    terms.mean = wage.per_laborer;
    terms.log_sigma = std::sqrt(std::log1p(wage.cv * wage.cv));
    terms.employment_rate = wage.employment_rate;
    model.income.stochastic_wage |=
        wage.per_laborer > 0.0 &&
        (wage.cv > 0.0 || wage.employment_rate < 1.0 || model.health.loses_days);
  }
  const WageTerms& w0 = model.income.wage[0];
  const WageTerms& w1 = model.income.wage[1];
  model.income.wage_by_group = w0.mean != w1.mean || w0.log_sigma != w1.log_sigma ||
                               w0.employment_rate != w1.employment_rate;
  model.income.dibao_line = scenario.income.dibao.line;
  model.reporting.start_year = scenario.start_year;
  model.reporting.quantiles = scenario.output.quantiles;
  model.reporting.histogram_bins = scenario.output.histogram_bins;
  model.reporting.exit_target = scenario.poverty.exit_target;
  if (scenario.insurance.income_index.enabled)
    model.reporting.index_covers = scenario.insurance.income_index.covers;
  detail::build_insurance(model);
  detail::build_protection(model);
  for (int t = 1; t <= scenario.years; ++t)
    model.poverty_line.push_back(scenario.poverty.line *
                                 std::pow(1.0 + scenario.poverty.line_growth, t - 1));

  Households& hh = model.households;
  if (scenario.population.records.empty())
    detail::generate_population(scenario, hh, model.village_labels);
  else
    detail::import_population(scenario, hh, model.village_labels);
  for (std::size_t h = 0; h < hh.count(); ++h) model.persons += hh.size[h];
  assign_posts(scenario, hh);
  detail::assign_enrollment(scenario, hh);
  set_portfolios(model, std::vector<int>(hh.count(), -1), std::vector<int>(hh.count(), -1), {});
  return model;
}

std::vector<Units> household_units(const Model& model, int main, int aux) {
  const Households& hh = model.households;
  std::vector<Units> out(hh.count());
  for (std::size_t h = 0; h < hh.count(); ++h)
    out[h] = portfolio_units(model.scenario, main, aux, hh.farmland_mu[h], hh.forest_mu[h],
                             hh.laborers[h], hh.capital[h]);
  return out;
}

void set_portfolios(Model& model, const std::vector<int>& main, const std::vector<int>& aux,
                    const std::vector<std::pair<int, int>>& listed) {
  Households& hh = model.households;
  for (std::size_t h = 0; h < hh.count(); ++h) {
    hh.main[h] = hh.aux[h] = -1;
    hh.units_main[h] = hh.units_aux[h] = 0;
    if (main[h] < 0) continue;
    const Units n = portfolio_units(model.scenario, main[h], aux[h], hh.farmland_mu[h],
                                    hh.forest_mu[h], hh.laborers[h], hh.capital[h]);
    if (n.main == 0) continue;  // infeasible for this household: it runs none
    hh.main[h] = main[h];
    hh.aux[h] = aux[h];
    hh.units_main[h] = n.main;
    hh.units_aux[h] = n.aux;
  }
  compute_fixed_income(model);
  detail::build_kernel_tables(model);
  build_portfolio_rows(model, listed);
}

std::vector<double> discount_weights(double rate, int years) {
  std::vector<double> w(static_cast<std::size_t>(years));
  const double beta = 1.0 / (1.0 + rate);
  double power = 1.0, total = 0.0;
  for (double& x : w) {
    x = power;
    total += power;
    power *= beta;
  }
  for (double& x : w) x /= total;
  return w;
}

}  // namespace incsim
