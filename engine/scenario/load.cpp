// Scenario loading: parses the YAML, applies `--set` overrides, validates every section of
// MODEL.md and collects all problems before failing. Each mapping's allowed keys and each static
// range come from the key table (keys.cpp); a bound that depends on another key is given here.
#include <sys/stat.h>

#include <yaml-cpp/yaml.h>

#include <Eigen/Dense>
#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <map>
#include <numeric>

#include "incsim/keys.h"
#include "incsim/load.h"
#include "scenario/sections.h"
#include "scenario/yaml_reader.h"

namespace incsim {

int Scenario::market_index(const std::string& market_name) const {
  for (std::size_t i = 0; i < markets.size(); ++i) {
    if (markets[i].name == market_name) return static_cast<int>(i);
  }
  return -1;
}

int Scenario::industry_index(const std::string& industry_name) const {
  for (std::size_t i = 0; i < industries.size(); ++i) {
    if (industries[i].name == industry_name) return static_cast<int>(i);
  }
  return -1;
}

namespace scenario_detail {

std::optional<std::uint64_t> max_input_bytes(std::string& reason) {
  const char* env = std::getenv("INCSIM_MAX_INPUT_BYTES");
  if (env == nullptr) return kDefaultMaxInputBytes;
  // Digits only (strtoull would wrap "-1" to 2^64 - 1: no limit at all), at least 1.
  const std::string text = env;
  const bool digits =
      !text.empty() && text.size() <= 19 &&
      std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
  const std::uint64_t v = digits ? std::stoull(text) : 0;
  if (v > 0) return v;
  reason = "INCSIM_MAX_INPUT_BYTES='" + text.substr(0, 40) +
           "' is not a positive whole number of bytes (unset it for the default of " +
           std::to_string(kDefaultMaxInputBytes) + ")";
  return std::nullopt;
}

std::optional<std::size_t> first_nul(const std::string& text) {
  const std::size_t at = text.find('\0');
  if (at == std::string::npos) return std::nullopt;
  return at;
}

Diagnostic nul_byte_error(const std::string& file, const std::string& text, std::size_t at) {
  int line = 1, column = 1;
  for (std::size_t i = 0; i < at; ++i) {
    if (text[i] == '\n') {
      ++line;
      column = 1;
    } else {
      ++column;
    }
  }
  return {file, line, column,
          "NUL byte in the file (a binary file? a scenario is YAML text without NUL bytes)"};
}

std::optional<std::string> read_text_file(const std::string& path, std::string& reason) {
  // Only regular files, checked before opening (opening a FIFO would block; a device such as
  // /dev/zero would be read without end), and at most max_input_bytes().
  if (path.empty()) {
    reason = "the path is empty";
    return std::nullopt;
  }
  struct stat st {};
  errno = 0;
  if (::stat(path.c_str(), &st) != 0) {
    reason = std::strerror(errno);
    return std::nullopt;
  }
  if (!S_ISREG(st.st_mode)) {
    reason = std::string("not a regular file (") +
             (S_ISDIR(st.st_mode)    ? "a directory"
              : S_ISFIFO(st.st_mode) ? "a FIFO"
              : S_ISSOCK(st.st_mode) ? "a socket"
                                     : "a device") +
             ")";
    return std::nullopt;
  }
  const std::optional<std::uint64_t> limit = max_input_bytes(reason);
  if (!limit) return std::nullopt;
  const std::uint64_t cap = *limit;
  const auto too_large = [&] {
    reason = "larger than the limit of " + std::to_string(cap) +
             " bytes for input files (set INCSIM_MAX_INPUT_BYTES to raise it)";
  };
  if (static_cast<std::uint64_t>(st.st_size) > cap) {
    too_large();
    return std::nullopt;
  }
  std::FILE* file = std::fopen(path.c_str(), "rb");
  if (!file) {
    reason = std::strerror(errno);
    return std::nullopt;
  }
  std::string text;
  char buffer[1 << 16];
  std::size_t n = 0;
  while ((n = std::fread(buffer, 1, sizeof buffer, file)) > 0) {
    text.append(buffer, n);
    if (text.size() > cap) {  // a file that grows, or reports no size (/proc)
      std::fclose(file);
      too_large();
      return std::nullopt;
    }
  }
  const bool failed = std::ferror(file) != 0;
  const int error = errno;
  std::fclose(file);
  if (failed) {
    reason = std::strerror(error);
    return std::nullopt;
  }
  return text;
}

}  // namespace scenario_detail

std::vector<std::vector<std::size_t>> correlation_groups(
    std::size_t markets, const std::vector<CorrelationPair>& pairs) {
  std::vector<std::size_t> parent(markets);
  std::iota(parent.begin(), parent.end(), std::size_t{0});
  auto root = [&](std::size_t i) {
    while (parent[i] != i) i = parent[i] = parent[parent[i]];
    return i;
  };
  for (const CorrelationPair& p : pairs) {
    if (p.rho == 0.0) continue;
    const std::size_t a = root(static_cast<std::size_t>(p.a)),
                      b = root(static_cast<std::size_t>(p.b));
    if (a != b) parent[std::max(a, b)] = std::min(a, b);  // the smallest member is the root
  }
  std::vector<std::vector<std::size_t>> groups;
  std::vector<std::size_t> group_of(markets, SIZE_MAX);
  for (std::size_t i = 0; i < markets; ++i) {
    std::size_t& g = group_of[root(i)];
    if (g == SIZE_MAX) {
      g = groups.size();
      groups.emplace_back();
    }
    groups[g].push_back(i);
  }
  return groups;
}

namespace {

using namespace scenario_detail;

std::string short_number(double value) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.3g", value);
  return buffer;
}

class ScenarioReader {
 public:
  ScenarioReader(Scenario& scenario, DiagnosticSink& sink) : s_(scenario), sink_(sink) {}

