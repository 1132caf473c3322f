// Scenario loading: defaults, industries_defaults, overrides, csv import, source positions of
// diagnostics and collection of every error of a file.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "incsim/load.h"

namespace {

namespace fs = std::filesystem;
using incsim::Diagnostic;
using incsim::load_scenario;
using incsim::load_scenario_text;
using incsim::Override;
using incsim::Scenario;
using incsim::ScenarioError;

// Every key that has a default is left out. Line numbers matter to the position tests.
const std::string kMinimal = R"(scenario: {years: 3}
markets:
  rice: {price: 4.0}
industries:
  rice_only:
    products: [{market: rice, yield: 500}]
population:
  households: 10
  size: {values: [3], weights: [1]}
  farmland_mu: {mean: 2}
  forest_mu: {mean: 0}
  capital: {mean: 1000}
choice: {portfolios: [{main: rice_only, share: 1}]}
poverty: {line: 3218}
)";

fs::path temp_dir() {
  const char* env = std::getenv("INCSIM_TEST_TMP");
  fs::path dir = env && *env ? fs::path(env) : fs::temp_directory_path() / "incsim_test";
  dir /= "scenario";
  fs::create_directories(dir);
  return dir;
}

void write_file(const fs::path& path, const std::string& text) {
  std::ofstream out(path);
  out << text;
}

std::string formatted(const std::vector<Diagnostic>& diagnostics) {
  std::string text;
  for (const Diagnostic& d : diagnostics) text += "  " + d.format() + "\n";
  return text;
}

// The diagnostics of a scenario that must fail to load.
std::vector<Diagnostic> errors_of(const std::string& text, const std::string& name = "s.yaml",
                                  const std::vector<Override>& overrides = {}) {
  try {
    load_scenario_text(text, name, overrides);
  } catch (const ScenarioError& e) {
    return e.diagnostics();
  }
  ADD_FAILURE() << "scenario loaded without error:\n" << text;
  return {};
}

// The one diagnostic whose formatted text contains `needle`.
const Diagnostic* find(const std::vector<Diagnostic>& diagnostics, const std::string& needle) {
  for (const Diagnostic& d : diagnostics) {
    if (d.format().find(needle) != std::string::npos) return &d;
  }
  return nullptr;
}

std::string replace(std::string text, const std::string& from, const std::string& to) {
  const auto at = text.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  if (at != std::string::npos) text.replace(at, from.size(), to);
  return text;
}

#define EXPECT_DIAGNOSTIC(diagnostics, needle, line_, column_)                         \
  do {                                                                                 \
    const Diagnostic* d_ = find(diagnostics, needle);                                  \
    ASSERT_NE(d_, nullptr) << "no '" << needle << "' in:\n" << formatted(diagnostics); \
    EXPECT_EQ(d_->line, line_) << d_->format();                                        \
    EXPECT_EQ(d_->column, column_) << d_->format();                                    \
  } while (0)

// ---- defaults ---------------------------------------------------------------------------------

