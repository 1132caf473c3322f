// `incsim compare A.h5 B.h5 [--csv FILE]`: the headline measures of two run results per year,
// the difference B - A and its Monte Carlo standard error.
//
// Paired when both runs share the seed, the replication count and the population (the same
// households: /households/id, size, poor, laborers, land and capital compared element by
// element): replication r of A and of B then use the same random numbers (MODEL.md section
// 10, common random numbers), and the standard error of the difference is that of the
// per-replication differences, sd(B_r - A_r) / sqrt(R), computed by the same function and in
// the same order as a sweep's `<measure>_diff_se`, so comparing two runs gives bit for bit
// the standard error the sweep reports for the same two points. Otherwise unpaired:
// sqrt(se_A^2 + se_B^2), and the output says why.
#include <hdf5.h>

#include <charconv>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <map>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "cli/cli.h"
#include "incsim/hdf5.h"
#include "incsim/scenario.h"
#include "incsim/stats.h"

namespace incsim::cli {
namespace {

struct Measure {
  std::string name;          // as in a sweep table: mean_income, fgt0, ...
  std::string title;         // for the table's heading
  std::string estimate;      // the run's dataset (with `_se` beside it)
  std::string replications;  // the per-replication rows
  double scale = 1.0;        // shown as value x scale
  int precision = 1;
};

std::vector<Measure> measures() {
  std::vector<Measure> m = {
      {"mean_income", "mean income, yuan per capita", "/income/mean", "/replications/mean_income",
       1.0, 0},
      {"fgt0", "headcount FGT0, % of persons (difference: percentage points)", "/poverty/fgt0",
       "/replications/fgt0", 100.0, 3},
      {"fgt1", "poverty gap FGT1, index x 100", "/poverty/fgt1", "/replications/fgt1", 100.0, 4},
      {"fgt2", "poverty severity FGT2, index x 100", "/poverty/fgt2", "/replications/fgt2", 100.0,
       4},
      {"government_cost", "government cost, yuan", "/fiscal/government_cost",
       "/replications/government_cost", 1.0, 0},
  };
  for (int p = 0; p < kProducts; ++p) {
    const std::string product = kProductTable[p].name;
    m.push_back({"payout_" + product, std::string(kProductTable[p].label) + " payouts, yuan",
                 "/insurance/" + product + "/payout", "/replications/payout_" + product, 1.0, 0});
  }
  return m;
}

struct Run {
  std::string path;
  h5::File file;
  std::uint64_t seed = 0;
  std::int64_t replications = 0;
  std::vector<std::int64_t> years;
  std::string name, overrides;

