// Thin RAII wrapper over the HDF5 C API: every handle closes itself, every call is checked
// and failures throw H5Error with the object path and the operation. Only what incsim needs:
// groups, typed n-dimensional datasets, string datasets, attributes, dimension scales, and
// chunked+compressed datasets for opt-in sample paths. Not thread-safe: write from one thread.
// Files use the HDF5 1.8 object formats (libver bounds earliest..v18) so h5py, R, MATLAB and
// netCDF-4 readers (netCDF4-python, h5netcdf, xarray) can open them.
#pragma once

#include <hdf5.h>

#include <concepts>
#include <cstdint>
#include <span>
#include <stdexcept>
#include <string>
#include <utility>
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
  // Throws H5Error("HDF5: cannot <what>: <HDF5's innermost message>") if id < 0, so `what`
  // names the operation, e.g. "open dataset /income/mean in out.h5".
  Handle(hid_t id, Closer closer, const std::string& what);
  Handle(Handle&& other) noexcept;
  Handle& operator=(Handle&& other) noexcept;
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;
  ~Handle();
  hid_t id() const { return id_; }
  bool valid() const { return id_ >= 0; }
  // Gives up ownership without closing (for callers that close by hand and check the result).
  hid_t release() noexcept;

 private:
  hid_t id_ = -1;
  Closer closer_ = nullptr;
};

// Chunked shuffle+gzip storage. Ignored for scalars and for datasets with a zero extent (HDF5
// cannot chunk those). Chunk extents larger than the dataset are clipped to it.
struct Compression {
  bool enabled = false;
  std::vector<hsize_t> chunk = {};  // chunk shape, same rank as the dataset; empty = about 1 MiB
  int gzip_level = 4;
  bool shuffle = true;
};

class Object;  // group or dataset: something attributes can be attached to

class Attributes {
 public:
  // Scalar and 1-d attributes; strings are variable-length UTF-8. An existing attribute of
  // the same name is replaced.
  static void set(hid_t object, const std::string& name, const std::string& value);
  static void set(hid_t object, const std::string& name, const char* value);
  static void set(hid_t object, const std::string& name, double value);
  static void set(hid_t object, const std::string& name, std::int64_t value);
  static void set(hid_t object, const std::string& name, std::uint64_t value);  // e.g. seeds
  static void set(hid_t object, const std::string& name, const std::vector<std::string>& value);
  static void set(hid_t object, const std::string& name, const std::vector<double>& value);
  static void set(hid_t object, const std::string& name, const std::vector<std::int64_t>& value);
  // Any other integer (int, unsigned, bool, ...) would be ambiguous between the overloads
  // above: signed ones and bool are stored as int64, unsigned ones as uint64.
  template <std::integral I>
  static void set(hid_t object, const std::string& name, I value) {
    if constexpr (std::signed_integral<I> || std::same_as<I, bool>) {
      set(object, name, static_cast<std::int64_t>(value));
    } else {
      set(object, name, static_cast<std::uint64_t>(value));
    }
  }
};

// The chaining calls return *this; called on a temporary (root.write(...).attr(...)) they
// return the dataset by value, so `Dataset year = root.write(...).make_scale();` works.
class Dataset {
 public:
  Dataset(Handle handle, std::string path) : handle_(std::move(handle)), path_(std::move(path)) {}
  hid_t id() const { return handle_.id(); }
  const std::string& path() const { return path_; }
  template <class V>
  Dataset& attr(const std::string& name, const V& value) & {
    Attributes::set(id(), name, value);
    return *this;
  }
  template <class V>
  Dataset attr(const std::string& name, const V& value) && {
    Attributes::set(id(), name, value);
    return std::move(*this);
  }
  // Marks this dataset as a dimension scale with the given name (H5DSset_scale); an empty
  // name uses the dataset's own name, which is what netCDF-4 readers call the dimension.
  Dataset& make_scale(const std::string& dimension_name = "") &;
  Dataset make_scale(const std::string& dimension_name = "") && {
    make_scale(dimension_name);
    return std::move(*this);
  }
  // Attaches `scale` to dimension `dim` of this dataset (H5DSattach_scale). The scale must be
  // 1-d with as many values as that dimension (netCDF readers rely on it).
  Dataset& attach_scale(const Dataset& scale, unsigned dim) &;
  Dataset attach_scale(const Dataset& scale, unsigned dim) && {
    attach_scale(scale, dim);
    return std::move(*this);
  }
  // Names dimension `dim` (H5DSset_label; h5py shows it as dims[dim].label).
  Dataset& label_dimension(unsigned dim, const std::string& label) &;
  Dataset label_dimension(unsigned dim, const std::string& label) && {
    label_dimension(dim, label);
    return std::move(*this);
  }

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
  Group& attr(const std::string& name, const V& value) & {
    Attributes::set(id(), name, value);
    return *this;
  }
  template <class V>
  Group attr(const std::string& name, const V& value) && {
    Attributes::set(id(), name, value);
    return std::move(*this);
  }

