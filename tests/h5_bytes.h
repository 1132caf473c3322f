// Raw bytes of every dataset of an HDF5 file, to prove two files bit-identical (dataset
// bytes, not values within a tolerance).
#pragma once

#include <gtest/gtest.h>
#include <hdf5.h>

#include <map>
#include <string>
#include <vector>

namespace incsim::test {

// Relative path -> raw bytes of every dataset below `group` (variable-length strings as text).
inline std::map<std::string, std::string> dataset_bytes(const std::string& file,
                                                        const std::string& group = "/") {
  std::map<std::string, std::string> out;
  const hid_t f = H5Fopen(file.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  EXPECT_GE(f, 0) << file;
  if (f < 0) return out;
  const hid_t g = H5Gopen2(f, group.c_str(), H5P_DEFAULT);
  EXPECT_GE(g, 0) << file << " " << group;
  auto visit = [](hid_t obj, const char* name, const H5O_info_t* info, void* data) -> herr_t {
    if (info->type != H5O_TYPE_DATASET) return 0;
    auto& map = *static_cast<std::map<std::string, std::string>*>(data);
    const hid_t d = H5Dopen2(obj, name, H5P_DEFAULT);
    const hid_t type = H5Dget_type(d);
    const hid_t space = H5Dget_space(d);
    const hssize_t n = H5Sget_simple_extent_npoints(space);
    std::string bytes;
    if (H5Tis_variable_str(type) > 0) {
      std::vector<char*> strings(static_cast<std::size_t>(n));
      H5Dread(d, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, strings.data());
      for (char* s : strings) bytes += std::string(s ? s : "") + '\0';
      H5Dvlen_reclaim(type, space, H5P_DEFAULT, strings.data());
    } else {
      bytes.resize(static_cast<std::size_t>(n) * H5Tget_size(type));
      H5Dread(d, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, bytes.data());
    }
    map[name] = bytes;
    H5Sclose(space);
    H5Tclose(type);
    H5Dclose(d);
    return 0;
  };
  if (g >= 0) {
    H5Ovisit(g, H5_INDEX_NAME, H5_ITER_INC, static_cast<H5O_iterate_t>(+visit), &out);
    H5Gclose(g);
  }
  H5Fclose(f);
  return out;
}

// Both maps hold the same datasets with the same bytes (a table of dataset_bytes each).
inline void expect_same_datasets(const std::map<std::string, std::string>& a,
                                 const std::map<std::string, std::string>& b,
                                 const std::string& what) {
  ASSERT_EQ(a.size(), b.size()) << what;
  for (const auto& [name, bytes] : a) {
    ASSERT_TRUE(b.count(name)) << what << ": " << name << " missing";
    EXPECT_TRUE(b.at(name) == bytes) << what << ": " << name << " differs";
  }
}

// Files `a` and `b` hold the same datasets, bit for bit (and enough of them to be results).
inline void expect_identical_files(const std::string& a, const std::string& b,
                                   const std::string& what) {
  const auto x = dataset_bytes(a);
  ASSERT_GT(x.size(), 100u) << what << ": " << a << " holds few datasets";
  expect_same_datasets(x, dataset_bytes(b), what);
}

}  // namespace incsim::test
