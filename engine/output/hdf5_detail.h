// Private to engine/output: error handling shared by the HDF5 writer (hdf5.cpp) and readers
// (hdf5_read.cpp). Every call is checked; failures throw H5Error naming the operation and file.
#pragma once

#include <hdf5.h>

#include <string>
#include <vector>

#include "incsim/hdf5.h"

namespace incsim::h5::detail {

// Turns HDF5's automatic error-stack printing off for the guard's lifetime and restores the
// previous handler afterwards: we check every call, so the stderr dump would only be noise.
class QuietErrors {
 public:
  QuietErrors() {
    if (H5Eget_auto2(H5E_DEFAULT, &func_, &data_) >= 0) {
      saved_ = true;
      H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
    }
  }
  ~QuietErrors() {
    if (saved_) H5Eset_auto2(H5E_DEFAULT, func_, data_);
  }
  QuietErrors(const QuietErrors&) = delete;
  QuietErrors& operator=(const QuietErrors&) = delete;

 private:
  H5E_auto2_t func_ = nullptr;
  void* data_ = nullptr;
  bool saved_ = false;
};

// "HDF5: cannot <op> in <file>: <reason>". `where` is any object of the file, or -1 when
// `op` already names the file.
[[noreturn]] void fail_because(hid_t where, const std::string& op, const std::string& reason);
// Same, with HDF5's own explanation of the call that just failed (read before any other call:
// every API call clears the error stack).
[[noreturn]] void fail(hid_t where, const std::string& op);
// Throws with HDF5's own explanation if `status` < 0.
void check(herr_t status, hid_t where, const std::string& op);
// Takes ownership of `id`, or throws with HDF5's explanation if it is invalid.
Handle own(hid_t id, Handle::Closer closer, hid_t where, const std::string& op);
std::vector<hsize_t> extent_of(hid_t space, hid_t where, const std::string& op);
std::size_t point_count(hid_t space, hid_t where, const std::string& op);

}  // namespace incsim::h5::detail
