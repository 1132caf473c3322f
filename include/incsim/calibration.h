// Calibration files (MODEL.md section 12): a base scenario, the unobserved parameters to fit
// (scenario paths with bounds) and the observed targets (section 11 datasets with a year and
// group label). Read and validated here; `incsim calibrate` (incsim/calibrate.h) fits them.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "incsim/load.h"
#include "incsim/sweep.h"

namespace incsim {

enum class CalibrationMethod { bobyqa, neldermead, sbplx, cobyla };
const char* to_string(CalibrationMethod method);

struct CalibrationParameter {
  std::string path;  // dotted scenario path, as --set takes it
  double min = 0.0, max = 0.0;
  double start = 0.0;  // the midpoint of the bounds unless given
  int line = 0, column = 0;
};

struct CalibrationTarget {
  std::string measure;      // a section 11 dataset without the leading '/', e.g. poverty/fgt0
  std::optional<int> year;  // calendar year, for datasets by year
  std::string group;        // a label of the dataset's first dimension, for datasets by group
  double value = 0.0;
  double scale = 0.0;  // the value unless given (the miss is then relative)
  int line = 0, column = 0;
  std::string label() const;  // "poverty/fgt0 2019", "groups/poor/fgt0 poor 2019"
};

struct CalibrationSpec {
  std::string file;       // calibration file path as given
  std::string text;       // its text
  std::string base_file;  // base scenario path (relative to the calibration file's directory)
  std::string base_text;
  int replications = 0;        // per evaluation, the base's seed every time
  int check_replications = 0;  // the final check run at the fitted values
  int max_evaluations = 200;
  double tolerance = 1e-3;  // of each parameter's range: the optimiser's step at which it stops
  CalibrationMethod method = CalibrationMethod::bobyqa;
  std::vector<SweepOverride> fixed;    // `set:`, applied before the parameters
  std::vector<Override> command_line;  // --set on the command line, after `set:`
  std::vector<CalibrationParameter> parameters;
  std::vector<CalibrationTarget> targets;
  std::uint64_t seed = 0;  // of the base with the overrides
  int start_year = 0, years = 0;

  // The overrides of an evaluation at parameter values x (in the order of `parameters`) with
  // `replications` replications: fixed, command line, the parameters, the replications.
  std::vector<Override> overrides_at(const std::vector<double>& x, int replications) const;
};

// The text a parameter value is written as, in overrides and in the calibrated scenario: the
// shortest decimal that reads back as exactly x.
std::string parameter_text(double x);

// Reads and validates the calibration file: its keys, the base scenario, each parameter's
// bounds (the base loads with every parameter at its min, start and max) and the targets'
// shape (a target's dataset, year and group are checked against a run's layout by
// run_calibration). Throws ScenarioError listing every problem with file:line:column.
CalibrationSpec load_calibration(const std::string& path,
                                 const std::vector<Override>& command_line = {});

}  // namespace incsim