  // Writes a dataset of shape `dims` (row-major data, product of dims == data.size();
  // an empty dims writes a scalar). Throws if the name exists. "a/b" creates group a.
  template <class T>
  Dataset write(const std::string& name, std::span<const T> data, const std::vector<hsize_t>& dims,
                const Compression& compression = {}) {
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
  // 1-d dataset of variable-length UTF-8 strings (no embedded NUL bytes).
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
  // close() (also on destruction) closes every group, dataset and attribute of the file that
  // is still open (H5F_CLOSE_STRONG), so the file is complete and unlocked on return; Group
  // and Dataset objects that outlive it become inert.

  // Creates (truncates) `path`.
  static File create(const std::string& path);
  // Opens an existing file read-only (tests, `incsim inspect`).
  static File open_read(const std::string& path);
  // A file held in memory only (the core driver, no backing store), e.g. a partial result sent
  // between processes; image() is its bytes, open_image() reads such bytes back.
  static File create_in_memory(const std::string& name);
  std::vector<unsigned char> image();
  static File open_image(const std::vector<unsigned char>& bytes, const std::string& name);
  Group root() const;
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
// Why `path` cannot be an output file (empty if it can): it exists and is not a regular file
// (a FIFO, symbolic link, directory or device would be replaced by the rename), or its
// directory does not exist or is not writable. Checked before anything is simulated.
std::string output_path_problem(const std::string& path);

// Writes `text` to `final_path` as AtomicFile writes a result: checked by
// output_path_problem, written to "<final_path>.tmp-<pid>" (removed on failure and on
// SIGINT/SIGTERM), synced and renamed. For the csv tables of `incsim compare` and `export`.
// Throws H5Error naming the file.
void write_text_file(const std::string& final_path, const std::string& text);

class AtomicFile {
 public:
  explicit AtomicFile(std::string final_path);
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;
  ~AtomicFile();
  File& file() { return file_; }
  const std::string& temporary_path() const { return temp_path_; }
  void commit();  // close, fsync, rename, fsync the directory; throws H5Error; idempotent

 private:
  // The temporary's entry in the table the signal handler removes, registered before the
  // file is created (a signal in between then removes nothing, never leaves the file) and
  // released however the AtomicFile ends, even when creating the file throws.
  struct Registration {
    explicit Registration(const std::string& path);
    ~Registration() { release(); }
    Registration(const Registration&) = delete;
    Registration& operator=(const Registration&) = delete;
    void release();
    int slot = -1;
  };
  std::string final_path_;
  std::string temp_path_;
  Registration registration_;
  File file_;
  bool committed_ = false;
};

// Makes SIGINT, SIGTERM and SIGHUP remove every AtomicFile temporary being written, then end
// the process by that signal (the command line installs it once; a temporary of a process
// that died otherwise is removed by the next AtomicFile on the same output).
void install_temporary_cleanup();

// Reading helpers for tests and `incsim inspect`. Paths are absolute ("/income/mean").
// Numbers are converted from whatever numeric type is stored (float to integer truncates);
// `dims` receives the shape (empty for a scalar). Strings may be variable- or fixed-length.
std::vector<double> read_doubles(const File& file, const std::string& path,
                                 std::vector<hsize_t>* dims = nullptr);
std::vector<std::int64_t> read_int64s(const File& file, const std::string& path,
                                      std::vector<hsize_t>* dims = nullptr);
std::vector<std::string> read_strings(const File& file, const std::string& path);
std::string read_string_attribute(const File& file, const std::string& object_path,
                                  const std::string& name);
double read_double_attribute(const File& file, const std::string& object_path,
                             const std::string& name);
std::int64_t read_int64_attribute(const File& file, const std::string& object_path,
                                  const std::string& name);
// A scalar attribute: refused (H5Error) unless numeric with exactly one element.
std::uint64_t read_uint64_attribute(const File& file, const std::string& object_path,
                                    const std::string& name);
// What a result file holds, for readers that walk it (`incsim export`): the members of the
// group `group_path` in name order (hard and soft links; an external or user-defined link is
// refused when opened), whether each is a group, and of dataset `path` its kind, shape and
// dimension names (the labels the writer sets, H5DSget_label; "" where unlabelled).
struct Member {
  std::string name;
  bool is_group = false;
};
std::vector<Member> list_members(const File& file, const std::string& group_path);
struct DatasetInfo {
  std::vector<hsize_t> shape;
  std::vector<std::string> dimensions;
  bool is_string = false;
  bool is_numeric = false;
  bool is_scale = false;  // a dimension scale (a coordinate)
};
DatasetInfo dataset_info(const File& file, const std::string& path);
// All values of a scalar or 1-d attribute.
std::vector<std::string> read_strings_attribute(const File& file, const std::string& object_path,
                                                const std::string& name);
std::vector<double> read_doubles_attribute(const File& file, const std::string& object_path,
                                           const std::string& name);

}  // namespace incsim::h5
