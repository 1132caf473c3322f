// Issue 16: `incsim compare` (paired standard errors equal to a sweep's for the same two
// points, bit for bit; unpaired when the seeds differ) and `incsim export` (tidy csv tables
// that read back to the result's values exactly).
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "incsim/hdf5.h"
#include "support.h"

namespace incsim {
namespace {

namespace fs = std::filesystem;

const std::string kScenarios = std::string(INCSIM_SOURCE_DIR) + "/scenarios/";
// Small and fast: the sweep's fixed overrides and the runs' share them.
const std::string kSmall =
    " --set scenario.replications=40 --set population.households=1000"
    " --set choice.pilot_replications=4 --threads 2 -q";

// A csv file as rows of fields (no quoted commas in the columns these tests read).
std::vector<std::map<std::string, std::string>> read_csv(const fs::path& path) {
  std::istringstream in(test::read_file(path));
  std::string line;
  std::getline(in, line);
  std::vector<std::string> header;
  std::stringstream head(line);
  for (std::string field; std::getline(head, field, ',');) header.push_back(field);
  std::vector<std::map<std::string, std::string>> rows;
  while (std::getline(in, line)) {
    std::map<std::string, std::string> row;
    std::stringstream fields(line);
    std::size_t i = 0;
    for (std::string field; std::getline(fields, field, ',') && i < header.size(); ++i)
      row[header[i]] = field;
    rows.push_back(row);
  }
  return rows;
}

std::string run_file(const std::string& name, const std::string& extra) {
  const fs::path out = test::temp_path(name + ".h5");
  const test::CommandResult r =
      test::run_incsim("run " + test::shell_quote(kScenarios + "tongshan_double_insurance.yaml") +
                       kSmall + extra + " -o " + test::shell_quote(out.string()));
  EXPECT_EQ(r.exit_status, 0) << r.err;
  return out.string();
}

TEST(Compare, PairedStandardErrorsEqualTheSweepsForTheSamePoints) {
  const fs::path sweep = test::temp_path("compare_sweep.h5");
  const test::CommandResult s =
      test::run_incsim("sweep " + test::shell_quote(kScenarios + "sweep_index_coverage.yaml") +
                       kSmall + " --table-only -o " + test::shell_quote(sweep.string()));
  ASSERT_EQ(s.exit_status, 0) << s.err;
  // Point 0 (coverage 0.6, subsidy 0) and point 10 (coverage 0.9, subsidy 0.5): grid order,
  // the first parameter varying slowest.
  const std::string a = run_file("compare_p0",
                                 " --set insurance.income_index.coverage=0.6"
                                 " --set insurance.income_index.subsidy.other=0");
  const std::string b = run_file("compare_p10",
                                 " --set insurance.income_index.coverage=0.9"
                                 " --set insurance.income_index.subsidy.other=0.5");
  const fs::path csv = test::temp_path("compare_p0_p10.csv");
  const test::CommandResult c =
      test::run_incsim("compare " + test::shell_quote(a) + " " + test::shell_quote(b) + " --csv " +
                       test::shell_quote(csv.string()));
  ASSERT_EQ(c.exit_status, 0) << c.err;
  EXPECT_NE(c.out.find("standard errors: paired"), std::string::npos) << c.out;

  h5::File f = h5::File::open_read(sweep.string());
  const std::size_t k = 10, years = 5;
  std::map<std::string, int> checked;
  for (const auto& row : read_csv(csv)) {
    const std::string& m = row.at("measure");
    if (m == "payout_agricultural" || m == "payout_poverty_guard") continue;
    const std::size_t t = static_cast<std::size_t>(std::stoi(row.at("year")) - 2019);
    const std::vector<double> diff = h5::read_doubles(f, "/sweep/" + m + "_diff");
    const std::vector<double> diff_se = h5::read_doubles(f, "/sweep/" + m + "_diff_se");
    ASSERT_EQ(diff.size(), 15 * years) << m;
    EXPECT_EQ(row.at("paired"), "1") << m;
    // Exactly: the same per-replication rows, the same function, the same order.
    EXPECT_EQ(std::stod(row.at("difference_se")), diff_se[k * years + t]) << m << " " << t;
    EXPECT_EQ(std::stod(row.at("difference")), diff[k * years + t]) << m << " " << t;
    EXPECT_GT(std::stod(row.at("difference_se")), 0.0) << m << " " << t;
    ++checked[m];
  }
  for (const char* m :
       {"mean_income", "fgt0", "fgt1", "fgt2", "government_cost", "payout_income_index"})
    EXPECT_EQ(checked[m], 5) << m;
}

TEST(Compare, UnpairedWhenTheSeedsDifferAndZeroAgainstItself) {
  const std::string a = run_file("compare_seed_a", "");
  const std::string b = run_file("compare_seed_b", " --seed 7");
  const fs::path csv = test::temp_path("compare_seeds.csv");
  const test::CommandResult c =
      test::run_incsim("compare " + test::shell_quote(a) + " " + test::shell_quote(b) + " --csv " +
                       test::shell_quote(csv.string()));
  ASSERT_EQ(c.exit_status, 0) << c.err;
  EXPECT_NE(c.out.find("unpaired, sqrt(se_A^2 + se_B^2), because the seeds differ"),
            std::string::npos)
      << c.out;
  int rows = 0;
  for (const auto& row : read_csv(csv)) {
    const double sa = std::stod(row.at("a_se")), sb = std::stod(row.at("b_se"));
    EXPECT_EQ(row.at("paired"), "0");
    EXPECT_EQ(std::stod(row.at("difference_se")), std::sqrt(sa * sa + sb * sb));
    EXPECT_EQ(std::stod(row.at("difference")), std::stod(row.at("b")) - std::stod(row.at("a")));
    ++rows;
  }
  EXPECT_GE(rows, 25);

  const fs::path self = test::temp_path("compare_self.csv");
  const test::CommandResult same =
      test::run_incsim("compare " + test::shell_quote(a) + " " + test::shell_quote(a) + " --csv " +
                       test::shell_quote(self.string()));
  ASSERT_EQ(same.exit_status, 0) << same.err;
  for (const auto& row : read_csv(self)) {
    EXPECT_EQ(row.at("difference"), "0") << row.at("measure");
    EXPECT_EQ(row.at("difference_se"), "0") << row.at("measure");
    EXPECT_EQ(row.at("paired"), "1");
  }
}

TEST(Compare, RefusesWhatIsNotTwoRunResults) {
  const std::string a = run_file("compare_refuse", "");
  const fs::path text = test::temp_path("compare_not_h5.txt");
  test::write_file(text, "not a result\n");
  const test::CommandResult r =
      test::run_incsim("compare " + test::shell_quote(a) + " " + test::shell_quote(text.string()));
  EXPECT_EQ(r.exit_status, 1);
  EXPECT_NE(r.err.find("is not a readable HDF5 file"), std::string::npos) << r.err;
  EXPECT_EQ(r.out, "") << "nothing partial";
  const fs::path sweep = test::temp_path("compare_refuse_sweep.h5");
  ASSERT_EQ(
      test::run_incsim("sweep " + test::shell_quote(kScenarios + "sweep_insurance_stack.yaml") +
                       kSmall + " --table-only -o " + test::shell_quote(sweep.string()))
          .exit_status,
      0);
  const test::CommandResult s =
      test::run_incsim("compare " + test::shell_quote(a) + " " + test::shell_quote(sweep.string()));
  EXPECT_EQ(s.exit_status, 1);
  EXPECT_NE(s.err.find("is a sweep result"), std::string::npos) << s.err;
  // --csv naming an input is refused before anything is read.
  const test::CommandResult over =
      test::run_incsim("compare " + test::shell_quote(a) + " " + test::shell_quote(a) + " --csv " +
                       test::shell_quote(a));
  EXPECT_EQ(over.exit_status, 2) << over.err;
  EXPECT_TRUE(h5::File::open_read(a).id() >= 0) << "the input survives";
}

TEST(Export, TidyTablesReadBackToTheResultsValues) {
  const std::string a = run_file("export_run", "");
  const fs::path dir = test::temp_path("export_run_csv");
  fs::remove_all(dir);
  const test::CommandResult r = test::run_incsim("export " + test::shell_quote(a) + " --csv " +
                                                 test::shell_quote(dir.string()));
  ASSERT_EQ(r.exit_status, 0) << r.err;
  h5::File f = h5::File::open_read(a);

  const std::vector<double> fgt0 = h5::read_doubles(f, "/poverty/fgt0");
  const std::vector<double> fgt0_se = h5::read_doubles(f, "/poverty/fgt0_se");
  int found = 0;
  for (const auto& row : read_csv(dir / "poverty.csv")) {
    if (row.at("variable") != "fgt0") continue;
    const std::size_t t = static_cast<std::size_t>(std::stoi(row.at("year")) - 2019);
    EXPECT_EQ(std::stod(row.at("value")), fgt0[t]);
    EXPECT_EQ(std::stod(row.at("se")), fgt0_se[t]);
    ++found;
  }
  EXPECT_EQ(found, 5);

  const std::vector<double> group = h5::read_doubles(f, "/groups/poor/fgt0");  // (2, T)
  const std::vector<std::string> labels = h5::read_strings(f, "/groups/poor/labels");
  found = 0;
  for (const auto& row : read_csv(dir / "groups_poor.csv")) {
    if (row.at("variable") != "fgt0") continue;
    const std::size_t g = row.at("group_poor") == labels[0] ? 0 : 1;
    ASSERT_EQ(row.at("group_poor"), labels[g]);
    const std::size_t t = static_cast<std::size_t>(std::stoi(row.at("year")) - 2019);
    EXPECT_EQ(std::stod(row.at("value")), group[g * 5 + t]);
    ++found;
  }
  EXPECT_EQ(found, 10);

  const std::vector<double> reps = h5::read_doubles(f, "/replications/mean_income");
  const auto rows = read_csv(dir / "replications.csv");
  ASSERT_EQ(rows.size(), reps.size());
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const std::size_t rep = static_cast<std::size_t>(std::stoi(rows[i].at("replication")));
    const std::size_t t = static_cast<std::size_t>(std::stoi(rows[i].at("year")) - 2019);
    EXPECT_EQ(std::stod(rows[i].at("mean_income")), reps[rep * 5 + t]);
  }
  const auto households = read_csv(dir / "households.csv");
  const std::vector<double> size = h5::read_doubles(f, "/households/size");
  ASSERT_EQ(households.size(), 1000u);
  for (std::size_t h = 0; h < households.size(); ++h)
    EXPECT_EQ(std::stod(households[h].at("size")), size[h]);
  EXPECT_EQ(read_csv(dir / "household_years.csv").size(), 1000u * 5);
  for (const auto& entry : fs::directory_iterator(dir))
    EXPECT_EQ(entry.path().filename().string().find(".tmp-"), std::string::npos) << entry.path();
}

TEST(Export, SweepTableCarriesTheParametersAndPairedErrors) {
  const fs::path sweep = test::temp_path("export_sweep.h5");
  ASSERT_EQ(
      test::run_incsim("sweep " + test::shell_quote(kScenarios + "sweep_index_coverage.yaml") +
                       kSmall + " --table-only -o " + test::shell_quote(sweep.string()))
          .exit_status,
      0);
  const fs::path dir = test::temp_path("export_sweep_csv");
  fs::remove_all(dir);
  ASSERT_EQ(test::run_incsim("export " + test::shell_quote(sweep.string()) + " --csv " +
                             test::shell_quote(dir.string()))
                .exit_status,
            0);
  h5::File f = h5::File::open_read(sweep.string());
  const std::vector<double> diff_se = h5::read_doubles(f, "/sweep/fgt0_diff_se");
  const std::vector<double> coverage =
      h5::read_doubles(f, "/sweep/insurance.income_index.coverage");
  int found = 0;
  for (const auto& row : read_csv(dir / "sweep.csv")) {
    if (row.at("variable") != "fgt0") continue;
    const std::size_t k = static_cast<std::size_t>(std::stoi(row.at("point")));
    const std::size_t t = static_cast<std::size_t>(std::stoi(row.at("year")) - 2019);
    EXPECT_EQ(std::stod(row.at("diff_se")), diff_se[k * 5 + t]);
    EXPECT_EQ(std::stod(row.at("insurance.income_index.coverage")), coverage[k]);
    ++found;
  }
  EXPECT_EQ(found, 15 * 5);
}

TEST(Export, RefusesAFileAsDirectoryAndANonResult) {
  const std::string a = run_file("export_refuse", "");
  const fs::path file = test::temp_path("export_refuse_file");
  test::write_file(file, "x");
  const test::CommandResult r = test::run_incsim("export " + test::shell_quote(a) + " --csv " +
                                                 test::shell_quote(file.string()));
  EXPECT_EQ(r.exit_status, 2) << r.err;
  EXPECT_NE(r.err.find("is not a directory"), std::string::npos) << r.err;
  EXPECT_EQ(test::read_file(file), "x") << "left as it was";
  const test::CommandResult n =
      test::run_incsim("export " + test::shell_quote(file.string()) + " --csv " +
                       test::shell_quote(test::temp_path("export_n").string()));
  EXPECT_EQ(n.exit_status, 1) << n.err;
}

}  // namespace
}  // namespace incsim
