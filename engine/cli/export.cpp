// `incsim export RESULT.h5 --csv DIR`: tidy csv tables of a run or sweep result, for
// spreadsheets, R and pandas without an HDF5 reader.
//
// One file per group of the result, in long form: a column `variable` (the dataset's name),
// one column per dimension holding the coordinate's values (labels for category dimensions,
// calendar years, quantile levels), and `value`; a dataset's Monte Carlo standard error
// (`<name>_se`) becomes the `se` column of its rows, and in a sweep table `_diff`,
// `_diff_se`, `_increment`, `_increment_se` become columns too, with the swept parameters as
// columns beside `point`. Per-household and per-replication tables are wide (one row per
// household, household-year or replication-year, one column per dataset). Numbers are
// written as the shortest text that reads back bit for bit. Not exported: the sample
// paths (/paths: households x years x samples, often larger than the rest together) and the
// full per-point trees of a sweep (/points/<k>, results of their own: inspect them or export
// a run of that point).
#include <hdf5.h>

#include <charconv>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <map>
#include <optional>
#include <ostream>
#include <set>
#include <string>
#include <vector>

#include "cli/cli.h"
#include "incsim/hdf5.h"

namespace incsim::cli {
namespace {

// The shortest text that reads back bit for bit; NaN and infinities as R and pandas read them.
std::string exact(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "Inf" : "-Inf";
  char text[40];
  const auto end = std::to_chars(text, text + sizeof text, value).ptr;  // shortest exact
  return std::string(text, end);
}

std::string csv_field(const std::string& text) {
  if (text.find_first_of(",\"\n\r") == std::string::npos) return text;
  std::string quoted = "\"";
  for (char c : text) quoted += c == '"' ? std::string("\"\"") : std::string(1, c);
  return quoted + "\"";
}

std::string child_path(const std::string& group, const std::string& name) {
  return (group == "/" ? "" : group) + "/" + name;
}

// A dataset's values as csv fields: numbers exactly, strings escaped.
std::vector<std::string> fields_of(const h5::File& file, const std::string& path,
                                   const h5::DatasetInfo& info) {
  std::vector<std::string> out;
  if (info.is_string) {
    for (const std::string& s : h5::read_strings(file, path)) out.push_back(csv_field(s));
  } else if (info.is_numeric) {
    for (double v : h5::read_doubles(file, path)) out.push_back(exact(v));
  }
  return out;
}

// The coordinate values of dimension `dim` seen from group `group`: the group's own copy of
// the scale, else the root's, else the positions 0..n-1.
std::vector<std::string> coordinate(const h5::File& file, const std::string& group,
                                    const std::string& dim, hsize_t n) {
  for (const std::string& path : {child_path(group, dim), "/" + dim}) {
    if (dim.empty() || !file.root().exists(path)) continue;
    const h5::DatasetInfo info = h5::dataset_info(file, path);
    if (info.shape.size() != 1 || info.shape[0] != n) continue;
    return fields_of(file, path, info);
  }
  std::vector<std::string> index;
  for (hsize_t i = 0; i < n; ++i) index.push_back(std::to_string(i));
  return index;
}

struct Table {
  std::vector<std::string> columns;
  std::vector<std::vector<std::string>> rows;  // fields in `columns` order

