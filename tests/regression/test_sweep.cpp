// `incsim sweep` end to end (MODEL.md sections 10 and 11): a sweep point is bit for bit the single
// run of the same overridden scenario; paired standard errors of differences are smaller than
// unpaired ones and match the spread of repeated sweeps; stack increments add up; a killed or
// interrupted sweep resumes to the same file; a changed base is refused on resume; invalid
// sweep files are reported at their line with nothing written.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <hdf5.h>
#include <hdf5_hl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <map>
#include <thread>

#include "h5_bytes.h"
#include "incsim/hdf5.h"
#include "incsim/sweep.h"
#include "support.h"

namespace incsim {
namespace {

namespace fs = std::filesystem;

const std::string kScenarios = std::string(INCSIM_SOURCE_DIR) + "/scenarios/";

std::vector<std::string> leftovers(const fs::path& dir) {
  std::vector<std::string> found;
  for (const auto& e : fs::recursive_directory_iterator(dir))
    if (e.path().filename().string().find(".tmp-") != std::string::npos)
      found.push_back(e.path().string());
  return found;
}

// ---- (1) a point equals the single run ---------------------------------------------------------

TEST(Sweep, PointIsBitIdenticalToTheSingleRun) {
  const fs::path dir = test::fresh_dir();
  const fs::path sweep = dir / "grid.yaml", out = dir / "grid.h5", single = dir / "single.h5";
  test::write_file(sweep, "base: " + kScenarios +
                              "tongshan_double_insurance.yaml\n"
                              "set: {population.households: 150, scenario.replications: 24,\n"
                              "      choice.pilot_replications: 20}\n"
                              "parameters:\n"
                              "  markets.crayfish.volatility: [0.1, 0.6]\n"
                              "  insurance.income_index.coverage: [0.7, 0.9]\n");
  const auto r = test::run_incsim("sweep " + test::quoted(sweep) + " -o " + test::quoted(out) +
                                  " --threads 2 -q");
  ASSERT_EQ(r.exit_status, 0) << r.err;
  const auto s = test::run_incsim(
      "run " + test::quoted(kScenarios + "tongshan_double_insurance.yaml") + " -o " +
      test::quoted(single) +
      " -q --threads 1 --set population.households=150 --set scenario.replications=24"
      " --set choice.pilot_replications=20"
      " --set markets.crayfish.volatility=0.6 --set insurance.income_index.coverage=0.7");
  ASSERT_EQ(s.exit_status, 0) << s.err;
  const auto point = test::dataset_bytes(out.string(), "/points/2");
  ASSERT_GT(point.size(), 60u);
  test::expect_same_datasets(test::dataset_bytes(single.string()), point,
                             "/points/2 vs the single run");

  // The table carries the point's own estimates, and the copied tree keeps its scales.
  const h5::File f = h5::File::open_read(out.string());
  const auto fgt0 = h5::read_doubles(f, "/sweep/fgt0");
  const auto point_fgt0 = h5::read_doubles(f, "/points/2/poverty/fgt0");
  ASSERT_EQ(fgt0.size(), 4u * point_fgt0.size());
  for (std::size_t t = 0; t < point_fgt0.size(); ++t)
    EXPECT_EQ(fgt0[2 * point_fgt0.size() + t], point_fgt0[t]);
  EXPECT_EQ(h5::read_doubles(f, "/sweep/markets.crayfish.volatility"),
            (std::vector<double>{0.1, 0.1, 0.6, 0.6}));

  // Portfolio shares per point (issue 11): each row is that point's /choice/share by label
  // and sums to 1; the shares move between points (the households choose again).
  const auto labels = h5::read_strings(f, "/sweep/portfolio_labels");
  const auto shares = h5::read_doubles(f, "/sweep/portfolio_share");
  ASSERT_EQ(shares.size(), 4u * labels.size());
  const auto industry = h5::read_strings(f, "/points/0/industries/name");
  bool moved = false;
  for (std::size_t k = 0; k < 4; ++k) {
    const std::string at = "/points/" + std::to_string(k) + "/choice/";
    const auto main = h5::read_int64s(f, at + "portfolio_main");
    const auto aux = h5::read_int64s(f, at + "portfolio_aux");
    const auto share = h5::read_doubles(f, at + "share");
    std::map<std::string, double> of;
    for (std::size_t p = 0; p < share.size(); ++p) {
      const std::string label = main[p] < 0  ? "none"
                                : aux[p] < 0 ? industry[main[p]]
                                             : industry[main[p]] + " + " + industry[aux[p]];
      of[label] += share[p];
    }
    double total = 0.0;
    for (std::size_t j = 0; j < labels.size(); ++j) {
      const double v = shares[k * labels.size() + j];
      EXPECT_EQ(v, of.count(labels[j]) ? of[labels[j]] : 0.0) << k << " " << labels[j];
      total += v;
      moved |= v != shares[j];
    }
    EXPECT_NEAR(total, 1.0, 1e-12) << "point " << k;
  }
  EXPECT_TRUE(moved) << "crayfish volatility and index coverage should move some households";
  const hid_t d = H5Dopen2(f.id(), "/points/2/poverty/fgt0", H5P_DEFAULT);
  ASSERT_GE(d, 0);
  EXPECT_EQ(H5DSget_num_scales(d, 0), 1);
  std::string scale;
  H5DSiterate_scales(
      d, 0, nullptr,
      [](hid_t, unsigned, hid_t scale_id, void* data) -> herr_t {
        char name[256] = {};
        H5Iget_name(scale_id, name, sizeof name);
        *static_cast<std::string*>(data) = name;
        return 1;
      },
      &scale);
  EXPECT_EQ(scale, "/points/2/poverty/year");  // write_results attaches group-local copies
  H5Dclose(d);
  EXPECT_EQ(h5::read_string_attribute(f, "/", "mode"), "grid");
  EXPECT_EQ(h5::read_int64_attribute(f, "/", "points"), 4);
  EXPECT_FALSE(fs::exists(dir / "grid.h5.points"));
}

// ---- (2) paired standard errors ---------------------------------------------------------------

// One market, one industry, identical households (nothing about the population depends on the
// seed), so repeated sweeps differ only by their shocks.
const char* kPairedBase = R"(scenario: {years: 3, replications: 40, seed: 1}
markets:
  grain: {unit: kg, price: 10, volatility: 0.2, persistence: 0.5}
industries:
  farm:
    unit: mu
    operating_cost: 200
    needs: {farmland_mu: 1, labor_days: 10}
    products: [{market: grain, yield: 100, yield_cv: 0.2}]
population:
  households: 40
  size: {values: [2], weights: [1]}
  farmland_mu: {mean: 2, cv: 0}
  forest_mu: {mean: 1, cv: 0}
  capital: {mean: 10000, cv: 0}
income:
  wage: {per_laborer: 3000, cv: 0.3, employment_rate: 0.8}
choice:
  rule: fixed
  portfolios: [{main: farm, share: 1}]
poverty: {line: 1800}
)";

// Runs the sweep of `file` with scenario.seed `seed` on 2 threads into `out`, and opens it.
h5::File seeded_sweep(const fs::path& file, int seed, const fs::path& out) {
  const SweepSpec spec = load_sweep(file.string(), {{"scenario.seed", std::to_string(seed)}});
  SweepOptions options;
  options.output = out.string();
  options.threads = 2;
  if (!run_sweep(spec, options).complete) ADD_FAILURE() << file << " seed " << seed;
  return h5::File::open_read(options.output);
}

TEST(Sweep, PairedStandardErrorIsSmallerAndMatchesRepeatedSweeps) {
  const fs::path dir = test::fresh_dir();
  test::write_file(dir / "base.yaml", kPairedBase);
  test::write_file(dir / "sweep.yaml",
                   "base: base.yaml\nkeep: table\n"
                   "parameters: {markets.grain.volatility: [0.2, 0.3]}\n");
  std::vector<double> diffs, diff_ses;
  double paired_over_unpaired = 0.0;
  const int sweeps = 100;
  for (int s = 0; s < sweeps; ++s) {
    const h5::File f =
        seeded_sweep(dir / "sweep.yaml", 1000 + s, dir / ("seed" + std::to_string(s) + ".h5"));
    const auto diff = h5::read_doubles(f, "/sweep/mean_income_diff");
    const auto diff_se = h5::read_doubles(f, "/sweep/mean_income_diff_se");
    const auto se = h5::read_doubles(f, "/sweep/mean_income_se");
    const std::size_t t = 2, at = 3 + t;  // point 1, last year
    const double unpaired = std::sqrt(se[at] * se[at] + se[t] * se[t]);
    EXPECT_LT(diff_se[at], unpaired) << "seed " << 1000 + s;
    paired_over_unpaired += diff_se[at] / unpaired / sweeps;
    EXPECT_EQ(diff[t], 0.0);
    EXPECT_EQ(diff_se[t], 0.0);
    diffs.push_back(diff[at]);
    diff_ses.push_back(diff_se[at]);
  }
  const test::SampleStats spread = test::sample_stats(diffs);
  const double reported = test::sample_stats(diff_ses).mean;
  const double ratio = std::sqrt(spread.var) / reported;
  std::cout << "sd of " << sweeps << " paired differences / mean reported paired se = " << ratio
            << "; mean paired / unpaired se = " << paired_over_unpaired << "\n";
  EXPECT_GT(ratio, 1 / 1.25) << "sd of " << sweeps << " differences " << std::sqrt(spread.var)
                             << ", mean reported paired se " << reported;
  EXPECT_LT(ratio, 1.25) << "sd of " << sweeps << " differences " << std::sqrt(spread.var)
                         << ", mean reported paired se " << reported;
}

// The basis-risk ratios of the sweep table (covered_<variant> etc.): at each point the pooled
// ratio of the point's own result (one covered industry: the run's basis_risk dataset, up to
// the exact sums' 2^-40 grid), NaN for a variant a point does not configure, and a paired
// standard error of differences that is smaller than the unpaired one and matches the spread
// of differences over repeated sweeps.
TEST(Sweep, BasisRiskRatiosArePooledPairedAndMatchRepeatedSweeps) {
  const fs::path dir = test::fresh_dir();
  test::write_file(dir / "base.yaml",
                   std::string(kPairedBase) +
                       "insurance:\n  income_index: {covers: [farm], coverage: 0.8, "
                       "premium_rate: 0.05}\n");
  // The first sweep keeps the points' results, to compare with; the others only the table.
  for (const std::string keep : {"all", "table"})
    test::write_file(dir / (keep + ".yaml"),
                     "base: base.yaml\nkeep: " + keep +
                         "\nparameters: {insurance.income_index.coverage: [0.8, 0.9]}\n");
  std::vector<double> diffs, diff_ses;
  const int sweeps = 60;
  for (int s = 0; s < sweeps; ++s) {
    const h5::File f = seeded_sweep(dir / (s == 0 ? "all.yaml" : "table.yaml"), 2000 + s,
                                    dir / ("seed" + std::to_string(s) + ".h5"));
    const auto covered = h5::read_doubles(f, "/sweep/covered_income_index");
    const auto se = h5::read_doubles(f, "/sweep/covered_income_index_se");
    const auto diff = h5::read_doubles(f, "/sweep/covered_income_index_diff");
    const auto diff_se = h5::read_doubles(f, "/sweep/covered_income_index_diff_se");
    ASSERT_EQ(covered.size(), 6u);
    if (s == 0) {
      EXPECT_FALSE(f.root().exists("/sweep/covered_agricultural")) << "not configured anywhere";
      for (int k = 0; k < 2; ++k) {
        const std::string base = "/points/" + std::to_string(k) + "/insurance/income_index/";
        const auto run_covered = h5::read_doubles(f, base + "basis_risk/covered");
        const auto run_se = h5::read_doubles(f, base + "basis_risk/covered_se");
        const auto run_missed = h5::read_doubles(f, base + "basis_risk/missed");
        const auto missed = h5::read_doubles(f, "/sweep/missed_income_index");
        for (int t = 0; t < 3; ++t) {
          EXPECT_NEAR(covered[k * 3 + t], run_covered[t], 1e-9 * run_covered[t]);
          EXPECT_NEAR(se[k * 3 + t], run_se[t], 1e-6 * run_se[t]);
          EXPECT_EQ(missed[k * 3 + t], run_missed[t]) << "counts are exact";
        }
      }
    }
    const std::size_t t = 2, at = 3 + t;  // point 1, last year
    EXPECT_EQ(diff[t], 0.0);
    EXPECT_EQ(diff_se[t], 0.0);
    EXPECT_LT(diff_se[at], std::sqrt(se[at] * se[at] + se[t] * se[t])) << "seed " << 2000 + s;
    diffs.push_back(diff[at]);
    diff_ses.push_back(diff_se[at]);
  }
  const double ratio = std::sqrt(test::sample_stats(diffs).var) / test::sample_stats(diff_ses).mean;
  std::cout << "basis risk: sd of " << sweeps
            << " paired differences / mean reported paired se = " << ratio << "\n";
  EXPECT_GT(ratio, 1 / 1.3);
  EXPECT_LT(ratio, 1.3);
}

// ---- (3) stack increments ---------------------------------------------------------------------

const std::string kStackSweep =
    "base: " + kScenarios +
    "tongshan_no_insurance.yaml\n"
    "mode: stack\n"
    "set: {population.households: 200, scenario.replications: 30,\n"
    "      choice.pilot_replications: 20}\n"
    "overlays:\n"
    "  - name: agricultural\n"
    "    set:\n"
    "      insurance.agricultural: {covers: [rice_crayfish_115, chicken_135],\n"
    "        sum_insured: {rice_crayfish_115: 3000, chicken_135: 4000}, deductible: 0.1,\n"
    "        premium_rate: 0.06, subsidy: {poor: 1, other: 0.7}, enrollment: {poor: 1, other: "
    "0.3}}\n"
    "  - name: income index\n"
    "    set:\n"
    "      insurance.income_index: {covers: [rice_crayfish_115], coverage: 0.8,\n"
    "        premium_rate: 0.05, subsidy: {poor: 1, other: 0.5}, enrollment: {poor: 1, other: "
    "0.1}}\n"
    "  - name: poverty guard\n"
    "    set: {insurance.poverty_guard: {threshold: 1.5, cap: 10000, premium_per_capita: 40,\n"
    "          subsidy: {poor: 1, other: 1}, enrollment: {poor: 1, other: 0.5}}}\n";

TEST(Sweep, StackIncrementsAddUpToTheTotal) {
  const fs::path dir = test::fresh_dir();
  const fs::path sweep = dir / "stack.yaml", out = dir / "stack.h5";
  test::write_file(sweep, kStackSweep);
  const auto r = test::run_incsim("sweep " + test::quoted(sweep) + " -o " + test::quoted(out) +
                                  " --threads 2");
  ASSERT_EQ(r.exit_status, 0) << r.err;
  EXPECT_NE(r.out.find("Sweep table"), std::string::npos) << r.out;
  const h5::File f = h5::File::open_read(out.string());
  EXPECT_EQ(h5::read_strings(f, "/sweep/overlay"),
            (std::vector<std::string>{"base", "agricultural", "income index", "poverty guard"}));
  const std::size_t points = 4, years = 5;
  for (const std::string m : {"mean_income", "fgt0", "fgt1", "fgt2", "government_cost",
                              "target_risk", "payout_agricultural", "payout_poverty_guard"}) {
    const auto value = h5::read_doubles(f, "/sweep/" + m);
    const auto diff = h5::read_doubles(f, "/sweep/" + m + "_diff");
    const auto increment = h5::read_doubles(f, "/sweep/" + m + "_increment");
    ASSERT_EQ(value.size(), points * years) << m;
    for (std::size_t t = 0; t < years; ++t) {
      double sum = 0.0;
      for (std::size_t k = 1; k < points; ++k) sum += increment[k * years + t];
      const double total = diff[(points - 1) * years + t];
      EXPECT_NEAR(sum, total, 1e-9 * (1 + std::fabs(value[t]))) << m << " year " << t;
      EXPECT_EQ(total, value[(points - 1) * years + t] - value[t]) << m;
    }
  }
  // A product not yet configured pays nothing; once configured it appears in the point's tree.
  const auto guard = h5::read_doubles(f, "/sweep/payout_poverty_guard");
  for (std::size_t i = 0; i < 3 * years; ++i) EXPECT_EQ(guard[i], 0.0);
  EXPECT_TRUE(f.id() >= 0 && H5Lexists(f.id(), "/points/3/insurance/poverty_guard", H5P_DEFAULT));
  // Basis risk of the income index (added at point 2): NaN before, then a value; its increment
  // at point 2 has no reference (NaN), the double insurance's starts there too.
  for (const std::string v : {"income_index", "double"}) {
    const auto covered = h5::read_doubles(f, "/sweep/covered_" + v);
    const auto increment = h5::read_doubles(f, "/sweep/covered_" + v + "_increment");
    const auto increment_se = h5::read_doubles(f, "/sweep/covered_" + v + "_increment_se");
    for (std::size_t t = 0; t < years; ++t) {
      EXPECT_TRUE(std::isnan(covered[t]) && std::isnan(covered[years + t])) << v;
      EXPECT_TRUE(std::isfinite(covered[2 * years + t])) << v;
      EXPECT_TRUE(std::isnan(increment[2 * years + t])) << v;
      EXPECT_EQ(increment[3 * years + t], covered[3 * years + t] - covered[2 * years + t]) << v;
      EXPECT_TRUE(std::isfinite(increment_se[3 * years + t])) << v;
    }
  }
  const auto agricultural = h5::read_doubles(f, "/sweep/covered_agricultural");
  EXPECT_TRUE(std::isnan(agricultural[0]) && std::isfinite(agricultural[years]));
  const auto inspect = test::run_incsim("inspect " + test::quoted(out));
  EXPECT_EQ(inspect.exit_status, 0);
  EXPECT_NE(inspect.out.find("poverty_guard insurance payouts"), std::string::npos);
  // The portfolio table: every point's row, and how far the shares moved.
  const auto table = inspect.out.find("portfolio shares, % of households");
  ASSERT_NE(table, std::string::npos) << inspect.out;
  EXPECT_NE(inspect.out.find("P1 = ", table), std::string::npos);
  EXPECT_NE(inspect.out.find("moved, pp", table), std::string::npos);
  const bool summary = inspect.out.find("largest move: ", table) != std::string::npos ||
                       inspect.out.find("the same at every point", table) != std::string::npos;
  EXPECT_TRUE(summary) << inspect.out.substr(table);
}

// ---- (4) kill and resume ----------------------------------------------------------------------

// Interrupts `incsim sweep` with `signal` once its sidecar holds a finished point.
int interrupt_sweep(const fs::path& sweep, const fs::path& out, int signal) {
  const fs::path sidecar = out.string() + ".points";
  auto finished_point = [&] {
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(sidecar, ec))
      if (e.path().filename().string().starts_with("point-") && e.path().extension() == ".h5")
        return true;
    return false;
  };
  return test::interrupt_incsim(
      {"sweep", sweep.string(), "-o", out.string(), "--threads", "2", "-q"}, out.string() + ".log",
      finished_point, signal);
}

