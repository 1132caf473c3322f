// The YAML reading layer: values with marks and dotted paths, checked reads that report instead
// of throwing, and `--set` overrides applied to the tree before validation.
#include "scenario/yaml_reader.h"

#include "incsim/keys.h"

#include <algorithm>
#include <set>
#include <stdexcept>
#include <tuple>

namespace incsim {

Override parse_override(const std::string& text) {
  const auto equals = text.find('=');
  auto fail = [&](const std::string& why) -> Override {
    throw ScenarioError({Diagnostic{"--set", 0, 0, text + ": " + why}});
  };
  if (equals == std::string::npos) {
    return fail("expected path=value, e.g. markets.rice.price=4.2");
  }
  Override result{text.substr(0, equals), text.substr(equals + 1)};
  auto trim = [](std::string& s) {
    const auto first = s.find_first_not_of(" \t");
    const auto last = s.find_last_not_of(" \t");
    s = first == std::string::npos ? std::string() : s.substr(first, last - first + 1);
  };
  trim(result.path);
  if (result.path.empty()) return fail("expected path=value, the path is empty");
  std::size_t start = 0;
  while (true) {
    const auto dot = result.path.find('.', start);
    const auto segment = result.path.substr(start, dot - start);
    if (segment.empty()) return fail("empty segment in path " + result.path);
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  return result;
}

namespace scenario_detail {

namespace {
bool is_under(const std::string& path, const std::string& prefix) {
  return path == prefix ||
         (path.size() > prefix.size() && path.starts_with(prefix) && path[prefix.size()] == '.');
}

std::vector<std::string> split_path(const std::string& path) {
  std::vector<std::string> segments;
  std::size_t start = 0;
  while (true) {
    const auto dot = path.find('.', start);
    segments.push_back(path.substr(start, dot - start));
    if (dot == std::string::npos) return segments;
    start = dot + 1;
  }
}
}  // namespace

// ---- DiagnosticSink ---------------------------------------------------------------------------

const OverrideRecord* DiagnosticSink::override_for(const std::string& path,
                                                   bool mark_is_null) const {
  for (auto it = overrides_.rbegin(); it != overrides_.rend(); ++it) {
    if (is_under(path, it->path)) return &*it;
  }
  if (!mark_is_null) return nullptr;
  // No mark: the node was created by an override below it (e.g. a new industry's mapping).
  std::string prefix = path;
  while (!prefix.empty()) {
    for (auto it = overrides_.rbegin(); it != overrides_.rend(); ++it) {
      if (is_under(it->path, prefix)) return &*it;
    }
    const auto dot = prefix.rfind('.');
    prefix = dot == std::string::npos ? std::string() : prefix.substr(0, dot);
  }
  return nullptr;
}

void DiagnosticSink::report(const YAML::Mark& mark, const std::string& path,
                            const std::string& body, bool with_path) {
  if (const OverrideRecord* from = override_for(path, mark.is_null())) {
    std::string message = from->path + "=" + from->value + ": ";
    if (with_path && path != from->path) message += path + ": ";
    add({"--set", 0, 0, message + body});
    return;
  }
  const std::string message = with_path && !path.empty() ? path + ": " + body : body;
  if (mark.is_null()) {
    add({file_, 0, 0, message});
  } else {
    add({file_, mark.line + 1, mark.column + 1, message});
  }
}

std::vector<Diagnostic> DiagnosticSink::take_sorted() {
  std::vector<Diagnostic> unique;
  std::set<std::tuple<std::string, int, int, std::string>> seen;
  for (Diagnostic& d : diagnostics_) {
    if (seen.emplace(d.file, d.line, d.column, d.message).second) unique.push_back(std::move(d));
  }
  diagnostics_.clear();
  std::stable_sort(unique.begin(), unique.end(), [](const Diagnostic& a, const Diagnostic& b) {
    return std::tie(a.file, a.line, a.column) < std::tie(b.file, b.line, b.column);
  });
  return unique;
}

// ---- Value ------------------------------------------------------------------------------------

Value::Value(YAML::Node node, std::string path, YAML::Mark key_mark, DiagnosticSink* sink,
             bool present, std::string key)
    : node_(std::move(node)),
      path_(std::move(path)),
      key_mark_(key_mark),
      sink_(sink),
      present_(present),
      table_key_(std::move(key)) {}

namespace {
void record_read(DiagnosticSink* sink, const Value& v) {
  if (KeyTrace* trace = sink ? sink->trace() : nullptr)
    trace->reads.push_back({v.table_key(), v.path(), v.present()});
}
}  // namespace

YAML::Mark Value::mark() const {
  if (!present_) return YAML::Mark::null_mark();
  if (!node_.IsScalar() && !key_mark_.is_null()) return key_mark_;
  const YAML::Mark own = node_.Mark();
  return own.is_null() ? key_mark_ : own;
}

std::string Value::found() const {
  if (!present_ || node_.IsNull()) return "nothing";
  if (node_.IsScalar()) return quote(node_.Scalar());
  if (node_.IsMap()) return "a mapping";
  if (node_.IsSequence()) return "a list";
  return "an undefined value";
}

Value Value::operator[](std::string_view key) const {
  const std::string child = path_join(path_, key);
  Value result(YAML::Node(), child, YAML::Mark::null_mark(), sink_, false,
               path_join(table_key_, key));
  if (present_ && node_.IsMap()) {
    for (auto it = node_.begin(); it != node_.end(); ++it) {
      if (it->first.IsScalar() && it->first.Scalar() == key) {
        result = Value(it->second, child, it->first.Mark(), sink_, true, result.table_key_);
        break;
      }
    }
  }
  record_read(sink_, result);
  return result;
}

std::vector<Value> Value::items() const {
  std::vector<Value> result;
  if (!present_) return result;
  if (!node_.IsSequence()) {
    error("expected a list, found " + found());
    return result;
  }
  for (std::size_t i = 0; i < node_.size(); ++i) {
    result.emplace_back(node_[i], path_join(path_, std::to_string(i)), YAML::Mark::null_mark(),
                        sink_, true, table_key_ + "[]");
  }
  return result;
}

std::size_t Value::size() const {
  return present_ && (node_.IsMap() || node_.IsSequence()) ? node_.size() : 0;
}

namespace {
// Reports keys that are not scalars and keys given twice; returns the scalar keys.
void check_keys(const YAML::Node& node, const std::string& path, DiagnosticSink& sink,
                const std::vector<std::string>* allowed) {
  std::vector<std::pair<std::string, YAML::Mark>> seen;
  for (auto it = node.begin(); it != node.end(); ++it) {
    const YAML::Node key = it->first;  // a copy: `it->` yields a temporary proxy
    if (!key.IsScalar()) {
      sink.report(key.Mark(), path, "expected a name as key, found a mapping or list");
      continue;
    }
    const std::string& name = key.Scalar();
    const std::string child = path_join(path, name);
    const std::string where = path.empty() ? "" : " in " + path;
    if (allowed && std::find(allowed->begin(), allowed->end(), name) == allowed->end()) {
      sink.report(key.Mark(), child, "unknown key " + quote(name) + where + suggest(name, *allowed),
                  false);
      continue;
    }
    auto first = std::find_if(seen.begin(), seen.end(), [&](auto& s) { return s.first == name; });
    if (first != seen.end()) {
      const std::string at =
          first->second.is_null()
              ? std::string()
              : " (first given at line " + std::to_string(first->second.line + 1) + ")";
      sink.report(key.Mark(), child, "duplicate key " + quote(name) + where + at, false);
      continue;
    }
    seen.emplace_back(name, key.Mark());
  }
}
}  // namespace

bool Value::expect_fields(const std::vector<std::string>& allowed) const {
  if (!present_) return false;
  if (node_.IsNull()) return true;  // an empty section: every key takes its default
  if (!node_.IsMap()) {
    error("expected a mapping with keys " + join(allowed, ", ") + ", found " + found());
    return false;
  }
  check_keys(node_, path_, *sink_, &allowed);
  return true;
}

bool Value::expect_fields() const {
  const std::vector<std::string>& allowed = scenario_key_fields(table_key_);
  if (allowed.empty())
    throw std::logic_error("the scenario key table has no keys for " + quote(table_key_) +
                           " (read at " + quote(path_) + ")");
  return expect_fields(allowed);
}

std::vector<std::pair<std::string, Value>> Value::named_entries() const {
  std::vector<std::pair<std::string, Value>> result;
  if (!present_ || node_.IsNull()) return result;
  if (!node_.IsMap()) {
    error("expected a mapping of names, found " + found());
    return result;
  }
  check_keys(node_, path_, *sink_, nullptr);
  // The entries' table key: the mapping's <name> entry, or (sections) the name itself.
  const std::string placeholder = scenario_key_placeholder(table_key_);
  std::vector<std::string> names;
  for (auto it = node_.begin(); it != node_.end(); ++it) {
    if (!it->first.IsScalar()) continue;
    const std::string name = it->first.Scalar();
    if (std::find(names.begin(), names.end(), name) != names.end()) continue;  // duplicate
    if (has_control_character(name)) {  // names become output labels and HDF5 strings
      sink_->report(it->first.Mark(), path_,
                    "expected names without NUL or control characters, found " +
                        quote(escape_controls(name)));
      names.push_back(name);
      continue;
    }
    names.push_back(name);
    result.emplace_back(name,
                        Value(it->second, path_join(path_, name), it->first.Mark(), sink_, true,
                              placeholder.empty() ? path_join(table_key_, name) : placeholder));
    record_read(sink_, result.back().second);
  }
  return result;
}

void Value::error(const std::string& body) const {
  sink_->report(mark(), path_, body, true);
}

void Value::error_plain(const std::string& body) const {
  sink_->report(mark(), path_, body, false);
}

void Value::error_at_key(const std::string& body) const {
  sink_->report(key_mark_.is_null() ? mark() : key_mark_, path_, body, true);
}

void Value::missing(std::string_view key, const std::string& expected) const {
  std::string body = "required key is missing";
  if (!expected.empty()) body += " (expected " + expected + ")";
  sink_->report(mark(), path_join(path_, key), body, true);
}

Value Value::require(std::string_view key, const std::string& expected) const {
  Value child = (*this)[key];
  if (!child.present() && present_) missing(key, expected);
  return child;
}

std::optional<double> Value::number(const Bounds& bounds) const {
  if (!present_) return std::nullopt;
  if (KeyTrace* trace = sink_->trace()) trace->checks.push_back({table_key_, bounds});
  const auto value = node_.IsScalar() ? parse_number(node_.Scalar()) : std::nullopt;
  if (!value) {
    error("expected a number, found " + found());
    return std::nullopt;
  }
  if (!bounds.contains(*value)) {
    error("expected a number" + bounds.describe() + ", found " + node_.Scalar());
    return std::nullopt;
  }
  return value;
}

std::optional<std::int64_t> Value::integer(const Bounds& bounds) const {
  if (!present_) return std::nullopt;
  if (KeyTrace* trace = sink_->trace()) trace->checks.push_back({table_key_, bounds});
  const auto value = node_.IsScalar() ? parse_integer(node_.Scalar()) : std::nullopt;
  if (!value) {
    error("expected an integer, found " + found());
    return std::nullopt;
  }
  if (!bounds.contains(static_cast<double>(*value))) {
    error("expected an integer" + bounds.describe() + ", found " + node_.Scalar());
    return std::nullopt;
  }
  return value;
}

std::optional<std::uint64_t> Value::unsigned64() const {
  if (!present_) return std::nullopt;
  const auto value = node_.IsScalar() ? parse_unsigned64(node_.Scalar()) : std::nullopt;
  if (!value) {
    error("expected a non-negative integer up to 18446744073709551615, found " + found());
  }
  return value;
}

std::optional<std::string> Value::text() const {
  if (!present_) return std::nullopt;
  if (!node_.IsScalar()) {
    error("expected a string, found " + found());
    return std::nullopt;
  }
  if (node_.Scalar().find('\0') != std::string::npos) {  // HDF5 strings cannot hold it
    error("expected text without NUL bytes, found " + quote(escape_controls(node_.Scalar())));
    return std::nullopt;
  }
  return node_.Scalar();
}

std::optional<bool> Value::boolean() const {
  if (!present_) return std::nullopt;
  const auto value = node_.IsScalar() ? parse_bool(node_.Scalar()) : std::nullopt;
  if (!value) error("expected true or false, found " + found());
  return value;
}

bool assign(const Value& value, double& out, const Bounds& bounds) {
  if (!value.present()) return true;
  const auto v = value.number(bounds);
  if (v) out = *v;
  return v.has_value();
}

bool assign(const Value& value, int& out, const Bounds& bounds) {
  if (!value.present()) return true;
  const auto v = value.integer(bounds);
  if (!v) return false;
  if (*v < std::numeric_limits<int>::min() || *v > std::numeric_limits<int>::max()) {
    value.error("expected an integer between -2147483648 and 2147483647, found " + value.scalar());
    return false;
  }
  out = static_cast<int>(*v);
  return true;
}

bool assign(const Value& value, std::int64_t& out, const Bounds& bounds) {
  if (!value.present()) return true;
  const auto v = value.integer(bounds);
  if (v) out = *v;
  return v.has_value();
}

bool assign(const Value& value, std::string& out) {
  if (!value.present()) return true;
  const auto v = value.text();
  if (v) out = *v;
  return v.has_value();
}

bool assign(const Value& value, bool& out) {
  if (!value.present()) return true;
  const auto v = value.boolean();
  if (v) out = *v;
  return v.has_value();
}

// ---- overrides --------------------------------------------------------------------------------

namespace {
// Walks `root` along the override's path, creating missing mappings, and sets the value.
// Returns an error text, empty on success.
std::string apply_one(YAML::Node& root, const Override& o, const YAML::Node& value) {
  const std::vector<std::string> segments = split_path(o.path);
  if (!root.IsMap()) {
    if (!root.IsDefined() || root.IsNull()) {
      root = YAML::Node(YAML::NodeType::Map);
    } else {
      return "the scenario is not a mapping of sections";
    }
  }
  YAML::Node current = root;
  std::string walked;
  std::string key;  // the table path of `current` (keys.h): markets.<market>, products[]
  for (std::size_t i = 0; i < segments.size(); ++i) {
    const std::string& segment = segments[i];
    const bool last = i + 1 == segments.size();
    YAML::Node next;
    const std::string placeholder = scenario_key_placeholder(key);
    // A key inside an entry the analyst names (markets.crayfsh.price) would otherwise create a
    // new, incomplete entry from a typo: the entry must exist, or be given whole.
    if (!placeholder.empty() && !last && current.IsMap() &&
        (!current[segment].IsDefined() || current[segment].IsNull())) {
      std::vector<std::string> names;
      for (auto it = current.begin(); it != current.end(); ++it)
        if (it->first.IsScalar()) names.push_back(it->first.Scalar());
      const std::size_t open = placeholder.rfind('<');
      const std::string kind = placeholder.substr(open + 1, placeholder.size() - open - 2);
      return "no " + kind + " " + quote(segment) + " in " + walked +
             (names.empty() ? std::string() : suggest(segment, names)) +
             "; to add one, give the whole entry: --set '" + walked + "." + segment + "={...}'";
    }
    key = !placeholder.empty()   ? placeholder
          : current.IsSequence() ? key + "[]"
                                 : (key.empty() ? segment : key + "." + segment);
    if (current.IsSequence()) {
      const auto index = parse_unsigned64(segment);
      if (!index) {
        return quote(walked) + " is a list: " + quote(segment) + " is not an index into it";
      }
      if (*index > current.size()) {
        return "index " + segment + " is out of range: " + walked + " has " +
               std::to_string(current.size()) + " items";
      }
      if (*index == current.size()) current.push_back(YAML::Node(YAML::NodeType::Map));
      next.reset(current[static_cast<std::size_t>(*index)]);
    } else if (current.IsMap()) {
      next.reset(current[segment]);
      if (!last && (!next.IsDefined() || next.IsNull())) {
        current[segment] = YAML::Node(YAML::NodeType::Map);
        next.reset(current[segment]);
      }
    } else {
      return quote(walked) + " is a single value (" + YAML::Dump(current) +
             "), not a mapping: cannot set " + quote(segment) + " inside it";
    }
    if (last) {
      next = value;  // assigns through the reference into the tree
      return {};
    }
    walked = path_join(walked, segment);
    current.reset(next);
  }
  return {};
}
}  // namespace

std::vector<OverrideRecord> apply_overrides(YAML::Node& root, const std::vector<Override>& list,
                                            DiagnosticSink& sink) {
  std::vector<OverrideRecord> applied;
  for (const Override& o : list) {
    const std::string prefix = o.path + "=" + o.value + ": ";
    YAML::Node value;
    try {
      value = YAML::Load(o.value);
    } catch (const YAML::Exception& e) {
      sink.add({"--set", 0, 0, prefix + "invalid YAML value: " + e.msg});
      continue;
    }
    const std::string problem = apply_one(root, o, value);
    if (!problem.empty()) {
      sink.add({"--set", 0, 0, prefix + problem});
      continue;
    }
    applied.push_back({o.path, o.value});
  }
  return applied;
}

}  // namespace scenario_detail
}  // namespace incsim