TEST(ScenarioDefaults, AbsentKeysTakeTheModelDefaults) {
  const Scenario s = load_scenario_text(kMinimal, "dir/minimal.yaml");
  EXPECT_EQ(s.name, "minimal");
  EXPECT_EQ(s.years, 3);
  EXPECT_EQ(s.replications, 1000);
  EXPECT_EQ(s.seed, 1u);
  EXPECT_EQ(s.start_year, 1);
  ASSERT_EQ(s.markets.size(), 1u);
  EXPECT_EQ(s.markets[0].price, 4.0);
  EXPECT_EQ(s.markets[0].trend, 0.0);
  EXPECT_EQ(s.markets[0].volatility, 0.0);
  EXPECT_EQ(s.markets[0].persistence, 0.0);
  EXPECT_EQ(s.correlation, std::vector<double>{1.0});
  ASSERT_EQ(s.industries.size(), 1u);
  const incsim::Industry& rice = s.industries[0];
  EXPECT_EQ(rice.label, "rice_only");
  EXPECT_EQ(rice.cycle_years, 1);
  EXPECT_EQ(rice.setup_cost, 0.0);
  EXPECT_EQ(rice.operating_cost, 0.0);
  EXPECT_EQ(rice.setup_subsidy, 0.0);
  EXPECT_EQ(rice.max_units, 1);
  EXPECT_EQ(rice.needs_labor_days, 0.0);
  ASSERT_EQ(rice.products.size(), 1u);
  EXPECT_EQ(rice.products[0].yield_cv, 0.0);
  ASSERT_EQ(rice.price_floor.size(), 1u);
  EXPECT_FALSE(rice.price_floor[0].has_value());
  const incsim::Population& p = s.population;
  EXPECT_EQ(p.villages, 1);
  EXPECT_EQ(p.households, 10);
  EXPECT_EQ(p.poor_share, 0.0);
  EXPECT_EQ(p.laborer_share_of_size, 0.5);
  EXPECT_EQ(p.laborer_min, 1);
  EXPECT_EQ(p.labor_days_per_laborer, 250.0);
  EXPECT_EQ(p.farmland_mu.cv, 0.0);
  EXPECT_EQ(s.income.wage.cv, 0.0);
  EXPECT_EQ(s.income.wage.employment_rate, 1.0);
  EXPECT_FALSE(s.income.dibao.enabled);
  EXPECT_EQ(s.choice.rule, incsim::ChoiceRule::fixed);
  EXPECT_FALSE(s.choice.from_csv);
  EXPECT_EQ(s.choice.candidates, std::vector<int>{0});
  ASSERT_EQ(s.choice.portfolios.size(), 1u);
  EXPECT_EQ(s.choice.portfolios[0].aux, -1);
  EXPECT_EQ(s.poverty.line_growth, 0.0);
  EXPECT_EQ(s.poverty.exit_target, 0.02);
  EXPECT_EQ(s.output.quantiles,
            (std::vector<double>{0.01, 0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99}));
  EXPECT_EQ(s.text_as_run, kMinimal);
  EXPECT_TRUE(s.overrides.empty());
  EXPECT_TRUE(s.warnings.empty());
  EXPECT_EQ(s.market_index("rice"), 0);
  EXPECT_EQ(s.market_index("corn"), -1);
  EXPECT_EQ(s.industry_index("rice_only"), 0);
  EXPECT_EQ(s.industry_index("rice"), -1);
}

TEST(ScenarioDefaults, DibaoEligibleDefaultsToPoorAndLaborersToHalf) {
  const std::string text = kMinimal + "income: {dibao: {line: 4000}, transfers_per_capita: 300}\n";
  const Scenario s = load_scenario_text(text, "s.yaml");
  EXPECT_TRUE(s.income.dibao.enabled);
  EXPECT_EQ(s.income.dibao.line, 4000.0);
  EXPECT_EQ(s.income.dibao.eligible, incsim::DibaoEligible::poor);
  EXPECT_EQ(s.income.transfers_per_capita, 300.0);
}

TEST(ScenarioDefaults, IndustriesDefaultsApplyUnlessTheIndustrySetsTheKey) {
  const std::string text = replace(kMinimal, "industries:\n  rice_only:\n", R"(industries_defaults:
  setup_subsidy: 0.5
  operating_cost: 100
  max_units: 3
industries:
  own_values:
    setup_subsidy: 0.25
    max_units: 2
    products: [{market: rice, yield: 10}]
  rice_only:
)");
  const Scenario s = load_scenario_text(text, "s.yaml");
  ASSERT_EQ(s.industries.size(), 2u);
  EXPECT_EQ(s.industries[0].name, "own_values");
  EXPECT_EQ(s.industries[0].setup_subsidy, 0.25);
  EXPECT_EQ(s.industries[0].max_units, 2);
  EXPECT_EQ(s.industries[0].operating_cost, 100.0);
  EXPECT_EQ(s.industries[1].setup_subsidy, 0.5);
  EXPECT_EQ(s.industries[1].operating_cost, 100.0);
  EXPECT_EQ(s.industries[1].max_units, 3);
  EXPECT_EQ(s.choice.candidates, (std::vector<int>{0, 1}));
}