  void read(const Value& root) {
    if (!root.present() || root.is_null()) {
      sink_.add({sink_.file(), 0, 0,
                 "the scenario is empty; expected the sections scenario, markets, industries, "
                 "population, choice and poverty"});
      return;
    }
    if (!root.is_map()) {
      root.error_plain("expected a mapping of sections (scenario, markets, ...), found " +
                       root.found());
      return;
    }
    const std::vector<std::string>& sections = scenario_key_fields("");
    for (const auto& [name, section] : root.named_entries()) {
      if (std::find(sections.begin(), sections.end(), name) == sections.end()) {
        sink_.report(section.key_mark(), name,
                     "unknown section " + quote(name) + suggest(name, sections), false);
      }
    }
    static const std::pair<const char*, const char*> required[] = {
        {"scenario", "{years: ...}"},
        {"markets", "{name: {unit: ..., price: ...}, ...}"},
        {"industries", "{name: {products: [...], ...}, ...}"},
        {"population", "{households: ..., size: ..., ...} or {csv: file}"},
        {"poverty", "{line: ...}"}};
    for (const auto& [section, expected] : required) {
      if (!root[section].present()) {
        sink_.add({sink_.file(), 0, 0,
                   "missing section " + quote(section) + " (expected " + section + ": " + expected +
                       ")"});
      }
    }
    read_header(root["scenario"]);
    read_markets(root["markets"]);
    read_correlation(root["correlation"]);
    read_industries(root["industries"], root["industries_defaults"]);
    read_hazards(root["hazards"], s_);
    read_insurance(root["insurance"], s_);
    const Value population = root["population"];
    const bool population_ok =
        population.present() && read_population(population, sink_.file(), s_);
    // Whether the portfolios come from the csv is unknown only if the csv could not be read.
    const bool csv_unknown = population["csv"].present() && !population_ok;
    read_income(root["income"]);
    read_health(root["health"], s_);
    read_choice(root["choice"], !csv_unknown);
    read_poverty(root["poverty"]);
    read_output(root["output"]);
  }

 private:
  void read_header(const Value& v) {
    s_.name = std::filesystem::path(sink_.file()).stem().string();
    if (!v.expect_fields()) return;
    assign(v["name"], s_.name);
    assign(v["start_year"], s_.start_year);
    v.require("years", "an integer >= 1");
    assign(v["years"], s_.years);
    assign(v["replications"], s_.replications);
    if (const auto seed = v["seed"].unsigned64()) s_.seed = *seed;
  }

