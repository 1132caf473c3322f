// incsim calibrate (see incsim/calibrate.h): NLopt over the parameters scaled to [0, 1], each
// evaluation a full run on the base seed, the record rewritten atomically after each one, a
// resume that replays the optimiser against the record (the methods are deterministic, so the
// same calibration asks for the same points in the same order), the check run and the
// calibrated scenario's text.
#include "incsim/calibrate.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <exception>
#include <filesystem>
#include <map>
#include <nlopt.hpp>
#include <optional>
#include <string_view>

#include "incsim/engine.h"
#include "incsim/output.h"
#include "incsim/version.h"
#include "scenario/sections.h"
#include "scenario/yaml_reader.h"

namespace incsim {
namespace {

namespace fs = std::filesystem;
using scenario_detail::find_node;
using scenario_detail::segments_of;

// ---- targets ------------------------------------------------------------------------------

// Every dataset of a result tree, for the nearest-name hint (sample paths, households and
// sweep points left out).
void collect_datasets(const h5::File& file, const std::string& group,
                      std::vector<std::string>& out) {
  for (const h5::Member& m : h5::list_members(file, group.empty() ? "/" : group)) {
    const std::string path = group + "/" + m.name;
    if (m.is_group) {
      if (path != "/households" && path != "/paths" && path != "/points")
        collect_datasets(file, path, out);
    } else {
      out.push_back(path.substr(1));
    }
  }
}

std::string parent_of(const std::string& path) {
  const auto slash = path.rfind('/');
  return slash == std::string::npos || slash == 0 ? std::string() : path.substr(0, slash);
}

// The coordinate values of dimension `name` of dataset `path`: the scale beside it, else at
// the root (as the writer places them).
std::string scale_path(const h5::File& file, const std::string& path, const std::string& name) {
  const std::string beside = parent_of(path) + "/" + name;
  if (file.root().exists(beside.substr(1))) return beside;
  return "/" + name;
}

}  // namespace

double calibration_objective(const CalibrationSpec& spec, const std::vector<double>& estimate) {
  double sum = 0.0;
  for (std::size_t k = 0; k < spec.targets.size(); ++k) {
    const double miss = (estimate[k] - spec.targets[k].value) / spec.targets[k].scale;
    sum += miss * miss;
  }
  return sum;
}

void read_target_estimates(const CalibrationSpec& spec, const h5::File& file,
                           std::vector<double>& estimate, std::vector<double>& standard_error) {
  estimate.assign(spec.targets.size(), 0.0);
  standard_error.assign(spec.targets.size(), 0.0);
  std::vector<Diagnostic> problems;
  std::vector<std::string> names;
  for (std::size_t k = 0; k < spec.targets.size(); ++k) {
    const CalibrationTarget& t = spec.targets[k];
    auto fail = [&](const std::string& body) {
      problems.push_back({spec.file, t.line, t.column, "target " + t.label() + ": " + body});
    };
    const std::string path = "/" + t.measure;
    if (!file.root().exists(t.measure)) {
      if (names.empty()) collect_datasets(file, "", names);
      fail("the result has no dataset " + t.measure + scenario_detail::suggest(t.measure, names));
      continue;
    }
    const h5::DatasetInfo info = h5::dataset_info(file, path);
    if (!info.is_numeric) {
      fail(t.measure + " is not numeric");
      continue;
    }
    // The element: one index per dimension, from the year or the group label.
    std::size_t flat = 0;
    bool ok = true, used_year = false, used_group = false;
    for (std::size_t d = 0; d < info.shape.size() && ok; ++d) {
      const std::string& dim = info.dimensions[d];
      std::size_t index = 0;
      if (dim == "year") {
        const std::vector<double> years = h5::read_doubles(file, scale_path(file, path, dim));
        if (!t.year) {
          if (years.size() != 1) {
            fail("say which year (" + t.measure + " is by year, " +
                 scenario_detail::format_number(years.front()) + " to " +
                 scenario_detail::format_number(years.back()) + ")");
            ok = false;
          }
        } else {
          const auto it = std::find(years.begin(), years.end(), double(*t.year));
          if (it == years.end()) {
            fail("no year " + std::to_string(*t.year) + " in the run (" +
                 scenario_detail::format_number(years.front()) + " to " +
                 scenario_detail::format_number(years.back()) + ")");
            ok = false;
          }
          index = static_cast<std::size_t>(it - years.begin());
        }
        used_year = true;
      } else {
        const std::string scale = scale_path(file, path, dim);
        std::vector<std::string> labels;
        if (!dim.empty() && file.root().exists(scale.substr(1))) {
          const h5::DatasetInfo si = h5::dataset_info(file, scale);
          if (si.is_string) labels = h5::read_strings(file, scale);
        }
        if (labels.empty() && parent_of(path) != "" &&
            file.root().exists(parent_of(path).substr(1) + "/labels"))
          labels = h5::read_strings(file, parent_of(path) + "/labels");
        if (labels.size() != info.shape[d]) {
          fail(t.measure + " has a dimension (" + (dim.empty() ? "unnamed" : dim) +
               ") a target cannot select; choose a dataset by year and group");
          ok = false;
          break;
        }
        if (t.group.empty()) {
          if (labels.size() != 1) {
            fail("say which group (" + t.measure + " is by " + dim + ": " +
                 scenario_detail::join(labels, ", ") + ")");
            ok = false;
          }
        } else {
          const auto it = std::find(labels.begin(), labels.end(), t.group);
          if (it == labels.end()) {
            fail("no group " + scenario_detail::quote(t.group) + " in " + t.measure +
                 scenario_detail::suggest(t.group, labels));
            ok = false;
          }
          index = static_cast<std::size_t>(it - labels.begin());
        }
        used_group = true;
      }
      flat = flat * info.shape[d] + index;
    }
    if (!ok) continue;
    if (t.year && !used_year) {
      fail(t.measure + " is not by year; remove year");
      continue;
    }
    if (!t.group.empty() && !used_group) {
      fail(t.measure + " is not by group; remove group");
      continue;
    }
    estimate[k] = h5::read_doubles(file, path)[flat];
    standard_error[k] = file.root().exists(t.measure + "_se")
                            ? h5::read_doubles(file, path + "_se")[flat]
                            : std::nan("");
    if (!std::isfinite(estimate[k]))
      fail("the estimate is not a number (e.g. a ratio over nobody): choose another target");
  }
  if (!problems.empty()) throw ScenarioError(problems);
}

CalibrationEvaluation evaluate_calibration(const CalibrationSpec& spec,
                                           const std::vector<double>& x, int replications,
                                           int threads, std::atomic<std::int64_t>* progress) {
  const auto t0 = std::chrono::steady_clock::now();
  const Scenario scenario =
      load_scenario_text(spec.base_text, spec.base_file, spec.overrides_at(x, replications));
  const Model model = build_model(scenario, threads);
  const RunResults results = run_simulation(model, {threads, progress});
  h5::File file = h5::File::create_in_memory("calibration-evaluation");
  write_results(file.root(), model, results);
  CalibrationEvaluation e;
  e.x = x;
  read_target_estimates(spec, file, e.estimate, e.standard_error);
  e.objective = calibration_objective(spec, e.estimate);
  e.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return e;
}

// ---- the calibrated scenario's text ---------------------------------------------------------

namespace {

bool same_tree(const YAML::Node& a, const YAML::Node& b) {
  if (a.Type() != b.Type()) {
    // An empty value and a missing one read alike.
    return (a.IsNull() || !a.IsDefined()) && (b.IsNull() || !b.IsDefined());
  }
  switch (a.Type()) {
    case YAML::NodeType::Scalar:
      return a.Scalar() == b.Scalar();
    case YAML::NodeType::Sequence:
      if (a.size() != b.size()) return false;
      for (std::size_t i = 0; i < a.size(); ++i)
        if (!same_tree(a[i], b[i])) return false;
      return true;
    case YAML::NodeType::Map: {
      if (a.size() != b.size()) return false;
      for (auto it = a.begin(); it != a.end(); ++it) {
        if (!it->first.IsScalar()) return false;
        const YAML::Node other = find_node(b, it->first.Scalar());
        if (!other.IsDefined() || !same_tree(it->second, other)) return false;
      }
      return true;
    }
    default:
      return true;
  }
}

// The end of the scalar that starts at `pos`: a quoted one's closing quote, a plain one's last
// character before a comment, a line end or a flow collection's delimiter.
std::size_t scalar_end(const std::string& text, std::size_t pos) {
  if (pos < text.size() && (text[pos] == '"' || text[pos] == '\'')) {
    const char q = text[pos];
    for (std::size_t i = pos + 1; i < text.size(); ++i) {
      if (q == '"' && text[i] == '\\') {
        ++i;
        continue;
      }
      if (text[i] == q) {
        if (q == '\'' && i + 1 < text.size() && text[i + 1] == '\'') {
          ++i;
          continue;
        }
        return i + 1;
      }
    }
    return std::string::npos;
  }
  std::size_t i = pos;
  while (i < text.size() && text[i] != '\n' && text[i] != '\r' && text[i] != ',' &&
         text[i] != ']' && text[i] != '}' && !(text[i] == '#' && i > pos && text[i - 1] == ' '))
    ++i;
  while (i > pos && (text[i - 1] == ' ' || text[i - 1] == '\t')) --i;
  return i;
}

// The end of the flow collection that starts at `pos` ('[' or '{'), quotes respected.
std::size_t flow_end(const std::string& text, std::size_t pos) {
  int depth = 0;
  for (std::size_t i = pos; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '"' || c == '\'') {
      const std::size_t end = scalar_end(text, i);
      if (end == std::string::npos) return end;
      i = end - 1;
    } else if (c == '[' || c == '{') {
      ++depth;
    } else if (c == ']' || c == '}') {
      if (--depth == 0) return i + 1;
    }
  }
  return std::string::npos;
}

std::size_t line_end(const std::string& text, std::size_t pos) {
  const std::size_t end = text.find('\n', pos);
  return end == std::string::npos ? text.size() : end;
}

// The span after "key:" that holds a block value (or nothing): the following lines indented
// deeper than the key (a block sequence may sit at the key's indentation), up to its last
// line with content; blank and comment lines after it stay.
std::pair<std::size_t, std::size_t> block_value(const std::string& text, const YAML::Mark& key,
                                                std::size_t colon, bool sequence) {
  std::size_t end = line_end(text, colon);
  std::size_t at = end;
  while (at < text.size()) {
    const std::size_t start = at + 1;
    const std::size_t stop = line_end(text, start);
    const std::size_t first = text.find_first_not_of(" \t", start);
    if (first == std::string::npos || first >= stop || text[first] == '#') {  // blank, comment
      at = stop;
      continue;
    }
    const auto indent = static_cast<int>(first - start);
    if (!(indent > key.column || (sequence && indent == key.column && text[first] == '-'))) break;
    end = stop;
    at = stop;
  }
  return {colon + 1, end};  // a comment on the key's own line goes with the old value
}

// Writes `value` at `path` of `text`: in place where the key holds a value (a scalar's or a
// flow collection's text, or a block value's lines), else as a new block under the deepest
// block mapping on the path. Returns false when neither is possible.
bool write_at(std::string& text, const std::string& path, const std::string& value) {
  const YAML::Node root = YAML::Load(text);
  const std::vector<std::string> segments = segments_of(path);
  const YAML::Node node = find_node(root, path);
  if (node.IsDefined()) {
    const YAML::Mark mark = node.Mark();
    if (!node.IsNull() && !mark.is_null() && mark.pos >= 0) {
      const auto pos = static_cast<std::size_t>(mark.pos);
      const bool flow = pos < text.size() && (text[pos] == '[' || text[pos] == '{');
      if (node.IsScalar() || flow) {
        const std::size_t end = node.IsScalar() ? scalar_end(text, pos) : flow_end(text, pos);
        if (end == std::string::npos || end <= pos) return false;
        text.replace(pos, end - pos, value);
        return true;
      }
    }
    // A null or block value: rewrite the lines after its key.
    if (segments.size() > 1 && scenario_detail::parse_unsigned64(segments.back())) return false;
    const std::string parent_path = segments.size() > 1 ? path.substr(0, path.rfind('.')) : "";
    YAML::Node parent;
    parent.reset(parent_path.empty() ? root : find_node(root, parent_path));
    if (!parent.IsMap()) return false;
    YAML::Mark key = YAML::Mark::null_mark();
    for (auto it = parent.begin(); it != parent.end(); ++it)
      if (it->first.IsScalar() && it->first.Scalar() == segments.back()) key = it->first.Mark();
    if (key.is_null() || key.pos < 0) return false;
    const std::size_t colon = text.find(':', static_cast<std::size_t>(key.pos));
    if (colon == std::string::npos || colon > line_end(text, static_cast<std::size_t>(key.pos)))
      return false;
    const auto [from, to] = block_value(text, key, colon, node.IsSequence());
    text.replace(from, to - from, " " + value);
    return true;
  }
  // The deepest existing ancestor: it must be a block mapping with at least one key, under
  // whose first key the missing keys are inserted.
  std::size_t depth = segments.size() - 1;
  YAML::Node ancestor;
  for (; depth > 0; --depth) {
    std::string prefix = segments[0];
    for (std::size_t i = 1; i < depth; ++i) prefix += "." + segments[i];
    ancestor.reset(find_node(root, prefix));  // reset: yaml-cpp's = assigns into the node
    if (ancestor.IsDefined()) break;
  }
  if (depth == 0) ancestor.reset(root);
  if (!ancestor.IsMap() || ancestor.size() == 0 || ancestor.Style() == YAML::EmitterStyle::Flow)
    return false;
  for (std::size_t i = depth; i < segments.size(); ++i)
    if (scenario_detail::parse_unsigned64(segments[i])) return false;  // a list index
  const YAML::Mark first = ancestor.begin()->first.Mark();
  if (first.is_null() || first.pos < 0) return false;
  const auto line_start = static_cast<std::size_t>(first.pos - first.column);
  const std::string indent(static_cast<std::size_t>(first.column), ' ');
  std::string block;
  for (std::size_t i = depth; i < segments.size(); ++i) {
    block += indent + std::string(2 * (i - depth), ' ') + segments[i] + ":";
    block += i + 1 == segments.size() ? " " + value + "\n" : "\n";
  }
  text.insert(line_start, block);
  return true;
}

// The first words of the comment block calibrate writes in front of a calibrated file.
constexpr std::string_view kHeaderMark = "# Calibrated by incsim";

// That block, up to its blank line, taken off the front of a file's text.
std::string without_calibration_header(const std::string& text) {
  if (text.compare(0, kHeaderMark.size(), kHeaderMark) != 0) return text;
  std::size_t pos = 0;
  while (pos < text.size() && text[pos] == '#') {
    const std::size_t end = text.find('\n', pos);
    if (end == std::string::npos) return text;  // only comments: nothing to strip safely
    pos = end + 1;
  }
  if (pos < text.size() && text[pos] == '\n') ++pos;
  return text.substr(pos);
}

}  // namespace