TEST(Sweep, KilledOrInterruptedSweepResumesToTheSameFile) {
  const fs::path dir = test::fresh_dir();
  const fs::path sweep = dir / "sweep.yaml";
  test::write_file(sweep, "base: " + kScenarios +
                              "tongshan_double_insurance.yaml\n"
                              "set: {population.households: 300, scenario.replications: 60,\n"
                              "      insurance.income_index.fair_replications: 2000,\n"
                              "      choice.pilot_replications: 20}\n"
                              "mode: zip\n"
                              "parameters:\n"
                              "  markets.crayfish.volatility: [0.1, 0.2, 0.3, 0.4, 0.5, 0.6]\n"
                              "  insurance.income_index.loading: [0, 0.1, 0.2, 0.3, 0.4, 0.5]\n");
  const fs::path reference = dir / "reference.h5";
  ASSERT_EQ(
      test::run_incsim("sweep " + test::quoted(sweep) + " -o " + test::quoted(reference) + " -q")
          .exit_status,
      0);
  const auto expected = test::dataset_bytes(reference.string());

  for (const int signal : {SIGKILL, SIGINT}) {
    const fs::path out = dir / (signal == SIGKILL ? "killed.h5" : "interrupted.h5");
    const fs::path sidecar = out.string() + ".points";
    const int status = interrupt_sweep(sweep, out, signal);
    EXPECT_EQ(status, signal == SIGKILL ? -SIGKILL : 130) << test::read_file(out.string() + ".log");
    ASSERT_FALSE(fs::exists(out)) << "the sweep finished before it was interrupted";
    ASSERT_TRUE(fs::is_directory(sidecar));
    if (signal == SIGINT) {
      EXPECT_TRUE(leftovers(dir).empty()) << leftovers(dir).front();
      EXPECT_NE(test::read_file(out.string() + ".log").find("run the same command again"),
                std::string::npos);
    }
    const auto r =
        test::run_incsim("sweep " + test::quoted(sweep) + " -o " + test::quoted(out) + " -q");
    ASSERT_EQ(r.exit_status, 0) << r.err;
    EXPECT_NE(r.err.find("resuming"), std::string::npos) << r.err;
    EXPECT_NE(r.out.find("reused"), std::string::npos) << r.out;
    test::expect_same_datasets(expected, test::dataset_bytes(out.string()),
                               signal == SIGKILL ? "after SIGKILL" : "after SIGINT");
    EXPECT_FALSE(fs::exists(sidecar));
    EXPECT_TRUE(leftovers(dir).empty());
  }
}

