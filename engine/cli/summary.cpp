#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
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
  os << why_no_industry(s, model.households.binding_constraint, &model.capacity_used);
}

std::string output_replaces_input(const std::string& output,
                                  const std::vector<std::string>& inputs) {
  for (const std::string& input : inputs) {
    std::error_code error;
    if (!input.empty() && std::filesystem::equivalent(output, input, error))
      return "output " + output + " is the input file " + input +
             ": writing the result would replace it; choose another -o";
  }
  return "";
}

std::string why_no_industry(const Scenario& s, const std::vector<std::uint8_t>& constraint,
                            const std::vector<double>* capacity_used) {
  std::int64_t count[kBindingConstraints] = {};
  for (const std::uint8_t c : constraint) ++count[c < kBindingConstraints ? c : 0];
  const std::int64_t none = static_cast<std::int64_t>(constraint.size()) - count[0];
  if (none == 0) return "";
  std::string bounded;  // the bounded industries, with what was taken when known
  for (std::size_t i = 0; i < s.industries.size(); ++i) {
    const double cap = s.industries[i].capacity;
    if (!std::isfinite(cap)) continue;
    if (!bounded.empty()) bounded += ", ";
    bounded += "industries." + s.industries[i].name + ".capacity";
    if (capacity_used && i < capacity_used->size())
      bounded += fmt(" (%.0f of %g taken)", (*capacity_used)[i], cap);
    else
      bounded += fmt(" (%g)", cap, 0.0);
  }
  // The key an analyst changes to relax each constraint.
  const std::string keys[kBindingConstraints] = {
      "",
      "farmland: population.farmland_mu, or the candidates' needs.farmland_mu",
      "forest: population.forest_mu, or the candidates' needs.forest_mu",
      "labor: population.laborers (and population.poor.laborers), or needs.labor_days",
      "cash for setup: population.capital, or industries.<i>.setup_subsidy",
      "capacity: every portfolio it could run was full when it was served; " + bounded,
      s.choice.rule == ChoiceRule::fixed
          ? std::string("given no portfolio: choice.portfolios shares sum below 1, or an empty "
                        "csv main")
          : std::string("no candidate portfolio"),
  };
  std::vector<int> order;
  for (int c = 1; c < kBindingConstraints; ++c)
    if (count[c] > 0) order.push_back(c);
  std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return count[a] > count[b]; });
  std::string out = "    " + std::to_string(none) + " household" + (none == 1 ? "" : "s") +
                    " run no industry; what binds, most common first (the key to change):\n";
  for (const int c : order)
    out += fmt("    %7.0f  ", static_cast<double>(count[c]), 0.0) + keys[c] + "\n";
  return out;
}

// Registered poor against the others, per year (the `poor` grouping).
void print_poor_groups(std::ostream& os, const Model& model, const RunResults& res) {
  const auto it = std::find_if(res.groups.begin(), res.groups.end(),
                               [](const GroupResult& g) { return g.name == "poor"; });
  if (it == res.groups.end() || it->persons.size() != 2 || it->persons[0] <= 0.0 ||
      it->persons[1] <= 0.0)
    return;
  const GroupResult& g = *it;
  const auto years = static_cast<std::size_t>(model.years);
  const double total = g.persons[0] + g.persons[1];
  os << fmt(
      "\n  registered poor (%.1f%% of persons) vs others: mean income, yuan, and headcount, %%\n",
      100.0 * g.persons[0] / total, 0.0);
  os << "  year   registered poor      others            poor who are registered, % (se)\n";
  for (std::size_t t = 0; t < years; ++t) {
    // /poverty/registered_share: each replication's share, over replications with someone poor.
    const double share = res.registered_share.mean[t], share_se = res.registered_share.se[t];
    os << "  " << res.calendar_years[t] << "   "
       << fmt("%8.0f %7.2f", g.income_mean.mean[t], 100.0 * g.fgt0.mean[t]) << "   "
       << fmt("%8.0f %7.2f", g.income_mean.mean[years + t], 100.0 * g.fgt0.mean[years + t]) << "   "
       << (std::isnan(share)
               ? std::string("       -")
               : fmt("%8.2f", 100.0 * share, 0.0) +
                     (std::isnan(share_se) ? "" : fmt(" (%.2f)", 100.0 * share_se, 0.0)))
       << "\n";
  }
}

// Medical costs, reimbursement and impoverishment per year (MODEL.md sections 7a, 9).
void print_health(std::ostream& os, const Model& model, const RunResults& res) {
  if (!res.health_enabled) return;
  const HealthResult& h = res.health;
  os << "\n  health   medical cost, yuan   reimbursed, yuan   out of pocket, yuan"
        "   episodes/person   impoverished, %\n";
  for (int t = 0; t < model.years; ++t) {
    char line[200];
    std::snprintf(line, sizeof line, "  %d %20.0f %18.0f %21.0f %17.3f %17.3f\n",
                  res.calendar_years[t], h.cost.mean[t], h.reimbursed.mean[t],
                  h.out_of_pocket.mean[t], h.episodes_per_person.mean[t],
                  100.0 * h.impoverished.mean[t]);
    os << line;
  }
  double cost = 0.0, reimbursed = 0.0;
  for (int t = 0; t < model.years; ++t) cost += h.cost.mean[t], reimbursed += h.reimbursed.mean[t];
  os << fmt("  reimbursed share %.2f%% over the horizon (reimbursements are in gov. cost)",
            cost > 0.0 ? 100.0 * reimbursed / cost : 0.0, 0.0)
     << (model.health.deduct ? "" : "; out-of-pocket costs not deducted from income") << "\n";
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
  print_poor_groups(os, model, res);
  print_health(os, model, res);
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
