// The calibration file (incsim calibrate, MODEL.md section 12): base, replications,
// parameters with bounds, targets, method and the optimiser's limits. Read with the scenario
// loader's reading layer; the base scenario is loaded with every parameter at its min, start
// and max before anything runs, and a loader diagnostic caused by a parameter's value is
// reported at the calibration file line of that parameter.
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cmath>
#include <map>

#include "incsim/calibration.h"
#include "scenario/sections.h"
#include "scenario/yaml_reader.h"

namespace incsim {

const char* to_string(CalibrationMethod method) {
  switch (method) {
    case CalibrationMethod::bobyqa:
      return "bobyqa";
    case CalibrationMethod::neldermead:
      return "neldermead";
    case CalibrationMethod::sbplx:
      return "sbplx";
    case CalibrationMethod::cobyla:
      return "cobyla";
  }
  return "?";
}

std::string CalibrationTarget::label() const {
  std::string out = measure;
  if (!group.empty()) out.append(" ").append(group);
  if (year) out.append(" ").append(std::to_string(*year));
  return out;
}

std::string parameter_text(double x) {
  return scenario_detail::format_number(x);
}

std::vector<Override> CalibrationSpec::overrides_at(const std::vector<double>& x,
                                                    int evaluation_replications) const {
  std::vector<Override> list;
  for (const SweepOverride& o : fixed) list.push_back(o.item);
  list.insert(list.end(), command_line.begin(), command_line.end());
  for (std::size_t i = 0; i < parameters.size() && i < x.size(); ++i)
    list.push_back({parameters[i].path, parameter_text(x[i])});
  list.push_back({"scenario.replications", std::to_string(evaluation_replications)});
  return list;
}

namespace {

using namespace scenario_detail;

const std::vector<std::string> kKeys = {
    "base",      "replications", "check_replications", "max_evaluations",
    "tolerance", "method",       "parameters",         "targets",
    "set"};
const std::vector<std::string> kMethods = {"bobyqa", "neldermead", "sbplx", "cobyla"};
constexpr int kMaxParameters = 20;
constexpr int kMaxTargets = 200;

class CalibrationReader {
 public:
  CalibrationReader(CalibrationSpec& spec, DiagnosticSink& sink) : spec_(spec), sink_(sink) {}

  void read(const Value& root) {
    if (!root.present() || root.is_null()) {
      sink_.add({sink_.file(), 0, 0,
                 "the calibration file is empty; expected base, replications, parameters and "
                 "targets"});
      return;
    }
    if (!root.is_map()) {
      root.error_plain("expected a mapping with keys " + join(kKeys, ", ") + ", found " +
                       root.found());
      return;
    }
    root.expect_fields(kKeys);
    read_base_scenario(root.require("base", "a scenario file, relative to this calibration file"),
                       spec_.base_file, spec_.base_text);
    const Value reps =
        root.require("replications", "replications per evaluation, e.g. 400 (the same seed)");
    if (const auto r = reps.integer(between(2, 1e7))) spec_.replications = static_cast<int>(*r);
    spec_.check_replications = 4 * spec_.replications;
    if (const auto r = root["check_replications"].integer(between(2, 1e8)))
      spec_.check_replications = static_cast<int>(*r);
    if (const auto r = root["max_evaluations"].integer(between(1, 100000)))
      spec_.max_evaluations = static_cast<int>(*r);
    if (const auto t = root["tolerance"].number(strictly_between(0.0, 1.0))) spec_.tolerance = *t;
    read_method(root["method"]);
    spec_.fixed = read_set_overrides(root["set"], false);
    read_parameters(
        root.require("parameters", "a mapping of scenario paths to {min: ..., max: ...}"));
    read_targets(root.require("targets", "a list of {measure: ..., value: ...}"));
  }

 private:
  void read_method(const Value& v) {
    const auto method = v.text();
    if (!method) return;
    for (std::size_t i = 0; i < kMethods.size(); ++i)
      if (*method == kMethods[i]) {
        spec_.method = static_cast<CalibrationMethod>(i);
        return;
      }
    v.error("unknown method " + quote(*method) + suggest(*method, kMethods));
  }