// ---- (5) resume checks ------------------------------------------------------------------------

TEST(Sweep, ResumeRefusesAChangedBaseUnlessRestarted) {
  const fs::path dir = test::fresh_dir();
  const std::string base_text = test::read_file(kScenarios + "tongshan_no_insurance.yaml");
  test::write_file(dir / "base.yaml", base_text);
  test::write_file(dir / "sweep.yaml",
                   "base: base.yaml\n"
                   "set: {population.households: 100, scenario.replications: 10,\n"
                   "      choice.pilot_replications: 20}\n"
                   "parameters: {income.transfers_per_capita: [200, 300, 400]}\n");
  const fs::path out = dir / "out.h5";
  {  // stop after the first point, as a Ctrl-C would
    const SweepSpec spec = load_sweep((dir / "sweep.yaml").string());
    std::atomic<bool> stop{false};
    SweepOptions options;
    options.output = out.string();
    options.stop = &stop;
    options.on_event = [&](const SweepEvent& e) {
      if (e.kind == SweepEvent::finished) stop = true;
    };
    const SweepSummary summary = run_sweep(spec, options);
    ASSERT_FALSE(summary.complete);
    ASSERT_EQ(summary.computed, 1u);
  }
  test::write_file(dir / "base.yaml", base_text + "\n# edited\n");
  const std::string command =
      "sweep " + test::quoted(dir / "sweep.yaml") + " -o " + test::quoted(out) + " -q";
  const auto refused = test::run_incsim(command);
  EXPECT_EQ(refused.exit_status, 2);
  EXPECT_NE(refused.err.find("base scenario"), std::string::npos) << refused.err;
  EXPECT_NE(refused.err.find("--restart"), std::string::npos) << refused.err;
  EXPECT_FALSE(fs::exists(out));
  EXPECT_TRUE(fs::exists(out.string() + ".points/point-000000.h5"));
  const auto changed_set = test::run_incsim(command + " --set scenario.seed=9");
  EXPECT_EQ(changed_set.exit_status, 2);

  const auto restarted = test::run_incsim(command + " --restart");
  ASSERT_EQ(restarted.exit_status, 0) << restarted.err;
  EXPECT_NE(restarted.out.find("3 computed, 0 reused"), std::string::npos) << restarted.out;
  EXPECT_TRUE(fs::exists(out));
}

