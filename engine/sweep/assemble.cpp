// Assembly of a sweep result from its point files: /points/<k> trees and the /sweep table
// (MODEL.md section 11). Differences between points are paired by replication: with common
// random numbers replication r of every point sees the same shocks, so the standard error of
// a difference is the spread of the per-replication differences, sd(x_k - x_0) / sqrt(R).
#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>
#include <optional>

#include "incsim/hdf5.h"
#include "incsim/version.h"
#include "sweep/internal.h"

namespace incsim::sweep_detail {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// One point's (R, T) columns, by measure name.
struct PointColumns {
  std::int64_t replications = 0;
  std::map<std::string, std::vector<double>> values;
};

PointColumns read_columns(const h5::File& file, const std::vector<Measure>& measures,
                          const h5::Group& root, int years) {
  PointColumns out;
  out.replications = h5::read_int64_attribute(file, "/", "replications");
  const std::size_t cells = static_cast<std::size_t>(out.replications) * years;
  for (const Measure& m : measures) {
    const std::string path = "/table/" + m.name;
    if (!root.exists(path)) {  // a product not configured at this point pays nothing
      out.values[m.name].assign(cells, 0.0);
      continue;
    }
    std::vector<hsize_t> dims;
    out.values[m.name] = h5::read_doubles(file, path, &dims);
    if (dims.size() != 2 || dims[0] != static_cast<hsize_t>(out.replications) ||
        dims[1] != static_cast<hsize_t>(years)) {
      throw h5::H5Error("sweep: " + path + " has an unexpected shape in a point file");
    }
  }
  return out;
}

// Standard error of mean(a) - mean(b) for year t: paired when both have the same replications
// (common random numbers), else from the two standard errors.
double difference_se(const PointColumns& a, const PointColumns& b, const std::string& name,
                     int years, int t, double se_a, double se_b) {
  if (a.replications != b.replications) return std::sqrt(se_a * se_a + se_b * se_b);
  const std::vector<double>& x = a.values.at(name);
  const std::vector<double>& y = b.values.at(name);
  std::vector<double> d(static_cast<std::size_t>(a.replications));
  for (std::size_t r = 0; r < d.size(); ++r) d[r] = x[r * years + t] - y[r * years + t];
  return mean_and_se(d, 1, 0, d.size()).se[0];
}

// (K, T) tables of one measure.
struct Table {
  std::vector<double> mean, se, diff, diff_se, increment, increment_se;
};

class SweepWriter {
 public:
  SweepWriter(h5::Group group, std::size_t points, int years, int start_year)
      : group_(std::move(group)), points_(points), years_(years) {
    std::vector<std::int64_t> index(points), calendar(static_cast<std::size_t>(years));
    std::iota(index.begin(), index.end(), 0);
    std::iota(calendar.begin(), calendar.end(), start_year);
    point_.emplace(group_.write("point", index)
                       .attr("units", "1")
                       .attr("description", "sweep point index (0 = the reference point)")
                       .make_scale("point"));
    year_.emplace(group_.write("year", calendar)
                      .attr("units", "year")
                      .attr("description", "calendar year")
                      .make_scale("year"));
  }

  void per_point(h5::Dataset dataset, const std::string& units, const std::string& description) {
    dataset.attr("units", units)
        .attr("description", description)
        .attach_scale(*point_, 0)
        .label_dimension(0, "point");
  }

  void numbers(const std::string& name, const std::vector<double>& values, const std::string& units,
               const std::string& description) {
    per_point(group_.write(name, values), units, description);
  }
  void integers(const std::string& name, const std::vector<std::int64_t>& values,
                const std::string& units, const std::string& description) {
    per_point(group_.write(name, values), units, description);
  }
  void strings(const std::string& name, const std::vector<std::string>& values,
               const std::string& description) {
    per_point(group_.write_strings(name, values), "1", description);
  }

  // The per-point datasets (the swept parameters, or the overlay) that readers should take as
  // coordinates of `point`: the netCDF `coordinates` attribute of every table, which xarray
  // decodes, so `ds.fgt0` carries e.g. insurance.income_index.coverage along `point`.
  void set_coordinates(const std::vector<std::string>& names) {
    coordinates_.clear();
    for (const std::string& n : names) coordinates_ += (coordinates_.empty() ? "" : " ") + n;
  }

