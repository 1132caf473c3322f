// RAII wrapper over the HDF5 C API (see include/incsim/hdf5.h). Every public entry point
// silences HDF5's automatic error printing, checks each call, and turns a failure into an
// H5Error naming the operation, the object path, the file and HDF5's innermost message.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "incsim/hdf5.h"
#include "output/hdf5_detail.h"

#include <hdf5_hl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <system_error>

namespace incsim::h5 {
using namespace detail;
namespace {

struct ErrorEntry {
  std::string desc;
  hid_t minor = -1;
};

herr_t keep_entry(unsigned, const H5E_error2_t* error, void* client) {
  auto* last = static_cast<ErrorEntry*>(client);
  last->desc = error->desc != nullptr ? error->desc : "";
  last->minor = error->min_num;
  return 0;
}

// HDF5's message for the innermost failure on the default error stack. Must run before any
// other API call, because every API call clears that stack.
std::string hdf5_detail() {
  ErrorEntry innermost;
  if (H5Ewalk2(H5E_DEFAULT, H5E_WALK_DOWNWARD, keep_entry, &innermost) < 0) return "";
  std::string detail = innermost.desc;
  if (innermost.minor >= 0) {
    char minor[256] = {};
    if (H5Eget_msg(innermost.minor, nullptr, minor, sizeof minor) > 0 && minor[0] != '\0') {
      std::string text = minor;
      if (!text.empty()) text[0] = static_cast<char>(std::tolower(text[0]));
      if (detail.empty()) {
        detail = text;
      } else if (detail.find(text) == std::string::npos) {
        detail += " [" + text + "]";
      }
    }
  }
  return detail;
}

std::string file_name_of(hid_t object) {
  const ssize_t length = H5Fget_name(object, nullptr, 0);
  if (length <= 0) return "";
  std::string name(static_cast<std::size_t>(length), '\0');
  if (H5Fget_name(object, name.data(), name.size() + 1) < 0) return "";
  return name;
}

std::string object_name_of(hid_t object) {
  const ssize_t length = H5Iget_name(object, nullptr, 0);
  if (length <= 0) return "?";
  std::string name(static_cast<std::size_t>(length), '\0');
  if (H5Iget_name(object, name.data(), name.size() + 1) < 0) return "?";
  return name;
}

std::string join_path(const std::string& base, const std::string& name) {
  if (!name.empty() && name.front() == '/') return name;
  if (base.empty() || base == "/") return "/" + name;
  return base + "/" + name;
}

std::string base_name(const std::string& path) {
  const auto slash = path.find_last_of('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

std::vector<std::string> split_path(const std::string& path) {
  std::vector<std::string> segments;
  std::size_t start = 0;
  while (start <= path.size()) {
    const auto slash = std::min(path.find('/', start), path.size());
    if (slash > start) segments.push_back(path.substr(start, slash - start));
    start = slash + 1;
  }
  return segments;
}

std::string shape_text(const std::vector<hsize_t>& dims) {
  std::string text = "(";
  for (std::size_t i = 0; i < dims.size(); ++i) {
    if (i > 0) text += ", ";
    text += std::to_string(dims[i]);
  }
  return text + ")";
}

Handle property_list(hid_t cls, hid_t where, const std::string& op) {
  return own(H5Pcreate(cls), H5Pclose, where, "create property list to " + op);
}

// Link creation that makes missing intermediate groups ("a/b/c").
Handle intermediate_lcpl(hid_t where, const std::string& op) {
  Handle lcpl = property_list(H5P_LINK_CREATE, where, op);
  check(H5Pset_create_intermediate_group(lcpl.id(), 1), where, op);
  return lcpl;
}

// File access: 1.8 object formats at most (netCDF-C and older readers cannot read the 1.10
// chunk indexes or superblock v3), and strong close so close() really closes the file.
Handle file_access(const std::string& op) {
  Handle fapl = property_list(H5P_FILE_ACCESS, -1, op);
  check(H5Pset_libver_bounds(fapl.id(), H5F_LIBVER_EARLIEST, H5F_LIBVER_V18), -1, op);
  check(H5Pset_fclose_degree(fapl.id(), H5F_CLOSE_STRONG), -1, op);
  return fapl;
}

Handle utf8_string_type(hid_t where, const std::string& op) {
  Handle type = own(H5Tcopy(H5T_C_S1), H5Tclose, where, op);
  check(H5Tset_size(type.id(), H5T_VARIABLE), where, op);
  check(H5Tset_cset(type.id(), H5T_CSET_UTF8), where, op);
  return type;
}

std::vector<const char*> c_strings(const std::vector<std::string>& values, hid_t where,
                                   const std::string& op) {
  std::vector<const char*> pointers;
  pointers.reserve(values.size());
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (values[i].find('\0') != std::string::npos) {
      fail_because(where, op, "string " + std::to_string(i) + " contains a NUL byte");
    }
    pointers.push_back(values[i].c_str());
  }
  return pointers;
}

Handle simple_space(const std::vector<hsize_t>& dims, hid_t where, const std::string& op) {
  if (dims.empty()) return own(H5Screate(H5S_SCALAR), H5Sclose, where, op);
  return own(H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr), H5Sclose, where,
             op);
}

// Chunk shape: the requested one clipped to the dataset, or about 1 MiB by halving the
// leading dimensions, so that trailing (fastest-varying) rows stay whole.
std::vector<hsize_t> chunk_shape(const std::vector<hsize_t>& dims, const Compression& compression,
                                 std::size_t element_size, hid_t where, const std::string& op) {
  std::vector<hsize_t> chunk = compression.chunk;
  if (chunk.empty()) {
    chunk = dims;
    constexpr hsize_t target_bytes = hsize_t{1} << 20;
    auto bytes = [&] {
      hsize_t total = element_size;
      for (hsize_t extent : chunk) total *= extent;
      return total;
    };
    for (std::size_t i = 0; i < chunk.size() && bytes() > target_bytes; ++i) {
      while (chunk[i] > 1 && bytes() > target_bytes) chunk[i] = (chunk[i] + 1) / 2;
    }
    return chunk;
  }
  if (chunk.size() != dims.size()) {
    fail_because(where, op,
                 "chunk shape " + shape_text(chunk) + " does not match the rank of dataset shape " +
                     shape_text(dims));
  }
  hsize_t chunk_bytes = element_size;
  for (std::size_t i = 0; i < chunk.size(); ++i) {
    if (chunk[i] == 0) fail_because(where, op, "chunk shape " + shape_text(chunk) + " has a 0");
    chunk[i] = std::min(chunk[i], dims[i]);
    chunk_bytes *= chunk[i];
  }
  if (chunk_bytes >= (hsize_t{1} << 32)) {
    fail_because(where, op, "chunk shape " + shape_text(chunk) + " is 4 GiB or more");
  }
  return chunk;
}

void add_compression(hid_t dcpl, const std::vector<hsize_t>& dims, const Compression& compression,
                     std::size_t element_size, hid_t where, const std::string& op) {
  if (compression.gzip_level < 0 || compression.gzip_level > 9) {
    fail_because(where, op,
                 "gzip level " + std::to_string(compression.gzip_level) + " is not in 0..9");
  }
  const htri_t deflate = H5Zfilter_avail(H5Z_FILTER_DEFLATE);
  if (deflate <= 0) fail_because(where, op, "this HDF5 library has no gzip (deflate) filter");
  const auto chunk = chunk_shape(dims, compression, element_size, where, op);
  check(H5Pset_chunk(dcpl, static_cast<int>(chunk.size()), chunk.data()), where, op);
  if (compression.shuffle) check(H5Pset_shuffle(dcpl), where, op);
  check(H5Pset_deflate(dcpl, static_cast<unsigned>(compression.gzip_level)), where, op);
}

void write_attribute(hid_t object, const std::string& name, hid_t type, hid_t space,
                     const void* data) {
  const std::string op = "write attribute " + name + " of " + object_name_of(object);
  const htri_t present = H5Aexists(object, name.c_str());
  if (present < 0) fail(object, op);
  if (present > 0) check(H5Adelete(object, name.c_str()), object, op);
  Handle attribute = own(H5Acreate2(object, name.c_str(), type, space, H5P_DEFAULT, H5P_DEFAULT),
                         H5Aclose, object, op);
  if (data != nullptr) check(H5Awrite(attribute.id(), type, data), object, op);
}

void write_string_attribute(hid_t object, const std::string& name,
                            const std::vector<std::string>& values, bool scalar) {
  const std::string op = "write attribute " + name + " of " + object_name_of(object);
  const auto pointers = c_strings(values, object, op);
  Handle type = utf8_string_type(object, op);
  Handle space = simple_space(scalar ? std::vector<hsize_t>{} : std::vector<hsize_t>{values.size()},
                              object, op);
  write_attribute(object, name, type.id(), space.id(), values.empty() ? nullptr : pointers.data());
}

template <class T>
void write_number_attribute(hid_t object, const std::string& name, const T* data, std::size_t count,
                            bool scalar) {
  const std::string op = "write attribute " + name + " of " + object_name_of(object);
  Handle space =
      simple_space(scalar ? std::vector<hsize_t>{} : std::vector<hsize_t>{count}, object, op);
  write_attribute(object, name, NativeType<T>::get(), space.id(), count == 0 ? nullptr : data);
}

}  // namespace

namespace detail {

[[noreturn]] void fail(hid_t where, const std::string& op) {
  const std::string detail = hdf5_detail();
  fail_because(where, op, detail);
}

[[noreturn]] void fail_because(hid_t where, const std::string& op, const std::string& reason) {
  std::string message = "HDF5: cannot " + op;
  if (where >= 0) {
    const std::string file = file_name_of(where);
    if (!file.empty()) message += " in " + file;
  }
  if (!reason.empty()) message += ": " + reason;
  throw H5Error(message);
}

void check(herr_t status, hid_t where, const std::string& op) {
  if (status < 0) fail(where, op);
}

Handle own(hid_t id, Handle::Closer closer, hid_t where, const std::string& op) {
  if (id < 0) fail(where, op);
  return Handle(id, closer, op);
}

std::vector<hsize_t> extent_of(hid_t space, hid_t where, const std::string& op) {
  const int rank = H5Sget_simple_extent_ndims(space);
  if (rank < 0) fail(where, op);
  std::vector<hsize_t> dims(static_cast<std::size_t>(rank));
  if (rank > 0 && H5Sget_simple_extent_dims(space, dims.data(), nullptr) < 0) fail(where, op);
  return dims;
}

std::size_t point_count(hid_t space, hid_t where, const std::string& op) {
  const hssize_t count = H5Sget_simple_extent_npoints(space);
  if (count < 0) fail(where, op);
  return static_cast<std::size_t>(count);
}

}  // namespace detail

// ---- Handle ----------------------------------------------------------------------------------

Handle::Handle(hid_t id, Closer closer, const std::string& what) : id_(id), closer_(closer) {
  if (id < 0) {
    const std::string detail = hdf5_detail();
    throw H5Error("HDF5: cannot " + what + (detail.empty() ? "" : ": " + detail));
  }
}

Handle::Handle(Handle&& other) noexcept
    : id_(std::exchange(other.id_, -1)), closer_(std::exchange(other.closer_, nullptr)) {}

Handle& Handle::operator=(Handle&& other) noexcept {
  if (this != &other) {
    Handle old(std::move(*this));
    id_ = std::exchange(other.id_, -1);
    closer_ = std::exchange(other.closer_, nullptr);
  }
  return *this;
}

Handle::~Handle() {
  if (id_ >= 0 && closer_ != nullptr) {
    QuietErrors quiet;  // the file may already have closed this object (strong close)
    closer_(id_);
  }
}

hid_t Handle::release() noexcept {
  closer_ = nullptr;
  return std::exchange(id_, -1);
}

// ---- Attributes ------------------------------------------------------------------------------

void Attributes::set(hid_t object, const std::string& name, const std::string& value) {
  QuietErrors quiet;
  write_string_attribute(object, name, {value}, true);
}

void Attributes::set(hid_t object, const std::string& name, const char* value) {
  set(object, name, std::string(value != nullptr ? value : ""));
}

void Attributes::set(hid_t object, const std::string& name, double value) {
  QuietErrors quiet;
  write_number_attribute(object, name, &value, 1, true);
}

void Attributes::set(hid_t object, const std::string& name, std::int64_t value) {
  QuietErrors quiet;
  write_number_attribute(object, name, &value, 1, true);
}

void Attributes::set(hid_t object, const std::string& name, std::uint64_t value) {
  QuietErrors quiet;
  write_number_attribute(object, name, &value, 1, true);
}

void Attributes::set(hid_t object, const std::string& name, const std::vector<std::string>& value) {
  QuietErrors quiet;
  write_string_attribute(object, name, value, false);
}

void Attributes::set(hid_t object, const std::string& name, const std::vector<double>& value) {
  QuietErrors quiet;
  write_number_attribute(object, name, value.data(), value.size(), false);
}

void Attributes::set(hid_t object, const std::string& name,
                     const std::vector<std::int64_t>& value) {
  QuietErrors quiet;
  write_number_attribute(object, name, value.data(), value.size(), false);
}

// ---- Dataset ---------------------------------------------------------------------------------

Dataset& Dataset::make_scale(const std::string& dimension_name) & {
  QuietErrors quiet;
  const std::string name = dimension_name.empty() ? base_name(path_) : dimension_name;
  const std::string op = "make " + path_ + " a dimension scale";
  if (H5DSset_scale(id(), name.c_str()) < 0) {
    // The high-level library often fails without an HDF5 message; name the usual cause.
    if (H5Aexists(id(), "DIMENSION_LIST") > 0) {
      fail_because(id(), op, "it has dimension scales attached itself");
    }
    fail(id(), op);
  }
  return *this;
}

Dataset& Dataset::attach_scale(const Dataset& scale, unsigned dim) & {
  QuietErrors quiet;
  const std::string op =
      "attach scale " + scale.path() + " to dimension " + std::to_string(dim) + " of " + path_;
  Handle space = own(H5Dget_space(id()), H5Sclose, id(), op);
  const auto dims = extent_of(space.id(), id(), op);
  if (dim >= dims.size()) {
    fail_because(id(), op, path_ + " has shape " + shape_text(dims));
  }
  Handle scale_space = own(H5Dget_space(scale.id()), H5Sclose, id(), op);
  const auto scale_dims = extent_of(scale_space.id(), id(), op);
  if (scale_dims.size() != 1 || scale_dims[0] != dims[dim]) {
    fail_because(id(), op,
                 "the scale has shape " + shape_text(scale_dims) + " but the dimension has " +
                     std::to_string(dims[dim]) + " values");
  }
  check(H5DSattach_scale(id(), scale.id(), dim), id(), op);
  return *this;
}

Dataset& Dataset::label_dimension(unsigned dim, const std::string& label) & {
  QuietErrors quiet;
  check(H5DSset_label(id(), dim, label.c_str()), id(),
        "label dimension " + std::to_string(dim) + " of " + path_ + " as " + label);
  return *this;
}

// ---- Group -----------------------------------------------------------------------------------

Group Group::group(const std::string& name) {
  QuietErrors quiet;
  const std::string path = join_path(path_, name);
  if (split_path(name).empty()) fail_because(id(), "open group '" + name + "'", "empty name");
  if (exists(name)) {
    return Group(
        own(H5Gopen2(id(), name.c_str(), H5P_DEFAULT), H5Gclose, id(), "open group " + path), path);
  }
  const std::string op = "create group " + path;
  Handle lcpl = intermediate_lcpl(id(), op);
  return Group(
      own(H5Gcreate2(id(), name.c_str(), lcpl.id(), H5P_DEFAULT, H5P_DEFAULT), H5Gclose, id(), op),
      path);
}

bool Group::exists(const std::string& name) const {
  QuietErrors quiet;
  const auto segments = split_path(name);
  if (segments.empty()) return false;
  // One H5Lexists per segment: H5Lexists on "a/b" fails (rather than saying no) when "a" is
  // missing or is not a group.
  std::string prefix = !name.empty() && name.front() == '/' ? "/" : "";
  for (std::size_t i = 0; i < segments.size(); ++i) {
    if (i > 0) prefix += "/";
    prefix += segments[i];
    const htri_t present = H5Lexists(id(), prefix.c_str(), H5P_DEFAULT);
    if (present < 0) fail(id(), "look up " + join_path(path_, prefix));
    if (present == 0) return false;
    if (i + 1 < segments.size()) {
      const hid_t object = H5Oopen(id(), prefix.c_str(), H5P_DEFAULT);
      if (object < 0) return false;  // e.g. a dangling soft link
      const bool is_group = H5Iget_type(object) == H5I_GROUP;
      H5Oclose(object);
      if (!is_group) return false;
    }
  }
  return true;
}

Dataset Group::write_raw(const std::string& name, hid_t type, const void* data, std::size_t count,
                         const std::vector<hsize_t>& dims, const Compression& compression) {
  QuietErrors quiet;
  const std::string path = join_path(path_, name);
  const std::string op = "create dataset " + path;
  hsize_t expected = 1;
  for (hsize_t extent : dims) expected *= extent;
  if (expected != count) {
    fail_because(id(), op,
                 "shape " + shape_text(dims) + " holds " + std::to_string(expected) +
                     " values but " + std::to_string(count) + " were given");
  }
  if (split_path(name).empty()) fail_because(id(), op, "empty name");
  if (exists(name)) fail_because(id(), op, "an object of that name already exists");
  Handle space = simple_space(dims, id(), op);
  Handle dcpl = property_list(H5P_DATASET_CREATE, id(), op);
  if (compression.enabled && !dims.empty() && count > 0) {
    add_compression(dcpl.id(), dims, compression, H5Tget_size(type), id(), op);
  }
  Handle lcpl = intermediate_lcpl(id(), op);
  Handle dataset =
      own(H5Dcreate2(id(), name.c_str(), type, space.id(), lcpl.id(), dcpl.id(), H5P_DEFAULT),
          H5Dclose, id(), op);
  if (count > 0) {
    check(H5Dwrite(dataset.id(), type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data), id(),
          "write dataset " + path);
  }
  return Dataset(std::move(dataset), path);
}

Dataset Group::write_strings(const std::string& name, const std::vector<std::string>& values) {
  QuietErrors quiet;
  const std::string path = join_path(path_, name);
  const std::string op = "create dataset " + path;
  if (split_path(name).empty()) fail_because(id(), op, "empty name");
  if (exists(name)) fail_because(id(), op, "an object of that name already exists");
  const auto pointers = c_strings(values, id(), op);
  Handle type = utf8_string_type(id(), op);
  Handle space = simple_space({values.size()}, id(), op);
  Handle lcpl = intermediate_lcpl(id(), op);
  Handle dataset = own(
      H5Dcreate2(id(), name.c_str(), type.id(), space.id(), lcpl.id(), H5P_DEFAULT, H5P_DEFAULT),
      H5Dclose, id(), op);
  if (!values.empty()) {
    check(H5Dwrite(dataset.id(), type.id(), H5S_ALL, H5S_ALL, H5P_DEFAULT, pointers.data()), id(),
          "write dataset " + path);
  }
  return Dataset(std::move(dataset), path);
}

Dataset Group::open_dataset(const std::string& name) const {
  QuietErrors quiet;
  const std::string path = join_path(path_, name);
  return Dataset(
      own(H5Dopen2(id(), name.c_str(), H5P_DEFAULT), H5Dclose, id(), "open dataset " + path), path);
}

// ---- File ------------------------------------------------------------------------------------

File File::create(const std::string& path) {
  QuietErrors quiet;
  const std::string op = "create file " + path;
  Handle fapl = file_access(op);
  return File(
      own(H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, fapl.id()), H5Fclose, -1, op));
}