TEST(ScenarioDefaults, AnInvalidDefaultIsReportedOnceEvenIfEveryIndustryOverridesIt) {
  const std::string text =
      replace(kMinimal, "industries:\n", "industries_defaults: {max_units: 0}\nindustries:\n");
  const auto errors = errors_of(text);
  ASSERT_EQ(errors.size(), 1u) << formatted(errors);
  EXPECT_DIAGNOSTIC(errors, "industries_defaults.max_units: expected an integer >= 1, found 0", 4,
                    34);
}

TEST(ScenarioWarnings, ACropLongerThanTheHorizonOnlyCosts) {
  const std::string text = replace(kMinimal, "    products:", "    cycle_years: 4\n    products:");
  const Scenario s = load_scenario_text(text, "s.yaml");
  ASSERT_EQ(s.warnings.size(), 1u);
  EXPECT_NE(s.warnings[0].find("harvests nothing within the 3-year horizon: only costs"),
            std::string::npos)
      << s.warnings[0];
}

// ---- overrides --------------------------------------------------------------------------------

TEST(ScenarioOverrides, ParseSplitsAtTheFirstEqualsSign) {
  const Override o = incsim::parse_override("scenario.name=a=b");
  EXPECT_EQ(o.path, "scenario.name");
  EXPECT_EQ(o.value, "a=b");
  EXPECT_THROW(incsim::parse_override("markets.rice.price"), ScenarioError);
  EXPECT_THROW(incsim::parse_override("=4"), ScenarioError);
  EXPECT_THROW(incsim::parse_override("markets..price=4"), ScenarioError);
}

TEST(ScenarioOverrides, SetAnExistingScalar) {
  const Scenario s = load_scenario_text(kMinimal, "s.yaml", {{"markets.rice.price", "4.5"}});
  EXPECT_EQ(s.markets[0].price, 4.5);
  EXPECT_EQ(s.overrides, std::vector<std::string>{"markets.rice.price=4.5"});
  EXPECT_NE(s.text_as_run, kMinimal);
  // The text as run reproduces the overridden scenario on its own.
  const Scenario again = load_scenario_text(s.text_as_run, "again.yaml");
  EXPECT_EQ(again.markets[0].price, 4.5);
  EXPECT_EQ(again.years, 3);
}

TEST(ScenarioOverrides, AddMissingKeysAndMappings) {
  const Scenario s = load_scenario_text(kMinimal, "s.yaml",
                                        {{"markets.rice.volatility", "0.1"},
                                         {"income.wage.per_laborer", "12000"},
                                         {"scenario.seed", "18446744073709551615"}});
  EXPECT_EQ(s.markets[0].volatility, 0.1);
  EXPECT_EQ(s.income.wage.per_laborer, 12000.0);
  EXPECT_EQ(s.seed, 18446744073709551615ull);
}

TEST(ScenarioOverrides, IntegerSegmentsIndexLists) {
  const std::string text = replace(kMinimal, "choice: {portfolios: [{main: rice_only, share: 1}]}",
                                   "choice: {portfolios: [{main: rice_only, share: 0.5}]}");
  const Scenario s = load_scenario_text(text, "s.yaml",
                                        {{"choice.portfolios.0.share", "0.75"},
                                         {"industries.rice_only.products.0.yield", "600"},
                                         {"output.quantiles", "[0.1, 0.5, 0.9]"}});
  EXPECT_EQ(s.choice.portfolios[0].share, 0.75);
  EXPECT_EQ(s.industries[0].products[0].yield, 600.0);
  EXPECT_EQ(s.output.quantiles, (std::vector<double>{0.1, 0.5, 0.9}));
}

