// A readable summary of a validated scenario, printed by `incsim validate`.
#include <algorithm>
#include <cmath>
#include <iomanip>
#include <numeric>
#include <sstream>

#include "incsim/load.h"

namespace incsim {

namespace {

std::string num(double value) {
  std::ostringstream out;
  out << std::setprecision(6) << value;
  return out.str();
}

std::string percent(double share) {
  return num(100.0 * share) + "%";
}

std::string lognormal(const LognormalSpec& spec, const std::string& unit) {
  return "mean " + num(spec.mean) + unit + " (cv " + num(spec.cv) + ")";
}

void describe_markets(std::ostringstream& out, const Scenario& s) {
  const std::size_t m = s.markets.size();
  out << "markets (" << m << "):\n";
  std::size_t width = 6;
  for (const Market& market : s.markets) width = std::max(width, market.name.size() + 2);
  out << "  " << std::left << std::setw(static_cast<int>(width)) << "name" << std::setw(8) << "unit"
      << std::setw(12) << "price" << std::setw(10) << "trend" << std::setw(12) << "volatility"
      << "persistence\n";
  for (const Market& market : s.markets) {
    out << "  " << std::setw(static_cast<int>(width)) << market.name << std::setw(8)
        << (market.unit.empty() ? "-" : market.unit) << std::setw(12) << num(market.price)
        << std::setw(10) << num(market.trend) << std::setw(12) << num(market.volatility)
        << num(market.persistence) << "\n";
  }
  out << std::right;
  std::vector<std::string> pairs;
  for (const CorrelationPair& p : s.correlation)
    if (p.rho != 0.0)
      pairs.push_back(s.markets[static_cast<std::size_t>(p.a)].name + "-" +
                      s.markets[static_cast<std::size_t>(p.b)].name + " " + num(p.rho));
  out << "  correlation: ";
  if (pairs.empty()) out << "none (independent innovations)";
  for (std::size_t i = 0; i < pairs.size(); ++i) out << (i ? ", " : "") << pairs[i];
  out << "\n";
}

void describe_industries(std::ostringstream& out, const Scenario& s) {
  out << "industries (" << s.industries.size() << "):\n";
  for (const Industry& ind : s.industries) {
    const std::string unit = ind.unit.empty() ? "unit" : ind.unit;
    out << "  " << ind.name;
    if (ind.label != ind.name) out << " \"" << ind.label << "\"";
    out << ": per " << unit << ", harvest every " << ind.cycle_years << " year"
        << (ind.cycle_years == 1 ? "" : "s") << ", at most " << ind.max_units
        << (ind.max_units == 1 ? " unit" : " units");
    if (std::isfinite(ind.capacity))
      out << "; capacity " << num(ind.capacity) << " units (" << unit
          << ") in the whole population";
    out << "\n    products:";
    for (std::size_t p = 0; p < ind.products.size(); ++p) {
      const Product& product = ind.products[p];
      const Market& market = s.markets[static_cast<std::size_t>(product.market)];
      out << (p ? "," : "") << " " << market.name << " " << num(product.yield) << " " << market.unit
          << " (cv " << num(product.yield_cv);
      const auto& floor = ind.price_floor[static_cast<std::size_t>(product.market)];
      if (floor) out << ", floor " << num(*floor);
      out << ")";
    }
    out << "\n    needs per " << unit << ": farmland " << num(ind.needs_farmland_mu)
        << " mu, forest " << num(ind.needs_forest_mu) << " mu, " << num(ind.needs_labor_days)
        << " labor days\n";
    out << "    costs per " << unit << ": setup " << num(ind.setup_cost) << " (subsidy "
        << percent(ind.setup_subsidy) << "), operating " << num(ind.operating_cost)
        << " per year\n";
  }
}

void describe_distributions(std::ostringstream& out, const HouseholdDistributions& d,
                            const std::string& indent) {
  const double weight_sum = std::accumulate(d.size_weights.begin(), d.size_weights.end(), 0.0);
  double mean_size = 0.0;
  for (std::size_t i = 0; i < d.size_values.size(); ++i)
    mean_size += d.size_values[i] * d.size_weights[i] / weight_sum;
  out << indent << "size: mean " << num(mean_size) << " over {";
  for (std::size_t i = 0; i < d.size_values.size(); ++i)
    out << (i ? ", " : "") << num(d.size_values[i]);
  out << "}; laborers: round(size * " << num(d.laborer_share_of_size) << "), at least "
      << d.laborer_min << "\n";
  const std::string more(indent.size(), ' ');
  out << more << "farmland: " << lognormal(d.farmland_mu, " mu")
      << "; forest: " << lognormal(d.forest_mu, " mu") << "; capital: " << lognormal(d.capital, "")
      << "\n";
}

void describe_population(std::ostringstream& out, const Scenario& s) {
  const Population& p = s.population;
  out << "population: ";
  if (!p.records.empty()) {
    long persons = 0;
    long poor = 0;
    for (const HouseholdRecord& r : p.records) {
      persons += r.size;
      poor += r.poor ? 1 : 0;
    }
    out << p.records.size() << " households from " << p.csv_path << " (" << p.villages
        << " villages, " << persons << " persons, " << poor << " poor households";
    if (p.records.front().main) out << ", portfolios from the csv";
    out << ")\n";
  } else {
    out << p.households << " households generated in " << p.villages << " village"
        << (p.villages == 1 ? "" : "s") << "\n";
    describe_distributions(out, p.all, p.poor_block ? "  other households: " : "  ");
    if (p.poor_block) describe_distributions(out, p.poor, "  registered poor: ");
    out << "  poor share: " << percent(p.poor_share) << "\n";
  }
  out << "  labor days per laborer: " << num(p.labor_days_per_laborer) << "\n";
}

void describe_income(std::ostringstream& out, const Scenario& s) {
  const IncomeSpec& income = s.income;
  out << "income:\n";
  for (bool poor : {false, true}) {
    if (poor && !income.wage_poor_block) continue;
    const WageSpec& w = income.wage_of(poor);
    out << (poor                     ? "  wage of registered-poor laborers: "
            : income.wage_poor_block ? "  wage of other laborers: "
                                     : "  wage: ")
        << num(w.per_laborer) << " per laborer-year (cv " << num(w.cv) << ", employment rate "
        << percent(w.employment_rate) << ")\n";
  }
  out << "  public posts: " << percent(income.public_posts.share_of_poor) << " of poor households, "
      << num(income.public_posts.amount) << " per post-year\n";
  out << "  transfers: " << num(income.transfers_per_capita) << " per capita\n";
  out << "  dibao: ";
  if (income.dibao.enabled) {
    out << "line " << num(income.dibao.line) << " per capita, eligible: "
        << (income.dibao.eligible == DibaoEligible::poor ? "poor" : "all") << ", take-up "
        << num(income.dibao.take_up) << "\n";
  } else {
    out << "none\n";
  }
}

std::string industry_list(const Scenario& s, const std::vector<double>& factors) {
  std::string text;
  for (std::size_t i = 0; i < factors.size(); ++i) {
    if (factors[i] == 0.0) continue;
    text += (text.empty() ? "" : ", ") + s.industries[i].name + " x" + num(factors[i]);
  }
  return text.empty() ? "none" : text;
}

void describe_hazards(std::ostringstream& out, const Scenario& s) {
  if (s.hazards.empty()) {
    out << "hazards: none\n";
    return;
  }
  out << "hazards (" << s.hazards.size() << "):\n";
  for (const Hazard& h : s.hazards) {
    static const char* const scopes[] = {"county", "village", "household"};
    out << "  " << h.name << ": probability " << percent(h.probability) << " per year per "
        << scopes[static_cast<int>(h.scope)] << "; loss fraction ";
    const Severity& sev = h.severity;
    if (sev.fixed) {
      out << num(sev.value) << " (fixed)\n";
    } else {
      out << "Beta(" << num(sev.a) << ", " << num(sev.b) << "), mean "
          << num(sev.a / (sev.a + sev.b)) << "\n";
    }
    out << "    affects (loss = min(1, factor x loss fraction)): " << industry_list(s, h.affects)
        << "\n";
    std::string shocks;
    for (std::size_t m = 0; m < h.price_shock.size(); ++m) {
      if (h.price_shock[m] == 1.0) continue;
      shocks += (shocks.empty() ? "" : ", ") + s.markets[m].name + " x" + num(h.price_shock[m]);
    }
    if (!shocks.empty()) out << "    price shocks in a year it occurs: " << shocks << "\n";
  }
}

std::string groups(const GroupShare& share) {
  return "poor " + percent(share.poor) + ", other " + percent(share.other);
}

std::string covered(const Scenario& s, const std::vector<int>& covers) {
  std::string text;
  for (int i : covers)
    text += (text.empty() ? "" : ", ") + s.industries[static_cast<std::size_t>(i)].name;
  return text;
}

void describe_insurance(std::ostringstream& out, const Scenario& s) {
  const InsuranceSpec& ins = s.insurance;
  if (!ins.agricultural.enabled && !ins.income_index.enabled && !ins.poverty_guard.enabled) {
    out << "insurance: none\n";
    return;
  }
  out << "insurance:\n";
  if (const AgriculturalInsurance& a = ins.agricultural; a.enabled) {
    out << "  agricultural: covers";
    for (std::size_t k = 0; k < a.covers.size(); ++k) {
      const Industry& ind = s.industries[static_cast<std::size_t>(a.covers[k])];
      out << (k ? ", " : " ") << ind.name << " (sum insured "
          << num(a.sum_insured[static_cast<std::size_t>(a.covers[k])]) << " per "
          << (ind.unit.empty() ? "unit" : ind.unit) << ")";
    }
    out << "\n    deductible " << percent(a.deductible) << " of the year loss; premium rate "
        << percent(a.premium_rate) << " of sum insured per year\n";
    out << "    subsidy: " << groups(a.subsidy) << "; enrollment: " << groups(a.enrollment) << "\n";
  }
  if (const IncomeIndexInsurance& x = ins.income_index; x.enabled) {
    out << "  income index: covers " << covered(s, x.covers) << "; coverage " << percent(x.coverage)
        << " of expected revenue in harvest years\n    premium rate ";
    if (x.fair) {
      out << "fair (E[payout]/G estimated from " << x.fair_replications << " draws) x (1 + loading "
          << num(x.loading) << ")";
    } else {
      out << percent(x.premium_rate) << " of the guarantee";
    }
    out << "\n    subsidy: " << groups(x.subsidy) << "; enrollment: " << groups(x.enrollment)
        << "\n";
  }
  if (const PovertyGuard& g = ins.poverty_guard; g.enabled) {
    out << "  poverty guard: tops per-capita income up to " << num(g.threshold)
        << " x the poverty line; cap ";
    if (std::isinf(g.cap)) {
      out << "unbounded";
    } else {
      out << num(g.cap) << " per household per year";
    }
    out << "; premium " << num(g.premium_per_capita) << " per capita\n";
    out << "    subsidy: " << groups(g.subsidy) << "; enrollment: " << groups(g.enrollment) << "\n";
  }
}

std::string cap(double value) {
  return std::isinf(value) ? "unbounded" : num(value);
}

void describe_health(std::ostringstream& out, const Scenario& s) {
  const HealthSpec& h = s.health;
  if (!h.enabled) {
    out << "health: none\n";
    return;
  }
  out << "health (" << h.illnesses.size() << " illness" << (h.illnesses.size() == 1 ? "" : "es")
      << ", each person, year and illness independently):\n";
  for (const Illness& illness : h.illnesses) {
    out << "  " << illness.name << ": probability " << percent(illness.probability)
        << " per person-year; cost " << lognormal(illness.cost, " per episode") << "; "
        << num(illness.days_lost) << " days lost\n";
  }
  out << "  reimbursement: " << groups(h.reimbursement) << " of medical cost\n";
  out << "  out-of-pocket cap per household-year: poor " << cap(h.out_of_pocket_cap.poor)
      << ", other " << cap(h.out_of_pocket_cap.other) << "\n";
  out << "  out-of-pocket costs "
      << (h.deduct_out_of_pocket ? "deducted from income" : "not deducted from income") << "\n";
}

void describe_utility(std::ostringstream& out, const ChoiceSpec& c) {
  if (c.utility == UtilityKind::cara)
    out << "CARA " << num(c.cara);
  else
    out << "CRRA " << num(c.crra) << ", floor " << num(c.floor) << " yuan";
}

// The bounded industries, in the order households are served (MODEL.md section 8).
void describe_capacity(std::ostringstream& out, const Scenario& s) {
  std::string bounded;
  for (const Industry& ind : s.industries)
    if (std::isfinite(ind.capacity))
      bounded += (bounded.empty() ? "" : ", ") + ind.name + " " + num(ind.capacity) + " " +
                 (ind.unit.empty() ? std::string("units") : ind.unit);
  if (!bounded.empty())
    out << "  capacity (households served in a random priority order; a portfolio is taken only "
           "if its units fit): "
        << bounded << "\n";
}

void describe_choice(std::ostringstream& out, const Scenario& s) {
  const ChoiceSpec& c = s.choice;
  if (c.rule != ChoiceRule::fixed) {
    const std::size_t n = c.candidates.empty() ? s.industries.size() : c.candidates.size();
    const std::size_t portfolios = n * (n - 1) + (c.two_industries ? 0 : n);
    out << "choice: " << (c.rule == ChoiceRule::logit ? "logit" : "expected utility") << " over "
        << portfolios << " candidate portfolio" << (portfolios == 1 ? "" : "s") << " ("
        << (c.two_industries ? "main + auxiliary pairs" : "pairs and single industries")
        << ") of the certainty equivalent of "
        << (c.over == UtilityOver::years ? "each year's income (discount rate " +
                                               num(100.0 * c.discount_rate) + "% per year), "
                                         : std::string("horizon-mean income, "));
    describe_utility(out, c);
    out << "; " << c.pilot_replications << " pilot replications";
    if (c.rule == ChoiceRule::logit) out << "; temperature " << num(c.temperature) << " yuan";
    out << "\n  candidates:";
    for (std::size_t k = 0; k < n; ++k) {
      const int i = c.candidates.empty() ? static_cast<int>(k) : c.candidates[k];
      out << " " << s.industries[static_cast<std::size_t>(i)].name;
    }
    out << "\n";
    describe_capacity(out, s);
    return;
  }
  out << "choice: fixed portfolios";
  if (c.from_csv) {
    out << " from the population csv (main/aux columns)\n";
    describe_capacity(out, s);
    return;
  }
  out << "\n";
  describe_capacity(out, s);
  double total = 0.0;
  for (const PortfolioShare& p : c.portfolios) {
    out << "  " << percent(p.share) << " " << s.industries[static_cast<std::size_t>(p.main)].name;
    if (p.aux >= 0) out << " + " << s.industries[static_cast<std::size_t>(p.aux)].name;
    out << "\n";
    total += p.share;
  }
  if (total < 1.0 - 1e-9) out << "  " << percent(1.0 - total) << " none\n";
}

}  // namespace

std::string describe(const Scenario& s) {
  std::ostringstream out;
  out << "scenario: " << s.name << " (" << s.source_file << ")\n";
  out << "  horizon: " << s.years << " year" << (s.years == 1 ? "" : "s") << " from "
      << s.start_year << " to " << s.start_year + s.years - 1 << "; " << s.replications
      << " replications; seed " << s.seed << "\n";
  for (const std::string& o : s.overrides) out << "  override: " << o << "\n";
  describe_markets(out, s);
  describe_industries(out, s);
  describe_population(out, s);
  describe_hazards(out, s);
  describe_insurance(out, s);
  describe_income(out, s);
  describe_health(out, s);
  describe_choice(out, s);
  out << "poverty: line " << num(s.poverty.line) << " per capita in year 1, growth "
      << percent(s.poverty.line_growth) << " per year, exit target "
      << percent(s.poverty.exit_target) << "\n";
  out << "output: quantiles";
  for (std::size_t i = 0; i < s.output.quantiles.size(); ++i) {
    out << (i ? ", " : " ") << num(s.output.quantiles[i]);
  }
  out << "; " << s.output.histogram_bins << " histogram bins\n";
  if (!s.warnings.empty()) {
    out << "warnings:\n";
    for (const std::string& w : s.warnings) out << "  warning: " << w << "\n";
  }
  return out.str();
}

}  // namespace incsim