File File::open_read(const std::string& path) {
  QuietErrors quiet;
  const std::string op = "open file " + path;
  Handle fapl = file_access(op);
  return File(own(H5Fopen(path.c_str(), H5F_ACC_RDONLY, fapl.id()), H5Fclose, -1, op));
}

File File::create_in_memory(const std::string& name) {
  QuietErrors quiet;
  const std::string op = "create in-memory file " + name;
  Handle fapl = file_access(op);
  check(H5Pset_fapl_core(fapl.id(), 1 << 20, 0), -1, op);
  return File(
      own(H5Fcreate(name.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, fapl.id()), H5Fclose, -1, op));
}

std::vector<unsigned char> File::image() {
  QuietErrors quiet;
  const std::string op = "take the image of " + file_name_of(id());
  check(H5Fflush(id(), H5F_SCOPE_GLOBAL), id(), op);
  const ssize_t size = H5Fget_file_image(id(), nullptr, 0);
  if (size < 0) fail(id(), op);
  std::vector<unsigned char> bytes(static_cast<std::size_t>(size));
  if (H5Fget_file_image(id(), bytes.data(), bytes.size()) != size) fail(id(), op);
  return bytes;
}

File File::open_image(const std::vector<unsigned char>& bytes, const std::string& name) {
  QuietErrors quiet;
  const std::string op = "open the file image " + name;
  if (bytes.empty()) throw H5Error("HDF5: cannot " + op + ": it is empty");
  // The library copies the buffer (no flags), so `bytes` may go away after this call.
  return File(own(H5LTopen_file_image(const_cast<unsigned char*>(bytes.data()), bytes.size(), 0),
                  H5Fclose, -1, op));
}

