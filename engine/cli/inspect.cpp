// `incsim inspect OUT.h5`: the headline tables of a finished result file, read back through the
// HDF5 helpers of incsim/hdf5.h (never from the engine's in-memory results), so what is printed
// is what an analyst will find in the file. Optional parts (relapse, groups, insurance, ...)
// are printed only when present. A sweep result prints its /sweep table instead.
#include <hdf5.h>

#include <algorithm>
#include <cmath>
#include <cstdarg>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <numeric>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "cli/cli.h"
#include "incsim/hdf5.h"

namespace incsim::cli {
namespace {

__attribute__((format(printf, 1, 2))) std::string strf(const char* format, ...) {
  va_list args;
  va_start(args, format);
  va_list again;
  va_copy(again, args);
  const int size = std::vsnprintf(nullptr, 0, format, args);
  va_end(args);
  std::string out(static_cast<std::size_t>(std::max(size, 0)), '\0');
  std::vsnprintf(out.data(), out.size() + 1, format, again);
  va_end(again);
  return out;
}

// Terminal columns a UTF-8 text takes: 2 for East Asian wide and full-width characters (CJK
// names of industries, villages, scenarios), 0 for combining marks, 1 otherwise.
std::size_t display_width(const std::string& text) {
  std::size_t width = 0;
  for (std::size_t i = 0; i < text.size();) {
    const auto byte = static_cast<unsigned char>(text[i]);
    std::uint32_t cp = byte;
    std::size_t length = 1;
    if (byte >= 0xF0) {
      length = 4;
      cp = byte & 0x07;
    } else if (byte >= 0xE0) {
      length = 3;
      cp = byte & 0x0F;
    } else if (byte >= 0xC0) {
      length = 2;
      cp = byte & 0x1F;
    }
    for (std::size_t k = 1; k < length && i + k < text.size(); ++k)
      cp = (cp << 6) | (static_cast<unsigned char>(text[i + k]) & 0x3F);
    i += length;
    const bool combining = (cp >= 0x0300 && cp <= 0x036F) || (cp >= 0x20D0 && cp <= 0x20FF) ||
                           (cp >= 0xFE20 && cp <= 0xFE2F);
    const bool wide = (cp >= 0x1100 && cp <= 0x115F) || (cp >= 0x2E80 && cp <= 0xA4CF) ||
                      (cp >= 0xAC00 && cp <= 0xD7A3) || (cp >= 0xF900 && cp <= 0xFAFF) ||
                      (cp >= 0xFE30 && cp <= 0xFE4F) || (cp >= 0xFF00 && cp <= 0xFF60) ||
                      (cp >= 0xFFE0 && cp <= 0xFFE6) || (cp >= 0x20000 && cp <= 0x3FFFD);
    width += combining ? 0 : wide ? 2 : 1;
  }
  return width;
}

// `text` followed by blanks up to `width` terminal columns (printf's %-*s counts bytes, which
// misaligns the columns after a Chinese name).
std::string pad_right(const std::string& text, std::size_t width) {
  const std::size_t w = display_width(text);
  return w >= width ? text : text + std::string(width - w, ' ');
}

// "value (se)" in fixed columns (value right-aligned, "(se)" left-aligned); NaN (e.g. relapse
// in year 1) prints as "-".
std::string with_se(double value, double se, int precision, double scale = 1.0, int value_width = 9,
                    int se_width = 9) {
  if (std::isnan(value)) return strf("%*s %-*s", value_width, "-", se_width, "");
  const std::string se_text = strf("(%.*f)", precision, scale * se);
  return strf("%*.*f %-*s", value_width, precision, scale * value, se_width, se_text.c_str());
}

// The header cell over a with_se() column.
std::string se_header(const char* name, int value_width = 9, int se_width = 9) {
  return strf("%*s %-*s", value_width, name, se_width, "(se)");
}

// Writes one table row without trailing blanks.
void row(std::ostream& os, std::string text) {
  text.erase(text.find_last_not_of(' ') + 1);
  os << text << "\n";
}

class Reader {
 public:
  explicit Reader(h5::File& file) : file_(file), root_(file.root()) {}
  bool has(const std::string& path) const { return root_.exists(path); }
  std::vector<double> doubles(const std::string& path) const {
    return h5::read_doubles(file_, path);
  }
  std::vector<std::string> strings(const std::string& path) const {
    return h5::read_strings(file_, path);
  }
  // The dataset, which must hold n values (e.g. one per year).
  std::vector<double> series(const std::string& path, std::size_t n) const {
    std::vector<double> values = doubles(path);
    if (values.size() != n)
      throw std::runtime_error(path + " holds " + std::to_string(values.size()) +
                               " values, expected " + std::to_string(n));
    return values;
  }
  // The same, or NaNs when the dataset is absent.
  std::vector<double> series_or_nan(const std::string& path, std::size_t n) const {
    return has(path) ? series(path, n) : std::vector<double>(n, std::nan(""));
  }
  std::string text(const std::string& name) const {
    return has_attribute(name) ? h5::read_string_attribute(file_, "/", name) : "?";
  }
  std::string integer(const std::string& name) const {
    return has_attribute(name) ? std::to_string(h5::read_int64_attribute(file_, "/", name)) : "?";
  }
  // Seeds are unsigned 64-bit: read them as such, not through int64.
  std::string unsigned_integer(const std::string& name) const {
    // Through the checked reader: type and element count are verified before reading.
    return has_attribute(name) ? std::to_string(h5::read_uint64_attribute(file_, "/", name)) : "?";
  }
  std::vector<std::string> texts(const std::string& name) const {
    return has_attribute(name) ? h5::read_strings_attribute(file_, "/", name)
                               : std::vector<std::string>{};
  }
  bool has_attribute(const std::string& name) const {
    return H5Aexists_by_name(file_.id(), "/", name.c_str(), H5P_DEFAULT) > 0;
  }

