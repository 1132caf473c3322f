// The `population` section (MODEL.md section 4): a generated population, or households imported
// from a csv file whose columns are matched by header name. Csv problems are reported as
// csv-file:line:column with the column's name and what was expected.
#include <algorithm>
#include <filesystem>
#include <set>

#include "scenario/sections.h"

namespace incsim::scenario_detail {

namespace {

const std::vector<std::string> kRequiredColumns = {
    "id", "village", "size", "laborers", "farmland_mu", "forest_mu", "capital", "poor"};
const std::vector<std::string> kOptionalColumns = [] {
  std::vector<std::string> columns = {"main", "aux"};
  for (const ProductDescriptor& p : kProductTable) columns.push_back(p.enrollment_column);
  columns.push_back("public_post");
  return columns;
}();

struct Field {
  std::string text;
  int column = 1;  // 1-based character column where the field starts
};

// A field of the file quoted in a message: at most 40 characters, control characters
// escaped, so a message about a foreign file (`csv: /etc/shadow`) shows only a short excerpt.
std::string excerpt(std::string_view text) {
  constexpr std::size_t kMost = 40;
  if (text.size() <= kMost) return quote(escape_controls(text));
  return quote(escape_controls(text.substr(0, kMost))) + "... (" + std::to_string(text.size()) +
         " characters)";
}

std::string trim(std::string_view s) {
  const auto first = s.find_first_not_of(" \t");
  if (first == std::string_view::npos) return {};
  const auto last = s.find_last_not_of(" \t");
  return std::string(s.substr(first, last - first + 1));
}

// Splits one line; a quoted field may hold commas and doubled quotes. Returns the column of an
// unterminated quote, or 0.
int split_line(const std::string& line, std::vector<Field>& fields) {
  fields.clear();
  std::size_t i = 0;
  while (true) {
    Field field;
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
    field.column = static_cast<int>(i) + 1;
    if (i < line.size() && line[i] == '"') {
      const int opened = static_cast<int>(i) + 1;
      ++i;
      bool closed = false;
      while (i < line.size()) {
        if (line[i] == '"' && i + 1 < line.size() && line[i + 1] == '"') {
          field.text += '"';
          i += 2;
        } else if (line[i] == '"') {
          closed = true;
          ++i;
          break;
        } else {
          field.text += line[i++];
        }
      }
      if (!closed) return opened;
      const auto comma = line.find(',', i);
      i = comma == std::string::npos ? line.size() : comma;
    } else {
      const auto comma = line.find(',', i);
      const auto end = comma == std::string::npos ? line.size() : comma;
      field.text = trim(std::string_view(line).substr(i, end - i));
      i = end;
    }
    fields.push_back(std::move(field));
    if (i >= line.size()) return 0;
    ++i;  // the comma
  }
}

class CsvReader {
 public:
  CsvReader(std::string path, DiagnosticSink& sink, const Scenario& scenario)
      : path_(std::move(path)), sink_(sink) {
    for (const Industry& industry : scenario.industries) industries_.push_back(industry.name);
  }

  int errors() const { return errors_; }

  void error(int line, int column, const std::string& message) {
    ++errors_;
    if (errors_ <= kMaxReported) {
      sink_.add({path_, line, column, message});
    } else if (errors_ == kMaxReported + 1) {
      sink_.add({path_, line, column, "too many errors in this file; stopping here"});
    }
  }