  void table(const std::string& name, const std::vector<double>& values, const std::string& units,
             const std::string& description) {
    h5::Dataset d =
        group_.write(name, values, {static_cast<hsize_t>(points_), static_cast<hsize_t>(years_)});
    d.attr("units", units)
        .attr("description", description)
        .attach_scale(*point_, 0)
        .attach_scale(*year_, 1)
        .label_dimension(0, "point")
        .label_dimension(1, "year");
    if (!coordinates_.empty()) d.attr("coordinates", coordinates_);
  }

  // (K, P) shares: the point scale on dimension 0, the portfolios' labels (a string scale
  // named `portfolio`) on dimension 1.
  void shares(const std::string& name, const std::vector<double>& values,
              const std::vector<std::string>& labels, const std::string& description) {
    h5::Dataset portfolio =
        group_.write_strings("portfolio", labels)
            .attr("units", "1")
            .attr("description", "portfolio: \"main + aux\", \"main\" or \"none\"")
            .make_scale("portfolio");
    group_.write_strings("portfolio_labels", labels)
        .attr("units", "1")
        .attr("description",
              "portfolios run at some point: \"main + aux\", \"main\" or \"none\" (as the "
              "portfolio coordinate)")
        .attach_scale(portfolio, 0)
        .label_dimension(0, "portfolio");
    h5::Dataset d = group_.write(
        name, values, {static_cast<hsize_t>(points_), static_cast<hsize_t>(labels.size())});
    d.attr("units", "1")
        .attr("description", description)
        .attach_scale(*point_, 0)
        .attach_scale(portfolio, 1)
        .label_dimension(0, "point")
        .label_dimension(1, "portfolio");
    if (!coordinates_.empty()) d.attr("coordinates", coordinates_);
  }

  h5::Group& group() { return group_; }