Group File::root() const {
  QuietErrors quiet;
  if (!handle_.valid()) throw H5Error("HDF5: cannot open root group: the file is closed");
  return Group(own(H5Gopen2(id(), "/", H5P_DEFAULT), H5Gclose, id(), "open root group"), "/");
}

void File::flush() {
  QuietErrors quiet;
  if (!handle_.valid()) throw H5Error("HDF5: cannot flush: the file is closed");
  check(H5Fflush(id(), H5F_SCOPE_GLOBAL), id(), "flush");
}

void File::close() {
  if (!handle_.valid()) return;
  QuietErrors quiet;
  const std::string name = file_name_of(id());
  if (H5Fclose(handle_.release()) < 0) fail(-1, "close file " + name);
}

// ---- AtomicFile ------------------------------------------------------------------------------

std::string output_path_problem(const std::string& path) {
  if (path.empty()) return "the output path is empty (-o ''): give a file name";
  struct stat st {};
  if (::lstat(path.c_str(), &st) == 0 && !S_ISREG(st.st_mode)) {
    const char* kind = S_ISLNK(st.st_mode)    ? "a symbolic link"
                       : S_ISDIR(st.st_mode)  ? "a directory"
                       : S_ISFIFO(st.st_mode) ? "a FIFO"
                       : S_ISSOCK(st.st_mode) ? "a socket"
                                              : "a device";
    return "output " + path + " exists and is not a regular file (" + kind +
           "): writing would replace it; choose another path";
  }
  const std::filesystem::path dir = std::filesystem::absolute(path).parent_path();
  std::error_code error;
  if (!std::filesystem::is_directory(dir, error))
    return std::filesystem::exists(dir, error)
               ? "output directory " + dir.string() + " is not a directory"
               : "output directory does not exist: " + dir.string();

  if (::access(dir.c_str(), W_OK | X_OK) != 0)
    return "output directory is not writable: " + dir.string();
  return "";
}

