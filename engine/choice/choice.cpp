// Households choose their portfolios (MODEL.md section 8); see incsim/choice.h.
#include "incsim/choice.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <mutex>
#include <numeric>
#include <span>
#include <stdexcept>

#include "incsim/draws.h"
#include "incsim/pilot.h"
#include "incsim/rng.h"
#include "incsim/simulate.h"

namespace incsim {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

std::vector<int> candidates_of(const Scenario& s) {
  if (!s.choice.candidates.empty()) return s.choice.candidates;
  std::vector<int> all(s.industries.size());
  for (std::size_t i = 0; i < all.size(); ++i) all[i] = static_cast<int>(i);
  return all;
}

// rule fixed: the csv columns, or a draw on the choice stream against the cumulative shares.
void fixed_choice(const Scenario& s, std::vector<int>& main, std::vector<int>& aux) {
  const rng::Addressed draw{rng::make_key(s.seed, rng::Stream::choice)};
  for (std::size_t h = 0; h < main.size(); ++h) {
    if (s.choice.from_csv) {
      main[h] = s.population.records[h].main.value_or(-1);
      aux[h] = s.population.records[h].aux.value_or(-1);
      continue;
    }
    const double u =
        rng::uniform(draw(static_cast<std::uint32_t>(h), 0, 0, draws::kFixedPortfolio)[0]);
    double cumulative = 0.0;
    for (const PortfolioShare& p : s.choice.portfolios) {
      cumulative += p.share;
      if (u < cumulative) {
        main[h] = p.main;
        aux[h] = p.aux;
        break;
      }
    }
  }
}

}  // namespace

std::vector<std::pair<int, int>> candidate_portfolios(const Scenario& s) {
  std::vector<std::pair<int, int>> out;
  const std::vector<int> cand = candidates_of(s);
  for (int main : cand) {
    for (int aux : cand)
      if (aux != main) out.push_back({main, aux});
    if (!s.choice.two_industries) out.push_back({main, -1});
  }
  return out;
}

namespace {

// Streaming form of the certainty equivalent: add() each replication's income (its years, or
// its horizon mean as one value of weight 1), then value(). Each year contributes w_t times
// a rescaled utility: CRRA (max(y, floor) / floor)^(1-g) (or log), CARA exp(-a (y - y0)) with
// y0 the first value, so no term cancels catastrophically; as the weights sum to 1, the
// constants of u drop out and value() = u^-1(E[sum_t w_t u(y_t)]).
class CertaintyEquivalent {
 public:
  explicit CertaintyEquivalent(const ChoiceSpec& c) : c_(c) {}
  // The CARA shift y0: the first value given (a no-op after the first call).
  void start(double y) {
    if (started_) return;
    first_ = y;
    started_ = true;
  }
  double first() const { return first_; }
  double term(double y) {
    start(y);
    if (c_.utility == UtilityKind::cara)
      return c_.cara == 0.0 ? y : std::exp(-c_.cara * (y - first_));
    if (c_.crra == 1.0) return std::log(std::max(y, c_.floor));
    return std::pow(std::max(y, c_.floor) / c_.floor, 1.0 - c_.crra);
  }
  void add_replication(double weighted_terms) {
    n_ += 1.0;
    sum_ += weighted_terms;
  }
  void add(double y) { add_replication(term(y)); }
  double value() const {
    const double mean = sum_ / n_;
    if (c_.utility == UtilityKind::cara)
      return c_.cara == 0.0 ? mean : first_ - std::log(mean) / c_.cara;
    if (c_.crra == 1.0) return std::exp(mean);
    return c_.floor * std::pow(mean, 1.0 / (1.0 - c_.crra));
  }

 private:
  const ChoiceSpec& c_;
  double n_ = 0.0, sum_ = 0.0, first_ = 0.0;
  bool started_ = false;
};

}  // namespace

double certainty_equivalent(const ChoiceSpec& c, const std::vector<double>& ybar) {
  CertaintyEquivalent ce(c);
  for (double y : ybar) ce.add(y);
  return ce.value();
}