  void read_markets(const Value& v) {
    if (!v.present()) return;
    const auto entries = v.named_entries();
    if (entries.empty() && (v.is_null() || v.is_map())) {
      v.error("expected at least one market");
    }
    for (const auto& [name, mv] : entries) {
      Market m;
      m.name = name;
      if (mv.expect_fields()) {
        assign(mv["unit"], m.unit);
        mv.require("price", "a number > 0");
        assign(mv["price"], m.price);
        assign(mv["trend"], m.trend);
        assign(mv["volatility"], m.volatility);
        assign(mv["persistence"], m.persistence);
      }
      s_.markets.push_back(m);
      market_names_.push_back(name);
    }
  }

  // Index of a named market or industry; -1 after reporting an unknown name.
  int lookup(const Value& v, const std::vector<std::string>& names, const char* what) const {
    const auto name = v.text();
    if (!name) return -1;
    const auto it = std::find(names.begin(), names.end(), *name);
    if (it != names.end()) return static_cast<int>(it - names.begin());
    v.error(std::string("unknown ") + what + " " + quote(*name) + suggest(*name, names));
    return -1;
  }
  int market(const Value& v) const { return lookup(v, market_names_, "market"); }
  int industry(const Value& v) const { return lookup(v, industry_names_, "industry"); }

  void read_correlation(const Value& v) {
    s_.correlation.clear();
    if (!v.present() || v.is_null()) return;
    struct Pair {
      int a, b;
      double rho;
      Value item;
    };
    std::vector<Pair> pairs;
    std::map<std::pair<int, int>, std::size_t> seen;  // (lo, hi) -> index into pairs
    bool ok = true;
    for (const Value& item : v.items()) {
      if (!item.is_list() || item.size() != 3) {
        const std::string found =
            item.is_list() ? "a list of " + std::to_string(item.size()) + " items" : item.found();
        item.error("expected [market, market, rho], found " + found);
        ok = false;
        continue;
      }
      const auto parts = item.items();
      const int a = market(parts[0]);
      const int b = market(parts[1]);
      const auto rho = parts[2].number();
      if (a < 0 || b < 0 || !rho) {
        ok = false;
        continue;
      }
      if (a == b) {
        if (*rho != 1.0) {
          item.error("a market's correlation with itself must be 1, found " + parts[2].scalar());
          ok = false;
        }
        continue;
      }
      const int lo = std::min(a, b);
      const int hi = std::max(a, b);
      if (const auto same = seen.find({lo, hi}); same != seen.end()) {
        const Pair& first = pairs[same->second];
        if (first.rho != *rho) {
          const YAML::Mark mark = first.item.mark();
          item.error("pair (" + market_names_[lo] + ", " + market_names_[hi] +
                     ") is listed twice with different values: " + format_number(first.rho) +
                     (mark.is_null() ? "" : " (line " + std::to_string(mark.line + 1) + ")") +
                     " and " + format_number(*rho));
          ok = false;
        }
        continue;
      }
      seen[{lo, hi}] = pairs.size();
      pairs.push_back({lo, hi, *rho, item});
    }
    for (const auto& [key, index] : seen)  // ascending by (a, b)
      s_.correlation.push_back({key.first, key.second, pairs[index].rho});
    if (ok) check_positive_semidefinite(v);
  }