std::string calibrated_scenario_text(const CalibrationSpec& spec, const std::vector<double>& x,
                                     const std::string& header) {
  std::vector<Override> list;
  for (const SweepOverride& o : spec.fixed) list.push_back(o.item);
  list.insert(list.end(), spec.command_line.begin(), spec.command_line.end());
  for (std::size_t i = 0; i < spec.parameters.size(); ++i)
    list.push_back({spec.parameters[i].path, parameter_text(x[i])});
  // A base that is itself a calibrated file (recalibrating the result) keeps one header: the
  // new fit's, not the old one's in front of it.
  std::string text = without_calibration_header(spec.base_text);
  for (const Override& o : list) {
    if (!write_at(text, o.path, o.value))
      throw std::runtime_error("cannot write " + o.path + " = " + o.value +
                               " into the base scenario's text (the key holds a section, or sits "
                               "in a flow mapping it is missing from); set it in the base file");
  }
  // What the text now says must be the base with the overrides applied.
  YAML::Node expected = YAML::Load(spec.base_text);
  scenario_detail::DiagnosticSink sink(spec.base_file);
  scenario_detail::apply_overrides(expected, list, sink);
  if (!same_tree(YAML::Load(text), expected))
    throw std::runtime_error(
        "writing the fitted values into the base scenario's text changed "
        "something else; set the parameters in the base file explicitly");
  return header + text;
}

