// Population generation (MODEL.md section 4): a pure function of the seed's population
// stream, so the population is identical in every replication and at every sweep point.
#include <algorithm>
#include <cmath>

#include "incsim/draws.h"
#include "incsim/rng.h"
#include "model/internal.h"

namespace incsim::detail {
namespace {

// Lognormal with the given mean and coefficient of variation from a standard normal z.
double lognormal(const LognormalSpec& spec, double z) {
  if (spec.mean <= 0.0) return 0.0;
  const double s = std::sqrt(std::log1p(spec.cv * spec.cv));
  return spec.mean * std::exp(s * z - 0.5 * s * s);
}

int draw_size(const HouseholdDistributions& pop, double u) {
  double total = 0.0;
  for (double w : pop.size_weights) total += w;
  double cumulative = 0.0;
  for (std::size_t k = 0; k < pop.size_values.size(); ++k) {
    cumulative += pop.size_weights[k] / total;
    if (u < cumulative) return static_cast<int>(pop.size_values[k]);
  }
  // u falls above the last cumulative share only by rounding: take the last positive weight.
  for (std::size_t k = pop.size_values.size(); k-- > 0;) {
    if (pop.size_weights[k] > 0.0) return static_cast<int>(pop.size_values[k]);
  }
  return 1;
}

}  // namespace

int laborers_of(const HouseholdDistributions& pop, int size) {
  const int by_share = static_cast<int>(std::floor(size * pop.laborer_share_of_size + 0.5));
  return std::min(size, std::max(pop.laborer_min, by_share));
}

void generate_population(const Scenario& scenario, Households& hh,
                         std::vector<std::string>& village_labels) {
  const Population& pop = scenario.population;
  const std::uint32_t n = static_cast<std::uint32_t>(pop.households);
  const rng::Addressed draw{rng::make_key(scenario.seed, rng::Stream::population)};
  resize_households(hh, n);
  village_labels.clear();
  for (int v = 0; v < pop.villages; ++v) village_labels.push_back(std::to_string(v));
  for (std::uint32_t h = 0; h < n; ++h) {
    const rng::Block a = draw(h, 0, 0, draws::kPopulationAttributes);
    const rng::Block b = draw(h, 0, 0, draws::kPopulationResources);
    const auto z01 = rng::normal_pair(b[0], b[1]);
    const auto z23 = rng::normal_pair(b[2], b[3]);
    hh.id[h] = std::to_string(h);
    hh.village[h] = static_cast<std::int32_t>(static_cast<std::int64_t>(h) * pop.villages / n);
    // Poor status first, then each attribute's own draw through the group's distribution, so
    // editing population.poor changes poor households only (MODEL.md section 4, v2).
    hh.poor[h] = rng::uniform(a[1]) < pop.poor_share ? 1 : 0;
    const HouseholdDistributions& d = pop.of(hh.poor[h] != 0);
    hh.size[h] = draw_size(d, rng::uniform(a[0]));
    hh.laborers[h] = laborers_of(d, hh.size[h]);
    hh.farmland_mu[h] = lognormal(d.farmland_mu, z01[0]);
    hh.forest_mu[h] = lognormal(d.forest_mu, z01[1]);
    hh.capital[h] = lognormal(d.capital, z23[0]);
  }
}

void import_population(const Scenario& scenario, Households& hh,
                       std::vector<std::string>& village_labels) {
  const auto& records = scenario.population.records;
  resize_households(hh, records.size());
  village_labels.clear();
  for (std::size_t h = 0; h < records.size(); ++h) {
    const HouseholdRecord& rec = records[h];
    auto it = std::find(village_labels.begin(), village_labels.end(), rec.village);
    if (it == village_labels.end()) {
      village_labels.push_back(rec.village);
      it = village_labels.end() - 1;
    }
    hh.id[h] = rec.id;
    hh.village[h] = static_cast<std::int32_t>(it - village_labels.begin());
    hh.size[h] = rec.size;
    hh.laborers[h] = rec.laborers;
    hh.poor[h] = rec.poor ? 1 : 0;
    hh.farmland_mu[h] = rec.farmland_mu;
    hh.forest_mu[h] = rec.forest_mu;
    hh.capital[h] = rec.capital;
  }
}

void resize_households(Households& hh, std::size_t n) {
  hh.id.assign(n, {});
  hh.village.assign(n, 0);
  hh.size.assign(n, 1);
  hh.laborers.assign(n, 0);
  hh.farmland_mu.assign(n, 0.0);
  hh.forest_mu.assign(n, 0.0);
  hh.capital.assign(n, 0.0);
  hh.poor.assign(n, 0);
  hh.public_post.assign(n, 0);
  hh.main.assign(n, -1);
  hh.aux.assign(n, -1);
  hh.units_main.assign(n, 0);
  hh.units_aux.assign(n, 0);
  for (auto& e : hh.enrolled) e.assign(n, 0);
  hh.dibao_eligible.assign(n, 0);
  hh.certainty_equivalent.assign(n, std::nan(""));
  hh.feasible_portfolios.assign(n, 0);
  hh.binding_constraint.assign(n, 0);
}

}  // namespace incsim::detail
