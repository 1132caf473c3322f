// Private to engine/scenario: a reading layer over yaml-cpp that keeps each value's source mark
// and dotted path until validation has passed, and collects every problem instead of stopping.
// A Value never throws; each checked read either yields a valid value or records a Diagnostic.
#pragma once

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <initializer_list>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "incsim/keys.h"
#include "incsim/load.h"

namespace incsim::scenario_detail {

// ---- text helpers (diagnostics.cpp) ----------------------------------------------------------

std::size_t edit_distance(std::string_view a, std::string_view b);  // Levenshtein
// The candidate nearest to `word`, if within max(2, len/3) edits with len the longer of the
// two names (ties: the first candidate).
std::optional<std::string> nearest_name(std::string_view word,
                                        const std::vector<std::string>& candidates);
// " (did you mean 'x'?)" when a candidate is near, else " (expected one of: a, b, c)".
std::string suggest(std::string_view word, const std::vector<std::string>& candidates);
std::string join(const std::vector<std::string>& parts, std::string_view separator);
std::string quote(std::string_view text);            // 'text'
bool has_control_character(std::string_view text);   // a byte below 0x20, or 0x7f (NUL too)
std::string escape_controls(std::string_view text);  // those bytes as \xNN, for messages
std::string format_number(double value);             // shortest text that reads back exactly
std::string path_join(std::string_view parent, std::string_view child);

// Strict scalar parsing shared by the YAML and csv readers: the whole text must be consumed.
std::optional<double> parse_number(std::string_view text);         // finite only
std::optional<std::int64_t> parse_integer(std::string_view text);  // "1e4", "5.0" accepted
std::optional<std::uint64_t> parse_unsigned64(std::string_view text);
std::optional<bool> parse_bool(std::string_view text);  // true/false/yes/no/on/off/1/0

// Allowed range of a number (include/incsim/keys.h, where the key table keeps each key's).
using incsim::Bounds;
inline Bounds any_number() {
  return {};
}
inline Bounds at_least(double lo) {
  return {lo, std::numeric_limits<double>::infinity()};
}
inline Bounds above(double lo) {
  return {lo, std::numeric_limits<double>::infinity(), true};
}
inline Bounds between(double lo, double hi) {
  return {lo, hi};
}
inline Bounds strictly_between(double lo, double hi) {
  return {lo, hi, true, true};
}

// ---- diagnostics sink (yaml_reader.cpp) ------------------------------------------------------

struct OverrideRecord {
  std::string path;
  std::string value;
};

// Turns (mark, dotted path, message) into a Diagnostic, attributing values that came from a
// `--set` override to that override instead of to a line of the file.
class DiagnosticSink {
 public:
  explicit DiagnosticSink(std::string file) : file_(std::move(file)) {}

  void set_overrides(std::vector<OverrideRecord> overrides) { overrides_ = std::move(overrides); }
  const std::string& file() const { return file_; }
  // Where Values record the keys they look up and the ranges they check; null: nowhere.
  void set_trace(KeyTrace* trace) { trace_ = trace; }
  KeyTrace* trace() const { return trace_; }

  // `body` concerns the value at `path`; with_path prefixes "path: " to the message.
  void report(const YAML::Mark& mark, const std::string& path, const std::string& body,
              bool with_path = true);
  void add(Diagnostic diagnostic) { diagnostics_.push_back(std::move(diagnostic)); }
  std::size_t count() const { return diagnostics_.size(); }
  // Sorted by file, line, column (stable), exact duplicates removed.
  std::vector<Diagnostic> take_sorted();

 private:
  const OverrideRecord* override_for(const std::string& path, bool mark_is_null) const;

  std::string file_;
  std::vector<OverrideRecord> overrides_;
  std::vector<Diagnostic> diagnostics_;
  KeyTrace* trace_ = nullptr;
};

// The range the key table gives the key at table path `key` (a list item `path[]` has its
// list's); any number when the table has none.
Bounds key_range(std::string_view key);
// The words the key table allows for the choice key `key` (empty if it has none).
const std::vector<std::string>& key_words(std::string_view key);

// ---- values ----------------------------------------------------------------------------------

// A node of the scenario tree with its dotted path and source mark. An absent key yields a
// Value with present() == false, so lookups can be chained without checks. Each Value also
// knows its key in the key table (include/incsim/keys.h): markets.<market>.price for
// markets.rice.price, so checks without explicit keys or bounds take the table's.
class Value {
 public:
  Value(YAML::Node node, std::string path, YAML::Mark key_mark, DiagnosticSink* sink, bool present,
        std::string key = {});