  std::vector<HouseholdRecord> read(const std::string& text) {
    std::vector<HouseholdRecord> records;
    std::vector<Field> fields;
    int line_number = 0;
    bool have_header = false;
    bool header_ok = false;
    std::size_t start = 0;
    while (start < text.size()) {
      auto end = text.find('\n', start);
      if (end == std::string::npos) end = text.size();
      std::string line = text.substr(start, end - start);
      start = end + 1;
      ++line_number;
      if (!line.empty() && line.back() == '\r') line.pop_back();
      if (trim(line).empty()) continue;
      if (const auto at = std::find_if(line.begin(), line.end(), [](char c) { return c == '\0'; });
          at != line.end()) {  // ids and villages become HDF5 strings, which cannot hold it
        error(line_number, static_cast<int>(at - line.begin()) + 1,
              "unexpected NUL byte (is this a text csv file?)");
        if (!have_header) return records;
        continue;
      }
      if (const int open = split_line(line, fields)) {
        error(line_number, open, "unterminated quoted field");
        if (!have_header) return records;
        continue;
      }
      if (!have_header) {
        have_header = true;
        header_line_ = line_number;
        header_ok = read_header(fields, line_number);
        if (!header_ok) return records;
        continue;
      }
      if (fields.size() != columns_.size()) {
        error(line_number, 1,
              "expected " + std::to_string(columns_.size()) + " fields as in the header, found " +
                  std::to_string(fields.size()));
        continue;
      }
      records.push_back(read_row(fields, line_number));
    }
    if (!have_header) {
      error(1, 1, "empty file; expected a header line " + join(kRequiredColumns, ","));
    } else if (records.empty() && errors_ == 0) {
      error(header_line_, 1, "no households after the header: the population is empty");
    }
    return records;
  }

  bool has_column(const std::string& name) const {
    return std::find(columns_.begin(), columns_.end(), name) != columns_.end();
  }

 private:
  static constexpr int kMaxReported = 100;

  bool read_header(const std::vector<Field>& fields, int line) {
    bool ok = true;
    std::vector<std::string> known = kRequiredColumns;
    known.insert(known.end(), kOptionalColumns.begin(), kOptionalColumns.end());
    for (const Field& f : fields) {
      if (std::find(known.begin(), known.end(), f.text) == known.end()) {
        error(line, f.column, "unknown column " + excerpt(f.text) + suggest(f.text, known));
      } else if (has_column(f.text)) {
        error(line, f.column, "column " + excerpt(f.text) + " appears twice");
        ok = false;
      }
      columns_.push_back(f.text);
    }
    for (const std::string& name : kRequiredColumns) {
      if (!has_column(name)) {
        error(line, 1,
              "missing column " + quote(name) + " (required: " + join(kRequiredColumns, ",") + ")");
        ok = false;
      }
    }
    if (has_column("aux") && !has_column("main")) {
      error(line, 1, "column 'aux' needs a 'main' column");
      ok = false;
    }
    return ok;
  }

  const Field* field(const std::vector<Field>& fields, const std::string& name) const {
    const auto it = std::find(columns_.begin(), columns_.end(), name);
    return it == columns_.end() ? nullptr
                                : &fields[static_cast<std::size_t>(it - columns_.begin())];
  }

  static std::string found(const Field& f) { return f.text.empty() ? "nothing" : excerpt(f.text); }

  void expected(int line, const Field& f, const std::string& name, const std::string& what) {
    error(line, f.column, "column " + quote(name) + ": expected " + what + ", found " + found(f));
  }

  double number(const std::vector<Field>& fields, const std::string& name, int line) {
    const Field& f = *field(fields, name);
    const auto v = parse_number(f.text);
    if (!v || *v < 0) {
      expected(line, f, name, "a number >= 0");
      return 0.0;
    }
    return *v;
  }

  // An industry name, -1 for an empty field.
  std::optional<int> industry(const std::vector<Field>& fields, const std::string& name, int line) {
    const Field* f = field(fields, name);
    if (!f) return std::nullopt;
    if (f->text.empty()) return -1;
    const auto it = std::find(industries_.begin(), industries_.end(), f->text);
    if (it == industries_.end()) {
      error(line, f->column,
            "column " + quote(name) + ": unknown industry " + excerpt(f->text) +
                suggest(f->text, industries_));
      return -1;
    }
    return static_cast<int>(it - industries_.begin());
  }

  std::optional<bool> flag(const std::vector<Field>& fields, const std::string& name, int line,
                           bool required) {
    const Field* f = field(fields, name);
    if (!f || (f->text.empty() && !required)) return std::nullopt;
    const auto v = parse_bool(f->text);
    if (!v) expected(line, *f, name, required ? "0 or 1" : "0, 1 or nothing");
    return v;
  }