namespace {
// The temporary files this process is writing, for the SIGINT/SIGTERM/SIGHUP handler: a fixed
// table of C strings, so the handler only reads atomics and calls unlink (async-signal-safe).
// Process-wide by necessity: a signal handler has no other way in.
constexpr int kTemporarySlots = 16;
std::atomic<const char*> g_temporaries[kTemporarySlots];

extern "C" void remove_temporaries_and_reraise(int sig) {
  for (auto& slot : g_temporaries)
    if (const char* path = slot.load()) ::unlink(path);
  ::signal(sig, SIG_DFL);
  ::raise(sig);
}

int register_temporary(const char* path) {
  for (int k = 0; k < kTemporarySlots; ++k) {
    const char* empty = nullptr;
    if (g_temporaries[k].compare_exchange_strong(empty, path)) return k;
  }
  return -1;  // more files at once than slots: this one is only removed by its destructor
}

void unregister_temporary(int slot) {
  if (slot >= 0) g_temporaries[slot].store(nullptr);
}

// "<name>.tmp-" for the temporaries of `final_path`, its file name cut so that the temporary's
// name (with up to 10 digits of pid) stays within the 255 bytes a file name may have: a legal
// output name of 240 bytes or more still gets a legal temporary.
std::string temporary_prefix(const std::string& final_path) {
  const std::filesystem::path target(final_path);
  std::string name = target.filename().string();
  constexpr std::size_t kNameMax = 255, kSuffix = 5 + 10;  // ".tmp-" and the pid
  if (name.size() > kNameMax - kSuffix) name.resize(kNameMax - kSuffix);
  return (target.parent_path() / name).string() + ".tmp-";
}

// Temporaries `<final>.tmp-<pid>` beside `final_path` whose process no longer exists (a run
// killed by SIGKILL or a power cut): removed before a new one is written.
void remove_stale_temporaries(const std::string& final_path) {
  const std::filesystem::path target = std::filesystem::absolute(final_path);
  const std::string prefix =
      std::filesystem::path(temporary_prefix(target.string())).filename().string();
  std::error_code error;
  for (const auto& entry : std::filesystem::directory_iterator(target.parent_path(), error)) {
    const std::string name = entry.path().filename().string();
    if (name.size() <= prefix.size() || name.compare(0, prefix.size(), prefix) != 0) continue;
    const std::string digits = name.substr(prefix.size());
    if (!std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; }) ||
        digits.size() > 9)
      continue;
    const auto pid = static_cast<pid_t>(std::stol(digits));
    if (pid == ::getpid() || pid <= 0) continue;
    if (::kill(pid, 0) == -1 && errno == ESRCH) {
      std::error_code ignored;
      std::filesystem::remove(entry.path(), ignored);
    }
  }
}

