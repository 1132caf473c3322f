// The scenario key table (include/incsim/keys.h): its index by path, and the range type the
// loader checks numbers against. The loader's allowed keys and static ranges come from here;
// tests/unit/test_keys.cpp checks that every key the loader looks up is in the table and that
// every entry is read by some test scenario.
#include "incsim/keys.h"

#include <cmath>
#include <map>
#include <stdexcept>

#include "scenario/key_table.h"
#include "scenario/yaml_reader.h"

namespace incsim {

bool Bounds::contains(double value) const {
  const bool low_ok = lo_open ? value > lo : value >= lo;
  const bool high_ok = hi_open ? value < hi : value <= hi;
  return low_ok && high_ok;
}

std::string Bounds::describe() const {
  using scenario_detail::format_number;
  const bool has_lo = std::isfinite(lo);
  const bool has_hi = std::isfinite(hi);
  if (has_lo && has_hi) {
    return std::string(" in ") + (lo_open ? "(" : "[") + format_number(lo) + ", " +
           format_number(hi) + (hi_open ? ")" : "]");
  }
  if (has_lo) return (lo_open ? " > " : " >= ") + format_number(lo);
  if (has_hi) return (hi_open ? " < " : " <= ") + format_number(hi);
  return "";
}

namespace {

std::string parent_of(std::string_view path) {
  const auto dot = path.rfind('.');
  return dot == std::string_view::npos ? std::string() : std::string(path.substr(0, dot));
}

struct Index {
  std::vector<ScenarioKey> keys = scenario_detail::scenario_key_entries();
  std::map<std::string, std::size_t, std::less<>> by_path;
  std::map<std::string, std::vector<std::string>, std::less<>> fields;
  std::map<std::string, std::string, std::less<>> placeholder;

  Index() {
    for (std::size_t i = 0; i < keys.size(); ++i) {
      const std::string& path = keys[i].path;
      if (!by_path.emplace(path, i).second)
        throw std::logic_error("scenario key table: " + path + " is listed twice");
      const std::string parent = parent_of(path);
      const std::string name = path.substr(parent.empty() ? 0 : parent.size() + 1);
      if (name.front() == '<') {
        placeholder[parent] = path;
      } else {
        fields[parent].push_back(name);
      }
    }
    // An empty mapping (`key:`) is read as one without keys: valid unless some key is required.
    for (ScenarioKey& k : keys) {
      if (k.type != KeyType::mapping) continue;
      const std::string prefix = k.path + (k.path.empty() ? "" : ".");
      bool needs_a_key = false;
      for (const std::string& name : fields[k.path]) {
        const ScenarioKey& child = keys[by_path.at(prefix + name)];
        needs_a_key |= child.required || !child.alternative.empty();
      }
      k.nullable = k.empty_ok || !needs_a_key;
    }
  }
};

const Index& index() {
  static const Index table;  // immutable once built
  return table;
}

}  // namespace

const std::vector<ScenarioKey>& scenario_keys() {
  return index().keys;
}

const ScenarioKey* find_scenario_key(std::string_view path) {
  const Index& t = index();
  const auto it = t.by_path.find(path);
  return it == t.by_path.end() ? nullptr : &t.keys[it->second];
}

const std::vector<std::string>& scenario_key_fields(std::string_view path) {
  static const std::vector<std::string> none;
  const Index& t = index();
  const auto it = t.fields.find(path);
  return it == t.fields.end() ? none : it->second;
}

std::string scenario_key_placeholder(std::string_view path) {
  const Index& t = index();
  const auto it = t.placeholder.find(path);
  return it == t.placeholder.end() ? std::string() : it->second;
}

namespace scenario_detail {

Bounds key_range(std::string_view key) {
  // A list item (path[]) or a tuple element (path[][]) has its list's range.
  while (true) {
    if (const ScenarioKey* k = find_scenario_key(key)) return k->range;
    if (!key.ends_with("[]")) return any_number();
    key.remove_suffix(2);
  }
}

const std::vector<std::string>& key_words(std::string_view key) {
  static const std::vector<std::string> none;
  const ScenarioKey* k = find_scenario_key(key);
  return k ? k->values : none;
}

}  // namespace scenario_detail
}  // namespace incsim
