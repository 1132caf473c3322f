// Scenario loading: defaults, industries_defaults, overrides, csv import, source positions of
// diagnostics and collection of every error of a file.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
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

// `diagnostics` may be a temporary (errors_of(...)): bound to a reference, it lives for the
// whole check (found by AddressSanitizer: a pointer into a destroyed temporary).
#define EXPECT_DIAGNOSTIC(diagnostics, needle, line_, column_)                  \
  do {                                                                          \
    const auto& all_ = (diagnostics);                                           \
    const Diagnostic* d_ = find(all_, needle);                                  \
    ASSERT_NE(d_, nullptr) << "no '" << needle << "' in:\n" << formatted(all_); \
    EXPECT_EQ(d_->line, line_) << d_->format();                                 \
    EXPECT_EQ(d_->column, column_) << d_->format();                             \
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
  EXPECT_TRUE(s.correlation.empty());
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
  EXPECT_EQ(p.all.laborer_share_of_size, 0.5);
  EXPECT_EQ(p.all.laborer_min, 1);
  EXPECT_EQ(p.labor_days_per_laborer, 250.0);
  EXPECT_EQ(p.all.farmland_mu.cv, 0.0);
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

// A new entry is given whole; its errors point at the override. A key set inside an entry
// that does not exist is refused (issue 16: a typo of an entry name would add a new,
// incomplete entry used by nothing).
TEST(ScenarioOverrides, ErrorsInsideANewMappingPointAtTheOverride) {
  const auto errors = errors_of(kMinimal, "s.yaml", {{"industries.new_one", "{label: New}"}});
  EXPECT_DIAGNOSTIC(errors,
                    "--set industries.new_one={label: New}: industries.new_one.products: "
                    "required key is missing",
                    0, 0);
  const auto refused = errors_of(kMinimal, "s.yaml", {{"industries.new_one.label", "New"}});
  EXPECT_DIAGNOSTIC(
      refused, "--set industries.new_one.label=New: no industry 'new_one' in industries", 0, 0);
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
  EXPECT_FALSE(p.records[0].enrolled[incsim::kAgricultural].has_value());
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

// A NUL byte in a csv field (an id or a village would become an HDF5 string that cannot
// hold it) is an error at its line and column, found by validate, not after simulating.
TEST(ScenarioCsv, NulByteIsAnErrorAtItsPosition) {
  const fs::path dir = temp_dir();
  write_file(dir / "households_nul.csv",
             std::string("id,village,size,laborers,farmland_mu,forest_mu,capital,poor\n"
                         "h1,ea") +
                 '\0' + "st,4,2,3.5,10,8000,1\n");
  const auto errors =
      errors_of(csv_scenario("households_nul.csv", false), (dir / "s.yaml").string());
  EXPECT_DIAGNOSTIC(errors, "unexpected NUL byte", 2, 6);
}

// A file that is not a population csv (`csv: /etc/shadow` by mistake or malice) is quoted in
// messages only as a short escaped excerpt, never in full.
TEST(ScenarioCsv, ForeignFileIsQuotedOnlyAsAShortExcerpt) {
  const fs::path dir = temp_dir();
  const std::string secret = "SECRET-PART-OF-THE-LINE";
  write_file(dir / "foreign.csv",
             "root:$6$abcdefghijklmnopqrstuvwxyz0123456789" + secret + "\x01:19000:0:99999:7:::\n");
  const auto errors = errors_of(csv_scenario("foreign.csv", false), (dir / "s.yaml").string());
  ASSERT_FALSE(errors.empty());
  EXPECT_DIAGNOSTIC(
      errors, "unknown column 'root:$6$abcdefghijklmnopqrstuvwxyz012345'... (87 characters)", 1, 1);
  for (const Diagnostic& d : errors) {
    EXPECT_EQ(d.format().find(secret), std::string::npos) << d.format();
    EXPECT_EQ(d.format().find('\x01'), std::string::npos) << d.format();
  }
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
hazard: {}
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
  EXPECT_DIAGNOSTIC(errors, "unknown section 'hazard' (did you mean 'hazards'?)", 21, 1);
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
  // One pair (rice, corn) = (0, 1) with rho 1, listed twice in either order; the self-pair is
  // not a pair; (corn, pork) is unlisted, hence 0.
  EXPECT_EQ(singular.correlation, (std::vector<incsim::CorrelationPair>{{0, 1, 1.0}}));

  const auto errors = errors_of(
      three +
          "correlation:\n  - [rice, corn, 0.9]\n  - [corn, pork, 0.9]\n  - [rice, pork, -0.9]\n",
      "s.yaml");
  ASSERT_EQ(errors.size(), 1u) << formatted(errors);
  EXPECT_DIAGNOSTIC(errors, "markets rice, corn, pork are not positive semi-definite", 18, 1);
  EXPECT_EQ(errors[0].message.find("eggs"), std::string::npos);
}

TEST(ScenarioChoice, LogitKeysAreValidatedAndPortfoliosRejected) {
  const std::string text =
      replace(kMinimal, "choice: {portfolios: [{main: rice_only, share: 1}]}",
              "choice:\n  rule: logit\n  utility: {crra: -1}\n  temperature: 0\n"
              "  candidates: [rice_only, rice_only]\n  portfolios: [{main: rice_only, share: 1}]");
  const auto errors = errors_of(text);
  EXPECT_EQ(find(errors, "not implemented"), nullptr);
  EXPECT_NE(find(errors, "choice.utility.crra: expected a number >= 0, found -1"), nullptr);
  EXPECT_NE(find(errors, "choice.temperature: expected a number > 0, found 0"), nullptr);
  EXPECT_NE(find(errors, "industry 'rice_only' is listed twice"), nullptr);
  EXPECT_NE(find(errors, "portfolios apply only to rule fixed"), nullptr);
}

TEST(ScenarioChoice, ExpectedUtilityDefaults) {
  const std::string text = replace(kMinimal, "choice: {portfolios: [{main: rice_only, share: 1}]}",
                                   "choice: {rule: expected_utility, two_industries: false}");
  const incsim::Scenario s = incsim::load_scenario_text(text, "minimal.yaml");
  EXPECT_EQ(s.choice.rule, incsim::ChoiceRule::expected_utility);
  EXPECT_EQ(s.choice.utility, incsim::UtilityKind::crra);
  EXPECT_DOUBLE_EQ(s.choice.crra, 2.0);
  EXPECT_DOUBLE_EQ(s.choice.floor, 500.0);
  EXPECT_EQ(s.choice.pilot_replications, 200);
  EXPECT_FALSE(s.choice.two_industries);
  EXPECT_EQ(s.choice.candidates.size(), s.industries.size()) << "candidates default to all";
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

// `validate` describes the choice rule actually configured (it used to print "fixed
// portfolios / 100% none" for every expected-utility or logit scenario).
TEST(ScenarioDescribe, DescribesTheConfiguredChoiceRule) {
  const Scenario eu =
      load_scenario_text(kMinimal, "eu.yaml",
                         {{"choice",
                           "{rule: expected_utility, utility: {crra: 1.5, floor: 400}, "
                           "pilot_replications: 50, two_industries: false}"}});
  const std::string text = incsim::describe(eu);
  for (const char* needle : {"expected utility", "CRRA 1.5", "floor 400", "50 pilot replications",
                             "1 candidate portfolio"}) {
    EXPECT_NE(text.find(needle), std::string::npos) << needle << " not in:\n" << text;
  }
  EXPECT_EQ(text.find("fixed portfolios"), std::string::npos) << text;
  EXPECT_EQ(text.find("100% none"), std::string::npos) << text;
  const Scenario logit =
      load_scenario_text(kMinimal, "logit.yaml",
                         {{"choice",
                           "{rule: logit, temperature: 800, utility: {cara: 0.0002}, "
                           "two_industries: false}"}});
  const std::string logit_text = incsim::describe(logit);
  for (const char* needle : {"logit", "temperature 800", "CARA 0.0002"})
    EXPECT_NE(logit_text.find(needle), std::string::npos) << needle << " not in:\n" << logit_text;
}

// ---- hazards and insurance --------------------------------------------------------------------

// Two industries on two markets, with hazards and all three insurance products; line numbers
// matter to the position tests.
const std::string kRisk = R"(scenario: {years: 3}
markets:
  rice: {price: 4.0}
  chicken: {price: 60}
industries:
  rice_only:
    products: [{market: rice, yield: 500}]
  chicken_135:
    unit: flock
    products: [{market: chicken, yield: 100}]
population:
  households: 10
  size: {values: [3], weights: [1]}
  farmland_mu: {mean: 2}
  forest_mu: {mean: 0}
  capital: {mean: 1000}
choice: {portfolios: [{main: rice_only, aux: chicken_135, share: 1}]}
poverty: {line: 3218}
hazards:
  flood:
    probability: 0.10
    scope: village
    severity: {beta: [2, 5]}
    affects: {rice_only: 1.0, chicken_135: 0.6}
  avian_flu:
    probability: 0.05
    scope: county
    severity: {fixed: 0.3}
    affects: {chicken_135: 1.0}
    price_shock: {chicken: 0.7}
insurance:
  agricultural:
    covers: [chicken_135, rice_only]
    sum_insured: {chicken_135: 5000, rice_only: 1500}
    deductible: 0.2
    premium_rate: 0.06
    subsidy: {poor: 1.0, other: 0.6}
    enrollment: {poor: 1.0, other: 0.3}
  income_index:
    covers: [rice_only]
    coverage: 0.8
    premium_rate: 0.05
    fair_replications: 5000
    subsidy: {poor: 1.0, other: 0.5}
    enrollment: {poor: 0.9, other: 0.2}
  poverty_guard:
    threshold: 1.5
    cap: 10000
    premium_per_capita: 40
    subsidy: {poor: 1.0, other: 1.0}
    enrollment: {poor: 1.0, other: 0.5}
)";

// kRisk with the keys that have defaults left out.
const std::string kRiskDefaults = R"(scenario: {years: 3}
markets:
  rice: {price: 4.0}
  chicken: {price: 60}
industries:
  rice_only:
    products: [{market: rice, yield: 500}]
  chicken_135:
    products: [{market: chicken, yield: 100}]
population:
  households: 10
  size: {values: [3], weights: [1]}
  farmland_mu: {mean: 2}
  forest_mu: {mean: 0}
  capital: {mean: 1000}
choice: {portfolios: [{main: rice_only, share: 1}]}
poverty: {line: 3218}
hazards:
  flood: {probability: 0.1, severity: {beta: [2, 5]}, affects: {chicken_135: 2}}
insurance:
  agricultural: {covers: [chicken_135], sum_insured: {chicken_135: 5000}, premium_rate: 0.06}
  income_index: {covers: [rice_only], coverage: 0.8, premium_rate: 0.05}
  poverty_guard: {threshold: 1.5}
)";

TEST(ScenarioRisk, HazardsAreReadIntoPerIndustryAndPerMarketTables) {
  const Scenario s = load_scenario_text(kRisk, "risk.yaml");
  ASSERT_EQ(s.hazards.size(), 2u);
  const incsim::Hazard& flood = s.hazards[0];
  EXPECT_EQ(flood.name, "flood");
  EXPECT_EQ(flood.probability, 0.10);
  EXPECT_EQ(flood.scope, incsim::HazardScope::village);
  EXPECT_FALSE(flood.severity.fixed);
  EXPECT_EQ(flood.severity.a, 2.0);
  EXPECT_EQ(flood.severity.b, 5.0);
  EXPECT_EQ(flood.affects, (std::vector<double>{1.0, 0.6}));
  EXPECT_EQ(flood.price_shock, (std::vector<double>{1.0, 1.0}));
  const incsim::Hazard& flu = s.hazards[1];
  EXPECT_EQ(flu.name, "avian_flu");
  EXPECT_EQ(flu.scope, incsim::HazardScope::county);
  EXPECT_TRUE(flu.severity.fixed);
  EXPECT_EQ(flu.severity.value, 0.3);
  EXPECT_EQ(flu.affects, (std::vector<double>{0.0, 1.0}));
  EXPECT_EQ(flu.price_shock, (std::vector<double>{1.0, 0.7}));
  EXPECT_TRUE(s.warnings.empty()) << s.warnings.front();
}

TEST(ScenarioRisk, InsuranceProductsAreReadWithTheirParameters) {
  const Scenario s = load_scenario_text(kRisk, "risk.yaml");
  const incsim::AgriculturalInsurance& a = s.insurance.agricultural;
  EXPECT_TRUE(a.enabled);
  EXPECT_EQ(a.covers, (std::vector<int>{1, 0}));
  EXPECT_EQ(a.sum_insured, (std::vector<double>{1500, 5000}));
  EXPECT_EQ(a.deductible, 0.2);
  EXPECT_EQ(a.premium_rate, 0.06);
  EXPECT_EQ(a.subsidy.poor, 1.0);
  EXPECT_EQ(a.subsidy.other, 0.6);
  EXPECT_EQ(a.enrollment.of(true), 1.0);
  EXPECT_EQ(a.enrollment.of(false), 0.3);
  const incsim::IncomeIndexInsurance& x = s.insurance.income_index;
  EXPECT_TRUE(x.enabled);
  EXPECT_EQ(x.covers, std::vector<int>{0});
  EXPECT_EQ(x.coverage, 0.8);
  EXPECT_FALSE(x.fair);
  EXPECT_EQ(x.premium_rate, 0.05);
  EXPECT_EQ(x.loading, 0.0);
  EXPECT_EQ(x.fair_replications, 5000);
  EXPECT_EQ(x.subsidy.other, 0.5);
  EXPECT_EQ(x.enrollment.poor, 0.9);
  EXPECT_EQ(x.enrollment.other, 0.2);
  const incsim::PovertyGuard& g = s.insurance.poverty_guard;
  EXPECT_TRUE(g.enabled);
  EXPECT_EQ(g.threshold, 1.5);
  EXPECT_EQ(g.cap, 10000.0);
  EXPECT_EQ(g.premium_per_capita, 40.0);
  EXPECT_EQ(g.subsidy.other, 1.0);
  EXPECT_EQ(g.enrollment.other, 0.5);
}

TEST(ScenarioRisk, AbsentKeysTakeTheModelDefaults) {
  const Scenario none = load_scenario_text(kMinimal, "s.yaml");
  EXPECT_TRUE(none.hazards.empty());
  EXPECT_FALSE(none.insurance.agricultural.enabled);
  EXPECT_FALSE(none.insurance.income_index.enabled);
  EXPECT_FALSE(none.insurance.poverty_guard.enabled);

  const Scenario s = load_scenario_text(kRiskDefaults, "s.yaml");
  ASSERT_EQ(s.hazards.size(), 1u);
  EXPECT_EQ(s.hazards[0].scope, incsim::HazardScope::county);
  EXPECT_EQ(s.hazards[0].affects, (std::vector<double>{0.0, 2.0}));  // factors above 1 allowed
  EXPECT_EQ(s.hazards[0].price_shock, (std::vector<double>{1.0, 1.0}));
  const incsim::AgriculturalInsurance& a = s.insurance.agricultural;
  EXPECT_EQ(a.sum_insured, (std::vector<double>{0.0, 5000.0}));
  EXPECT_EQ(a.deductible, 0.0);
  EXPECT_EQ(a.subsidy.poor, 0.0);
  EXPECT_EQ(a.subsidy.other, 0.0);
  EXPECT_EQ(a.enrollment.poor, 1.0);
  EXPECT_EQ(a.enrollment.other, 1.0);
  const incsim::IncomeIndexInsurance& x = s.insurance.income_index;
  EXPECT_FALSE(x.fair);
  EXPECT_EQ(x.loading, 0.0);
  EXPECT_EQ(x.fair_replications, 20000);
  EXPECT_EQ(x.subsidy.poor, 0.0);
  EXPECT_EQ(x.enrollment.other, 1.0);
  const incsim::PovertyGuard& g = s.insurance.poverty_guard;
  EXPECT_TRUE(std::isinf(g.cap));
  EXPECT_GT(g.cap, 0.0);
  EXPECT_EQ(g.premium_per_capita, 0.0);
  EXPECT_EQ(g.subsidy.poor, 0.0);
  EXPECT_EQ(g.enrollment.poor, 1.0);
  EXPECT_EQ(g.enrollment.other, 1.0);
  EXPECT_TRUE(s.warnings.empty()) << s.warnings.front();

  // An empty section is allowed and enables nothing.
  const Scenario empty = load_scenario_text(kMinimal + "hazards:\ninsurance: {}\n", "s.yaml");
  EXPECT_TRUE(empty.hazards.empty());
  EXPECT_FALSE(empty.insurance.agricultural.enabled);
}

TEST(ScenarioRisk, FairPremiumRateWithLoading) {
  const std::string text = replace(kRiskDefaults, "coverage: 0.8, premium_rate: 0.05",
                                   "coverage: 1.2, premium_rate: fair, loading: 0.1");
  const Scenario s = load_scenario_text(text, "s.yaml");
  const incsim::IncomeIndexInsurance& x = s.insurance.income_index;
  EXPECT_TRUE(x.fair);
  EXPECT_EQ(x.premium_rate, 0.0);
  EXPECT_EQ(x.loading, 0.1);
  EXPECT_EQ(x.coverage, 1.2);
  EXPECT_EQ(x.fair_replications, 20000);

  const auto errors =
      errors_of(replace(kRiskDefaults, "premium_rate: 0.05", "premium_rate: 0.05, loading: 0.1"));
  ASSERT_EQ(errors.size(), 1u) << formatted(errors);
  EXPECT_DIAGNOSTIC(
      errors, "insurance.income_index.loading: loading applies only to premium_rate: fair", 22, 74);
}

TEST(ScenarioRisk, OverridesSetAValueAndAddAWholeProductOrHazard) {
  const Scenario s = load_scenario_text(
      replace(kRisk,
              "  poverty_guard:\n    threshold: 1.5\n    cap: 10000\n"
              "    premium_per_capita: 40\n    subsidy: {poor: 1.0, other: 1.0}\n"
              "    enrollment: {poor: 1.0, other: 0.5}\n",
              ""),
      "s.yaml",
      {{"insurance.income_index.coverage", "0.9"},
       {"insurance.income_index.premium_rate", "fair"},
       {"insurance.poverty_guard", "{threshold: 1.2, cap: 5000, enrollment: {other: 0.4}}"},
       {"hazards.drought", "{probability: 0.2, severity: {fixed: 0.5}, affects: {rice_only: 1}}"}});
  EXPECT_EQ(s.insurance.income_index.coverage, 0.9);
  EXPECT_TRUE(s.insurance.income_index.fair);
  const incsim::PovertyGuard& g = s.insurance.poverty_guard;
  EXPECT_TRUE(g.enabled);
  EXPECT_EQ(g.threshold, 1.2);
  EXPECT_EQ(g.cap, 5000.0);
  EXPECT_EQ(g.enrollment.poor, 1.0);
  EXPECT_EQ(g.enrollment.other, 0.4);
  ASSERT_EQ(s.hazards.size(), 3u);
  EXPECT_EQ(s.hazards[2].name, "drought");
  EXPECT_EQ(s.hazards[2].affects, (std::vector<double>{1.0, 0.0}));
  // The text as run reproduces the overridden scenario on its own.
  const Scenario again = load_scenario_text(s.text_as_run, "again.yaml");
  EXPECT_EQ(again.insurance.poverty_guard.cap, 5000.0);
  EXPECT_EQ(again.hazards.size(), 3u);

  // A whole product added to a scenario without an insurance section.
  const Scenario added = load_scenario_text(
      kMinimal, "s.yaml",
      {{"insurance.income_index", "{covers: [rice_only], coverage: 0.7, premium_rate: 0.04}"}});
  EXPECT_TRUE(added.insurance.income_index.enabled);
  EXPECT_EQ(added.insurance.income_index.covers, std::vector<int>{0});
  EXPECT_EQ(added.insurance.income_index.premium_rate, 0.04);
}

TEST(ScenarioRisk, ErrorsInAnOverriddenProductPointAtTheOverride) {
  const auto errors =
      errors_of(kMinimal, "s.yaml",
                {{"insurance.poverty_guard", "{threshold: -1, enrolment: {poor: 1}}"},
                 {"insurance.income_index.coverage", "0"}});
  for (const Diagnostic& d : errors) EXPECT_EQ(d.file, "--set") << d.format();
  EXPECT_NE(find(errors,
                 "--set insurance.poverty_guard={threshold: -1, enrolment: {poor: 1}}: "
                 "insurance.poverty_guard.threshold: expected a number >= 0, found -1"),
            nullptr)
      << formatted(errors);
  EXPECT_NE(find(errors,
                 "unknown key 'enrolment' in insurance.poverty_guard (did you mean "
                 "'enrollment'?)"),
            nullptr)
      << formatted(errors);
  EXPECT_NE(find(errors,
                 "--set insurance.income_index.coverage=0: expected a number in (0, 10], "
                 "found 0"),
            nullptr)
      << formatted(errors);
  EXPECT_NE(find(errors, "insurance.income_index.covers: required key is missing"), nullptr)
      << formatted(errors);
}

TEST(ScenarioRisk, EveryErrorOfBothSectionsIsReportedWithItsPosition) {
  std::string text = replace(kRisk, "    probability: 0.10\n    scope: village\n",
                             "    probability: 1.5\n    scope: vilage\n");
  text = replace(text, "    severity: {beta: [2, 5]}\n    affects: {rice_only: 1.0, chicken_135",
                 "    severity: {beta: [2, 0]}\n    affects: {rice_onyl: 1.0, chicken_135");
  text = replace(text, "    covers: [chicken_135, rice_only]\n",
                 "    covers: [chicken_135, rice_only, chicken_135]\n");
  text = replace(text, "    subsidy: {poor: 1.0, other: 0.6}", "    subsidy: {pooor: 1.0}");
  text = replace(text, "    premium_rate: 0.05\n", "    premium_rate: fiar\n");
  text = replace(text, "    cap: 10000\n", "    cap: 0\n");
  const auto errors = errors_of(text, "risk.yaml");
  EXPECT_DIAGNOSTIC(errors, "hazards.flood.probability: expected a number in [0, 1], found 1.5", 21,
                    18);
  EXPECT_DIAGNOSTIC(errors,
                    "hazards.flood.scope: expected county, village or household, found 'vilage' "
                    "(did you mean 'village'?)",
                    22, 12);
  EXPECT_DIAGNOSTIC(errors, "hazards.flood.severity.beta.1: expected a number > 0, found 0", 23,
                    26);
  EXPECT_DIAGNOSTIC(errors, "unknown industry 'rice_onyl' (did you mean 'rice_only'?)", 24, 15);
  EXPECT_DIAGNOSTIC(errors, "industry 'chicken_135' is listed twice", 33, 38);
  EXPECT_DIAGNOSTIC(errors,
                    "unknown key 'pooor' in insurance.agricultural.subsidy (did you mean "
                    "'poor'?)",
                    37, 15);
  EXPECT_DIAGNOSTIC(errors,
                    "insurance.income_index.premium_rate: expected a number >= 0 or fair, found "
                    "'fiar' (did you mean 'fair'?)",
                    42, 19);
  EXPECT_DIAGNOSTIC(errors, "insurance.poverty_guard.cap: expected a number > 0, found 0", 48, 10);
  EXPECT_EQ(errors.size(), 8u) << formatted(errors);
}

TEST(ScenarioRisk, ProductsThatCanNeverPay) {
  // An income index on a crop longer than the horizon is a warning; on an industry without
  // revenue it is an error (G = 0). Agricultural cover of an industry no hazard affects warns.
  std::string text =
      replace(kRiskDefaults, "  rice_only:\n    products: [{market: rice, yield: 500}]",
              "  rice_only:\n    cycle_years: 4\n"
              "    products: [{market: rice, yield: 500}]");
  text = replace(text, "affects: {chicken_135: 2}", "affects: {rice_only: 1}");
  const Scenario s = load_scenario_text(text, "s.yaml");
  ASSERT_EQ(s.warnings.size(), 3u);
  EXPECT_NE(s.warnings[1].find("agricultural insurance covers chicken_135, which no hazard "
                               "affects: it never pays"),
            std::string::npos)
      << s.warnings[1];
  EXPECT_NE(s.warnings[2].find("income index insurance covers rice_only (cycle_years 4), which "
                               "harvests nothing within the 3-year horizon: it never pays"),
            std::string::npos)
      << s.warnings[2];

  const auto errors =
      errors_of(replace(kRiskDefaults, "{market: rice, yield: 500}", "{market: rice, yield: 0}"));
  ASSERT_EQ(errors.size(), 1u) << formatted(errors);
  EXPECT_DIAGNOSTIC(errors,
                    "insurance.income_index.covers.0: industry 'rice_only' has no product with a "
                    "yield > 0: its guarantee G would be 0",
                    22, 27);
}

TEST(ScenarioDescribe, ListsHazardsAndInsuranceProducts) {
  std::string text =
      replace(kRisk, "    premium_rate: 0.05\n", "    premium_rate: fair\n    loading: 0.1\n");
  const std::string described = incsim::describe(load_scenario_text(text, "risk.yaml"));
  for (const char* needle :
       {"hazards (2):", "flood: probability 10% per year per village", "Beta(2, 5), mean 0.285714",
        "rice_only x1, chicken_135 x0.6", "avian_flu: probability 5% per year per county",
        "0.3 (fixed)", "chicken x0.7",
        "agricultural: covers chicken_135 (sum insured 5000 per flock), rice_only (sum insured "
        "1500 per unit)",
        "deductible 20%", "premium rate 6%", "subsidy: poor 100%, other 60%",
        "enrollment: poor 100%, other 30%", "income index: covers rice_only; coverage 80%",
        "fair (E[payout]/G estimated from 5000 draws) x (1 + loading 0.1)",
        "poverty guard: tops per-capita income up to 1.5 x the poverty line; cap 10000",
        "premium 40 per capita"}) {
    EXPECT_NE(described.find(needle), std::string::npos) << needle << " not in:\n" << described;
  }
  const std::string plain = incsim::describe(load_scenario_text(kRiskDefaults, "s.yaml"));
  EXPECT_NE(plain.find("cap unbounded"), std::string::npos) << plain;
  EXPECT_NE(plain.find("premium rate 5% of the guarantee"), std::string::npos) << plain;
  const std::string none = incsim::describe(load_scenario_text(kMinimal, "s.yaml"));
  EXPECT_NE(none.find("hazards: none"), std::string::npos) << none;
  EXPECT_NE(none.find("insurance: none"), std::string::npos) << none;
}

// ---- v2: health, population.poor and income.wage.poor -----------------------------------------

// MODEL.md section 7a's example, with deduct_out_of_pocket switched off so that every field
// differs from its default.
const std::string kHealth = R"(health:
  illnesses:
    - {name: outpatient, probability: 0.40, cost: {mean: 600, cv: 1.0}}
    - {name: inpatient, probability: 0.08, cost: {mean: 12000, cv: 1.2}, days_lost: 60}
  reimbursement: {poor: 0.9117, other: 0.55}
  out_of_pocket_cap: {poor: 3000}
  deduct_out_of_pocket: false
)";