 private:
  h5::File& file_;
  h5::Group root_;
};

std::string join(const std::vector<std::string>& parts, const std::string& separator) {
  std::string out;
  for (std::size_t i = 0; i < parts.size(); ++i) out += (i ? separator : "") + parts[i];
  return out;
}

void print_metadata(std::ostream& os, const Reader& r, const std::vector<std::int64_t>& years) {
  os << "  scenario      " << r.text("scenario_name") << " (" << r.text("scenario_file") << ")\n";
  const std::vector<std::string> overrides = r.texts("overrides");
  if (!overrides.empty()) os << "  overrides     " << join(overrides, ", ") << "\n";
  os << "  version       incsim " << r.text("incsim_version") << ", output schema "
     << r.text("schema_version") << "\n";
  os << "  seed          " << r.unsigned_integer("seed") << "\n";
  os << "  replications  " << r.integer("replications") << "\n";
  os << "  households    " << r.integer("households") << "\n";
  os << "  persons       " << r.integer("persons") << "\n";
  os << "  years         " << years.size();
  if (!years.empty()) os << " (" << years.front() << "-" << years.back() << ")";
  os << "\n  created       " << r.text("created_utc") << "\n";
}

void print_income(std::ostream& os, const Reader& r, const std::vector<std::int64_t>& years) {
  const std::size_t n = years.size();
  const std::vector<double> mean = r.series("/income/mean", n);
  const std::vector<double> se = r.series_or_nan("/income/mean_se", n);
  const std::vector<double> levels =
      r.has("/quantile") ? r.doubles("/quantile") : std::vector<double>{};
  const std::vector<double> q =
      r.has("/income/quantiles") ? r.doubles("/income/quantiles") : std::vector<double>{};
  const double wanted[] = {0.05, 0.5, 0.95};
  long column[3];
  for (int k = 0; k < 3; ++k) {
    const auto it = std::find_if(levels.begin(), levels.end(),
                                 [&](double p) { return std::abs(p - wanted[k]) < 1e-9; });
    column[k] = it == levels.end() || q.size() != n * levels.size() ? -1 : it - levels.begin();
  }
  os << "\nIncome per capita, yuan (person-weighted; se = Monte Carlo standard error)\n";
  row(os, "  year  " + se_header("mean") + strf("  %9s  %9s  %9s", "q05", "q50", "q95"));
  for (std::size_t t = 0; t < n; ++t) {
    std::string line =
        strf("  %lld  ", static_cast<long long>(years[t])) + with_se(mean[t], se[t], 1);
    for (long c : column) {
      if (c < 0)
        line += strf("  %9s", "n/a");
      else
        line += strf("  %9.0f", q[t * levels.size() + static_cast<std::size_t>(c)]);
    }
    row(os, line);
  }
}

void print_poverty(std::ostream& os, const Reader& r, const std::vector<std::int64_t>& years,
                   double exit_target) {
  const std::size_t n = years.size();
  const auto get = [&](const std::string& name) { return r.series_or_nan("/poverty/" + name, n); };
  const std::vector<double> line = get("line"), fgt0 = get("fgt0"), fgt0_se = get("fgt0_se"),
                            fgt1 = get("fgt1"), fgt1_se = get("fgt1_se"), fgt2 = get("fgt2"),
                            fgt2_se = get("fgt2_se"), relapse = get("relapse"),
                            relapse_se = get("relapse_se"), risk = get("target_risk"),
                            risk_se = get("target_risk_se");
  os << "\nPoverty (FGT0 headcount and relapse: % of persons; FGT1 gap and FGT2 severity: "
        "index x 100; line: yuan per capita)\n";
  const std::string risk_name = std::isnan(exit_target) ? std::string("P(FGT0>target)")
                                                        : strf("P(FGT0>%g%%)", 100.0 * exit_target);
  row(os, "  year    line  " + se_header("FGT0") + "  " + se_header("FGT1") + "  " +
              se_header("FGT2") + "  " + se_header("relapse") + "  " +
              se_header(risk_name.c_str(), 14));
  for (std::size_t t = 0; t < n; ++t) {
    row(os, strf("  %lld  %6.0f  ", static_cast<long long>(years[t]), line[t]) +
                with_se(fgt0[t], fgt0_se[t], 3, 100) + "  " + with_se(fgt1[t], fgt1_se[t], 3, 100) +
                "  " + with_se(fgt2[t], fgt2_se[t], 3, 100) + "  " +
                with_se(relapse[t], relapse_se[t], 3, 100) + "  " +
                with_se(risk[t], risk_se[t], 4, 1.0, 14));
  }
  if (r.has("/poverty/registered_share")) {
    const std::vector<double> share = get("registered_share"),
                              share_se = get("registered_share_se");
    std::string text = "  poor who are registered, % (se):";
    for (std::size_t t = 0; t < n; ++t)
      text += strf("%s %lld ", t ? "," : "", static_cast<long long>(years[t])) +
              with_se(share[t], share_se[t], 2, 100, 0, 0);
    row(os, text);
  }
  if (r.has("/poverty/ever_poor")) {
    const double ever = r.doubles("/poverty/ever_poor").at(0);
    const double ever_se = r.series_or_nan("/poverty/ever_poor_se", 1).at(0);
    os << strf("  ever poor %.3f%% (se %.3f)", 100.0 * ever, 100.0 * ever_se);
    if (r.has("/poverty/vulnerable_share_horizon"))
      os << strf("; vulnerable (horizon mean) %.3f%%",
                 100.0 * r.doubles("/poverty/vulnerable_share_horizon").at(0));
    os << "\n";
  }
}

void print_government_cost(std::ostream& os, const Reader& r,
                           const std::vector<std::int64_t>& years) {
  if (!r.has("/fiscal/government_cost")) return;
  const std::vector<double> cost = r.series("/fiscal/government_cost", years.size());
  const std::vector<double> se = r.series_or_nan("/fiscal/government_cost_se", years.size());
  os << "\nGovernment cost, yuan per year (premium subsidies, posts, transfers, dibao, setup "
        "subsidies"
     << (r.has("/fiscal/health_reimbursement") ? ", medical reimbursements)\n" : ")\n");
  row(os, "  year  " + se_header("cost", 13));
  for (std::size_t t = 0; t < years.size(); ++t)
    row(os,
        strf("  %lld  ", static_cast<long long>(years[t])) + with_se(cost[t], se[t], 0, 1.0, 13));
}

// Medical costs, reimbursement and impoverishment per year (v2, /health).
void print_health(std::ostream& os, const Reader& r, const std::vector<std::int64_t>& years) {
  if (!r.has("/health/cost")) return;
  const std::size_t n = years.size();
  const auto series = [&](const std::string& name) { return r.series("/health/" + name, n); };
  const auto se = [&](const std::string& name) {
    return r.series_or_nan("/health/" + name + "_se", n);
  };
  const std::vector<double> cost = series("cost"), reimbursed = series("reimbursed");
  const std::vector<double> oop = series("out_of_pocket"), oop_se = se("out_of_pocket");
  const std::vector<double> episodes = series("episodes_per_person");
  const std::vector<double> impoverished = series("impoverished"), imp_se = se("impoverished");
  os << "\nHealth, per year (medical costs, yuan; reimbursed by public schemes; paid out of "
        "pocket)\n";
  row(os, "  year        medical cost    reimbursed   share  " + se_header("out of pocket", 13) +
              "  episodes/person  " + se_header("impoverished, %", 8));
  for (std::size_t t = 0; t < n; ++t)
    row(os, strf("  %lld  %18.0f  %12.0f  %5.1f%%  ", static_cast<long long>(years[t]), cost[t],
                 reimbursed[t], cost[t] > 0.0 ? 100.0 * reimbursed[t] / cost[t] : 0.0) +
                with_se(oop[t], oop_se[t], 0, 1.0, 13) + strf("  %15.3f  ", episodes[t]) +
                with_se(impoverished[t], imp_se[t], 3, 100.0, 8));
}

// Two tables per grouping: headcount and mean income, one column per year.
void print_groups(std::ostream& os, const Reader& r, const std::vector<std::int64_t>& years,
                  const std::string& grouping, const std::string& title) {
  const std::string base = "/groups/" + grouping;
  if (!r.has(base + "/labels") || !r.has(base + "/fgt0") || !r.has(base + "/income_mean")) return;
  const std::vector<std::string> labels = r.strings(base + "/labels");
  const std::size_t n = years.size();
  const std::vector<double> persons = r.series_or_nan(base + "/persons", labels.size());
  const std::vector<double> fgt0 = r.series(base + "/fgt0", labels.size() * n);
  const std::vector<double> income = r.series(base + "/income_mean", labels.size() * n);
  const bool health = r.has(base + "/health_out_of_pocket");
  const std::vector<double> oop =
      health ? r.series(base + "/health_out_of_pocket", labels.size() * n) : std::vector<double>{};
  std::size_t width = 5;
  for (const std::string& l : labels) width = std::max(width, display_width(l));
  bool empty_group = false;
  const auto header = [&](const std::string& what) {
    os << "\n" << title << ": " << what << "\n";
    std::string line = "  " + pad_right("group", width) + strf("  %10s", "persons");
    for (std::int64_t y : years) line += strf("  %9lld", static_cast<long long>(y));
    row(os, line);
  };
  const auto rows = [&](const std::vector<double>& values, double scale, int precision) {
    for (std::size_t g = 0; g < labels.size(); ++g) {
      std::string line = "  " + pad_right(labels[g], width) + strf("  %10.0f", persons[g]);
      // A group without persons (an industry no household runs) has no headcount or mean.
      const bool empty = persons[g] == 0;
      empty_group = empty_group || empty;
      for (std::size_t t = 0; t < n; ++t)
        line += empty || std::isnan(values[g * n + t])
                    ? strf("  %9s", "-")
                    : strf("  %9.*f", precision, scale * values[g * n + t]);
      row(os, line);
    }
  };
  header("headcount, % of persons");
  rows(fgt0, 100.0, 3);
  header("mean income, yuan per capita");
  rows(income, 1.0, 1);
  if (!health) {
    if (empty_group) os << "  (-: no persons in the group)\n";
    return;
  }
  header("out-of-pocket medical costs, yuan per year");
  rows(oop, 1.0, 0);
  if (empty_group) os << "  (-: no persons in the group)\n";
}

void print_insurance(std::ostream& os, const Reader& r, const std::vector<std::int64_t>& years) {
  const std::size_t n = years.size();
  for (const ProductDescriptor& descriptor : kProductTable) {
    const char* product = descriptor.name;
    const std::string base = std::string("/insurance/") + product;
    if (!r.has(base + "/premium")) continue;
    const auto get = [&](const std::string& name) { return r.series_or_nan(base + "/" + name, n); };
    const std::vector<double> premium = get("premium"), premium_se = get("premium_se"),
                              subsidy = get("subsidy"), payout = get("payout"),
                              payout_se = get("payout_se"), loss = get("loss_ratio"),
                              loss_se = get("loss_ratio_se"), paid = get("paid_share");
    std::vector<double> result = get("insurer_result");
    for (std::size_t t = 0; t < n; ++t)
      if (std::isnan(result[t])) result[t] = premium[t] - payout[t];
    os << "\nInsurance: " << product << ", yuan per year\n"
       << "  (loss ratio = E[payout] / E[premium]; paid share = % of enrolled households exposed "
          "that were paid; insurer result = premiums - payouts)\n";
    row(os, "  year  " + se_header("premium", 11, 8) + "  " + strf("%11s", "subsidy") + "  " +
                se_header("payout", 11, 10) + "  " + se_header("loss ratio", 10) + "  " +
                strf("%10s  %14s", "paid share", "insurer result"));
    for (std::size_t t = 0; t < n; ++t) {
      row(os, strf("  %lld  ", static_cast<long long>(years[t])) +
                  with_se(premium[t], premium_se[t], 0, 1.0, 11, 8) +
                  strf("  %11.0f  ", subsidy[t]) +
                  with_se(payout[t], payout_se[t], 0, 1.0, 11, 10) + "  " +
                  with_se(loss[t], loss_se[t], 3, 1.0, 10) +
                  strf("  %10.2f  %14.0f", 100.0 * paid[t], result[t]));
    }
  }
}

// A number the scenario ran with, from the `scenario` text ("exit_target: 0.02"), or
// `fallback` when it cannot be found.
double scenario_number(const Reader& r, const std::string& key, double fallback) {
  const std::string text = r.text("scenario");
  const std::size_t at = text.find(key + ":");
  if (at == std::string::npos) return fallback;
  try {
    return std::stod(text.substr(at + key.size() + 1));
  } catch (const std::exception&) {
    return fallback;
  }
}

// Basis risk (MODEL.md section 9) per product, covered industry and harvest year, then the
// CE gain per registered-poor group.
void print_protection(std::ostream& os, const Reader& r, const std::vector<std::int64_t>& years) {
  const std::size_t n = years.size();
  const char* variants[] = {"agricultural", "income_index", "double"};
  bool header_done = false;
  for (const char* v : variants) {
    const std::string base = std::string("/insurance/") + v + "/basis_risk";
    if (!r.has(base + "/industries")) continue;
    const std::vector<std::string> industries = r.strings(base + "/industries");
    const std::size_t cells = industries.size() * n;
    const auto get = [&](const std::string& name) { return r.series(base + "/" + name, cells); };
    const std::vector<double> missed = get("missed"), missed_se = get("missed_se"),
                              alarm = get("false_alarm"), alarm_se = get("false_alarm_se"),
                              covered = get("covered"), covered_se = get("covered_se");
    if (!header_done) {
      header_done = true;
      os << "\nBasis risk: does the insurance pay when the household loses? %, (se)\n"
         << strf(
                "  (a loss: revenue below %g x expected revenue; missed = %% of losses paid "
                "nothing; false alarm = %% of payments\n   made without a loss; covered = %% "
                "of the shortfall paid; harvest years only)\n",
                scenario_number(r, "basis_risk_reference", 0.8));
    }
    std::size_t width = 8;
    for (const std::string& name : industries) width = std::max(width, display_width(name));
    os << "  " << v << "\n";
    row(os, "    " + pad_right("industry", width) + "  year  " + se_header("missed", 7, 7) + "  " +
                se_header("false alarm", 11, 7) + "  " + se_header("covered", 7, 7));
    for (std::size_t i = 0; i < industries.size(); ++i)
      for (std::size_t t = 0; t < n; ++t) {
        const std::size_t c = i * n + t;
        if (std::isnan(missed[c]) && std::isnan(alarm[c]) && std::isnan(covered[c])) continue;
        row(os, "    " + pad_right(industries[i], width) +
                    strf("  %lld  ", static_cast<long long>(years[t])) +
                    with_se(missed[c], missed_se[c], 1, 100.0, 7, 7) + "  " +
                    with_se(alarm[c], alarm_se[c], 1, 100.0, 11, 7) + "  " +
                    with_se(covered[c], covered_se[c], 1, 100.0, 7, 7));
      }
  }
  if (!r.has("/group_poor")) return;
  const std::vector<std::string> groups = r.strings("/group_poor");
  bool value_done = false;
  for (const char* v : {"agricultural", "income_index", "poverty_guard", "double"}) {
    const std::string base = std::string("/insurance/") + v;
    if (!r.has(base + "/ce_gain")) continue;
    const std::vector<double> gain = r.series(base + "/ce_gain", groups.size());
    const std::vector<double> se = r.series_or_nan(base + "/ce_gain_se", groups.size());
    const std::vector<double> holders = r.series_or_nan(base + "/ce_holders", groups.size());
    if (!value_done) {
      value_done = true;
      os << "\nProtection value: certainty-equivalent gain of the households holding the "
            "product, yuan per capita per year\n"
         << "  (CE of income as simulated - CE without the product's payouts and premium "
            "shares; double = agricultural and income index together; jackknife se)\n";
      std::string line = "  " + pad_right("product", 13);
      for (const std::string& g : groups)
        line += "  " + se_header(g.c_str(), 9, 8) + strf("  %9s", "persons");
      row(os, line);
    }
    std::string line = "  " + pad_right(v, 13);
    for (std::size_t g = 0; g < groups.size(); ++g)
      line += "  " + with_se(gain[g], se[g], 1, 1.0, 9, 8) + strf("  %9.0f", holders[g]);
    row(os, line);
  }
}

// ---- sweep results --------------------------------------------------------------------------

// A per-point parameter column as text (numbers or strings).
std::vector<std::string> point_labels(const h5::File& file, const std::string& path) {
  try {
    std::vector<std::string> out;
    for (double v : h5::read_doubles(file, path)) out.push_back(strf("%g", v));
    return out;
  } catch (const h5::H5Error&) {
    return h5::read_strings(file, path);
  }
}

// Portfolio shares per point (/sweep/portfolio_share): the households choose again at every
// point, so a sweep over insurance terms or prices moves them. The five portfolios of largest
// share anywhere, and how far the shares moved from point 0.
void print_sweep_portfolios(std::ostream& os, h5::File& file, const Reader& r,
                            const std::vector<std::int64_t>& index,
                            const std::vector<std::string>& names,
                            const std::vector<std::vector<std::string>>& labels,
                            const std::vector<int>& widths) {
  if (!r.has("/sweep/portfolio_share") || !r.has("/sweep/portfolio_labels")) return;
  const std::vector<std::string> portfolios = h5::read_strings(file, "/sweep/portfolio_labels");
  const std::size_t points = index.size(), np = portfolios.size();
  const std::vector<double> share = r.series_or_nan("/sweep/portfolio_share", points * np);
  if (np == 0) return;
  std::vector<std::size_t> order(np);
  std::iota(order.begin(), order.end(), std::size_t{0});
  auto largest = [&](std::size_t p) {
    double m = 0.0;
    for (std::size_t k = 0; k < points; ++k) m = std::max(m, share[k * np + p]);  // NaN: skipped
    return m;
  };
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t a, std::size_t b) { return largest(a) > largest(b); });
  order.resize(std::min<std::size_t>(order.size(), 5));
  os << "\n  portfolio shares, % of households (they choose again at every point):\n";
  for (std::size_t j = 0; j < order.size(); ++j)
    os << "    P" << j + 1 << " = " << portfolios[order[j]] << "\n";
  std::string header = "  point";
  for (std::size_t i = 0; i < names.size(); ++i)
    header += "  " + pad_right(names[i], static_cast<std::size_t>(widths[i]));
  for (std::size_t j = 0; j < order.size(); ++j) header += strf("       P%zu", j + 1);
  row(os, header + "  moved, pp");
  double most = 0.0;
  std::size_t most_point = 0, most_portfolio = 0;
  for (std::size_t k = 0; k < points; ++k) {
    std::string line = strf("  %5lld", static_cast<long long>(index[k]));
    for (std::size_t i = 0; i < names.size(); ++i)
      line += "  " + pad_right(k < labels[i].size() ? labels[i][k] : "?",
                               static_cast<std::size_t>(widths[i]));
    for (const std::size_t p : order) line += strf("  %7.2f", 100.0 * share[k * np + p]);
    // Half the sum of absolute changes: the share of households on another portfolio at most.
    double moved = 0.0;
    for (std::size_t p = 0; p < np; ++p) {
      const double d = share[k * np + p] - share[p];
      moved += 0.5 * std::abs(d);
      if (std::abs(d) > most) {
        most = std::abs(d);
        most_point = k;
        most_portfolio = p;
      }
    }
    row(os, line + strf("  %9.2f", 100.0 * moved));
  }
  if (most > 0.0)
    os << strf("  largest move: %.2f percentage points of households, ", 100.0 * most)
       << portfolios[most_portfolio] << " at point " << index[most_point] << "\n";
  else
    os << "  the shares are the same at every point\n";
}

