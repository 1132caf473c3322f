// The entries of the scenario key table (include/incsim/keys.h), in the order of the format:
// sections, then each mapping's keys in the order the loader lists them in its messages. A key
// the loader accepts is added here, with its meaning, default, range, units and MODEL.md section.
#include "scenario/key_table.h"

#include <deque>
#include <iterator>
#include <string>
#include <utility>
#include <vector>

#include "scenario/sections.h"
#include "scenario/yaml_reader.h"

namespace incsim::scenario_detail {

namespace {

using T = KeyType;

// Appends entries; each add() returns a proxy whose setters fill in the entry just added.
class Table {
 public:
  class Entry {
   public:
    explicit Entry(ScenarioKey& key) : k_(key) {}
    Entry& required() { return k_.required = true, *this; }
    Entry& def(std::string json) { return k_.default_value = std::move(json), *this; }
    Entry& note(std::string text) { return k_.default_note = std::move(text), *this; }
    Entry& in(Bounds b) { return k_.range = b, *this; }
    Entry& range_note(std::string text) { return k_.range_note = std::move(text), *this; }
    Entry& words(std::vector<std::string> v) { return k_.values = std::move(v), *this; }
    Entry& items(std::size_t lo, std::size_t hi = 0) {
      k_.min_items = lo;
      k_.max_items = hi;
      return *this;
    }
    Entry& nullable() { return k_.nullable = true, *this; }
    Entry& empty_ok() { return k_.empty_ok = true, *this; }
    Entry& alternative(std::string key) { return k_.alternative = std::move(key), *this; }
    Entry& excluded_by(std::string key) { return k_.excluded_by = std::move(key), *this; }
    Entry& required_unless(std::string key) { return k_.required_unless = std::move(key), *this; }
    Entry& units(std::string text) { return k_.units = std::move(text), *this; }
    Entry& section(std::string s) { return k_.section = std::move(s), *this; }

   private:
    ScenarioKey& k_;
  };

  void section(std::string s) { section_ = std::move(s); }

  Entry add(std::string path, KeyType type, std::string meaning) {
    ScenarioKey k;
    k.path = std::move(path);
    k.type = type;
    k.meaning = std::move(meaning);
    k.section = section_;
    keys.push_back(std::move(k));
    return Entry(keys.back());
  }
  Entry list(std::string path, KeyType item, std::string meaning) {
    Entry e = add(std::move(path), T::list, std::move(meaning));
    keys.back().item = item;
    return e;
  }
  Entry tuple(std::string path, std::vector<KeyType> elements, std::string meaning) {
    Entry e = add(std::move(path), T::tuple, std::move(meaning));
    keys.back().elements = std::move(elements);
    return e;
  }

  std::deque<ScenarioKey> keys;  // stable references: an Entry outlives later add()s