const std::string& checked_output(const std::string& path) {
  const std::string problem = output_path_problem(path);
  if (!problem.empty()) throw H5Error("incsim: " + problem);
  return path;
}
}  // namespace

void install_temporary_cleanup() {
  struct sigaction action {};
  action.sa_handler = remove_temporaries_and_reraise;
  sigemptyset(&action.sa_mask);
  for (int sig : {SIGINT, SIGTERM, SIGHUP}) ::sigaction(sig, &action, nullptr);
}

AtomicFile::Registration::Registration(const std::string& path)
    : slot(register_temporary(path.c_str())) {}

void AtomicFile::Registration::release() {
  unregister_temporary(slot);
  slot = -1;
}

AtomicFile::AtomicFile(std::string final_path)
    : final_path_(checked_output(final_path)),
      temp_path_(temporary_prefix(final_path_) + std::to_string(::getpid())),
      registration_(temp_path_),
      file_((remove_stale_temporaries(final_path_), File::create(temp_path_))) {}

AtomicFile::~AtomicFile() {
  registration_.release();
  if (committed_) return;
  try {
    file_.close();
  } catch (...) {  // nothing to report from a destructor; the file is discarded anyway
  }
  std::error_code ignored;
  std::filesystem::remove(temp_path_, ignored);
}

