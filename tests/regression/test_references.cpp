// Stored-reference regression tests (in the manner of OpenMC's tests/regression_tests): each
// case runs the built incsim binary on a bundled scenario, a synthetic scenario of
// tests/regression/scenarios/ or a bundled sweep at a few replications, and compares the whole
// output file with tests/regression/reference/<case>.txt:
//
//   - headline datasets value by value as exact hex floats, one line per dataset:
//       name shape v1 v2 ...            (shape "5x9", or "scalar"; values printed with %a)
//   - every other dataset, recursively, by a 64-bit FNV-1a hash of its raw bytes (strings as
//     their text, each followed by a NUL) and its element count:
//       #hash name count hex
//   - a few integer root attributes (seed, replications, ...):  #attr object name value
//
// A dataset present in the file but not in the reference, or the other way round, fails the
// test by name. Other attributes are not compared (created_utc, paths of the files run).
// Values compare bit for bit (NaN equals NaN, whatever its payload; -0 differs from +0).
//
// INCSIM_UPDATE_REFERENCES=1 writes the reference files instead of comparing (the test then
// passes): see tools/update_references.sh. A change of references must be explained in the
// commit message that makes it.
#include <gtest/gtest.h>
#include <hdf5.h>

#include <algorithm>
#include <chrono>
#include <cinttypes>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <ostream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "support.h"