TEST(ScenarioOverrides, AnInvalidValueIsReportedAgainstTheOverride) {
  const auto errors = errors_of(kMinimal, "s.yaml", {{"markets.rice.price", "abc"}});
  ASSERT_EQ(errors.size(), 1u) << formatted(errors);
  EXPECT_EQ(errors[0].file, "--set");
  EXPECT_EQ(errors[0].line, 0);
  EXPECT_NE(errors[0].format().find("--set markets.rice.price=abc: expected a number, found 'abc'"),
            std::string::npos)
      << errors[0].format();
}

TEST(ScenarioOverrides, TypoAndPathThroughAScalarAndIndexOutOfRange) {
  const auto errors = errors_of(kMinimal, "s.yaml",
                                {{"markets.rice.volatilty", "0.1"},
                                 {"poverty.line.x", "1"},
                                 {"choice.portfolios.5.share", "1"}});
  ASSERT_EQ(errors.size(), 3u) << formatted(errors);
  for (const Diagnostic& d : errors) EXPECT_EQ(d.file, "--set") << d.format();
  EXPECT_NE(find(errors,
                 "--set markets.rice.volatilty=0.1: unknown key 'volatilty' in "
                 "markets.rice (did you mean 'volatility'?)"),
            nullptr)
      << formatted(errors);
  EXPECT_NE(find(errors, "--set poverty.line.x=1: 'poverty.line' is a single value"), nullptr)
      << formatted(errors);
  EXPECT_NE(find(errors, "index 5 is out of range"), nullptr) << formatted(errors);
}

TEST(ScenarioOverrides, ErrorsInsideANewMappingPointAtTheOverride) {
  const auto errors = errors_of(kMinimal, "s.yaml", {{"industries.new_one.label", "New"}});
  EXPECT_DIAGNOSTIC(errors,
                    "--set industries.new_one.label=New: industries.new_one.products: "
                    "required key is missing",
                    0, 0);
}

// ---- csv import -------------------------------------------------------------------------------

std::string csv_scenario(const std::string& csv_name, bool with_choice) {
  std::string text = replace(kMinimal, R"(  households: 10
  size: {values: [3], weights: [1]}
  farmland_mu: {mean: 2}
  forest_mu: {mean: 0}
  capital: {mean: 1000}
)",
                             "  csv: " + csv_name + "\n  labor_days_per_laborer: 200\n");
  if (!with_choice)
    text = replace(text, "choice: {portfolios: [{main: rice_only, share: 1}]}\n", "");
  return replace(text, "  rice_only:\n",
                 "  fish:\n    products: [{market: rice, yield: 1}]\n  rice_only:\n");
}

