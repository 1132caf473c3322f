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
  ins.plan[kAgricultural].enabled = spec.agricultural.enabled;
  ins.plan[kIncomeIndex].enabled = spec.income_index.enabled;
  ins.plan[kPovertyGuard].enabled = spec.poverty_guard.enabled;
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
  const InsuranceSpec& ins = s.insurance;
  for (std::size_t h = 0; h < hh.count(); ++h) {
    const rng::Block w = draw(static_cast<std::uint32_t>(h), 0, 0, draws::kEnrollment);
    auto enrolled = [&](bool enabled, const GroupShare& share, std::uint32_t word,
                        const std::optional<bool>& from_csv) -> std::uint8_t {
      if (!enabled) return 0;
      if (from_csv) return *from_csv ? 1 : 0;
      return rng::uniform(word) < share.of(hh.poor[h]) ? 1 : 0;
    };
    const HouseholdRecord* rec = csv ? &s.population.records[h] : nullptr;
    hh.enrolled_agricultural[h] = enrolled(ins.agricultural.enabled, ins.agricultural.enrollment,
                                           w[0], rec ? rec->enrolled_agricultural : std::nullopt);
    hh.enrolled_income_index[h] = enrolled(ins.income_index.enabled, ins.income_index.enrollment,
                                           w[1], rec ? rec->enrolled_income_index : std::nullopt);
    hh.dibao_eligible[h] = s.income.dibao.enabled &&
                           (s.income.dibao.eligible == DibaoEligible::all || hh.poor[h]) &&
                           rng::uniform(w[3]) < s.income.dibao.take_up;
    hh.enrolled_poverty_guard[h] = enrolled(ins.poverty_guard.enabled, ins.poverty_guard.enrollment,
                                            w[2], rec ? rec->enrolled_poverty_guard : std::nullopt);
  }
}

}  // namespace incsim::detail

namespace incsim {

ProductPremiums premiums_of(const Model& model, std::size_t h, const PortfolioSlots& slots, int t) {
  const Households& hh = model.households;
  const InsuranceSpec& spec = model.scenario.insurance;
  const InsuranceModel& ins = model.insurance;
  const bool poor = hh.poor[h];
  ProductPremiums out;
  auto charge = [&](InsuranceProduct p, double premium, const GroupShare& subsidy) {
    const double government = premium * subsidy.of(poor);
    out.product[p] = {premium, government, true};
    out.household += premium - government;
    out.government += government;
  };
  double agri = 0.0, index = 0.0;
  bool agri_exposed = false, index_exposed = false;
  for (int s = 0; s < 2; ++s) {
    const int i = slots.industry[s];
    if (i < 0) continue;
    if (hh.enrolled_agricultural[h] && ins.sum_insured[i] > 0.0) {
      agri += slots.units[s] * ins.sum_insured[i] * spec.agricultural.premium_rate;
      agri_exposed = true;
    }
    const double g = ins.guarantee[i * model.years + (t - 1)];
    if (hh.enrolled_income_index[h] && g > 0.0) {
      index += slots.units[s] * g * ins.rate_used[i * model.years + (t - 1)];
      index_exposed = true;
    }
  }
  if (agri_exposed) charge(kAgricultural, agri, spec.agricultural.subsidy);
  if (index_exposed) charge(kIncomeIndex, index, spec.income_index.subsidy);
  if (hh.enrolled_poverty_guard[h])
    charge(kPovertyGuard, hh.size[h] * spec.poverty_guard.premium_per_capita,
           spec.poverty_guard.subsidy);
  return out;
}

}  // namespace incsim