// The /sweep table of the last year: per headline measure, each point's value and its
// difference from point 0, with standard errors (the difference's paired by replication).
void print_sweep(std::ostream& os, const std::string& path, h5::File& file, const Reader& r) {
  const std::vector<std::int64_t> years = h5::read_int64s(file, "/sweep/year");
  const std::vector<std::int64_t> index = h5::read_int64s(file, "/sweep/point");
  const std::size_t points = index.size(), n = years.size();
  os << "incsim sweep result " << path << "\n";
  os << "  sweep file    " << r.text("sweep_file") << "\n";
  os << "  base          " << r.text("base_scenario_file") << "\n";
  const std::vector<std::string> overrides = r.texts("overrides");
  if (!overrides.empty()) os << "  overrides     " << join(overrides, ", ") << "\n";
  os << "  mode          " << r.text("mode") << ", " << points << " points, keep " << r.text("keep")
     << "\n";
  os << "  version       incsim " << r.text("incsim_version") << ", output schema "
     << r.text("schema_version") << "\n";
  os << "  seed          " << r.unsigned_integer("seed") << " (common to every point)\n";
  os << "  created       " << r.text("created_utc") << "\n";
  if (points == 0 || n == 0) return;

  std::vector<std::string> names = h5::read_strings_attribute(file, "/sweep", "parameters");
  std::vector<std::vector<std::string>> labels;
  std::vector<int> widths;
  for (const std::string& name : names) {
    labels.push_back(point_labels(file, "/sweep/" + name));
    std::size_t w = display_width(name);
    for (const std::string& l : labels.back()) w = std::max(w, display_width(l));
    widths.push_back(static_cast<int>(w));
  }
  struct Shown {
    std::string name, title;
    double scale;
    int precision;
  };
  std::vector<Shown> shown = {{"mean_income", "mean income, yuan per capita", 1, 1},
                              {"fgt0", "headcount FGT0, %", 100, 3},
                              {"fgt1", "poverty gap FGT1, %", 100, 3},
                              {"fgt2", "poverty severity FGT2, %", 100, 4},
                              {"government_cost", "government cost, yuan", 1, 0},
                              {"target_risk", "target risk P(FGT0 > exit target)", 1, 4}};
  for (const ProductDescriptor& descriptor : kProductTable) {
    const char* product = descriptor.name;
    shown.push_back({std::string("payout_") + product,
                     std::string(product) + " insurance payouts, yuan", 1, 0});
  }
  // Basis risk (MODEL.md section 9), pooled over each product's covered industries.
  for (const char* v : {"agricultural", "income_index", "double"})
    for (const auto& [measure, what] : {std::pair{"missed", "losses paid nothing"},
                                        {"false_alarm", "payments without a loss"},
                                        {"covered", "share of the shortfall paid"}})
      shown.push_back({std::string(measure) + "_" + v,
                       std::string(v) + " insurance, basis risk: " + measure + " (" + what + "), %",
                       100, 2});
  const std::size_t t = n - 1;
  os << "\nSweep table for " << years[t] << ": diff = value - value at point 0"
     << (r.has("/sweep/mean_income_increment") ? "; increment = value - value at the point before"
                                               : "")
     << "\n(standard errors of differences are paired by replication: common random numbers)\n";
  for (const Shown& m : shown) {
    const std::string base = "/sweep/" + m.name;
    if (!r.has(base)) continue;
    const auto get = [&](const std::string& suffix) {
      return r.series_or_nan(base + suffix, points * n);
    };
    const std::vector<double> value = get(""), se = get("_se"), diff = get("_diff"),
                              diff_se = get("_diff_se");
    const bool stack = r.has(base + "_increment");  // mode stack: the effect of each overlay
    const std::vector<double> step = get("_increment"), step_se = get("_increment_se");
    os << "\n  " << m.title << "\n";
    std::string header = "  point";
    for (std::size_t i = 0; i < names.size(); ++i)
      header += "  " + pad_right(names[i], static_cast<std::size_t>(widths[i]));
    header += "  " + se_header("value", 12, 10) + "  " + se_header("diff", 12, 10);
    row(os, header + (stack ? "  " + se_header("increment", 12, 10) : ""));
    for (std::size_t k = 0; k < points; ++k) {
      std::string line = strf("  %5lld", static_cast<long long>(index[k]));
      for (std::size_t i = 0; i < names.size(); ++i)
        line += "  " + pad_right(k < labels[i].size() ? labels[i][k] : "?",
                                 static_cast<std::size_t>(widths[i]));
      const std::size_t c = k * n + t;
      line += "  " + with_se(value[c], se[c], m.precision, m.scale, 12, 10) + "  " +
              with_se(diff[c], diff_se[c], m.precision, m.scale, 12, 10);
      if (stack) line += "  " + with_se(step[c], step_se[c], m.precision, m.scale, 12, 10);
      row(os, line);
    }
  }
  print_sweep_portfolios(os, file, r, index, names, labels, widths);
}

}  // namespace

