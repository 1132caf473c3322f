// Partial-result files (incsim/part.h, MODEL.md section 13): writing a RunPart, reading it back
// against the model, and checking that a set of parts is one whole run.
#include <algorithm>
#include <chrono>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <map>
#include <stdexcept>
#include <type_traits>

#include "incsim/hdf5.h"
#include "incsim/output.h"
#include "incsim/part.h"
#include "incsim/version.h"

namespace incsim {
namespace {

constexpr const char* kKind = "incsim part";

// ---- fingerprint ----------------------------------------------------------------------------

class Fnv {
 public:
  void bytes(const void* data, std::size_t n) {
    const auto* p = static_cast<const unsigned char*>(data);
    for (std::size_t i = 0; i < n; ++i) {
      hash_ ^= p[i];
      hash_ *= 1099511628211ull;
    }
  }
  template <typename T>
  void values(const std::vector<T>& v) {
    const std::uint64_t n = v.size();
    bytes(&n, sizeof n);
    if (!v.empty()) bytes(v.data(), v.size() * sizeof(T));
  }
  void text(const std::string& s) {
    const std::uint64_t n = s.size();
    bytes(&n, sizeof n);
    bytes(s.data(), s.size());
  }
  std::string hex() const {
    char buffer[17];
    std::snprintf(buffer, sizeof buffer, "%016llx", static_cast<unsigned long long>(hash_));
    return buffer;
  }

 private:
  std::uint64_t hash_ = 14695981039346656037ull;
};

// ---- 128-bit sums as (n, 2) int64 ---------------------------------------------------------

template <int B>
std::vector<std::int64_t> raw_pairs(const std::vector<FixedSum<B>>& sums) {
  std::vector<std::int64_t> out(2 * sums.size());
  for (std::size_t i = 0; i < sums.size(); ++i) {
    const auto u = static_cast<unsigned __int128>(sums[i].raw());
    out[2 * i] = static_cast<std::int64_t>(static_cast<std::uint64_t>(u));
    out[2 * i + 1] = static_cast<std::int64_t>(static_cast<std::uint64_t>(u >> 64));
  }
  return out;
}

void write_sums(h5::Group& g, const std::string& name, const auto& sums) {
  g.write(name, raw_pairs(sums), {static_cast<hsize_t>(sums.size()), 2});
}

// Reads part files: every dataset's shape is checked against what the model needs.
class PartReader {
 public:
  PartReader(const std::string& path, h5::File& file) : path_(path), file_(file) {}

  [[noreturn]] void fail(const std::string& what) const {
    throw std::runtime_error(path_ + " is not a usable part of this run: " + what);
  }

  std::vector<std::int64_t> int64s(const std::string& name, std::vector<hsize_t> shape) const {
    std::vector<hsize_t> dims;
    std::vector<std::int64_t> v = h5::read_int64s(file_, name, &dims);
    check_shape(name, dims, shape);
    return v;
  }
  std::vector<double> doubles(const std::string& name, std::vector<hsize_t> shape) const {
    std::vector<hsize_t> dims;
    std::vector<double> v = h5::read_doubles(file_, name, &dims);
    check_shape(name, dims, shape);
    return v;
  }
  template <int B>
  void sums(const std::string& name, std::vector<FixedSum<B>>& into) const {
    const std::vector<std::int64_t> p = int64s(name, {into.size(), 2});
    for (std::size_t i = 0; i < into.size(); ++i) {
      const auto u =
          (static_cast<unsigned __int128>(static_cast<std::uint64_t>(p[2 * i + 1])) << 64) |
          static_cast<std::uint64_t>(p[2 * i]);
      into[i] = FixedSum<B>::from_raw(static_cast<__int128>(u));
    }
  }
  template <typename T>
  void counts(const std::string& name, std::vector<T>& into) const {
    const std::vector<std::int64_t> v = int64s(name, {into.size()});
    for (std::size_t i = 0; i < into.size(); ++i) {
      if (v[i] < 0) fail(name + " holds a negative count");
      into[i] = static_cast<T>(v[i]);
    }
  }

