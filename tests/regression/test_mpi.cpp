// `mpirun -n K incsim run|sweep|calibrate` (MODEL.md section 13), built only when incsim has
// MPI: for K = 1, 2, 3 (oversubscribed) the result's datasets are bit for bit those of one
// process; a sweep or calibration interrupted in one process resumes under MPI to the same
// file; a failing rank ends the job with a message naming it and no output file; --part under
// MPI is refused. The tests run as root in CI, which Open MPI refuses unless told otherwise:
// the variables that allow it are set on each mpirun command line here, not in the
// environment of the suite.
#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>

#include "h5_bytes.h"
#include "incsim/calibrate.h"
#include "incsim/sweep.h"
#include "support.h"

namespace incsim {
namespace {

namespace fs = std::filesystem;

const std::string& kScenario = test::kSplitScenario;
const std::string& kArgs = test::kSplitArgs;

#ifdef __SANITIZE_ADDRESS__
// Under AddressSanitizer (tools/sanitize.sh) the ranks do not check leaks: Open MPI leaves its
// own allocations behind at MPI_Finalize (its dlopened components), none of them incsim's;
// the same incsim code paths are leak-checked without MPI (test_parts, test_sweep).
constexpr const char* kSanitizerEnv = "ASAN_OPTIONS=detect_leaks=0";
#else
constexpr const char* kSanitizerEnv = "";
#endif

// `mpirun -n ranks incsim ARGS` with its output captured (as test::run_incsim).
test::CommandResult mpirun(int ranks, const std::string& arguments, const std::string& env = "") {
  const auto out = test::temp_path(".mpi.stdout"), err = test::temp_path(".mpi.stderr");
  const std::string command = "env OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 " +
                              std::string(kSanitizerEnv) + " " + env + " " +
                              test::shell_quote(INCSIM_MPIEXEC) + " --oversubscribe -n " +
                              std::to_string(ranks) + " " + test::shell_quote(INCSIM_BINARY) + " " +
                              arguments + " >" + test::quoted(out) + " 2>" + test::quoted(err);
  const int status = std::system(command.c_str());
  test::CommandResult r;
  if (status != -1 && WIFEXITED(status)) r.exit_status = WEXITSTATUS(status);
  r.out = test::read_file(out);
  r.err = test::read_file(err);
  return r;
}

// With 700 households the logit choice pilot has 3 batches of 256: the ranks split them.
TEST(Mpi, RunIsBitIdenticalToOneProcessForOneTwoAndThreeRanks) {
  const fs::path dir = test::fresh_dir();
  for (const std::string households : {"60", "700"}) {
    const std::string args = kArgs + " --set population.households=" + households;
    const fs::path single = dir / ("single" + households + ".h5");
    const auto r =
        test::run_incsim("run " + test::quoted(kScenario) + " -o " + test::quoted(single) + args);
    ASSERT_EQ(r.exit_status, 0) << r.err;
    for (int k : {1, 2, 3}) {
      const fs::path out = dir / ("ranks" + std::to_string(k) + "_" + households + ".h5");
      // With 3 ranks, rank 0's MPI thread also polls MPI while the counters are open (as
      // across nodes): the same bits.
      const auto m = mpirun(
          k, "run " + test::quoted(kScenario) + " -o " + test::quoted(out) + args + " --threads 1",
          k == 3 ? "INCSIM_MPI_POLL=1" : "");
      ASSERT_EQ(m.exit_status, 0) << m.err;
      if (k > 1) {
        EXPECT_NE(m.out.find(std::to_string(k) + " MPI ranks"), std::string::npos) << m.out;
      }
      test::expect_identical_files(single.string(), out.string(),
                                   std::to_string(k) + " ranks, " + households + " households");
    }
  }
}

// Convergence mode does not split: rank 0 runs it alone, as one process does.
TEST(Mpi, ConvergenceModeRunsOnRankZeroAsOneProcessDoes) {
  const fs::path dir = test::fresh_dir();
  const std::string args =
      kArgs + " --set 'output.target={measure: fgt0, year: 2, standard_error: 0.05}'";
  const fs::path single = dir / "single.h5", ranks = dir / "ranks.h5";
  ASSERT_EQ(
      test::run_incsim("run " + test::quoted(kScenario) + " -o " + test::quoted(single) + args)
          .exit_status,
      0);
  const auto m = mpirun(2, "run " + test::quoted(kScenario) + " -o " + test::quoted(ranks) + args);
  ASSERT_EQ(m.exit_status, 0) << m.err;
  EXPECT_NE(m.err.find("runs on rank 0 alone"), std::string::npos) << m.err;
  test::expect_identical_files(single.string(), ranks.string(), "convergence mode on 2 ranks");
}

TEST(Mpi, AFailingRankEndsTheJobWithAMessageAndNoOutput) {
  const fs::path dir = test::fresh_dir();
  const fs::path out = dir / "out.h5";
  const auto m = mpirun(
      2, "run " + test::quoted(kScenario) + " -o " + test::quoted(out) + kArgs + " --threads 1",
      "INCSIM_TEST_FAIL_RANK=1");
  EXPECT_NE(m.exit_status, 0);
  EXPECT_NE(m.err.find("rank 1 of 2: injected failure"), std::string::npos) << m.err;
  for (const auto& e : fs::directory_iterator(dir)) ADD_FAILURE() << "left behind: " << e.path();
  // Invalid input: reported once (by rank 0), exit status 2, nothing written.
  const auto bad = mpirun(2, "run " + test::quoted(kScenario) + " -o " + test::quoted(out) + kArgs +
                                 " --set markets.fish.volatility=-1");
  EXPECT_EQ(bad.exit_status, 2) << bad.err;
  const std::string message = "markets.fish.volatility=-1";
  const std::size_t first = bad.err.find(message);
  EXPECT_NE(first, std::string::npos) << bad.err;
  EXPECT_EQ(bad.err.find(message, first + message.size()), std::string::npos) << bad.err;
  EXPECT_FALSE(fs::exists(out));
  const auto part = mpirun(
      2, "run " + test::quoted(kScenario) + " -o " + test::quoted(out) + kArgs + " --part 1/2");
  EXPECT_EQ(part.exit_status, 2);
  EXPECT_NE(part.err.find("--part under MPI"), std::string::npos) << part.err;
}

const char* kSweep =
    "parameters: {insurance.income_index.coverage: [0.7, 0.8, 0.9, 1.0, 1.1]}\n"
    "set: {population.households: 60, scenario.replications: 12, "
    "choice.pilot_replications: 10}\n";

TEST(Mpi, SweepIsBitIdenticalAndResumesUnderMpi) {
  const fs::path dir = test::fresh_dir();
  const fs::path sweep = dir / "sweep.yaml";
  test::write_file(sweep, "base: " + kScenario + "\n" + kSweep);
  const fs::path single = dir / "single.h5";
  ASSERT_EQ(test::run_incsim("sweep " + test::quoted(sweep) + " -o " + test::quoted(single) + " -q")
                .exit_status,
            0);
  for (int k : {1, 2, 3}) {
    const fs::path out = dir / ("ranks" + std::to_string(k) + ".h5");
    const auto m =
        mpirun(k, "sweep " + test::quoted(sweep) + " -o " + test::quoted(out) + " -q --threads 1");
    ASSERT_EQ(m.exit_status, 0) << m.err;
    test::expect_identical_files(single.string(), out.string(),
                                 "sweep on " + std::to_string(k) + " ranks");
  }
  // Two points computed in one process, then the sweep stopped; MPI computes the rest.
  const fs::path resumed = dir / "resumed.h5";
  std::atomic<bool> stop{false};
  SweepOptions options;
  options.output = resumed.string();
  options.threads = 1;
  options.stop = &stop;
  int finished = 0;
  options.on_event = [&](const SweepEvent& e) {
    if (e.kind == SweepEvent::finished && ++finished == 2) stop = true;
  };
  ASSERT_FALSE(run_sweep(load_sweep(sweep.string()), options).complete);
  const auto m = mpirun(
      2, "sweep " + test::quoted(sweep) + " -o " + test::quoted(resumed) + " -q --threads 1");
  ASSERT_EQ(m.exit_status, 0) << m.err;
  EXPECT_NE(m.out.find("3 computed, 2 reused"), std::string::npos) << m.out;
  test::expect_identical_files(single.string(), resumed.string(), "resumed under MPI");
}

// A calibration (MODEL.md section 12) whose evaluations are split across the ranks: the record's
// datasets (but the wall times) and the calibrated scenario (but the date in its header) are
// those of one process; and a calibration stopped in one process resumes under MPI.
std::string without_header_date(const std::string& text) {
  return text.substr(text.find('\n') + 1);  // "# Calibrated by incsim ... (date)."
}

TEST(Mpi, CalibrationIsBitIdenticalAndResumesUnderMpi) {
  const fs::path dir = test::fresh_dir();
  const fs::path file = dir / "calibration.yaml";
  test::write_file(file, "base: " + kScenario +
                             "\nreplications: 12\ncheck_replications: 24\nmax_evaluations: 8\n"
                             "set: {population.households: 60, choice.pilot_replications: 10}\n"
                             "parameters:\n  income.wage.employment_rate: {min: 0.5, max: 0.95}\n"
                             "targets:\n  - {measure: poverty/fgt0, year: 2021, value: 0.1}\n");
  const fs::path single = dir / "single.yaml";
  const auto one = test::run_incsim("calibrate " + test::quoted(file) + " -o " +
                                    test::quoted(single) + " --threads 1");
  ASSERT_EQ(one.exit_status, 0) << one.err;
  auto record_of = [](const fs::path& yaml) {
    auto bytes = test::dataset_bytes(fs::path(yaml).replace_extension(".h5").string());
    bytes.erase("calibration/seconds");
    return bytes;
  };
  const auto expected = record_of(single);
  ASSERT_GE(expected.size(), 10u);
  for (int k : {1, 2, 3}) {
    const fs::path out = dir / ("ranks" + std::to_string(k) + ".yaml");
    const auto m =
        mpirun(k, "calibrate " + test::quoted(file) + " -o " + test::quoted(out) + " --threads 1");
    ASSERT_EQ(m.exit_status, 0) << m.err;
    test::expect_same_datasets(expected, record_of(out),
                               "calibration on " + std::to_string(k) + " ranks");
    EXPECT_EQ(without_header_date(test::read_file(out)),
              without_header_date(test::read_file(single)));
  }
  // Three evaluations in one process, then stopped; MPI replays them and computes the rest.
  const fs::path resumed = dir / "resumed.yaml";
  std::atomic<bool> stop{false};
  CalibrationOptions options;
  options.output = resumed.string();
  options.record = (dir / "resumed.h5").string();
  options.threads = 1;
  options.stop = &stop;
  options.on_event = [&](const CalibrationEvent& e) {
    if (e.kind == CalibrationEvent::evaluated && e.evaluation == 2) stop = true;
  };
  ASSERT_FALSE(run_calibration(load_calibration(file.string()), options).complete);
  const auto m = mpirun(
      2, "calibrate " + test::quoted(file) + " -o " + test::quoted(resumed) + " --threads 1");
  ASSERT_EQ(m.exit_status, 0) << m.err;
  EXPECT_NE(m.err.find("resuming: 3 evaluations taken from"), std::string::npos) << m.err;
  test::expect_same_datasets(expected, record_of(resumed), "resumed under MPI");
  EXPECT_EQ(without_header_date(test::read_file(resumed)),
            without_header_date(test::read_file(single)));
}

}  // namespace
}  // namespace incsim