void expect_illness(const incsim::Illness& ill, const std::string& name, double probability,
                    double mean, double cv, double days_lost) {
  EXPECT_EQ(ill.name, name);
  EXPECT_EQ(ill.probability, probability) << name;
  EXPECT_EQ(ill.cost.mean, mean) << name;
  EXPECT_EQ(ill.cost.cv, cv) << name;
  EXPECT_EQ(ill.days_lost, days_lost) << name;
}

TEST(ScenarioHealth, ASectionIsReadIntoHealthSpecExactly) {
  const Scenario s = load_scenario_text(kMinimal + kHealth, "s.yaml");
  const incsim::HealthSpec& h = s.health;
  EXPECT_TRUE(h.enabled);
  ASSERT_EQ(h.illnesses.size(), 2u);
  expect_illness(h.illnesses[0], "outpatient", 0.40, 600.0, 1.0, 0.0);  // days_lost default
  expect_illness(h.illnesses[1], "inpatient", 0.08, 12000.0, 1.2, 60.0);
  EXPECT_EQ(h.reimbursement.poor, 0.9117);
  EXPECT_EQ(h.reimbursement.other, 0.55);
  EXPECT_EQ(h.out_of_pocket_cap.poor, 3000.0);
  EXPECT_TRUE(std::isinf(h.out_of_pocket_cap.other) && h.out_of_pocket_cap.other > 0)
      << "an absent group is unbounded, found " << h.out_of_pocket_cap.other;
  EXPECT_FALSE(h.deduct_out_of_pocket);
}

