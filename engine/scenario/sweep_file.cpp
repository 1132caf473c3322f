// The sweep file (incsim sweep): base, mode, parameters | overlays, keep, set. Read with the
// scenario loader's reading layer, expanded into points, and every point's scenario loaded
// before anything runs. A loader diagnostic caused by one of the sweep's own overrides is
// reported at the sweep file line that gave it, naming the values that fail.
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <set>
#include <tuple>

#include "incsim/sweep.h"
#include "scenario/sections.h"
#include "scenario/yaml_reader.h"

namespace incsim {

const char* to_string(SweepMode mode) {
  switch (mode) {
    case SweepMode::grid:
      return "grid";
    case SweepMode::zip:
      return "zip";
    case SweepMode::stack:
      return "stack";
  }
  return "?";
}

std::vector<Override> SweepSpec::overrides_of(std::size_t k) const {
  std::vector<Override> list;
  for (const SweepOverride& o : fixed) list.push_back(o.item);
  list.insert(list.end(), command_line.begin(), command_line.end());
  for (const SweepOverride& o : points.at(k).overrides) list.push_back(o.item);
  return list;
}

namespace scenario_detail {

// A dotted scenario path: non-empty segments, no '=' (the override syntax splits on it).
bool valid_path(const std::string& path) {
  if (path.empty() || path.find('=') != std::string::npos) return false;
  std::size_t start = 0;
  while (true) {
    const auto dot = path.find('.', start);
    if (path.substr(start, dot - start).empty()) return false;
    if (dot == std::string::npos) return true;
    start = dot + 1;
  }
}

std::vector<std::string> segments_of(const std::string& path) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (true) {
    const auto dot = path.find('.', start);
    out.push_back(path.substr(start, dot - start));
    if (dot == std::string::npos) return out;
    start = dot + 1;
  }
}

// The node at `path` of `root`, or an undefined node.
YAML::Node find_node(const YAML::Node& root, const std::string& path) {
  YAML::Node current = root;
  for (const std::string& segment : segments_of(path)) {
    if (current.IsMap()) {
      YAML::Node next(YAML::NodeType::Undefined);  // a default Node is a defined null
      for (auto it = current.begin(); it != current.end(); ++it) {
        if (it->first.IsScalar() && it->first.Scalar() == segment) next.reset(it->second);
      }
      if (!next.IsDefined()) return YAML::Node(YAML::NodeType::Undefined);
      current.reset(next);
    } else if (current.IsSequence()) {
      const auto index = parse_unsigned64(segment);
      if (!index || *index >= current.size()) return YAML::Node(YAML::NodeType::Undefined);
      current.reset(current[static_cast<std::size_t>(*index)]);
    } else {
      return YAML::Node(YAML::NodeType::Undefined);
    }
  }
  return current;
}

int line_of(const YAML::Mark& mark) {
  return mark.is_null() ? 0 : mark.line + 1;
}
int column_of(const YAML::Mark& mark) {
  return mark.is_null() ? 0 : mark.column + 1;
}

std::string yaml_text(const YAML::Node& node) {
  YAML::Emitter out;
  out.SetMapFormat(YAML::Flow);
  out.SetSeqFormat(YAML::Flow);
  out << node;
  return out.c_str();
}

YAML::Node read_yaml_file(const std::string& path, const char* what, std::string& text) {
  std::string reason;
  const auto read = read_text_file(path, reason);
  if (!read)
    throw ScenarioError(
        {Diagnostic{path, 0, 0, "cannot read " + std::string(what) + ": " + reason}});
  text = *read;
  if (const auto nul = first_nul(text)) throw ScenarioError({nul_byte_error(path, text, *nul)});
  YAML::Node root;
  try {
    root.reset(YAML::Load(text));
  } catch (const YAML::Exception& e) {
    throw ScenarioError(
        {Diagnostic{path, line_of(e.mark), column_of(e.mark), "YAML syntax error: " + e.msg}});
  }
  return root;
}

bool read_base_scenario(const Value& v, std::string& file, std::string& text) {
  const auto name = v.text();
  if (!name) return false;
  std::filesystem::path base(*name);
  if (base.is_relative()) base = std::filesystem::path(v.sink().file()).parent_path() / base;
  file = base.lexically_normal().string();
  std::string reason;
  const auto read = read_text_file(file, reason);
  if (!read) {
    v.error("cannot read the base scenario " + quote(file) + ": " + reason);
    return false;
  }
  text = *read;
  return true;
}

bool check_override_path(const Value& entry, const std::string& path) {
  if (valid_path(path)) return true;
  entry.error_at_key(
      "expected a dotted scenario path such as markets.crayfish.volatility, "
      "found " +
      quote(path));
  return false;
}

std::vector<SweepOverride> read_set_overrides(const Value& v, bool required) {
  std::vector<SweepOverride> out;
  if (!v.present()) return out;
  if (!v.is_null() && !v.is_map()) {
    v.error(
        "expected a mapping of scenario paths to values, e.g. {insurance.agricultural."
        "deductible: 0.2}, found " +
        v.found());
    return out;
  }
  for (const auto& [path, value] : v.named_entries()) {
    if (!check_override_path(value, path)) continue;
    out.push_back(
        {{path, yaml_text(value.node())}, line_of(value.key_mark()), column_of(value.key_mark())});
  }
  if (required && out.empty() && (v.is_null() || v.size() == 0)) {
    v.error("expected at least one path: value to set");
  }
  return out;
}

}  // namespace scenario_detail