double certainty_equivalent(const ChoiceSpec& c, std::span<const double> income, int years) {
  const std::size_t T = static_cast<std::size_t>(years);
  const std::size_t reps = income.size() / T;
  CertaintyEquivalent ce(c);
  const std::vector<double> w = discount_weights(c.discount_rate, years);
  for (std::size_t r = 0; r < reps; ++r) {
    const double* y = income.data() + r * T;
    if (c.over == UtilityOver::horizon_mean) {
      double ybar = 0.0;
      for (std::size_t t = 0; t < T; ++t) ybar += y[t];
      ce.add(ybar / years);
    } else {
      double u = 0.0;
      for (std::size_t t = 0; t < T; ++t) u += w[t] * ce.term(y[t]);
      ce.add_replication(u);
    }
  }
  return ce.value();
}

namespace {

// The rescaled utility terms of CertaintyEquivalent::term for a padded batch of incomes y,
// with the vector maths of the kernel: CRRA 2 as 1 / m (m = max(y, floor) / floor), CRRA 1
// as log(max(y, floor)), other CRRA as exp((1-g) log m); CARA exp(-a (y - first)). NaN
// incomes (infeasible lanes) give a finite placeholder the caller discards.
void utility_terms(const ChoiceSpec& c, const double* y, const double* first, std::size_t n,
                   double* out) {
  if (c.utility == UtilityKind::cara) {
    if (c.cara == 0.0) {
      for (std::size_t i = 0; i < n; ++i) out[i] = std::isnan(y[i]) ? 0.0 : y[i];
      return;
    }
    for (std::size_t i = 0; i < n; ++i)
      out[i] = std::isnan(y[i]) ? 0.0 : -c.cara * (y[i] - first[i]);
    rng::exp_batch(out, n, out);
    return;
  }
  if (c.crra == 1.0) {
    for (std::size_t i = 0; i < n; ++i) out[i] = std::isnan(y[i]) ? 1.0 : std::max(y[i], c.floor);
    rng::log_batch(out, n, out);
    return;
  }
  for (std::size_t i = 0; i < n; ++i)
    out[i] = std::isnan(y[i]) ? 1.0 : std::max(y[i], c.floor) / c.floor;
  if (c.crra == 2.0) {
    for (std::size_t i = 0; i < n; ++i) out[i] = 1.0 / out[i];
    return;
  }
  rng::log_batch(out, n, out);
  for (std::size_t i = 0; i < n; ++i) out[i] *= 1.0 - c.crra;
  rng::exp_batch(out, n, out);
}

}  // namespace