  bool has(const std::string& path_in_file) const { return file.root().exists(path_in_file); }
};

bool has_root_attribute(const h5::File& f, const std::string& name) {
  return H5Aexists_by_name(f.id(), "/", name.c_str(), H5P_DEFAULT) > 0;
}

std::string attribute_text(const h5::File& f, const std::string& name) {
  return has_root_attribute(f, name) ? h5::read_string_attribute(f, "/", name) : "";
}

std::optional<Run> open_run(const std::string& path) {
  std::optional<h5::File> file = open_result_file(path, "compare");
  if (!file) return std::nullopt;
  const h5::Group root = file->root();
  if (root.exists("/sweep/point")) {
    std::cerr << "incsim compare: " << path
              << " is a sweep result: its table already holds each point's difference from "
                 "point 0 (/sweep/<measure>_diff, _diff_se; `incsim inspect` prints them); "
                 "compare takes two run results\n";
    return std::nullopt;
  }
  if (!has_root_attribute(*file, "incsim_version") || !root.exists("/income/mean") ||
      !root.exists("/year") || !has_root_attribute(*file, "seed") ||
      !has_root_attribute(*file, "replications")) {
    std::cerr << "incsim compare: " << path
              << " is not an incsim run result (no incsim_version, seed or replications "
                 "attribute, /year or /income/mean)\n";
    return std::nullopt;
  }
  Run run{path, std::move(*file), 0, 0, {}, {}, {}};
  run.seed = h5::read_uint64_attribute(run.file, "/", "seed");
  run.replications = h5::read_int64_attribute(run.file, "/", "replications");
  run.years = h5::read_int64s(run.file, "/year");
  run.name = attribute_text(run.file, "scenario_name");
  if (has_root_attribute(run.file, "overrides"))
    for (const std::string& o : h5::read_strings_attribute(run.file, "/", "overrides"))
      run.overrides += (run.overrides.empty() ? "" : "; ") + o;
  return run;
}

// Why the runs cannot be paired (empty: they can).
std::string unpaired_reason(const Run& a, const Run& b) {
  if (a.seed != b.seed)
    return "the seeds differ (" + std::to_string(a.seed) + " and " + std::to_string(b.seed) + ")";
  if (a.replications != b.replications)
    return "the replication counts differ (" + std::to_string(a.replications) + " and " +
           std::to_string(b.replications) + ")";
  for (const char* column :
       {"/households/id", "/households/size", "/households/poor", "/households/laborers",
        "/households/farmland_mu", "/households/forest_mu", "/households/capital"}) {
    const std::string c = column;
    if (!a.has(c) || !b.has(c)) return "a population table is missing (" + c + ")";
    const bool same = c == "/households/id"
                          ? h5::read_strings(a.file, c) == h5::read_strings(b.file, c)
                          : h5::read_doubles(a.file, c) == h5::read_doubles(b.file, c);
    if (!same) return "the populations differ (" + c + ")";
  }
  return "";
}

std::string number(double value, int precision) {
  if (std::isnan(value)) return "-";
  char text[64];
  std::snprintf(text, sizeof text, "%.*f", precision, value);
  return text;
}

// The shortest text that reads back to the same double (NaN and infinities as R reads them).
std::string exact(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "Inf" : "-Inf";
  char text[40];
  const auto end = std::to_chars(text, text + sizeof text, value).ptr;
  return std::string(text, end);
}

std::string pad(const std::string& text, std::size_t width) {
  return text.size() >= width ? text : std::string(width - text.size(), ' ') + text;
}

}  // namespace

int compare_files(const std::string& path_a, const std::string& path_b, const std::string& csv,
                  std::ostream& os) {
  std::optional<Run> a = open_run(path_a);
  if (!a) return 1;
  std::optional<Run> b = open_run(path_b);
  if (!b) return 1;
  // The calendar years both runs cover.
  std::vector<std::pair<std::size_t, std::size_t>> years;  // (index in A, index in B)
  for (std::size_t i = 0; i < a->years.size(); ++i)
    for (std::size_t j = 0; j < b->years.size(); ++j)
      if (a->years[i] == b->years[j]) years.emplace_back(i, j);
  if (years.empty()) {
    std::cerr << "incsim compare: the runs share no calendar year (" << path_a << ": "
              << a->years.front() << "-" << a->years.back() << ", " << path_b << ": "
              << b->years.front() << "-" << b->years.back() << ")\n";
    return 1;
  }
  const std::string reason = unpaired_reason(*a, *b);
  const bool paired = reason.empty();

  os << "incsim compare: B - A\n";
  for (const Run* r : {&*a, &*b}) {
    os << "  " << (r == &*a ? "A" : "B") << "  " << r->path << ": " << r->name << ", seed "
       << r->seed << ", " << r->replications
       << " replications, overrides: " << (r->overrides.empty() ? "none" : r->overrides) << "\n";
  }
  if (paired)
    os << "  standard errors: paired (same seed, " << a->replications
       << " replications and population: common random numbers), sd(B_r - A_r) / sqrt(R)\n";
  else
    os << "  standard errors: unpaired, sqrt(se_A^2 + se_B^2), because " << reason << "\n";
  if (years.size() != a->years.size() || years.size() != b->years.size())
    os << "  years: only the " << years.size() << " calendar years both runs cover\n";
  os << "  * marks |B - A| > 1.96 standard errors\n";

  std::string rows = "measure,year,a,a_se,b,b_se,difference,difference_se,paired\n";
  for (const Measure& m : measures()) {
    const bool in_a = a->has(m.estimate), in_b = b->has(m.estimate);
    if (!in_a && !in_b) continue;
    const std::size_t ta = a->years.size(), tb = b->years.size();
    // A product that one run does not configure pays nothing there, as in a sweep.
    const auto values = [](const Run& r, const std::string& path, std::size_t n) {
      return r.has(path) ? h5::read_doubles(r.file, path) : std::vector<double>(n, 0.0);
    };
    const std::vector<double> ma = values(*a, m.estimate, ta), mb = values(*b, m.estimate, tb);
    const std::vector<double> sa = values(*a, m.estimate + "_se", ta),
                              sb = values(*b, m.estimate + "_se", tb);
    if (ma.size() != ta || mb.size() != tb || sa.size() != ta || sb.size() != tb)
      throw std::runtime_error(m.estimate + " does not hold one value per year");
    std::vector<double> ra, rb;
    const bool rows_known =
        paired && (a->has(m.replications) || !in_a) && (b->has(m.replications) || !in_b);
    if (rows_known) {
      const std::size_t cells = static_cast<std::size_t>(a->replications);
      ra = values(*a, m.replications, cells * ta);
      rb = values(*b, m.replications, cells * tb);
      if (ra.size() != cells * ta || rb.size() != cells * tb)
        throw std::runtime_error(m.replications + " does not hold replications x years values");
    }
    os << "\n  " << m.title << (paired && !rows_known ? " (unpaired: no replication rows)" : "")
       << "\n    year" << pad("A", 14) << pad("B", 14) << pad("B - A", 14) << pad("se", 12) << "\n";
    for (const auto& [i, j] : years) {
      const double difference = mb[j] - ma[i];
      double se = std::sqrt(sa[i] * sa[i] + sb[j] * sb[j]);
      if (rows_known) {
        std::vector<double> d(static_cast<std::size_t>(a->replications));
        for (std::size_t r = 0; r < d.size(); ++r) d[r] = rb[r * tb + j] - ra[r * ta + i];
        se = mean_and_se(d, 1, 0, d.size()).se[0];
      }
      const bool significant = se > 0 ? std::fabs(difference) > 1.96 * se : difference != 0;
      os << "    " << a->years[i] << pad(number(ma[i] * m.scale, m.precision), 14)
         << pad(number(mb[j] * m.scale, m.precision), 14)
         << pad(number(difference * m.scale, m.precision), 14)
         << pad(number(se * m.scale, m.precision), 12) << (significant ? " *" : "") << "\n";
      rows += m.name + "," + std::to_string(a->years[i]) + "," + exact(ma[i]) + "," + exact(sa[i]) +
              "," + exact(mb[j]) + "," + exact(sb[j]) + "," + exact(difference) + "," + exact(se) +
              "," + (rows_known ? "1" : "0") + "\n";
    }
  }
  if (!csv.empty()) {
    h5::write_text_file(csv, rows);
    os << "\n  wrote " << csv << " (one row per measure and year, values unscaled)\n";
  }
  return 0;
}

}  // namespace incsim::cli
