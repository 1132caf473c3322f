// Fuzzes the population csv reader: the input is the text of a households csv file, written
// to a scratch file and loaded through a fixed scenario whose population is
// {csv: households.csv} (tests/fuzz/csv_scenario.yaml, with the three insurance products, so
// the enrolled_* columns are read). A csv whose first line names a `main` column is loaded
// without a choice section (portfolios from the csv), any other with fixed portfolios, so that
// a valid csv of either kind loads. An invalid csv must end in ScenarioError; anything else (a
// crash, another exception, an ASan/UBSan report, a leak) is a finding.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_support.h"
#include "incsim/load.h"

namespace {

std::string csv_path;
std::string source_name;
std::string with_csv_portfolios;    // choice from the csv's main/aux columns
std::string with_fixed_portfolios;  // choice.portfolios given in the scenario

void load(const std::string& scenario_text) {
  try {
    const incsim::Scenario scenario = incsim::load_scenario_text(scenario_text, source_name);
    (void)incsim::describe(scenario);
  } catch (const incsim::ScenarioError&) {
  }
}

// The fixed scenarios must accept a valid csv, or every input would stop before the reader's
// checks across rows.
void require_valid(const std::string& scenario_text, const std::string& csv, const char* what) {
  using namespace incsim::fuzz;
  const std::string text = read_file(source_dir() / csv);
  write_file(csv_path, text);
  try {
    (void)incsim::load_scenario_text(scenario_text, source_name);
  } catch (const incsim::ScenarioError& e) {
    fail(std::string("tests/fuzz/csv_scenario.yaml ") + what + " rejects " + csv + ":\n" +
         e.what());
  }
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  using namespace incsim::fuzz;
  csv_path = (scratch_dir() / "households.csv").string();
  source_name = (scratch_dir() / "csv_scenario.yaml").string();
  with_csv_portfolios = read_file(source_dir() / "tests/fuzz/csv_scenario.yaml");
  with_fixed_portfolios = with_csv_portfolios +
                          "choice:\n"
                          "  rule: fixed\n"
                          "  portfolios:\n"
                          "    - {main: rice_crayfish_115, aux: chicken_135, share: 0.5}\n"
                          "    - {main: chicken_135, share: 0.2}\n";
  require_valid(with_csv_portfolios, "tests/bad_inputs/data/households.csv", "(csv main/aux)");
  require_valid(with_fixed_portfolios, "tests/regression/scenarios/csv_households.csv",
                "(with choice.portfolios)");
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  incsim::fuzz::write_file(csv_path, text.data(), text.size());
  const bool names_main = text.substr(0, text.find('\n')).find("main") != std::string_view::npos;
  load(names_main ? with_csv_portfolios : with_fixed_portfolios);
  return 0;
}