// ---- the record -----------------------------------------------------------------------------

namespace {

struct Record {
  std::vector<CalibrationEvaluation> evaluations;
  std::optional<CalibrationEvaluation> check;
};

std::string command_line_text(const CalibrationSpec& spec) {
  std::string out;
  for (const Override& o : spec.command_line) out += o.path + "=" + o.value + "\n";
  return out;
}

void write_record(const std::string& path, const CalibrationSpec& spec, const Record& record,
                  const std::string& status) {
  h5::AtomicFile out(path);
  h5::Group g = out.file().root().group("calibration");
  g.attr("incsim_version", std::string(INCSIM_VERSION))
      .attr("calibration_file", spec.file)
      .attr("calibration", spec.text)
      .attr("base_file", spec.base_file)
      .attr("base", spec.base_text)
      .attr("command_line", command_line_text(spec))
      .attr("method", std::string(to_string(spec.method)))
      .attr("replications", static_cast<std::int64_t>(spec.replications))
      .attr("check_replications", static_cast<std::int64_t>(spec.check_replications))
      .attr("seed", spec.seed)
      .attr("status", status)
      .attr("created_utc", utc_now());
  std::vector<std::string> names, labels;
  std::vector<double> lo, hi, value, scale;
  for (const CalibrationParameter& p : spec.parameters) {
    names.push_back(p.path);
    lo.push_back(p.min);
    hi.push_back(p.max);
  }
  for (const CalibrationTarget& t : spec.targets) {
    labels.push_back(t.label());
    value.push_back(t.value);
    scale.push_back(t.scale);
  }
  g.write_strings("parameter", names).attr("description", "scenario path of each parameter");
  g.write("lower", lo).attr("description", "lower bound of each parameter");
  g.write("upper", hi).attr("description", "upper bound of each parameter");
  g.write_strings("target", labels).attr("description", "dataset, group and year of each target");
  g.write("target_value", value).attr("description", "observed value of each target");
  g.write("target_scale", scale).attr("description", "scale of each target's miss");
  const std::size_t e = record.evaluations.size(), np = names.size(), nt = labels.size();
  std::vector<double> xs, objective, estimate, se, seconds;
  for (const CalibrationEvaluation& ev : record.evaluations) {
    xs.insert(xs.end(), ev.x.begin(), ev.x.end());
    estimate.insert(estimate.end(), ev.estimate.begin(), ev.estimate.end());
    se.insert(se.end(), ev.standard_error.begin(), ev.standard_error.end());
    objective.push_back(ev.objective);
    seconds.push_back(ev.seconds);
  }
  const auto he = static_cast<hsize_t>(e);
  g.write("parameters", xs, {he, static_cast<hsize_t>(np)})
      .attr("description", "parameter values of each evaluation (evaluation, parameter)");
  g.write("objective", objective, {he})
      .attr("description", "sum of squared scaled misses of each evaluation");
  g.write("estimate", estimate, {he, static_cast<hsize_t>(nt)})
      .attr("description", "estimate of each target at each evaluation (evaluation, target)");
  g.write("estimate_se", se, {he, static_cast<hsize_t>(nt)})
      .attr("description", "Monte Carlo standard error of each estimate");
  g.write("seconds", seconds, {he}).attr("description", "wall time of each evaluation");
  if (record.check) {
    h5::Group c = g.group("check");
    c.attr("replications", static_cast<std::int64_t>(spec.check_replications));
    c.write("parameters", record.check->x).attr("description", "the fitted values");
    c.write("estimate", record.check->estimate)
        .attr("description", "estimate of each target at check_replications");
    c.write("estimate_se", record.check->standard_error)
        .attr("description", "Monte Carlo standard error of each check estimate");
    c.write_scalar("objective", record.check->objective);
  }
  out.commit();
}

// The record's evaluations, or CalibrationMismatch naming what differs.
Record read_record(const h5::File& f, const std::string& path, const CalibrationSpec& spec) {
  auto text = [&](const char* name) { return h5::read_string_attribute(f, "/calibration", name); };
  const std::pair<const char*, std::string> checks[] = {{"calibration", spec.text},
                                                        {"base", spec.base_text},
                                                        {"command_line", command_line_text(spec)},
                                                        {"incsim_version", INCSIM_VERSION}};
  const char* what[] = {"the calibration file", "the base scenario", "the --set overrides",
                        "the incsim version"};
  for (std::size_t i = 0; i < std::size(checks); ++i)
    if (text(checks[i].first) != checks[i].second)
      throw CalibrationMismatch("the record " + path + " is of another calibration: " + what[i] +
                                " changed since it was written");
  Record record;
  std::vector<hsize_t> dims;
  const std::vector<double> xs = h5::read_doubles(f, "/calibration/parameters", &dims);
  const std::size_t e = dims.empty() ? 0 : dims[0];
  const std::size_t np = spec.parameters.size(), nt = spec.targets.size();
  const std::vector<double> objective = h5::read_doubles(f, "/calibration/objective");
  const std::vector<double> estimate = h5::read_doubles(f, "/calibration/estimate");
  const std::vector<double> se = h5::read_doubles(f, "/calibration/estimate_se");
  const std::vector<double> seconds = h5::read_doubles(f, "/calibration/seconds");
  if (xs.size() != e * np || estimate.size() != e * nt || se.size() != e * nt ||
      objective.size() != e || seconds.size() != e)
    throw CalibrationMismatch("the record " + path + " is damaged (its tables disagree in size)");
  for (std::size_t i = 0; i < e; ++i) {
    CalibrationEvaluation ev;
    ev.x.assign(xs.begin() + i * np, xs.begin() + (i + 1) * np);
    ev.estimate.assign(estimate.begin() + i * nt, estimate.begin() + (i + 1) * nt);
    ev.standard_error.assign(se.begin() + i * nt, se.begin() + (i + 1) * nt);
    ev.objective = objective[i];
    ev.seconds = seconds[i];
    record.evaluations.push_back(std::move(ev));
  }
  if (f.root().exists("calibration/check")) {
    CalibrationEvaluation c;
    c.x = h5::read_doubles(f, "/calibration/check/parameters");
    c.estimate = h5::read_doubles(f, "/calibration/check/estimate");
    c.standard_error = h5::read_doubles(f, "/calibration/check/estimate_se");
    c.objective = h5::read_doubles(f, "/calibration/check/objective").at(0);
    if (c.x.size() == np && c.estimate.size() == nt && c.standard_error.size() == nt)
      record.check = std::move(c);
  }
  return record;
}

nlopt::algorithm algorithm_of(CalibrationMethod m) {
  switch (m) {
    case CalibrationMethod::bobyqa:
      return nlopt::LN_BOBYQA;
    case CalibrationMethod::neldermead:
      return nlopt::LN_NELDERMEAD;
    case CalibrationMethod::sbplx:
      return nlopt::LN_SBPLX;
    case CalibrationMethod::cobyla:
      return nlopt::LN_COBYLA;
  }
  return nlopt::LN_BOBYQA;
}

// The optimisers' first step in each scaled parameter: a tenth of the range, but no more than
// the start's distance to its nearer bound. BOBYQA moves a start that lies within its first
// step of a bound (onto the bound or a step inside it), so with a fixed step a start near a
// bound was not the first point evaluated. A start within the tolerance of a bound keeps the
// tenth (BOBYQA may then begin on the bound).
std::vector<double> initial_steps(const std::vector<double>& u, double tolerance) {
  std::vector<double> step(u.size(), 0.1);
  for (std::size_t i = 0; i < u.size(); ++i) {
    const double room = std::min(u[i], 1.0 - u[i]);
    if (room > tolerance) step[i] = std::min(step[i], room);
  }
  return step;
}

std::string reason_of(nlopt::result r, int max_evaluations) {
  switch (r) {
    case nlopt::SUCCESS:
      return "the optimiser converged";
    case nlopt::XTOL_REACHED:
      return "the optimiser's step fell below the tolerance";
    case nlopt::FTOL_REACHED:
      return "the objective stopped improving";
    case nlopt::STOPVAL_REACHED:
      return "every target met";
    case nlopt::MAXEVAL_REACHED:
      return "max_evaluations (" + std::to_string(max_evaluations) + ") reached";
    case nlopt::ROUNDOFF_LIMITED:
      return "limited by roundoff";
    default:
      return "the optimiser finished";
  }
}

std::string padded(std::string text, std::size_t width) {
  if (text.size() < width) text.append(width - text.size(), ' ');
  return text;
}

std::string number(double x) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.6g", x);
  return buffer;
}

