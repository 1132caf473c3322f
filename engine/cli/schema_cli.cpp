// `incsim schema [--markdown]`: the scenario key table as a JSON Schema (draft-07) or as Markdown.
// Everything printed is derived from the table entries (include/incsim/keys.h); nothing about a
// particular key is written here, so the schema and the reference cannot drift from the loader.
#include "cli/schema_cli.h"

#include <CLI/CLI.hpp>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <sstream>
#include <stdexcept>
#include <utility>
#include <vector>

#include "incsim/keys.h"

namespace incsim::cli {

namespace {

// ---- a minimal JSON document: objects keep their insertion order ------------------------------

class Json {
 public:
  static Json object() { return Json(Kind::object); }
  static Json array() { return Json(Kind::array); }
  static Json raw(std::string text) {  // a literal already in JSON syntax
    Json j(Kind::raw);
    j.text_ = std::move(text);
    return j;
  }
  static Json string(const std::string& text) { return raw(quoted(text)); }
  static Json number(double value) { return raw(number_text(value)); }
  static Json boolean(bool value) { return raw(value ? "true" : "false"); }

  Json& set(const std::string& key, Json value) {
    members_.emplace_back(key, std::move(value));
    return *this;
  }
  Json& push(Json value) {
    items_.push_back(std::move(value));
    return *this;
  }
  bool empty() const { return members_.empty() && items_.empty(); }
  std::vector<std::pair<std::string, Json>>& members() { return members_; }

  void print(std::ostream& os, int indent) const {
    const std::string pad(static_cast<std::size_t>(indent) + 2, ' ');
    if (kind_ == Kind::raw) {
      os << text_;
    } else if (kind_ == Kind::array && inline_array()) {
      os << "[";
      for (std::size_t i = 0; i < items_.size(); ++i) os << (i ? ", " : "") << items_[i].text_;
      os << "]";
    } else if (kind_ == Kind::array) {
      os << "[\n";
      for (std::size_t i = 0; i < items_.size(); ++i) {
        os << pad;
        items_[i].print(os, indent + 2);
        os << (i + 1 < items_.size() ? ",\n" : "\n");
      }
      os << std::string(static_cast<std::size_t>(indent), ' ') << "]";
    } else if (members_.empty()) {
      os << "{}";
    } else {
      os << "{\n";
      for (std::size_t i = 0; i < members_.size(); ++i) {
        os << pad << quoted(members_[i].first) << ": ";
        members_[i].second.print(os, indent + 2);
        os << (i + 1 < members_.size() ? ",\n" : "\n");
      }
      os << std::string(static_cast<std::size_t>(indent), ' ') << "}";
    }
  }

  static std::string quoted(const std::string& text) {
    std::string out = "\"";
    for (const char c : text) {
      const auto u = static_cast<unsigned char>(c);
      if (c == '"' || c == '\\') {
        out += '\\';
        out += c;
      } else if (c == '\n') {
        out += "\\n";
      } else if (u < 0x20) {
        char buffer[8];
        std::snprintf(buffer, sizeof buffer, "\\u%04x", u);
        out += buffer;
      } else {
        out += c;
      }
    }
    return out + "\"";
  }

  static std::string number_text(double value) {
    if (value == std::floor(value) && std::fabs(value) < 1e15) {
      char buffer[32];
      std::snprintf(buffer, sizeof buffer, "%.0f", value);
      return buffer;
    }
    char buffer[32];
    const auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, value);
    return ec == std::errc{} ? std::string(buffer, end) : "0";
  }

 private:
  enum class Kind { raw, array, object };
  explicit Json(Kind kind) : kind_(kind) {}
  bool inline_array() const {
    for (const Json& item : items_)
      if (item.kind_ != Kind::raw) return false;
    return true;
  }