  // Unlisted pairs are 0, so the matrix is block diagonal over groups of markets linked by
  // listed pairs: it is PSD iff every block is, and a failing block names the markets involved.
  void check_positive_semidefinite(const Value& v) {
    std::map<std::pair<int, int>, double> rho;
    for (const CorrelationPair& p : s_.correlation) rho[{p.a, p.b}] = p.rho;
    for (const std::vector<std::size_t>& members :
         correlation_groups(s_.markets.size(), s_.correlation)) {
      if (members.size() < 2) continue;
      const auto n = static_cast<Eigen::Index>(members.size());
      Eigen::MatrixXd block = Eigen::MatrixXd::Identity(n, n);
      for (Eigen::Index i = 0; i < n; ++i)
        for (Eigen::Index j = i + 1; j < n; ++j) {
          const auto it = rho.find({static_cast<int>(members[static_cast<std::size_t>(i)]),
                                    static_cast<int>(members[static_cast<std::size_t>(j)])});
          if (it != rho.end()) block(i, j) = block(j, i) = it->second;
        }
      Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> solver(block, Eigen::EigenvaluesOnly);
      const double smallest = solver.eigenvalues().minCoeff();
      if (smallest < -1e-10) {
        std::vector<std::string> names;
        for (std::size_t i : members) names.push_back(market_names_[i]);
        v.error_at_key("the correlations among markets " + join(names, ", ") +
                       " are not positive semi-definite (smallest eigenvalue " +
                       short_number(smallest) +
                       "): no joint distribution has these pairwise correlations");
      }
    }
  }

  void read_industries(const Value& v, const Value& defaults) {
    if (defaults.present() && defaults.expect_fields()) {
      Industry scratch;  // checks the defaults once, even if every industry overrides them
      read_industry(
          scratch, defaults,
          Value(YAML::Node(), "", YAML::Mark::null_mark(), &sink_, false, "industries_defaults"),
          true);
    }
    if (!v.present()) return;
    const auto entries = v.named_entries();
    if (entries.empty() && (v.is_null() || v.is_map())) v.error("expected at least one industry");
    for (const auto& [name, iv] : entries) industry_names_.push_back(name);
    for (const auto& [name, iv] : entries) {
      Industry industry;
      industry.name = name;
      industry.label = name;
      if (iv.expect_fields()) read_industry(industry, iv, defaults, false);
      if (s_.years > 0 && industry.cycle_years > s_.years) {
        s_.warnings.push_back("industry " + name + " (cycle_years " +
                              std::to_string(industry.cycle_years) +
                              ") harvests nothing within the " + std::to_string(s_.years) +
                              "-year horizon: only costs");
      }
      s_.industries.push_back(std::move(industry));
    }
  }

  // An industry's own value wins over industries_defaults, key by key (a whole `needs`
  // mapping is one key).
  void read_industry(Industry& out, const Value& own, const Value& defaults, bool defaults_only) {
    auto pick = [&](std::string_view key) {
      Value mine = own[key];
      return mine.present() ? mine : defaults[key];
    };
    assign(pick("label"), out.label);
    assign(pick("unit"), out.unit);
    assign(pick("cycle_years"), out.cycle_years);
    assign(pick("setup_cost"), out.setup_cost);
    assign(pick("operating_cost"), out.operating_cost);
    assign(pick("setup_subsidy"), out.setup_subsidy);
    assign(pick("max_units"), out.max_units);
    assign(pick("capacity"), out.capacity);
    const Value needs = pick("needs");
    if (needs.expect_fields()) {
      assign(needs["farmland_mu"], out.needs_farmland_mu);
      assign(needs["forest_mu"], out.needs_forest_mu);
      assign(needs["labor_days"], out.needs_labor_days);
    }
    const Value products = pick("products");
    if (!products.present() && !defaults_only) {
      own.missing("products", "a list of {market, yield, yield_cv}");
    }
    if (products.is_list() && products.size() == 0) {
      products.error("expected at least one product, found an empty list");
    }
    bool products_known = products.is_list();  // else a floor's market cannot be checked
    for (const Value& item : products.items()) {
      if (!item.expect_fields()) {
        products_known = false;
        continue;
      }
      Product product;
      product.market = -1;
      const Value market_name = item.require("market", "a market name");
      if (market_name.present()) product.market = market(market_name);
      products_known &= product.market >= 0;
      item.require("yield", "a number >= 0");
      assign(item["yield"], product.yield);
      assign(item["yield_cv"], product.yield_cv);
      out.products.push_back(product);
    }
    out.price_floor.assign(s_.markets.size(), std::nullopt);
    const Value floors = pick("price_floor");
    for (const auto& [name, floor] : floors.named_entries()) {
      const auto it = std::find(market_names_.begin(), market_names_.end(), name);
      const auto value = floor.number();
      if (it == market_names_.end()) {
        floor.error_at_key("unknown market " + quote(name) + suggest(name, market_names_));
        continue;
      }
      const int index = static_cast<int>(it - market_names_.begin());
      const bool sold = std::any_of(out.products.begin(), out.products.end(),
                                    [&](const Product& p) { return p.market == index; });
      if (!defaults_only && products_known && !sold) {
        std::vector<std::string> sold_names;
        for (const Product& p : out.products) {
          if (p.market >= 0) sold_names.push_back(market_names_[p.market]);
        }
        floor.error_at_key("market " + quote(name) + " is not a product of industry " + out.name +
                           " (its products: " + join(sold_names, ", ") + ")");
        continue;
      }
      if (value) out.price_floor[index] = *value;
    }
  }