TEST(ScenarioHealth, AbsentKeysTakeTheModelDefaults) {
  const Scenario none = load_scenario_text(kMinimal, "s.yaml");
  EXPECT_FALSE(none.health.enabled);
  EXPECT_TRUE(none.health.illnesses.empty());
  const Scenario s = load_scenario_text(
      kMinimal + "health: {illnesses: [{name: fever, probability: 0.1, cost: {mean: 100}}]}\n",
      "s.yaml");
  const incsim::HealthSpec& h = s.health;
  EXPECT_TRUE(h.enabled);
  ASSERT_EQ(h.illnesses.size(), 1u);
  expect_illness(h.illnesses[0], "fever", 0.1, 100.0, 0.0, 0.0);
  EXPECT_EQ(h.reimbursement.poor, 0.0);
  EXPECT_EQ(h.reimbursement.other, 0.0);
  EXPECT_TRUE(std::isinf(h.out_of_pocket_cap.poor) && h.out_of_pocket_cap.poor > 0);
  EXPECT_TRUE(std::isinf(h.out_of_pocket_cap.other) && h.out_of_pocket_cap.other > 0);
  EXPECT_TRUE(h.deduct_out_of_pocket);
  // days_lost may reach the population's labor days per laborer, and --set reaches the section.
  const Scenario set = load_scenario_text(kMinimal + kHealth, "s.yaml",
                                          {{"population.labor_days_per_laborer", "200"},
                                           {"health.illnesses.1.days_lost", "200"},
                                           {"health.out_of_pocket_cap.other", "0"}});
  EXPECT_EQ(set.health.illnesses[1].days_lost, 200.0);
  EXPECT_EQ(set.health.out_of_pocket_cap.other, 0.0);
}