// Issue 14: resume trusts no point file by its name. Swapped, copied or truncated point files
// are recomputed (with a notice), and the result equals the uninterrupted sweep's.
TEST(Sweep, SwappedCopiedOrCorruptPointFilesAreRecomputedNotTrusted) {
  const fs::path dir = test::fresh_dir();
  test::write_file(dir / "sweep.yaml",
                   "base: " + kScenarios +
                       "tongshan_no_insurance.yaml\n"
                       "set: {population.households: 80, scenario.replications: 8,\n"
                       "      choice.pilot_replications: 10}\n"
                       "parameters: {income.transfers_per_capita: [200, 300, 400, 500, 600]}\n");
  const fs::path reference = dir / "reference.h5", out = dir / "out.h5";
  const std::string command = "sweep " + test::quoted(dir / "sweep.yaml") + " -q -o ";
  ASSERT_EQ(test::run_incsim(command + test::quoted(reference)).exit_status, 0);
  {  // stop after four points, as a Ctrl-C would
    const SweepSpec spec = load_sweep((dir / "sweep.yaml").string());
    std::atomic<bool> stop{false};
    SweepOptions options;
    options.output = out.string();
    options.stop = &stop;
    options.on_event = [&](const SweepEvent& e) {
      if (e.kind == SweepEvent::finished && e.done == 4) stop = true;
    };
    ASSERT_EQ(run_sweep(spec, options).computed, 4u);
  }
  const fs::path points = out.string() + ".points";
  auto point = [&](int k) { return points / ("point-00000" + std::to_string(k) + ".h5"); };
  fs::rename(point(0), dir / "swap.h5");  // 0 <-> 1 swapped
  fs::rename(point(1), point(0));
  fs::rename(dir / "swap.h5", point(1));
  fs::copy_file(point(3), point(2), fs::copy_options::overwrite_existing);  // 3 copied onto 2
  const std::string whole = test::read_file(point(3).string());
  test::write_file(point(3), whole.substr(0, whole.size() / 2));  // 3 truncated
  const auto r = test::run_incsim(command + test::quoted(out));
  ASSERT_EQ(r.exit_status, 0) << r.err;
  for (int k : {1, 2, 3, 4})
    EXPECT_NE(r.err.find("point " + std::to_string(k) + "/5: "), std::string::npos) << k << r.err;
  EXPECT_NE(r.err.find("is the file of point 2"), std::string::npos) << r.err;  // at 1
  EXPECT_NE(r.err.find("cannot be read"), std::string::npos) << r.err;          // at 4
  EXPECT_NE(r.out.find("5 computed, 0 reused"), std::string::npos) << r.out;
  test::expect_same_datasets(test::dataset_bytes(reference.string()),
                             test::dataset_bytes(out.string()), "after recomputing the bad points");
}

