// incsim calibrate (MODEL.md section 12): fits a calibration file's parameters to its targets
// with a derivative-free optimiser of NLopt, every evaluation a run of the base scenario on
// the same seed (common random numbers, so the objective is smooth in the parameters up to
// the steps of discrete draws). Every evaluation is kept in an HDF5 record, written after
// each one, from which an interrupted calibration resumes; the fit ends with a check run at
// more replications and the calibrated scenario: the base's text with the fitted values
// written at their keys.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "incsim/calibration.h"
#include "incsim/hdf5.h"

namespace incsim {

// One evaluation: the parameters, and per target the estimate and its Monte Carlo standard
// error; the objective sum_k ((estimate_k - value_k) / scale_k)^2.
struct CalibrationEvaluation {
  std::vector<double> x;
  double objective = 0.0;
  std::vector<double> estimate, standard_error;
  double seconds = 0.0;
};

// The objective of estimates (MODEL.md section 12).
double calibration_objective(const CalibrationSpec& spec, const std::vector<double>& estimate);

// The targets' estimates and standard errors read from a result tree (a run's file, or the
// in-memory file of an evaluation). Throws ScenarioError at the targets' lines when a target's
// dataset does not exist (with the nearest name), has no such year or group label, or needs
// one that is not given.
void read_target_estimates(const CalibrationSpec& spec, const h5::File& file,
                           std::vector<double>& estimate, std::vector<double>& standard_error);

// The base scenario at parameters x with `replications`, run as `incsim run` would run it,
// and its targets read back.
CalibrationEvaluation evaluate_calibration(const CalibrationSpec& spec,
                                           const std::vector<double>& x, int replications,
                                           int threads,
                                           std::atomic<std::int64_t>* progress = nullptr);

// The record belongs to another calibration (file, base, overrides or engine version changed).
class CalibrationMismatch : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct CalibrationEvent {
  // evaluated: an evaluation ran; reused: it was taken from the record (resume); checking: the
  // check run starts; checked: it finished.
  enum Kind { evaluated, reused, checking, checked } kind = evaluated;
  std::size_t evaluation = 0;  // 0-based
  double best = 0.0;           // the best objective so far
  const CalibrationEvaluation* current = nullptr;
};

struct CalibrationOptions {
  std::string output;  // the calibrated scenario
  std::string record;  // the HDF5 record of every evaluation
  int threads = 0;
  bool restart = false;  // discard a record of another calibration instead of refusing
  const std::atomic<bool>* stop = nullptr;  // set (SIGINT) to stop after the current evaluation
  std::atomic<std::int64_t>* progress = nullptr;  // replications of the current evaluation
  std::function<void(const CalibrationEvent&)> on_event;
  // Where evaluations run (MPI: across the ranks). Unset: evaluate_calibration here, with
  // `stop` checked before each. Set: called for every evaluation and the check run; an empty
  // result means stop (the hook checks for it, alike on every process).
  std::function<std::optional<CalibrationEvaluation>(const std::vector<double>& x,
                                                     int replications)>
      evaluate;
  // The record's bytes, read instead of the file `record` (MPI: rank 0 reads it and sends it
  // to the other ranks, which write nothing); an empty vector: no record yet.
  std::optional<std::vector<unsigned char>> record_image;
};

struct CalibrationResult {
  std::vector<CalibrationEvaluation> evaluations;  // in the optimiser's order
  std::size_t reused = 0;                          // of them, taken from the record
  std::size_t best = 0;                            // index of the lowest objective
  std::string stop_reason;                         // why the optimiser stopped
  bool complete = false;        // false when interrupted (the record is kept; run again to resume)
  CalibrationEvaluation check;  // at the fitted values, check_replications
  std::vector<bool> at_bound;   // per parameter: the fit lies on a bound
  std::vector<bool> missed;     // per target: the check misses by more than 3 SE
  std::string calibrated_text;  // what was written to options.output
};

// Fits, checks and writes options.output (atomically) and keeps options.record. Throws
// ScenarioError (bad targets), CalibrationMismatch, or what a run throws.
CalibrationResult run_calibration(const CalibrationSpec& spec, const CalibrationOptions& options);

// The check run's table (per target: value, estimate, standard error, miss in SE, MISSED beyond
// 3 SE) and the fitted values (AT A BOUND), every line starting with `prefix`: the calibrated
// scenario's header ("# ") and the command's output ("").
std::string calibration_table(const CalibrationSpec& spec, const CalibrationResult& result,
                              const std::string& prefix);

// The base scenario's text with each parameter's value written at its key (a key missing from
// the base is added under its nearest block mapping), preceded by `header` (comment lines).
// Verified: the text read back equals the base with the parameters set. Throws
// std::runtime_error when the values cannot be written in place.
std::string calibrated_scenario_text(const CalibrationSpec& spec, const std::vector<double>& x,
                                     const std::string& header);

}  // namespace incsim