std::vector<double> certainty_equivalents(const Model& base,
                                          const std::vector<std::pair<int, int>>& portfolios,
                                          int threads, std::atomic<std::int64_t>* progress,
                                          const PilotShare* share) {
  const std::size_t n = base.households.count();
  const std::size_t np = portfolios.size();
  const int years = base.years;
  const int pilots = base.scenario.choice.pilot_replications;
  const ChoiceSpec& choice = base.scenario.choice;
  const bool over_years = choice.over == UtilityOver::years;
  const std::vector<double> w = discount_weights(choice.discount_rate, years);
  // One accumulator per (household, portfolio), fed in replication order; each household is
  // in one pilot batch, so batches running in parallel never touch the same accumulator.
  std::vector<CertaintyEquivalent> acc(n * np, CertaintyEquivalent(choice));
  std::vector<std::uint8_t> feasible(n * np, 0);
  // A distributed pilot: the batches this process takes (from share->next_batch as its
  // workers finish batches, or an even share by rank), recorded for the exchange.
  const bool split = share != nullptr && share->ranks > 1;
  const std::size_t batches = pilot_batch_count(base);
  std::mutex taken_mutex;
  std::vector<std::int64_t> taken;
  std::int64_t next_static = 0, last_static = 0;
  if (split && !share->next_batch) {
    const auto cut = [&](int r) {
      return static_cast<std::int64_t>(batches * static_cast<std::size_t>(r) /
                                       static_cast<std::size_t>(share->ranks));
    };
    next_static = cut(share->rank);
    last_static = cut(share->rank + 1);
  }
  std::function<std::int64_t()> next_batch;
  if (split)
    next_batch = [&]() -> std::int64_t {
      std::int64_t b = -1;
      if (share->next_batch) {
        b = share->next_batch();
      } else {
        std::lock_guard lock(taken_mutex);
        if (next_static < last_static) b = next_static++;
      }
      if (b < 0 || static_cast<std::size_t>(b) >= batches) return -1;
      std::lock_guard lock(taken_mutex);
      taken.push_back(b);
      return b;
    };
  run_portfolio_pilot(
      base, portfolios, pilots, rng::Stream::choice_pilot, threads,
      [&](const PilotBatch& batch) {
        const std::size_t lanes = batch.households.size();
        const std::size_t padded = rng::padded_lanes(lanes);
        std::vector<double> sum(lanes), income(padded, 0.0), first(padded, 0.0), terms(padded);
        for (std::size_t p = 0; p < np; ++p) {
          std::fill(sum.begin(), sum.end(), 0.0);
          for (int t = 1; t <= years; ++t) {
            const double* y = &batch.at(p, t, 0);
            if (!over_years) {
              for (std::size_t lane = 0; lane < lanes; ++lane) sum[lane] += y[lane];
              continue;
            }
            std::copy(y, y + lanes, income.begin());
            for (std::size_t lane = 0; lane < lanes; ++lane) {
              CertaintyEquivalent& a = acc[batch.households[lane] * np + p];
              if (t == 1 && !std::isnan(y[lane])) a.start(y[lane]);
              first[lane] = a.first();
            }
            utility_terms(choice, income.data(), first.data(), padded, terms.data());
            const double wt = w[static_cast<std::size_t>(t - 1)];
            for (std::size_t lane = 0; lane < lanes; ++lane) sum[lane] += wt * terms[lane];
          }
          const double* y1 = &batch.at(p, 1, 0);
          for (std::size_t lane = 0; lane < lanes; ++lane) {
            if (std::isnan(y1[lane])) continue;  // infeasible: NaN in every year
            const std::size_t c = batch.households[lane] * np + p;
            if (over_years)
              acc[c].add_replication(sum[lane]);
            else
              acc[c].add(sum[lane] / years);
            feasible[c] = 1;
          }
        }
        if (progress) progress->fetch_add(static_cast<std::int64_t>(lanes));
      },
      next_batch);
  std::vector<double> ce(n * np, kNaN);
  for (std::size_t c = 0; c < n * np; ++c)
    if (feasible[c]) ce[c] = acc[c].value();
  if (!split) return ce;
  // The accumulators' memory (40 bytes a household and portfolio) goes back to the heap before
  // the exchange, whose buffers then reuse its pages instead of faulting in fresh ones.
  std::vector<CertaintyEquivalent>().swap(acc);
  // Each process sends the bytes of [k, b_1 .. b_k (int64), then the CE rows of the households
  // of batches b_1 .. b_k in that order (double)], and every process fills in the others' rows.
  const std::vector<std::uint32_t> order = pilot_order(base);
  auto rows_of = [&](std::int64_t b) {
    const auto [a, e] = pilot_batch_range(base, static_cast<std::size_t>(b));
    return std::span<const std::uint32_t>(order).subspan(a, e - a);
  };
  std::sort(taken.begin(), taken.end());
  constexpr std::size_t kIndex = sizeof(std::int64_t), kRow = sizeof(double);
  const std::size_t row_bytes = np * kRow;
  std::size_t households_taken = 0;
  for (std::int64_t b : taken) households_taken += rows_of(b).size();
  std::vector<unsigned char> mine((1 + taken.size()) * kIndex + households_taken * row_bytes);
  {
    unsigned char* at = mine.data();
    const auto put = [&](std::int64_t v) {
      std::memcpy(at, &v, kIndex);
      at += kIndex;
    };
    put(static_cast<std::int64_t>(taken.size()));
    for (std::int64_t b : taken) put(b);
    for (std::int64_t b : taken)
      for (std::uint32_t h : rows_of(b)) {
        if (row_bytes) std::memcpy(at, ce.data() + h * np, row_bytes);
        at += row_bytes;
      }
  }
  const std::vector<std::vector<unsigned char>> all = share->all_gather(std::move(mine));
  std::vector<std::uint8_t> seen(batches, 0);
  for (int r = 0; r < share->ranks; ++r) {
    const std::vector<unsigned char>& bytes = all.at(static_cast<std::size_t>(r));
    auto bad = [&](const std::string& what) {
      return std::runtime_error("distributed pilot: process " + std::to_string(r) + " sent " +
                                what);
    };
    const auto index = [&](std::size_t i) {
      std::int64_t v = 0;
      std::memcpy(&v, bytes.data() + i * kIndex, kIndex);
      return v;
    };
    if (bytes.size() < kIndex || index(0) < 0 || index(0) > static_cast<std::int64_t>(batches))
      throw bad("no batch count");
    const auto k = static_cast<std::size_t>(index(0));
    if (bytes.size() < (1 + k) * kIndex) throw bad("a short batch list");
    std::size_t at = (1 + k) * kIndex;
    for (std::size_t i = 0; i < k; ++i) {
      const std::int64_t b = index(1 + i);
      if (b < 0 || b >= static_cast<std::int64_t>(batches) || seen[static_cast<std::size_t>(b)])
        throw bad("batch " + std::to_string(b) + ", not a batch or one another process ran");
      seen[static_cast<std::size_t>(b)] = 1;
      const auto households = rows_of(b);
      if (bytes.size() < at + households.size() * row_bytes)
        throw bad(std::to_string(bytes.size()) + " bytes, fewer than its batches' rows");
      if (r != share->rank && row_bytes)
        for (std::size_t j = 0; j < households.size(); ++j)
          std::memcpy(ce.data() + households[j] * np, bytes.data() + at + j * row_bytes, row_bytes);
      at += households.size() * row_bytes;
    }
    if (at != bytes.size()) throw bad(std::to_string(bytes.size() - at) + " bytes too many");
  }
  for (std::size_t b = 0; b < batches; ++b)
    if (!seen[b])
      throw std::runtime_error("distributed pilot: no process ran batch " + std::to_string(b));
  return ce;
}