TEST(ScenarioHealth, EveryErrorIsReportedWithItsPosition) {
  // kMinimal has 14 lines: the health section starts on line 15.
  const std::string text = kMinimal + R"(health:
  illnesses:
    - {name: a, probability: 0.1, cost: {mean: 100}, days_lost: 300}
    - {name: a, probability: 0.1, cost: {mean: 100}}
    - {name: "", probability: 0.1, cost: {mean: 100}}
    - {name: "x\ty", probability: 1.5, cost: {mean: 100}}
    - {name: b, probability: 0.1}
    - {name: c, probability: 0.1, cost: {mean: 1, cvv: 2}}
    - {probability: 0.1, cost: {mean: 1}}
  reimbursment: {poor: 0.9}
  out_of_pocket_cap: {poorr: 3000, other: -1}
  deduct_out_of_pocket: maybe
)";
  const auto errors = errors_of(text);
  EXPECT_DIAGNOSTIC(errors,
                    "health.illnesses.0.days_lost: expected a number in [0, 250] (at most "
                    "population.labor_days_per_laborer), found 300",
                    17, 65);
  EXPECT_DIAGNOSTIC(
      errors, "health.illnesses.1.name: illness 'a' is listed twice (first at line 17)", 18, 14);
  EXPECT_DIAGNOSTIC(errors, "health.illnesses.2.name: expected a non-empty illness name", 19, 14);
  EXPECT_DIAGNOSTIC(errors,
                    "health.illnesses.3.name: expected an illness name without control "
                    "characters, found character code 9 at position 2",
                    20, 14);
  EXPECT_DIAGNOSTIC(
      errors, "health.illnesses.3.probability: expected a number in [0, 1], found 1.5", 20, 35);
  EXPECT_DIAGNOSTIC(errors, "health.illnesses.4.cost: required key is missing", 21, 7);
  EXPECT_DIAGNOSTIC(errors, "unknown key 'cvv' in health.illnesses.5.cost (did you mean 'cv'?)", 22,
                    51);
  EXPECT_DIAGNOSTIC(errors, "health.illnesses.6.name: required key is missing", 23, 7);
  EXPECT_DIAGNOSTIC(errors, "unknown key 'reimbursment' in health (did you mean 'reimbursement'?)",
                    24, 3);
  EXPECT_DIAGNOSTIC(
      errors, "unknown key 'poorr' in health.out_of_pocket_cap (did you mean 'poor'?)", 25, 23);
  EXPECT_DIAGNOSTIC(errors, "health.out_of_pocket_cap.other: expected a number >= 0, found -1", 25,
                    43);
  EXPECT_DIAGNOSTIC(errors, "health.deduct_out_of_pocket: expected true or false, found 'maybe'",
                    26, 25);
  EXPECT_EQ(errors.size(), 12u) << formatted(errors);
}