  Kind kind_;
  std::string text_;
  std::vector<std::pair<std::string, Json>> members_;
  std::vector<Json> items_;
};

// ---- what the table says of a key, in words (shared by the schema's descriptions and the
// Markdown) -----------------------------------------------------------------------------------

std::string last_segment(const std::string& path) {
  const auto dot = path.rfind('.');
  return dot == std::string::npos ? path : path.substr(dot + 1);
}

std::string child(const std::string& parent, const std::string& name) {
  return parent.empty() ? name : parent + "." + name;
}

const ScenarioKey& entry(const std::string& path) {
  const ScenarioKey* k = find_scenario_key(path);
  if (!k) throw std::logic_error("scenario key table: no entry " + path);
  return *k;
}

std::string type_word(KeyType type, bool plural) {
  switch (type) {
    case KeyType::number:
      return plural ? "numbers" : "number";
    case KeyType::integer:
    case KeyType::seed:
      return plural ? "integers" : "integer";
    case KeyType::text:
      return plural ? "strings" : "string";
    case KeyType::boolean:
      return plural ? "booleans" : "boolean";
    case KeyType::choice:
      return plural ? "words" : "word";
    case KeyType::mapping:
    case KeyType::names:
      return plural ? "mappings" : "mapping";
    case KeyType::list:
      return plural ? "lists" : "list";
    case KeyType::tuple:
      return plural ? "tuples" : "tuple";
  }
  return "value";
}

std::string tuple_text(const ScenarioKey& k) {
  std::string text = "[";
  for (std::size_t i = 0; i < k.elements.size(); ++i)
    text += (i ? ", " : "") + type_word(k.elements[i], false);
  return text + "]";
}

std::string words_text(const std::vector<std::string>& words, const char* code) {
  std::string text;
  for (std::size_t i = 0; i < words.size(); ++i) text += (i ? ", " : "") + (code + words[i] + code);
  return text;
}

std::string type_text(const ScenarioKey& k, const char* code) {
  switch (k.type) {
    case KeyType::seed:
      return "integer (0 to 2^64 - 1)";
    case KeyType::choice:
      return "one of " + words_text(k.values, code);
    case KeyType::names:
      return "mapping of names";
    case KeyType::tuple:
      return tuple_text(k);
    case KeyType::list:
      return "list of " + (k.item == KeyType::tuple ? tuple_text(k) : type_word(k.item, true));
    case KeyType::number:
      return k.values.empty() ? "number" : "number or " + words_text(k.values, code);
    default:
      return type_word(k.type, false);
  }
}

// A named entry (markets.<market>) has no default of its own.
bool has_default(const ScenarioKey& k) {
  return last_segment(k.path).front() != '<';
}

std::string code_text(const std::string& text, const char* code) {
  return code + text + code;
}

// What an absent key means: another key's value, then the default (a string literal shown
// without its quotes) or what the table says in words; empty when it says nothing.
std::string default_text(const ScenarioKey& k, const char* code) {
  std::string text;
  const std::string& v = k.default_value;
  if (!v.empty()) {
    const bool string = v.size() >= 2 && v.front() == '"';
    const std::string shown = string ? v.substr(1, v.size() - 2) : v;
    text = shown.empty() ? "empty" : code_text(shown, code);
  } else {
    text = k.default_note;
  }
  if (k.fallback.empty()) return text;
  return code_text(k.fallback, code) + (text.empty() ? "" : ", else " + text);
}

// "required", "required unless `csv` is given", "exactly one of `crra` and `cara`"; empty for
// an optional key.
std::string requirement_text(const ScenarioKey& k, const char* code) {
  if (!k.alternative.empty())
    return "exactly one of " + code_text(last_segment(k.path), code) + " and " +
           code_text(k.alternative, code);
  if (!k.required) return {};
  const std::string& unless = !k.excluded_by.empty() ? k.excluded_by : k.fallback;
  if (!unless.empty()) return "required unless " + code_text(unless, code) + " is given";
  if (!k.required_unless.empty()) return "required without " + code_text(k.required_unless, code);
  return "required";
}

// The Markdown's default column: the requirement, or the default.
std::string default_column(const ScenarioKey& k) {
  if (const std::string r = requirement_text(k, "`"); !r.empty()) return r;
  std::string text = default_text(k, "`");
  if (text.empty()) text = has_default(k) ? "none" : "-";
  if (!k.excluded_by.empty()) text += " (not with `" + k.excluded_by + "`)";
  return text;
}

std::string range_text(const ScenarioKey& k) {
  std::vector<std::string> parts;
  if (std::isfinite(k.range.lo) || std::isfinite(k.range.hi)) {
    std::string text = k.range.describe().substr(1);  // " in [0, 1]", " >= 0"
    if (text.starts_with("in ")) text = text.substr(3);
    parts.push_back(text);
  }
  if (!k.range_note.empty()) parts.push_back(k.range_note);
  const bool entries = k.type == KeyType::names;
  const auto count = [&](std::size_t n) {
    return std::to_string(n) +
           (entries ? (n == 1 ? " entry" : " entries") : (n == 1 ? " item" : " items"));
  };
  if (k.min_items > 0 && k.max_items > 0)
    parts.push_back(std::to_string(k.min_items) + " to " + count(k.max_items));
  else if (k.min_items > 0)
    parts.push_back("at least " + count(k.min_items));
  std::string text;
  for (std::size_t i = 0; i < parts.size(); ++i) text += (i ? "; " : "") + parts[i];
  return text;
}

std::string description(const ScenarioKey& k) {
  std::string text = k.meaning;
  text.front() = static_cast<char>(std::toupper(static_cast<unsigned char>(text.front())));
  text += ".";
  if (std::string r = requirement_text(k, ""); !r.empty()) {
    r.front() = static_cast<char>(std::toupper(static_cast<unsigned char>(r.front())));
    text += " " + r + ".";
  } else if (const std::string d = default_text(k, ""); !d.empty()) {
    text += " Default: " + d + ".";
  }
  if (!k.excluded_by.empty() && !k.required) text += " Not with " + k.excluded_by + ".";
  if (!k.units.empty()) text += " Units: " + k.units + ".";
  if (const std::string range = range_text(k); !range.empty()) text += " Range: " + range + ".";
  if (!k.section.empty()) text += " MODEL.md section " + k.section + ".";
  return text;
}

// ---- JSON Schema ------------------------------------------------------------------------------

void add_bounds(Json& s, const Bounds& b) {
  if (std::isfinite(b.lo)) s.set(b.lo_open ? "exclusiveMinimum" : "minimum", Json::number(b.lo));
  if (std::isfinite(b.hi)) s.set(b.hi_open ? "exclusiveMaximum" : "maximum", Json::number(b.hi));
}

Json type_name(const std::string& name, bool nullable) {
  if (!nullable) return Json::string(name);
  return Json::array().push(Json::string(name)).push(Json::string("null"));
}

Json words_of(const ScenarioKey& k, bool nullable) {
  Json words = Json::array();
  for (const std::string& w : k.values) words.push(Json::string(w));
  if (nullable) words.push(Json::raw("null"));
  return words;
}

// Adds to `s` the schema of a scalar of `type` with the key's range and words.
void scalar_schema(Json& s, KeyType type, const ScenarioKey& k, bool nullable) {
  switch (type) {
    case KeyType::number:
    case KeyType::integer: {
      Json number = Json::object();
      number.set("type", type_name(type == KeyType::number ? "number" : "integer", nullable));
      add_bounds(number, k.range);
      if (k.values.empty()) {
        for (auto& [key, value] : number.members()) s.set(key, std::move(value));
      } else {  // a number, or one of the words (premium_rate: fair)
        s.set("anyOf", Json::array()
                           .push(std::move(number))
                           .push(Json::object().set("enum", words_of(k, false))));
      }
      return;
    }
    case KeyType::seed:
      s.set("type", type_name("integer", nullable))
          .set("minimum", Json::number(0))
          .set("maximum", Json::raw("18446744073709551615"));
      return;
    case KeyType::text:
      s.set("type", type_name("string", nullable));
      return;
    case KeyType::boolean:
      s.set("type", type_name("boolean", nullable));
      return;
    case KeyType::choice:
      s.set("enum", words_of(k, nullable));
      return;
    default:
      throw std::logic_error("scenario key table: " + k.path + " is not a scalar");
  }
}

Json scalar(KeyType type, const ScenarioKey& k) {
  Json s = Json::object();
  scalar_schema(s, type, k, false);
  return s;
}

void tuple_schema(Json& s, const ScenarioKey& k, bool nullable) {
  Json items = Json::array();
  for (KeyType t : k.elements) items.push(scalar(t, k));
  const auto n = static_cast<double>(k.elements.size());
  s.set("type", type_name("array", nullable))
      .set("items", std::move(items))
      .set("additionalItems", Json::boolean(false))
      .set("minItems", Json::number(n))
      .set("maxItems", Json::number(n));
}

Json key_schema(const ScenarioKey& k);

// Adds to `s` the fixed keys of the mapping at `path`: properties (no others), required keys,
// alternatives (exactly one of two) and exclusions (keys that may not be given with a sibling,
// and are required without it when the table says so).
void mapping_schema(Json& s, const std::string& path, bool nullable, bool empty_ok,
                    std::vector<Json> rules = {}) {
  Json properties = Json::object();
  Json required = Json::array();
  std::vector<std::pair<std::string, std::vector<const ScenarioKey*>>> excluded;  // by sibling
  for (const std::string& name : scenario_key_fields(path)) {
    const ScenarioKey& k = entry(child(path, name));
    properties.set(name, key_schema(k));
    if (k.required && k.excluded_by.empty() && k.fallback.empty() && k.required_unless.empty())
      required.push(Json::string(name));  // (the others: rules here and at the root)
    if (!k.alternative.empty() && name < k.alternative) {
      const auto given = [](const std::string& key) {
        return Json::object().set("required", Json::array().push(Json::string(key)));
      };
      rules.push_back(
          Json::object().set("oneOf", Json::array().push(given(name)).push(given(k.alternative))));
    }
    if (!k.excluded_by.empty()) {
      auto it = std::find_if(excluded.begin(), excluded.end(),
                             [&](const auto& e) { return e.first == k.excluded_by; });
      if (it == excluded.end()) it = excluded.insert(excluded.end(), {k.excluded_by, {}});
      it->second.push_back(&k);
    }
  }
  for (const auto& [sibling, keys] : excluded) {
    Json refused = Json::object();
    Json required_without = Json::array();
    for (const ScenarioKey* k : keys) {
      refused.set(last_segment(k->path), Json::boolean(false));
      if (k->required) required_without.push(Json::string(last_segment(k->path)));
    }
    Json rule =
        Json::object()
            .set("if", Json::object().set("required", Json::array().push(Json::string(sibling))))
            .set("then", Json::object().set("properties", std::move(refused)));
    if (!required_without.empty())
      rule.set("else", Json::object().set("required", std::move(required_without)));
    rules.push_back(std::move(rule));
  }
  if (!required.empty() && empty_ok) {  // {} is accepted too (health: {} means no shocks)
    rules.push_back(Json::object().set(
        "anyOf", Json::array()
                     .push(Json::object().set("maxProperties", Json::number(0)))
                     .push(Json::object().set("required", std::move(required)))));
    required = Json::array();
  }
  s.set("type", type_name("object", nullable));
  s.set("properties", std::move(properties));
  s.set("additionalProperties", Json::boolean(false));
  if (!required.empty()) s.set("required", std::move(required));
  if (!rules.empty()) {
    Json all = Json::array();
    for (Json& r : rules) all.push(std::move(r));
    s.set("allOf", std::move(all));
  }
}

// {"required": [a], "properties": {a: {"required": [b]}}}: the key at a.b (fixed names) is given.
Json given_at(const std::string& path) {
  const auto dot = path.find('.');
  const std::string head = path.substr(0, dot);
  Json s = Json::object().set("required", Json::array().push(Json::string(head)));
  if (dot != std::string::npos)
    s.set("properties", Json::object().set(head, given_at(path.substr(dot + 1))));
  return s;
}

// The key at `path` is given in every mapping it belongs to (every <name> entry, every item).
Json required_at(const std::string& path) {
  std::vector<std::string> segments;
  for (std::string rest = path;;) {
    const auto dot = rest.find('.');
    segments.push_back(rest.substr(0, dot));
    if (dot == std::string::npos) break;
    rest = rest.substr(dot + 1);
  }
  Json inner = Json::object().set("required", Json::array().push(Json::string(segments.back())));
  for (std::size_t i = segments.size() - 1; i-- > 0;) {
    const std::string& segment = segments[i];
    if (segment.starts_with("<")) {
      inner = Json::object().set("additionalProperties", std::move(inner));
    } else if (segment.ends_with("[]")) {
      inner = Json::object().set("properties",
                                 Json::object().set(segment.substr(0, segment.size() - 2),
                                                    Json::object().set("items", std::move(inner))));
    } else {
      inner = Json::object().set("properties", Json::object().set(segment, std::move(inner)));
    }
  }
  return inner;
}

// The description first, where an editor's hover shows it, then the default and constraints.
Json key_schema(const ScenarioKey& k) {
  Json s = Json::object().set("description", Json::string(description(k)));
  if (!k.default_value.empty()) s.set("default", Json::raw(k.default_value));
  switch (k.type) {
    case KeyType::mapping:
      mapping_schema(s, k.path, k.nullable, k.empty_ok);
      break;
    case KeyType::names:
      s.set("type", type_name("object", k.nullable));
      s.set("propertyNames",
            Json::object().set("pattern", Json::string("^[^\\u0000-\\u001f\\u007f]*$")));
      s.set("additionalProperties", key_schema(entry(scenario_key_placeholder(k.path))));
      if (k.min_items > 0) s.set("minProperties", Json::number(static_cast<double>(k.min_items)));
      break;
    case KeyType::list: {
      s.set("type", type_name("array", k.nullable));
      Json items = Json::object();
      if (k.item == KeyType::mapping)
        mapping_schema(items, k.path + "[]", false, false);
      else if (k.item == KeyType::tuple)
        tuple_schema(items, k, false);
      else
        scalar_schema(items, k.item, k, false);
      s.set("items", std::move(items));
      if (k.min_items > 0) s.set("minItems", Json::number(static_cast<double>(k.min_items)));
      if (k.max_items > 0) s.set("maxItems", Json::number(static_cast<double>(k.max_items)));
      break;
    }
    case KeyType::tuple:
      tuple_schema(s, k, k.nullable);
      break;
    default:
      scalar_schema(s, k.type, k, k.nullable);
  }
  return s;
}

// ---- Markdown ---------------------------------------------------------------------------------

// A table cell: no '|' (it would end the cell), no '<' that could open an HTML tag.
std::string cell(const std::string& text) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    const bool tag =
        c == '<' && i + 1 < text.size() && std::isalpha(static_cast<unsigned char>(text[i + 1]));
    out += c == '|' ? "\\|" : tag ? "&lt;" : std::string(1, c);
  }
  return out;
}

