// The scenario format as a table (engine/scenario/keys.cpp): one entry per key path the loader
// accepts, with its type, whether it is required, its default, range, units, meaning and MODEL.md
// section. The loader takes every mapping's allowed keys and every static range from this table,
// so no key is accepted without being documented; `incsim schema` prints the table as a JSON
// Schema (draft-07) or as Markdown (scenarios/REFERENCE.md).
#pragma once

#include <cstddef>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include "incsim/scenario.h"

namespace incsim {

// Allowed range of a number; describe() gives the text used in messages (" in [0, 1]", " > 0").
struct Bounds {
  double lo = -std::numeric_limits<double>::infinity();
  double hi = std::numeric_limits<double>::infinity();
  bool lo_open = false;
  bool hi_open = false;

  bool contains(double value) const;
  std::string describe() const;
  bool operator==(const Bounds&) const = default;
};

enum class KeyType {
  number,
  integer,
  seed,     // an unsigned 64-bit integer
  text,     // a string (names of markets and industries are strings too)
  boolean,  // true/false (the loader also takes yes/no, on/off, 1/0)
  choice,   // one of `values`
  mapping,  // fixed keys: the entries `path.key` of the table
  names,    // keys chosen by the analyst: each entry is described by the one `path.<name>` entry
  list,     // items of type `item`; mapping items have their fields at `path[].key`
  tuple,    // a fixed-length list of `elements`
};

struct ScenarioKey {
  // Dotted path; `<market>` stands for a name the analyst chooses, `[]` for any list item:
  // markets.<market>.price, industries.<industry>.products[].yield.
  std::string path;
  KeyType type = KeyType::number;
  KeyType item = KeyType::number;  // list: the items' type (tuple: see `elements`)
  std::vector<KeyType> elements;   // tuple, or a list of tuples: the element types
  bool required = false;           // when its parent is given (see also excluded_by)
  // Absent means: `default_value` (a JSON literal: 1000, "county", [0.1, 0.5]), else
  // `default_note` (prose: "unbounded", "the file name's stem"); both empty: nothing.
  std::string default_value;
  std::string default_note;
  Bounds range;            // numbers and integers; lists and tuples: of their numeric items
  std::string range_note;  // a bound that depends on other keys, checked where it is read
  std::vector<std::string> values;  // choice: the allowed words; number: words also accepted
  std::size_t min_items = 0;        // list, names: at least this many items or entries
  std::size_t max_items = 0;        // list: at most (0: no limit)
  bool nullable = false;            // an empty value (`key:` or `key: ~`) is accepted
  bool empty_ok = false;            // mapping: {} is accepted although it has required keys
  std::string alternative;          // a sibling key: exactly one of the two is given
  std::string excluded_by;          // a sibling key that may not be given with this one (then this
                                    // one, if required, is required only without it)
  // A key whose value is taken when this one is absent (industries_defaults.label for
  // industries.<industry>.label); a required key is then required only when neither is given.
  std::string fallback;
  // A key whose presence may lift the requirement (the population csv's main/aux columns make
  // `choice` optional): required whenever that key is absent.
  std::string required_unless;
  std::string units;
  std::string meaning;
  std::string section;  // MODEL.md section ("2", "7a"), empty when MODEL.md has none
};

// Every key, parents before their children, each mapping's keys in the order the loader lists
// them in its messages.
const std::vector<ScenarioKey>& scenario_keys();
// The entry of `path` (a table path as above), or nullptr.
const ScenarioKey* find_scenario_key(std::string_view path);
// The fixed keys of the mapping at `path` ("" for the sections), in table order.
const std::vector<std::string>& scenario_key_fields(std::string_view path);
// The `<name>` entry of the names mapping at `path` ("markets" -> "markets.<market>"), or "".
std::string scenario_key_placeholder(std::string_view path);

// What one load looked up, for the completeness test of the table (tests/unit/test_keys.cpp).
struct KeyTrace {
  struct Read {
    std::string key;   // table path: markets.<market>.price
    std::string path;  // in the scenario: markets.rice.price
    bool present = false;
  };
  struct Check {
    std::string key;  // table path of the value checked (a list item: path[])
    Bounds bounds;    // the range it was checked against
  };
  std::vector<Read> reads;    // every mapping lookup, and every named entry
  std::vector<Check> checks;  // every number and integer read
};

// load_scenario, recording every key looked up and every range checked in `trace`.
Scenario load_scenario_traced(const std::string& path, KeyTrace& trace);

}  // namespace incsim