  void read_parameters(const Value& v) {
    if (!v.present()) return;
    if (v.is_null() || (v.is_map() && v.size() == 0)) {
      v.error(
          "expected at least one parameter, e.g. income.wage.poor.employment_rate: "
          "{min: 0.2, max: 0.95}");
      return;
    }
    if (!v.is_map()) {
      v.error("expected a mapping of scenario paths to {min: ..., max: ...}, found " + v.found());
      return;
    }
    std::map<std::string, int> fixed_lines;
    for (const SweepOverride& o : spec_.fixed) fixed_lines.emplace(o.item.path, o.line);
    for (const auto& [path, bounds] : v.named_entries()) {
      if (!check_override_path(bounds, path)) continue;
      CalibrationParameter p;
      p.path = path;
      p.line = line_of(bounds.key_mark());
      p.column = column_of(bounds.key_mark());
      if (const auto it = fixed_lines.find(path); it != fixed_lines.end()) {
        bounds.error_at_key("also fixed by set: (line " + std::to_string(it->second) +
                            "); a parameter is either fitted or set");
        continue;
      }
      if (!bounds.is_map()) {
        bounds.error_at_key("expected {min: ..., max: ...} (and optionally start), found " +
                            bounds.found());
        continue;
      }
      if (!bounds.expect_fields({"min", "max", "start"})) continue;
      const auto lo = bounds.require("min", "the lower bound").number(any_number());
      const auto hi = bounds.require("max", "the upper bound").number(any_number());
      if (!lo || !hi) continue;
      if (!(*lo < *hi)) {
        bounds["max"].error("expected max above min (" + format_number(*lo) + "), found " +
                            format_number(*hi));
        continue;
      }
      p.min = *lo;
      p.max = *hi;
      p.start = *lo + 0.5 * (*hi - *lo);
      const Value start = bounds["start"];
      if (start.present()) {
        const auto s = start.number(between(*lo, *hi));
        if (!s) continue;
        p.start = *s;
      }
      spec_.parameters.push_back(p);
    }
    if (spec_.parameters.size() > kMaxParameters)
      v.error("at most " + std::to_string(kMaxParameters) + " parameters, found " +
              std::to_string(spec_.parameters.size()));
  }

  void read_targets(const Value& v) {
    if (!v.present()) return;
    if (v.is_null() || (v.is_list() && v.size() == 0)) {
      v.error(
          "expected at least one target, e.g. {measure: poverty/fgt0, year: 2019, "
          "value: 0.0106}");
      return;
    }
    if (!v.is_list()) {
      v.error("expected a list of {measure: ..., value: ...}, found " + v.found());
      return;
    }
    std::map<std::string, int> seen;
    for (const Value& item : v.items()) {
      if (!item.is_map()) {
        item.error_plain(
            "expected a target {measure: ..., year: ..., group: ..., value: ...}, "
            "found " +
            item.found());
        continue;
      }
      if (!item.expect_fields({"measure", "year", "group", "value", "scale"})) continue;
      CalibrationTarget t;
      t.line = line_of(item.mark());
      t.column = column_of(item.mark());
      const Value measure = item.require("measure", "a dataset of the result, e.g. poverty/fgt0");
      const auto name = measure.text();
      const auto value = item.require("value", "the observed value").number(any_number());
      if (!name || !value) continue;
      std::string m = *name;
      if (!m.empty() && m.front() == '/') m.erase(0, 1);
      if (m.empty() || m.back() == '/' || m.find("//") != std::string::npos) {
        measure.error("expected a dataset path such as poverty/fgt0, found " + quote(*name));
        continue;
      }
      t.measure = m;
      t.value = *value;
      if (const auto year = item["year"].integer(between(1, kMaxCalendarYear)))
        t.year = static_cast<int>(*year);
      else if (item["year"].present())
        continue;
      if (item["group"].present()) {
        const auto g = item["group"].text();
        if (!g) continue;
        t.group = *g;
      }
      t.scale = std::abs(t.value);
      const Value scale = item["scale"];
      if (scale.present()) {
        const auto s = scale.number(above(0.0));
        if (!s) continue;
        t.scale = *s;
      } else if (t.value == 0.0) {
        item["value"].error(
            "a target of 0 needs a scale (the miss is divided by it), e.g. "
            "scale: 0.01");
        continue;
      }
      const auto [it, inserted] = seen.emplace(t.label(), t.line);
      if (!inserted) {
        item.error_plain("duplicate target " + t.label() + " (first given at line " +
                         std::to_string(it->second) + ")");
        continue;
      }
      spec_.targets.push_back(t);
    }
    if (spec_.targets.size() > kMaxTargets)
      v.error("at most " + std::to_string(kMaxTargets) + " targets, found " +
              std::to_string(spec_.targets.size()));
  }

