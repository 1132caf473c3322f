// Point files of a sweep's sidecar directory, and the copy of a point's tree into the result
// with its dimension scales re-attached (see internal.h).
#include <hdf5.h>
#include <hdf5_hl.h>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <map>

#include "incsim/hdf5.h"
#include "incsim/version.h"
#include "sweep/internal.h"

namespace incsim::sweep_detail {

std::vector<Measure> headline_measures(const std::vector<std::string>& products) {
  std::vector<Measure> measures = {
      {"mean_income", "yuan per capita", "person-weighted mean per-capita net income"},
      {"fgt0", "1", "headcount ratio FGT0, person-weighted"},
      {"fgt1", "1", "poverty gap FGT1"},
      {"fgt2", "1", "poverty severity FGT2"},
      {"government_cost", "yuan",
       "premium subsidies + public posts + transfers + dibao + setup subsidies"},
      {"target_risk", "1",
       "probability over replications that the headcount exceeds exit_target (per replication: "
       "the indicator fgt0 > exit_target)"},
  };
  for (const std::string& p : products) {
    measures.push_back({"payout_" + p, "yuan",
                        p + " insurance payouts (0 at points where the product is not "
                            "configured)"});
  }
  return measures;
}

std::string fingerprint(const std::string& text) {
  std::uint64_t hash = 14695981039346656037ull;
  for (unsigned char c : text) {
    hash ^= c;
    hash *= 1099511628211ull;
  }
  char buffer[17];
  std::snprintf(buffer, sizeof buffer, "%016llx", static_cast<unsigned long long>(hash));
  return buffer;
}

std::string point_file_problem(const std::string& path, const SweepSpec& spec, std::size_t k,
                               const std::string& scenario_text) {
  try {
    h5::File f = h5::File::open_read(path);
    const std::int64_t point = h5::read_int64_attribute(f, "/", "point");
    if (point != static_cast<std::int64_t>(k))
      return "it is the file of point " + std::to_string(point + 1) + " (swapped or copied)";
    std::vector<std::string> expected;
    for (const Override& o : spec.overrides_of(k)) expected.push_back(o.path + "=" + o.value);
    if (h5::read_strings_attribute(f, "/", "overrides") != expected)
      return "its overrides are not this point's";
    if (h5::read_string_attribute(f, "/", "scenario_fnv1a64") != fingerprint(scenario_text))
      return "it was computed from another scenario text";
    const std::int64_t replications = h5::read_int64_attribute(f, "/", "replications");
    if (h5::read_int64_attribute(f, "/", "years") != spec.years || replications <= 0)
      return "its years or replications are not this sweep's";
    for (const Measure& m : headline_measures({})) {
      std::vector<hsize_t> dims;
      const std::vector<double> values = h5::read_doubles(f, "/table/" + m.name, &dims);
      if (dims.size() != 2 || dims[0] != static_cast<hsize_t>(replications) ||
          dims[1] != static_cast<hsize_t>(spec.years))
        return "its /table/" + m.name + " has an unexpected shape";
    }
    if (!spec.table_only && !f.root().exists("/tree/poverty/fgt0")) return "its tree is missing";
  } catch (const std::exception& e) {
    return std::string("it cannot be read (") + e.what() + ")";
  }
  return "";
}

namespace {

void write_point_tree(h5::File& file, const SweepSpec& spec, std::size_t k, const Model& model,
                      const RunResults& results) {
  const ReplicationTable& table = results.per_replication;
  const double exit_target = model.scenario.poverty.exit_target;
  std::vector<std::string> overrides;
  for (const Override& o : spec.overrides_of(k)) overrides.push_back(o.path + "=" + o.value);

  h5::Group root = file.root();
  root.attr("incsim_version", INCSIM_VERSION)
      .attr("point", static_cast<std::int64_t>(k))
      .attr("labels", spec.points[k].labels)
      .attr("overrides", overrides)
      .attr("replications", static_cast<std::int64_t>(table.replications))
      .attr("years", static_cast<std::int64_t>(table.years))
      .attr("exit_target", exit_target)
      .attr("scenario_fnv1a64", fingerprint(model.scenario.text_as_run));
  const std::vector<hsize_t> dims = {static_cast<hsize_t>(table.replications),
                                     static_cast<hsize_t>(table.years)};
  h5::Group columns = root.group("table");
  columns.write("mean_income", table.mean_income, dims);
  columns.write("fgt0", table.fgt0, dims);
  columns.write("fgt1", table.fgt1, dims);
  columns.write("fgt2", table.fgt2, dims);
  columns.write("government_cost", table.government_cost, dims);
  std::vector<double> above(table.fgt0.size());
  for (std::size_t i = 0; i < above.size(); ++i) above[i] = table.fgt0[i] > exit_target ? 1 : 0;
  columns.write("target_risk", above, dims);
  for (int p = 0; p < kProducts; ++p) {
    if (!model.insurance.plan[p].enabled) continue;
    columns.write(std::string("payout_") + kProductTable[p].name, table.insurance[p].payout, dims);
  }
  // Basis risk: each variant's per-replication tallies, for the sweep's ratio measures.
  for (int v = 0; v < kVariants; ++v) {
    if (table.basis[v][0].empty()) continue;
    h5::Group group = columns.group(std::string("basis_") + variant_name(v));
    for (int j = 0; j < kBasisTallies; ++j)
      group.write(kBasisTallyNames[j], table.basis[v][j], dims);
  }
  // The portfolios run at this point (the choice is made again at every point), so the sweep
  // table can show shares moving whatever the point files keep.
  std::vector<std::string> labels;
  std::vector<double> shares;
  for (const PortfolioRow& row : model.portfolios) {
    if (row.household_share <= 0.0) continue;
    labels.push_back(portfolio_label(model, row.main, row.aux));
    shares.push_back(row.household_share);
  }
  h5::Group choice = root.group("choice");
  choice.write_strings("labels", labels);
  choice.write("share", shares);
  if (!spec.table_only) write_results(root.group("tree"), model, results);
}

}  // namespace

void write_point_file(const std::string& path, const SweepSpec& spec, std::size_t k,
                      const Model& model, const RunResults& results) {
  h5::AtomicFile out(path);
  write_point_tree(out.file(), spec, k, model, results);
  out.commit();
}

std::vector<unsigned char> point_file_image(const SweepSpec& spec, std::size_t k,
                                            const Model& model, const RunResults& results) {
  h5::File f = h5::File::create_in_memory("point-" + std::to_string(k) + ".h5");
  write_point_tree(f, spec, k, model, results);
  return f.image();
}

// ---- copy_tree --------------------------------------------------------------------------------

namespace {

void check(herr_t status, const std::string& what) {
  if (status < 0) throw h5::H5Error("HDF5: cannot " + what);
}

std::string name_of(hid_t object) {
  const ssize_t length = H5Iget_name(object, nullptr, 0);
  if (length <= 0) return "";
  std::string name(static_cast<std::size_t>(length), '\0');
  H5Iget_name(object, name.data(), name.size() + 1);
  return name;
}

struct Attachment {
  std::string dataset;  // relative to the copied group
  unsigned dim = 0;
  std::string scale;  // relative to the copied group
};

struct Survey {
  hid_t group = -1;
  std::string prefix;  // absolute path of the group, with a trailing '/'
  std::vector<Attachment> attachments;
  std::vector<std::string> with_dimension_list, scales;
  std::string error;
};

herr_t collect_scale(hid_t, unsigned, hid_t scale, void* data) {
  *static_cast<std::string*>(data) = name_of(scale);
  return 1;  // one scale per dimension is all incsim attaches
}

herr_t survey_object(hid_t, const char* name, const H5O_info_t* info, void* data) {
  auto& survey = *static_cast<Survey*>(data);
  if (info->type != H5O_TYPE_DATASET) return 0;
  const hid_t dataset = H5Dopen2(survey.group, name, H5P_DEFAULT);
  if (dataset < 0) {
    survey.error = std::string("open dataset ") + name;
    return -1;
  }
  if (H5Aexists(dataset, "REFERENCE_LIST") > 0) survey.scales.push_back(name);
  if (H5Aexists(dataset, "DIMENSION_LIST") > 0) {
    survey.with_dimension_list.push_back(name);
    const hid_t space = H5Dget_space(dataset);
    const int rank = H5Sget_simple_extent_ndims(space);
    H5Sclose(space);
    for (int dim = 0; dim < rank; ++dim) {
      std::string scale;
      int index = 0;
      if (H5DSget_num_scales(dataset, static_cast<unsigned>(dim)) <= 0) continue;
      H5DSiterate_scales(dataset, static_cast<unsigned>(dim), &index, collect_scale, &scale);
      if (!scale.starts_with(survey.prefix)) {
        survey.error = std::string("resolve the dimension scale of ") + name + " (" + scale + ")";
        H5Dclose(dataset);
        return -1;
      }
      survey.attachments.push_back(
          {name, static_cast<unsigned>(dim), scale.substr(survey.prefix.size())});
    }
  }
  H5Dclose(dataset);
  return 0;
}

h5::Handle open_dataset(hid_t group, const std::string& name, const std::string& where) {
  return h5::Handle(H5Dopen2(group, name.c_str(), H5P_DEFAULT), H5Dclose,
                    "open dataset " + name + " in " + where);
}

}  // namespace

void copy_tree(hid_t source, const std::string& source_path, hid_t target,
               const std::string& target_path) {
  const std::string what = "copy " + source_path + " to " + target_path;
  h5::Handle ocpy(H5Pcreate(H5P_OBJECT_COPY), H5Pclose, what);
  h5::Handle lcpl(H5Pcreate(H5P_LINK_CREATE), H5Pclose, what);
  check(H5Pset_create_intermediate_group(lcpl.id(), 1), what);
  check(H5Ocopy(source, source_path.c_str(), target, target_path.c_str(), ocpy.id(), lcpl.id()),
        what);

  h5::Handle from(H5Gopen2(source, source_path.c_str(), H5P_DEFAULT), H5Gclose,
                  "open group " + source_path);
  Survey survey;
  survey.group = from.id();
  survey.prefix = name_of(from.id()) + "/";
  if (H5Ovisit(from.id(), H5_INDEX_NAME, H5_ITER_INC, survey_object, &survey) < 0) {
    throw h5::H5Error("HDF5: cannot " + (survey.error.empty() ? what : survey.error));
  }

  // The copied reference attributes point nowhere: drop them, then attach afresh.
  h5::Handle to(H5Gopen2(target, target_path.c_str(), H5P_DEFAULT), H5Gclose,
                "open group " + target_path);
  for (const std::string& name : survey.with_dimension_list) {
    const h5::Handle d = open_dataset(to.id(), name, target_path);
    check(H5Adelete(d.id(), "DIMENSION_LIST"), "drop DIMENSION_LIST of " + name);
  }
  for (const std::string& name : survey.scales) {
    const h5::Handle d = open_dataset(to.id(), name, target_path);
    check(H5Adelete(d.id(), "REFERENCE_LIST"), "drop REFERENCE_LIST of " + name);
  }
  std::map<std::string, h5::Handle> scales;
  for (const Attachment& a : survey.attachments) {
    auto it = scales.find(a.scale);
    if (it == scales.end()) {
      it = scales.emplace(a.scale, open_dataset(to.id(), a.scale, target_path)).first;
    }
    const h5::Handle d = open_dataset(to.id(), a.dataset, target_path);
    check(H5DSattach_scale(d.id(), it->second.id(), a.dim),
          "attach " + a.scale + " to " + a.dataset + " in " + target_path);
  }
}

}  // namespace incsim::sweep_detail