namespace {

// Ties go to the first portfolio in candidate order. Certainty equivalents equal in exact
// arithmetic can differ in their last bits (discount weights such as 1/6 round), so a later
// portfolio wins only by more than a relative 1e-12 (1e-9 yuan on a CE of 1,000 yuan, far
// below any Monte Carlo difference).
bool beats(double v, double best) {
  return v > best + 1e-12 * std::max(1.0, std::abs(best));
}

// Remaining capacity per industry (infinity where unbounded) and whether any is bounded.
struct Capacities {
  std::vector<double> left;
  bool bounded = false;

  explicit Capacities(const Scenario& s) {
    for (const Industry& ind : s.industries) {
      left.push_back(ind.capacity);
      bounded |= std::isfinite(ind.capacity);
    }
  }
  // A need equal to what is left fits despite rounding (as the resources of section 4).
  bool fits(int industry, int units) const {
    if (industry < 0 || units == 0) return true;
    const double l = left[static_cast<std::size_t>(industry)];
    return units <= l + 1e-9 * std::max(1.0, std::abs(l));
  }
  bool fits(const std::pair<int, int>& p, Units n) const {
    return fits(p.first, n.main) && fits(p.second, n.aux);
  }
  void take(const std::pair<int, int>& p, Units n) {
    if (p.first >= 0) left[static_cast<std::size_t>(p.first)] -= n.main;
    if (p.second >= 0) left[static_cast<std::size_t>(p.second)] -= n.aux;
  }
};

// Households in the order they are served (MODEL.md section 8): ascending priority u_h on the
// choice stream, ties by population index; population order when no capacity is bounded (the
// order cannot matter then).
std::vector<std::uint32_t> service_order(const Scenario& s, std::size_t n, bool bounded) {
  std::vector<std::uint32_t> order(n);
  std::iota(order.begin(), order.end(), 0u);
  if (!bounded) return order;
  const rng::Addressed draw{rng::make_key(s.seed, rng::Stream::choice)};
  std::vector<std::uint32_t> priority(n);
  for (std::size_t h = 0; h < n; ++h)
    priority[h] = draw(static_cast<std::uint32_t>(h), 0, 0, draws::kCapacityPriority)[0];
  std::stable_sort(order.begin(), order.end(),
                   [&](std::uint32_t a, std::uint32_t b) { return priority[a] < priority[b]; });
  return order;
}

// Why household h, given no portfolio, runs none: over the portfolios it was offered, the
// resource that alone blocks the most of them, then the one that blocks the most (with
// others), then the order of BindingConstraint.
BindingConstraint shortage_of(const Scenario& s, const Households& hh, std::size_t h,
                              const std::vector<std::pair<int, int>>& offered) {
  int alone[kBindingConstraints] = {}, any[kBindingConstraints] = {};
  for (const auto& [main, aux] : offered) {
    const unsigned mask = portfolio_shortage(s, main, aux, hh.farmland_mu[h], hh.forest_mu[h],
                                             hh.laborers[h], hh.capital[h]);
    for (int c = 1; c <= 4; ++c) {
      if (!(mask & (1u << c))) continue;
      ++any[c];
      alone[c] += mask == (1u << c);
    }
  }
  int best = 0;
  for (int c = 1; c <= 4; ++c)
    if (best == 0 || alone[c] > alone[best] || (alone[c] == alone[best] && any[c] > any[best]))
      best = c;
  return any[best] > 0 ? static_cast<BindingConstraint>(best) : BindingConstraint::no_candidate;
}

void finish(Model& model, const std::vector<int>& main, const std::vector<int>& aux,
            const std::vector<std::pair<int, int>>& listed) {
  set_portfolios(model, main, aux, listed);
  const Scenario& s = model.scenario;
  model.capacity_used.assign(s.industries.size(), kNaN);
  for (std::size_t i = 0; i < s.industries.size(); ++i)
    if (std::isfinite(s.industries[i].capacity)) model.capacity_used[i] = 0.0;
  const Households& hh = model.households;
  for (std::size_t h = 0; h < hh.count(); ++h) {
    if (hh.main[h] >= 0 && std::isfinite(s.industries[hh.main[h]].capacity))
      model.capacity_used[hh.main[h]] += hh.units_main[h];
    if (hh.aux[h] >= 0 && std::isfinite(s.industries[hh.aux[h]].capacity))
      model.capacity_used[hh.aux[h]] += hh.units_aux[h];
  }
}

}  // namespace

