// The scenario key table (include/incsim/keys.h) against the loader: every key the loader looks
// up is in the table, every entry is read by some test scenario, and what the table says of a
// key (required, range, allowed words, exclusions) is what the loader does with it.
// scenarios/REFERENCE.md is the table's Markdown, as `incsim schema --markdown` prints it.
#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "incsim/keys.h"
#include "incsim/load.h"
#include "support.h"

namespace {

namespace fs = std::filesystem;
using incsim::KeyTrace;
using incsim::KeyType;
using incsim::ScenarioKey;

// The two scenarios that together set every key of the table (one cannot: some keys exclude
// others).
std::vector<std::string> maximal_scenarios() {
  const fs::path data = fs::path(INCSIM_SOURCE_DIR) / "tests/unit/data";
  return {(data / "all_keys.yaml").string(), (data / "all_keys_alternatives.yaml").string()};
}

// The scenarios the table is checked on: the bundled ones (not the sweeps), the regression
// scenarios and the maximal ones.
std::vector<std::string> test_scenarios() {
  std::vector<std::string> files;
  const fs::path source = INCSIM_SOURCE_DIR;
  for (const fs::path& dir : {source / "scenarios", source / "tests/regression/scenarios"}) {
    for (const auto& entry : fs::directory_iterator(dir)) {
      const std::string name = entry.path().filename().string();
      if (entry.path().extension() == ".yaml" && !name.starts_with("sweep_") &&
          !name.ends_with("_calibration.yaml"))
        files.push_back(entry.path().string());
    }
  }
  std::sort(files.begin(), files.end());
  for (const std::string& file : maximal_scenarios()) files.push_back(file);
  return files;
}

std::string messages(const incsim::ScenarioError& e) {
  std::string text;
  for (const incsim::Diagnostic& d : e.diagnostics()) text += "  " + d.format() + "\n";
  return text;
}

struct Traced {
  std::string file;
  KeyTrace trace;
};

// Every test scenario loaded with its trace (each must be valid).
const std::vector<Traced>& traced_scenarios() {
  static const std::vector<Traced> all = [] {
    std::vector<Traced> result;
    for (const std::string& file : test_scenarios()) {
      Traced t{file, {}};
      try {
        incsim::load_scenario_traced(file, t.trace);
      } catch (const incsim::ScenarioError& e) {
        ADD_FAILURE() << file << " does not load:\n" << messages(e);
      }
      result.push_back(std::move(t));
    }
    return result;
  }();
  return all;
}

// Where each table key is given in the test scenarios: (file, path in the scenario), in order.
using Occurrences = std::map<std::string, std::vector<std::pair<std::string, std::string>>>;
const Occurrences& occurrences() {
  static const Occurrences all = [] {
    Occurrences result;
    for (const Traced& t : traced_scenarios()) {
      std::set<std::string> seen;
      for (const KeyTrace::Read& r : t.trace.reads) {
        if (r.present && seen.insert(r.path).second) result[r.key].push_back({t.file, r.path});
      }
    }
    return result;
  }();
  return all;
}

std::vector<std::string> split(const std::string& path) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  while (true) {
    const auto dot = path.find('.', start);
    parts.push_back(path.substr(start, dot - start));
    if (dot == std::string::npos) return parts;
    start = dot + 1;
  }
}

// The scenario text with the node at `path` removed; empty_parent tells whether its mapping is
// then empty. Fails the test if the path does not lead to a node.
std::string without(const std::string& file, const std::string& path, bool& empty_parent) {
  YAML::Node root = YAML::LoadFile(file);
  const std::vector<std::string> parts = split(path);
  YAML::Node node = root;
  for (std::size_t i = 0; i + 1 < parts.size(); ++i) {
    YAML::Node next = node.IsSequence() ? node[std::stoul(parts[i])] : node[parts[i]];
    EXPECT_TRUE(next.IsDefined()) << path << " in " << file;
    node.reset(next);
  }
  EXPECT_TRUE(node.IsMap() && node[parts.back()].IsDefined()) << path << " in " << file;
  node.remove(parts.back());
  empty_parent = node.IsMap() && node.size() == 0;
  YAML::Emitter out;
  out << root;
  return out.c_str();
}