 private:
  h5::Group group_;
  std::size_t points_;
  int years_;
  std::optional<h5::Dataset> point_, year_;
  std::string coordinates_;
};

void write_root_attributes(h5::Group& root, const SweepSpec& spec) {
  std::vector<std::string> command_line;
  for (const Override& o : spec.command_line) command_line.push_back(o.path + "=" + o.value);
  std::vector<std::string> fixed;
  for (const SweepOverride& o : spec.fixed) fixed.push_back(o.item.path + "=" + o.item.value);
  root.attr("incsim_version", INCSIM_VERSION)
      .attr("schema_version", INCSIM_SCHEMA_VERSION)
      .attr("sweep", spec.text)
      .attr("sweep_file", spec.file)
      .attr("base_scenario", spec.base_text)
      .attr("base_scenario_file", spec.base_file)
      .attr("mode", to_string(spec.mode))
      .attr("keep", spec.table_only ? "table" : "all")
      .attr("points", static_cast<std::int64_t>(spec.points.size()))
      .attr("years", static_cast<std::int64_t>(spec.years))
      .attr("start_year", static_cast<std::int64_t>(spec.start_year))
      .attr("fixed_overrides", fixed)
      .attr("overrides", command_line)
      .attr("created_utc", utc_now());
  root.attr("seed", std::uint64_t{spec.seed});
}

void write_parameters(SweepWriter& w, const SweepSpec& spec) {
  h5::Group& sweep = w.group();
  std::vector<std::string> overrides;
  for (const SweepPoint& p : spec.points) {
    std::vector<std::string> parts;
    for (const SweepOverride& o : p.overrides) parts.push_back(o.item.path + "=" + o.item.value);
    std::string text;
    for (const std::string& part : parts) text += (text.empty() ? "" : "; ") + part;
    overrides.push_back(text);
  }
  w.strings("overrides", overrides,
            "the point's own overrides, applied to the base scenario after the sweep's fixed "
            "ones");
  if (spec.mode == SweepMode::stack) {
    std::vector<std::string> names;
    for (const SweepPoint& p : spec.points) names.push_back(p.labels.front());
    w.strings("overlay", names,
              "the last overlay applied (point k applies overlays 1..k; point 0 is the base)");
    sweep.attr("parameters", std::vector<std::string>{"overlay"});
    w.set_coordinates({"overlay"});
    return;
  }
  std::vector<std::string> paths;
  std::vector<std::int64_t> shape;
  for (std::size_t i = 0; i < spec.parameters.size(); ++i) {
    const SweepParameter& p = spec.parameters[i];
    paths.push_back(p.path);
    shape.push_back(static_cast<std::int64_t>(p.values.size()));
    const std::string description = "scenario value " + p.path + " at each point";
    if (p.numeric) {
      std::vector<double> values;
      for (const SweepPoint& point : spec.points) values.push_back(std::stod(point.labels[i]));
      w.numbers(p.path, values, "as in the scenario", description);
    } else {
      std::vector<std::string> values;
      for (const SweepPoint& point : spec.points) values.push_back(point.labels[i]);
      w.strings(p.path, values, description);
    }
  }
  sweep.attr("parameters", paths);
  w.set_coordinates(paths);
  if (spec.mode == SweepMode::grid) sweep.attr("grid_shape", shape);
}

// /sweep/portfolio_labels (P): every portfolio run at some point, in order of first appearance;
// /sweep/portfolio_share (K, P): its share of households at each point (0 where none runs it;
// NaN for a point file written before point files carried the shares).
void write_portfolio_shares(SweepWriter& w, std::vector<h5::File>& files, std::size_t points) {
  std::vector<std::string> labels;
  std::vector<std::map<std::string, double>> share(points);
  std::vector<std::uint8_t> known(points, 0);
  for (std::size_t k = 0; k < points; ++k) {
    if (!files[k].root().exists("/choice/labels")) continue;
    known[k] = 1;
    const std::vector<std::string> names = h5::read_strings(files[k], "/choice/labels");
    const std::vector<double> values = h5::read_doubles(files[k], "/choice/share");
    if (names.size() != values.size())
      throw h5::H5Error("sweep: /choice/share and /choice/labels differ in length in a point file");
    for (std::size_t p = 0; p < names.size(); ++p) {
      if (std::find(labels.begin(), labels.end(), names[p]) == labels.end())
        labels.push_back(names[p]);
      share[k][names[p]] = values[p];
    }
  }
  std::vector<double> table(points * labels.size(), kNaN);
  for (std::size_t k = 0; k < points; ++k)
    for (std::size_t p = 0; p < labels.size(); ++p)
      if (known[k]) {
        const auto it = share[k].find(labels[p]);
        table[k * labels.size() + p] = it == share[k].end() ? 0.0 : it->second;
      }
  w.shares("portfolio_share", table, labels,
           "share of households running each portfolio (columns: portfolio_labels) at each "
           "point; the households choose again at every point");
}

// Basis risk (MODEL.md section 9) at one point, for one variant and measure: per year the ratio
// sum_r a_r / sum_r b_r of the point file's tallies, its ratio-estimator standard error, and
// each replication's linearised residual e_r = (a_r - R b_r) / mean(b), whose mean over
// replications is 0 and whose paired differences give the standard error of a difference.
struct RatioPoint {
  bool present = false;
  std::int64_t replications = 0;
  std::vector<double> ratio, se, residual;  // (T), (T), (R, T)
};

// missed, false_alarm and covered: numerator and denominator tallies.
constexpr BasisTally kRatioTallies[3][2] = {
    {kMissed, kLosses}, {kFalseAlarms, kPaid}, {kCompensated, kShortfall}};
constexpr const char* kRatioNames[3] = {"missed", "false_alarm", "covered"};

RatioPoint read_ratio(const h5::File& file, const std::string& group, int measure, int years) {
  RatioPoint out;
  if (!file.root().exists(group + "/" + kBasisTallyNames[kRatioTallies[measure][0]])) return out;
  out.present = true;
  out.replications = h5::read_int64_attribute(file, "/", "replications");
  const auto n = static_cast<std::size_t>(out.replications);
  const auto t_count = static_cast<std::size_t>(years);
  std::vector<double> ab[2];
  for (int j = 0; j < 2; ++j) {
    std::vector<hsize_t> dims;
    ab[j] =
        h5::read_doubles(file, group + "/" + kBasisTallyNames[kRatioTallies[measure][j]], &dims);
    if (dims.size() != 2 || dims[0] != n || dims[1] != t_count)
      throw h5::H5Error("sweep: " + group + " has an unexpected shape in a point file");
  }
  out.ratio.assign(t_count, kNaN);
  out.se.assign(t_count, kNaN);
  out.residual.assign(n * t_count, kNaN);
  for (std::size_t t = 0; t < t_count; ++t) {
    double a = 0.0, b = 0.0;
    for (std::size_t r = 0; r < n; ++r) {
      a += ab[0][r * t_count + t];
      b += ab[1][r * t_count + t];
    }
    if (!(b > 0.0)) continue;
    const double ratio = a / b, mean_b = b / static_cast<double>(n);
    double ss = 0.0;
    for (std::size_t r = 0; r < n; ++r) {
      const double e = (ab[0][r * t_count + t] - ratio * ab[1][r * t_count + t]) / mean_b;
      out.residual[r * t_count + t] = e;
      ss += e * e;
    }
    out.ratio[t] = ratio;
    if (n > 1) out.se[t] = std::sqrt(ss / (static_cast<double>(n) * static_cast<double>(n - 1)));
  }
  return out;
}

// The standard error of ratio(x) - ratio(y) in year t: paired by replication (the residuals'
// differences) when both points ran the same replications, else unpaired.
double ratio_difference_se(const RatioPoint& x, const RatioPoint& y, int years, int t) {
  const auto n = static_cast<std::size_t>(x.replications);
  if (!x.present || !y.present || std::isnan(x.ratio[t]) || std::isnan(y.ratio[t])) return kNaN;
  if (x.replications != y.replications || n < 2)
    return std::sqrt(x.se[t] * x.se[t] + y.se[t] * y.se[t]);
  std::vector<double> d(n);
  for (std::size_t r = 0; r < n; ++r) d[r] = x.residual[r * years + t] - y.residual[r * years + t];
  return mean_and_se(d, 1, 0, n).se[0];
}

// The basis-risk measures of every variant some point has: <measure>_<variant> (K, T) with
// _se, _diff, _diff_se (and _increment, _increment_se in stack mode); NaN at points where the
// variant has no basis-risk measures.
void write_basis_tables(SweepWriter& w, const std::vector<h5::File>& files, const SweepSpec& spec) {
  const std::size_t points = files.size();
  const int years = spec.years;
  const std::size_t cells = points * static_cast<std::size_t>(years);
  for (int v = 0; v < kVariants; ++v) {
    const std::string group = std::string("/table/basis_") + variant_name(v);
    bool any = false;
    for (const h5::File& f : files) any = any || f.root().exists(group);
    if (!any) continue;
    for (int m = 0; m < 3; ++m) {
      Table t;
      for (auto* column : {&t.mean, &t.se, &t.diff, &t.diff_se, &t.increment, &t.increment_se})
        column->assign(cells, kNaN);
      RatioPoint first, previous;
      for (std::size_t k = 0; k < points; ++k) {
        RatioPoint current = read_ratio(files[k], group, m, years);
        const RatioPoint& reference = k == 0 ? current : first;
        const RatioPoint& before = k == 0 ? current : previous;
        for (int y = 0; current.present && y < years; ++y) {
          const std::size_t c = k * years + y;
          t.mean[c] = current.ratio[y];
          t.se[c] = current.se[y];
          if (reference.present) {
            t.diff[c] = current.ratio[y] - reference.ratio[y];
            t.diff_se[c] = ratio_difference_se(current, reference, years, y);
          }
          if (before.present) {
            t.increment[c] = current.ratio[y] - before.ratio[y];
            t.increment_se[c] = ratio_difference_se(current, before, years, y);
          }
        }
        if (k == 0) first = current;
        previous = std::move(current);
      }
      const std::string name = std::string(kRatioNames[m]) + "_" + variant_name(v);
      const std::string what =
          m == 0   ? "share of shortfalls (revenue below rho x expected) paid nothing"
          : m == 1 ? "share of payments made without a shortfall"
                   : "share of the shortfall compensated, sum min(K, S) / sum S";
      w.table(name, t.mean, "1",
              std::string(variant_name(v)) + " insurance: " + what +
                  ", pooled over the covered industries' enrolled households and the "
                  "replications (NaN: no denominator, or the variant is not configured)");
      w.table(name + "_se", t.se, "1", "ratio-estimator standard error of " + name);
      w.table(name + "_diff", t.diff, "1", name + " minus its value at point 0");
      w.table(name + "_diff_se", t.diff_se, "1",
              "standard error of " + name +
                  "_diff, paired by replication through the linearised ratio (unpaired where "
                  "the replication counts differ)");
      if (spec.mode != SweepMode::stack) continue;
      w.table(name + "_increment", t.increment, "1",
              name + " minus its value at the previous point");
      w.table(name + "_increment_se", t.increment_se, "1",
              "standard error of " + name + "_increment, paired by replication");
    }
  }
}

}  // namespace