// Issue 14: two sweeps on one output would delete each other's files; the second is refused
// while the first holds the sidecar's lock, and touches nothing.
TEST(Sweep, ASecondSweepOnTheSameOutputIsRefused) {
  const fs::path dir = test::fresh_dir();
  test::write_file(dir / "sweep.yaml",
                   "base: " + kScenarios +
                       "tongshan_no_insurance.yaml\n"
                       "set: {population.households: 40, scenario.replications: 4,\n"
                       "      choice.pilot_replications: 5}\n"
                       "parameters: {income.transfers_per_capita: [200, 300]}\n");
  const fs::path out = dir / "out.h5";
  const fs::path lock = out.string() + ".points.lock";
  const int fd = open(lock.c_str(), O_RDWR | O_CREAT, 0644);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(flock(fd, LOCK_EX | LOCK_NB), 0);  // as a running sweep holds it
  for (const char* extra : {"", " --restart"}) {
    const auto r = test::run_incsim("sweep " + test::quoted(dir / "sweep.yaml") + " -q -o " +
                                    test::quoted(out) + extra);
    EXPECT_EQ(r.exit_status, 2) << extra << r.err;
    EXPECT_NE(r.err.find("another incsim sweep"), std::string::npos) << r.err;
    EXPECT_FALSE(fs::exists(out));
    EXPECT_FALSE(fs::exists(out.string() + ".points")) << "nothing is created or removed";
  }
  close(fd);
  const auto r =
      test::run_incsim("sweep " + test::quoted(dir / "sweep.yaml") + " -q -o " + test::quoted(out));
  EXPECT_EQ(r.exit_status, 0) << r.err;
  EXPECT_TRUE(fs::exists(out));
  EXPECT_FALSE(fs::exists(lock)) << "the lock file goes with the finished sweep";
}