// The diagnostics of loading `file` with one override; empty if it loads.
std::string load_messages(const std::string& file, const std::string& path,
                          const std::string& value) {
  try {
    incsim::load_scenario(file, {{path, value}});
  } catch (const incsim::ScenarioError& e) {
    return messages(e);
  }
  return {};
}

std::string load_text_messages(const std::string& text, const std::string& file) {
  try {
    incsim::load_scenario_text(text, file);
  } catch (const incsim::ScenarioError& e) {
    return messages(e);
  }
  return {};
}

std::string parent_of(const std::string& path) {
  const auto dot = path.rfind('.');
  return dot == std::string::npos ? std::string() : path.substr(0, dot);
}

TEST(KeyTable, IsWellFormed) {
  for (const ScenarioKey& k : incsim::scenario_keys()) {
    SCOPED_TRACE(k.path);
    EXPECT_FALSE(k.meaning.empty());
    const std::string parent = parent_of(k.path);
    const std::string name = k.path.substr(parent.empty() ? 0 : parent.size() + 1);
    const std::string container =
        parent.ends_with("[]") ? parent.substr(0, parent.size() - 2) : parent;
    if (!parent.empty()) {
      const ScenarioKey* p = incsim::find_scenario_key(container);
      ASSERT_NE(p, nullptr) << "no entry for the parent " << container;
      if (parent.ends_with("[]")) {
        EXPECT_TRUE(p->type == KeyType::list && p->item == KeyType::mapping);
      } else if (name.starts_with("<")) {
        EXPECT_EQ(p->type, KeyType::names);
        EXPECT_EQ(incsim::scenario_key_placeholder(parent), k.path);
      } else {
        EXPECT_EQ(p->type, KeyType::mapping);
      }
    }
    if (k.type == KeyType::mapping) {
      EXPECT_FALSE(incsim::scenario_key_fields(k.path).empty()) << "a mapping without keys";
    }
    if (k.type == KeyType::list && k.item == KeyType::mapping) {
      EXPECT_FALSE(incsim::scenario_key_fields(k.path + "[]").empty()) << "items without keys";
    }
    if (k.type == KeyType::names) {
      EXPECT_FALSE(incsim::scenario_key_placeholder(k.path).empty()) << "names without <name>";
    }
    if (k.type == KeyType::choice) {
      EXPECT_FALSE(k.values.empty()) << "a choice without words";
    } else if (!k.values.empty()) {
      EXPECT_EQ(k.type, KeyType::number) << "only numbers may also take words";
    }
    const bool tuples =
        k.type == KeyType::tuple || (k.type == KeyType::list && k.item == KeyType::tuple);
    EXPECT_EQ(tuples, !k.elements.empty());
    for (const std::string& other : {k.fallback, k.required_unless}) {
      if (!other.empty()) {
        EXPECT_NE(incsim::find_scenario_key(other), nullptr) << other;
      }
    }
    for (const std::string& sibling : {k.alternative, k.excluded_by}) {
      if (sibling.empty()) continue;
      const std::string path = parent.empty() ? sibling : parent + "." + sibling;
      ASSERT_NE(incsim::find_scenario_key(path), nullptr) << "no sibling " << path;
      if (sibling == k.alternative) {
        EXPECT_EQ(incsim::find_scenario_key(path)->alternative, name) << "not mutual";
      }
    }
  }
}