  void read_income(const Value& v) {
    if (!v.expect_fields()) return;
    IncomeSpec& income = s_.income;
    const Value wage = v["wage"];
    if (wage.expect_fields()) {
      wage.require("per_laborer", "a number >= 0");
      assign(wage["per_laborer"], income.wage.per_laborer);
      assign(wage["cv"], income.wage.cv);
      assign(wage["employment_rate"], income.wage.employment_rate);
    }
    income.wage_poor = income.wage;  // v2: wage.poor overrides, absent keys fall back
    const Value poor = wage["poor"];
    if (poor.expect_fields()) {
      income.wage_poor_block = true;
      assign(poor["per_laborer"], income.wage_poor.per_laborer);
      assign(poor["cv"], income.wage_poor.cv);
      assign(poor["employment_rate"], income.wage_poor.employment_rate);
    }
    const Value posts = v["public_posts"];
    if (posts.expect_fields()) {
      posts.require("share_of_poor", "a number in [0, 1]");
      posts.require("amount", "a number >= 0");
      assign(posts["share_of_poor"], income.public_posts.share_of_poor);
      assign(posts["amount"], income.public_posts.amount);
    }
    assign(v["transfers_per_capita"], income.transfers_per_capita);
    const Value dibao = v["dibao"];
    if (dibao.expect_fields()) {
      income.dibao.enabled = true;
      dibao.require("line", "a number >= 0");
      assign(dibao["line"], income.dibao.line);
      assign(dibao["take_up"], income.dibao.take_up);
      if (const auto eligible = dibao["eligible"].text()) {
        if (*eligible == "poor") {
          income.dibao.eligible = DibaoEligible::poor;
        } else if (*eligible == "all") {
          income.dibao.eligible = DibaoEligible::all;
        } else {
          dibao["eligible"].error("expected poor or all, found " + quote(*eligible));
        }
      }
    }
  }