  bool present() const { return present_; }
  bool is_null() const { return present_ && node_.IsNull(); }
  bool is_map() const { return present_ && node_.IsMap(); }
  bool is_list() const { return present_ && node_.IsSequence(); }
  bool is_scalar() const { return present_ && node_.IsScalar(); }
  const std::string& path() const { return path_; }
  const std::string& table_key() const { return table_key_; }
  const std::string& scalar() const { return node_.Scalar(); }
  const YAML::Node& node() const { return node_; }
  // Where messages point: the key for mappings, lists and nulls; the value itself otherwise.
  YAML::Mark mark() const;
  YAML::Mark key_mark() const { return key_mark_; }
  std::string found() const;  // "'abc'", "a mapping", "a list", "nothing"
  DiagnosticSink& sink() const { return *sink_; }

  Value operator[](std::string_view key) const;  // mapping lookup; absent if missing
  std::vector<Value> items() const;              // list elements; reports if not a list
  std::size_t size() const;

  // Checks a mapping with a fixed key set: unknown keys (with the nearest valid key),
  // duplicate keys, non-mapping. Returns false if the value is absent or not a mapping.
  bool expect_fields(const std::vector<std::string>& keys) const;
  // The same with the keys the key table lists for this value's key (throws std::logic_error
  // if the table has none: a loader that reads a mapping the table does not describe).
  bool expect_fields() const;
  bool expect_fields(std::initializer_list<std::string_view> keys) const {
    return expect_fields(std::vector<std::string>(keys.begin(), keys.end()));
  }
  // A mapping keyed by free names; reports duplicates and non-scalar keys.
  std::vector<std::pair<std::string, Value>> named_entries() const;

  void error(const std::string& body) const;         // "path: body" at mark()
  void error_plain(const std::string& body) const;   // "body" at mark()
  void error_at_key(const std::string& body) const;  // "path: body" at the key's mark
  // "path.key: required key is missing (expected ...)", reported at this mapping.
  void missing(std::string_view key, const std::string& expected) const;
  Value require(std::string_view key, const std::string& expected) const;

  // Checked reads: nullopt after reporting "expected ..., found ...". Without bounds, the key
  // table's range of this value's key.
  std::optional<double> number() const { return number(key_range(table_key_)); }
  std::optional<double> number(const Bounds& bounds) const;
  std::optional<std::int64_t> integer() const { return integer(key_range(table_key_)); }
  std::optional<std::int64_t> integer(const Bounds& bounds) const;
  std::optional<std::uint64_t> unsigned64() const;
  std::optional<std::string> text() const;
  std::optional<bool> boolean() const;

 private:
  YAML::Node node_;
  std::string path_;
  YAML::Mark key_mark_;
  DiagnosticSink* sink_ = nullptr;
  bool present_ = false;
  std::string table_key_;
};

// Assign a present, valid value to `out`; an absent value leaves the default in place.
// Return false only when a present value was invalid (already reported). Numbers without
// bounds are checked against the key table's range of the value's key.
bool assign(const Value& value, double& out, const Bounds& bounds);
bool assign(const Value& value, int& out, const Bounds& bounds);
bool assign(const Value& value, std::int64_t& out, const Bounds& bounds);
inline bool assign(const Value& value, double& out) {
  return assign(value, out, key_range(value.table_key()));
}
inline bool assign(const Value& value, int& out) {
  return assign(value, out, key_range(value.table_key()));
}
inline bool assign(const Value& value, std::int64_t& out) {
  return assign(value, out, key_range(value.table_key()));
}
bool assign(const Value& value, std::string& out);
bool assign(const Value& value, bool& out);

// ---- overrides (yaml_reader.cpp) -------------------------------------------------------------

// Applies each override to `root` (creating missing mappings, indexing lists by integer
// segments); problems are reported to `sink` as "--set" diagnostics. Returns those applied.
std::vector<OverrideRecord> apply_overrides(YAML::Node& root, const std::vector<Override>& list,
                                            DiagnosticSink& sink);

}  // namespace incsim::scenario_detail
