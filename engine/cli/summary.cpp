#include <cstdio>
#include <string>

#include "cli/cli.h"

namespace incsim::cli {
namespace {

std::string fmt(const char* f, double a, double b) {
  char buf[64];
  std::snprintf(buf, sizeof buf, f, a, b);
  return buf;
}

}  // namespace

void print_summary(std::ostream& os, const Model& model, const RunResults& res, double seconds) {
  const double hh_years = double(model.households.count()) * model.years * double(res.replications);
  os << "scenario " << model.scenario.name << ": " << model.households.count() << " households, "
     << model.persons << " persons, " << model.years << " years, " << res.replications
     << " replications, seed " << model.scenario.seed << "\n";
  os << fmt("simulated %.3g household-years in %.2f s", hh_years, seconds)
     << fmt(" (%.1f M household-years/s)\n", hh_years / seconds / 1e6, 0.0);
  os << "\n  year   mean income, yuan (se)   headcount, % (se)    gov. cost, yuan (se)\n";
  for (int t = 0; t < model.years; ++t) {
    os << "  " << res.calendar_years[t] << "   "
       << fmt("%9.1f (%6.1f)", res.income_mean.mean[t], res.income_mean.se[t]) << "   "
       << fmt("%8.3f (%.3f)", 100.0 * res.fgt0.mean[t], 100.0 * res.fgt0.se[t]) << "    "
       << fmt("%12.0f (%.0f)", res.government_cost.mean[t], res.government_cost.se[t]) << "\n";
  }
  os << fmt("\n  ever poor %.3f%% (se %.3f)", 100.0 * res.ever_poor.mean[0],
            100.0 * res.ever_poor.se[0])
     << fmt(", P(headcount > %.1f%%)", 100.0 * model.scenario.poverty.exit_target, 0.0)
     << fmt(" in the last year %.4f (se %.4f)\n", res.target_risk.mean.back(),
            res.target_risk.se.back());
}

}  // namespace incsim::cli