TEST(ScenarioCsv, ColumnsInAnyOrderAndPortfoliosFromTheFile) {
  const fs::path dir = temp_dir();
  write_file(dir / "households_ok.csv",
             "poor,id,village,size,laborers,capital,forest_mu,farmland_mu,main,aux,public_post\n"
             "1,h1,east,4,2,8000,10,3.5,rice_only,fish,1\n"
             "0,\"h2, the second\",west,2,1,2500,0,1,rice_only,,\n"
             "no,h3,east,3,0,0,0,0,,,0\r\n");
  write_file(dir / "s_ok.yaml", csv_scenario("households_ok.csv", false));
  const Scenario s = load_scenario((dir / "s_ok.yaml").string());
  const incsim::Population& p = s.population;
  EXPECT_EQ(p.csv_path, (dir / "households_ok.csv").string());
  ASSERT_EQ(p.records.size(), 3u);
  EXPECT_EQ(p.households, 3);
  EXPECT_EQ(p.villages, 2);
  EXPECT_EQ(p.labor_days_per_laborer, 200.0);
  EXPECT_EQ(p.records[0].id, "h1");
  EXPECT_EQ(p.records[0].size, 4);
  EXPECT_EQ(p.records[0].laborers, 2);
  EXPECT_EQ(p.records[0].farmland_mu, 3.5);
  EXPECT_EQ(p.records[0].forest_mu, 10.0);
  EXPECT_EQ(p.records[0].capital, 8000.0);
  EXPECT_TRUE(p.records[0].poor);
  EXPECT_EQ(p.records[0].main, s.industry_index("rice_only"));
  EXPECT_EQ(p.records[0].aux, s.industry_index("fish"));
  EXPECT_EQ(p.records[0].public_post, true);
  EXPECT_FALSE(p.records[0].enrolled_agricultural.has_value());
  EXPECT_EQ(p.records[1].id, "h2, the second");
  EXPECT_EQ(p.records[1].aux, -1);
  EXPECT_FALSE(p.records[1].public_post.has_value());
  EXPECT_FALSE(p.records[2].poor);
  EXPECT_EQ(p.records[2].main, -1);
  EXPECT_TRUE(s.choice.from_csv);
  EXPECT_EQ(s.choice.rule, incsim::ChoiceRule::fixed);
}

TEST(ScenarioCsv, ErrorsNameFileLineAndColumn) {
  const fs::path dir = temp_dir();
  write_file(dir / "households_bad.csv",
             "id,village,size,laborers,farmland,forest_mu,capital,poor\n"
             "h1,east,4,2,3.5,10,8000,1\n");
  write_file(dir / "households_rows.csv",
             "id,village,size,laborers,farmland_mu,forest_mu,capital,poor,main\n"
             "h1,east,4,5,3.5,10,8000,1,rice_only\n"
             "h2,east,x,1,3.5,-1,8000,maybe,rice_onyl\n"
             "h3,east,4,1\n");
  const std::string bad = (dir / "households_bad.csv").string();
  const std::string rows = (dir / "households_rows.csv").string();
  auto errors = errors_of(csv_scenario("households_bad.csv", false), (dir / "s.yaml").string());
  EXPECT_DIAGNOSTIC(errors, "unknown column 'farmland' (did you mean 'farmland_mu'?)", 1, 26);
  EXPECT_DIAGNOSTIC(errors, "missing column 'farmland_mu'", 1, 1);
  EXPECT_EQ(find(errors, "missing section 'choice'"), nullptr) << formatted(errors);
  EXPECT_EQ(find(errors, "unknown column")->file, bad);

  errors = errors_of(csv_scenario("households_rows.csv", false), (dir / "s.yaml").string());
  EXPECT_DIAGNOSTIC(errors, "column 'laborers': expected an integer in [0, 4]", 2, 11);
  EXPECT_DIAGNOSTIC(errors, "column 'size': expected an integer in [1, 1000], found 'x'", 3, 9);
  EXPECT_DIAGNOSTIC(errors, "column 'forest_mu': expected a number >= 0, found '-1'", 3, 17);
  EXPECT_DIAGNOSTIC(errors, "column 'poor': expected 0 or 1, found 'maybe'", 3, 25);
  EXPECT_DIAGNOSTIC(errors, "unknown industry 'rice_onyl' (did you mean 'rice_only'?)", 3, 31);
  EXPECT_DIAGNOSTIC(errors, "expected 9 fields as in the header, found 4", 4, 1);
  for (const Diagnostic& d : errors) EXPECT_EQ(d.file, rows) << d.format();
}

