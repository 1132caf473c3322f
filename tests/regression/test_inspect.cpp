// `incsim inspect` end to end: the tables it prints carry the numbers stored in the file (read
// back here with the HDF5 helpers), insurance products appear only when configured, and a
// missing or foreign file is a clear failure with exit status 1 (usage errors: 2).
#include <gtest/gtest.h>

#include <hdf5.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <sstream>
#include <vector>

#include "incsim/hdf5.h"
#include "support.h"

namespace incsim {
namespace {

namespace fs = std::filesystem;

const std::string kScenario = std::string(INCSIM_SOURCE_DIR) + "/scenarios/xianning_2019.yaml";

std::string fmt(const char* format, double value) {
  char buf[64];
  std::snprintf(buf, sizeof buf, format, value);
  return buf;
}

// The block of `text` that starts with the line beginning with `title`, up to the next blank
// line; empty if there is no such block.
std::string section(const std::string& text, const std::string& title) {
  std::size_t at = text.find("\n" + title);
  if (at == std::string::npos) return "";
  ++at;
  const std::size_t end = text.find("\n\n", at);
  return text.substr(at, end == std::string::npos ? std::string::npos : end - at);
}

// The line of `block` whose first word is `key` (a year or a group label); empty if none.
std::string row(const std::string& block, const std::string& key) {
  std::istringstream in(block);
  for (std::string line; std::getline(in, line);) {
    std::istringstream words(line);
    std::string first;
    words >> first;
    if (first == key) return line;
  }
  return "";
}

// The line of `block` whose first two words are `key` and `second`; empty if none.
std::string row(const std::string& block, const std::string& key, const std::string& second) {
  std::istringstream in(block);
  for (std::string line; std::getline(in, line);) {
    std::istringstream words(line);
    std::string first, next;
    words >> first >> next;
    if (first == key && next == second) return line;
  }
  return "";
}

void expect_contains(const std::string& line, const std::string& value, const std::string& what) {
  EXPECT_NE(line.find(value), std::string::npos)
      << what << ": '" << value << "' not in '" << line << "'";
}

fs::path run_small(const std::string& extra) {
  const fs::path out = test::temp_path(".h5");
  fs::remove(out);
  const test::CommandResult r = test::run_incsim(
      "run " + test::shell_quote(kScenario) + " -o " + test::shell_quote(out.string()) +
      " -q --replications 40 --seed 11 --set population.households=150 " + extra);
  EXPECT_EQ(r.exit_status, 0) << r.err;
  return out;
}

TEST(Inspect, PrintsHeadlineTablesWithTheNumbersInTheFile) {
  const fs::path out = run_small("");
  const test::CommandResult r = test::run_incsim("inspect " + test::shell_quote(out.string()));
  ASSERT_EQ(r.exit_status, 0) << r.err;
  const std::string& text = r.out;

  const h5::File f = h5::File::open_read(out.string());
  EXPECT_NE(text.find("scenario      xianning-2019"), std::string::npos) << text;
  EXPECT_NE(text.find("seed          11\n"), std::string::npos) << text;
  EXPECT_NE(text.find("replications  40\n"), std::string::npos) << text;
  EXPECT_NE(text.find("households    150\n"), std::string::npos) << text;
  EXPECT_NE(text.find("persons       " +
                      std::to_string(h5::read_int64_attribute(f, "/", "persons")) + "\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("created       " + h5::read_string_attribute(f, "/", "created_utc")),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("scenario.seed=11"), std::string::npos) << text;

  const std::vector<std::int64_t> years = h5::read_int64s(f, "/year");
  ASSERT_EQ(years.size(), 5u);
  const auto mean = h5::read_doubles(f, "/income/mean"),
             mean_se = h5::read_doubles(f, "/income/mean_se");
  const auto levels = h5::read_doubles(f, "/quantile");
  const auto quantiles = h5::read_doubles(f, "/income/quantiles");
  const auto median_at = std::find(levels.begin(), levels.end(), 0.5) - levels.begin();
  ASSERT_LT(median_at, static_cast<long>(levels.size()));
  const auto fgt0 = h5::read_doubles(f, "/poverty/fgt0"),
             fgt0_se = h5::read_doubles(f, "/poverty/fgt0_se"),
             fgt2 = h5::read_doubles(f, "/poverty/fgt2"),
             relapse = h5::read_doubles(f, "/poverty/relapse"),
             risk = h5::read_doubles(f, "/poverty/target_risk");
  const auto cost = h5::read_doubles(f, "/fiscal/government_cost"),
             cost_se = h5::read_doubles(f, "/fiscal/government_cost_se");

  const std::string income = section(text, "Income per capita");
  const std::string poverty = section(text, "Poverty (FGT0");
  const std::string fiscal = section(text, "Government cost");
  ASSERT_FALSE(income.empty()) << text;
  ASSERT_FALSE(poverty.empty()) << text;
  ASSERT_FALSE(fiscal.empty()) << text;
  EXPECT_NE(poverty.find("P(FGT0>2%)"), std::string::npos) << poverty;
  for (std::size_t t = 0; t < years.size(); ++t) {
    const std::string year = std::to_string(years[t]);
    const std::string in = row(income, year), pov = row(poverty, year), fis = row(fiscal, year);
    expect_contains(in, fmt("%.1f", mean[t]) + " (" + fmt("%.1f", mean_se[t]) + ")", "mean income");
    expect_contains(in, fmt("%.0f", quantiles[t * levels.size() + median_at]), "median");
    expect_contains(pov, fmt("%.3f", 100 * fgt0[t]) + " (" + fmt("%.3f", 100 * fgt0_se[t]) + ")",
                    "FGT0");
    expect_contains(pov, fmt("%.3f", 100 * fgt2[t]), "FGT2");
    if (t > 0) expect_contains(pov, fmt("%.3f", 100 * relapse[t]), "relapse");
    expect_contains(pov, fmt("%.4f", risk[t]), "target risk");
    expect_contains(fis, fmt("%.0f", cost[t]) + " (" + fmt("%.0f", cost_se[t]) + ")",
                    "government cost");
  }
  const std::string relapse_first = row(poverty, std::to_string(years[0]));
  EXPECT_NE(relapse_first.find(" - "), std::string::npos)
      << "relapse in year 1 is NaN: " << relapse_first;
  EXPECT_NE(text.find(fmt("ever poor %.3f%%", 100 * h5::read_doubles(f, "/poverty/ever_poor")[0])),
            std::string::npos)
      << text;

  // Groups: every label of main_industry and poor with its headcount and mean income.
  for (const std::string grouping : {"main_industry", "poor"}) {
    const std::string title =
        grouping == "poor" ? "Groups by poor status" : "Groups by main industry";
    const std::string heads = section(text, title + ": headcount");
    const std::string incomes = section(text, title + ": mean income");
    ASSERT_FALSE(heads.empty()) << text;
    ASSERT_FALSE(incomes.empty()) << text;
    const auto labels = h5::read_strings(f, "/groups/" + grouping + "/labels");
    const auto g_fgt0 = h5::read_doubles(f, "/groups/" + grouping + "/fgt0");
    const auto g_income = h5::read_doubles(f, "/groups/" + grouping + "/income_mean");
    for (std::size_t g = 0; g < labels.size(); ++g) {
      const std::size_t last = g * years.size() + years.size() - 1;
      // A group without persons has no headcount or mean (NaN in the file): printed "-".
      expect_contains(row(heads, labels[g]),
                      std::isnan(g_fgt0[last]) ? " -" : fmt("%.3f", 100 * g_fgt0[last]), labels[g]);
      expect_contains(row(incomes, labels[g]),
                      std::isnan(g_income[last]) ? " -" : fmt("%.1f", g_income[last]), labels[g]);
    }
  }
  EXPECT_EQ(text.find("Insurance:"), std::string::npos) << "no insurance configured";
}

TEST(Inspect, PrintsInsuranceProductsWhenConfigured) {
  const fs::path out = run_small(
      "--set 'insurance={poverty_guard: {threshold: 1.5, cap: 10000, premium_per_capita: 40, "
      "subsidy: {poor: 1.0, other: 1.0}, enrollment: {poor: 1.0, other: 0.5}}}'");
  const test::CommandResult r = test::run_incsim("inspect " + test::shell_quote(out.string()));
  ASSERT_EQ(r.exit_status, 0) << r.err;
  const h5::File f = h5::File::open_read(out.string());
  const std::string block = section(r.out, "Insurance: poverty_guard");
  ASSERT_FALSE(block.empty()) << r.out;
  EXPECT_EQ(r.out.find("Insurance: agricultural"), std::string::npos) << r.out;
  const std::vector<std::int64_t> years = h5::read_int64s(f, "/year");
  const auto premium = h5::read_doubles(f, "/insurance/poverty_guard/premium");
  const auto payout = h5::read_doubles(f, "/insurance/poverty_guard/payout");
  const auto loss = h5::read_doubles(f, "/insurance/poverty_guard/loss_ratio");
  for (std::size_t t = 0; t < years.size(); ++t) {
    const std::string line = row(block, std::to_string(years[t]));
    expect_contains(line, fmt("%.0f", premium[t]), "premium");
    expect_contains(line, fmt("%.0f", payout[t]), "payout");
    expect_contains(line, fmt("%.3f", loss[t]), "loss ratio");
  }
}

// The basis-risk table: per product, covered industry and harvest year, missed, false alarm and
// covered in % with their standard errors as stored; then the CE gain per group.
TEST(Inspect, PrintsBasisRiskAndProtectionValueAsStored) {
  const fs::path out = test::temp_path(".h5");
  fs::remove(out);
  const test::CommandResult run =
      test::run_incsim("run " +
                       test::shell_quote(std::string(INCSIM_SOURCE_DIR) +
                                         "/scenarios/tongshan_double_insurance.yaml") +
                       " -o " + test::shell_quote(out.string()) +
                       " -q --replications 40 --set population.households=300");
  ASSERT_EQ(run.exit_status, 0) << run.err;
  const test::CommandResult r = test::run_incsim("inspect " + test::shell_quote(out.string()));
  ASSERT_EQ(r.exit_status, 0) << r.err;
  const std::string block = section(r.out, "Basis risk:");
  ASSERT_FALSE(block.empty()) << r.out;
  EXPECT_NE(block.find("revenue below 0.8 x expected revenue"), std::string::npos) << block;
  const h5::File f = h5::File::open_read(out.string());
  const std::vector<std::int64_t> years = h5::read_int64s(f, "/year");
  int rows_checked = 0;
  for (const std::string variant : {"agricultural", "income_index", "double"}) {
    const std::string base = "/insurance/" + variant + "/basis_risk/";
    const auto industries = h5::read_strings(f, base + "industries");
    ASSERT_FALSE(industries.empty()) << variant;
    // The variant's rows run from its heading line to the next heading (or the end).
    const std::size_t from = block.find("\n  " + variant + "\n");
    ASSERT_NE(from, std::string::npos) << variant << "\n" << block;
    std::size_t to = block.find("\n  ", from + 3 + variant.size());
    while (to != std::string::npos && block.compare(to, 5, "\n    ") == 0)
      to = block.find("\n  ", to + 1);
    const std::string rows = block.substr(from, to == std::string::npos ? to : to - from);
    const auto missed = h5::read_doubles(f, base + "missed"),
               missed_se = h5::read_doubles(f, base + "missed_se"),
               alarm = h5::read_doubles(f, base + "false_alarm"),
               covered = h5::read_doubles(f, base + "covered"),
               covered_se = h5::read_doubles(f, base + "covered_se");
    for (std::size_t i = 0; i < industries.size(); ++i)
      for (std::size_t t = 0; t < years.size(); ++t) {
        const std::size_t c = i * years.size() + t;
        const std::string key = industries[i] + " " + std::to_string(years[t]);
        const std::string line = row(rows, industries[i], std::to_string(years[t]));
        if (std::isnan(missed[c]) && std::isnan(alarm[c]) && std::isnan(covered[c])) {
          EXPECT_TRUE(line.empty()) << "no row without a value: " << key;
          continue;
        }
        ASSERT_FALSE(line.empty()) << variant << " " << key << "\n" << rows;
        if (!std::isnan(missed[c]))
          expect_contains(
              line, fmt("%.1f", 100 * missed[c]) + " (" + fmt("%.1f", 100 * missed_se[c]) + ")",
              variant + " missed");
        if (!std::isnan(alarm[c]))
          expect_contains(line, fmt("%.1f", 100 * alarm[c]), "false alarm");
        if (!std::isnan(covered[c]))
          expect_contains(
              line, fmt("%.1f", 100 * covered[c]) + " (" + fmt("%.1f", 100 * covered_se[c]) + ")",
              variant + " covered");
        ++rows_checked;
      }
  }
  EXPECT_GT(rows_checked, 10);
  const std::string value = section(r.out, "Protection value:");
  ASSERT_FALSE(value.empty()) << r.out;
  for (const std::string product : {"agricultural", "income_index", "double"}) {
    const auto gain = h5::read_doubles(f, "/insurance/" + product + "/ce_gain");
    const auto se = h5::read_doubles(f, "/insurance/" + product + "/ce_gain_se");
    const auto holders = h5::read_doubles(f, "/insurance/" + product + "/ce_holders");
    const std::string line = row(value, product);
    ASSERT_FALSE(line.empty()) << product << "\n" << value;
    for (std::size_t g = 0; g < gain.size(); ++g) {
      expect_contains(line, fmt("%.1f", gain[g]) + " (" + fmt("%.1f", se[g]) + ")", product);
      expect_contains(line, fmt("%.0f", holders[g]), product + " holders");
    }
  }
  // Without agricultural or income index insurance there is no basis-risk table.
  const fs::path guard_only = run_small(
      "--set 'insurance={poverty_guard: {threshold: 1.5, cap: 10000, premium_per_capita: 40, "
      "subsidy: {poor: 1.0, other: 1.0}, enrollment: {poor: 1.0, other: 0.5}}}'");
  const test::CommandResult g =
      test::run_incsim("inspect " + test::shell_quote(guard_only.string()));
  ASSERT_EQ(g.exit_status, 0) << g.err;
  EXPECT_EQ(g.out.find("Basis risk:"), std::string::npos) << g.out;
  EXPECT_FALSE(row(section(g.out, "Protection value:"), "poverty_guard").empty()) << g.out;
}

TEST(Inspect, MissingOrForeignFileExitsWithStatus1) {
  const fs::path missing = test::temp_path("_missing.h5");
  fs::remove(missing);
  const test::CommandResult r = test::run_incsim("inspect " + test::shell_quote(missing.string()));
  EXPECT_EQ(r.exit_status, 1);
  EXPECT_NE(r.err.find("no such file"), std::string::npos) << r.err;
  EXPECT_TRUE(r.out.empty()) << r.out;

  const fs::path text = test::temp_path(".txt");
  test::write_file(text, "not a result\n");
  const test::CommandResult t = test::run_incsim("inspect " + test::shell_quote(text.string()));
  EXPECT_EQ(t.exit_status, 1);
  EXPECT_NE(t.err.find("not a readable HDF5 file"), std::string::npos) << t.err;

  const fs::path other = test::temp_path(".h5");
  {
    h5::File f = h5::File::create(other.string());
    f.root().write<double>("x", std::vector<double>{1.0, 2.0});
  }
  const test::CommandResult o = test::run_incsim("inspect " + test::shell_quote(other.string()));
  EXPECT_EQ(o.exit_status, 1);
  EXPECT_NE(o.err.find("not an incsim result"), std::string::npos) << o.err;
}

// A small result (the csv regression scenario, 2 replications) for a test to corrupt; empty
// (with a failure recorded) if it could not be written.
fs::path small_result_to_edit() {
  const fs::path file = test::temp_path(".h5");
  const std::string scenario =
      std::string(INCSIM_SOURCE_DIR) + "/tests/regression/scenarios/csv_expected_utility.yaml";
  const test::CommandResult r =
      test::run_incsim("run " + test::shell_quote(scenario) + " --replications 2 -q -o " +
                       test::shell_quote(file.string()));
  EXPECT_EQ(r.exit_status, 0) << r.err;
  return r.exit_status == 0 ? file : fs::path();
}

// A crafted result whose `seed` attribute is an array of 4096 values: inspect read it into one
// uint64 and overwrote its stack (SIGSEGV). It must refuse the attribute by name instead.
TEST(Inspect, SeedAttributeThatIsAnArrayIsRefusedNotRead) {
  const fs::path file = small_result_to_edit();
  ASSERT_FALSE(file.empty());
  {
    const hid_t f = H5Fopen(file.string().c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
    ASSERT_GE(f, 0);
    ASSERT_GE(H5Adelete(f, "seed"), 0);
    const hsize_t n = 4096;
    const hid_t space = H5Screate_simple(1, &n, nullptr);
    const hid_t attr = H5Acreate2(f, "seed", H5T_NATIVE_UINT64, space, H5P_DEFAULT, H5P_DEFAULT);
    std::vector<std::uint64_t> values(n, 0x4141414141414141ull);
    ASSERT_GE(H5Awrite(attr, H5T_NATIVE_UINT64, values.data()), 0);
    H5Aclose(attr);
    H5Sclose(space);
    H5Fclose(f);
  }
  const test::CommandResult r = test::run_incsim("inspect " + test::shell_quote(file.string()));
  EXPECT_EQ(r.exit_status, 1) << r.err;
  EXPECT_NE(r.err.find("seed"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("expected 1"), std::string::npos) << r.err;
}

// Issue 14: a crafted result must not make inspect print another file of the machine. Its
// /income/mean replaced by an external link into another HDF5 file, or by a dataset whose raw
// data are stored in an external file, is refused, and the other file's numbers never appear.
TEST(Inspect, ExternalLinksAndExternalStorageAreRefused) {
  const std::string scenario =
      std::string(INCSIM_SOURCE_DIR) + "/tests/regression/scenarios/csv_expected_utility.yaml";
  const fs::path secret_h5 = test::temp_path("_secret.h5"), raw = test::temp_path("_secret.raw");
  {  // another file of the machine: doubles 424242.5
    const hid_t f = H5Fcreate(secret_h5.string().c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    const hsize_t n = 3;
    const hid_t space = H5Screate_simple(1, &n, nullptr);
    const hid_t d =
        H5Dcreate2(f, "data", H5T_NATIVE_DOUBLE, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    const double values[3] = {424242.5, 424242.5, 424242.5};
    H5Dwrite(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, values);
    H5Dclose(d);
    H5Sclose(space);
    H5Fclose(f);
    std::FILE* out = std::fopen(raw.string().c_str(), "wb");
    ASSERT_NE(out, nullptr);
    std::fwrite(values, sizeof values, 1, out);
    std::fclose(out);
  }
  for (const bool link : {true, false}) {
    const fs::path file = test::temp_path(link ? "_link.h5" : "_external.h5");
    ASSERT_EQ(test::run_incsim("run " + test::shell_quote(scenario) + " --replications 2 -q -o " +
                               test::shell_quote(file.string()))
                  .exit_status,
              0);
    std::vector<hsize_t> dims;
    const std::size_t years =
        h5::read_doubles(h5::File::open_read(file.string()), "/income/mean", &dims).size();
    ASSERT_EQ(years, 3u);
    {
      const hid_t f = H5Fopen(file.string().c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
      ASSERT_GE(f, 0);
      ASSERT_GE(H5Ldelete(f, "/income/mean", H5P_DEFAULT), 0);
      if (link) {
        ASSERT_GE(H5Lcreate_external(secret_h5.string().c_str(), "/data", f, "/income/mean",
                                     H5P_DEFAULT, H5P_DEFAULT),
                  0);
      } else {
        const hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
        ASSERT_GE(H5Pset_external(dcpl, raw.string().c_str(), 0, 3 * sizeof(double)), 0);
        const hsize_t n = 3;
        const hid_t space = H5Screate_simple(1, &n, nullptr);
        const hid_t d =
            H5Dcreate2(f, "/income/mean", H5T_NATIVE_DOUBLE, space, H5P_DEFAULT, dcpl, H5P_DEFAULT);
        ASSERT_GE(d, 0);
        H5Dclose(d);
        H5Sclose(space);
        H5Pclose(dcpl);
      }
      H5Fclose(f);
    }
    const test::CommandResult r = test::run_incsim("inspect " + test::shell_quote(file.string()));
    EXPECT_EQ(r.exit_status, 1) << r.out << r.err;
    EXPECT_EQ((r.out + r.err).find("424242"), std::string::npos) << r.out << r.err;
    EXPECT_NE(r.err.find(link ? "external or user-defined link" : "external files"),
              std::string::npos)
        << r.err;
  }
}

// Issue 14 (found by fuzz_inspect): a dataset whose declared extent the file does not hold (a
// few KB declaring 2^27 doubles, 1 GiB) is refused before anything of that size is allocated.
TEST(Inspect, DatasetLargerThanItsStorageIsRefusedBeforeAllocating) {
  const fs::path file = small_result_to_edit();
  ASSERT_FALSE(file.empty());
  {
    const hid_t f = H5Fopen(file.string().c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
    ASSERT_GE(f, 0);
    ASSERT_GE(H5Ldelete(f, "/income/mean", H5P_DEFAULT), 0);
    const hsize_t n = hsize_t{1} << 27;
    const hid_t space = H5Screate_simple(1, &n, nullptr);
    const hid_t d = H5Dcreate2(f, "/income/mean", H5T_NATIVE_DOUBLE, space, H5P_DEFAULT,
                               H5P_DEFAULT, H5P_DEFAULT);  // never written: no storage
    ASSERT_GE(d, 0);
    H5Dclose(d);
    H5Sclose(space);
    H5Fclose(f);
  }
  ASSERT_LT(fs::file_size(file), 10u << 20);
  const test::CommandResult r = test::run_incsim("inspect " + test::shell_quote(file.string()));
  EXPECT_EQ(r.exit_status, 1) << r.out << r.err;
  EXPECT_NE(r.err.find("declares 1073741824 bytes but the file stores 0"), std::string::npos)
      << r.err;
}

// Issue 14 (found by fuzz_inspect): a file on which libhdf5 itself crashes (Debian 12's
// 1.10.8 overflows a buffer in H5HG_read on this corrupt global heap) is reported as corrupt
// with status 1: inspect reads in a child process and prints nothing partial.
TEST(Inspect, AFileThatCrashesTheHdf5LibraryIsReportedNotACrash) {
  const std::string file =
      std::string(INCSIM_SOURCE_DIR) + "/tests/fuzz/known_libhdf5/h5hg_read_overflow_sweep_result";
  const test::CommandResult r = test::run_incsim("inspect " + test::shell_quote(file));
  EXPECT_EQ(r.exit_status, 1) << r.out << r.err;  // -1 would be a crash of incsim itself
  EXPECT_EQ(r.out, "") << "nothing partial";
  EXPECT_NE(r.err.find("incsim inspect: "), std::string::npos) << r.err;
}

// Terminal columns of a UTF-8 line: CJK ideographs take two (independent of inspect's own
// display_width: code points U+2E80..U+9FFF counted as wide).
std::size_t columns(const std::string& line) {
  std::size_t width = 0;
  for (std::size_t i = 0; i < line.size();) {
    const auto b = static_cast<unsigned char>(line[i]);
    const std::size_t n = b >= 0xF0 ? 4 : b >= 0xE0 ? 3 : b >= 0xC0 ? 2 : 1;
    std::uint32_t cp = n == 1 ? b : n == 2 ? b & 0x1F : n == 3 ? b & 0x0F : b & 0x07;
    for (std::size_t k = 1; k < n; ++k)
      cp = (cp << 6) | (static_cast<unsigned char>(line[i + k]) & 0x3F);
    width += cp >= 0x2E80 && cp <= 0x9FFF ? 2 : 1;
    i += n;
  }
  return width;
}

// Issue 16: a Chinese industry name keeps the group table's columns aligned; a group without
// persons prints "-" (not nan); FGT1 and FGT2 are labelled as indices, not "% of persons".
TEST(Inspect, ChineseNamesAlignEmptyGroupsShowADashAndFgtUnitsAreRight) {
  std::string text =
      test::read_file(std::string(INCSIM_SOURCE_DIR) + "/scenarios/tongshan_double_insurance.yaml");
  for (std::size_t at; (at = text.find("perilla_114")) != std::string::npos;)
    text.replace(at, 11, "紫苏_114");
  const fs::path scenario = test::temp_path("inspect_chinese.yaml");
  test::write_file(scenario, text);
  const fs::path out = test::temp_path("inspect_chinese.h5");
  const test::CommandResult run = test::run_incsim(
      "run " + test::shell_quote(scenario.string()) + " -o " + test::shell_quote(out.string()) +
      " -q --replications 10 --set population.households=300 --set choice.pilot_replications=4");
  ASSERT_EQ(run.exit_status, 0) << run.err;
  const test::CommandResult r = test::run_incsim("inspect " + test::shell_quote(out.string()));
  ASSERT_EQ(r.exit_status, 0) << r.err;
  const std::string block = section(r.out, "Groups by main industry: headcount");
  ASSERT_NE(row(block, "紫苏_114"), "") << block;
  std::istringstream lines(block);
  std::string line;
  std::getline(lines, line);  // the title
  std::getline(lines, line);  // the header
  const std::size_t width = columns(line);
  int rows = 0, empty = 0;
  while (std::getline(lines, line)) {
    if (line.rfind("  (", 0) == 0) continue;  // the note under the table
    EXPECT_EQ(columns(line), width) << "misaligned: '" << line << "'";
    EXPECT_EQ(line.find("nan"), std::string::npos) << line;
    std::istringstream words(line);
    std::string label, persons;
    words >> label >> persons;
    if (persons == "0") {
      ++empty;
      EXPECT_NE(line.find(" -"), std::string::npos) << line;
    }
    ++rows;
  }
  EXPECT_EQ(rows, 7);
  EXPECT_GT(empty, 0) << "the scenario at 300 households leaves an industry unused:\n" << block;
  EXPECT_NE(r.out.find("(-: no persons in the group)"), std::string::npos);
  const std::string poverty = section(r.out, "Poverty");
  EXPECT_NE(poverty.find("FGT1 gap and FGT2 severity: index x 100"), std::string::npos) << poverty;
  EXPECT_EQ(poverty.find("Poverty, % of persons"), std::string::npos) << poverty;
}

TEST(Inspect, UsageErrorsExitWithStatus2) {
  EXPECT_EQ(test::run_incsim("inspect").exit_status, 2);
  EXPECT_EQ(test::run_incsim("inspect a.h5 b.h5").exit_status, 2);
  EXPECT_EQ(test::run_incsim("inspect --help").exit_status, 0);
}

}  // namespace
}  // namespace incsim