TEST(ScenarioHealth, IllnessesAreRequiredNonEmptyAndAtMost255) {
  EXPECT_DIAGNOSTIC(errors_of(kMinimal + "health: {deduct_out_of_pocket: true}\n"),
                    "health.illnesses: required key is missing", 15, 1);
  // An empty section switches illness off, like `hazards: {}` and `insurance: {}`.
  for (const char* empty : {"health:\n", "health: {}\n"})
    EXPECT_FALSE(load_scenario_text(kMinimal + empty, "empty.yaml").health.enabled) << empty;
  EXPECT_DIAGNOSTIC(errors_of(kMinimal + "health: {illnesses: []}\n"),
                    "health.illnesses: expected at least one illness, found an empty list", 15, 10);
  EXPECT_DIAGNOSTIC(errors_of(kMinimal + "helth: {illnesses: []}\n"),
                    "unknown section 'helth' (did you mean 'health'?)", 15, 1);
  auto with = [](int n) {
    std::string text = kMinimal + "health:\n  illnesses:\n";
    for (int e = 0; e < n; ++e)
      text += "    - {name: i" + std::to_string(e) + ", probability: 0.01, cost: {mean: 1}}\n";
    return text;
  };
  EXPECT_EQ(load_scenario_text(with(255), "s.yaml").health.illnesses.size(), 255u);
  EXPECT_DIAGNOSTIC(errors_of(with(256)),
                    "health.illnesses: expected at most 255 illnesses, found 256 (health draws "
                    "address the illness in 8 bits",
                    16, 3);
}