namespace incsim {
namespace {

namespace fs = std::filesystem;

// ---- One regression case ------------------------------------------------------------------

struct Case {
  std::string name;       // reference file stem and test name
  bool sweep = false;     // incsim sweep instead of incsim run
  std::string file;       // relative to the source directory
  std::string arguments;  // extra command-line arguments (already shell-safe)
};

// gtest (and so ctest's test names) print a case by its name.
void PrintTo(const Case& c, std::ostream* os) {
  *os << c.name;
}

const std::vector<Case>& cases() {
  static const std::vector<Case> all = {
      {"xianning_2019", false, "scenarios/xianning_2019.yaml", "--replications 12"},
      // 10,000 households choosing by expected utility: a short pilot keeps it to a second.
      {"bench", false, "scenarios/bench.yaml",
       "--replications 12 --set choice.pilot_replications=10"},
      {"tongshan_double_insurance", false, "scenarios/tongshan_double_insurance.yaml",
       "--replications 12"},
      {"tongshan_no_insurance", false, "scenarios/tongshan_no_insurance.yaml", "--replications 12"},
      {"all_features_logit", false, "tests/regression/scenarios/all_features_logit.yaml",
       "--replications 12"},
      {"csv_expected_utility", false, "tests/regression/scenarios/csv_expected_utility.yaml",
       "--replications 12"},
      // Sweeps: the command line's --set comes after the sweep's own set: (replications 1000),
      // so it cuts every point to 12 replications, a 20-replication pilot and (index coverage)
      // a 1000-draw fair premium: about 4 s for the 15 points and 1 s for the 4 points.
      {"sweep_index_coverage", true, "scenarios/sweep_index_coverage.yaml",
       "--set scenario.replications=12 --set choice.pilot_replications=20 "
       "--set insurance.income_index.fair_replications=1000"},
      {"sweep_insurance_stack", true, "scenarios/sweep_insurance_stack.yaml",
       "--set scenario.replications=12 --set choice.pilot_replications=20"},
      {"tongcheng_poverty_guard", false, "scenarios/tongcheng_poverty_guard.yaml",
       "--replications 12 --set choice.pilot_replications=20"},
      {"sweep_guard_on_health", true, "scenarios/sweep_guard_on_health.yaml",
       "--set scenario.replications=12 --set choice.pilot_replications=20"},
      {"sweep_basis_risk", true, "scenarios/sweep_basis_risk.yaml",
       "--set scenario.replications=12 --set choice.pilot_replications=20 "
       "--set insurance.income_index.fair_replications=1000"},
      {"sweep_post_amount", true, "scenarios/sweep_post_amount.yaml",
       "--set scenario.replications=12 --set choice.pilot_replications=20"},
  };
  return all;
}

// ---- Reading the output file --------------------------------------------------------------

struct Dataset {
  std::vector<hsize_t> dims;   // empty for a scalar
  std::uint64_t count = 0;     // elements
  bool numeric = false;        // integer or floating point (values can be read as doubles)
  std::string bytes;           // raw bytes in the file's type; strings as text + NUL each
  std::vector<double> values;  // numeric datasets only, converted to double
  bool read_ok = true;
};

std::uint64_t fnv1a64(const std::string& bytes) {
  std::uint64_t h = 0xcbf29ce484222325ULL;
  for (unsigned char c : bytes) {
    h ^= c;
    h *= 0x100000001b3ULL;
  }
  return h;
}

std::string shape_text(const std::vector<hsize_t>& dims) {
  if (dims.empty()) return "scalar";
  std::string s;
  for (std::size_t k = 0; k < dims.size(); ++k) {
    if (k) s += 'x';
    s += std::to_string(static_cast<unsigned long long>(dims[k]));
  }
  return s;
}

struct FileContents {
  std::map<std::string, Dataset> datasets;
  std::vector<std::string> errors;  // objects the reader could not pin (never skipped silently)
};

Dataset read_dataset(hid_t d) {
  Dataset out;
  const hid_t type = H5Dget_type(d);
  const hid_t space = H5Dget_space(d);
  const int rank = H5Sget_simple_extent_ndims(space);
  out.dims.resize(static_cast<std::size_t>(std::max(rank, 0)));
  if (rank > 0) H5Sget_simple_extent_dims(space, out.dims.data(), nullptr);
  out.count = static_cast<std::uint64_t>(H5Sget_simple_extent_npoints(space));
  const H5T_class_t cls = H5Tget_class(type);
  if (H5Tis_variable_str(type) > 0) {
    std::vector<char*> strings(out.count);
    out.read_ok = H5Dread(d, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, strings.data()) >= 0;
    for (char* s : strings) out.bytes += std::string(s ? s : "") + '\0';
    H5Dvlen_reclaim(type, space, H5P_DEFAULT, strings.data());
  } else {
    out.bytes.resize(out.count * H5Tget_size(type));
    if (out.count)
      out.read_ok = H5Dread(d, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, out.bytes.data()) >= 0;
    out.numeric = cls == H5T_INTEGER || cls == H5T_FLOAT;
    if (out.numeric) {
      out.values.resize(out.count);
      if (out.count)
        out.read_ok &=
            H5Dread(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, out.values.data()) >= 0;
    }
  }
  H5Sclose(space);
  H5Tclose(type);
  return out;
}

// Every link below the root, recursively: datasets are read, groups are descended into, and
// anything else (a soft or external link, a named datatype) is an error naming it.
FileContents read_file_contents(const std::string& path) {
  FileContents out;
  const hid_t f = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  if (f < 0) {
    out.errors.push_back("cannot open " + path);
    return out;
  }
  auto visit = [](hid_t group, const char* name, const H5L_info_t* info, void* data) -> herr_t {
    auto& contents = *static_cast<FileContents*>(data);
    if (std::string(name).find_first_of(" \t\n") != std::string::npos) {
      contents.errors.push_back(std::string(name) +
                                ": a name with white space (the reference format cannot hold it)");
      return 0;
    }
    if (info->type != H5L_TYPE_HARD) {
      contents.errors.push_back(std::string(name) + ": a soft or external link (not compared)");
      return 0;
    }
    const hid_t obj = H5Oopen(group, name, H5P_DEFAULT);
    if (obj < 0) {
      contents.errors.push_back(std::string(name) + ": cannot be opened");
      return 0;
    }
    const H5I_type_t kind = H5Iget_type(obj);
    if (kind == H5I_DATASET) {
      contents.datasets[name] = read_dataset(obj);
      if (!contents.datasets[name].read_ok)
        contents.errors.push_back(std::string(name) + ": cannot be read");
    } else if (kind != H5I_GROUP) {
      contents.errors.push_back(std::string(name) + ": neither a group nor a dataset");
    }
    H5Oclose(obj);
    return 0;
  };
  H5Lvisit(f, H5_INDEX_NAME, H5_ITER_INC, static_cast<H5L_iterate_t>(+visit), &out);
  H5Fclose(f);
  return out;
}

// Integer attribute `name` of `object`, as decimal text, or nothing when absent.
std::optional<std::string> integer_attribute(const std::string& path, const std::string& object,
                                             const std::string& name) {
  const hid_t f = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  if (f < 0) return std::nullopt;
  std::optional<std::string> out;
  // H5Lexists needs every parent of the path to exist: check "points" before "points/0".
  bool exists = object == "/";
  if (!exists) {
    exists = true;
    for (std::size_t slash = object.find('/'); exists; slash = object.find('/', slash + 1)) {
      exists = H5Lexists(f, object.substr(0, slash).c_str(), H5P_DEFAULT) > 0;
      if (slash == std::string::npos) break;
    }
  }
  if (exists) {
    if (H5Aexists_by_name(f, object.c_str(), name.c_str(), H5P_DEFAULT) > 0) {
      const hid_t a = H5Aopen_by_name(f, object.c_str(), name.c_str(), H5P_DEFAULT, H5P_DEFAULT);
      const hid_t type = H5Aget_type(a);
      if (H5Tget_class(type) == H5T_INTEGER) {
        if (H5Tget_sign(type) == H5T_SGN_NONE) {
          unsigned long long v = 0;
          H5Aread(a, H5T_NATIVE_ULLONG, &v);
          out = std::to_string(v);
        } else {
          long long v = 0;
          H5Aread(a, H5T_NATIVE_LLONG, &v);
          out = std::to_string(v);
        }
      }
      H5Tclose(type);
      H5Aclose(a);
    }
  }
  H5Fclose(f);
  return out;
}

// ---- Which datasets are compared value by value -------------------------------------------

// Headline datasets of one run tree, by their path relative to the tree's root.
bool is_headline_of_run(const std::string& name) {
  static const std::set<std::string> exact = {"income/mean",
                                              "income/std",
                                              "income/mean_se",
                                              "income/quantiles",
                                              "poverty/fgt0",
                                              "poverty/fgt1",
                                              "poverty/fgt2",
                                              "poverty/fgt0_se",
                                              "poverty/fgt1_se",
                                              "poverty/fgt2_se",
                                              "poverty/relapse",
                                              "poverty/ever_poor",
                                              "poverty/vulnerable_share",
                                              "poverty/target_risk",
                                              "fiscal/government_cost",
                                              "fiscal/government_cost_se",
                                              "choice/share",
                                              "prices/mean"};
  if (exact.count(name)) return true;
  const auto slash1 = name.find('/');
  if (slash1 == std::string::npos) return false;
  const auto slash2 = name.find('/', slash1 + 1);
  if (slash2 == std::string::npos || name.find('/', slash2 + 1) != std::string::npos) return false;
  const std::string top = name.substr(0, slash1), leaf = name.substr(slash2 + 1);
  static const std::set<std::string> product_leaves = {"premium",    "subsidy",    "payout",
                                                       "loss_ratio", "paid_share", "rate_used"};
  if (top == "insurance") return product_leaves.count(leaf) > 0;
  if (top == "groups") return leaf == "fgt0" || leaf == "income_mean";
  return false;
}

// Run files: the run's headline datasets. Sweep files: every numeric dataset of the /sweep
// table and point 0's headline datasets.
bool is_headline(const std::string& name, const Dataset& d, bool sweep) {
  if (!d.numeric) return false;
  if (!sweep) return is_headline_of_run(name);
  if (name.rfind("sweep/", 0) == 0) return true;
  const std::string point0 = "points/0/";
  return name.rfind(point0, 0) == 0 && is_headline_of_run(name.substr(point0.size()));
}

// ---- Reference text -----------------------------------------------------------------------

std::string hex(double v) {
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%a", v);
  return buffer;
}

std::string decimal(double v) {
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%.17g", v);
  return buffer;
}

std::string hash_text(std::uint64_t h) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%016" PRIx64, h);
  return buffer;
}

const std::vector<std::pair<std::string, std::string>>& pinned_attributes() {
  static const std::vector<std::pair<std::string, std::string>> all = {
      {"/", "seed"},
      {"/", "replications"},
      {"/", "replications_requested"},
      {"/", "years"},
      {"/", "households"},
      {"/", "persons"},
      {"/", "points"},
      {"/", "start_year"},
      {"points/0", "seed"},
      {"points/0", "replications"}};
  return all;
}

struct Reference {
  std::map<std::string, std::string> attributes;  // "object name" -> value
  struct Values {
    std::string shape;
    std::vector<std::string> hex;  // as written; parsed on comparison
  };
  std::map<std::string, Values> values;
  struct Hash {
    std::uint64_t count = 0;
    std::string hash;
  };
  std::map<std::string, Hash> hashes;
};

std::string render(const Case& c, const std::string& command, const std::string& output,
                   const FileContents& contents) {
  std::ostringstream out;
  out << "## incsim regression reference: " << c.name << "\n";
  out << "## command: incsim " << command << "\n";
  out << "## written by tests/regression/test_references.cpp (tools/update_references.sh);\n";
  out << "## a change of this file must be explained in the commit message that makes it.\n";
  for (const auto& [object, name] : pinned_attributes())
    if (const auto v = integer_attribute(output, object, name))
      out << "#attr " << object << " " << name << " " << *v << "\n";
  for (const auto& [name, d] : contents.datasets) {
    if (!is_headline(name, d, c.sweep)) continue;
    out << name << " " << shape_text(d.dims);
    for (double v : d.values) out << " " << hex(v);
    out << "\n";
  }
  for (const auto& [name, d] : contents.datasets) {
    if (is_headline(name, d, c.sweep)) continue;
    out << "#hash " << name << " " << d.count << " " << hash_text(fnv1a64(d.bytes)) << "\n";
  }
  return out.str();
}

Reference parse(const std::string& text) {
  Reference ref;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line.rfind("##", 0) == 0) continue;
    std::istringstream words(line);
    std::string head;
    words >> head;
    if (head == "#attr") {
      std::string object, name, value;
      words >> object >> name >> value;
      ref.attributes[object + " " + name] = value;
    } else if (head == "#hash") {
      std::string name;
      Reference::Hash h;
      words >> name >> h.count >> h.hash;
      ref.hashes[name] = h;
    } else {
      Reference::Values v;
      words >> v.shape;
      std::string word;
      while (words >> word) v.hex.push_back(word);
      ref.values[head] = v;
    }
  }
  return ref;
}

