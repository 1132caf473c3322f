// Fuzzes `incsim inspect`'s reader: the input is the content of a result file, written to a
// scratch .h5 file and printed with incsim::cli::inspect_file (engine/cli/inspect.cpp, compiled
// into this target, over the HDF5 reading helpers of incsim/hdf5.h). The outcomes the command
// handles are a return value (0, or 1 with a message) and an H5Error or other
// std::runtime_error, which `incsim` reports with exit status 1. Anything else (a crash,
// another exception, an ASan/UBSan report, a leak in our code) is a finding, and so is an HDF5
// file, group, dataset or attribute left open after inspect_file returns: a handle that escaped
// the RAII wrapper.
// libhdf5 itself is not instrumented: its bugs show only where they crash or reach an
// intercepted function (memcpy, malloc). Memory that libhdf5 allocates and loses on its own
// error paths is not ours to fix: tests/fuzz/lsan.supp suppresses leaks allocated inside it.
#include <hdf5.h>

#include <cstddef>
#include <cstdint>
#include <iostream>
#include <sstream>
#include <streambuf>
#include <string>

#include "cli/cli.h"
#include "fuzz_support.h"
#include "incsim/hdf5.h"

namespace {

std::string h5_path;

class NullBuffer : public std::streambuf {
 protected:
  int overflow(int c) override { return c == traits_type::eof() ? 0 : c; }
  std::streamsize xsputn(const char*, std::streamsize n) override { return n; }
};

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  using namespace incsim::fuzz;
  h5_path = (scratch_dir() / "result.h5").string();
  write_file(h5_path, read_file(source_dir() / "tests/fuzz/seeds/inspect/minimal_result.hdf5"));
  std::ostringstream out;
  if (incsim::cli::inspect_file(h5_path, out) != 0)
    fail("tests/fuzz/seeds/inspect/minimal_result.hdf5 does not inspect");
  // inspect_file's messages for unreadable files: one per input is noise in the fuzzer's log.
  static NullBuffer null;
  std::cerr.rdbuf(&null);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  incsim::fuzz::write_file(h5_path, reinterpret_cast<const char*>(data), size);
  std::ostringstream out;
  try {
    const int status = incsim::cli::inspect_file(h5_path, out);
    if (status != 0 && status != 1)
      incsim::fuzz::fail("inspect_file returned " + std::to_string(status));
  } catch (const incsim::h5::H5Error&) {
  } catch (const std::runtime_error&) {
    // A dataset of the wrong shape or size (the Reader's checks).
  }
  // Files and the objects in them (groups, datasets, attributes, committed types); HDF5 has
  // no public count of dataspace or property-list identifiers.
  const ssize_t open = H5Fget_obj_count(H5F_OBJ_ALL, H5F_OBJ_ALL);
  if (open != 0)
    incsim::fuzz::fail(std::to_string(open) + " HDF5 objects left open after inspect_file");
  return 0;
}
