// `incsim run --part I/N` and `incsim merge` end to end (MODEL.md section 13): for N = 1, 2,
// 3 and 7 parts, merged in order and in a permuted order, the merged file's datasets are bit for
// bit those of the unsplit `incsim run` (dataset bytes; created_utc is an attribute, not
// compared); merge refuses parts of another run, a missing or duplicated part, a file that is not
// a part and a corrupt one, with a message naming the file and no output written; --part rejects
// what is not I/N of the run's blocks.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <numeric>
#include <random>

#include "h5_bytes.h"
#include "incsim/part.h"
#include "support.h"

namespace incsim {
namespace {

namespace fs = std::filesystem;

const std::string& kScenario = test::kSplitScenario;
const std::string& kArgs = test::kSplitArgs;

fs::path run_part(const fs::path& dir, int i, int n, const std::string& extra = "") {
  const fs::path out = dir / ("part" + std::to_string(i) + "of" + std::to_string(n) + ".h5");
  const auto r =
      test::run_incsim("run " + test::quoted(kScenario) + " -o " + test::quoted(out) + kArgs +
                       " --part " + std::to_string(i) + "/" + std::to_string(n) + extra);
  EXPECT_EQ(r.exit_status, 0) << r.err;
  return out;
}

test::CommandResult merge(const std::vector<fs::path>& parts, const fs::path& out) {
  std::string args = "merge";
  for (const fs::path& p : parts) args.append(" ").append(test::quoted(p));
  return test::run_incsim(args.append(" -o ").append(test::quoted(out)).append(" --threads 2"));
}

TEST(Parts, MergedPartsAreBitIdenticalToTheUnsplitRunInAnyOrder) {
  const fs::path dir = test::fresh_dir();
  const fs::path whole = dir / "whole.h5";
  const auto r =
      test::run_incsim("run " + test::quoted(kScenario) + " -o " + test::quoted(whole) + kArgs);
  ASSERT_EQ(r.exit_status, 0) << r.err;
  std::mt19937 shuffle(7);
  for (int n : {1, 2, 3, 7}) {
    std::vector<fs::path> parts;
    for (int i = 1; i <= n; ++i) parts.push_back(run_part(dir, i, n));
    const fs::path merged = dir / ("merged" + std::to_string(n) + ".h5");
    const auto m = merge(parts, merged);
    ASSERT_EQ(m.exit_status, 0) << m.err;
    EXPECT_NE(m.out.find("merged " + std::to_string(n) + " part"), std::string::npos) << m.out;
    test::expect_identical_files(whole.string(), merged.string(), "N = " + std::to_string(n));
    if (n < 3) continue;
    std::shuffle(parts.begin(), parts.end(), shuffle);
    std::reverse(parts.begin(), parts.begin() + 2);  // never the sorted order
    const fs::path permuted = dir / ("permuted" + std::to_string(n) + ".h5");
    const auto p = merge(parts, permuted);
    ASSERT_EQ(p.exit_status, 0) << p.err;
    test::expect_identical_files(whole.string(), permuted.string(),
                                 "N = " + std::to_string(n) + ", permuted");
  }
}

TEST(Parts, MergeRefusesPartsThatAreNotOneWholeRun) {
  const fs::path dir = test::fresh_dir();
  const fs::path p1 = run_part(dir, 1, 3), p2 = run_part(dir, 2, 3), p3 = run_part(dir, 3, 3);
  const fs::path out = dir / "out.h5";
  auto refused = [&](const std::vector<fs::path>& parts, const std::string& fragment) {
    const auto r = merge(parts, out);
    EXPECT_NE(r.exit_status, 0) << fragment;
    EXPECT_NE(r.err.find(fragment), std::string::npos) << r.err;
    EXPECT_FALSE(fs::exists(out)) << fragment;
    for (const auto& e : fs::directory_iterator(dir))
      EXPECT_EQ(e.path().filename().string().find("out.h5.tmp"), std::string::npos);
  };
  refused({p1, p3}, "part 2 of 3 missing");
  refused({p1, p2, p2, p3}, "part 2 of 3 is given twice");
  // Another seed, another part count, another scenario value: another run.
  const fs::path other_dir = dir / "other";
  fs::create_directories(other_dir);
  const fs::path seeded = run_part(other_dir, 2, 3, " --seed 99");
  refused({p1, seeded, p3}, "the seeds (99, ");
  const fs::path split = run_part(other_dir, 2, 4);
  refused({p1, split, p3}, "the part counts (4, 3) differ");
  const fs::path changed = run_part(other_dir, 3, 3, " --set markets.fish.price=31");
  refused({p1, p2, changed}, "the scenario texts differ");
  // A result file is not a part; a truncated part is corrupt.
  const fs::path result = dir / "result.h5";
  ASSERT_EQ(
      test::run_incsim("run " + test::quoted(kScenario) + " -o " + test::quoted(result) + kArgs)
          .exit_status,
      0);
  refused({p1, result, p3}, "is not an incsim part file");
  const fs::path truncated = dir / "truncated.h5";
  fs::copy_file(p2, truncated);
  fs::resize_file(truncated, fs::file_size(p2) / 2);
  const auto t = merge({p1, truncated, p3}, out);
  EXPECT_NE(t.exit_status, 0);
  EXPECT_NE(t.err.find("truncated.h5"), std::string::npos) << t.err;
  EXPECT_FALSE(fs::exists(out));
  refused({dir / "missing.h5", p2, p3}, "missing.h5");
  // A part of the previous format (format 1 kept the protection sums member-major) is refused,
  // not read in this format's order.
  const fs::path old_format = dir / "old_format.h5";
  fs::copy_file(p2, old_format);
  {
    const hid_t f = H5Fopen(old_format.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
    ASSERT_GE(f, 0);
    const hid_t a = H5Aopen(f, "part_format", H5P_DEFAULT);
    ASSERT_GE(a, 0);
    const std::int64_t previous = kPartFormat - 1;
    EXPECT_GE(H5Awrite(a, H5T_NATIVE_INT64, &previous), 0);
    H5Aclose(a);
    H5Fclose(f);
  }
  refused({p1, old_format, p3}, "is a part file of format " + std::to_string(kPartFormat - 1));
  // Nothing given, or the output would replace a part.
  EXPECT_EQ(test::run_incsim("merge -o " + test::quoted(out)).exit_status, 2);
  const auto onto = merge({p1, p2, p3}, p1);
  EXPECT_NE(onto.exit_status, 0);
  EXPECT_TRUE(fs::exists(p1));
  // The three as they are still merge.
  EXPECT_EQ(merge({p3, p2, p1}, out).exit_status, 0);
}

// A scenario given by a relative path that names a relative population csv: the merge, run
// from another directory, finds the csv where the parts found it.
TEST(Parts, MergeFindsTheCsvOfAScenarioGivenByARelativePath) {
  const fs::path dir = test::fresh_dir();
  const fs::path runs = dir / "runs", elsewhere = dir / "elsewhere";
  fs::create_directories(runs);
  fs::create_directories(elsewhere);
  for (const char* name : {"example_households.yaml", "example_households.csv"})
    fs::copy_file(fs::path(INCSIM_SOURCE_DIR) / "scenarios" / name, runs / name);
  auto in = [](const fs::path& where, const std::string& arguments) {
    return std::system(("cd " + test::quoted(where) + " && " + test::shell_quote(INCSIM_BINARY) +
                        " " + arguments + " >/dev/null 2>&1")
                           .c_str());
  };
  const std::string args = " -q --replications 16";
  ASSERT_EQ(in(runs, "run example_households.yaml -o whole.h5" + args), 0);
  ASSERT_EQ(in(runs, "run example_households.yaml --part 1/2 -o p1.h5" + args), 0);
  ASSERT_EQ(in(runs, "run example_households.yaml --part 2/2 -o p2.h5" + args), 0);
  ASSERT_EQ(in(elsewhere, "merge ../runs/p2.h5 ../runs/p1.h5 -o merged.h5"), 0);
  test::expect_identical_files((runs / "whole.h5").string(), (elsewhere / "merged.h5").string(),
                               "merged elsewhere");
}

TEST(Parts, PartOptionMustBeIOfNWithinTheBlocks) {
  const fs::path dir = test::fresh_dir();
  for (const std::string bad : {"0/3", "4/3", "3", "a/b", "1/0", "-1/2", "1/25"}) {
    const auto r =
        test::run_incsim("run " + test::quoted(kScenario) + " -o " + test::quoted(dir / "x.h5") +
                         kArgs + " --part " + test::shell_quote(bad));
    EXPECT_EQ(r.exit_status, 2) << bad;
    EXPECT_NE(r.err.find("--part"), std::string::npos) << bad << ": " << r.err;
    EXPECT_FALSE(fs::exists(dir / "x.h5")) << bad;
  }
  const auto target = test::run_incsim(
      "run " + test::quoted(kScenario) + " -o " + test::quoted(dir / "x.h5") + kArgs +
      " --part 1/2 --set 'output.target={measure: fgt0, year: 2, standard_error: 0.01}'");
  EXPECT_EQ(target.exit_status, 2) << target.err;
  EXPECT_NE(target.err.find("output.target"), std::string::npos) << target.err;
  // The default output name says which part it is.
  const auto r = test::run_incsim("run " + test::quoted(kScenario) + kArgs + " --part 2/5");
  EXPECT_EQ(r.exit_status, 0) << r.err;
  EXPECT_TRUE(fs::exists("all_features_logit.part2of5.h5")) << r.out;
  fs::remove("all_features_logit.part2of5.h5");
}

}  // namespace
}  // namespace incsim