namespace {

using namespace scenario_detail;

const std::vector<std::string> kKeys = {"base", "mode", "parameters", "overlays", "keep", "set"};
const std::vector<std::string> kModes = {"grid", "zip", "stack"};
const std::vector<std::string> kKeep = {"all", "table"};
constexpr std::size_t kMaxPoints = 1000000;

std::string shorten(const std::string& text, std::size_t limit = 48) {
  return text.size() <= limit ? text : text.substr(0, limit - 3) + "...";
}

class SweepReader {
 public:
  SweepReader(SweepSpec& spec, DiagnosticSink& sink) : spec_(spec), sink_(sink) {}

  void read(const Value& root) {
    if (!root.present() || root.is_null()) {
      sink_.add({sink_.file(), 0, 0,
                 "the sweep file is empty; expected base, parameters (or mode: stack and "
                 "overlays)"});
      return;
    }
    if (!root.is_map()) {
      root.error_plain("expected a mapping with keys " + join(kKeys, ", ") + ", found " +
                       root.found());
      return;
    }
    root.expect_fields(kKeys);
    read_base_scenario(root.require("base", "a scenario file, relative to this sweep file"),
                       spec_.base_file, spec_.base_text);
    read_mode(root["mode"]);
    const Value keep = root["keep"];
    if (const auto k = keep.text()) {
      if (*k == "table") {
        spec_.table_only = true;
      } else if (*k != "all") {
        keep.error("expected all or table, found " + keep.found() + suggest(*k, kKeep));
      }
    }
    spec_.fixed = read_set_overrides(root["set"], false);
    if (spec_.mode == SweepMode::stack) {
      if (root["parameters"].present()) {
        root["parameters"].error_at_key(
            "not used with mode: stack (each overlay sets its own values); remove it or use "
            "mode: grid");
      }
      read_overlays(root.require("overlays", "a list of {name: ..., set: {path: value}}"));
    } else {
      if (root["overlays"].present()) {
        root["overlays"].error_at_key(std::string("only used with mode: stack (this sweep's mode "
                                                  "is ") +
                                      to_string(spec_.mode) + ")");
      }
      read_parameters(root.require("parameters", "a mapping of scenario paths to value lists"));
    }
  }

  // Expands the points; call only when reading gave no error.
  void expand() {
    if (spec_.mode == SweepMode::stack) {
      spec_.points.push_back({{"base"}, {}});
      std::vector<SweepOverride> cumulative;
      for (const SweepOverlay& overlay : spec_.overlays) {
        cumulative.insert(cumulative.end(), overlay.set.begin(), overlay.set.end());
        spec_.points.push_back({{overlay.name}, cumulative});
      }
      return;
    }
    std::size_t count = spec_.mode == SweepMode::zip ? spec_.parameters.front().values.size() : 1;
    if (spec_.mode == SweepMode::grid) {
      for (const SweepParameter& p : spec_.parameters) count *= p.values.size();
    }
    for (std::size_t k = 0; k < count; ++k) {
      SweepPoint point;
      std::size_t rest = k;
      std::vector<std::size_t> index(spec_.parameters.size(), k);
      if (spec_.mode == SweepMode::grid) {
        for (std::size_t i = spec_.parameters.size(); i-- > 0;) {  // the last varies fastest
          index[i] = rest % spec_.parameters[i].values.size();
          rest /= spec_.parameters[i].values.size();
        }
      }
      for (std::size_t i = 0; i < spec_.parameters.size(); ++i) {
        const SweepParameter& p = spec_.parameters[i];
        point.labels.push_back(p.values[index[i]]);
        point.overrides.push_back({{p.path, p.values[index[i]]}, p.line, p.column});
      }
      spec_.points.push_back(std::move(point));
    }
  }