bool under(const std::string& path, const std::string& section) {
  return path == section || path.starts_with(section + ".") || path.starts_with(section + "[");
}

}  // namespace

std::string scenario_json_schema() {
  Json doc = Json::object()
                 .set("$schema", Json::string("http://json-schema.org/draft-07/schema#"))
                 .set("title", Json::string("incsim scenario"))
                 .set("description",
                      Json::string("An incsim scenario file. Every key is described in "
                                   "scenarios/REFERENCE.md; generated by `incsim schema` from "
                                   "the loader's key table."));
  // A required key with a fallback or a key that may lift the requirement: required anywhere
  // it belongs unless that key is given.
  std::vector<Json> rules;
  for (const ScenarioKey& k : scenario_keys()) {
    if (!k.required || (k.fallback.empty() && k.required_unless.empty())) continue;
    const std::string& unless = k.fallback.empty() ? k.required_unless : k.fallback;
    rules.push_back(Json::object().set("if", given_at(unless)).set("else", required_at(k.path)));
  }
  mapping_schema(doc, "", false, false, std::move(rules));
  std::ostringstream os;
  doc.print(os, 0);
  os << "\n";
  return os.str();
}

std::string scenario_reference_markdown() {
  std::ostringstream md;
  md << "# Scenario keys\n\n"
        "Every key of a scenario file, generated from the loader's key table "
        "(`engine/scenario/keys.cpp`,\nfrom which the loader takes the keys it accepts and their "
        "ranges) by `incsim schema --markdown`.\nDo not edit this file: after a change of the "
        "table, regenerate it with\n\n"
        "```sh\nbuild/incsim schema --markdown > scenarios/REFERENCE.md\n```\n\n"
        "(`test_keys` fails while the two differ). `incsim schema` prints the same table as a "
        "JSON Schema for\neditors (README, \"Bundled scenarios\"). The model behind each key is "
        "in MODEL.md, in the section listed.\n\n"
        "Notation: `<market>`, `<industry>` and `<hazard>` stand for names you choose (the keys "
        "of `markets`,\n`industries` and `hazards`), `[]` for each item of a list. A required key "
        "is required when the\nmapping holding it is given. A key that is not required takes its "
        "default when it is left out.\nRanges are those the loader checks; a value outside is an "
        "error naming the key.\n";
  for (const std::string& section : scenario_key_fields("")) {
    md << "\n## `" << section << "`\n\n";
    md << "| key | type | default | range | units | MODEL.md | meaning |\n"
          "|---|---|---|---|---|---|---|\n";
    for (const ScenarioKey& k : scenario_keys()) {
      if (!under(k.path, section)) continue;
      md << "| `" << k.path << "` | " << cell(type_text(k, "`")) << " | " << cell(default_column(k))
         << " | " << cell(range_text(k)) << " | " << cell(k.units) << " | "
         << (k.section.empty() ? "-" : k.section) << " | " << cell(k.meaning) << " |\n";
    }
  }
  return md.str();
}

CLI::App* add_schema_command(CLI::App& app) {
  CLI::App* schema =
      app.add_subcommand("schema",
                         "print the JSON Schema of scenario files (draft-07, for editors) or, with "
                         "--markdown, the reference of every scenario key");
  const std::string help = "print the Markdown reference (scenarios/REFERENCE.md)";
  schema->add_flag("--markdown", help);  // a const description: a flag without a variable
  return schema;
}

int schema_command(const CLI::App& schema, std::ostream& out) {
  out << (schema.count("--markdown") > 0 ? scenario_reference_markdown() : scenario_json_schema());
  return 0;
}

}  // namespace incsim::cli