  HouseholdRecord read_row(const std::vector<Field>& fields, int line) {
    HouseholdRecord r;
    r.id = field(fields, "id")->text;
    r.village = field(fields, "village")->text;
    const Field& size = *field(fields, "size");
    const auto size_value = parse_integer(size.text);
    const bool size_ok = size_value && *size_value >= 1 && *size_value <= 1000;
    if (!size_ok) {
      expected(line, size, "size", "an integer in [1, 1000]");
    } else {
      r.size = static_cast<int>(*size_value);
    }
    const Field& laborers = *field(fields, "laborers");
    const auto laborer_value = parse_integer(laborers.text);
    const int most = size_ok ? r.size : 1000;  // an invalid size is reported already
    if (!laborer_value || *laborer_value < 0 || *laborer_value > most) {
      expected(line, laborers, "laborers",
               "an integer in [0, " + std::to_string(most) + "] (at most the size)");
    } else {
      r.laborers = static_cast<int>(*laborer_value);
    }
    r.farmland_mu = number(fields, "farmland_mu", line);
    r.forest_mu = number(fields, "forest_mu", line);
    r.capital = number(fields, "capital", line);
    r.poor = flag(fields, "poor", line, true).value_or(false);
    r.main = industry(fields, "main", line);
    r.aux = industry(fields, "aux", line);
    if (r.main && r.aux && *r.aux >= 0) {
      const Field& aux = *field(fields, "aux");
      if (*r.main < 0) {
        error(line, aux.column, "column 'aux': an auxiliary industry needs a main one");
      } else if (*r.main == *r.aux) {
        error(line, aux.column,
              "column 'aux': the same industry as main (" + aux.text + "); they must differ");
      }
    }
    if (r.main && !r.aux) r.aux = -1;
    for (int p = 0; p < kProducts; ++p)
      r.enrolled[p] = flag(fields, kProductTable[p].enrollment_column, line, false);
    r.public_post = flag(fields, "public_post", line, false);
    return r;
  }