  // The part's replication ranges: /ranges when it has several (sorted, disjoint, not
  // touching, within [begin, end) and starting and ending there), else [begin, end).
  std::vector<std::pair<std::int64_t, std::int64_t>> ranges(const PartHeader& h) const {
    if (!file_.root().exists("ranges")) return {{h.begin, h.end}};
    std::vector<hsize_t> dims;
    const std::vector<std::int64_t> flat = h5::read_int64s(file_, "/ranges", &dims);
    if (dims.size() != 2 || dims[1] != 2 || dims[0] < 2) fail("/ranges is not a list of ranges");
    std::vector<std::pair<std::int64_t, std::int64_t>> out;
    for (std::size_t k = 0; k < dims[0]; ++k) {
      const std::int64_t b = flat[2 * k], e = flat[2 * k + 1];
      if (e <= b || (!out.empty() && b <= out.back().second)) fail("/ranges is not sorted");
      out.push_back({b, e});
    }
    if (out.front().first != h.begin || out.back().second != h.end)
      fail("/ranges does not span [begin, end)");
    return out;
  }

 private:
  void check_shape(const std::string& name, const std::vector<hsize_t>& dims,
                   const std::vector<hsize_t>& shape) const {
    if (dims != shape) fail(name + " has shape " + text(dims) + ", expected " + text(shape));
  }
  static std::string text(const std::vector<hsize_t>& dims) {
    if (dims.empty()) return "scalar";
    std::string out = std::to_string(dims[0]);
    for (std::size_t k = 1; k < dims.size(); ++k) out.append("x").append(std::to_string(dims[k]));
    return out;
  }
  std::string path_;
  h5::File& file_;
};

const char* const kGroupSums[] = {"income_sum", "income_sumsq", "oop_sum",
                                  "oop_sumsq",  "cost_sum",     "cost_sumsq"};
const char* const kGroupShares[] = {"fgt0_sum", "fgt0_sumsq"};

}  // namespace

std::string model_fingerprint(const Model& model) {
  Fnv f;
  f.text(INCSIM_VERSION);
  f.text(model.scenario.text_as_run);
  const Households& h = model.households;
  f.values(h.village);
  f.values(h.size);
  f.values(h.laborers);
  f.values(h.farmland_mu);
  f.values(h.forest_mu);
  f.values(h.capital);
  f.values(h.poor);
  f.values(h.public_post);
  f.values(h.main);
  f.values(h.aux);
  f.values(h.units_main);
  f.values(h.units_aux);
  for (const auto& e : h.enrolled) f.values(e);
  f.values(h.dibao_eligible);
  f.values(h.certainty_equivalent);
  f.values(h.fixed_income);
  f.values(h.farm_cost);
  f.values(model.kernel.unit);
  f.values(model.insurance.rate_used);
  for (const ProductPlan& p : model.insurance.plan) {
    f.values(p.premium);
    f.values(p.subsidy);
    f.values(p.exposed);
  }
  return f.hex();
}

namespace {

void write_part_tree(h5::File& file, const Model& model, const RunPart& part, int index,
                     int parts) {
  const Scenario& s = model.scenario;
  const Accumulator& acc = *part.accumulator;
  const auto years = static_cast<std::size_t>(model.years);
  h5::Group root = file.root();
  root.attr("kind", kKind)
      .attr("part_format", kPartFormat)
      .attr("incsim_version", INCSIM_VERSION)
      .attr("scenario", s.text_as_run)
      .attr("scenario_file", s.source_file)
      .attr("scenario_path",
            s.source_file.empty()  // a scenario built in memory names no file
                ? std::string()
                : std::filesystem::absolute(s.source_file).lexically_normal().string())
      .attr("overrides", s.overrides)
      .attr("replications", static_cast<std::int64_t>(model.replications))
      .attr("years", static_cast<std::int64_t>(model.years))
      .attr("households", static_cast<std::int64_t>(model.households.count()))
      .attr("part", static_cast<std::int64_t>(index))
      .attr("parts", static_cast<std::int64_t>(parts))
      .attr("begin", part.begin)
      .attr("end", part.end)
      .attr("model_fingerprint", model_fingerprint(model))
      .attr("created_utc", utc_now());
  root.attr("seed", std::uint64_t{s.seed});

  h5::Group a = root.group("accumulator");
  a.write_scalar("replications", acc.replications);
  a.write("histogram", acc.histogram);
  write_sums(a, "household_income_sum", acc.household_income_sum);
  a.write("household_poor_count", acc.household_poor_count);
  a.write("household_poor_horizon", acc.household_poor_horizon);
  for (std::size_t g = 0; g < acc.group_income_sum.size(); ++g) {
    h5::Group gg = a.group("group_" + std::to_string(g));
    const std::vector<IncomeSum>* sums[] = {&acc.group_income_sum[g], &acc.group_income_sumsq[g],
                                            &acc.group_oop_sum[g],    &acc.group_oop_sumsq[g],
                                            &acc.group_cost_sum[g],   &acc.group_cost_sumsq[g]};
    for (int k = 0; k < 6; ++k) write_sums(gg, kGroupSums[k], *sums[k]);
    write_sums(gg, kGroupShares[0], acc.group_fgt0_sum[g]);
    write_sums(gg, kGroupShares[1], acc.group_fgt0_sumsq[g]);
  }
  a.write("minimum", acc.minimum);
  a.write("maximum", acc.maximum);
  h5::Group p = a.group("protection");
  write_sums(p, "basis", acc.protection.basis);
  write_sums(p, "value", acc.protection.value);
  p.write("group_replications",
          std::vector<std::int64_t>(std::begin(acc.protection.group_replications),
                                    std::end(acc.protection.group_replications)));

  // The part's rows of the per-replication table and its sample-path slots, range after
  // range. A part of several ranges (the blocks one MPI rank took) lists them in /ranges;
  // a part file of consecutive replications has one, [begin, end).
  if (part.ranges.size() > 1) {
    std::vector<std::int64_t> flat;
    for (const auto& [b, e] : part.ranges) flat.insert(flat.end(), {b, e});
    root.write("ranges", flat, {part.ranges.size(), 2});
  }
  const ReplicationTable& table = part.table;
  const std::vector<const std::vector<double>*> columns = table.year_columns();
  const auto m = static_cast<std::size_t>(table.markets);
  const std::size_t width = model.households.count() * years;
  std::vector<double> rows, prices, ever, consecutive;
  std::vector<float> paths;
  std::size_t n = 0;
  for (const auto& r : part.ranges) n += static_cast<std::size_t>(r.second - r.first);
  rows.reserve(columns.size() * n * years);
  for (const std::vector<double>* c : columns)
    for (const auto& [b, e] : part.ranges)
      rows.insert(rows.end(), c->begin() + b * years, c->begin() + e * years);
  for (const auto& [b, e] : part.ranges) {
    prices.insert(prices.end(), table.prices.begin() + b * years * m,
                  table.prices.begin() + e * years * m);
    ever.insert(ever.end(), table.ever_poor.begin() + b, table.ever_poor.begin() + e);
    consecutive.insert(consecutive.end(), table.two_consecutive_poor_ever.begin() + b,
                       table.two_consecutive_poor_ever.begin() + e);
    const std::int64_t s0 = std::min(b, part.sample_path_count);
    const std::int64_t s1 = std::min(e, part.sample_path_count);
    paths.insert(paths.end(), part.sample_paths.begin() + static_cast<std::ptrdiff_t>(s0 * width),
                 part.sample_paths.begin() + static_cast<std::ptrdiff_t>(s1 * width));
  }
  h5::Group t = root.group("table");
  t.write("year_columns", rows, {static_cast<hsize_t>(columns.size()), n * years});
  t.write("prices", prices);
  t.write("ever_poor", ever);
  t.write("two_consecutive_poor_ever", consecutive);
  root.write("sample_paths", paths);
}

PartHeader header_of(const h5::File& f, const std::string& path) {
  PartHeader h;
  h.path = path;
  try {
    std::string kind;
    try {
      kind = h5::read_string_attribute(f, "/", "kind");
    } catch (const h5::H5Error&) {
    }
    if (kind != kKind)
      throw std::runtime_error(path + " is not an incsim part file (written by incsim run --part)");
    h.format = h5::read_int64_attribute(f, "/", "part_format");
    h.incsim_version = h5::read_string_attribute(f, "/", "incsim_version");
    if (h.format != kPartFormat)
      throw std::runtime_error(path + " is a part file of format " + std::to_string(h.format) +
                               " (incsim " + h.incsim_version + "); this incsim reads format " +
                               std::to_string(kPartFormat));
    h.scenario_text = h5::read_string_attribute(f, "/", "scenario");
    h.scenario_file = h5::read_string_attribute(f, "/", "scenario_file");
    h.scenario_path = h5::read_string_attribute(f, "/", "scenario_path");
    h.overrides = h5::read_strings_attribute(f, "/", "overrides");
    h.seed = h5::read_uint64_attribute(f, "/", "seed");
    h.replications = h5::read_int64_attribute(f, "/", "replications");
    h.years = h5::read_int64_attribute(f, "/", "years");
    h.households = h5::read_int64_attribute(f, "/", "households");
    h.part = static_cast<int>(h5::read_int64_attribute(f, "/", "part"));
    h.parts = static_cast<int>(h5::read_int64_attribute(f, "/", "parts"));
    h.begin = h5::read_int64_attribute(f, "/", "begin");
    h.end = h5::read_int64_attribute(f, "/", "end");
    h.model_fingerprint = h5::read_string_attribute(f, "/", "model_fingerprint");
  } catch (const h5::H5Error& e) {
    throw std::runtime_error(path + " cannot be read as a part file: " + e.what());
  }
  if (h.parts < 1 || h.part < 1 || h.part > h.parts || h.begin < 0 || h.end <= h.begin ||
      h.end > h.replications)
    throw std::runtime_error(path + " is a corrupt part file: part " + std::to_string(h.part) +
                             " of " + std::to_string(h.parts) + ", replications [" +
                             std::to_string(h.begin) + ", " + std::to_string(h.end) + ") of " +
                             std::to_string(h.replications));
  return h;
}

RunPart read_part_from(h5::File& f, const std::string& path, const Model& model);

}  // namespace

void write_part(const std::string& path, const Model& model, const RunPart& part, int index,
                int parts) {
  h5::AtomicFile out(path);
  write_part_tree(out.file(), model, part, index, parts);
  out.commit();
}

std::vector<unsigned char> part_image(const Model& model, const RunPart& part, int index,
                                      int parts) {
  h5::File f = h5::File::create_in_memory("part-" + std::to_string(index) + ".h5");
  write_part_tree(f, model, part, index, parts);
  return f.image();
}

PartHeader read_part_header(const std::string& path) {
  try {
    const h5::File f = h5::File::open_read(path);
    return header_of(f, path);
  } catch (const h5::H5Error& e) {
    throw std::runtime_error(path + " cannot be read as a part file: " + e.what());
  }
}

RunPart read_part(const std::string& path, const Model& model) {
  h5::File f = [&] {
    try {
      return h5::File::open_read(path);
    } catch (const h5::H5Error& e) {
      throw std::runtime_error(path + " cannot be read as a part file: " + e.what());
    }
  }();
  return read_part_from(f, path, model);
}

RunPart read_part_image(const std::vector<unsigned char>& image, const std::string& name,
                        const Model& model) {
  h5::File f = h5::File::open_image(image, name);
  return read_part_from(f, name, model);
}

std::vector<PartHeader> check_parts(std::vector<PartHeader> headers) {
  if (headers.empty()) throw std::runtime_error("no part files given");
  const PartHeader& first = headers.front();
  auto differs = [&](const PartHeader& h, const std::string& what) {
    throw std::runtime_error(h.path + " is not a part of the same run as " + first.path + ": " +
                             what + " differ");
  };
  for (const PartHeader& h : headers) {
    if (h.incsim_version != first.incsim_version)
      differs(h, "the incsim versions (" + h.incsim_version + ", " + first.incsim_version + ")");
    // The most telling difference first (the seed and counts are also in the text).
    if (h.seed != first.seed)
      differs(h, "the seeds (" + std::to_string(h.seed) + ", " + std::to_string(first.seed) + ")");
    if (h.replications != first.replications || h.years != first.years ||
        h.households != first.households)
      differs(h, "the replications, years or households");
    if (h.parts != first.parts)
      differs(h, "the part counts (" + std::to_string(h.parts) + ", " +
                     std::to_string(first.parts) + ")");
    if (h.scenario_text != first.scenario_text) differs(h, "the scenario texts");
    if (h.scenario_file != first.scenario_file) differs(h, "the scenario files");
    if (h.overrides != first.overrides) differs(h, "the overrides");
    if (h.model_fingerprint != first.model_fingerprint)
      differs(h, "the models (fingerprints " + h.model_fingerprint + ", " +
                     first.model_fingerprint + ")");
  }
  std::sort(headers.begin(), headers.end(),
            [](const PartHeader& a, const PartHeader& b) { return a.part < b.part; });
  for (std::size_t k = 1; k < headers.size(); ++k)
    if (headers[k].part == headers[k - 1].part)
      throw std::runtime_error(
          "part " + std::to_string(headers[k].part) + " of " + std::to_string(first.parts) +
          " is given twice: " + headers[k - 1].path + " and " + headers[k].path);
  std::vector<int> missing;
  for (int i = 1, k = 0; i <= first.parts; ++i) {
    if (k < static_cast<int>(headers.size()) && headers[k].part == i)
      ++k;
    else
      missing.push_back(i);
  }
  if (!missing.empty()) {
    std::string list;
    for (int i : missing) list += (list.empty() ? "" : ", ") + std::to_string(i);
    throw std::runtime_error(std::string(missing.size() == 1 ? "part " : "parts ") + list + " of " +
                             std::to_string(first.parts) + " missing (" +
                             std::to_string(headers.size()) + " given)");
  }
  const std::vector<std::int64_t> cuts = part_boundaries(first.replications, first.parts);
  for (const PartHeader& h : headers)
    if (h.begin != cuts[h.part - 1] || h.end != cuts[h.part])
      throw std::runtime_error(h.path + " holds replications [" + std::to_string(h.begin) + ", " +
                               std::to_string(h.end) + "), not part " + std::to_string(h.part) +
                               "'s [" + std::to_string(cuts[h.part - 1]) + ", " +
                               std::to_string(cuts[h.part]) + ")");
  return headers;
}

namespace {

RunPart read_part_from(h5::File& f, const std::string& path, const Model& model) {
  const PartHeader header = header_of(f, path);
  if (header.model_fingerprint != model_fingerprint(model))
    throw std::runtime_error(path + " was simulated from another model (fingerprint " +
                             header.model_fingerprint + ", this build's " +
                             model_fingerprint(model) +
                             "): another incsim build, a changed population csv, or another "
                             "scenario");
  const PartReader r(path, f);
  RunPart part = empty_part(model);
  part.begin = header.begin;
  part.end = header.end;
  Accumulator& acc = *part.accumulator;
  try {
    part.ranges = r.ranges(header);  // an unreadable /ranges is a corrupt part, named below
    const std::vector<std::int64_t> reps = r.int64s("/accumulator/replications", {});
    acc.replications = reps.at(0);
    std::int64_t n = 0;
    for (const auto& [b, e] : part.ranges) n += e - b;
    if (acc.replications != n)
      r.fail("its accumulator holds " + std::to_string(acc.replications) + " replications");
    r.counts("/accumulator/histogram", acc.histogram);
    r.sums("/accumulator/household_income_sum", acc.household_income_sum);
    r.counts("/accumulator/household_poor_count", acc.household_poor_count);
    r.counts("/accumulator/household_poor_horizon", acc.household_poor_horizon);
    for (std::size_t g = 0; g < acc.group_income_sum.size(); ++g) {
      const std::string base = "/accumulator/group_" + std::to_string(g) + "/";
      std::vector<IncomeSum>* sums[] = {&acc.group_income_sum[g], &acc.group_income_sumsq[g],
                                        &acc.group_oop_sum[g],    &acc.group_oop_sumsq[g],
                                        &acc.group_cost_sum[g],   &acc.group_cost_sumsq[g]};
      for (int k = 0; k < 6; ++k) r.sums(base + kGroupSums[k], *sums[k]);
      r.sums(base + kGroupShares[0], acc.group_fgt0_sum[g]);
      r.sums(base + kGroupShares[1], acc.group_fgt0_sumsq[g]);
    }
    acc.minimum = r.doubles("/accumulator/minimum", {acc.minimum.size()});
    acc.maximum = r.doubles("/accumulator/maximum", {acc.maximum.size()});
    r.sums("/accumulator/protection/basis", acc.protection.basis);
    r.sums("/accumulator/protection/value", acc.protection.value);
    const std::vector<std::int64_t> groups =
        r.int64s("/accumulator/protection/group_replications", {ProtectionSums::kGroups});
    std::copy(groups.begin(), groups.end(), acc.protection.group_replications);

    ReplicationTable& table = part.table;
    const auto years = static_cast<std::size_t>(model.years);
    const auto rows_n = static_cast<std::size_t>(n);
    const std::vector<std::vector<double>*> columns = table.year_columns();
    const std::vector<double> rows =
        r.doubles("/table/year_columns", {columns.size(), rows_n * years});
    const auto m = static_cast<std::size_t>(table.markets);
    const std::vector<double> prices = r.doubles("/table/prices", {rows_n * years * m});
    const std::vector<double> ever = r.doubles("/table/ever_poor", {rows_n});
    const std::vector<double> consecutive = r.doubles("/table/two_consecutive_poor_ever", {rows_n});
    const std::size_t width = model.households.count() * years;
    part.sample_paths.assign(static_cast<std::size_t>(part.sample_path_count) * width, 0.0f);
    std::size_t slots = 0;
    for (const auto& [b, e] : part.ranges)
      slots += static_cast<std::size_t>(std::min(e, part.sample_path_count) -
                                        std::min(b, part.sample_path_count));
    const std::vector<double> paths = r.doubles("/sample_paths", {slots * width});
    // The stored rows are the ranges' rows one after another: `at` counts replications read.
    std::size_t at = 0, slot_at = 0;
    for (const auto& [b, e] : part.ranges) {
      const auto k = static_cast<std::size_t>(e - b);
      for (std::size_t c = 0; c < columns.size(); ++c) {
        const auto from = rows.begin() + static_cast<std::ptrdiff_t>((c * rows_n + at) * years);
        std::copy(from, from + static_cast<std::ptrdiff_t>(k * years),
                  columns[c]->begin() + b * years);
      }
      std::copy(prices.begin() + at * years * m, prices.begin() + (at + k) * years * m,
                table.prices.begin() + b * years * m);
      std::copy(ever.begin() + at, ever.begin() + at + k, table.ever_poor.begin() + b);
      std::copy(consecutive.begin() + at, consecutive.begin() + at + k,
                table.two_consecutive_poor_ever.begin() + b);
      const std::int64_t s0 = std::min(b, part.sample_path_count);
      const std::int64_t s1 = std::min(e, part.sample_path_count);
      const auto count = static_cast<std::size_t>(s1 - s0) * width;
      std::transform(paths.begin() + slot_at, paths.begin() + slot_at + count,
                     part.sample_paths.begin() + static_cast<std::ptrdiff_t>(s0 * width),
                     [](double x) { return static_cast<float>(x); });
      slot_at += count;
      at += k;
    }
  } catch (const h5::H5Error& e) {
    r.fail(e.what());
  }
  return part;
}

}  // namespace

// ---- part messages (MPI) ---------------------------------------------------------------------

namespace {

// Every exact array of an accumulator, in one fixed order (the order of a part message).
template <class Acc, class F>
void for_each_array(Acc& acc, F&& f) {
  f(acc.histogram);
  f(acc.household_income_sum);
  f(acc.household_poor_count);
  f(acc.household_poor_horizon);
  for (std::size_t g = 0; g < acc.group_income_sum.size(); ++g) {
    f(acc.group_income_sum[g]);
    f(acc.group_income_sumsq[g]);
    f(acc.group_fgt0_sum[g]);
    f(acc.group_fgt0_sumsq[g]);
    f(acc.group_oop_sum[g]);
    f(acc.group_oop_sumsq[g]);
    f(acc.group_cost_sum[g]);
    f(acc.group_cost_sumsq[g]);
  }
  f(acc.minimum);
  f(acc.maximum);
  f(acc.protection.basis);
  f(acc.protection.value);
}

// The rows a part holds of each per-replication array, range after range: (first, count) in
// elements of `per_row` values per replication.
template <class F>
void for_each_row_span(const RunPart& part, std::size_t per_row, F&& f) {
  for (const auto& [b, e] : part.ranges)
    f(static_cast<std::size_t>(b) * per_row, static_cast<std::size_t>(e - b) * per_row);
}

constexpr char kMessageMark[8] = {'i', 'n', 'c', 's', 'i', 'm', 'P', 'M'};
constexpr std::uint32_t kByteOrder = 0x01020304;

class MessageWriter {
 public:
  void raw(const void* p, std::size_t n) {
    const auto* c = static_cast<const unsigned char*>(p);
    bytes_.insert(bytes_.end(), c, c + n);
  }
  template <class T>
  void value(const T& v) {
    static_assert(std::is_trivially_copyable_v<T>);
    raw(&v, sizeof v);
  }
  template <class T>
  void span(const T* p, std::size_t n) {
    static_assert(std::is_trivially_copyable_v<T>);
    value(static_cast<std::uint64_t>(n));
    if (n) raw(p, n * sizeof(T));
  }
  void reserve(std::size_t n) { bytes_.reserve(n); }
  std::vector<unsigned char> take() { return std::move(bytes_); }