std::vector<std::uint8_t> resource_constraints(const Model& base) {
  const Scenario& s = base.scenario;
  const Households& hh = base.households;
  const std::size_t n = hh.count();
  std::vector<std::uint8_t> out(n, static_cast<std::uint8_t>(BindingConstraint::none));
  std::vector<int> main(n, -1), aux(n, -1);
  const bool fixed = s.choice.rule == ChoiceRule::fixed;
  if (fixed) fixed_choice(s, main, aux);
  const std::vector<std::pair<int, int>> candidates = candidate_portfolios(s);
  for (std::size_t h = 0; h < n; ++h) {
    BindingConstraint c = BindingConstraint::none;
    if (fixed && main[h] < 0) {
      c = BindingConstraint::no_candidate;
    } else if (fixed) {
      if (portfolio_shortage(s, main[h], aux[h], hh.farmland_mu[h], hh.forest_mu[h], hh.laborers[h],
                             hh.capital[h]) != 0)
        c = shortage_of(s, hh, h, {{main[h], aux[h]}});
    } else {
      const bool any = std::any_of(candidates.begin(), candidates.end(), [&](const auto& p) {
        return portfolio_shortage(s, p.first, p.second, hh.farmland_mu[h], hh.forest_mu[h],
                                  hh.laborers[h], hh.capital[h]) == 0;
      });
      if (!any) c = shortage_of(s, hh, h, candidates);
    }
    out[h] = static_cast<std::uint8_t>(c);
  }
  return out;
}

