// Market prices, county hazards and severity draws (see incsim/shocks.h).
#include "incsim/shocks.h"

#include <algorithm>
#include <cmath>
#include <numbers>
#include <stdexcept>
#include <string>

#include "incsim/draws.h"

namespace incsim {
namespace {

// Words of consecutive counters {unit, r, t, first + j}, four per block, in order.
class WordStream {
 public:
  WordStream(rng::Key key, std::uint32_t unit, std::uint32_t r, std::uint32_t t,
             std::uint32_t first)
      : key_(key), unit_(unit), r_(r), t_(t), next_(first), last_(first + draws::kSeverityBlocks) {}

  double uniform() {
    if (used_ == 4) {
      if (next_ == last_)
        throw std::runtime_error("severity sampler exhausted its counters (unit " +
                                 std::to_string(unit_) + ", year " + std::to_string(t_) + ")");
      block_ = rng::philox4x32_10(rng::counter(unit_, r_, t_, next_++), key_);
      used_ = 0;
    }
    return rng::uniform(block_[used_++]);
  }
  double normal() {
    const double u1 = uniform();
    const double u2 = uniform();
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * std::numbers::pi * u2);
  }

 private:
  rng::Key key_;
  std::uint32_t unit_, r_, t_, next_, last_;
  rng::Block block_{};
  int used_ = 4;
};

// Marsaglia and Tsang (2000); shape < 1 by Gamma(a) = Gamma(a + 1) U^(1/a).
double gamma_variate(double shape, WordStream& words) {
  if (shape < 1.0) {
    const double g = gamma_variate(shape + 1.0, words);
    return g * std::pow(words.uniform(), 1.0 / shape);
  }
  const double d = shape - 1.0 / 3.0;
  const double c = 1.0 / std::sqrt(9.0 * d);
  for (;;) {
    const double z = words.normal();
    double v = 1.0 + c * z;
    if (v <= 0.0) continue;
    v = v * v * v;
    const double u = words.uniform();
    if (std::log(u) < 0.5 * z * z + d - d * v + d * std::log(v)) return d * v;
  }
}

}  // namespace

bool hazard_occurs(const HazardModel& hazard, int k, rng::Key key, std::uint32_t unit,
                   std::uint32_t r, int t) {
  const rng::Block w =
      rng::philox4x32_10(rng::counter(unit, r, static_cast<std::uint32_t>(t),
                                      draws::kHazardOccurrence + static_cast<std::uint32_t>(k)),
                         key);
  return rng::uniform(w[0]) < hazard.probability;
}

double sample_severity(const Severity& severity, int k, rng::Key key, std::uint32_t unit,
                       std::uint32_t r, int t) {
  if (severity.fixed) return severity.value;
  WordStream words(key, unit, r, static_cast<std::uint32_t>(t), draws::severity_index(k));
  const double x = gamma_variate(severity.a, words);
  const double y = gamma_variate(severity.b, words);
  return x / (x + y);
}

void sample_severity_batch(const Severity& severity, int k, rng::Key key,
                           const std::uint32_t* units, std::size_t n, std::uint32_t r, int t,
                           double* out) {
  if (severity.fixed) {
    std::fill(out, out + n, severity.value);
    return;
  }
  rng::beta_batch(severity.a, severity.b, key, units, n, r, static_cast<std::uint32_t>(t),
                  draws::severity_index(k), draws::kSeverityBlocks, out);
}

MarketState::MarketState(const Model& model)
    : log_dev(model.markets.size(), 0.0), innovations(model.markets.size(), 0.0) {}

void MarketState::reset() {
  std::fill(log_dev.begin(), log_dev.end(), 0.0);
}

void market_year(const Model& model, rng::Key key, std::uint32_t r, int t, MarketState& state,
                 double* prices, double* county_severity) {
  const std::size_t m_count = model.markets.size();
  const auto year = static_cast<std::uint32_t>(t);
  double* z = state.innovations.data();
  for (std::size_t m = 0; m < m_count; ++m) {
    const rng::Block w = rng::philox4x32_10(
        rng::counter(static_cast<std::uint32_t>(m), r, year, draws::kPriceInnovation), key);
    z[m] = rng::normal_pair(w[0], w[1])[0];
  }
  const InnovationFactor& a = model.innovation_factor;
  for (std::size_t m = 0; m < m_count; ++m) {
    const MarketModel& mk = model.markets[m];
    double e = 0.0;  // the dense row's zeros add exact zeros: skipping them changes nothing
    for (std::uint32_t k = a.start[m]; k < a.start[m + 1]; ++k) e += a.value[k] * z[a.column[k]];
    state.log_dev[m] = mk.phi * state.log_dev[m] + mk.sigma * e;
    prices[m] = mk.expected_price[t - 1] * std::exp(state.log_dev[m] - mk.half_variance[t - 1]);
  }
  for (std::size_t k = 0; k < model.hazards.size(); ++k) {
    const HazardModel& hz = model.hazards[k];
    county_severity[k] = -1.0;
    if (hz.scope != HazardScope::county || !hazard_occurs(hz, int(k), key, 0, r, t)) continue;
    county_severity[k] = sample_severity(hz.severity, int(k), key, 0, r, t);
    for (std::size_t m = 0; m < m_count; ++m) prices[m] *= hz.price_shock[m];
  }
}

}  // namespace incsim
