// The `incsim` command end to end: a run with overrides records them in the file, prints the
// summary and leaves no temporary file; usage errors exit 2; an existing output file survives
// a failed run untouched.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>

#include "incsim/hdf5.h"
#include "incsim/load.h"
#include "incsim/model.h"
#include "support.h"

namespace incsim {
namespace {

namespace fs = std::filesystem;

const std::string kScenario = std::string(INCSIM_SOURCE_DIR) + "/scenarios/xianning_2019.yaml";

std::vector<std::string> temporaries_of(const fs::path& output) {
  std::vector<std::string> found;
  const std::string prefix = output.filename().string() + ".tmp-";
  for (const auto& entry : fs::directory_iterator(output.parent_path()))
    if (entry.path().filename().string().rfind(prefix, 0) == 0)
      found.push_back(entry.path().filename().string());
  return found;
}

TEST(Cli, RunWritesFileWithOverridesAndPrintsSummary) {
  const fs::path out = test::temp_path(".h5");
  fs::remove(out);
  const test::CommandResult r = test::run_incsim(
      "run " + test::shell_quote(kScenario) + " -o " + test::shell_quote(out.string()) +
      " --replications 24 --seed 5 --threads 2 --set population.households=60"
      " --set income.transfers_per_capita=400");
  ASSERT_EQ(r.exit_status, 0) << r.err;
  EXPECT_NE(r.out.find("household-years"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("headcount"), std::string::npos) << r.out;
  ASSERT_TRUE(fs::exists(out));
  EXPECT_TRUE(temporaries_of(out).empty());
  const h5::File f = h5::File::open_read(out.string());
  EXPECT_EQ(h5::read_int64_attribute(f, "/", "replications"), 24);
  EXPECT_EQ(h5::read_int64_attribute(f, "/", "households"), 60);
  const std::vector<std::string> overrides = h5::read_strings_attribute(f, "/", "overrides");
  EXPECT_NE(std::find(overrides.begin(), overrides.end(), "income.transfers_per_capita=400"),
            overrides.end());
  EXPECT_NE(std::find(overrides.begin(), overrides.end(), "scenario.seed=5"), overrides.end());
  const std::string text = h5::read_string_attribute(f, "/", "scenario");
  EXPECT_NE(text.find("transfers_per_capita: 400"), std::string::npos) << text;
  EXPECT_EQ(h5::read_doubles(f, "/replications/fgt0").size(), 24u * 5u);
  // The first year's registered share of the poor, as the file holds it, to 0.01 points with
  // its SE (at 0.1 points a calibrated 98.6% showed an SE of "0.0").
  const double share = h5::read_doubles(f, "/poverty/registered_share").at(0);
  const double share_se = h5::read_doubles(f, "/poverty/registered_share_se").at(0);
  char cell[64];
  std::snprintf(cell, sizeof cell, "%8.2f (%.2f)", 100.0 * share, 100.0 * share_se);
  EXPECT_NE(r.out.find(cell), std::string::npos) << cell << "\n" << r.out;
}

TEST(Cli, SameSeedSameFileContentsDifferentSeedDifferentResults) {
  const fs::path a = test::temp_path("_a.h5"), b = test::temp_path("_b.h5"),
                 c = test::temp_path("_c.h5");
  const std::string common = "run " + test::shell_quote(kScenario) +
                             " --replications 12 --set population.households=40 -o ";
  ASSERT_EQ(test::run_incsim(common + test::shell_quote(a.string()) + " --threads 1").exit_status,
            0);
  ASSERT_EQ(test::run_incsim(common + test::shell_quote(b.string()) + " --threads 2").exit_status,
            0);
  ASSERT_EQ(test::run_incsim(common + test::shell_quote(c.string()) + " --seed 77").exit_status, 0);
  const auto fa = h5::File::open_read(a.string()), fb = h5::File::open_read(b.string()),
             fc = h5::File::open_read(c.string());
  EXPECT_EQ(h5::read_doubles(fa, "/replications/mean_income"),
            h5::read_doubles(fb, "/replications/mean_income"));
  EXPECT_NE(h5::read_doubles(fa, "/replications/mean_income"),
            h5::read_doubles(fc, "/replications/mean_income"));
}

TEST(Cli, VersionHelpAndValidate) {
  const test::CommandResult version = test::run_incsim("--version");
  EXPECT_EQ(version.exit_status, 0);
  EXPECT_NE(version.out.find("incsim "), std::string::npos) << version.out;
  const test::CommandResult help = test::run_incsim("run --help");
  EXPECT_EQ(help.exit_status, 0);
  EXPECT_NE(help.out.find("--set"), std::string::npos) << help.out;
  const test::CommandResult valid = test::run_incsim("validate " + test::shell_quote(kScenario));
  EXPECT_EQ(valid.exit_status, 0) << valid.err;
  EXPECT_NE(valid.out.find("huangjing_143"), std::string::npos) << valid.out;
}

// Issue 11: the run summary counts the households that run no industry by binding constraint,
// each count equal to the file's /households/binding_constraint; validate prints the same
// counts for the resource constraints (farmland, forest, labor, cash) without running the
// pilot.
TEST(Cli, WhyNoIndustryIsCountedInRunAndValidate) {
  const fs::path out = test::temp_path(".h5");
  const std::string sets =
      " --set population.households=300 --set choice.pilot_replications=10"
      " --set industries.chicken_135.capacity=2";
  const test::CommandResult r =
      test::run_incsim("run " + test::shell_quote(kScenario) + " -o " +
                       test::shell_quote(out.string()) + " --replications 12" + sets);
  ASSERT_EQ(r.exit_status, 0) << r.err;
  const h5::File f = h5::File::open_read(out.string());
  const std::vector<std::int64_t> code = h5::read_int64s(f, "/households/binding_constraint");
  const std::vector<std::string> names =
      h5::read_strings_attribute(f, "/households/binding_constraint", "labels");
  ASSERT_EQ(names.size(), 7u);
  std::vector<std::int64_t> count(7, 0);
  for (const std::int64_t c : code) ++count.at(static_cast<std::size_t>(c));
  const std::int64_t none = static_cast<std::int64_t>(code.size()) - count[0];
  ASSERT_GT(count[5], 0) << "two coops must keep someone out";
  EXPECT_NE(r.out.find(std::to_string(none) + " households run no industry"), std::string::npos)
      << r.out;
  const test::CommandResult v = test::run_incsim("validate " + test::shell_quote(kScenario) + sets);
  ASSERT_EQ(v.exit_status, 0) << v.err;
  std::int64_t resources = 0;
  for (std::size_t c = 1; c < 7; ++c) {
    if (count[c] == 0) continue;
    // "    <count>  <name>: ..." in the run summary, and for resources also in validate.
    const std::string line = std::to_string(count[c]) + "  " + names[c];
    EXPECT_NE(r.out.find(line), std::string::npos) << line << "\n" << r.out;
    if (c <= 4) {
      resources += count[c];
      EXPECT_NE(v.out.find(line), std::string::npos) << line << "\n" << v.out;
    }
  }
  EXPECT_NE(v.out.find(std::to_string(resources) + " households run no industry"),
            std::string::npos)
      << v.out;
  EXPECT_NE(v.out.find("chicken_135 2 coop"), std::string::npos) << v.out;
  EXPECT_NE(r.out.find("industries.chicken_135.capacity (2 of 2 taken)"), std::string::npos)
      << r.out;
}

// Issue 14: correlation is sparse. 20,000 markets with a few listed pairs validate, and build
// a model, in memory linear in the markets: with the address space capped at 1.5 GB (a dense
// 20,000 x 20,000 correlation needs 3.2 GB), `validate` succeeds and lists the pairs.
TEST(Cli, ThousandsOfMarketsAreLinearInTheListedPairs) {
  const fs::path yaml = test::temp_path(".yaml");
  std::string text = "scenario: {years: 2, replications: 2}\nmarkets:\n";
  for (int m = 0; m < 20000; ++m) text += "  m" + std::to_string(m) + ": {price: 1}\n";
  text +=
      "correlation: [[m0, m1, 0.5], [m1, m2, 0.3], [m19998, m19999, -0.2]]\n"
      "industries:\n  crop: {products: [{market: m0, yield: 100}]}\n"
      "population: {households: 5, size: {values: [2], weights: [1]}, farmland_mu: {mean: 2},\n"
      "  forest_mu: {mean: 0}, capital: {mean: 1000}}\n"
      "choice: {portfolios: [{main: crop, share: 1}]}\npoverty: {line: 100}\n";
  test::write_file(yaml, text);
#if defined(__SANITIZE_ADDRESS__)
  const std::string cap = "";  // AddressSanitizer reserves terabytes of address space
#else
  const std::string cap = "ulimit -v 1500000; ";
#endif
  const fs::path out = test::temp_path(".stdout"), err = test::temp_path(".stderr");
  const std::string command = "(" + cap + test::shell_quote(INCSIM_BINARY) + " validate " +
                              test::shell_quote(yaml.string()) + ") >" +
                              test::shell_quote(out.string()) + " 2>" +
                              test::shell_quote(err.string());
  const int status = std::system(command.c_str());
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << test::read_file(err);
  EXPECT_NE(test::read_file(out).find("m0-m1 0.5, m1-m2 0.3, m19998-m19999 -0.2"),
            std::string::npos);

  const Model model = build_population_model(load_scenario(yaml.string()));
  const InnovationFactor& a = model.innovation_factor;
  ASSERT_EQ(a.start.size(), 20001u);
  // 19,995 uncorrelated markets with one entry; the 3 x 3 lower-triangular Cholesky factor of
  // (m0, m1, m2) has 5 nonzero entries (L(2, 0) = C(2, 0) / L(0, 0) = 0 is not stored); the
  // 2 x 2 one of (m19998, m19999) has 3.
  EXPECT_EQ(a.value.size(), 19995u + 5u + 3u);
  EXPECT_EQ(a.start[4] - a.start[3], 1u);
  EXPECT_EQ(a.value[a.start[3]], 1.0);
  EXPECT_EQ(a.column[a.start[3]], 3u);
}

// Issue 14: the resource guard. validate shows the estimate; a run or sweep whose memory
// estimate exceeds the machine's limit is refused before anything is allocated, naming the
// estimate, the limit, the key to change and --allow-large; the estimate grows with the sizes.
TEST(Cli, ResourceGuardRefusesWhatCannotFitBeforeAllocating) {
  const auto v = test::run_incsim("validate " + test::shell_quote(kScenario));
  ASSERT_EQ(v.exit_status, 0) << v.err;
  EXPECT_NE(v.out.find("resources: about "), std::string::npos) << v.out;

  const fs::path out = test::temp_path(".h5");
  fs::remove(out);
  const auto huge =
      test::run_incsim("run " + test::shell_quote(kScenario) + " -o " +
                       test::shell_quote(out.string()) + " --set population.households=2000000000");
  EXPECT_EQ(huge.exit_status, 2) << huge.err;
  for (const char* part :
       {"of memory, above the limit of", "--allow-large", "population.households"})
    EXPECT_NE(huge.err.find(part), std::string::npos) << part << "\n" << huge.err;
  EXPECT_FALSE(fs::exists(out));
  const auto many = test::run_incsim("run " + test::shell_quote(kScenario) + " -o " +
                                     test::shell_quote(out.string()) +
                                     " --replications 100000000 --set scenario.years=1000");
  EXPECT_EQ(many.exit_status, 2) << many.err;
  EXPECT_NE(many.err.find("scenario.replications"), std::string::npos) << many.err;
  // validate says so too, and still reports the scenario valid (it is; it does not fit here).
  const auto warned = test::run_incsim("validate " + test::shell_quote(kScenario) +
                                       " --set population.households=2000000000");
  EXPECT_EQ(warned.exit_status, 0) << warned.err;
  EXPECT_NE(warned.out.find("warning: the run would need about"), std::string::npos);

  const Scenario base = load_scenario(kScenario);
  const ResourceEstimate e = estimate_resources(base);
  EXPECT_LT(e.memory_bytes, memory_limit_bytes());
  EXPECT_EQ(resource_problem(e), "");
  EXPECT_EQ(e.household_years, 2000.0 * 5 * 10000);
  Scenario bigger = base;
  bigger.population.households *= 10;
  EXPECT_GT(estimate_resources(bigger).memory_bytes, e.memory_bytes);
  Scenario longer = base;
  longer.replications *= 10;
  EXPECT_GT(estimate_resources(longer).memory_bytes, e.memory_bytes);
  EXPECT_EQ(estimate_resources(longer).household_years, 10 * e.household_years);
  // Insurance adds the basis-risk columns and the protection-value sums: per holding household,
  // column (as simulated, without agricultural, without the index, without both) and jackknife
  // group a 16-byte sum, in each worker's accumulator and the total.
  const Scenario insured =
      load_scenario(std::string(INCSIM_SOURCE_DIR) + "/scenarios/tongshan_double_insurance.yaml");
  Scenario bare = insured;
  bare.insurance.agricultural.enabled = false;
  bare.insurance.income_index.enabled = false;
  bare.insurance.poverty_guard.enabled = false;
  const double h = insured.population.households;
  const double one = estimate_resources(insured, 1).memory_bytes;
  EXPECT_GT(one - estimate_resources(bare, 1).memory_bytes, 2 * h * 4 * 16 * 16);
  ASSERT_FALSE(insured.insurance.poverty_guard.enabled);  // 3 variants: 4 columns
  const double industries = static_cast<double>(insured.industries.size());
  EXPECT_NEAR(estimate_resources(insured, 8).memory_bytes - one,
              7 * (h * 4 * (16 * 16 + 8) + 4 * industries * insured.years * 3 * 5 * 16), 1.0);
  EXPECT_EQ(estimate_resources(bare, 8).memory_bytes, estimate_resources(bare, 1).memory_bytes);
}

TEST(Cli, UsageErrorsExitWithStatus2) {
  EXPECT_EQ(test::run_incsim("").exit_status, 2);
  EXPECT_EQ(test::run_incsim("frobnicate").exit_status, 2);
  EXPECT_EQ(test::run_incsim("run " + test::shell_quote(kScenario) + " --threads -3").exit_status,
            2);
  const test::CommandResult missing = test::run_incsim("run /nonexistent/scenario.yaml -o x.h5");
  EXPECT_EQ(missing.exit_status, 2);
  EXPECT_NE(missing.err.find("/nonexistent/scenario.yaml"), std::string::npos) << missing.err;
  const test::CommandResult no_dir =
      test::run_incsim("run " + test::shell_quote(kScenario) + " -o /nonexistent/dir/out.h5");
  EXPECT_EQ(no_dir.exit_status, 2);
  EXPECT_NE(no_dir.err.find("/nonexistent/dir"), std::string::npos) << no_dir.err;
}

TEST(Cli, ExistingOutputSurvivesAFailedRun) {
  const fs::path out = test::temp_path(".h5");
  test::write_file(out, "previous results");
  const test::CommandResult r =
      test::run_incsim("run " + test::shell_quote(kScenario) + " -o " +
                       test::shell_quote(out.string()) + " --set markets.rice.volatility=-1");
  EXPECT_EQ(r.exit_status, 2);
  EXPECT_NE(r.err.find("--set markets.rice.volatility=-1"), std::string::npos) << r.err;
  EXPECT_EQ(test::read_file(out), "previous results");
  EXPECT_TRUE(temporaries_of(out).empty());
}

// `-o` naming a FIFO, a symlink or a directory: the temporary file used to be renamed over it
// after the whole simulation (as root, `-o /dev/null` replaced /dev/null). Refused up front, with
// exit status 2, before anything is simulated, and the path is left as it was.
TEST(Cli, OutputThatIsNotARegularFileIsRefusedBeforeSimulating) {
  const fs::path dir = test::temp_path("_outputs");
  fs::remove_all(dir);
  fs::create_directories(dir);
  const fs::path fifo = dir / "fifo.h5", link = dir / "link.h5", target = dir / "target.h5",
                 subdir = dir / "subdir.h5";
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  test::write_file(target, "keep me");
  fs::create_symlink(target, link);
  fs::create_directories(subdir);
  for (const fs::path& out : {fifo, link, subdir}) {
    const test::CommandResult r =
        test::run_incsim("run " + test::shell_quote(kScenario) + " --replications 2 -o " +
                         test::shell_quote(out.string()));
    EXPECT_EQ(r.exit_status, 2) << out << "\n" << r.err;
    EXPECT_NE(r.err.find("not a regular file"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find(out.string()), std::string::npos) << r.err;
    EXPECT_EQ(r.out.find("simulated"), std::string::npos) << "simulated before refusing";
  }
  EXPECT_TRUE(fs::is_fifo(fs::symlink_status(fifo)));
  EXPECT_TRUE(fs::is_symlink(fs::symlink_status(link)));
  EXPECT_EQ(test::read_file(target), "keep me");
  EXPECT_TRUE(fs::is_directory(subdir));
  for (const auto& entry : fs::directory_iterator(dir))
    EXPECT_EQ(entry.path().string().find(".tmp-"), std::string::npos) << entry.path();
}

// --threads 1073741824 crashed inside TBB (SIGSEGV); a thread count beyond 1024 is a usage error.
TEST(Cli, AbsurdThreadCountIsAUsageError) {
  const test::CommandResult r = test::run_incsim(
      "run " + test::shell_quote(kScenario) + " --replications 2 --threads 1073741824 -o " +
      test::shell_quote(test::temp_path(".h5").string()));
  EXPECT_EQ(r.exit_status, 2) << r.err;
  EXPECT_NE(r.err.find("--threads"), std::string::npos) << r.err;
}

// A write that fails (here a file-size limit) used to kill the process by SIGXFSZ, or, with that
// signal ignored, crash in HDF5's exit handler (status 139) after printing the error. It is a
// reported failure: status 1, the reason, no output and no temporary file left behind.
TEST(Cli, FailedWriteIsReportedNotACrash) {
  const fs::path dir = test::temp_path("_limit");
  fs::remove_all(dir);
  fs::create_directories(dir);
  const fs::path out = dir / "out.h5", err = dir / "stderr.txt";
  const std::string command = "ulimit -f 50 && " + test::shell_quote(INCSIM_BINARY) + " run " +
                              test::shell_quote(kScenario) + " --replications 3 -q -o " +
                              test::shell_quote(out.string()) + " >/dev/null 2>" +
                              test::shell_quote(err.string());
  const int status = std::system(command.c_str());
  ASSERT_TRUE(WIFEXITED(status)) << "killed by a signal";
  EXPECT_EQ(WEXITSTATUS(status), 1) << test::read_file(err);
  EXPECT_NE(test::read_file(err).find("File too large"), std::string::npos) << test::read_file(err);
  EXPECT_FALSE(fs::exists(out));
  for (const auto& entry : fs::directory_iterator(dir))
    EXPECT_EQ(entry.path().string().find(".tmp-"), std::string::npos) << entry.path();
}

// Inputs that are not regular files were read without bound (csv: /dev/zero) or blocked forever
// (a FIFO); a file beyond the input size cap was read whole. Each is refused at once, naming
// the file and the reason (every command runs under `timeout`, so a hang fails the test).
TEST(Cli, InputsThatAreNotRegularFilesOrTooLargeAreRefused) {
  const fs::path dir = test::temp_path("_inputs");
  fs::remove_all(dir);
  fs::create_directories(dir);
  const fs::path fifo = dir / "scenario.yaml";
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  const fs::path big = dir / "big.yaml";
  test::write_file(big, "scenario: {years: 1}\n");
  fs::resize_file(big, (64ull << 20) + 1);
  auto run = [&](const std::string& args) {
    const fs::path err = dir / "stderr.txt";
    const std::string command = "timeout 20 " + test::shell_quote(INCSIM_BINARY) + " " + args +
                                " >/dev/null 2>" + test::shell_quote(err.string());
    const int status = std::system(command.c_str());
    return std::make_pair(WIFEXITED(status) ? WEXITSTATUS(status) : -1, test::read_file(err));
  };
  const auto [fifo_status, fifo_err] = run("validate " + test::shell_quote(fifo.string()));
  EXPECT_EQ(fifo_status, 2) << fifo_err;
  EXPECT_NE(fifo_err.find("not a regular file (a FIFO)"), std::string::npos) << fifo_err;
  const auto [zero_status, zero_err] =
      run("validate " + test::shell_quote(kScenario) + " --set population.csv=/dev/zero");
  EXPECT_EQ(zero_status, 2) << zero_err;
  EXPECT_NE(zero_err.find("/dev/zero"), std::string::npos) << zero_err;
  EXPECT_NE(zero_err.find("not a regular file (a device)"), std::string::npos) << zero_err;
  const auto [big_status, big_err] = run("validate " + test::shell_quote(big.string()));
  EXPECT_EQ(big_status, 2) << big_err;
  EXPECT_NE(big_err.find("INCSIM_MAX_INPUT_BYTES"), std::string::npos) << big_err;
}

// A temporary left by a process that no longer exists (killed by SIGKILL, a power cut) is
// removed by the next run on the same output; one of a live process is left alone.
TEST(Cli, StaleTemporaryOfADeadProcessIsRemovedByTheNextRun) {
  const fs::path out = test::temp_path(".h5");
  fs::remove(out);
  const pid_t child = ::fork();
  if (child == 0) ::_exit(0);
  ASSERT_GT(child, 0);
  ASSERT_EQ(::waitpid(child, nullptr, 0), child);  // reaped: its pid names no process now
  const fs::path stale = out.string() + ".tmp-" + std::to_string(child);
  const fs::path live = out.string() + ".tmp-" + std::to_string(::getppid());  // our parent
  test::write_file(stale, "half-written results of a dead run");
  test::write_file(live, "a live process's file");
  const test::CommandResult r =
      test::run_incsim("run " + test::shell_quote(kScenario) + " --replications 2 -q -o " +
                       test::shell_quote(out.string()));
  EXPECT_EQ(r.exit_status, 0) << r.err;
  EXPECT_TRUE(fs::exists(out));
  EXPECT_FALSE(fs::exists(stale)) << stale;
  EXPECT_TRUE(fs::exists(live)) << "a temporary of a live process was removed";
  fs::remove(live);
  fs::remove(out);
}

// SIGTERM (or Ctrl-C) while the output is being written removes the temporary file, and the
// process ends by that signal. The write is made long by sample paths, and the test waits
// for the temporary to appear before it signals.
TEST(Cli, SignalDuringTheWriteRemovesTheTemporary) {
  for (int sig : {SIGTERM, SIGINT}) {
    std::string suffix = std::to_string(sig);  // appended piecewise: "_" + std::string trips
    suffix += ".h5";                           // GCC 12's -Wrestrict
    const fs::path out = test::temp_path(suffix);
    fs::remove(out);
    const std::string sink = test::temp_path(".log").string();
    const pid_t child = ::fork();
    if (child == 0) {
      const std::string o = out.string();
      ::freopen(sink.c_str(), "w", stdout);
      ::execl(INCSIM_BINARY, INCSIM_BINARY, "run", kScenario.c_str(), "-q", "--replications", "400",
              "--set", "output.sample_paths=400", "--set", "population.households=20000",
              "--threads", "2", "-o", o.c_str(), static_cast<char*>(nullptr));
      ::_exit(127);
    }
    ASSERT_GT(child, 0);
    const fs::path temporary = out.string() + ".tmp-" + std::to_string(child);
    bool seen = false;
    int status = 0;
    for (int k = 0; k < 120000 && !seen; ++k) {                // up to 2 minutes, every millisecond
      if (::waitpid(child, &status, WNOHANG) == child) break;  // finished before we saw it
      seen = fs::exists(temporary);
      if (!seen) ::usleep(1000);
    }
    ASSERT_TRUE(seen) << "the run ended before its temporary appeared; signal " << sig;
    ::kill(child, sig);
    ASSERT_EQ(::waitpid(child, &status, 0), child);
    EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == sig)
        << "status " << status << " for signal " << sig;
    EXPECT_FALSE(fs::exists(temporary)) << temporary;
    EXPECT_FALSE(fs::exists(out)) << "an output appeared although the run was stopped";
    fs::remove(temporary);
    fs::remove(out);
  }
}

}  // namespace
}  // namespace incsim