  void read_choice(const Value& v, bool portfolio_source_known) {
    ChoiceSpec& c = s_.choice;
    for (std::size_t i = 0; i < s_.industries.size(); ++i)
      c.candidates.push_back(static_cast<int>(i));
    const auto& records = s_.population.records;
    const bool csv_portfolios = !records.empty() && records.front().main.has_value();
    if (!v.present()) {
      c.from_csv = csv_portfolios;
      if (!csv_portfolios && portfolio_source_known) {
        sink_.add({sink_.file(), 0, 0,
                   "missing section 'choice' (expected choice: {rule: fixed, portfolios: "
                   "[{main: ..., aux: ..., share: ...}]}, or main/aux columns in the "
                   "population csv)"});
      }
      return;
    }
    if (!v.expect_fields()) return;
    const Value rule = v["rule"];
    if (const auto text = rule.text()) {
      const std::vector<std::string>& rules = key_words(rule.table_key());
      if (*text == "fixed") {
        c.rule = ChoiceRule::fixed;
      } else if (*text == "expected_utility" || *text == "logit") {
        c.rule = *text == "logit" ? ChoiceRule::logit : ChoiceRule::expected_utility;
      } else {
        rule.error("expected fixed, expected_utility or logit, found " + quote(*text) +
                   (nearest_name(*text, rules) ? suggest(*text, rules) : ""));
      }
    }
    assign(v["two_industries"], c.two_industries);
    const Value utility = v["utility"];
    if (utility.expect_fields()) {
      const bool crra = utility["crra"].present();
      const bool cara = utility["cara"].present();
      if (crra && cara) utility.error("give either crra or cara, not both");
      if (!crra && !cara) utility.error("expected {crra: g} or {cara: a}");
      assign(utility["crra"], c.crra);
      assign(utility["cara"], c.cara);
      if (cara && !crra) c.utility = UtilityKind::cara;
      assign(utility["floor"], c.floor);
      const Value over = utility["over"];
      if (const auto text = over.text()) {
        const std::vector<std::string>& kinds = key_words(over.table_key());
        if (*text == "years") {
          c.over = UtilityOver::years;
        } else if (*text == "horizon_mean") {
          c.over = UtilityOver::horizon_mean;
        } else {
          over.error("expected years or horizon_mean, found " + quote(*text) +
                     (nearest_name(*text, kinds) ? suggest(*text, kinds) : ""));
        }
      }
      assign(utility["discount_rate"], c.discount_rate);
    }
    assign(v["pilot_replications"], c.pilot_replications);
    assign(v["temperature"], c.temperature);
    read_candidates(v["candidates"]);
    if (c.rule != ChoiceRule::fixed && c.two_industries && c.candidates.size() == 1) {
      const Value at = v["candidates"].present() ? v["candidates"] : v["rule"];
      at.error(
          "two_industries needs at least two candidate industries (a main and an auxiliary); "
          "add candidates or set two_industries: false");
    }
    const Value portfolios = v["portfolios"];
    read_portfolios(portfolios);
    if (c.rule != ChoiceRule::fixed) {
      if (portfolios.present())
        portfolios.error_at_key(
            "portfolios apply only to rule fixed (households choose under " +
            std::string(c.rule == ChoiceRule::logit ? "logit" : "expected_utility") +
            "): add --set choice.rule=fixed, or rule: fixed in the choice section");
      if (csv_portfolios)
        v["rule"].error(
            "the population csv fixes portfolios in its main/aux columns; use rule: fixed "
            "or drop those columns");
      return;
    }
    if (portfolios.present() && csv_portfolios) {
      portfolios.error_at_key(
          "given both here and as main/aux columns of the population csv; keep one");
    } else if (csv_portfolios) {
      c.from_csv = true;
    } else if (!portfolios.present() && portfolio_source_known) {
      v.error(
          "rule fixed needs portfolios: [{main: ..., aux: ..., share: ...}] or main/aux "
          "columns in the population csv");
    }
  }

  void read_candidates(const Value& v) {
    if (!v.present()) return;
    std::vector<int> chosen;
    for (const Value& item : v.items()) {
      const int index = industry(item);
      if (index < 0) continue;
      if (std::find(chosen.begin(), chosen.end(), index) != chosen.end()) {
        item.error("industry " + quote(item.scalar()) + " is listed twice");
        continue;
      }
      chosen.push_back(index);
    }
    if (v.is_list() && v.size() == 0) v.error("expected at least one industry, found none");
    s_.choice.candidates = chosen;
  }

  void read_portfolios(const Value& v) {
    double total = 0.0;
    for (const Value& item : v.items()) {
      if (!item.expect_fields()) continue;
      PortfolioShare p;
      const Value main = item.require("main", "an industry");
      if (main.present()) p.main = industry(main);
      const Value aux = item["aux"];
      if (aux.present() && !aux.is_null() && !(aux.is_scalar() && aux.scalar() == "none")) {
        p.aux = industry(aux);
        if (p.aux >= 0 && p.aux == p.main) {
          aux.error("the same industry as main (" + aux.scalar() +
                    "); a portfolio's two industries must differ");
        }
      }
      item.require("share", "a number in [0, 1]");
      assign(item["share"], p.share);
      total += p.share;
      s_.choice.portfolios.push_back(p);
    }
    if (total > 1.0 + 1e-9) {
      v.error("the shares sum to " + format_number(total) +
              ", expected at most 1 (the rest of the households run no industry)");
    }
  }

