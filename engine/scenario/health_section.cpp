// The `health` section (MODEL.md section 7a, v2): illness types with their probability per
// person-year, lognormal cost and days of work lost, and the public share of medical costs and
// the out-of-pocket cap by group. Read after `population` (days lost are bounded by a laborer's
// labor days).
#include <algorithm>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "scenario/sections.h"

namespace incsim::scenario_detail {

namespace {

// Health draws address the illness in 8 bits of the draw counter (MODEL.md section 10), so
// more types would alias each other's draws.
constexpr std::size_t kMaxIllnesses = 255;

// `poor` and `other`; an absent key keeps the default in `share`.
void read_group_values(const Value& v, GroupShare& share) {
  if (!v.expect_fields()) return;
  assign(v["poor"], share.poor);
  assign(v["other"], share.other);
}

// A non-empty name without control characters (names become output labels); nullopt after
// reporting.
std::optional<std::string> read_name(const Value& v) {
  const auto name = v.text();
  if (!name) return std::nullopt;
  if (name->empty()) {
    v.error("expected a non-empty illness name, found nothing");
    return std::nullopt;
  }
  const auto bad = std::find_if(name->begin(), name->end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return u < 0x20 || u == 0x7f;
  });
  if (bad != name->end()) {
    v.error("expected an illness name without control characters, found character code " +
            std::to_string(static_cast<unsigned char>(*bad)) + " at position " +
            std::to_string(bad - name->begin() + 1));
    return std::nullopt;
  }
  return name;
}

void read_cost(const Value& v, LognormalSpec& cost) {
  if (!v.expect_fields()) return;
  v.require("mean", "a number >= 0, yuan per episode");
  assign(v["mean"], cost.mean);
  assign(v["cv"], cost.cv);
}

void read_days_lost(const Value& v, double labor_days, double& days_lost) {
  const auto days = v.number();  // the table's lower bound; the upper one depends on labor days
  if (!days) return;
  if (*days > labor_days) {
    v.error("expected a number in [0, " + format_number(labor_days) +
            "] (at most population.labor_days_per_laborer), found " + v.scalar());
    return;
  }
  days_lost = *days;
}

}  // namespace

void read_health(const Value& health, Scenario& scenario) {
  if (!health.expect_fields()) return;
  HealthSpec& h = scenario.health;
  // An empty section (`health:` or `--set health={}`) means no health shocks, as `hazards: {}`
  // and `insurance: {}` mean none: a sweep or a comparison can switch illness off.
  if (health.is_null() || (health.is_map() && health.node().size() == 0)) return;
  h.enabled = true;
  const double labor_days = scenario.population.labor_days_per_laborer;
  const Value illnesses = health.require(
      "illnesses", "a list of {name: ..., probability: ..., cost: {mean: ..., cv: ...}}");
  const auto items = illnesses.items();
  if (illnesses.is_list() && items.empty()) {
    illnesses.error("expected at least one illness, found an empty list");
  }
  if (items.size() > kMaxIllnesses) {
    illnesses.error("expected at most " + std::to_string(kMaxIllnesses) + " illnesses, found " +
                    std::to_string(items.size()) +
                    " (health draws address the illness in 8 bits, MODEL.md section 10)");
  }
  std::vector<std::pair<std::string, Value>> seen;  // name and where it was first given
  for (const Value& item : items) {
    if (!item.expect_fields()) continue;
    Illness illness;
    const Value name = item.require("name", "a name such as outpatient");
    if (const auto text = name.present() ? read_name(name) : std::nullopt) {
      const auto first =
          std::find_if(seen.begin(), seen.end(), [&](const auto& s) { return s.first == *text; });
      if (first != seen.end()) {
        const YAML::Mark at = first->second.mark();
        name.error("illness " + quote(*text) + " is listed twice" +
                   (at.is_null() ? "" : " (first at line " + std::to_string(at.line + 1) + ")"));
      } else {
        seen.emplace_back(*text, name);
      }
      illness.name = *text;
    }
    item.require("probability", "a number in [0, 1], per person and year");
    assign(item["probability"], illness.probability);
    const Value cost = item.require("cost", "{mean: ..., cv: ...}, yuan per episode");
    if (cost.present()) read_cost(cost, illness.cost);
    const Value days_lost = item["days_lost"];
    if (days_lost.present()) read_days_lost(days_lost, labor_days, illness.days_lost);
    h.illnesses.push_back(std::move(illness));
  }
  read_group_values(health["reimbursement"], h.reimbursement);
  read_group_values(health["out_of_pocket_cap"], h.out_of_pocket_cap);
  assign(health["deduct_out_of_pocket"], h.deduct_out_of_pocket);
}

}  // namespace incsim::scenario_detail
