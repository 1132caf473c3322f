// The resource guard (issue 14): memory and work a validated scenario will need, estimated
// from its sizes before anything is allocated, against a limit from the machine's memory.
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <thread>

#include "incsim/load.h"

namespace incsim {
namespace {

std::string gigabytes(double bytes) {
  char buffer[48];
  std::snprintf(buffer, sizeof buffer, "%.3g GB", bytes / 1e9);
  return buffer;
}

}  // namespace

ResourceEstimate estimate_resources(const Scenario& s, int threads) {
  ResourceEstimate e;
  const double workers = threads > 0 ? threads : std::max(1u, std::thread::hardware_concurrency());
  const double H = static_cast<double>(s.population.records.empty()
                                           ? s.population.households
                                           : static_cast<int>(s.population.records.size()));
  const double T = s.years, R = static_cast<double>(s.replications);
  const double V = s.population.records.empty() ? s.population.villages : H;
  const double I = static_cast<double>(s.industries.size());
  const double M = static_cast<double>(s.markets.size());
  const std::size_t c =
      s.choice.candidates.empty() ? s.industries.size() : s.choice.candidates.size();
  const double P = s.choice.rule == ChoiceRule::fixed
                       ? 0.0
                       : static_cast<double>(c * (c - 1) + (s.choice.two_industries ? 0 : c));
  const double S =
      static_cast<double>(std::min<std::int64_t>(s.output.sample_paths, s.replications));
  // Per household and year: the model's and kernel's tables, the exact accumulators (16-byte
  // sums of income, its square and the poverty indicators) and the output's copies.
  const double households = H * T * 8.0 * 24.0 + H * 400.0;
  // Basis risk and protection value (MODEL.md section 9): the variants with basis-risk
  // measures (agricultural, income index, double when both) and with a CE gain (every
  // configured product, and double).
  const bool agri = s.insurance.agricultural.enabled, index = s.insurance.income_index.enabled;
  const double basis_variants = (agri ? 1 : 0) + (index ? 1 : 0) + (agri && index ? 1 : 0);
  const double value_variants = (agri ? 1 : 0) + (index ? 1 : 0) +
                                (s.insurance.poverty_guard.enabled ? 1 : 0) +
                                (agri && index ? 1 : 0);
  // Per replication and year: the per-replication table (about 30 columns with health and
  // insurance, and 6 basis-risk tallies per basis variant) and the quantile histogram's share.
  const double replications = R * T * 8.0 * (30.0 + 6.0 * basis_variants);
  // Protection value: in every worker's accumulator and the total, per holding household and
  // column (the income as simulated and without each variant) 16 jackknife groups of 16-byte
  // exact sums and the open replication's double; per industry and year the basis moments.
  const double protection =
      value_variants > 0 ? (workers + 1.0) * (H * (value_variants + 1.0) * (16.0 * 16.0 + 8.0) +
                                              4.0 * I * T * 3.0 * 5.0 * 16.0)
                         : 0.0;
  // Per group (villages, industries, poor, insured) and year: several exact sums each.
  const double groups = (V + I + 4.0) * T * 16.0 * 12.0 + V * 48.0;
  const double paths = S * H * T * 4.0 * 2.0;  // float32, held and written
  const double pilot = H * P * 48.0;           // one certainty-equivalent accumulator each
  double correlation = 0.0;                    // a dense block per group of linked markets
  for (const auto& g : correlation_groups(s.markets.size(), s.correlation))
    correlation += 3.0 * 8.0 * static_cast<double>(g.size()) * static_cast<double>(g.size());
  struct Term {
    double bytes;
    const char* key;
  };
  const Term terms[] = {{households, "population.households or scenario.years"},
                        {replications, "scenario.replications or scenario.years"},
                        {protection, "population.households (the insured households' CE sums)"},
                        {groups, "population.villages"},
                        {paths, "output.sample_paths"},
                        {pilot, "choice.candidates (or population.households)"},
                        {correlation, "the correlation groups' sizes (markets linked by pairs)"}};
  const Term* largest = &terms[0];
  for (const Term& t : terms) {
    e.memory_bytes += t.bytes;
    if (t.bytes > largest->bytes) largest = &t;
  }
  e.memory_bytes += 64e6;  // the program, libraries, thread stacks and small tables
  e.largest_key = largest->key;
  e.household_years = H * T * R;
  e.pilot_household_years = H * P * s.choice.pilot_replications * T;
  e.fair_pilot_market_years = s.insurance.income_index.enabled && s.insurance.income_index.fair
                                  ? s.insurance.income_index.fair_replications * T * (M + I)
                                  : 0.0;
  return e;
}

double memory_limit_bytes() {
  const long pages = ::sysconf(_SC_PHYS_PAGES), page = ::sysconf(_SC_PAGESIZE);
  double physical = pages > 0 && page > 0 ? static_cast<double>(pages) * page : 8e9;
  // A container's cgroup limit, when smaller.
  std::ifstream cgroup("/sys/fs/cgroup/memory.max");
  double limit = 0.0;
  if (cgroup >> limit && limit > 0.0) physical = std::min(physical, limit);
  return 0.8 * physical;
}

std::string describe_resources(const ResourceEstimate& e) {
  char buffer[256];
  std::snprintf(buffer, sizeof buffer,
                "resources: about %s of memory (limit %s); %.3g household-years of replications, "
                "%.3g of choice pilot",
                gigabytes(e.memory_bytes).c_str(), gigabytes(memory_limit_bytes()).c_str(),
                e.household_years, e.pilot_household_years);
  std::string out = buffer;
  if (e.fair_pilot_market_years > 0) {
    std::snprintf(buffer, sizeof buffer, ", %.3g market-years of fair-premium pilot",
                  e.fair_pilot_market_years);
    out += buffer;
  }
  return out + "\n";
}

std::string resource_problem(const ResourceEstimate& e) {
  const double limit = memory_limit_bytes();
  if (e.memory_bytes <= limit) return "";
  return "the run would need about " + gigabytes(e.memory_bytes) +
         " of memory, above the limit of " + gigabytes(limit) +
         " (80% of this machine's memory); the largest part comes from " + e.largest_key +
         ": reduce it, or pass --allow-large to try anyway";
}

}  // namespace incsim
