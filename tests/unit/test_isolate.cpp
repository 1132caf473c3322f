// The reading child of inspect and compare (engine/cli/isolate.cpp): its tables reach the
// parent only when it finished; a child that ends early, by a signal or by an exit of its
// own (a sanitizer's report, exit() inside a library), is reported and prints nothing.
#include <gtest/gtest.h>
#include <unistd.h>

#include <csignal>
#include <sstream>

#include "cli/cli.h"

namespace {

int run(const std::function<int(std::ostream&)>& body, std::string& out, std::string& err) {
  std::ostringstream o, e;
  const int status = incsim::cli::run_isolated("inspect", "x.h5", body, o, e, {});
  out = o.str();
  err = e.str();
  return status;
}

TEST(Isolate, AFinishedChildPassesItsTablesAndStatus) {
  std::string out, err;
  EXPECT_EQ(run([](std::ostream& os) { return os << "table\n", 0; }, out, err), 0);
  EXPECT_EQ(out, "table\n");
  EXPECT_EQ(err, "");
  EXPECT_EQ(run([](std::ostream& os) { return os << "partial\n", 1; }, out, err), 1);
  EXPECT_EQ(out, "partial\n");
}

// Found by the ASan suite: AddressSanitizer ends a child that overflows inside libhdf5 with
// _exit(1) and its report, not a signal, and the parent took that for a finished child.
TEST(Isolate, AChildThatExitsBeforeFinishingIsReportedAsCorrupt) {
  std::string out, err;
  EXPECT_EQ(run(
                [](std::ostream& os) -> int {
                  os << "half a table";
                  ::_exit(0);
                },
                out, err),
            1);
  EXPECT_EQ(out, "");
  EXPECT_NE(
      err.find("incsim inspect: x.h5 is corrupt: reading it ended abnormally (exit status 0)"),
      std::string::npos)
      << err;
}

TEST(Isolate, AChildKilledByASignalIsReportedAsCorrupt) {
  std::string out, err;
  EXPECT_EQ(run(
                [](std::ostream&) -> int {
                  std::raise(SIGSEGV);
                  return 0;
                },
                out, err),
            1);
  EXPECT_EQ(out, "");
  // Under AddressSanitizer its own SEGV handler reports and exits: "ended abnormally" then.
  EXPECT_NE(err.find("incsim inspect: x.h5 is corrupt: reading it "), std::string::npos) << err;
}

}  // namespace