// (a) The loader looks up no key that the table does not describe, and checks every number
// against the table's range (a key whose bound depends on another key: its lower bound).
TEST(KeyTable, HasEveryKeyTheLoaderReads) {
  for (const Traced& t : traced_scenarios()) {
    SCOPED_TRACE(t.file);
    EXPECT_FALSE(t.trace.reads.empty());
    for (const KeyTrace::Read& r : t.trace.reads) {
      EXPECT_NE(incsim::find_scenario_key(r.key), nullptr)
          << "the loader looks up " << r.path << " (key " << r.key << "), not in the table";
    }
    for (const KeyTrace::Check& c : t.trace.checks) {
      std::string key = c.key;
      while (!incsim::find_scenario_key(key) && key.ends_with("[]")) key.resize(key.size() - 2);
      const ScenarioKey* k = incsim::find_scenario_key(key);
      ASSERT_NE(k, nullptr) << "a number read at key " << c.key << ", not in the table";
      if (k->range_note.empty()) {
        EXPECT_EQ(c.bounds, k->range) << key << ": checked" << c.bounds.describe()
                                      << ", the table says" << k->range.describe();
      } else {
        EXPECT_TRUE(c.bounds.lo == k->range.lo && c.bounds.lo_open == k->range.lo_open)
            << key << ": checked" << c.bounds.describe() << ", the table says"
            << k->range.describe() << " (" << k->range_note << ")";
      }
    }
  }
}

// (b) Every entry of the table is given in at least one test scenario and read from there.
TEST(KeyTable, EveryEntryIsReadBySomeScenario) {
  const Occurrences& given = occurrences();
  for (const ScenarioKey& k : incsim::scenario_keys()) {
    EXPECT_TRUE(given.count(k.path))
        << k.path << " is in the table but no test scenario gives it (add it to "
        << "tests/unit/data/all_keys.yaml)";
  }
}

// The maximal scenarios alone set every key, so that (b) holds whatever the bundled scenarios
// come to use.
TEST(KeyTable, MaximalScenariosSetEveryKey) {
  const std::vector<std::string> maximal = maximal_scenarios();
  std::set<std::string> given;
  for (const auto& [key, where] : occurrences()) {
    for (const auto& [file, path] : where) {
      if (std::find(maximal.begin(), maximal.end(), file) != maximal.end()) given.insert(key);
    }
  }
  for (const ScenarioKey& k : incsim::scenario_keys()) {
    EXPECT_TRUE(given.count(k.path)) << k.path << " is set by neither tests/unit/data/all_keys"
                                     << ".yaml nor all_keys_alternatives.yaml";
  }
}

bool gives(const std::string& file, const std::string& key) {
  const auto it = occurrences().find(key);
  if (it == occurrences().end()) return false;
  return std::any_of(it->second.begin(), it->second.end(),
                     [&](const auto& where) { return where.first == file; });
}

// A required key left out is reported as missing wherever it is given; a key the table calls
// optional never is. Not missing either: a required key whose fallback is given (an industry's
// products in industries_defaults), or whose mapping is then empty where the table allows an
// empty one (`health: {}` means no health shocks). A key whose requirement another key may lift
// (`choice` with a population csv: the loader also looks at its columns) is checked only
// without that key.
TEST(KeyTable, RequiredKeysAreThoseTheLoaderRequires) {
  for (const ScenarioKey& k : incsim::scenario_keys()) {
    const auto it = occurrences().find(k.path);
    if (it == occurrences().end() || !k.alternative.empty()) continue;
    for (const auto& [file, path] : it->second) {
      SCOPED_TRACE(k.path + " at " + path + " in " + file);
      if (k.required && !k.required_unless.empty() && gives(file, k.required_unless)) continue;
      bool empty_parent = false;
      const std::string text = without(file, path, empty_parent);
      const std::string found = load_text_messages(text, file);
      const bool missing = found.find(path + ": required key is missing") != std::string::npos ||
                           found.find("missing section '" + path + "'") != std::string::npos;
      const ScenarioKey* parent = incsim::find_scenario_key(parent_of(k.path));
      const bool fallback = !k.fallback.empty() && gives(file, k.fallback);
      if (k.required && !fallback && !(empty_parent && parent && parent->empty_ok)) {
        EXPECT_TRUE(missing) << "left out, it is not reported missing; found:\n" << found;
      } else {
        EXPECT_FALSE(missing) << "optional in the table, but:\n" << found;
        if (!k.required) break;  // one occurrence of an optional key is enough
      }
    }
  }
}