  CalibrationSpec& spec_;
  DiagnosticSink& sink_;
};

// The base scenario with every parameter at one of its values: a loader diagnostic that
// names a parameter's path (or sits at its override) is reported at the parameter's line.
void validate_values(CalibrationSpec& spec, DiagnosticSink& sink) {
  // Loads at the start, then each parameter alone at its min and its max (others at start).
  std::vector<double> start;
  for (const CalibrationParameter& p : spec.parameters) start.push_back(p.start);
  std::vector<std::pair<std::vector<double>, std::string>> cases = {{start, "start"}};
  for (std::size_t i = 0; i < spec.parameters.size(); ++i) {
    for (const bool upper : {false, true}) {
      std::vector<double> x = start;
      x[i] = upper ? spec.parameters[i].max : spec.parameters[i].min;
      cases.emplace_back(x, upper ? "max" : "min");
    }
  }
  std::map<std::string, bool> reported;
  for (std::size_t c = 0; c < cases.size(); ++c) {
    try {
      const Scenario s = load_scenario_text(spec.base_text, spec.base_file,
                                            spec.overrides_at(cases[c].first, spec.replications));
      if (c == 0) {
        spec.seed = s.seed;
        spec.start_year = s.start_year;
        spec.years = s.years;
      }
    } catch (const ScenarioError& e) {
      for (const Diagnostic& d : e.diagnostics()) {
        // Whose value is it? A --set diagnostic names "path=value"; match a parameter.
        const CalibrationParameter* owner = nullptr;
        for (const CalibrationParameter& p : spec.parameters)
          if (d.file == "--set" && d.message.rfind(p.path + "=", 0) == 0) owner = &p;
        const SweepOverride* fixed = nullptr;
        for (const SweepOverride& o : spec.fixed)
          if (d.file == "--set" && d.message.rfind(o.item.path + "=", 0) == 0) fixed = &o;
        Diagnostic out = d;
        if (owner) {
          const std::string which = c == 0 ? "start" : cases[c].second;
          out = {spec.file, owner->line, owner->column,
                 "parameters." + owner->path + " at its " + which + " (" +
                     parameter_text(cases[c].first[&*owner - spec.parameters.data()]) +
                     "): " + d.message.substr(d.message.find(':') + 1)};
        } else if (fixed) {
          out = {spec.file, fixed->line, fixed->column,
                 "set." + fixed->item.path + ": " + d.message.substr(d.message.find(':') + 1)};
        }
        const std::string key = out.format();
        if (reported[key]) continue;
        reported[key] = true;
        sink.add(out);
      }
    }
  }
}

}  // namespace

CalibrationSpec load_calibration(const std::string& path,
                                 const std::vector<Override>& command_line) {
  CalibrationSpec spec;
  spec.file = path;
  spec.command_line = command_line;
  YAML::Node root = read_yaml_file(path, "calibration file", spec.text);
  DiagnosticSink sink(path);
  if (root.IsMap()) {
    const YAML::Node& map = root;
    if (!map["base"] && (map["markets"] || map["industries"] || map["population"]))
      sink.add({path, 0, 0,
                "this is a scenario (it has markets:, industries: or population:), not a "
                "calibration file: run it with incsim run, or calibrate it from a file with "
                "base: " +
                    path});
    else if (map["base"] &&
             (map["mode"] || map["overlays"] ||
              (map["parameters"] && map["parameters"].IsMap() && map["parameters"].size() > 0 &&
               map["parameters"].begin()->second.IsSequence())))
      sink.add({path, 0, 0,
                "this looks like a sweep file (parameters with lists of values): run it with "
                "incsim sweep; a calibration file gives each parameter {min: ..., max: ...}"});
  }
  CalibrationReader reader(spec, sink);
  reader.read(Value(root, "", YAML::Mark::null_mark(), &sink, true));
  if (sink.count() == 0 && !spec.base_text.empty()) {
    // A parameter aimed at a whole section cannot be fitted.
    YAML::Node base;
    try {
      base.reset(YAML::Load(spec.base_text));
    } catch (const YAML::Exception&) {
    }
    for (const CalibrationParameter& p : spec.parameters) {
      const YAML::Node node = base.IsDefined() ? find_node(base, p.path) : YAML::Node();
      if (node.IsDefined() && (node.IsMap() || node.IsSequence()))
        sink.add({path, p.line, p.column,
                  "parameters." + p.path + ": the base scenario has " +
                      (node.IsMap() ? "a mapping" : "a list") +
                      " here; a calibration parameter is a single number"});
    }
  }
  if (sink.count() == 0) validate_values(spec, sink);
  if (sink.count() > 0) throw ScenarioError(sink.take_sorted());
  return spec;
}

}  // namespace incsim