 private:
  void read_mode(const Value& v) {
    const auto mode = v.text();
    if (!mode) return;
    if (*mode == "grid") {
      spec_.mode = SweepMode::grid;
    } else if (*mode == "zip") {
      spec_.mode = SweepMode::zip;
    } else if (*mode == "stack") {
      spec_.mode = SweepMode::stack;
    } else {
      v.error("unknown mode " + quote(*mode) + suggest(*mode, kModes));
    }
  }

  void read_parameters(const Value& v) {
    if (!v.present()) return;
    if (v.is_null() || (v.is_map() && v.size() == 0)) {
      v.error("expected at least one parameter, e.g. markets.crayfish.volatility: [0.2, 0.3]");
      return;
    }
    if (!v.is_map()) {
      v.error("expected a mapping of scenario paths to value lists, found " + v.found());
      return;
    }
    for (const auto& [path, list] : v.named_entries()) {
      if (!check_override_path(list, path)) continue;
      SweepParameter p;
      p.path = path;
      p.line = line_of(list.key_mark());
      p.column = column_of(list.key_mark());
      if (!list.is_list()) {
        list.error_at_key("expected a list of values, e.g. [0.6, 0.8, 1.0], found " + list.found());
        continue;
      }
      if (list.size() == 0) {
        list.error_at_key("empty list of values: a parameter needs at least one value");
        continue;
      }
      p.numeric = true;
      bool ok = true;
      for (const Value& item : list.items()) {
        if (!item.is_scalar()) {
          item.error_plain("parameter " + path +
                           ": expected a single value (number or text), "
                           "found " +
                           item.found() + "; set whole sections with mode: stack overlays");
          ok = false;
          continue;
        }
        p.values.push_back(yaml_text(item.node()));
        if (!parse_number(item.scalar())) p.numeric = false;
      }
      if (ok) spec_.parameters.push_back(std::move(p));
    }
    if (spec_.mode == SweepMode::zip && !spec_.parameters.empty()) {
      const SweepParameter& first = spec_.parameters.front();
      for (const SweepParameter& p : spec_.parameters) {
        if (p.values.size() == first.values.size()) continue;
        sink_.add({sink_.file(), p.line, p.column,
                   "parameters." + p.path + ": mode zip needs lists of equal length: it has " +
                       std::to_string(p.values.size()) + " values, " + first.path + " (line " +
                       std::to_string(first.line) + ") has " +
                       std::to_string(first.values.size())});
      }
    }
    if (spec_.mode == SweepMode::grid) {
      double count = 1;
      for (const SweepParameter& p : spec_.parameters) count *= double(p.values.size());
      if (count > double(kMaxPoints)) {
        v.error("the grid has " + format_number(count) + " points, more than " +
                std::to_string(kMaxPoints));
      }
    }
  }

  void read_overlays(const Value& v) {
    if (!v.present()) return;
    if (v.is_null() || (v.is_list() && v.size() == 0)) {
      v.error("expected at least one overlay {name: ..., set: {path: value, ...}}");
      return;
    }
    std::map<std::string, int> names;
    for (const Value& item : v.items()) {
      if (!item.expect_fields({"name", "set"})) continue;
      SweepOverlay overlay;
      overlay.line = line_of(item.mark());
      const Value name = item.require("name", "a short label, e.g. + agricultural");
      if (const auto text = name.text()) {
        overlay.name = *text;
        const auto [it, inserted] = names.emplace(*text, line_of(name.mark()));
        if (!inserted) {
          name.error("duplicate overlay name " + quote(*text) + " (first given at line " +
                     std::to_string(it->second) + ")");
        }
      }
      overlay.set =
          read_set_overrides(item.require("set", "a mapping of scenario paths to values"), true);
      spec_.overlays.push_back(std::move(overlay));
    }
  }