  std::size_t column(const std::string& name) {
    for (std::size_t i = 0; i < columns.size(); ++i)
      if (columns[i] == name) return i;
    columns.push_back(name);
    for (auto& row : rows) row.resize(columns.size());
    return columns.size() - 1;
  }
  std::string text() const {
    std::string out;
    for (std::size_t i = 0; i < columns.size(); ++i) {
      if (i) out += ',';
      out += csv_field(columns[i]);
    }
    out += '\n';
    for (const auto& row : rows) {
      for (std::size_t i = 0; i < columns.size(); ++i) {
        if (i) out += ',';
        if (i < row.size()) out += row[i];
      }
      out += '\n';
    }
    return out;
  }
};

// The sibling datasets that become columns of a base dataset's rows.
const std::vector<std::string> kSuffixes = {"_se", "_diff", "_diff_se", "_increment",
                                            "_increment_se"};

std::string column_of_suffix(const std::string& suffix) {
  return suffix.substr(1);  // "se", "diff", ...
}

// Long table of every numeric dataset of `group` (not its coordinates, not the siblings it
// merges). `extra`: per-point columns added to rows that have a `point` dimension (a sweep's
// parameters).
Table long_table(const h5::File& file, const std::string& group,
                 const std::vector<h5::Member>& members,
                 const std::map<std::string, std::vector<std::string>>& extra) {
  std::set<std::string> names;
  for (const h5::Member& m : members)
    if (!m.is_group) names.insert(m.name);
  std::map<std::string, std::string> merged;  // sibling dataset -> the suffix it is merged by
  for (const std::string& name : names)
    for (const std::string& suffix : kSuffixes)
      if (names.count(name + suffix) &&
          !(suffix == "_se" && (name.ends_with("_diff") || name.ends_with("_increment"))))
        merged[name + suffix] = suffix;
  // Columns: variable, the dimensions in order of first use (with a sweep's parameters after
  // `point`), value, then the merged siblings.
  std::vector<std::pair<std::string, h5::DatasetInfo>> variables;
  for (const std::string& name : names) {
    if (merged.count(name) || extra.count(name)) continue;
    h5::DatasetInfo info = h5::dataset_info(file, child_path(group, name));
    if (info.is_scale || !info.is_numeric) continue;
    variables.emplace_back(name, std::move(info));
  }
  Table table;
  table.column("variable");
  for (const auto& [name, info] : variables)
    for (std::size_t k = 0; k < info.shape.size(); ++k) {
      table.column(info.dimensions[k].empty() ? "dim" + std::to_string(k) : info.dimensions[k]);
      if (info.dimensions[k] == "point")
        for (const auto& entry : extra) table.column(entry.first);
    }
  table.column("value");
  for (const std::string& suffix : kSuffixes)
    for (const auto& entry : merged)
      if (entry.second == suffix) table.column(column_of_suffix(suffix));
  for (const auto& [name, info] : variables) {
    const std::string path = child_path(group, name);
    const std::vector<std::string> values = fields_of(file, path, info);
    std::vector<std::vector<std::string>> coords;
    std::vector<std::size_t> coord_columns;
    for (std::size_t k = 0; k < info.shape.size(); ++k) {
      const std::string dim =
          info.dimensions[k].empty() ? "dim" + std::to_string(k) : info.dimensions[k];
      coords.push_back(coordinate(file, group, info.dimensions[k], info.shape[k]));
      coord_columns.push_back(table.column(dim));
    }
    std::vector<std::pair<std::size_t, std::vector<std::string>>> siblings;
    for (const std::string& suffix : kSuffixes) {
      if (!merged.count(name + suffix)) continue;
      const std::string sibling = child_path(group, name + suffix);
      const h5::DatasetInfo sibling_info = h5::dataset_info(file, sibling);
      if (sibling_info.shape != info.shape) continue;
      siblings.emplace_back(table.column(column_of_suffix(suffix)),
                            fields_of(file, sibling, sibling_info));
    }
    const std::size_t value_column = table.column("value");
    std::vector<std::pair<std::size_t, const std::vector<std::string>*>> per_point;
    for (std::size_t k = 0; k < info.dimensions.size(); ++k)
      if (info.dimensions[k] == "point")
        for (const auto& [parameter, column_values] : extra)
          per_point.emplace_back(table.column(parameter), &column_values);
    std::vector<std::size_t> index(info.shape.size(), 0);
    for (std::size_t flat = 0; flat < values.size(); ++flat) {
      std::vector<std::string> row(table.columns.size());
      row[0] = csv_field(name);
      for (std::size_t k = 0; k < index.size(); ++k) {
        row[coord_columns[k]] = coords[k][index[k]];
        if (info.dimensions[k] == "point")
          for (const auto& [column, column_values] : per_point)
            row[column] = (*column_values)[index[k]];
      }
      row[value_column] = values[flat];
      for (const auto& [column, sibling_values] : siblings) row[column] = sibling_values[flat];
      table.rows.push_back(std::move(row));
      for (std::size_t k = index.size(); k-- > 0;) {  // row-major increment
        if (++index[k] < info.shape[k]) break;
        index[k] = 0;
      }
    }
  }
  for (auto& row : table.rows) row.resize(table.columns.size());
  return table;
}

// Wide table of the datasets of `group` whose dimensions are exactly `dims` (e.g.
// {"household"} or {"replication", "year"}): one row per cell, one column per dataset.
Table wide_table(const h5::File& file, const std::string& group,
                 const std::vector<h5::Member>& members, const std::vector<std::string>& dims,
                 const std::map<std::string, std::vector<std::string>>& leading) {
  Table table;
  std::vector<hsize_t> shape;
  std::vector<std::pair<std::size_t, std::vector<std::string>>> data;
  for (const h5::Member& m : members) {
    if (m.is_group) continue;
    const std::string path = child_path(group, m.name);
    const h5::DatasetInfo info = h5::dataset_info(file, path);
    if (info.is_scale || info.dimensions != dims || (!info.is_numeric && !info.is_string)) continue;
    if (!shape.empty() && info.shape != shape) continue;
    shape = info.shape;
    data.emplace_back(0, fields_of(file, path, info));
    data.back().first = table.columns.size() + dims.size() + leading.size();
    table.columns.push_back(m.name);
  }
  if (shape.empty()) return table;
  std::vector<std::string> head = dims;
  for (const auto& [name, values] : leading) head.push_back(name);
  table.columns.insert(table.columns.begin(), head.begin(), head.end());
  std::vector<std::vector<std::string>> coords;
  for (std::size_t k = 0; k < dims.size(); ++k)
    coords.push_back(coordinate(file, group, dims[k], shape[k]));
  std::size_t cells = 1;
  for (hsize_t n : shape) cells *= n;
  std::vector<std::size_t> index(shape.size(), 0);
  for (std::size_t flat = 0; flat < cells; ++flat) {
    std::vector<std::string> row(table.columns.size());
    for (std::size_t k = 0; k < dims.size(); ++k) row[k] = coords[k][index[k]];
    std::size_t c = dims.size();
    for (const auto& [name, values] : leading) row[c++] = values[index[0]];
    for (const auto& [column, values] : data) row[column] = values[flat];
    table.rows.push_back(std::move(row));
    for (std::size_t k = index.size(); k-- > 0;) {
      if (++index[k] < shape[k]) break;
      index[k] = 0;
    }
  }
  return table;
}

// Adds `<column>_name` after `column`, whose values index the labels of `scale` (-1: `none`).
void name_indices(const h5::File& file, Table& table, const std::string& column,
                  const std::string& scale, const std::string& none) {
  std::size_t c = 0;
  while (c < table.columns.size() && table.columns[c] != column) ++c;
  if (c == table.columns.size() || !file.root().exists(scale)) return;
  const std::vector<std::string> labels = h5::read_strings(file, scale);
  table.columns.insert(table.columns.begin() + static_cast<std::ptrdiff_t>(c) + 1,
                       column + "_name");
  for (auto& row : table.rows) {
    std::string name;
    const std::optional<double> index =
        row[c].empty() || row[c] == "NaN" ? std::nullopt : std::optional<double>(std::stod(row[c]));
    if (index && *index < 0) name = none;
    if (index && *index >= 0 && *index < static_cast<double>(labels.size()))
      name = csv_field(labels[static_cast<std::size_t>(*index)]);
    row.insert(row.begin() + static_cast<std::ptrdiff_t>(c) + 1, name);
  }
}

// Each file's name from its group: /groups/poor -> groups_poor.csv, / -> coordinates.csv.
std::string file_name(const std::string& group) {
  if (group == "/") return "coordinates.csv";
  std::string name = group.substr(1);
  for (char& c : name)
    if (c == '/') c = '_';
  return name + ".csv";
}

}  // namespace

int export_csv(const std::string& path, const std::string& directory, std::ostream& os) {
  std::optional<h5::File> file = open_result_file(path, "export");
  if (!file) return 1;
  if (H5Aexists_by_name(file->id(), "/", "incsim_version", H5P_DEFAULT) <= 0 ||
      (!file->root().exists("/year") && !file->root().exists("/sweep/year"))) {
    std::cerr << "incsim export: " << path
              << " is not an incsim result file (no incsim_version attribute, /year or "
                 "/sweep/year)\n";
    return 1;
  }
  std::error_code ec;
  if (std::filesystem::exists(directory, ec) && !std::filesystem::is_directory(directory, ec)) {
    std::cerr << "incsim export: " << directory << " exists and is not a directory\n";
    return 2;
  }
  std::filesystem::create_directories(directory, ec);
  if (ec) {
    std::cerr << "incsim export: cannot create " << directory << " (" << ec.message() << ")\n";
    return 1;
  }
  const bool sweep = file->root().exists("/sweep/point");

  std::map<std::string, Table> tables;  // by file name
  // Groups in a stack, depth first; /points and /paths are not exported (see above).
  std::vector<std::string> pending = {"/"};
  while (!pending.empty()) {
    const std::string group = pending.back();
    pending.pop_back();
    const std::vector<h5::Member> members = h5::list_members(*file, group);
    for (const h5::Member& m : members)
      if (m.is_group && !(group == "/" && (m.name == "points" || m.name == "paths")))
        pending.push_back(child_path(group, m.name));
    if (group == "/") continue;  // only coordinates, already columns of every table
    if (group == "/households") {
      std::map<std::string, std::vector<std::string>> none;
      Table households = wide_table(*file, group, members, {"household"}, none);
      name_indices(*file, households, "village", "/village_index", "");
      name_indices(*file, households, "main", "/industry", "none");
      name_indices(*file, households, "aux", "/industry", "none");
      if (!households.rows.empty()) tables["households.csv"] = std::move(households);
      std::map<std::string, std::vector<std::string>> ids;
      if (file->root().exists("/households/id"))
        ids["id"] = fields_of(*file, "/households/id", h5::dataset_info(*file, "/households/id"));
      Table years = wide_table(*file, group, members, {"household", "year"}, ids);
      if (!years.rows.empty()) tables["household_years.csv"] = std::move(years);
      continue;
    }
    if (group == "/replications") {
      std::map<std::string, std::vector<std::string>> none;
      Table reps = wide_table(*file, group, members, {"replication", "year"}, none);
      if (!reps.rows.empty()) tables["replications.csv"] = std::move(reps);
      continue;
    }
    std::map<std::string, std::vector<std::string>> parameters;
    if (sweep && group == "/sweep") {
      for (const h5::Member& m : members) {
        if (m.is_group || m.name == "point" || m.name == "year") continue;
        const std::string p = child_path(group, m.name);
        const h5::DatasetInfo info = h5::dataset_info(*file, p);
        // Per-point columns that are not measures: the swept values, overlays, overrides,
        // replications.
        if (info.dimensions == std::vector<std::string>{"point"} && !info.is_scale)
          parameters[m.name] = fields_of(*file, p, info);
      }
    }
    Table table = long_table(*file, group, members, parameters);
    if (!table.rows.empty()) tables[file_name(group)] = std::move(table);
  }

  os << "incsim export: " << path << " -> " << directory << "/\n";
  for (const auto& [name, table] : tables) {
    h5::write_text_file((std::filesystem::path(directory) / name).string(), table.text());
    os << "  " << name << "  " << table.rows.size() << " rows, columns: ";
    for (std::size_t i = 0; i < table.columns.size() && i < 8; ++i)
      os << (i ? ", " : "") << table.columns[i];
    os << (table.columns.size() > 8 ? ", ..." : "") << "\n";
  }
  if (file->root().exists("/paths"))
    os << "  (not exported: /paths, the sample paths; read them with h5py or xarray)\n";
  if (sweep && file->root().exists("/points"))
    os << "  (not exported: /points/<k>, each point's full result)\n";
  return 0;
}

}  // namespace incsim::cli
