// Kernel order (see KernelTables in incsim/model.h): households sorted by portfolio, then by the
// protection variants they hold and the products they are enrolled in (so the insurance and
// protection stages run on holders only, on whole batches), then by laborers (so a batch's
// wage draws cover nearly every lane), then by population index, and every constant the kernel
// reads stored contiguously in that order.
#include <algorithm>
#include <numeric>
#include <tuple>

#include "model/internal.h"

namespace incsim::detail {
namespace {

// Industries of the portfolio in sort order: none last, single industries after pairs.
int order_key(int industry) {
  return industry < 0 ? 1 << 30 : industry;
}

// Runs of positions with the same portfolio, enrollment and variants held.
std::vector<KernelSegment> segments_of(const Households& hh,
                                       const std::vector<std::uint32_t>& order,
                                       const std::vector<std::uint8_t>& enrolled,
                                       const std::vector<std::uint8_t>& holds) {
  std::vector<KernelSegment> segments;
  for (std::size_t p = 0; p < order.size(); ++p) {
    const std::uint32_t h = order[p];
    const KernelSegment seg{hh.main[h], hh.aux[h], enrolled[h], holds[h], p, p + 1};
    if (segments.empty() || segments.back().main != seg.main || segments.back().aux != seg.aux ||
        segments.back().enrolled != seg.enrolled || segments.back().holds != seg.holds)
      segments.push_back(seg);
    segments.back().end = p + 1;
  }
  return segments;
}

// Each household's share of product q's premium, (T, H) in population order, and the bits of
// the products it is enrolled in and of the protection variants it holds (is exposed to in
// some year: MODEL.md section 9).
struct Holdings {
  std::vector<double> premium_paid[kProducts];
  std::vector<std::uint8_t> enrolled, holds;
};

Holdings holdings_of(const Model& model) {
  const Households& hh = model.households;
  const ProtectionModel& pm = model.protection;
  const std::size_t n = hh.count();
  const auto years = static_cast<std::size_t>(model.years);
  Holdings out;
  out.enrolled.assign(n, 0);
  out.holds.assign(n, 0);
  for (int q = 0; q < kProducts; ++q) {
    if (pm.value[q]) out.premium_paid[q].assign(n * years, 0.0);
    if (!model.insurance.plan[q].enabled) continue;
    for (std::size_t h = 0; h < n; ++h)
      out.enrolled[h] |= static_cast<std::uint8_t>((hh.enrolled[q][h] != 0) << q);
  }
  if (!pm.any_value) return out;
  for (std::size_t h = 0; h < n; ++h) {
    PortfolioSlots slots;
    slots.industry[0] = hh.main[h];
    slots.industry[1] = hh.aux[h];
    slots.units[0] = hh.units_main[h];
    slots.units[1] = hh.units_aux[h];
    for (std::size_t t = 0; t < years; ++t) {
      const ProductPremiums due = premiums_of(model, h, slots, static_cast<int>(t) + 1);
      for (int q = 0; q < kProducts; ++q) {
        const ProductPremiums::Share& share = due.product[q];
        if (!pm.value[q] || !share.exposed) continue;
        out.premium_paid[q][t * n + h] = share.premium - share.government;  // as fixed income
        out.holds[h] |= static_cast<std::uint8_t>(1u << q);
        if (pm.value[kDouble] && q != kPovertyGuard) out.holds[h] |= 1u << kDouble;
      }
    }
  }
  return out;
}

// The households' constants in kernel order (KernelTables: every column but the segments).
void copy_in_order(const Model& model, const Holdings& held, KernelTables& k) {
  const Households& hh = model.households;
  const InsuranceModel& ins = model.insurance;
  const std::vector<std::uint32_t>& order = k.unit;
  const std::size_t n = hh.count();
  const auto years = static_cast<std::size_t>(model.years);
  const bool agri = ins.plan[kAgricultural].enabled;
  const bool index = ins.plan[kIncomeIndex].enabled;
  k.size.resize(n);
  k.laborers.resize(n);
  k.village.resize(n);
  for (int s = 0; s < 2; ++s) {
    k.units[s].assign(n, 0.0);
    k.agricultural_cover[s].assign(n, 0.0);
    k.index_cover[s].assign(n, 0.0);
  }
  k.dibao_eligible.resize(n);
  k.poor.resize(n);
  k.farming.resize(n);
  k.fixed_income.resize(n * years);
  k.farm_cost.resize(n * years);
  for (std::size_t p = 0; p < n; ++p) {
    const std::uint32_t h = order[p];
    k.size[p] = hh.size[h];
    k.laborers[p] = hh.laborers[h];
    k.village[p] = hh.village[h];
    const int slots[2][2] = {{hh.main[h], hh.units_main[h]}, {hh.aux[h], hh.units_aux[h]}};
    for (int s = 0; s < 2; ++s) {
      const int i = slots[s][0];
      if (i < 0) continue;
      const double units = slots[s][1];
      k.units[s][p] = units;
      if (agri && hh.enrolled[kAgricultural][h])
        k.agricultural_cover[s][p] = units * ins.sum_insured[i];
      if (index && hh.enrolled[kIncomeIndex][h] && ins.index_covered[i])
        k.index_cover[s][p] = units;
    }
    k.dibao_eligible[p] = hh.dibao_eligible[h];
    k.poor[p] = hh.poor[h];
    k.farming[p] = hh.main[h] >= 0;
    for (std::size_t t = 0; t < years; ++t) {
      k.fixed_income[t * n + p] = hh.fixed_income[t * n + h];
      k.farm_cost[t * n + p] = hh.farm_cost[t * n + h];
    }
  }
  for (int q = 0; q < kProducts; ++q) {
    k.enrolled[q].assign(n, 0);
    if (!ins.plan[q].enabled) continue;
    for (std::size_t p = 0; p < n; ++p) k.enrolled[q][p] = hh.enrolled[q][order[p]] != 0;
  }
  const ProtectionModel& pm = model.protection;
  for (int v = 0; v < kVariants; ++v) {
    if (!pm.value[v]) continue;
    k.holds[v].resize(n);
    for (std::size_t p = 0; p < n; ++p) k.holds[v][p] = held.holds[order[p]] >> v & 1u;
  }
  for (int q = 0; q < kProducts; ++q) {
    if (!pm.value[q]) continue;
    k.premium_paid[q].resize(n * years);
    for (std::size_t t = 0; t < years; ++t)
      for (std::size_t p = 0; p < n; ++p)
        k.premium_paid[q][t * n + p] = held.premium_paid[q][t * n + order[p]];
  }
}

}  // namespace

void build_kernel_tables(Model& model) {
  const Households& hh = model.households;
  const std::size_t n = hh.count();
  KernelTables& k = model.kernel;
  k = KernelTables{};
  const Holdings held = holdings_of(model);
  std::vector<std::uint32_t> order(n);
  std::iota(order.begin(), order.end(), 0u);
  std::stable_sort(order.begin(), order.end(), [&](std::uint32_t a, std::uint32_t b) {
    const auto key = [&](std::uint32_t h) {
      return std::make_tuple(order_key(hh.main[h]), order_key(hh.aux[h]), held.holds[h],
                             held.enrolled[h], hh.laborers[h]);
    };
    return key(a) < key(b);
  });
  k.unit = order;
  k.position.resize(n);
  for (std::size_t p = 0; p < n; ++p) k.position[order[p]] = static_cast<std::uint32_t>(p);
  copy_in_order(model, held, k);
  k.segments = segments_of(hh, order, held.enrolled, held.holds);
}

}  // namespace incsim::detail