  SweepSpec& spec_;
  DiagnosticSink& sink_;
};

// ---- point validation -------------------------------------------------------------------------

// A path under `node` that ends in a single value, for the hint of a non-scalar target.
std::string first_leaf(const YAML::Node& node, const std::string& path) {
  if (node.IsMap() && node.size() > 0) {
    const auto it = node.begin();
    if (it->first.IsScalar()) return first_leaf(it->second, path + "." + it->first.Scalar());
  }
  if (node.IsSequence() && node.size() > 0) return first_leaf(node[0], path + ".0");
  return path;
}

// Reports parameters whose target in the base is a mapping or list; returns false if any is.
bool check_targets(const SweepSpec& spec, DiagnosticSink& sink) {
  YAML::Node root;
  try {
    root.reset(YAML::Load(spec.base_text));
  } catch (const YAML::Exception&) {
    return true;  // every point reports the syntax error
  }
  DiagnosticSink scratch(spec.base_file);
  std::vector<Override> fixed;
  for (const SweepOverride& o : spec.fixed) fixed.push_back(o.item);
  fixed.insert(fixed.end(), spec.command_line.begin(), spec.command_line.end());
  apply_overrides(root, fixed, scratch);
  bool ok = true;
  for (const SweepParameter& p : spec.parameters) {
    const YAML::Node target = find_node(root, p.path);
    if (!target.IsDefined() || !(target.IsMap() || target.IsSequence())) continue;
    const std::string what = target.IsMap() ? "a mapping" : "a list";
    sink.add({spec.file, p.line, p.column,
              "parameters." + p.path + ": the base scenario has " + what +
                  " here, not a single value; a sweep parameter sets one value, e.g. " +
                  first_leaf(target, p.path) + " (replace whole sections with mode: stack)"});
    ok = false;
  }
  return ok;
}

struct MappedKey {
  int line, column;
  std::string subject, rest;
  bool operator<(const MappedKey& o) const {
    return std::tie(line, column, subject, rest) < std::tie(o.line, o.column, o.subject, o.rest);
  }
};

class PointValidator {
 public:
  PointValidator(SweepSpec& spec) : spec_(spec) {
    try {
      load_scenario_text(spec.base_text, spec.base_file, base_overrides());
    } catch (const ScenarioError& e) {
      for (const Diagnostic& d : e.diagnostics()) base_errors_.insert(key_of(d));
    }
  }

  void validate() {
    for (std::size_t k = 0; k < spec_.points.size(); ++k) {
      try {
        const Scenario s =
            load_scenario_text(spec_.base_text, spec_.base_file, spec_.overrides_of(k));
        check_horizon(k, s);
        for (const std::string& w : s.warnings) {
          if (std::find(spec_.warnings.begin(), spec_.warnings.end(), w) == spec_.warnings.end())
            spec_.warnings.push_back(w);
        }
      } catch (const ScenarioError& e) {
        for (const Diagnostic& d : e.diagnostics()) map(k, d);
      }
    }
    for (const auto& [key, values] : mapped_) {
      std::string text = key.subject;
      if (!values.empty()) text += " = " + join(values, ", ");
      others_.push_back({spec_.file, key.line, key.column, text + ": " + key.rest});
    }
  }

  std::vector<Diagnostic> take() {
    DiagnosticSink sorted(spec_.file);
    for (Diagnostic& d : others_) sorted.add(std::move(d));
    return sorted.take_sorted();
  }

 private:
  using Key = std::tuple<std::string, int, int, std::string>;
  static Key key_of(const Diagnostic& d) { return {d.file, d.line, d.column, d.message}; }

  std::vector<Override> base_overrides() const {
    std::vector<Override> list;
    for (const SweepOverride& o : spec_.fixed) list.push_back(o.item);
    list.insert(list.end(), spec_.command_line.begin(), spec_.command_line.end());
    return list;
  }

  std::string describe_point(std::size_t k) const {
    std::vector<std::string> parts;
    if (spec_.mode == SweepMode::stack) {
      parts.push_back(spec_.points[k].labels.front());
    } else {
      for (std::size_t i = 0; i < spec_.parameters.size(); ++i)
        parts.push_back(spec_.parameters[i].path + "=" + spec_.points[k].labels[i]);
    }
    return "sweep point " + std::to_string(k) + ": " + shorten(join(parts, ", "), 120);
  }

  // "overlay 'name':" for an override of a stack overlay.
  std::string overlay_of(const SweepOverride& o) const {
    for (const SweepOverlay& overlay : spec_.overlays) {
      for (const SweepOverride& item : overlay.set) {
        if (item.line == o.line && item.column == o.column)
          return "overlay " + quote(overlay.name) + ":";
      }
    }
    return "overlay";
  }