  void read_poverty(const Value& v) {
    if (!v.expect_fields()) return;
    v.require("line", "a number > 0, yuan per capita per year");
    assign(v["line"], s_.poverty.line);
    assign(v["line_growth"], s_.poverty.line_growth);
    assign(v["exit_target"], s_.poverty.exit_target);
  }

  void read_output(const Value& v) {
    if (!v.expect_fields()) return;
    const Value quantiles = v["quantiles"];
    if (quantiles.present()) {
      std::vector<double> levels;
      for (const Value& item : quantiles.items()) {
        const auto q = item.number();
        if (!q) continue;
        if (!levels.empty() && *q <= levels.back()) {
          item.error("expected strictly increasing values, found " + item.scalar() + " after " +
                     format_number(levels.back()));
        }
        levels.push_back(*q);
      }
      if (quantiles.is_list() && levels.empty() && quantiles.size() == 0) {
        quantiles.error("expected at least one probability level");
      }
      s_.output.quantiles = levels;
    }
    assign(v["histogram_bins"], s_.output.histogram_bins);
    assign(v["sample_paths"], s_.output.sample_paths);
    if (s_.output.sample_paths > s_.replications && v["sample_paths"].present())
      v["sample_paths"].error(std::string("expected at most scenario.replications (")
                                  .append(std::to_string(s_.replications))
                                  .append(") sample paths, found ")
                                  .append(std::to_string(s_.output.sample_paths)));
    read_target(v["target"]);
  }

  // output.target: run replication batches until the standard error of one measure in one
  // year is small enough (MODEL.md section 9; issue: convergence mode).
  void read_target(const Value& v) {
    if (!v.expect_fields()) return;
    ConvergenceTarget& c = s_.output.target;
    c.enabled = true;
    const std::vector<std::string>& measures = key_words(v["measure"].table_key());
    if (const auto m =
            v.require("measure", "one of fgt0, fgt1, fgt2, mean_income, government_cost").text()) {
      if (std::find(measures.begin(), measures.end(), *m) == measures.end())
        v["measure"].error("expected one of " + join(measures, ", ") + ", found " + quote(*m) +
                           suggest(*m, measures));
      else
        c.measure = *m;
    }
    v.require("year", "a year index 1..years");
    assign(v["year"], c.year, between(1, std::max(1, s_.years)));  // the table's, to years
    const bool absolute = v["standard_error"].present(), relative = v["relative_error"].present();
    if (absolute == relative) v.error("expected exactly one of standard_error or relative_error");
    assign(v["standard_error"], c.standard_error);
    assign(v["relative_error"], c.relative_error);
    assign(v["batch"], c.batch);
  }

  Scenario& s_;
  DiagnosticSink& sink_;
  std::vector<std::string> market_names_;
  std::vector<std::string> industry_names_;
};

}  // namespace