// ---- (6) invalid sweep files ------------------------------------------------------------------

TEST(Sweep, InvalidSweepFilesNameTheirLineAndWriteNothing) {
  const fs::path dir = test::fresh_dir();
  const std::string base = "base: " + kScenarios + "tongshan_double_insurance.yaml\n";
  struct Case {
    std::string name, text;
    int line;
    std::string expected;
  };
  const std::vector<Case> cases = {
      {"unknown_path", base + "parameters:\n  markets.crayfish.volatilty: [0.1, 0.2]\n", 3,
       "did you mean 'volatility'"},
      {"unknown_product", base + "parameters:\n  insurance.income_indx.coverage: [0.7]\n", 3,
       "unknown key 'income_indx'"},
      {"non_scalar_target", base + "parameters:\n  markets: [1, 2]\n", 3, "a mapping"},
      {"non_scalar_value", base + "parameters:\n  markets.rice.price: [{a: 1}]\n", 3,
       "expected a single value"},
      {"empty_list", base + "parameters:\n  markets.rice.price: []\n", 3, "empty list"},
      {"zip_unequal",
       base + "mode: zip\nparameters:\n  markets.rice.price: [4, 5]\n"
              "  markets.crayfish.price: [30, 35, 40]\n",
       5, "equal length"},
      {"unknown_key", base + "mod: zip\nparameters: {markets.rice.price: [4]}\n", 2,
       "did you mean 'mode'"},
      {"bad_value", base + "parameters:\n  markets.rice.persistence: [0.5, 1.5]\n", 3, "1.5"},
      {"empty_overlays", base + "mode: stack\noverlays: []\n", 3, "at least one overlay"},
      {"unknown_mode", base + "mode: grd\nparameters: {markets.rice.price: [4]}\n", 2,
       "did you mean 'grid'"},
      {"missing_base", "parameters: {markets.rice.price: [4]}\n", 1, "base"},
  };
  for (const Case& c : cases) {
    const fs::path sweep = dir / (c.name + ".yaml"), out = dir / (c.name + ".h5");
    test::write_file(sweep, c.text);
    const auto r = test::run_incsim("sweep " + test::quoted(sweep) + " -o " + test::quoted(out));
    EXPECT_EQ(r.exit_status, 2) << c.name << "\n" << r.err;
    EXPECT_NE(r.err.find(sweep.string() + ":" + std::to_string(c.line) + ":"), std::string::npos)
        << c.name << "\n"
        << r.err;
    EXPECT_NE(r.err.find(c.expected), std::string::npos) << c.name << "\n" << r.err;
    EXPECT_FALSE(fs::exists(out)) << c.name;
    EXPECT_FALSE(fs::exists(out.string() + ".points")) << c.name;
  }
}

}  // namespace
}  // namespace incsim