// The comment block that heads the calibrated scenario: how it was fitted, the check run's
// table and the fitted values.
std::string fit_header(const CalibrationSpec& spec, const CalibrationResult& r) {
  const CalibrationEvaluation& fit = r.evaluations[r.best];
  std::string h = std::string(kHeaderMark) + " " + INCSIM_VERSION + " calibrate from " + spec.file +
                  " (" + utc_now() + ").\n";
  h += "# " + std::string(to_string(spec.method)) + ", " + std::to_string(r.evaluations.size()) +
       " evaluations of " + std::to_string(spec.replications) + " replications (seed " +
       std::to_string(spec.seed) + "): " + r.stop_reason + "; objective " + number(fit.objective) +
       ".\n";
  return h + calibration_table(spec, r, "# ") + "\n";  // a blank line before the base's text
}

bool same_bits(const std::vector<double>& a, const std::vector<double>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(double)) == 0;
}

}  // namespace

std::string calibration_table(const CalibrationSpec& spec, const CalibrationResult& r,
                              const std::string& prefix) {
  const CalibrationEvaluation& fit = r.evaluations[r.best];
  std::size_t width = 6;
  for (const CalibrationTarget& t : spec.targets) width = std::max(width, t.label().size());
  std::string out = prefix + "check run at the fitted values, " +
                    std::to_string(spec.check_replications) + " replications:\n";
  out += prefix + "  " + padded("target", width) + "  " + padded("value", 12) + "  " +
         padded("estimate", 12) + "  " + padded("se", 12) + "  miss (SE)\n";
  for (std::size_t k = 0; k < spec.targets.size(); ++k) {
    const double se = r.check.standard_error[k];
    const double miss = (r.check.estimate[k] - spec.targets[k].value) / se;
    out += prefix + "  " + padded(spec.targets[k].label(), width) + "  " +
           padded(number(spec.targets[k].value), 12) + "  " +
           padded(number(r.check.estimate[k]), 12) + "  " + padded(number(se), 12) + "  " +
           (std::isfinite(miss) ? number(miss) : "-") +
           (r.missed[k] ? "  MISSED (by more than 3 SE)" : "") + "\n";
  }
  out += prefix + "fitted parameters:\n";
  for (std::size_t i = 0; i < spec.parameters.size(); ++i) {
    const CalibrationParameter& p = spec.parameters[i];
    out += prefix + "  " + p.path + ": " + parameter_text(fit.x[i]) + "  in [" + number(p.min) +
           ", " + number(p.max) + "]" + (r.at_bound[i] ? "  AT A BOUND" : "") + "\n";
  }
  return out;
}