// Bit-for-bit equality, except that any NaN equals any NaN.
bool same(double a, double b) {
  if (std::isnan(a) && std::isnan(b)) return true;
  std::uint64_t x, y;
  std::memcpy(&x, &a, sizeof x);
  std::memcpy(&y, &b, sizeof y);
  return x == y;
}

std::string index_text(std::uint64_t flat, const std::vector<hsize_t>& dims) {
  std::vector<std::uint64_t> idx(std::max<std::size_t>(dims.size(), 1), flat);
  for (std::size_t k = dims.size(); k-- > 1;) {
    idx[k] = flat % dims[k];
    flat /= dims[k];
  }
  if (!idx.empty()) idx[0] = flat;
  std::ostringstream s;
  s << '[';
  for (std::size_t k = 0; k < idx.size(); ++k) s << (k ? "," : "") << idx[k];
  s << ']';
  return s.str();
}

// Compares the file with the reference; returns one message per difference (empty: equal).
std::vector<std::string> compare(const Case& c, const Reference& ref, const std::string& output) {
  constexpr int kShownValues = 5;
  std::vector<std::string> problems;
  const FileContents contents = read_file_contents(output);
  problems.insert(problems.end(), contents.errors.begin(), contents.errors.end());

  for (const auto& [object, name] : pinned_attributes()) {
    const auto actual = integer_attribute(output, object, name);
    const auto it = ref.attributes.find(object + " " + name);
    if (it == ref.attributes.end() && !actual) continue;
    if (it == ref.attributes.end()) {
      problems.push_back("attribute " + object + " " + name + " = " + *actual +
                         " is in the file but not in the reference");
    } else if (!actual) {
      problems.push_back("attribute " + object + " " + name + " (reference " + it->second +
                         ") is missing from the file");
    } else if (*actual != it->second) {
      problems.push_back("attribute " + object + " " + name + ": expected " + it->second +
                         ", actual " + *actual);
    }
  }

  for (const auto& [name, d] : contents.datasets) {
    const bool headline = is_headline(name, d, c.sweep);
    if (headline && !ref.values.count(name) && !ref.hashes.count(name)) {
      problems.push_back(name + " (" + shape_text(d.dims) +
                         ") is in the file but not in the reference");
      continue;
    }
    if (!headline && !ref.hashes.count(name) && !ref.values.count(name)) {
      problems.push_back(name + " (" + std::to_string(d.count) +
                         " elements) is in the file but not in the reference");
      continue;
    }
    if (headline != (ref.values.count(name) > 0)) {
      problems.push_back(name + ": compared " + std::string(headline ? "by value" : "by hash") +
                         " now but the reference pins it the other way");
      continue;
    }
    if (!headline) {
      const Reference::Hash& h = ref.hashes.at(name);
      const std::string actual = hash_text(fnv1a64(d.bytes));
      if (h.count != d.count || h.hash != actual) {
        problems.push_back(name + ": raw bytes differ (expected " + std::to_string(h.count) +
                           " elements, hash " + h.hash + "; actual " + std::to_string(d.count) +
                           " elements, hash " + actual + ")");
      }
      continue;
    }
    const Reference::Values& v = ref.values.at(name);
    if (v.shape != shape_text(d.dims) || v.hex.size() != d.values.size()) {
      problems.push_back(name + ": shape differs (expected " + v.shape + " with " +
                         std::to_string(v.hex.size()) + " values, actual " + shape_text(d.dims) +
                         " with " + std::to_string(d.values.size()) + ")");
      continue;
    }
    std::ostringstream detail;
    int differing = 0;
    for (std::size_t i = 0; i < d.values.size(); ++i) {
      const double expected = std::strtod(v.hex[i].c_str(), nullptr);
      const double actual = d.values[i];
      if (same(expected, actual)) continue;
      if (differing++ < kShownValues) {
        detail << "\n    " << name << index_text(i, d.dims) << ": expected " << hex(expected)
               << " (" << decimal(expected) << "), actual " << hex(actual) << " ("
               << decimal(actual) << "), difference " << decimal(actual - expected);
      }
    }
    if (differing) {
      problems.push_back(name + ": " + std::to_string(differing) + " of " +
                         std::to_string(d.values.size()) + " values differ" + detail.str() +
                         (differing > kShownValues ? "\n    ..." : ""));
    }
  }
  for (const auto& [name, v] : ref.values)
    if (!contents.datasets.count(name))
      problems.push_back(name + " (" + v.shape + ") is in the reference but not in the file");
  for (const auto& [name, h] : ref.hashes)
    if (!contents.datasets.count(name))
      problems.push_back(name + " (" + std::to_string(h.count) +
                         " elements) is in the reference but not in the file");
  return problems;
}