  std::string path_;
  DiagnosticSink& sink_;
  std::vector<std::string> industries_;
  std::vector<std::string> columns_;
  int header_line_ = 1;
  int errors_ = 0;
};

bool read_csv_population(const Value& population, const std::string& scenario_file,
                         Scenario& scenario) {
  const auto csv = population["csv"].text();
  if (!csv) return false;
  Population& p = scenario.population;
  if (csv->empty()) {
    population["csv"].error("expected the path of a csv file, found nothing");
    return false;
  }
  const std::filesystem::path base = std::filesystem::path(scenario_file).parent_path();
  p.csv_path = (base / *csv).string();
  std::string reason;
  const auto text = read_text_file(p.csv_path, reason);
  if (!text) {
    population["csv"].error("cannot read " + quote(p.csv_path) + ": " + reason);
    return false;
  }
  CsvReader reader(p.csv_path, population.sink(), scenario);
  p.records = reader.read(*text);
  if (reader.errors() > 0) return false;
  // For a csv population these describe the file: households and distinct villages.
  std::set<std::string> villages;
  for (const HouseholdRecord& r : p.records) villages.insert(r.village);
  p.households = static_cast<int>(p.records.size());
  p.villages = static_cast<int>(villages.size());
  return true;
}

// {mean, cv}; with `fallback` (the poor block) both keys are optional and keep out's values.
bool read_lognormal(const Value& v, LognormalSpec& out, bool fallback = false) {
  if (!v.expect_fields()) return false;
  const Value mean = fallback ? v["mean"] : v.require("mean", "a number >= 0");
  bool ok = assign(mean, out.mean);
  ok &= assign(v["cv"], out.cv);
  return ok;
}

// {values, weights}; with `fallback` either may be left out and keeps d's (the counts must
// still agree).
bool read_size_distribution(const Value& v, HouseholdDistributions& d, bool fallback = false) {
  if (!v.expect_fields()) return false;
  const Value values = fallback ? v["values"] : v.require("values", "a list of household sizes");
  const Value weights =
      fallback ? v["weights"] : v.require("weights", "a list of weights, one per size");
  bool ok = fallback || (values.present() && weights.present());
  if (values.present()) d.size_values.clear();
  if (weights.present()) d.size_weights.clear();
  for (const Value& item : values.items()) {
    const auto size = item.integer();
    ok &= size.has_value();
    d.size_values.push_back(static_cast<double>(size.value_or(1)));
  }
  for (const Value& item : weights.items()) {
    const auto weight = item.number();
    ok &= weight.has_value();
    d.size_weights.push_back(weight.value_or(0.0));
  }
  if (!ok) return false;
  const Value& at = weights.present() ? weights : v;
  if (d.size_values.empty()) {
    (values.present() ? values : v).error("expected at least one household size");
    return false;
  }
  if (d.size_weights.size() != d.size_values.size()) {
    // In the poor block, a list left out is the general one: say so, or "found 2" would
    // count weights the analyst never wrote there.
    const char* inherited = !fallback || values.present() == weights.present() ? nullptr
                            : values.present()                                 ? "weights"
                                                                               : "values";
    at.error("expected " + std::to_string(d.size_values.size()) +
             " weights (one per value), found " + std::to_string(d.size_weights.size()) +
             (inherited ? std::string(" (the ") + inherited +
                              " are population.size's; give both values and weights here)"
                        : std::string()));
    return false;
  }
  double sum = 0.0;
  for (double w : d.size_weights) sum += w;
  if (!(sum > 0)) {
    at.error("the weights sum to 0; expected a positive sum");
    return false;
  }
  return true;
}

// The attribute distributions of `v` into d: the general ones (every key but laborers
// required) or, with `fallback`, the poor block's (every key optional, d holds the general).
bool read_distributions(const Value& v, HouseholdDistributions& d, bool fallback) {
  bool ok = true;
  const Value size = fallback ? v["size"] : v.require("size", "{values: [...], weights: [...]}");
  if (size.present())
    ok &= read_size_distribution(size, d, fallback);
  else
    ok &= fallback;
  const Value laborers = v["laborers"];
  if (laborers.present()) {
    ok &= laborers.expect_fields();
    ok &= assign(laborers["share_of_size"], d.laborer_share_of_size);
    ok &= assign(laborers["min"], d.laborer_min);
  }
  for (auto [key, spec] :
       {std::pair{"farmland_mu", &d.farmland_mu}, std::pair{"forest_mu", &d.forest_mu},
        std::pair{"capital", &d.capital}}) {
    const Value item = fallback ? v[key] : v.require(key, "{mean: ..., cv: ...}");
    if (item.present())
      ok &= read_lognormal(item, *spec, fallback);
    else
      ok &= fallback;
  }
  return ok;
}

bool read_generated_population(const Value& v, Population& p) {
  bool ok = assign(v["villages"], p.villages);
  ok &= v.require("households", "an integer >= 1").present();
  ok &= assign(v["households"], p.households);
  ok &= read_distributions(v, p.all, false);
  p.poor = p.all;
  const Value poor = v["poor"];
  if (poor.present()) {
    p.poor_block = true;
    ok &= poor.expect_fields() && read_distributions(poor, p.poor, true);
  }
  ok &= assign(v["poor_share"], p.poor_share);
  return ok;
}

}  // namespace

bool read_population(const Value& population, const std::string& scenario_file,
                     Scenario& scenario) {
  if (!population.expect_fields()) return false;
  Population& p = scenario.population;
  bool ok = assign(population["labor_days_per_laborer"], p.labor_days_per_laborer);
  if (population["csv"].present()) {
    for (const std::string& key : scenario_key_fields(population.table_key())) {
      // The generated population's keys (the key table marks them excluded by csv).
      if (find_scenario_key(population.table_key() + "." + key)->excluded_by != "csv") continue;
      if (population[key].present()) {
        population[key].error_at_key("cannot be combined with csv (the csv lists the households)");
        ok = false;
      }
    }
    if (population["poor"].present())
      scenario.warnings.push_back(
          "population.poor is ignored with a csv population (the csv lists every household's "
          "attributes)");
    return read_csv_population(population, scenario_file, scenario) && ok;
  }
  return read_generated_population(population, p) && ok;
}

}  // namespace incsim::scenario_detail