std::optional<h5::File> open_result_file(const std::string& path, const std::string& command) {
  const std::string prefix = "incsim " + command + ": ";
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) {
    std::cerr << prefix << "no such file: " << path << "\n";
    return std::nullopt;
  }
  if (std::filesystem::is_directory(path, ec)) {
    std::cerr << prefix << path << " is a directory, not an incsim result file\n";
    return std::nullopt;
  }
  if (!std::filesystem::is_regular_file(path, ec)) {  // opening a FIFO would block for ever
    const auto type = std::filesystem::status(path, ec).type();
    const char* kind = type == std::filesystem::file_type::fifo     ? "a FIFO"
                       : type == std::filesystem::file_type::socket ? "a socket"
                                                                    : "a device";
    std::cerr << prefix << path << " is not a regular file (" << kind
              << "), not an incsim result file\n";
    return std::nullopt;
  }
  try {
    return h5::File::open_read(path);
  } catch (const h5::H5Error& e) {
    std::cerr << prefix << path << " is not a readable HDF5 file (" << e.what() << ")\n";
    return std::nullopt;
  }
}

int inspect_file(const std::string& path, std::ostream& os) {
  std::optional<h5::File> file = open_result_file(path, "inspect");
  if (!file) return 1;
  const Reader r(*file);
  if (r.has_attribute("incsim_version") && r.has("/sweep/point") && r.has("/sweep/year")) {
    print_sweep(os, path, *file, r);
    return 0;
  }
  if (!r.has_attribute("incsim_version") || !r.has("/income/mean") || !r.has("/year")) {
    std::cerr << "incsim inspect: " << path
              << " is not an incsim result file (no incsim_version attribute, /year or "
                 "/income/mean)\n";
    return 1;
  }
  const std::vector<std::int64_t> years = h5::read_int64s(*file, "/year");

  os << "incsim result " << path << "\n";
  print_metadata(os, r, years);
  print_income(os, r, years);
  print_poverty(os, r, years, scenario_number(r, "exit_target", std::nan("")));
  print_government_cost(os, r, years);
  print_health(os, r, years);
  print_groups(os, r, years, "main_industry", "Groups by main industry");
  print_groups(os, r, years, "poor", "Groups by poor status");
  if (r.has("/insurance")) {
    print_insurance(os, r, years);
    print_protection(os, r, years);
  }
  return 0;
}

}  // namespace incsim::cli