void choose_portfolios(Model& model, int threads, std::atomic<std::int64_t>* progress,
                       const PilotShare* share) {
  const Scenario& scenario = model.scenario;
  const std::size_t n = model.households.count();
  std::vector<int> main(n, -1), aux(n, -1);
  Households& hh = model.households;
  Capacities capacity(scenario);
  const std::vector<std::uint32_t> order = service_order(scenario, n, capacity.bounded);
  auto units_of = [&](std::size_t h, const std::pair<int, int>& p) {
    return portfolio_units(scenario, p.first, p.second, hh.farmland_mu[h], hh.forest_mu[h],
                           hh.laborers[h], hh.capital[h]);
  };
  auto constraint = [&](std::size_t h, BindingConstraint c) {
    hh.binding_constraint[h] = static_cast<std::uint8_t>(c);
  };

  if (scenario.choice.rule == ChoiceRule::fixed) {
    fixed_choice(scenario, main, aux);
    std::vector<std::pair<int, int>> listed;
    for (const PortfolioShare& p : scenario.choice.portfolios) listed.push_back({p.main, p.aux});
    for (const std::uint32_t h : order) {
      const std::pair<int, int> p{main[h], aux[h]};
      hh.feasible_portfolios[h] = 0;
      if (p.first < 0) {
        constraint(h, BindingConstraint::no_candidate);
        continue;
      }
      const Units u = units_of(h, p);
      hh.feasible_portfolios[h] = u.main > 0 ? 1 : 0;  // by resources, capacity aside
      if (u.main == 0) {
        constraint(h, shortage_of(scenario, hh, h, {p}));
      } else if (!capacity.fits(p, u)) {
        constraint(h, BindingConstraint::capacity);
      } else {
        capacity.take(p, u);
        constraint(h, BindingConstraint::none);
        continue;
      }
      main[h] = aux[h] = -1;
    }
    finish(model, main, aux, listed);
    return;
  }

  const std::vector<std::pair<int, int>> portfolios = candidate_portfolios(scenario);
  const std::size_t np = portfolios.size();
  const std::vector<double> ce = certainty_equivalents(model, portfolios, threads, progress, share);
  const rng::Addressed draw{rng::make_key(scenario.seed, rng::Stream::choice)};
  const double temperature = scenario.choice.temperature;
  std::vector<double> chosen_ce(n, kNaN);
  std::vector<Units> units(np);
  std::vector<std::uint8_t> open(np);  // feasible and fits in what capacity is left
  for (const std::uint32_t h : order) {
    int best = -1, feasible = 0, fitting = 0;
    for (std::size_t p = 0; p < np; ++p) {
      const double v = ce[h * np + p];
      open[p] = 0;
      if (std::isnan(v)) continue;
      ++feasible;
      units[p] = units_of(h, portfolios[p]);
      if (!capacity.fits(portfolios[p], units[p])) continue;
      open[p] = 1;
      ++fitting;
      if (best < 0 || beats(v, ce[h * np + best])) best = static_cast<int>(p);  // ties: first
    }
    hh.feasible_portfolios[h] = feasible;
    if (best < 0) {  // runs none
      constraint(
          h, feasible > 0 ? BindingConstraint::capacity : shortage_of(scenario, hh, h, portfolios));
      continue;
    }
    if (scenario.choice.rule == ChoiceRule::logit && fitting > 1) {
      // P(p) proportional to exp(CE_p / temperature) over the open portfolios, shifted by the
      // best CE for stability.
      const double shift = ce[h * np + best];
      auto weight = [&](std::size_t p) { return std::exp((ce[h * np + p] - shift) / temperature); };
      double total = 0.0;
      for (std::size_t p = 0; p < np; ++p)
        if (open[p]) total += weight(p);
      const double u =
          rng::uniform(draw(static_cast<std::uint32_t>(h), 0, 0, draws::kLogitPortfolio)[0]) *
          total;
      double cumulative = 0.0;
      for (std::size_t p = 0; p < np; ++p) {
        if (!open[p]) continue;
        cumulative += weight(p);
        best = static_cast<int>(p);  // the last open one if rounding leaves u >= total
        if (u < cumulative) break;
      }
    }
    capacity.take(portfolios[best], units[best]);
    constraint(h, BindingConstraint::none);
    main[h] = portfolios[best].first;
    aux[h] = portfolios[best].second;
    chosen_ce[h] = ce[h * np + best];
  }
  finish(model, main, aux, portfolios);
  for (std::size_t h = 0; h < n; ++h) hh.certainty_equivalent[h] = chosen_ce[h];
}

}  // namespace incsim
