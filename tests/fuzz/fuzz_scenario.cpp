// Fuzzes the scenario loader: the input is the text of a scenario file, loaded with
// load_scenario_text (YAML reading, every section's validation, the csv population when the
// text names one) and, when valid, summarised with describe() as `incsim validate` does. An
// invalid scenario must end in ScenarioError; anything else (a crash, another exception, an
// ASan/UBSan report, a leak) is a finding. Relative csv paths resolve in a scratch directory
// holding copies of the test csv files, laid out as beside tests/bad_inputs/*.yaml (data/*.csv)
// and tests/regression/scenarios/*.yaml (csv_households.csv), so seed scenarios reach the csv
// reader.
#include <cstddef>
#include <cstdint>
#include <string>

#include "fuzz_support.h"
#include "incsim/load.h"

namespace {
std::string source_name;  // the scenario "file" the messages name; its directory is the scratch
}

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  namespace fs = std::filesystem;
  using namespace incsim::fuzz;
  for (const fs::directory_entry& entry :
       fs::directory_iterator(source_dir() / "tests/bad_inputs/data")) {
    if (entry.path().extension() == ".csv")
      copy_into_scratch(entry.path(), "data/" + entry.path().filename().string());
  }
  copy_into_scratch(source_dir() / "tests/regression/scenarios/csv_households.csv",
                    "csv_households.csv");
  source_name = (scratch_dir() / "scenario.yaml").string();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  try {
    const incsim::Scenario scenario = incsim::load_scenario_text(text, source_name);
    const std::string summary = incsim::describe(scenario);
    if (summary.empty()) incsim::fuzz::fail("describe() of a valid scenario is empty");
  } catch (const incsim::ScenarioError&) {
    // The documented outcome of an invalid scenario.
  }
  return 0;
}
