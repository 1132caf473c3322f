// Insurance tables of the model (MODEL.md section 6): enrollment drawn once, sums insured,
// income-index guarantees and premium rates (numeric, or fair: estimated on the fair_premium
// stream with the same market process as the kernel), and every premium that falls due.
#include <cmath>
#include <limits>

#include "incsim/draws.h"
#include "incsim/shocks.h"
#include "model/internal.h"

namespace incsim::detail {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// E[max(0, G - I)] / G per covered industry and harvest year, on the fair_premium stream.
void estimate_fair_rates(const Model& model, InsuranceModel& ins) {
  const IncomeIndexInsurance& spec = model.scenario.insurance.income_index;
  const int years = model.years;
  const rng::Key key = rng::make_key(model.seed, rng::Stream::fair_premium);
  MarketState state(model);
  std::vector<double> prices(model.markets.size());
  std::vector<double> county(model.hazards.size());
  std::vector<double> sum(ins.guarantee.size(), 0.0);
  for (int r = 0; r < spec.fair_replications; ++r) {
    state.reset();
    for (int t = 1; t <= years; ++t) {
      market_year(model, key, static_cast<std::uint32_t>(r), t, state, prices.data(),
                  county.data());
      for (std::size_t i = 0; i < model.industries.size(); ++i) {
        const double g = ins.guarantee[i * years + (t - 1)];
        if (g <= 0.0) continue;
        double index = 0.0;
        for (const ProductModel& p : model.industries[i].products)
          index += p.yield * prices[p.market];
        sum[i * years + (t - 1)] += std::max(0.0, g - index) / g;
      }
    }
  }
  for (std::size_t c = 0; c < sum.size(); ++c)
    if (ins.guarantee[c] > 0.0)
      ins.rate_used[c] = sum[c] / spec.fair_replications * (1.0 + spec.loading);
}

}  // namespace

void build_insurance(Model& model) {
  const InsuranceSpec& spec = model.scenario.insurance;
  InsuranceModel& ins = model.insurance;
  const std::size_t n_ind = model.industries.size();
  const int years = model.years;
  for (int p = 0; p < kProducts; ++p)
    ins.plan[p].enabled = spec.terms(static_cast<InsuranceProduct>(p)).enabled;
  for (ProductPlan& p : ins.plan)
    p.premium = p.subsidy = p.exposed = std::vector<double>(years, 0.0);

  ins.sum_insured.assign(n_ind, 0.0);
  if (spec.agricultural.enabled)
    for (int i : spec.agricultural.covers) ins.sum_insured[i] = spec.agricultural.sum_insured[i];
  ins.deductible = spec.agricultural.deductible;

  ins.index_covered.assign(n_ind, 0);
  ins.guarantee.assign(n_ind * years, 0.0);
  ins.rate_used.assign(n_ind * years, kNaN);
  if (spec.income_index.enabled) {
    for (int i : spec.income_index.covers) {
      ins.index_covered[i] = 1;
      for (int t = 1; t <= years; ++t) {
        if (!model.industries[i].harvest[t - 1]) continue;
        double expected = 0.0;
        for (const ProductModel& p : model.industries[i].products)
          expected += p.yield * model.markets[p.market].expected_price[t - 1];
        ins.guarantee[i * years + (t - 1)] = spec.income_index.coverage * expected;
        ins.rate_used[i * years + (t - 1)] = spec.income_index.premium_rate;
      }
    }
    if (spec.income_index.fair) estimate_fair_rates(model, ins);
  }
  ins.guard_threshold = spec.poverty_guard.threshold;
  ins.guard_cap = spec.poverty_guard.cap;
}

void assign_enrollment(const Scenario& s, Households& hh) {
  const rng::Addressed draw{rng::make_key(s.seed, rng::Stream::enrollment)};
  const bool csv = !s.population.records.empty();
  for (std::size_t h = 0; h < hh.count(); ++h) {
    const rng::Block w = draw(static_cast<std::uint32_t>(h), 0, 0, draws::kEnrollment);
    for (int p = 0; p < kProducts; ++p) {
      const ProductTerms terms = s.insurance.terms(static_cast<InsuranceProduct>(p));
      const std::optional<bool>& from_csv =
          csv ? s.population.records[h].enrolled[p] : std::optional<bool>{};
      std::uint8_t enrolled = 0;
      if (terms.enabled)
        enrolled = from_csv ? *from_csv
                            : rng::uniform(w[kProductTable[p].enrollment_word]) <
                                  terms.enrollment.of(hh.poor[h]);
      hh.enrolled[p][h] = enrolled;
    }
    hh.dibao_eligible[h] = s.income.dibao.enabled &&
                           (s.income.dibao.eligible == DibaoEligible::all || hh.poor[h]) &&
                           rng::uniform(w[3]) < s.income.dibao.take_up;
  }
}

}  // namespace incsim::detail