CalibrationResult run_calibration(const CalibrationSpec& spec, const CalibrationOptions& options) {
  const std::size_t np = spec.parameters.size();
  Record record;
  const bool have_record = options.record_image
                               ? !options.record_image->empty()
                               : !options.record.empty() && fs::exists(options.record);
  if (have_record) {
    try {
      const std::string name = options.record.empty() ? "the record" : options.record;
      record = options.record_image
                   ? read_record(h5::File::open_image(*options.record_image, name), name, spec)
                   : read_record(h5::File::open_read(options.record), options.record, spec);
    } catch (const CalibrationMismatch&) {
      if (!options.restart) throw;
    } catch (const h5::H5Error& e) {
      if (!options.restart)
        throw CalibrationMismatch("the record " + options.record + " cannot be read (" + e.what() +
                                  "); remove it or use --restart");
    }
  }
  {  // the fitted values must be writable into the base's text: known before anything runs
    std::vector<double> start;
    for (const CalibrationParameter& p : spec.parameters) start.push_back(p.start);
    calibrated_scenario_text(spec, start, "");
  }
  // An evaluation here or through the hook; empty: stop.
  auto evaluate = [&](const std::vector<double>& x,
                      int replications) -> std::optional<CalibrationEvaluation> {
    if (options.evaluate) return options.evaluate(x, replications);
    if (options.stop && options.stop->load()) return std::nullopt;
    return evaluate_calibration(spec, x, replications, options.threads, options.progress);
  };
  CalibrationResult result;
  auto notify = [&](CalibrationEvent::Kind kind, const CalibrationEvaluation* current) {
    if (!options.on_event) return;
    CalibrationEvent event;
    event.kind = kind;
    event.evaluation = result.evaluations.empty() ? 0 : result.evaluations.size() - 1;
    event.best = result.evaluations.empty() ? 0.0 : result.evaluations[result.best].objective;
    event.current = current;
    options.on_event(event);
  };
  auto x_of = [&](const double* u) {
    std::vector<double> x(np);
    for (std::size_t i = 0; i < np; ++i) {
      const CalibrationParameter& p = spec.parameters[i];
      x[i] = std::clamp(p.min + u[i] * (p.max - p.min), p.min, p.max);
    }
    return x;
  };
  std::exception_ptr failure;
  bool interrupted = false;
  auto objective = [&](unsigned n, const double* u) -> double {
    const std::vector<double> x = x_of(u);
    (void)n;
    const std::size_t i = result.evaluations.size();
    CalibrationEvaluation e;
    bool reused = false;
    if (i < record.evaluations.size() && same_bits(record.evaluations[i].x, x)) {
      e = record.evaluations[i];
      reused = true;
    } else {
      record.evaluations.resize(i);  // the rest of the record is of another path
      record.check.reset();
      std::optional<CalibrationEvaluation> got;
      try {
        got = evaluate(x, spec.replications);
      } catch (...) {
        failure = std::current_exception();
        throw nlopt::forced_stop();
      }
      if (!got) {
        interrupted = true;
        throw nlopt::forced_stop();
      }
      e = std::move(*got);
      record.evaluations.push_back(e);
      if (!options.record.empty()) write_record(options.record, spec, record, "running");
    }
    result.evaluations.push_back(e);
    if (reused) ++result.reused;
    if (e.objective < result.evaluations[result.best].objective) result.best = i;
    notify(reused ? CalibrationEvent::reused : CalibrationEvent::evaluated,
           &result.evaluations.back());
    return e.objective;
  };
  struct Thunk {
    static double call(unsigned n, const double* u, double* grad, void* data) {
      (void)grad;
      return (*static_cast<decltype(objective)*>(data))(n, u);
    }
  };
  nlopt::opt opt(algorithm_of(spec.method), static_cast<unsigned>(np));
  opt.set_lower_bounds(std::vector<double>(np, 0.0));
  opt.set_upper_bounds(std::vector<double>(np, 1.0));
  opt.set_min_objective(&Thunk::call, &objective);
  opt.set_xtol_abs(spec.tolerance);
  opt.set_maxeval(spec.max_evaluations);
  opt.set_stopval(0.0);
  std::vector<double> u(np);
  for (std::size_t i = 0; i < np; ++i) {
    const CalibrationParameter& p = spec.parameters[i];
    u[i] = (p.start - p.min) / (p.max - p.min);
  }
  opt.set_initial_step(initial_steps(u, spec.tolerance));
  double best_value = 0.0;
  try {
    result.stop_reason = reason_of(opt.optimize(u, best_value), spec.max_evaluations);
  } catch (const nlopt::forced_stop&) {
    if (failure) std::rethrow_exception(failure);
    if (interrupted) return result;  // the record holds every evaluation done
    throw;
  } catch (const nlopt::roundoff_limited&) {
    result.stop_reason = "limited by roundoff";
  }
  if (failure) std::rethrow_exception(failure);
  if (result.evaluations.empty()) throw std::logic_error("calibration: no evaluation ran");

  // The check run at the fitted values, then the calibrated scenario.
  const CalibrationEvaluation& fit = result.evaluations[result.best];
  notify(CalibrationEvent::checking, &fit);
  if (record.check && same_bits(record.check->x, fit.x)) {
    result.check = *record.check;
  } else {
    std::optional<CalibrationEvaluation> check = evaluate(fit.x, spec.check_replications);
    if (!check) return result;  // interrupted before the check: the record has the fit
    result.check = std::move(*check);
    record.check = result.check;
  }
  for (std::size_t i = 0; i < np; ++i) {
    const CalibrationParameter& p = spec.parameters[i];
    const double scaled = (fit.x[i] - p.min) / (p.max - p.min);
    result.at_bound.push_back(scaled <= spec.tolerance || scaled >= 1.0 - spec.tolerance);
  }
  for (std::size_t k = 0; k < spec.targets.size(); ++k) {
    const double miss = result.check.estimate[k] - spec.targets[k].value;
    const double se = result.check.standard_error[k];
    result.missed.push_back(std::isfinite(se) && se > 0.0
                                ? std::abs(miss) > 3.0 * se
                                : std::abs(miss) > 1e-9 * spec.targets[k].scale);
  }
  notify(CalibrationEvent::checked, &result.check);
  const std::string text = calibrated_scenario_text(spec, fit.x, fit_header(spec, result));
  if (!options.output.empty()) {
    try {  // the calibrated scenario must load from where it is written (relative csv paths)
      load_scenario_text(text, options.output, {});
    } catch (const ScenarioError& e) {
      throw std::runtime_error("the calibrated scenario does not load from " + options.output +
                               " (" + e.diagnostics().front().format() +
                               "); write it into the base scenario's directory");
    }
    h5::write_text_file(options.output, text);
  }
  result.calibrated_text = text;
  if (!options.record.empty()) write_record(options.record, spec, record, "finished");
  result.complete = true;
  return result;
}

}  // namespace incsim