  // A "--set" diagnostic of one of the sweep's own overrides goes to the sweep file line that
  // gave it; others stay where the loader put them (noting the point if the base alone is fine).
  void map(std::size_t k, const Diagnostic& d) {
    if (d.file == "--set") {
      const SweepOverride* from = nullptr;
      std::string origin;
      auto consider = [&](const SweepOverride& o, const std::string& what) {
        if (d.message.starts_with(o.item.path + "=" + o.item.value + ": ")) {
          from = &o;
          origin = what;
        }
      };
      for (const SweepOverride& o : spec_.fixed) consider(o, "set");
      for (const SweepOverride& o : spec_.points[k].overrides) {
        consider(o, spec_.mode == SweepMode::stack ? overlay_of(o) : "parameter");
      }
      if (from != nullptr) {
        const std::string rest =
            d.message.substr(from->item.path.size() + from->item.value.size() + 3);
        std::vector<std::string>& values =
            mapped_[{from->line, from->column, origin + " " + from->item.path, rest}];
        const std::string value = shorten(from->item.value);
        if (origin == "parameter" &&
            std::find(values.begin(), values.end(), value) == values.end()) {
          values.push_back(value);
        }
        return;
      }
    }
    if (base_errors_.count(key_of(d)) > 0 || spec_.points[k].overrides.empty()) {
      others_.push_back(d);
      return;
    }
    Diagnostic noted = d;
    noted.message += " (at " + describe_point(k) + ")";
    if (noted_.insert(key_of(d)).second) others_.push_back(noted);
  }

  void check_horizon(std::size_t k, const Scenario& s) {
    if (!have_reference_) {
      have_reference_ = true;
      spec_.seed = s.seed;
      spec_.years = s.years;
      spec_.start_year = s.start_year;
      return;
    }
    if (s.years == spec_.years && s.start_year == spec_.start_year) return;
    Diagnostic d{spec_.file, 0, 0,
                 "every sweep point must cover the same years (the /sweep table is indexed by "
                 "year): " +
                     describe_point(k) + " runs " + std::to_string(s.years) + " years from " +
                     std::to_string(s.start_year) + "; point 0 runs " +
                     std::to_string(spec_.years) + " from " + std::to_string(spec_.start_year)};
    for (const SweepOverride& o : spec_.points[k].overrides) {
      if (o.item.path == "scenario.years" || o.item.path == "scenario.start_year") {
        d.line = o.line;
        d.column = o.column;
      }
    }
    if (noted_.insert(key_of(Diagnostic{d.file, d.line, d.column, "horizon"})).second)
      others_.push_back(d);
  }

  SweepSpec& spec_;
  bool have_reference_ = false;  // seed and horizon of the first point that loaded
  std::set<Key> base_errors_;
  std::set<Key> noted_;
  std::map<MappedKey, std::vector<std::string>> mapped_;
  std::vector<Diagnostic> others_;
};

}  // namespace

SweepSpec load_sweep(const std::string& path, const std::vector<Override>& command_line,
                     bool table_only) {
  SweepSpec spec;
  spec.file = path;
  spec.command_line = command_line;
  YAML::Node root = read_yaml_file(path, "sweep file", spec.text);
  DiagnosticSink sink(path);
  if (root.IsMap()) {
    const YAML::Node& map = root;
    if (!map["base"] && (map["markets"] || map["industries"] || map["population"]))
      sink.add({path, 0, 0,
                "this is a scenario (it has markets:, industries: or population:), not a sweep "
                "file: run it with incsim run, or sweep it from a file with base: " +
                    path});
  }
  SweepReader reader(spec, sink);
  reader.read(Value(root, "", YAML::Mark::null_mark(), &sink, true));
  if (sink.count() > 0) {
    // The points cannot be expanded, but the base scenario with the sweep's fixed overrides
    // can still be checked: its errors come with the sweep file's, not at the next attempt.
    if (!spec.base_text.empty()) {
      SweepSpec base_only = spec;
      base_only.parameters.clear();
      base_only.overlays.clear();
      base_only.points = {SweepPoint{}};
      PointValidator base(base_only);
      base.validate();
      for (Diagnostic& d : base.take()) sink.add(std::move(d));
    }
    throw ScenarioError(sink.take_sorted());
  }
  reader.expand();
  spec.table_only = spec.table_only || table_only;

  // A parameter aimed at a whole section would make every point fail in confusing ways.
  if (!check_targets(spec, sink)) throw ScenarioError(sink.take_sorted());
  PointValidator validator(spec);
  validator.validate();
  std::vector<Diagnostic> problems = validator.take();
  for (Diagnostic& d : sink.take_sorted()) problems.push_back(std::move(d));
  if (!problems.empty()) {
    DiagnosticSink sorted(path);
    for (Diagnostic& d : problems) sorted.add(std::move(d));
    throw ScenarioError(sorted.take_sorted());
  }
  return spec;
}

std::string sweep_sidecar(const std::string& output) {
  return output + ".points";
}

}  // namespace incsim
