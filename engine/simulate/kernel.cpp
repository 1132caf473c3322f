// The per-household-year kernel (MODEL.md sections 2, 3, 7). Households of one portfolio are
// processed kBatch at a time in structure-of-arrays buffers; draws come from the batched
// counter-based generator addressed as in incsim/draws.h, so a household's shocks depend only
// on (seed, replication, year, household) and never on the batch it was computed in.
#include <algorithm>
#include <cmath>

#include "incsim/draws.h"
#include "incsim/simulate.h"

namespace incsim {
namespace {

constexpr std::size_t kBatch = Kernel::kBatch;

std::size_t padded(std::size_t n) {
  return (n + rng::kLanes - 1) / rng::kLanes * rng::kLanes;
}

}  // namespace

Workspace::Workspace(const Model& model)
    : income_(model.households.count()),
      farm_net_(model.households.count()),
      prices_(model.markets.size()),
      log_dev_(model.markets.size()),
      innovations_(model.markets.size()),
      units_(kBatch),
      words_(4 * kBatch),
      normals_(4 * kBatch),
      scratch_(kBatch),
      revenue_(kBatch),
      total_(kBatch) {
  std::size_t lines = 0;
  for (const IndustryModel& ind : model.industries) lines += ind.products.size();
  sale_price_.resize(lines);
}

Kernel::Kernel(const Model& model, rng::Stream stream)
    : model_(model), key_(rng::make_key(model.seed, stream)) {}

// Correlated log-AR(1) deviations and the prices of year t (MODEL.md section 2).
void Kernel::draw_prices(std::uint32_t r, int t, Workspace& ws) const {
  const std::size_t m_count = model_.markets.size();
  const auto year = static_cast<std::uint32_t>(t);
  double* z = ws.innovations_.data();
  for (std::size_t m = 0; m < m_count; ++m) {
    const rng::Block w = rng::philox4x32_10(
        rng::counter(static_cast<std::uint32_t>(m), r, year, draws::kPriceInnovation), key_);
    z[m] = rng::normal_pair(w[0], w[1])[0];
  }
  const double* a = model_.innovation_factor.data();
  for (std::size_t m = 0; m < m_count; ++m) {
    const MarketModel& mk = model_.markets[m];
    double e = 0.0;
    for (std::size_t j = 0; j < m_count; ++j) e += a[m * m_count + j] * z[j];
    ws.log_dev_[m] = mk.phi * ws.log_dev_[m] + mk.sigma * e;
    ws.prices_[m] = mk.expected_price[t - 1] * std::exp(ws.log_dev_[m] - mk.half_variance[t - 1]);
  }
  std::size_t line = 0;
  for (const IndustryModel& ind : model_.industries)
    for (const ProductModel& p : ind.products)
      ws.sale_price_[line++] = std::max(ws.prices_[p.market], p.floor);
}

YearOutcome Kernel::simulate_year(std::int64_t r, int t, Workspace& ws) const {
  const auto rep = static_cast<std::uint32_t>(r);
  draw_prices(rep, t, ws);
  double dibao = 0.0;
  for (const PortfolioGroup& g : model_.groups) simulate_group(g, rep, t, ws, dibao);
  YearOutcome out;
  out.year = t;
  out.income_per_capita = ws.income_;
  out.farm_net_income = ws.farm_net_;
  out.prices = ws.prices_;
  out.dibao = dibao;
  out.government_cost =
      (t == 1 ? model_.government_fixed_first_year : model_.government_fixed_later_years) + dibao;
  return out;
}

void Kernel::simulate_group(const PortfolioGroup& g, std::uint32_t r, int t, Workspace& ws,
                            double& dibao) const {
  const Households& hh = model_.households;
  const Scenario& sc = model_.scenario;
  const auto year = static_cast<std::uint32_t>(t);
  const std::vector<double>& fixed =
      t == 1 ? hh.fixed_income_first_year : hh.fixed_income_later_years;
  const std::vector<double>& farm_cost =
      t == 1 ? hh.farm_cost_first_year : hh.farm_cost_later_years;
  const bool wage_draws = model_.stochastic_wage();
  const double wage = sc.income.wage.per_laborer;
  const double wage_s = std::sqrt(std::log1p(sc.income.wage.cv * sc.income.wage.cv));
  const double employment = sc.income.wage.employment_rate;
  const double line = sc.income.dibao.line;

  // First sale-price line of each industry (products are laid out industry after industry).
  std::size_t first_line[2] = {0, 0};
  const int slots[2] = {g.main, g.aux};
  for (int k = 0; k < 2; ++k) {
    if (slots[k] < 0) continue;
    for (int i = 0; i < slots[k]; ++i) first_line[k] += model_.industries[i].products.size();
  }

  std::uint32_t* units = ws.units_.data();
  double* revenue = ws.revenue_.data();
  double* total = ws.total_.data();
  double* scratch = ws.scratch_.data();
  double* z = ws.normals_.data();
  std::uint32_t* words = ws.words_.data();

  for (std::size_t start = 0; start < g.members.size(); start += kBatch) {
    const std::size_t nb = std::min(kBatch, g.members.size() - start);
    const std::size_t np = padded(nb);
    for (std::size_t i = 0; i < np; ++i) units[i] = g.members[start + std::min(i, nb - 1)];
    for (std::size_t i = 0; i < np; ++i) revenue[i] = 0.0;

    // Farm revenue: n * sum_p Y * sale price in harvest years (section 3).
    for (int k = 0; k < 2; ++k) {
      const int ind_index = slots[k];
      if (ind_index < 0) continue;
      const IndustryModel& ind = model_.industries[ind_index];
      if (!ind.harvest[t - 1]) continue;
      const std::vector<std::int32_t>& n_units = k == 0 ? hh.units_main : hh.units_aux;
      for (std::size_t i = 0; i < np; ++i) total[i] = n_units[units[i]];  // units as double
      const std::size_t n_products = ind.products.size();
      std::size_t drawn_block = SIZE_MAX;
      for (std::size_t p = 0; p < n_products; ++p) {
        const ProductModel& prod = ind.products[p];
        const double per_unit = prod.yield * ws.sale_price_[first_line[k] + p];
        const double s = prod.log_sigma;
        if (s == 0.0) {
          for (std::size_t i = 0; i < np; ++i) revenue[i] += total[i] * per_unit;
          continue;
        }
        if (p / 4 != drawn_block) {  // rows 0, 1 agree bit for bit between the two forms
          drawn_block = p / 4;
          const auto index = draws::yield_index(ind_index, static_cast<int>(drawn_block));
          if (n_products - 4 * drawn_block <= 2)
            rng::normal2_batch(key_, units, r, year, index, np, words, z);
          else
            rng::normal4_batch(key_, units, r, year, index, np, words, z);
        }
        const double* zp = z + (p % 4) * np;
        const double shift = -0.5 * s * s;
        for (std::size_t i = 0; i < np; ++i) scratch[i] = s * zp[i] + shift;
        rng::exp_batch(scratch, np, scratch);
        for (std::size_t i = 0; i < np; ++i) revenue[i] += total[i] * per_unit * scratch[i];
      }
    }

    for (std::size_t i = 0; i < np; ++i) total[i] = fixed[units[i]] + revenue[i];

    // Wages with employment risk (section 7): every member of the group has g.laborers
    // laborers; block k gives laborers 2k, 2k+1 their normals and employment words.
    if (wage_draws) {
      const double shift = -0.5 * wage_s * wage_s;
      for (int k = 0; 2 * k < g.laborers; ++k) {
        if (wage_s > 0.0)
          rng::normal2_batch(key_, units, r, year, draws::kWage + k, np, words, z);
        else
          rng::philox_batch(key_, units, r, year, draws::kWage + k, np, words);
        for (int l = 0; l < 2 && 2 * k + l < g.laborers; ++l) {
          if (wage_s > 0.0) {
            for (std::size_t i = 0; i < np; ++i) scratch[i] = wage_s * z[l * np + i] + shift;
            rng::exp_batch(scratch, np, scratch);
          } else {
            for (std::size_t i = 0; i < np; ++i) scratch[i] = 1.0;
          }
          const std::uint32_t* employed = words + (2 + l) * np;
          for (std::size_t i = 0; i < np; ++i)
            total[i] += rng::uniform(employed[i]) < employment ? wage * scratch[i] : 0.0;
        }
      }
    }

    // Per-capita income, dibao top-up applied last, and scatter back to population order.
    for (std::size_t i = 0; i < nb; ++i) {
      const std::uint32_t h = units[i];
      double y = total[i] / hh.size[h];
      if (hh.dibao_eligible[h] && y < line) {
        dibao += hh.size[h] * (line - y);
        y = line;
      }
      ws.income_[h] = y;
      ws.farm_net_[h] = revenue[i] - farm_cost[h];
    }
  }
}

}  // namespace incsim