 private:
  std::string section_;
};

// {poor, other} shares or amounts by household group.
void group_values(Table& t, const std::string& path, const std::string& what, Bounds bounds,
                  const std::string& def, const std::string& note, const std::string& units) {
  t.add(path, T::mapping, what + ", by group: registered poor households and the others");
  for (const char* group : {"poor", "other"}) {
    auto e = t.add(path + "." + group, T::number,
                   what + " for " +
                       (std::string(group) == "poor" ? "registered-poor households"
                                                     : "the other households"))
                 .in(bounds)
                 .units(units);
    if (!def.empty()) e.def(def);
    if (!note.empty()) e.note(note);
  }
}

// The keys of one industry, or of industries_defaults (every one optional there: an industry's
// own value wins, key by key).
void industry_keys(Table& t, const std::string& p, bool defaults) {
  const std::string of = defaults ? " (the default for every industry)" : "";
  t.section("3");
  auto label = t.add(p + ".label", T::text, "name for people: summaries and inspect" + of);
  if (!defaults) label.note("the industry's name");
  t.add(p + ".unit", T::text, "what one unit of the industry is (mu, coop, hive)" + of).def("\"\"");
  t.add(p + ".cycle_years", T::integer,
        "years from planting to harvest: harvests in years c, 2c, ... <= scenario.years" + of)
      .def("1")
      .in(at_least(1))
      .units("years");
  t.add(p + ".setup_cost", T::number, "cost per unit in year 1" + of)
      .def("0")
      .in(at_least(0))
      .units("yuan per unit");
  t.add(p + ".operating_cost", T::number, "cost per unit every year" + of)
      .def("0")
      .in(at_least(0))
      .units("yuan per unit per year");
  t.add(p + ".setup_subsidy", T::number, "share of the setup cost paid by the government" + of)
      .def("0")
      .in(between(0, 1))
      .units("share");
  t.add(p + ".needs", T::mapping,
        "resources one unit needs; a household runs units while they fit in what it has" + of)
      .section("4");
  t.add(p + ".needs.farmland_mu", T::number, "farmland per unit" + of)
      .def("0")
      .in(at_least(0))
      .units("mu per unit")
      .section("4");
  t.add(p + ".needs.forest_mu", T::number, "forest land per unit" + of)
      .def("0")
      .in(at_least(0))
      .units("mu per unit")
      .section("4");
  t.add(p + ".needs.labor_days", T::number,
        "labor days per unit, against population.labor_days_per_laborer per laborer" + of)
      .def("0")
      .in(at_least(0))
      .units("days per unit per year")
      .section("4");
  t.add(p + ".max_units", T::integer, "most units one household runs" + of)
      .def("1")
      .in(at_least(1))
      .units("units")
      .section("4");
  t.add(p + ".capacity", T::number,
        "most units the whole population may run (a company's contract base); households are "
        "served in a random priority order" +
            of)
      .note("unbounded")
      .in(at_least(0))
      .units("units")
      .section("8");
  auto products = t.list(p + ".products", T::mapping,
                         "what a harvest yields: one item per product sold on a market" + of)
                      .items(1);
  if (!defaults) products.required();
  t.add(p + ".products[].market", T::text, "the market the product is sold on (a markets key)")
      .required();
  t.add(p + ".products[].yield", T::number, "expected yield per unit and harvest")
      .required()
      .in(at_least(0))
      .units("market units per unit per harvest");
  t.add(p + ".products[].yield_cv", T::number,
        "coefficient of variation of the lognormal yield (per household, product and harvest)")
      .def("0")
      .in(between(0, kMaxCv));
  t.add(p + ".price_floor", T::names,
        "contract buy-back prices: the sale price is max(market price, floor)" + of)
      .nullable();
  t.add(p + ".price_floor.<market>", T::number, "floor price on a market the industry sells on")
      .in(at_least(0))
      .units("yuan per market unit");
}

// size, laborers and the lognormal endowments: the general distributions, or the registered
// poor's (every key optional: an absent one, down to a sub-key, is the general one).
void distribution_keys(Table& t, const std::string& p, bool poor) {
  const std::string whose = poor ? "registered-poor households' " : "";
  auto size = t.add(p + ".size", T::mapping, whose + "household size distribution");
  auto values = t.list(p + ".size.values", T::integer, whose + "household sizes")
                    .in(between(1, 1000))
                    .items(1)
                    .units("persons");
  auto weights = t.list(p + ".size.weights", T::number,
                        whose + "weights of the sizes, one per value (positive sum)")
                     .in(at_least(0));
  if (!poor) {
    size.required().excluded_by("csv");
    values.required();
    weights.required();
  }
  auto laborers = t.add(p + ".laborers", T::mapping,
                        whose + "laborers = min(size, max(min, round(size x share_of_size)))");
  if (!poor) laborers.excluded_by("csv");
  auto share = t.add(p + ".laborers.share_of_size", T::number, whose + "laborers per person")
                   .in(between(0, 1))
                   .units("share");
  auto min = t.add(p + ".laborers.min", T::integer, whose + "fewest laborers (0: some have none)")
                 .in(at_least(0))
                 .units("persons");
  if (!poor) {
    share.def("0.5");
    min.def("1");
  }
  const std::pair<const char*, const char*> lognormals[] = {
      {"farmland_mu", "farmland"}, {"forest_mu", "forest land"}, {"capital", "cash for setup"}};
  for (const auto& [key, what] : lognormals) {
    const std::string k = key;
    const std::string units = k == "capital" ? "yuan" : "mu";
    auto m = t.add(p + "." + k, T::mapping, whose + what + " per household: lognormal");
    auto mean = t.add(p + "." + k + ".mean", T::number, whose + "mean " + what)
                    .in(at_least(0))
                    .units(units);
    auto cv = t.add(p + "." + k + ".cv", T::number,
                    whose + "coefficient of variation of " + what + " (0: everyone the mean)")
                  .in(between(0, kMaxCv));
    if (!poor) {
      m.required().excluded_by("csv");
      mean.required();
      cv.def("0");
    }
  }
}

void wage_keys(Table& t, const std::string& p, bool poor) {
  const std::string whose = poor ? " (laborers of registered-poor households)" : "";
  auto per = t.add(p + ".per_laborer", T::number, "mean wage of an employed laborer" + whose)
                 .in(at_least(0))
                 .units("yuan per laborer-year");
  auto cv = t.add(p + ".cv", T::number, "coefficient of variation of the lognormal wage" + whose)
                .in(between(0, kMaxCv));
  auto rate = t.add(p + ".employment_rate", T::number,
                    "probability a laborer is employed in a year" + whose)
                  .in(between(0, 1))
                  .units("probability");
  if (!poor) {
    per.required();
    cv.def("0");
    rate.def("1");
  }
}

void product_shares(Table& t, const std::string& p) {
  group_values(t, p + ".subsidy", "share of the premium paid by the government", between(0, 1), "0",
               "", "share");
  group_values(t, p + ".enrollment",
               "probability a household is enrolled (drawn once per household)", between(0, 1), "1",
               "", "probability");
}

}  // namespace

std::vector<ScenarioKey> scenario_key_entries() {
  Table t;
  t.section("1");
  t.add("scenario", T::mapping, "the run: name, horizon, replications, seed").required();
  t.add("scenario.name", T::text, "name recorded in the output (scenario_name)")
      .note("the file name's stem");
  t.add("scenario.start_year", T::integer, "calendar year of year 1")
      .def("1")
      .in(between(1, kMaxCalendarYear))
      .units("calendar year");
  t.add("scenario.years", T::integer, "horizon T")
      .required()
      .in(between(1, kMaxYears))
      .units("years");
  t.add("scenario.replications", T::integer,
        "Monte Carlo replications (with output.target: the most)")
      .def("1000")
      .in(between(1, static_cast<double>(kMaxReplications)))
      .units("replications")
      .section("10");
  t.add("scenario.seed", T::seed, "random seed: the same seed gives bit-identical results")
      .def("1")
      .section("10");

  t.section("2");
  t.add("markets", T::names, "the markets products are sold on, by name").required().items(1);
  t.add("markets.<market>", T::mapping, "one market: its expected price and price risk");
  t.add("markets.<market>.unit", T::text, "what the price is per (kg, head)").def("\"\"");
  t.add("markets.<market>.price", T::number, "expected price in year 1")
      .required()
      .in(above(0))
      .units("yuan per market unit");
  t.add("markets.<market>.trend", T::number, "yearly growth g of the expected price")
      .def("0")
      .in(above(-1))
      .units("share per year");
  t.add("markets.<market>.volatility", T::number,
        "sigma: standard deviation of the yearly log-price innovation")
      .def("0")
      .in(between(0, kMaxVolatility));
  t.add("markets.<market>.persistence", T::number,
        "phi: AR(1) coefficient of the log-price deviation")
      .def("0")
      .in(between(-1, 1));
  t.list("correlation", T::tuple,
         "correlations of the markets' price innovations, [market, market, rho]; pairs not "
         "listed are 0, the matrix must be positive semi-definite")
      .nullable()
      .in(between(-1, 1))
      .note("none: uncorrelated");
  t.keys.back().elements = {T::text, T::text, T::number};

  t.section("3");
  t.add("industries", T::names, "the industry models households may run, by name")
      .required()
      .items(1);
  t.add("industries.<industry>", T::mapping, "one industry model");
  industry_keys(t, "industries.<industry>", false);
  t.section("1");
  t.add("industries_defaults", T::mapping,
        "a default for any industry key; an industry's own value wins, key by key (a whole "
        "needs mapping is one key)")
      .section("1");
  industry_keys(t, "industries_defaults", true);

  t.section("4");
  t.add("population", T::mapping,
        "the households: generated from distributions, or read from a csv file")
      .required();
  t.add("population.villages", T::integer, "villages; household h lives in floor(h V / H)")
      .def("1")
      .in(at_least(1))
      .units("villages")
      .excluded_by("csv");
  t.add("population.households", T::integer, "households generated")
      .required()
      .in(at_least(1))
      .units("households")
      .excluded_by("csv");
  distribution_keys(t, "population", false);
  t.add("population.poor_share", T::number,
        "probability a household is registered poor (drawn once per household)")
      .def("0")
      .in(between(0, 1))
      .units("probability")
      .excluded_by("csv");
  t.add("population.poor", T::mapping,
        "registered-poor households' own distributions; every key optional, an absent one "
        "(down to a sub-key) is the general one; ignored with a warning with csv");
  distribution_keys(t, "population.poor", true);
  t.add("population.labor_days_per_laborer", T::number,
        "labor days a laborer gives to the household's industries")
      .def("250")
      .in(above(0))
      .units("days per laborer-year");
  t.add("population.csv", T::text,
        "households from a csv file (relative to the scenario file): id, village, size, "
        "laborers, farmland_mu, forest_mu, capital, poor and optional main, aux, enrolled_*, "
        "public_post columns")
      .note("none: generated");

  t.section("5");
  t.add("hazards", T::names, "natural disasters and epidemics, by name").nullable();
  t.add("hazards.<hazard>", T::mapping, "one hazard");
  t.add("hazards.<hazard>.probability", T::number, "probability of an occurrence")
      .required()
      .in(between(0, 1))
      .units("per year and scope unit");
  t.add("hazards.<hazard>.scope", T::choice,
        "what one occurrence strikes: the county, a village or a household")
      .words({"county", "village", "household"})
      .def("\"county\"");
  t.add("hazards.<hazard>.severity", T::mapping,
        "loss fraction S of an occurrence: {beta: [a, b]} or {fixed: S}")
      .required();
  t.tuple("hazards.<hazard>.severity.beta", {T::number, T::number},
          "S ~ Beta(a, b): the two shape parameters")
      .in(above(0))
      .alternative("fixed");
  t.add("hazards.<hazard>.severity.fixed", T::number, "S, the same at every occurrence")
      .in(between(0, 1))
      .units("loss fraction")
      .alternative("beta");
  t.add("hazards.<hazard>.affects", T::names,
        "industries hit: loss l = min(1, factor x S); unlisted industries are not hit")
      .nullable();
  t.add("hazards.<hazard>.affects.<industry>", T::number, "factor of the industry's loss")
      .in(at_least(0));
  t.add("hazards.<hazard>.price_shock", T::names,
        "scope county only: multiplies a market's price in a year the hazard occurs")
      .nullable();
  t.add("hazards.<hazard>.price_shock.<market>", T::number,
        "price multiplier (unlisted markets: 1)")
      .in(above(0));

  t.section("6");
  t.add("insurance", T::mapping, "insurance products (each optional)");
  t.add("insurance.basis_risk_reference", T::number,
        "rho of the basis-risk measures (section 9): a household's shortfall is max(0, rho E - "
        "A), E its expected and A its actual revenue of a covered industry")
      .def("0.8")
      .in({0, 10, true, false})
      .units("share of expected revenue");
  t.add("insurance.agricultural", T::mapping,
        "conventional insurance of hazard losses: indemnity n SI max(0, L - deductible) every "
        "year a covered industry runs");
  const auto covers = [&](const std::string& p) {
    t.list(p + ".covers", T::text, "covered industries (industries keys, each once)")
        .required()
        .items(1);
  };
  covers("insurance.agricultural");
  t.add("insurance.agricultural.sum_insured", T::names,
        "sum insured SI per unit of every covered industry")
      .required();
  t.add("insurance.agricultural.sum_insured.<industry>", T::number,
        "sum insured of a covered "
        "industry")
      .in(above(0))
      .units("yuan per unit");
  t.add("insurance.agricultural.deductible", T::number, "loss fraction the household retains")
      .def("0")
      .in(between(0, 1))
      .units("loss fraction");
  t.add("insurance.agricultural.premium_rate", T::number, "premium per year, of the sum insured")
      .required()
      .in(at_least(0))
      .units("share of SI per year");
  product_shares(t, "insurance.agricultural");
  t.add("insurance.income_index", T::mapping,
        "market-price revenue index: in harvest years, payout n max(0, G - I) with guarantee G = "
        "coverage x sum_p yield_p Pbar and index I = sum_p yield_p P");
  covers("insurance.income_index");
  t.add("insurance.income_index.coverage", T::number, "share of the expected revenue guaranteed")
      .required()
      .in({0, 10, true, false})
      .units("share");
  t.add("insurance.income_index.premium_rate", T::number,
        "premium of G per harvest, or fair: E[payout]/G estimated by simulation, times 1 + "
        "loading")
      .required()
      .in(at_least(0))
      .words({"fair"})
      .units("share of G");
  t.add("insurance.income_index.loading", T::number, "loading on the fair rate (fair only)")
      .def("0")
      .in(at_least(0))
      .units("share");
  t.add("insurance.income_index.fair_replications", T::integer,
        "draws of the fair-rate estimate (its own random stream)")
      .def("20000")
      .in(at_least(100))
      .units("replications");
  product_shares(t, "insurance.income_index");
  t.add("insurance.poverty_guard", T::mapping,
        "poverty-prevention policy: payout min(cap, size x max(0, threshold x line_t - y_pre)) "
        "each year");
  t.add("insurance.poverty_guard.threshold", T::number, "guaranteed income")
      .required()
      .in(at_least(0))
      .units("multiple of the poverty line");
  t.add("insurance.poverty_guard.cap", T::number, "most paid to a household in a year")
      .note("unbounded")
      .in(above(0))
      .units("yuan per household-year");
  t.add("insurance.poverty_guard.premium_per_capita", T::number, "premium per person and year")
      .def("0")
      .in(at_least(0))
      .units("yuan per capita per year");
  product_shares(t, "insurance.poverty_guard");

  t.section("7");
  t.add("income", T::mapping, "wages, public posts, transfers and dibao");
  t.add("income.wage", T::mapping, "wage employment of laborers");
  wage_keys(t, "income.wage", false);
  t.add("income.wage.poor", T::mapping,
        "registered-poor households' laborers; absent keys are income.wage's");
  wage_keys(t, "income.wage.poor", true);
  t.add("income.public_posts", T::mapping, "public-welfare posts for poor households");
  t.add("income.public_posts.share_of_poor", T::number,
        "probability a poor household holds a post (drawn once)")
      .required()
      .in(between(0, 1))
      .units("probability");
  t.add("income.public_posts.amount", T::number, "pay of a post")
      .required()
      .in(at_least(0))
      .units("yuan per post-year");
  t.add("income.transfers_per_capita", T::number, "fixed transfer to every household")
      .def("0")
      .in(at_least(0))
      .units("yuan per capita per year");
  t.add("income.dibao", T::mapping,
        "minimum living guarantee: an eligible household below the line receives size x (line - "
        "y), applied last");
  t.add("income.dibao.line", T::number, "dibao line (does not grow)")
      .required()
      .in(at_least(0))
      .units("yuan per capita per year");
  t.add("income.dibao.eligible", T::choice, "who is eligible: registered-poor households or all")
      .words({"poor", "all"})
      .def("\"poor\"");
  t.add("income.dibao.take_up", T::number,
        "extension: share of eligible households enrolled, drawn once per household")
      .def("1")
      .in(between(0, 1))
      .units("probability")
      .section("");

  t.section("7a");
  t.add("health", T::mapping,
        "illness: medical costs and working days lost; an empty section means no health shocks")
      .empty_ok();
  t.list("health.illnesses", T::mapping,
         "illness types, each drawn per person and year independently")
      .required()
      .items(1, 255);
  t.add("health.illnesses[].name", T::text, "illness name (non-empty, unique)").required();
  t.add("health.illnesses[].probability", T::number, "probability of an episode")
      .required()
      .in(between(0, 1))
      .units("per person and year");
  t.add("health.illnesses[].cost", T::mapping, "cost of an episode: lognormal").required();
  t.add("health.illnesses[].cost.mean", T::number, "mean cost of an episode")
      .required()
      .in(at_least(0))
      .units("yuan per episode");
  t.add("health.illnesses[].cost.cv", T::number, "coefficient of variation (0: the mean)")
      .def("0")
      .in(between(0, kMaxCv));
  t.add("health.illnesses[].days_lost", T::number,
        "working days a laborer loses per episode; earnings scale by max(0, 1 - D / labor days)")
      .def("0")
      .in(at_least(0))
      .range_note("at most population.labor_days_per_laborer")
      .units("days per episode");
  group_values(t, "health.reimbursement", "share of medical costs paid by public schemes",
               between(0, 1), "0", "", "share");
  group_values(t, "health.out_of_pocket_cap", "most a household pays for illness in a year",
               at_least(0), "", "unbounded", "yuan per household-year");
  t.add("health.deduct_out_of_pocket", T::boolean,
        "deduct out-of-pocket costs from income (false: the official net income; days lost still "
        "count)")
      .def("true");

  t.section("8");
  t.add("choice", T::mapping,
        "how households choose their portfolio (main and auxiliary industry); not required when "
        "the population csv has main/aux columns")
      .required()
      .required_unless("population.csv");
  t.add("choice.rule", T::choice,
        "fixed: drawn by share from portfolios (or the csv); expected_utility: the highest "
        "certainty equivalent; logit: drawn with probability proportional to exp(CE / "
        "temperature)")
      .words({"fixed", "expected_utility", "logit"})
      .def("\"fixed\"");
  t.add("choice.two_industries", T::boolean,
        "portfolios are (main, aux) pairs with main != aux; false adds single industries")
      .def("true");
  t.add("choice.utility", T::mapping, "utility of the certainty equivalent: {crra: g} or {cara: a}")
      .note("{crra: 2, floor: 500}");
  t.add("choice.utility.crra", T::number,
        "relative risk aversion g: u(y) = (max(y, floor)^(1-g) - 1)/(1-g), log at 1")
      .in(at_least(0))
      .alternative("cara");
  t.add("choice.utility.cara", T::number, "absolute risk aversion a: u(y) = -exp(-a y)")
      .in(at_least(0))
      .units("per yuan")
      .alternative("crra");
  t.add("choice.utility.floor", T::number, "CRRA floor of income")
      .def("500")
      .in(above(0))
      .units("yuan per capita");
  t.add("choice.utility.over", T::choice,
        "years: discounted utility of each year's income; horizon_mean: of the horizon mean "
        "(version 1)")
      .words({"years", "horizon_mean"})
      .def("\"years\"");
  t.add("choice.utility.discount_rate", T::number,
        "weights beta^(t-1) / sum, beta = 1 / (1 + rate), with over: years")
      .def("0")
      .in(between(0, 1))
      .units("per year");
  t.add("choice.pilot_replications", T::integer,
        "replications of the certainty-equivalent pilot (its own stream)")
      .def("200")
      .in(at_least(1))
      .units("replications");
  t.add("choice.temperature", T::number, "logit temperature")
      .def("1000")
      .in(above(0))
      .units("yuan per capita");
  t.list("choice.candidates", T::text,
         "industries the portfolios are formed of (industries keys, each once)")
      .note("every industry, in scenario order")
      .items(1);
  t.list("choice.portfolios", T::mapping,
         "rule fixed only: portfolios with the share of households drawing each (shares sum to "
         "at most 1, the rest run none)");
  t.add("choice.portfolios[].main", T::text, "main industry (an industries key)").required();
  t.add("choice.portfolios[].aux", T::text,
        "auxiliary industry (an industries key, different from main), or none")
      .nullable()
      .note("none: a single industry");
  t.add("choice.portfolios[].share", T::number, "share of households drawing the portfolio")
      .required()
      .in(between(0, 1))
      .units("share");

  t.section("9");
  t.add("poverty", T::mapping, "the poverty line and exit target").required();
  t.add("poverty.line", T::number, "poverty line z in year 1")
      .required()
      .in(above(0))
      .units("yuan per capita per year");
  t.add("poverty.line_growth", T::number, "yearly growth: z_t = line (1 + g)^(t-1)")
      .def("0")
      .in(above(-1))
      .units("share per year");
  t.add("poverty.exit_target", T::number,
        "headcount above which a year misses the exit target (target risk)")
      .def("0.02")
      .in(between(0, 1))
      .units("share of persons");

  t.add("output", T::mapping, "optional outputs");
  t.list("output.quantiles", T::number, "probability levels of the income quantiles, increasing")
      .def("[0.01, 0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99]")
      .in(strictly_between(0, 1))
      .items(1);
  t.add("output.histogram_bins", T::integer, "bins of the income histogram")
      .def("100")
      .in(at_least(1))
      .units("bins");
  t.add("output.sample_paths", T::integer,
        "replications whose every household income is written to /paths/income")
      .def("0")
      .in(at_least(0))
      .range_note("at most scenario.replications")
      .units("replications")
      .section("11");
  t.section("");
  t.add("output.target", T::mapping,
        "convergence mode: add batches of replications until the standard error of a measure "
        "in a year is small enough, or scenario.replications is reached")
      .note("none: scenario.replications are run");
  t.add("output.target.measure", T::choice, "the measure whose standard error is targeted")
      .words({"fgt0", "fgt1", "fgt2", "mean_income", "government_cost"})
      .required();
  t.add("output.target.year", T::integer, "year index of the measure")
      .required()
      .in(at_least(1))
      .range_note("at most scenario.years")
      .units("year index (1 = start_year)");
  t.add("output.target.standard_error", T::number, "absolute target of the standard error")
      .in(above(0))
      .units("as the measure")
      .alternative("relative_error");
  t.add("output.target.relative_error", T::number,
        "target of the standard error relative to |estimate|")
      .in(above(0))
      .units("share")
      .alternative("standard_error");
  t.add("output.target.batch", T::integer, "replications per batch")
      .def("100")
      .in(at_least(2))
      .units("replications");
  // Blocks whose absent keys are another block's, key by key.
  const std::pair<std::string, std::string> fallbacks[] = {
      {"industries.<industry>.", "industries_defaults."},  // each top-level industry key
      {"population.poor.", "population."},                 // down to a sub-key
      {"income.wage.poor.", "income.wage."}};
  for (ScenarioKey& k : t.keys) {
    for (const auto& [block, general] : fallbacks) {
      if (!k.path.starts_with(block)) continue;
      const std::string rest = k.path.substr(block.size());
      const bool top_level = rest.find_first_of(".[") == std::string::npos;
      if (block.starts_with("industries") && !top_level) continue;
      k.fallback = general + rest;
    }
  }
  return {std::make_move_iterator(t.keys.begin()), std::make_move_iterator(t.keys.end())};
}

}  // namespace incsim::scenario_detail