void assemble_sweep(const SweepSpec& spec, const std::vector<std::string>& point_files,
                    const std::string& output) {
  const std::size_t points = point_files.size();
  const int years = spec.years;
  std::vector<h5::File> files;
  files.reserve(points);
  std::vector<std::string> products;
  for (const std::string& path : point_files) files.push_back(h5::File::open_read(path));
  for (const ProductDescriptor& descriptor : kProductTable) {
    const char* product = descriptor.name;
    for (h5::File& f : files) {
      if (f.root().exists(std::string("/table/payout_") + product)) {
        products.push_back(product);
        break;
      }
    }
  }
  const std::vector<Measure> measures = headline_measures(products);

  h5::AtomicFile out(output);
  h5::Group root = out.file().root();
  write_root_attributes(root, spec);
  if (!spec.table_only) {
    for (std::size_t k = 0; k < points; ++k) {
      copy_tree(files[k].id(), "tree", out.file().id(), "points/" + std::to_string(k));
    }
  }

  SweepWriter w(root.group("sweep"), points, years, spec.start_year);
  w.group().attr("description",
                 "headline measures per sweep point and year; *_se: Monte Carlo standard error; "
                 "*_diff: difference from point 0; *_diff_se: its standard error, paired by "
                 "replication (common random numbers)");
  write_parameters(w, spec);

  const std::size_t cells = points * static_cast<std::size_t>(years);
  std::map<std::string, Table> tables;
  for (const Measure& m : measures) {
    Table& t = tables[m.name];
    for (auto* v : {&t.mean, &t.se, &t.diff, &t.diff_se, &t.increment, &t.increment_se})
      v->assign(cells, kNaN);
  }
  std::vector<std::int64_t> replications;
  PointColumns first, previous;
  for (std::size_t k = 0; k < points; ++k) {
    PointColumns current = read_columns(files[k], measures, files[k].root(), years);
    replications.push_back(current.replications);
    const PointColumns& reference = k == 0 ? current : first;
    const PointColumns& before = k == 0 ? current : previous;
    for (const Measure& m : measures) {
      Table& t = tables[m.name];
      for (int y = 0; y < years; ++y) {
        const std::size_t c = k * years + y;
        const Estimate e = mean_and_se(current.values[m.name], years, y, current.replications);
        t.mean[c] = e.mean[0];
        // A share of replications: the binomial standard error, as in /poverty/target_risk.
        t.se[c] = m.name == "target_risk"
                      ? std::sqrt(e.mean[0] * (1 - e.mean[0]) / double(current.replications))
                      : e.se[0];
        const std::size_t c0 = static_cast<std::size_t>(y);
        t.diff[c] = t.mean[c] - t.mean[c0];
        t.diff_se[c] = difference_se(current, reference, m.name, years, y, t.se[c], t.se[c0]);
        const std::size_t cb = k == 0 ? c : c - years;
        t.increment[c] = t.mean[c] - t.mean[cb];
        t.increment_se[c] = difference_se(current, before, m.name, years, y, t.se[c], t.se[cb]);
      }
    }
    if (k == 0) first = current;
    previous = std::move(current);
  }
  w.integers("replications", replications, "1", "replications run at each point");
  write_portfolio_shares(w, files, points);

  for (const Measure& m : measures) {
    const Table& t = tables[m.name];
    w.table(m.name, t.mean, m.units, m.description);
    w.table(m.name + "_se", t.se, m.units, "Monte Carlo standard error of " + m.name);
    w.table(m.name + "_diff", t.diff, m.units, m.name + " minus its value at point 0");
    w.table(m.name + "_diff_se", t.diff_se, m.units,
            "standard error of " + m.name +
                "_diff, paired by replication: sd(x_k - x_0) / sqrt(R) (unpaired "
                "sqrt(se_k^2 + se_0^2) where the replication counts differ)");
    if (spec.mode != SweepMode::stack) continue;
    w.table(m.name + "_increment", t.increment, m.units,
            m.name + " minus its value at the previous point: the effect of the overlay added");
    w.table(m.name + "_increment_se", t.increment_se, m.units,
            "standard error of " + m.name + "_increment, paired by replication");
  }
  write_basis_tables(w, files, spec);
  files.clear();
  out.commit();
}

}  // namespace incsim::sweep_detail