 private:
  std::vector<unsigned char> bytes_;
};

class MessageReader {
 public:
  MessageReader(const std::vector<unsigned char>& bytes, const std::string& name)
      : bytes_(bytes), name_(name) {}
  [[noreturn]] void fail(const std::string& what) const {
    throw std::runtime_error(name_ + " is not a part of this run: " + what);
  }
  void raw(void* p, std::size_t n) {
    if (n > bytes_.size() - at_) fail("it ends early");
    if (n) std::memcpy(p, bytes_.data() + at_, n);
    at_ += n;
  }
  template <class T>
  T value() {
    T v{};
    raw(&v, sizeof v);
    return v;
  }
  // n values into p, after their count, which must be n.
  template <class T>
  void span(T* p, std::size_t n, const char* what) {
    const auto count = value<std::uint64_t>();
    if (count != n)
      fail(std::string(what) + " holds " + std::to_string(count) + " values, not " +
           std::to_string(n));
    raw(p, n * sizeof(T));
  }
  void end() const {
    if (at_ != bytes_.size()) fail(std::to_string(bytes_.size() - at_) + " bytes too many");
  }

 private:
  const std::vector<unsigned char>& bytes_;
  const std::string& name_;
  std::size_t at_ = 0;
};

}  // namespace

std::vector<unsigned char> part_message(const Model& model, const RunPart& part,
                                        const std::string& fingerprint) {
  MessageWriter w;
  {  // the message's size, within its counts and header: one allocation
    const auto years = static_cast<std::size_t>(model.years);
    const auto width = model.households.count() * years;
    const std::size_t columns = part.table.year_columns().size();
    std::size_t size = 256 + fingerprint.size() + 16 * part.ranges.size();
    for_each_array(*part.accumulator, [&](const auto& v) { size += 8 + v.size() * sizeof v[0]; });
    for (const auto& [b, e] : part.ranges) {
      const auto rows = static_cast<std::size_t>(e - b);
      const auto paths = static_cast<std::size_t>(std::min(e, part.sample_path_count) -
                                                  std::min(b, part.sample_path_count));
      size += 8 * rows * ((columns + static_cast<std::size_t>(part.table.markets)) * years + 2) +
              4 * paths * width + 8 * (columns + 4);
    }
    w.reserve(size + 8 * ProtectionSums::kGroups);
  }
  w.raw(kMessageMark, sizeof kMessageMark);
  w.value(kByteOrder);
  w.span(fingerprint.data(), fingerprint.size());
  w.value(static_cast<std::uint64_t>(part.ranges.size()));
  for (const auto& [b, e] : part.ranges) {
    w.value(b);
    w.value(e);
  }
  const Accumulator& acc = *part.accumulator;
  w.value(acc.replications);
  for_each_array(acc, [&](const auto& v) { w.span(v.data(), v.size()); });
  w.span(acc.protection.group_replications, ProtectionSums::kGroups);
  const auto years = static_cast<std::size_t>(model.years);
  const auto markets = static_cast<std::size_t>(part.table.markets);
  const auto put_rows = [&](const auto& column, std::size_t per_row) {
    for_each_row_span(part, per_row,
                      [&](std::size_t a, std::size_t n) { w.span(column.data() + a, n); });
  };
  for (const std::vector<double>* c : part.table.year_columns()) put_rows(*c, years);
  put_rows(part.table.prices, years * markets);
  put_rows(part.table.ever_poor, 1);
  put_rows(part.table.two_consecutive_poor_ever, 1);
  const std::size_t width = model.households.count() * years;
  for (const auto& [b, e] : part.ranges) {
    const auto s0 = static_cast<std::size_t>(std::min(b, part.sample_path_count));
    const auto s1 = static_cast<std::size_t>(std::min(e, part.sample_path_count));
    w.span(part.sample_paths.data() + s0 * width, (s1 - s0) * width);
  }
  return w.take();
}

RunPart read_part_message(const std::vector<unsigned char>& bytes, const std::string& name,
                          const Model& model, const std::string& fingerprint) {
  MessageReader r(bytes, name);
  char mark[sizeof kMessageMark];
  r.raw(mark, sizeof mark);
  if (std::memcmp(mark, kMessageMark, sizeof mark) != 0) r.fail("it is not a part message");
  if (r.value<std::uint32_t>() != kByteOrder)
    r.fail("it comes from a machine of another byte order");
  if (r.value<std::uint64_t>() != fingerprint.size()) r.fail("its model fingerprint is malformed");
  std::string theirs(fingerprint.size(), '\0');
  r.raw(theirs.data(), theirs.size());
  if (theirs != fingerprint)
    r.fail("it was simulated from another model (fingerprint " + theirs + ", this one's " +
           fingerprint + ")");
  RunPart part = empty_part(model);
  const auto ranges = r.value<std::uint64_t>();
  if (ranges > static_cast<std::uint64_t>(model.replications)) r.fail("it lists too many ranges");
  std::int64_t replications = 0;
  for (std::uint64_t k = 0; k < ranges; ++k) {
    const auto b = r.value<std::int64_t>(), e = r.value<std::int64_t>();
    const std::int64_t last = part.ranges.empty() ? 0 : part.ranges.back().second;
    if (b < last || (k > 0 && b == last) || e <= b || e > model.replications)
      r.fail("its replication ranges are not sorted, disjoint ranges of this run");
    part.ranges.emplace_back(b, e);
    replications += e - b;
  }
  if (part.ranges.empty()) r.fail("it holds no replication");
  part.begin = part.ranges.front().first;
  part.end = part.ranges.back().second;
  Accumulator& acc = *part.accumulator;
  acc.replications = r.value<std::int64_t>();
  if (acc.replications != replications)
    r.fail("its accumulator holds " + std::to_string(acc.replications) + " replications, its " +
           "ranges " + std::to_string(replications));
  for_each_array(acc, [&](auto& v) { r.span(v.data(), v.size(), "an accumulator array"); });
  r.span(acc.protection.group_replications, ProtectionSums::kGroups, "the jackknife counts");
  const auto years = static_cast<std::size_t>(model.years);
  const auto markets = static_cast<std::size_t>(part.table.markets);
  const auto get_rows = [&](auto& column, std::size_t per_row) {
    for_each_row_span(part, per_row, [&](std::size_t a, std::size_t n) {
      r.span(column.data() + a, n, "a per-replication column");
    });
  };
  for (std::vector<double>* c : part.table.year_columns()) get_rows(*c, years);
  get_rows(part.table.prices, years * markets);
  get_rows(part.table.ever_poor, 1);
  get_rows(part.table.two_consecutive_poor_ever, 1);
  const std::size_t width = model.households.count() * years;
  part.sample_paths.assign(static_cast<std::size_t>(part.sample_path_count) * width, 0.0f);
  for (const auto& [b, e] : part.ranges) {
    const auto s0 = static_cast<std::size_t>(std::min(b, part.sample_path_count));
    const auto s1 = static_cast<std::size_t>(std::min(e, part.sample_path_count));
    r.span(part.sample_paths.data() + s0 * width, (s1 - s0) * width, "the sample paths");
  }
  r.end();
  return part;
}

}  // namespace incsim
