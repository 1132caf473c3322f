// Reading helpers for tests and `incsim inspect` (declared in include/incsim/hdf5.h).
#include <hdf5.h>
#include <hdf5_hl.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "incsim/hdf5.h"
#include "output/hdf5_detail.h"

namespace incsim::h5 {
using namespace detail;
namespace {

// Reads every element of a string dataset or attribute, variable- or fixed-length, converting
// into a memory type of the stored character set (HDF5 will not convert ASCII <-> UTF-8).
std::vector<std::string> read_string_values(hid_t object, bool is_attribute, hid_t where,
                                            const std::string& op) {
  Handle file_type =
      own(is_attribute ? H5Aget_type(object) : H5Dget_type(object), H5Tclose, where, op);
  if (H5Tget_class(file_type.id()) != H5T_STRING) fail_because(where, op, "it is not a string");
  Handle space =
      own(is_attribute ? H5Aget_space(object) : H5Dget_space(object), H5Sclose, where, op);
  const std::size_t count = point_count(space.id(), where, op);
  const htri_t variable = H5Tis_variable_str(file_type.id());
  const H5T_cset_t cset = H5Tget_cset(file_type.id());
  if (variable < 0 || cset < 0) fail(where, op);
  Handle memory_type = own(H5Tcopy(H5T_C_S1), H5Tclose, where, op);
  check(H5Tset_cset(memory_type.id(), cset), where, op);
  auto read_into = [&](void* buffer) {
    const herr_t status =
        is_attribute ? H5Aread(object, memory_type.id(), buffer)
                     : H5Dread(object, memory_type.id(), H5S_ALL, H5S_ALL, H5P_DEFAULT, buffer);
    check(status, where, op);
  };
  std::vector<std::string> values;
  values.reserve(count);
  if (count == 0) return values;
  if (variable > 0) {
    check(H5Tset_size(memory_type.id(), H5T_VARIABLE), where, op);
    std::vector<char*> pointers(count, nullptr);
    read_into(pointers.data());
    for (const char* text : pointers) values.emplace_back(text != nullptr ? text : "");
#if H5_VERSION_GE(1, 12, 0)
    H5Treclaim(memory_type.id(), space.id(), H5P_DEFAULT, pointers.data());
#else
    H5Dvlen_reclaim(memory_type.id(), space.id(), H5P_DEFAULT, pointers.data());
#endif
    return values;
  }
  const std::size_t size = H5Tget_size(file_type.id());
  if (size == 0) fail(where, op);
  check(H5Tset_size(memory_type.id(), size), where, op);
  check(H5Tset_strpad(memory_type.id(), H5T_STR_NULLPAD), where, op);
  std::vector<char> buffer(count * size, '\0');
  read_into(buffer.data());
  for (std::size_t i = 0; i < count; ++i) {
    const char* text = buffer.data() + i * size;
    values.emplace_back(text, strnlen(text, size));
  }
  return values;
}

// Opens dataset `path` of a file we may not have written, refusing what would make HDF5 read
// another file of the machine (an external or user-defined link on the way, external raw
// storage, a virtual dataset) or allocate without bound (more than kMaxReadBytes).
constexpr std::uint64_t kMaxReadBytes = std::uint64_t{1} << 31;

Handle open_checked_dataset(const File& file, const std::string& path) {
  const std::string op = "open dataset " + path;
  for (std::size_t slash = path.find('/', 1);; slash = path.find('/', slash + 1)) {
    const std::string prefix = path.substr(0, slash);
    if (!prefix.empty() && prefix != "/") {
      if (H5Lexists(file.id(), prefix.c_str(), H5P_DEFAULT) <= 0) fail(file.id(), op);
      H5L_info_t info{};
      check(H5Lget_info(file.id(), prefix.c_str(), &info, H5P_DEFAULT), file.id(), op);
      if (info.type != H5L_TYPE_HARD && info.type != H5L_TYPE_SOFT)
        fail_because(file.id(), op,
                     prefix +
                         " is an external or user-defined link (refused: it would read "
                         "another file)");
    }
    if (slash == std::string::npos) break;
  }
  Handle dataset = own(H5Dopen2(file.id(), path.c_str(), H5P_DEFAULT), H5Dclose, file.id(), op);
  Handle plist = own(H5Dget_create_plist(dataset.id()), H5Pclose, file.id(), op);
  if (H5Pget_external_count(plist.id()) != 0)
    fail_because(file.id(), op, "its data are stored in external files (refused)");
  if (H5Pget_layout(plist.id()) == H5D_VIRTUAL)
    fail_because(file.id(), op, "it is a virtual dataset mapping other files (refused)");
  Handle type = own(H5Dget_type(dataset.id()), H5Tclose, file.id(), op);
  Handle space = own(H5Dget_space(dataset.id()), H5Sclose, file.id(), op);
  const double bytes = static_cast<double>(point_count(space.id(), file.id(), op)) *
                       static_cast<double>(std::max<std::size_t>(H5Tget_size(type.id()), 8));
  if (bytes > static_cast<double>(kMaxReadBytes))
    fail_because(file.id(), op,
                 "it holds " + std::to_string(bytes / 1e9) +
                     " GB, more than a result's dataset may (2 GiB)");
  // Its extent must be backed by data in the file (a 9 KB file may declare 2^29 elements):
  // contiguous data in full, chunked data within a compression ratio of 1000 (gzip of
  // repetitive doubles stays far below it). Checked before anything of that size is allocated.
  const double stored = static_cast<double>(H5Dget_storage_size(dataset.id()));
  const H5D_layout_t layout = H5Pget_layout(plist.id());
  const double declared = static_cast<double>(point_count(space.id(), file.id(), op)) *
                          static_cast<double>(H5Tget_size(type.id()));
  if ((layout == H5D_CONTIGUOUS && declared > stored) ||
      (layout == H5D_CHUNKED && declared > 1000.0 * stored + 1e6))
    fail_because(file.id(), op,
                 "it declares " + std::to_string(static_cast<long long>(declared)) +
                     " bytes but the file stores " +
                     std::to_string(static_cast<long long>(stored)));
  return dataset;
}

template <class T>
std::vector<T> read_numbers(const File& file, const std::string& path, std::vector<hsize_t>* dims,
                            const char* as) {
  QuietErrors quiet;
  const std::string op = std::string("read dataset ") + path + " as " + as;
  Handle dataset = open_checked_dataset(file, path);
  Handle type = own(H5Dget_type(dataset.id()), H5Tclose, file.id(), op);
  const H5T_class_t type_class = H5Tget_class(type.id());
  if (type_class != H5T_INTEGER && type_class != H5T_FLOAT) {
    fail_because(file.id(), op, "it is not numeric");
  }
  Handle space = own(H5Dget_space(dataset.id()), H5Sclose, file.id(), op);
  const auto extent = extent_of(space.id(), file.id(), op);
  std::vector<T> values(point_count(space.id(), file.id(), op));
  if (!values.empty()) {
    check(H5Dread(dataset.id(), NativeType<T>::get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, values.data()),
          file.id(), op);
  }
  if (dims != nullptr) *dims = extent;
  return values;
}

Handle open_attribute(const File& file, const std::string& object_path, const std::string& name) {
  return own(
      H5Aopen_by_name(file.id(), object_path.c_str(), name.c_str(), H5P_DEFAULT, H5P_DEFAULT),
      H5Aclose, file.id(), "open attribute " + name + " of " + object_path);
}

template <class T>
std::vector<T> read_number_attribute(const File& file, const std::string& object_path,
                                     const std::string& name) {
  QuietErrors quiet;
  Handle attribute = open_attribute(file, object_path, name);
  const std::string op = "read attribute " + name + " of " + object_path;
  Handle type = own(H5Aget_type(attribute.id()), H5Tclose, file.id(), op);
  const H5T_class_t type_class = H5Tget_class(type.id());
  if (type_class != H5T_INTEGER && type_class != H5T_FLOAT) {
    fail_because(file.id(), op, "it is not numeric");
  }
  Handle space = own(H5Aget_space(attribute.id()), H5Sclose, file.id(), op);
  std::vector<T> values(point_count(space.id(), file.id(), op));
  if (!values.empty()) {
    check(H5Aread(attribute.id(), NativeType<T>::get(), values.data()), file.id(), op);
  }
  return values;
}

template <class T>
T single(std::vector<T> values, const File& file, const std::string& object_path,
         const std::string& name) {
  QuietErrors quiet;
  if (values.size() != 1) {
    fail_because(file.id(), "read attribute " + name + " of " + object_path,
                 "it holds " + std::to_string(values.size()) + " values, expected 1");
  }
  return std::move(values.front());
}

}  // namespace

// ---- Reading ---------------------------------------------------------------------------------

std::vector<double> read_doubles(const File& file, const std::string& path,
                                 std::vector<hsize_t>* dims) {
  return read_numbers<double>(file, path, dims, "double");
}

std::vector<std::int64_t> read_int64s(const File& file, const std::string& path,
                                      std::vector<hsize_t>* dims) {
  return read_numbers<std::int64_t>(file, path, dims, "int64");
}

std::vector<std::string> read_strings(const File& file, const std::string& path) {
  QuietErrors quiet;
  Handle dataset = open_checked_dataset(file, path);
  return read_string_values(dataset.id(), false, file.id(), "read strings from dataset " + path);
}

std::vector<std::string> read_strings_attribute(const File& file, const std::string& object_path,
                                                const std::string& name) {
  QuietErrors quiet;
  Handle attribute = open_attribute(file, object_path, name);
  return read_string_values(attribute.id(), true, file.id(),
                            "read attribute " + name + " of " + object_path);
}

std::string read_string_attribute(const File& file, const std::string& object_path,
                                  const std::string& name) {
  return single(read_strings_attribute(file, object_path, name), file, object_path, name);
}

std::vector<double> read_doubles_attribute(const File& file, const std::string& object_path,
                                           const std::string& name) {
  return read_number_attribute<double>(file, object_path, name);
}

double read_double_attribute(const File& file, const std::string& object_path,
                             const std::string& name) {
  return single(read_number_attribute<double>(file, object_path, name), file, object_path, name);
}

std::int64_t read_int64_attribute(const File& file, const std::string& object_path,
                                  const std::string& name) {
  return single(read_number_attribute<std::int64_t>(file, object_path, name), file, object_path,
                name);
}

std::uint64_t read_uint64_attribute(const File& file, const std::string& object_path,
                                    const std::string& name) {
  return single(read_number_attribute<std::uint64_t>(file, object_path, name), file, object_path,
                name);
}

std::vector<Member> list_members(const File& file, const std::string& group_path) {
  QuietErrors quiet;
  const std::string op = "list group " + group_path;
  Handle group = own(H5Gopen2(file.id(), group_path.c_str(), H5P_DEFAULT), H5Gclose, file.id(), op);
  std::vector<std::string> names;
  const auto collect = [](hid_t, const char* name, const H5L_info_t* info, void* data) -> herr_t {
    if (info->type == H5L_TYPE_HARD || info->type == H5L_TYPE_SOFT)
      static_cast<std::vector<std::string>*>(data)->push_back(name);
    return static_cast<std::vector<std::string>*>(data)->size() > 1000000 ? 1 : 0;
  };
  hsize_t index = 0;
  check(H5Literate(group.id(), H5_INDEX_NAME, H5_ITER_INC, &index, collect, &names), file.id(), op);
  std::vector<Member> members;
  for (const std::string& name : names) {
    const std::string path = (group_path == "/" ? "" : group_path) + "/" + name;
    H5O_info_t info{};
#if H5_VERSION_GE(1, 12, 0)
    check(H5Oget_info_by_name3(file.id(), path.c_str(), &info, H5O_INFO_BASIC, H5P_DEFAULT),
          file.id(), op);
#else
    check(H5Oget_info_by_name2(file.id(), path.c_str(), &info, H5O_INFO_BASIC, H5P_DEFAULT),
          file.id(), op);
#endif
    if (info.type == H5O_TYPE_GROUP || info.type == H5O_TYPE_DATASET)
      members.push_back({name, info.type == H5O_TYPE_GROUP});
  }
  return members;
}

DatasetInfo dataset_info(const File& file, const std::string& path) {
  QuietErrors quiet;
  const std::string op = "describe dataset " + path;
  Handle dataset = open_checked_dataset(file, path);
  DatasetInfo out;
  Handle space = own(H5Dget_space(dataset.id()), H5Sclose, file.id(), op);
  out.shape = extent_of(space.id(), file.id(), op);
  Handle type = own(H5Dget_type(dataset.id()), H5Tclose, file.id(), op);
  const H5T_class_t type_class = H5Tget_class(type.id());
  out.is_string = type_class == H5T_STRING;
  out.is_numeric = type_class == H5T_INTEGER || type_class == H5T_FLOAT;
  out.is_scale = H5DSis_scale(dataset.id()) > 0;
  for (unsigned k = 0; k < out.shape.size(); ++k) {
    char label[256] = {};
    const ssize_t n = H5DSget_label(dataset.id(), k, label, sizeof label);
    out.dimensions.push_back(n > 0 ? std::string(label, strnlen(label, sizeof label)) : "");
  }
  return out;
}

}  // namespace incsim::h5
