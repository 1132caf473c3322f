#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>

#include "cli/cli.h"

namespace incsim::cli {
namespace {

std::string fmt(const char* f, double a, double b) {
  char buf[256];
  std::snprintf(buf, sizeof buf, f, a, b);
  return buf;
}

}  // namespace

static void print_portfolios(std::ostream& os, const Model& model) {
  const Scenario& s = model.scenario;
  const char* rule = s.choice.rule == ChoiceRule::fixed   ? "fixed shares"
                     : s.choice.rule == ChoiceRule::logit ? "logit"
                                                          : "expected utility";
  std::vector<PortfolioRow> rows = model.portfolios;
  std::stable_sort(rows.begin(), rows.end(), [](const PortfolioRow& a, const PortfolioRow& b) {
    return a.household_share > b.household_share;
  });
  os << "\n  portfolios (" << rule << "), top 5 by share of households:\n";
  for (std::size_t k = 0; k < rows.size() && k < 5; ++k) {
    if (rows[k].household_share <= 0.0) break;
    std::string name = rows[k].main < 0 ? std::string("none (no industry model)")
                                        : model.industries[rows[k].main].name;
    if (rows[k].aux >= 0) name += " + " + model.industries[rows[k].aux].name;
    os << fmt("    %5.1f%% of households  ", 100.0 * rows[k].household_share, 0.0) << name << "\n";
  }
  std::size_t infeasible = 0;
  for (std::size_t h = 0; h < model.households.count(); ++h)
    infeasible += model.households.feasible_portfolios[h] == 0;
  if (s.choice.rule != ChoiceRule::fixed)
    os << "    " << infeasible
       << " households have no feasible portfolio (land, forest, labor or cash)\n";
}

void print_summary(std::ostream& os, const Model& model, const RunResults& res, double seconds,
                   double model_seconds) {
  const double hh_years = double(model.households.count()) * model.years * double(res.replications);
  os << "scenario " << model.scenario.name << ": " << model.households.count() << " households, "
     << model.persons << " persons, " << model.years << " years, " << res.replications
     << " replications, seed " << model.scenario.seed << "\n";
  os << fmt("simulated %.3g household-years in %.2f s", hh_years, seconds)
     << fmt(" (%.1f M household-years/s)\n", hh_years / seconds / 1e6, 0.0)
     << fmt("model and choice of portfolios: %.2f s\n", model_seconds, 0.0);
  if (!res.convergence.empty()) {
    const ConvergenceTarget& target = model.scenario.output.target;
    const ConvergenceRow& last = res.convergence.back();
    os << "convergence: " << target.measure << " in year " << target.year << " = "
       << fmt("%.6g (se %.3g)", last.estimate, last.standard_error) << " after " << res.replications
       << " of at most " << res.replications_requested << " replications"
       << (res.replications < res.replications_requested ? " (target met)\n"
                                                         : " (maximum reached)\n");
  }
  print_portfolios(os, model);
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
  if (res.insurance.empty()) return;

  // Payouts and costs: per product, horizon totals (mean over replications) and the worst
  // year's loss ratio; then the government's share of premiums next to dibao.
  os << "\n  insurance, horizon totals   premiums, yuan   subsidy, yuan   payouts, yuan"
        "   loss ratio   paid share\n";
  double subsidies = 0.0;
  for (const InsuranceResult& ins : res.insurance) {
    double premium = 0.0, subsidy = 0.0, payout = 0.0, paid = 0.0, years = 0.0;
    for (int t = 0; t < model.years; ++t) {
      premium += ins.premium.mean[t];
      subsidy += ins.subsidy.mean[t];
      payout += ins.payout.mean[t];
      if (!std::isnan(ins.paid_share.mean[t])) paid += ins.paid_share.mean[t], years += 1.0;
    }
    subsidies += subsidy;
    char line[200];
    std::snprintf(line, sizeof line, "  %-26s %14.0f %15.0f %14.0f %12.2f %11.1f%%\n",
                  ins.name.c_str(), premium, subsidy, payout,
                  premium > 0.0 ? payout / premium : 0.0, years > 0 ? 100.0 * paid / years : 0.0);
    os << line;
  }
  double dibao = 0.0;
  for (int t = 0; t < model.years; ++t) dibao += res.dibao.mean[t];
  os << fmt("  premium subsidies %.0f yuan and dibao %.0f yuan over the horizon", subsidies, dibao)
     << " (both in government cost);\n  per-year values with standard errors: /insurance and"
        " /fiscal in the output file\n";
}

}  // namespace incsim::cli