bool update_mode() {
  const char* env = std::getenv("INCSIM_UPDATE_REFERENCES");
  return env && std::string(env) == "1";
}

fs::path reference_path(const Case& c) {
  return fs::path(INCSIM_SOURCE_DIR) / "tests/regression/reference" / (c.name + ".txt");
}

class References : public ::testing::TestWithParam<Case> {};

TEST_P(References, MatchStoredReference) {
  const Case& c = GetParam();
  const fs::path output = test::temp_path(".h5");
  fs::remove(output);
  fs::remove_all(output.string() + ".points");  // a sweep's sidecar of an interrupted run
  const std::string input = (fs::path(INCSIM_SOURCE_DIR) / c.file).string();
  // The command as recorded in the reference: relative paths, no output file.
  const std::string command =
      std::string(c.sweep ? "sweep " : "run ") + c.file + " " + c.arguments + " --threads 2";
  const std::string arguments = std::string(c.sweep ? "sweep " : "run ") +
                                test::shell_quote(input) + " -o " +
                                test::shell_quote(output.string()) + " " + c.arguments +
                                " --threads 2 --quiet" + (c.sweep ? " --restart" : "");

  const auto start = std::chrono::steady_clock::now();
  const test::CommandResult run = test::run_incsim(arguments);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  ASSERT_EQ(run.exit_status, 0) << "incsim " << arguments << "\n" << run.err;
  ASSERT_TRUE(fs::exists(output)) << output;
  RecordProperty("incsim_seconds", std::to_string(seconds));

  if (update_mode()) {
    fs::create_directories(reference_path(c).parent_path());
    std::ofstream out(reference_path(c), std::ios::binary);
    const FileContents contents = read_file_contents(output.string());
    for (const std::string& error : contents.errors) ADD_FAILURE() << c.name << ": " << error;
    out << render(c, command, output.string(), contents);
    ASSERT_TRUE(out.good()) << "cannot write " << reference_path(c);
    std::printf("wrote %s (incsim took %.2f s)\n", reference_path(c).string().c_str(), seconds);
    fs::remove(output);
    return;
  }

  ASSERT_TRUE(fs::exists(reference_path(c)))
      << reference_path(c) << " is missing: run bash tools/update_references.sh";
  const Reference ref = parse(test::read_file(reference_path(c)));
  ASSERT_FALSE(ref.values.empty() && ref.hashes.empty()) << reference_path(c) << " is empty";
  const std::vector<std::string> problems = compare(c, ref, output.string());
  constexpr std::size_t kShownDatasets = 25;
  for (std::size_t k = 0; k < problems.size() && k < kShownDatasets; ++k)
    ADD_FAILURE() << c.name << ": " << problems[k];
  if (!problems.empty()) {
    ADD_FAILURE() << c.name << ": " << problems.size() << " difference(s) from "
                  << reference_path(c).string() << " (" << std::min(problems.size(), kShownDatasets)
                  << " shown). If the change is intended, run bash tools/update_references.sh "
                  << "and explain it in the commit message.";
  } else {
    fs::remove(output);
  }
  std::printf("%s: incsim took %.2f s\n", c.name.c_str(), seconds);
}

std::string case_name(const ::testing::TestParamInfo<Case>& param) {
  return param.param.name;
}

INSTANTIATE_TEST_SUITE_P(Stored, References, ::testing::ValuesIn(cases()), case_name);

}  // namespace
}  // namespace incsim
