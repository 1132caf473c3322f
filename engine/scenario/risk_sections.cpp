// The `hazards` (MODEL.md section 5) and `insurance` (section 6) sections. Both name industries
// and markets, so they are read after those sections; an unknown name is reported with the
// nearest valid one, and every per-industry or per-market table is sized to the scenario.
#include <algorithm>

#include "scenario/sections.h"

namespace incsim::scenario_detail {

namespace {

std::vector<std::string> industry_names(const Scenario& s) {
  std::vector<std::string> names;
  for (const Industry& industry : s.industries) names.push_back(industry.name);
  return names;
}

std::vector<std::string> market_names(const Scenario& s) {
  std::vector<std::string> names;
  for (const Market& market : s.markets) names.push_back(market.name);
  return names;
}

// Index of `name` in `names`; -1 after reporting at `where` (a key's mark, or the value itself).
int find_name(const std::string& name, const std::vector<std::string>& names, const char* what,
              const Value& where, bool at_key) {
  const auto it = std::find(names.begin(), names.end(), name);
  if (it != names.end()) return static_cast<int>(it - names.begin());
  if (names.empty()) return -1;  // the section naming them is missing or broken: already reported
  const std::string body =
      std::string("unknown ") + what + " " + quote(name) + suggest(name, names);
  if (at_key) {
    where.error_at_key(body);
  } else {
    where.error(body);
  }
  return -1;
}

// ---- hazards ----------------------------------------------------------------------------------

void read_scope(const Value& v, HazardScope& scope) {
  const auto text = v.text();
  if (!text) return;
  const std::vector<std::string>& scopes = key_words(v.table_key());
  if (*text == "county") {
    scope = HazardScope::county;
  } else if (*text == "village") {
    scope = HazardScope::village;
  } else if (*text == "household") {
    scope = HazardScope::household;
  } else {
    v.error("expected county, village or household, found " + quote(*text) +
            (nearest_name(*text, scopes) ? suggest(*text, scopes) : ""));
  }
}

void read_severity(const Value& v, Severity& severity) {
  if (!v.expect_fields()) return;
  const Value beta = v["beta"];
  const Value fixed = v["fixed"];
  if (beta.present() && fixed.present()) {
    v.error("give either beta: [a, b] or fixed: loss, not both");
    return;
  }
  if (!beta.present() && !fixed.present()) {
    v.error("expected {beta: [a, b]} or {fixed: loss} with the loss fraction in [0, 1]");
    return;
  }
  if (fixed.present()) {
    severity.fixed = true;
    assign(fixed, severity.value);
    return;
  }
  if (!beta.is_list() || beta.size() != 2) {
    const std::string found =
        beta.is_list() ? "a list of " + std::to_string(beta.size()) + " items" : beta.found();
    beta.error("expected [a, b] with both shape parameters > 0, found " + found);
    return;
  }
  const auto shapes = beta.items();
  assign(shapes[0], severity.a);
  assign(shapes[1], severity.b);
}

Hazard read_hazard(const std::string& name, const Value& v, const Scenario& s,
                   const std::vector<std::string>& industries,
                   const std::vector<std::string>& markets) {
  Hazard h;
  h.name = name;
  h.affects.assign(s.industries.size(), 0.0);
  h.price_shock.assign(s.markets.size(), 1.0);
  if (!v.expect_fields()) return h;
  v.require("probability", "a number in [0, 1], per year and scope unit");
  assign(v["probability"], h.probability);
  read_scope(v["scope"], h.scope);
  const Value severity = v.require("severity", "{beta: [a, b]} or {fixed: loss}");
  if (severity.present()) read_severity(severity, h.severity);
  for (const auto& [industry, factor] : v["affects"].named_entries()) {
    const auto value = factor.number();
    const int index = find_name(industry, industries, "industry", factor, true);
    if (index >= 0 && value) h.affects[static_cast<std::size_t>(index)] = *value;
  }
  const Value shocks = v["price_shock"];
  if (shocks.present() && h.scope != HazardScope::county) {
    shocks.error_at_key(
        "a price shock is allowed only with scope county (prices are common to "
        "all households), found scope " +
        v["scope"].scalar());
  }
  for (const auto& [market, factor] : shocks.named_entries()) {
    const auto value = factor.number();
    const int index = find_name(market, markets, "market", factor, true);
    if (index >= 0 && value) h.price_shock[static_cast<std::size_t>(index)] = *value;
  }
  return h;
}

// ---- insurance --------------------------------------------------------------------------------

// `poor` and `other`, each in [0, 1]; an absent key keeps the default in `share`.
void read_group_share(const Value& v, GroupShare& share) {
  if (!v.expect_fields()) return;
  assign(v["poor"], share.poor);
  assign(v["other"], share.other);
}

// A required, non-empty list of distinct known industries.
std::vector<int> read_covers(const Value& product, const std::vector<std::string>& industries) {
  std::vector<int> covers;
  const Value v = product.require("covers", "a list of industries");
  for (const Value& item : v.items()) {
    const auto name = item.text();
    if (!name) continue;
    const int index = find_name(*name, industries, "industry", item, false);
    if (index < 0) continue;
    if (std::find(covers.begin(), covers.end(), index) != covers.end()) {
      item.error("industry " + quote(*name) + " is listed twice");
      continue;
    }
    covers.push_back(index);
  }
  if (v.is_list() && v.size() == 0) v.error("expected at least one industry, found an empty list");
  return covers;
}

void read_agricultural(const Value& v, const Scenario& s,
                       const std::vector<std::string>& industries, AgriculturalInsurance& out) {
  out.enabled = true;
  out.sum_insured.assign(s.industries.size(), 0.0);
  if (!v.expect_fields()) return;
  out.covers = read_covers(v, industries);
  const Value sums = v.require("sum_insured", "{industry: yuan per unit, ...}");
  std::vector<bool> given(s.industries.size(), false);
  for (const auto& [industry, amount] : sums.named_entries()) {
    const auto value = amount.number();
    const int index = find_name(industry, industries, "industry", amount, true);
    if (index < 0) continue;
    given[static_cast<std::size_t>(index)] = true;
    if (std::find(out.covers.begin(), out.covers.end(), index) == out.covers.end()) {
      std::vector<std::string> covered;
      for (int i : out.covers) covered.push_back(industries[static_cast<std::size_t>(i)]);
      amount.error_at_key(
          "industry " + quote(industry) +
          " is not covered by agricultural insurance (covers: " + join(covered, ", ") + ")");
      continue;
    }
    if (value) out.sum_insured[static_cast<std::size_t>(index)] = *value;
  }
  if (sums.is_map()) {
    for (int index : out.covers) {
      if (given[static_cast<std::size_t>(index)]) continue;
      sums.error("no sum insured for covered industry " +
                 quote(industries[static_cast<std::size_t>(index)]) +
                 " (expected a number > 0, yuan per unit)");
    }
  }
  assign(v["deductible"], out.deductible);
  v.require("premium_rate", "a number >= 0, share of the sum insured per year");
  assign(v["premium_rate"], out.premium_rate);
  read_group_share(v["subsidy"], out.subsidy);
  read_group_share(v["enrollment"], out.enrollment);
}

void read_income_index(const Value& v, Scenario& s, const std::vector<std::string>& industries,
                       IncomeIndexInsurance& out) {
  out.enabled = true;
  if (!v.expect_fields()) return;
  out.covers = read_covers(v, industries);
  const Value covers = v["covers"];
  for (std::size_t k = 0; k < out.covers.size(); ++k) {
    const Industry& industry = s.industries[static_cast<std::size_t>(out.covers[k])];
    const bool earns = std::any_of(industry.products.begin(), industry.products.end(),
                                   [](const Product& p) { return p.yield > 0.0; });
    if (!industry.products.empty() && !earns) {
      // out.covers holds only the valid items: find the one naming this industry for its mark.
      for (const Value& item : covers.items()) {
        if (item.is_scalar() && item.scalar() == industry.name) {
          item.error("industry " + quote(industry.name) +
                     " has no product with a yield > 0: its guarantee G would be 0");
          break;
        }
      }
    }
    if (s.years > 0 && industry.cycle_years > s.years) {
      s.warnings.push_back("income index insurance covers " + industry.name + " (cycle_years " +
                           std::to_string(industry.cycle_years) +
                           "), which harvests nothing within the " + std::to_string(s.years) +
                           "-year horizon: it never pays");
    }
  }
  v.require("coverage", "a number in (0, 10], share of expected revenue");
  assign(v["coverage"], out.coverage);
  const Value rate = v.require("premium_rate", "a number >= 0 or fair");
  bool numeric_rate = false;
  if (rate.is_scalar() && rate.scalar() == "fair") {
    out.fair = true;
  } else if (rate.present()) {
    const auto value = rate.is_scalar() ? parse_number(rate.scalar()) : std::nullopt;
    if (value && *value >= 0) {
      out.premium_rate = *value;
      numeric_rate = true;
    } else {
      const std::string found = rate.found();
      const bool word = rate.is_scalar() && !value;
      rate.error(
          "expected a number >= 0 or fair, found " + (value ? rate.scalar() : found) +
          (word && nearest_name(rate.scalar(), {"fair"}) ? suggest(rate.scalar(), {"fair"}) : ""));
    }
  }
  const Value loading = v["loading"];
  assign(loading, out.loading);
  if (loading.present() && numeric_rate) {
    loading.error_at_key(
        "loading applies only to premium_rate: fair (a numeric rate is used as given)");
  }
  assign(v["fair_replications"], out.fair_replications);
  read_group_share(v["subsidy"], out.subsidy);
  read_group_share(v["enrollment"], out.enrollment);
}

void read_poverty_guard(const Value& v, PovertyGuard& out) {
  out.enabled = true;
  if (!v.expect_fields()) return;
  v.require("threshold", "a number >= 0, multiple of the poverty line");
  assign(v["threshold"], out.threshold);
  assign(v["cap"], out.cap);
  assign(v["premium_per_capita"], out.premium_per_capita);
  read_group_share(v["subsidy"], out.subsidy);
  read_group_share(v["enrollment"], out.enrollment);
}

}  // namespace

void read_hazards(const Value& v, Scenario& s) {
  if (!v.present()) return;
  const auto industries = industry_names(s);
  const auto markets = market_names(s);
  for (const auto& [name, hv] : v.named_entries()) {
    Hazard h = read_hazard(name, hv, s, industries, markets);
    const bool affects =
        std::any_of(h.affects.begin(), h.affects.end(), [](double f) { return f > 0.0; });
    const bool shocks =
        std::any_of(h.price_shock.begin(), h.price_shock.end(), [](double f) { return f != 1.0; });
    if (hv.is_map() && !affects && !shocks) {
      s.warnings.push_back("hazard " + name +
                           " affects no industry and shocks no price: it has "
                           "no effect");
    }
    s.hazards.push_back(std::move(h));
  }
}

void read_insurance(const Value& v, Scenario& s) {
  if (!v.expect_fields()) return;
  const auto industries = industry_names(s);
  InsuranceSpec& insurance = s.insurance;
  if (const Value agricultural = v["agricultural"]; agricultural.present()) {
    read_agricultural(agricultural, s, industries, insurance.agricultural);
    for (int index : insurance.agricultural.covers) {
      const bool hit = std::any_of(s.hazards.begin(), s.hazards.end(), [&](const Hazard& h) {
        return h.affects[static_cast<std::size_t>(index)] > 0.0;
      });
      if (!hit) {
        s.warnings.push_back("agricultural insurance covers " +
                             industries[static_cast<std::size_t>(index)] +
                             ", which no hazard affects: it never pays");
      }
    }
  }
  if (const Value income_index = v["income_index"]; income_index.present()) {
    read_income_index(income_index, s, industries, insurance.income_index);
  }
  if (const Value guard = v["poverty_guard"]; guard.present()) {
    read_poverty_guard(guard, insurance.poverty_guard);
  }
  assign(v["basis_risk_reference"], insurance.basis_risk_reference);
}

}  // namespace incsim::scenario_detail