// Of two alternatives exactly one is given: both, or neither, is an error.
TEST(KeyTable, AlternativesAreExclusive) {
  int checked = 0;
  for (const ScenarioKey& k : incsim::scenario_keys()) {
    if (k.alternative.empty()) continue;
    const auto it = occurrences().find(k.path);
    ASSERT_NE(it, occurrences().end()) << k.path;
    const auto& [file, path] = it->second.front();
    SCOPED_TRACE(path + " in " + file);
    const std::string other = parent_of(path) + "." + k.alternative;
    const ScenarioKey* alternative =
        incsim::find_scenario_key(parent_of(k.path) + "." + k.alternative);
    ASSERT_NE(alternative, nullptr);
    const std::string value = alternative->type == KeyType::tuple ? "[1, 1]" : "0.5";
    const std::string both = load_messages(file, other, value);
    EXPECT_NE(both.find(k.alternative), std::string::npos) << "both given:\n" << both;
    bool empty_parent = false;
    const std::string neither = load_text_messages(without(file, path, empty_parent), file);
    EXPECT_NE(neither.find(parent_of(path) + ": "), std::string::npos) << "neither:\n" << neither;
    ++checked;
  }
  EXPECT_GE(checked, 6);  // crra/cara, beta/fixed, standard_error/relative_error
}

// A key excluded by a sibling (the generated population's keys, by csv) is refused with it.
TEST(KeyTable, ExclusionsAreRefused) {
  int checked = 0;
  for (const ScenarioKey& k : incsim::scenario_keys()) {
    if (k.excluded_by.empty()) continue;
    const std::string sibling = parent_of(k.path) + "." + k.excluded_by;
    const auto it = occurrences().find(sibling);
    ASSERT_NE(it, occurrences().end()) << "no scenario gives " << sibling;
    const auto& [file, path] = it->second.front();
    const std::string own = parent_of(path) + "." + k.path.substr(parent_of(k.path).size() + 1);
    const std::string found = load_messages(file, own, "1");
    EXPECT_NE(found.find(own + "=1: cannot be combined with " + k.excluded_by), std::string::npos)
        << own << " with " << path << " in " << file << ":\n"
        << found;
    ++checked;
  }
  EXPECT_GE(checked, 8);
}

// Where within a key's value a number is: the value itself, a list's first item, a tuple's
// first numeric element.
std::string number_path(const ScenarioKey& k, const std::string& path) {
  const auto first_number = [&] {
    const auto at = std::find(k.elements.begin(), k.elements.end(), KeyType::number);
    return std::to_string(at - k.elements.begin());
  };
  if (k.type == KeyType::tuple) return path + "." + first_number();
  if (k.type == KeyType::list && k.item == KeyType::tuple) return path + ".0." + first_number();
  if (k.type == KeyType::list) return path + ".0";
  return path;
}

bool numeric(const ScenarioKey& k) {
  const auto numeric_type = [](KeyType t) { return t == KeyType::number || t == KeyType::integer; };
  if (k.type == KeyType::list) return numeric_type(k.item) || k.item == KeyType::tuple;
  return numeric_type(k.type) || k.type == KeyType::tuple;
}

std::string number_text(double value) {
  char buffer[40];
  std::snprintf(buffer, sizeof buffer, "%.17g", value);
  return buffer;
}

