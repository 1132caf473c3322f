// Fuzzes the sweep-file reader: the input is the text of a sweep file, written to a scratch
// directory and read with load_sweep (the sweep's own keys, point expansion, overrides applied
// to the base scenario and every point's scenario loaded). The directory holds copies of the
// bundled run scenarios (the bases of scenarios/sweep_*.yaml), of the small synthetic
// tests/regression/scenarios/all_features_logit.yaml and of the csv fuzzer's scenario with its
// csv, so seed sweeps reach their bases. An invalid sweep must end in ScenarioError; anything
// else (a crash, another exception, an ASan/UBSan report, a leak) is a finding.
#include <cstddef>
#include <cstdint>
#include <string>

#include "fuzz_support.h"
#include "incsim/sweep.h"

namespace {
std::string sweep_path;
}

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  namespace fs = std::filesystem;
  using namespace incsim::fuzz;
  for (const fs::directory_entry& entry : fs::directory_iterator(source_dir() / "scenarios")) {
    const std::string name = entry.path().filename().string();
    if (entry.path().extension() == ".yaml" && !name.starts_with("sweep_"))
      copy_into_scratch(entry.path(), name);
  }
  copy_into_scratch(source_dir() / "tests/regression/scenarios/all_features_logit.yaml",
                    "all_features_logit.yaml");
  copy_into_scratch(source_dir() / "tests/fuzz/csv_scenario.yaml", "csv_scenario.yaml");
  copy_into_scratch(source_dir() / "tests/bad_inputs/data/households.csv", "households.csv");
  sweep_path = (scratch_dir() / "sweep.yaml").string();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  incsim::fuzz::write_file(sweep_path, reinterpret_cast<const char*>(data), size);
  try {
    const incsim::SweepSpec spec = incsim::load_sweep(sweep_path);
    if (spec.points.empty()) incsim::fuzz::fail("a valid sweep has no points");
    for (std::size_t k = 0; k < spec.points.size(); ++k) (void)spec.overrides_of(k);
  } catch (const incsim::ScenarioError&) {
    // The documented outcome of an invalid sweep file.
  }
  return 0;
}