TEST(ScenarioPopulation, PoorBlockFallsBackToTheGeneralDistributions) {
  const std::string general = replace(kMinimal, "  capital: {mean: 1000}\n",
                                      "  capital: {mean: 1000, cv: 0.8}\n"
                                      "  laborers: {share_of_size: 0.6, min: 2}\n");
  const Scenario plain = load_scenario_text(general, "s.yaml");
  EXPECT_FALSE(plain.population.poor_block);
  EXPECT_EQ(&plain.population.of(true), &plain.population.all);

  const Scenario s =
      load_scenario_text(replace(general, "  laborers: {share_of_size: 0.6, min: 2}\n",
                                 "  laborers: {share_of_size: 0.6, min: 2}\n"
                                 "  poor: {capital: {mean: 1500}}\n"),
                         "s.yaml");
  const incsim::Population& p = s.population;
  EXPECT_TRUE(p.poor_block);
  EXPECT_EQ(&p.of(true), &p.poor);
  EXPECT_EQ(&p.of(false), &p.all);
  EXPECT_EQ(p.poor.capital.mean, 1500.0);
  EXPECT_EQ(p.poor.capital.cv, 0.8) << "the general cv";
  EXPECT_EQ(p.all.capital.mean, 1000.0);
  EXPECT_EQ(p.all.capital.cv, 0.8);
  EXPECT_EQ(p.poor.size_values, std::vector<double>{3});
  EXPECT_EQ(p.poor.size_weights, std::vector<double>{1});
  EXPECT_EQ(p.poor.laborer_min, 2);
  EXPECT_EQ(p.poor.laborer_share_of_size, 0.6);
  EXPECT_EQ(p.poor.farmland_mu.mean, 2.0);
  EXPECT_EQ(p.poor.forest_mu.mean, 0.0);

  const Scenario min0 = load_scenario_text(
      general, "s.yaml", {{"population.poor", "{laborers: {min: 0}, size: {values: [5]}}"}});
  const incsim::Population& q = min0.population;
  EXPECT_TRUE(q.poor_block);
  EXPECT_EQ(q.poor.laborer_min, 0);
  EXPECT_EQ(q.poor.laborer_share_of_size, 0.6) << "the general share";
  EXPECT_EQ(q.all.laborer_min, 2);
  EXPECT_EQ(q.poor.size_values, std::vector<double>{5});
  EXPECT_EQ(q.poor.size_weights, std::vector<double>{1}) << "the general weights";
  EXPECT_EQ(q.all.size_values, std::vector<double>{3});
  EXPECT_EQ(q.poor.capital.mean, 1000.0);
  EXPECT_EQ(q.poor.capital.cv, 0.8);

  // A list the block leaves out is the general one, and the message says so.
  const auto errors =
      errors_of(general, "s.yaml", {{"population.poor", "{size: {values: [2, 4]}}"}});
  ASSERT_EQ(errors.size(), 1u) << formatted(errors);
  EXPECT_NE(errors[0].message.find("population.poor.size: expected 2 weights (one per value), "
                                   "found 1 (the weights are population.size's; give both values "
                                   "and weights here)"),
            std::string::npos)
      << errors[0].format();
}