// Just outside each finite bound of the table's range, the loader refuses the value with that
// range in its message; a bound that depends on another key is checked where it is read (its
// own message), so only the other one is tried here.
TEST(KeyTable, RangesAreThoseTheLoaderChecks) {
  int checked = 0;
  for (const ScenarioKey& k : incsim::scenario_keys()) {
    if (!numeric(k)) continue;
    const auto it = occurrences().find(k.path);
    ASSERT_NE(it, occurrences().end()) << k.path;
    const auto& [file, path] = it->second.front();
    const std::string at = number_path(k, path);
    const bool integer = (k.type == KeyType::list ? k.item : k.type) == KeyType::integer;
    // A bound that depends on another key is in the message as the loader computes it.
    const std::string expected =
        std::string(integer ? "expected an integer" : "expected a number") +
        (k.range_note.empty() ? k.range.describe() : "");
    std::vector<double> outside;
    const double step = integer ? 1.0 : 0.5;
    if (std::isfinite(k.range.lo))
      outside.push_back(k.range.lo_open ? k.range.lo : k.range.lo - step);
    if (std::isfinite(k.range.hi) && k.range_note.empty())
      outside.push_back(k.range.hi_open ? k.range.hi : k.range.hi + step);
    for (double value : outside) {
      const std::string found = load_messages(file, at, number_text(value));
      EXPECT_NE(found.find(expected), std::string::npos)
          << at << "=" << number_text(value) << " in " << file << ": expected '" << expected
          << "', found:\n"
          << found;
      ++checked;
    }
    // And a value inside is not refused for its range.
    if (std::isfinite(k.range.lo) || std::isfinite(k.range.hi)) {
      const double inside = std::isfinite(k.range.lo) ? k.range.lo + (k.range.lo_open ? step : 0)
                                                      : k.range.hi - (k.range.hi_open ? step : 0);
      if (k.range.contains(inside)) {
        const std::string found = load_messages(file, at, number_text(inside));
        EXPECT_EQ(found.find(at + "=" + number_text(inside) + ": " + expected), std::string::npos)
            << found;
      }
    }
  }
  EXPECT_GE(checked, 60);
}

// Every word of a choice key is accepted, and a word that is not one of them is refused.
TEST(KeyTable, ChoicesAreThoseTheLoaderAccepts) {
  for (const ScenarioKey& k : incsim::scenario_keys()) {
    if (k.type != KeyType::choice) continue;
    const auto it = occurrences().find(k.path);
    ASSERT_NE(it, occurrences().end()) << k.path;
    const auto& [file, path] = it->second.front();
    for (const std::string& word : k.values) {
      const std::string found = load_messages(file, path, word);
      EXPECT_EQ(found.find("found '" + word + "'"), std::string::npos)
          << path << "=" << word << ":\n"
          << found;
    }
    const std::string wrong = k.values.front() + "_x";
    EXPECT_NE(load_messages(file, path, wrong).find("found '" + wrong + "'"), std::string::npos)
        << path << "=" << wrong;
  }
}

// A mapping the table describes accepts its keys and refuses others with the loader's message.
TEST(KeyTable, UnknownKeysAreRefusedWithTheNearestValidOne) {
  const auto it = occurrences().find("markets.<market>");
  ASSERT_NE(it, occurrences().end());
  const auto& [file, path] = it->second.front();
  const std::string found = load_messages(file, path + ".prise", "1");
  EXPECT_NE(found.find("unknown key 'prise' in " + path + " (did you mean 'price'?)"),
            std::string::npos)
      << found;
}

TEST(KeyTable, ReferenceIsTheGeneratedMarkdown) {
  const auto result = incsim::test::run_incsim("schema --markdown");
  ASSERT_EQ(result.exit_status, 0) << result.err;
  const std::string committed =
      incsim::test::read_file(fs::path(INCSIM_SOURCE_DIR) / "scenarios/REFERENCE.md");
  EXPECT_TRUE(committed == result.out)
      << "scenarios/REFERENCE.md differs from `incsim schema --markdown`; regenerate it with\n"
      << "  build/incsim schema --markdown > scenarios/REFERENCE.md\n"
      << "and commit it with the change of the key table (engine/scenario/keys.cpp)";
}

TEST(KeyTable, SchemaIsPrinted) {
  const auto result = incsim::test::run_incsim("schema");
  ASSERT_EQ(result.exit_status, 0) << result.err;
  EXPECT_TRUE(result.out.starts_with("{\n")) << result.out.substr(0, 200);
  EXPECT_NE(result.out.find("\"$schema\": \"http://json-schema.org/draft-07/schema#\""),
            std::string::npos);
  // Every fixed key of the table is a property somewhere in the schema.
  for (const ScenarioKey& k : incsim::scenario_keys()) {
    const std::string name = k.path.substr(k.path.rfind('.') + 1);
    if (name.starts_with("<")) continue;
    EXPECT_NE(result.out.find("\"" + name + "\": {"), std::string::npos) << k.path;
  }
}

}  // namespace