namespace {

// Values that are legal but rarely what the analyst meant (issue 16): a guarantee above the
// expected revenue, a product that can never pay or that nobody holds, a market or hazard that
// touches no industry. Warnings, not errors: each can be deliberate.
void add_suspicious_value_warnings(Scenario& s) {
  const InsuranceSpec& ins = s.insurance;
  if (ins.income_index.enabled && ins.income_index.coverage > 1)
    s.warnings.push_back("insurance.income_index.coverage " +
                         format_number(ins.income_index.coverage) +
                         " guarantees more than the expected revenue (a share: 0.8 is 80%), so "
                         "the product pays in almost every harvest");
  if (ins.agricultural.enabled && ins.agricultural.deductible >= 1)
    s.warnings.push_back("insurance.agricultural.deductible " +
                         format_number(ins.agricultural.deductible) +
                         ": a loss fraction never exceeds 1, so the policy never pays");
  if (ins.poverty_guard.enabled && ins.poverty_guard.threshold == 0)
    s.warnings.push_back("insurance.poverty_guard.threshold 0: it pays only for incomes below 0");
  if (ins.poverty_guard.enabled && ins.poverty_guard.cap == 0)
    s.warnings.push_back("insurance.poverty_guard.cap 0: the guard never pays");
  for (int p = 0; p < kProducts; ++p) {
    const ProductTerms terms = ins.terms(static_cast<InsuranceProduct>(p));
    if (terms.enabled && terms.enrollment.poor == 0 && terms.enrollment.other == 0)
      s.warnings.push_back(std::string("insurance.") + kProductTable[p].name +
                           ".enrollment is 0 for both groups: nobody holds the product");
  }
  std::vector<bool> used(s.markets.size(), false);
  for (const Industry& industry : s.industries)
    for (const Product& product : industry.products)
      if (product.market >= 0 && static_cast<std::size_t>(product.market) < used.size())
        used[static_cast<std::size_t>(product.market)] = true;
  for (std::size_t m = 0; m < s.markets.size(); ++m)
    if (!used[m])
      s.warnings.push_back("market " + quote(s.markets[m].name) +
                           " is used by no industry's products: nothing reads its price");
  for (const Hazard& hazard : s.hazards) {
    bool any = false;
    for (double a : hazard.affects) any = any || a > 0;
    for (double m : hazard.price_shock) any = any || m != 1;
    if (!any)
      s.warnings.push_back("hazard " + quote(hazard.name) +
                           " affects no industry and shocks no price: it changes nothing");
  }
}

Scenario load_text(const std::string& yaml_text, const std::string& source_name,
                   const std::vector<Override>& overrides, KeyTrace* trace) {
  DiagnosticSink sink(source_name);
  sink.set_trace(trace);
  Scenario scenario;
  scenario.source_file = source_name;
  for (const Override& o : overrides) scenario.overrides.push_back(o.path + "=" + o.value);
  YAML::Node root;
  bool parsed = true;
  if (const auto nul = first_nul(yaml_text)) {  // before yaml-cpp, which would misreport it
    parsed = false;
    sink.add(nul_byte_error(source_name, yaml_text, *nul));
  } else
    try {
      root.reset(YAML::Load(yaml_text));
    } catch (const YAML::Exception& e) {
      parsed = false;
      const int line = e.mark.is_null() ? 0 : e.mark.line + 1;
      const int column = e.mark.is_null() ? 0 : e.mark.column + 1;
      sink.add({source_name, line, column, "YAML syntax error: " + e.msg});
    }
  if (parsed && root.IsMap()) {
    const YAML::Node& map = root;
    if (map["base"] && map["targets"])
      sink.add({source_name, 0, 0,
                "this is a calibration file (it has base: and targets:), not a scenario: run "
                "it with incsim calibrate"});
    else if (map["base"] && (map["parameters"] || map["overlays"]))
      sink.add({source_name, 0, 0,
                "this is a sweep file (it has base: and parameters: or overlays:), not a "
                "scenario: run it with incsim sweep"});
  }
  if (parsed) {
    sink.set_overrides(apply_overrides(root, overrides, sink));
    ScenarioReader(scenario, sink).read(Value(root, "", YAML::Mark::null_mark(), &sink, true));
    if (overrides.empty()) {
      scenario.text_as_run = yaml_text;
    } else {
      YAML::Emitter emitter;
      emitter << root;
      scenario.text_as_run = std::string(emitter.c_str()) + "\n";
    }
  }
  if (sink.count() > 0) throw ScenarioError(sink.take_sorted());
  add_suspicious_value_warnings(scenario);
  return scenario;
}

Scenario load_file(const std::string& path, const std::vector<Override>& overrides,
                   KeyTrace* trace) {
  std::string reason;
  const auto text = read_text_file(path, reason);
  if (!text) {
    throw ScenarioError({Diagnostic{path, 0, 0, "cannot read scenario file: " + reason}});
  }
  return load_text(*text, path, overrides, trace);
}

}  // namespace

Scenario load_scenario_text(const std::string& yaml_text, const std::string& source_name,
                            const std::vector<Override>& overrides) {
  return load_text(yaml_text, source_name, overrides, nullptr);
}

Scenario load_scenario(const std::string& path, const std::vector<Override>& overrides) {
  return load_file(path, overrides, nullptr);
}

Scenario load_scenario_traced(const std::string& path, KeyTrace& trace) {
  return load_file(path, {}, &trace);
}

}  // namespace incsim