namespace incsim {

// Premiums due from household h in year t running `slots` (section 6), by the product's
// premium rule: per unit of a covered industry (agricultural: every year it runs; income
// index: in its harvest years), or per capita (poverty guard).
ProductPremiums premiums_of(const Model& model, std::size_t h, const PortfolioSlots& slots, int t) {
  const Households& hh = model.households;
  const InsuranceSpec& spec = model.scenario.insurance;
  const InsuranceModel& ins = model.insurance;
  const bool poor = hh.poor[h];
  ProductPremiums out;
  for (int p = 0; p < kProducts; ++p) {
    if (!ins.plan[p].enabled || !hh.enrolled[p][h]) continue;
    double premium = 0.0;
    bool exposed = false;
    switch (kProductTable[p].payout) {
      case PayoutRule::hazard_loss:
        for (int s = 0; s < 2; ++s) {
          const int i = slots.industry[s];
          if (i < 0 || !(ins.sum_insured[i] > 0.0)) continue;
          premium += slots.units[s] * ins.sum_insured[i] * spec.agricultural.premium_rate;
          exposed = true;
        }
        break;
      case PayoutRule::revenue_index:
        for (int s = 0; s < 2; ++s) {
          const int i = slots.industry[s];
          if (i < 0) continue;
          const double g = ins.guarantee[i * model.years + (t - 1)];
          if (!(g > 0.0)) continue;
          premium += slots.units[s] * g * ins.rate_used[i * model.years + (t - 1)];
          exposed = true;
        }
        break;
      case PayoutRule::income_guard:
        premium = hh.size[h] * spec.poverty_guard.premium_per_capita;
        exposed = true;
        break;
    }
    if (!exposed) continue;
    const double government =
        premium * spec.terms(static_cast<InsuranceProduct>(p)).subsidy.of(poor);
    out.product[p] = {premium, government, true};
    out.household += premium - government;
    out.government += government;
  }
  return out;
}

}  // namespace incsim

namespace incsim {

const char* variant_name(int v) {
  return v == kDouble ? "double" : kProductTable[v].name;
}

namespace detail {

// Basis-risk coverage and protection-value variants (MODEL.md section 9): agricultural and
// income index in the order of their covers lists, double as the union in scenario order.
void build_protection(Model& model) {
  const InsuranceSpec& spec = model.scenario.insurance;
  const std::size_t n_ind = model.industries.size();
  const auto years = static_cast<std::size_t>(model.years);
  ProtectionModel& pm = model.protection;
  pm = ProtectionModel{};
  pm.reference = spec.basis_risk_reference;
  for (auto& covers : pm.basis_covers) covers.assign(n_ind, 0);
  if (spec.agricultural.enabled) pm.basis_industries[kAgricultural] = spec.agricultural.covers;
  if (spec.income_index.enabled) pm.basis_industries[kIncomeIndex] = spec.income_index.covers;
  for (int v : {kAgricultural, kIncomeIndex})
    for (int i : pm.basis_industries[v]) pm.basis_covers[v][i] = 1;
  const bool both = spec.agricultural.enabled && spec.income_index.enabled;
  for (std::size_t i = 0; both && i < n_ind; ++i)
    if (pm.basis_covers[kAgricultural][i] || pm.basis_covers[kIncomeIndex][i]) {
      pm.basis_covers[kDouble][i] = 1;
      pm.basis_industries[kDouble].push_back(static_cast<int>(i));
    }
  pm.basis = spec.agricultural.enabled || spec.income_index.enabled;
  pm.expected_revenue.assign(n_ind * years, 0.0);
  for (std::size_t i = 0; pm.basis && i < n_ind; ++i)
    for (std::size_t t = 0; t < years; ++t) {
      double expected = 0.0;  // as build_insurance sums the guarantee
      for (const ProductModel& p : model.industries[i].products)
        expected += p.yield * model.markets[p.market].expected_price[t];
      pm.expected_revenue[i * years + t] = expected;
    }
  for (int p = 0; p < kProducts; ++p) pm.value[p] = model.insurance.plan[p].enabled;
  pm.value[kDouble] = both;
  pm.any_value = spec.any_enabled();
}

}  // namespace detail
}  // namespace incsim