TEST(ScenarioCsv, MissingOrEmptyFilesAndMixedKeys) {
  const fs::path dir = temp_dir();
  write_file(dir / "header_only.csv",
             "id,village,size,laborers,farmland_mu,forest_mu,capital,poor\n");
  auto errors = errors_of(csv_scenario("header_only.csv", true), (dir / "s.yaml").string());
  EXPECT_DIAGNOSTIC(errors, "the population is empty", 1, 1);

  errors = errors_of(csv_scenario("absent.csv", true), (dir / "s.yaml").string());
  EXPECT_DIAGNOSTIC(errors,
                    "population.csv: cannot read '" + (dir / "absent.csv").string() +
                        "': No such file or directory",
                    10, 8);

  const std::string mixed =
      replace(csv_scenario("absent.csv", true), "  csv:", "  households: 4\n  csv:");
  errors = errors_of(mixed, "s.yaml");
  EXPECT_DIAGNOSTIC(errors, "population.households: cannot be combined with csv", 10, 3);
}

// ---- positions and collection -----------------------------------------------------------------

TEST(ScenarioDiagnostics, EveryErrorHasItsOneBasedLineAndColumn) {
  const std::string text = R"(scenario:
  years: 3
  seed: -1
markets:
  rice:
    price: abc
    volatilty: 0.1
  corn: {price: 2, persistence: 1.5}
industries:
  rice_only:
    products: [{market: rce, yield: 500}]
population:
  households: 10
  size: {values: [3], weights: [1]}
  farmland_mu: {mean: 2}
  forest_mu: {mean: 0}
  capital: {mean: 1000}
  poor_share: 2
choice: {portfolios: [{main: rice_only, aux: rice_only, share: 1}]}
poverty: {line: 0}
hazards: {}
)";
  const auto errors = errors_of(text, "pos.yaml");
  EXPECT_DIAGNOSTIC(errors, "scenario.seed: expected a non-negative integer", 3, 9);
  EXPECT_DIAGNOSTIC(errors, "markets.rice.price: expected a number, found 'abc'", 6, 12);
  EXPECT_DIAGNOSTIC(errors, "unknown key 'volatilty' in markets.rice (did you mean 'volatility'?)",
                    7, 5);
  EXPECT_DIAGNOSTIC(errors, "markets.corn.persistence: expected a number in [-1, 1], found 1.5", 8,
                    33);
  EXPECT_DIAGNOSTIC(errors, "unknown market 'rce' (did you mean 'rice'?)", 11, 25);
  EXPECT_DIAGNOSTIC(errors, "population.poor_share: expected a number in [0, 1], found 2", 18, 15);
  EXPECT_DIAGNOSTIC(errors, "the same industry as main", 19, 46);
  EXPECT_DIAGNOSTIC(errors, "poverty.line: expected a number > 0, found 0", 20, 17);
  EXPECT_DIAGNOSTIC(errors, "hazards: not supported by this version of incsim", 21, 1);
  EXPECT_EQ(errors.size(), 9u) << formatted(errors);
  EXPECT_EQ(errors.front().format(),
            "pos.yaml:3:9: error: scenario.seed: expected a non-negative integer up to "
            "18446744073709551615, found '-1'");
  for (std::size_t i = 1; i < errors.size(); ++i) {
    EXPECT_LE(errors[i - 1].line, errors[i].line) << formatted(errors);
  }
}

TEST(ScenarioDiagnostics, SyntaxErrorsGiveTheirPosition) {
  const auto errors = errors_of("scenario: {years: 3}\nmarkets:\n  rice: price: 4\n", "syn.yaml");
  ASSERT_EQ(errors.size(), 1u) << formatted(errors);
  EXPECT_EQ(errors[0].line, 3);
  EXPECT_GT(errors[0].column, 0);
  EXPECT_NE(errors[0].message.find("YAML syntax error"), std::string::npos);
}