TEST(ScenarioIncome, WagePoorKeepsTheGeneralValuesItLeavesOut) {
  const std::string text =
      kMinimal +
      "income: {wage: {per_laborer: 20000, cv: 0.3, employment_rate: 0.8, poor: {per_laborer: "
      "9000}}}\n";
  const Scenario s = load_scenario_text(text, "s.yaml");
  const incsim::IncomeSpec& income = s.income;
  EXPECT_TRUE(income.wage_poor_block);
  EXPECT_EQ(income.wage_poor.per_laborer, 9000.0);
  EXPECT_EQ(income.wage_poor.cv, 0.3);
  EXPECT_EQ(income.wage_poor.employment_rate, 0.8);
  EXPECT_EQ(income.wage.per_laborer, 20000.0);
  EXPECT_EQ(income.wage_of(true).per_laborer, 9000.0);
  EXPECT_EQ(income.wage_of(false).per_laborer, 20000.0);
  const Scenario without =
      load_scenario_text(kMinimal + "income: {wage: {per_laborer: 20000, cv: 0.3}}\n", "s.yaml");
  EXPECT_FALSE(without.income.wage_poor_block);
  EXPECT_EQ(without.income.wage_of(true).per_laborer, 20000.0);
}

TEST(ScenarioDescribe, DescribesTheHealthSection) {
  const std::string described = incsim::describe(load_scenario_text(kMinimal + kHealth, "s.yaml"));
  for (const char* needle :
       {"health (2 illnesses, each person, year and illness independently):",
        "  outpatient: probability 40% per person-year; cost mean 600 per episode (cv 1); 0 days "
        "lost",
        "  inpatient: probability 8% per person-year; cost mean 12000 per episode (cv 1.2); 60 "
        "days lost",
        "  reimbursement: poor 91.17%, other 55% of medical cost",
        "  out-of-pocket cap per household-year: poor 3000, other unbounded",
        "  out-of-pocket costs not deducted from income"}) {
    EXPECT_NE(described.find(needle), std::string::npos) << needle << " not in:\n" << described;
  }
  EXPECT_EQ(described.find("health: none"), std::string::npos) << described;
  const std::string deducted = incsim::describe(
      load_scenario_text(kMinimal + kHealth, "s.yaml", {{"health.deduct_out_of_pocket", "true"}}));
  EXPECT_NE(deducted.find("out-of-pocket costs deducted from income"), std::string::npos)
      << deducted;
  const std::string none = incsim::describe(load_scenario_text(kMinimal, "s.yaml"));
  EXPECT_NE(none.find("health: none"), std::string::npos) << none;
}

}  // namespace

TEST(ScenarioChoice, TwoIndustriesNeedsTwoCandidates) {
  const std::string text = replace(kMinimal, "choice: {portfolios: [{main: rice_only, share: 1}]}",
                                   "choice: {rule: expected_utility, candidates: [rice_only]}");
  const auto errors = errors_of(text);
  EXPECT_NE(find(errors, "two_industries needs at least two candidate industries"), nullptr);
  const std::string single =
      replace(kMinimal, "choice: {portfolios: [{main: rice_only, share: 1}]}",
              "choice: {rule: expected_utility, two_industries: false, candidates: [rice_only]}");
  EXPECT_NO_THROW(incsim::load_scenario_text(single, "s.yaml"));
}
