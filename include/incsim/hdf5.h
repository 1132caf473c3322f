// Thin RAII wrapper over the HDF5 C API: every handle closes itself, every call is checked
// and failures throw H5Error with the object path and the operation. Only what incsim needs:
// groups, typed n-dimensional datasets, string datasets, attributes, dimension scales, and
// chunked+compressed datasets for opt-in sample paths. Not thread-safe: write from one thread.
#pragma once

#include <hdf5.h>

#include <cstdint>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

namespace incsim::h5 {

class H5Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Maps a C++ arithmetic type to its native HDF5 type.
template <class T>
struct NativeType;
template <>
struct NativeType<double> {
  static hid_t get() { return H5T_NATIVE_DOUBLE; }
};
template <>
struct NativeType<float> {
  static hid_t get() { return H5T_NATIVE_FLOAT; }
};
template <>
struct NativeType<std::int8_t> {
  static hid_t get() { return H5T_NATIVE_INT8; }
};
template <>
struct NativeType<std::uint8_t> {
  static hid_t get() { return H5T_NATIVE_UINT8; }
};
template <>
struct NativeType<std::int32_t> {
  static hid_t get() { return H5T_NATIVE_INT32; }
};
template <>
struct NativeType<std::uint32_t> {
  static hid_t get() { return H5T_NATIVE_UINT32; }
};
template <>
struct NativeType<std::int64_t> {
  static hid_t get() { return H5T_NATIVE_INT64; }
};
template <>
struct NativeType<std::uint64_t> {
  static hid_t get() { return H5T_NATIVE_UINT64; }
};

// Owns one hid_t and closes it with the matching H5*close on destruction. Move-only.
class Handle {
 public:
  using Closer = herr_t (*)(hid_t);
  Handle() = default;
  Handle(hid_t id, Closer closer, const std::string& what);  // throws if id < 0
  Handle(Handle&& other) noexcept;
  Handle& operator=(Handle&& other) noexcept;
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;
  ~Handle();
  hid_t id() const { return id_; }
  bool valid() const { return id_ >= 0; }

 private:
  hid_t id_ = -1;
  Closer closer_ = nullptr;
};

struct Compression {
  bool enabled = false;
  std::vector<hsize_t> chunk;  // chunk shape, same rank as the dataset
  int gzip_level = 4;
  bool shuffle = true;
};

class Object;  // group or dataset: something attributes can be attached to

class Attributes {
 public:
  // Scalar and 1-d attributes; strings are variable-length UTF-8.
  static void set(hid_t object, const std::string& name, const std::string& value);
  static void set(hid_t object, const std::string& name, const char* value);
  static void set(hid_t object, const std::string& name, double value);
  static void set(hid_t object, const std::string& name, std::int64_t value);
  static void set(hid_t object, const std::string& name, const std::vector<std::string>& value);
  static void set(hid_t object, const std::string& name, const std::vector<double>& value);
};

class Dataset {
 public:
  Dataset(Handle handle, std::string path) : handle_(std::move(handle)), path_(std::move(path)) {}
  hid_t id() const { return handle_.id(); }
  const std::string& path() const { return path_; }
  template <class V>
  Dataset& attr(const std::string& name, const V& value) {
    Attributes::set(id(), name, value);
    return *this;
  }
  // Marks this dataset as a dimension scale with the given name (H5DSset_scale).
  Dataset& make_scale(const std::string& dimension_name);
  // Attaches `scale` to dimension `dim` of this dataset (H5DSattach_scale).
  Dataset& attach_scale(const Dataset& scale, unsigned dim);

 private:
  Handle handle_;
  std::string path_;
};

class Group {
 public:
  Group(Handle handle, std::string path) : handle_(std::move(handle)), path_(std::move(path)) {}
  hid_t id() const { return handle_.id(); }
  const std::string& path() const { return path_; }

  // Opens the child group, creating it (and intermediate groups) if absent. "a/b" allowed.
  Group group(const std::string& name);
  bool exists(const std::string& name) const;  // link exists (nested path allowed)

  template <class V>
  Group& attr(const std::string& name, const V& value) {
    Attributes::set(id(), name, value);
    return *this;
  }

  // Writes a dataset of shape `dims` (row-major data, product of dims == data.size();
  // an empty dims writes a scalar). Throws if the name exists.
  template <class T>
  Dataset write(const std::string& name, std::span<const T> data,
                const std::vector<hsize_t>& dims, const Compression& compression = {}) {
    return write_raw(name, NativeType<T>::get(), data.data(), data.size(), dims, compression);
  }
  template <class T>
  Dataset write(const std::string& name, const std::vector<T>& data,
                const std::vector<hsize_t>& dims, const Compression& compression = {}) {
    return write<T>(name, std::span<const T>(data), dims, compression);
  }
  // 1-d convenience.
  template <class T>
  Dataset write(const std::string& name, const std::vector<T>& data) {
    return write<T>(name, std::span<const T>(data), {static_cast<hsize_t>(data.size())});
  }
  template <class T>
  Dataset write_scalar(const std::string& name, T value) {
    return write_raw(name, NativeType<T>::get(), &value, 1, {}, {});
  }
  // 1-d dataset of variable-length UTF-8 strings.
  Dataset write_strings(const std::string& name, const std::vector<std::string>& values);

  Dataset open_dataset(const std::string& name) const;

 private:
  Dataset write_raw(const std::string& name, hid_t type, const void* data, std::size_t count,
                    const std::vector<hsize_t>& dims, const Compression& compression);
  Handle handle_;
  std::string path_;
};

class File {
 public:
  // Creates (truncates) `path`.
  static File create(const std::string& path);
  // Opens an existing file read-only (tests, `incsim inspect`).
  static File open_read(const std::string& path);
  Group root();
  hid_t id() const { return handle_.id(); }
  void flush();
  void close();  // explicit close so callers can rename afterwards; idempotent

 private:
  explicit File(Handle handle) : handle_(std::move(handle)) {}
  Handle handle_;
};

// Writes `final_path` atomically: the file is created as "<final_path>.tmp-<pid>" and renamed
// onto final_path by commit(). If the object is destroyed without commit() (an exception, a
// validation error), the temporary file is removed and final_path is left untouched.
class AtomicFile {
 public:
  explicit AtomicFile(std::string final_path);
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;
  ~AtomicFile();
  File& file() { return file_; }
  const std::string& temporary_path() const { return temp_path_; }
  void commit();  // close, fsync-free rename; throws H5Error on failure

 private:
  std::string final_path_;
  std::string temp_path_;
  File file_;
  bool committed_ = false;
};

// Reading helpers for tests and `incsim inspect`.
std::vector<double> read_doubles(const File& file, const std::string& path,
                                 std::vector<hsize_t>* dims = nullptr);
std::vector<std::int64_t> read_int64s(const File& file, const std::string& path,
                                      std::vector<hsize_t>* dims = nullptr);
std::vector<std::string> read_strings(const File& file, const std::string& path);
std::string read_string_attribute(const File& file, const std::string& object_path,
                                  const std::string& name);
double read_double_attribute(const File& file, const std::string& object_path,
                             const std::string& name);

}  // namespace incsim::h5