TEST(ScenarioDiagnostics, MissingFileGivesThePathAndTheReason) {
  try {
    load_scenario("/nonexistent/dir/scenario.yaml");
    FAIL() << "loaded a missing file";
  } catch (const ScenarioError& e) {
    ASSERT_EQ(e.diagnostics().size(), 1u);
    const Diagnostic& d = e.diagnostics()[0];
    EXPECT_EQ(d.file, "/nonexistent/dir/scenario.yaml");
    EXPECT_EQ(d.line, 0);
    EXPECT_NE(d.message.find("No such file or directory"), std::string::npos) << d.message;
    EXPECT_EQ(d.format(), "/nonexistent/dir/scenario.yaml: error: " + d.message);
  }
}

TEST(ScenarioDiagnostics, MissingRequiredSectionsAndKeys) {
  const auto errors = errors_of("scenario: {name: x}\nmarkets: {rice: {price: 1}}\n", "m.yaml");
  EXPECT_NE(find(errors, "scenario.years: required key is missing"), nullptr) << formatted(errors);
  EXPECT_NE(find(errors, "missing section 'industries'"), nullptr) << formatted(errors);
  EXPECT_NE(find(errors, "missing section 'population'"), nullptr) << formatted(errors);
  EXPECT_NE(find(errors, "missing section 'poverty'"), nullptr) << formatted(errors);
  EXPECT_NE(find(errors, "missing section 'choice'"), nullptr) << formatted(errors);
}

TEST(ScenarioCorrelation, SingularIsAllowedNonPsdNamesTheMarkets) {
  const std::string three =
      replace(kMinimal, "  rice: {price: 4.0}\n",
              "  rice: {price: 4.0}\n  corn: {price: 2}\n  pork: {price: 20}\n"
              "  eggs: {price: 8}\n");
  const Scenario singular = load_scenario_text(
      three + "correlation: [[rice, corn, 1], [corn, rice, 1], [pork, pork, 1]]\n", "s.yaml");
  EXPECT_EQ(singular.correlation[0 * 4 + 1], 1.0);
  EXPECT_EQ(singular.correlation[1 * 4 + 0], 1.0);
  EXPECT_EQ(singular.correlation[2 * 4 + 3], 0.0);

  const auto errors = errors_of(
      three +
          "correlation:\n  - [rice, corn, 0.9]\n  - [corn, pork, 0.9]\n  - [rice, pork, -0.9]\n",
      "s.yaml");
  ASSERT_EQ(errors.size(), 1u) << formatted(errors);
  EXPECT_DIAGNOSTIC(errors, "markets rice, corn, pork are not positive semi-definite", 18, 1);
  EXPECT_EQ(errors[0].message.find("eggs"), std::string::npos);
}

TEST(ScenarioChoice, UnimplementedRulesAreReportedAfterValidatingTheirKeys) {
  const std::string text =
      replace(kMinimal, "choice: {portfolios: [{main: rice_only, share: 1}]}",
              "choice:\n  rule: logit\n  utility: {crra: -1}\n  temperature: 0\n"
              "  candidates: [rice_only, rice_only]");
  const auto errors = errors_of(text);
  EXPECT_DIAGNOSTIC(errors,
                    "choice.rule: 'logit' is not implemented in this version of incsim; use rule: "
                    "fixed",
                    14, 9);
  EXPECT_NE(find(errors, "choice.utility.crra: expected a number >= 0, found -1"), nullptr);
  EXPECT_NE(find(errors, "choice.temperature: expected a number > 0, found 0"), nullptr);
  EXPECT_NE(find(errors, "industry 'rice_only' is listed twice"), nullptr);
}

TEST(ScenarioDescribe, SummarisesTheScenario) {
  const Scenario s = load_scenario_text(kMinimal, "minimal.yaml", {{"markets.rice.price", "5"}});
  const std::string text = incsim::describe(s);
  for (const char* needle :
       {"minimal", "3 years", "1000 replications", "seed 1", "rice", "rice_only", "10 households",
        "100% rice_only", "line 3218", "override: markets.rice.price=5"}) {
    EXPECT_NE(text.find(needle), std::string::npos) << needle << " not in:\n" << text;
  }
}

}  // namespace