void AtomicFile::commit() {
  if (committed_) return;
  file_.close();
  // The data reach the disk before the rename makes them the output, and the rename reaches it
  // with the directory: a crash leaves the old file or the new one, never a truncated one.
  const int fd = ::open(temp_path_.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0 || ::fsync(fd) != 0) {
    if (fd >= 0) ::close(fd);
    throw H5Error("HDF5: cannot sync " + temp_path_ + " to disk");
  }
  ::close(fd);
  std::error_code error;
  std::filesystem::rename(temp_path_, final_path_, error);
  if (!error) registration_.release();  // the name is gone: nothing left to remove
  if (error) {
    throw H5Error("HDF5: cannot rename " + temp_path_ + " to " + final_path_ + ": " +
                  error.message());
  }
  committed_ = true;
  const std::string dir = std::filesystem::absolute(final_path_).parent_path().string();
  if (const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC); dfd >= 0) {
    ::fsync(dfd);  // best effort: the file itself is complete and synced
    ::close(dfd);
  }
}

void write_text_file(const std::string& final_path, const std::string& text) {
  checked_output(final_path);
  remove_stale_temporaries(final_path);
  const std::string temp_path = temporary_prefix(final_path) + std::to_string(::getpid());
  const int slot = register_temporary(temp_path.c_str());
  const auto fail = [&](const std::string& what) {
    std::error_code ignored;
    std::filesystem::remove(temp_path, ignored);
    unregister_temporary(slot);
    throw H5Error("cannot write " + final_path + ": " + what);
  };
  const int fd = ::open(temp_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) fail(std::strerror(errno));
  for (std::size_t done = 0; done < text.size();) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const std::string why = std::strerror(errno);
      ::close(fd);
      fail(why);
    }
    done += static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) fail("cannot sync it to disk");
  std::error_code error;
  std::filesystem::rename(temp_path, final_path, error);
  if (error) fail(error.message());
  unregister_temporary(slot);
  const std::string dir = std::filesystem::absolute(final_path).parent_path().string();
  if (const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC); dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
}

}  // namespace incsim::h5
