// Partial results (MODEL.md section 13): the exact accumulators, per-replication rows and sample
// paths of one replication range of a run, as a versioned HDF5 file, and their merge into the
// run's results. A part names the run it belongs to (scenario text, overrides, seed,
// replications, part i of N, its range) and carries a fingerprint of the model it simulated
// (population, chosen portfolios, premiums), so a merge refuses parts of different runs, of a
// different engine version or of a model built differently. Every sum in a part is exact
// (fixed point, integer counts, minima and maxima), so the merge does not depend on the order
// the parts arrive in: the merged results are bit for bit those of the unsplit run.
//
// Layout (format 1): root attributes kind = "incsim part", part_format, incsim_version,
// scenario, scenario_file, overrides, seed, replications, years, households, part (1-based),
// parts, begin, end, model_fingerprint, created_utc; /accumulator/... (the Accumulator's exact
// sums, 128-bit integers as (n, 2) int64: low and high 64 bits); /table/year_columns (C, rows x
// T), /table/prices, /table/ever_poor, /table/two_consecutive_poor_ever (the part's rows);
// /sample_paths (its replications' sample-path slots).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "incsim/engine.h"
#include "incsim/model.h"

namespace incsim {

// 2: the protection value's exact sums group-major, (kGroups, members, columns); 1 kept them
// (members, columns, kGroups). A part of another format is refused, never read in this order.
inline constexpr std::int64_t kPartFormat = 2;

// What a part file says about its run, readable before the model is built.
struct PartHeader {
  std::string path;
  std::string incsim_version;
  std::int64_t format = 0;
  std::string scenario_text, scenario_file;
  // The scenario file as an absolute path when the part ran: files the scenario names (a
  // population csv) are found relative to it, wherever the merge runs.
  std::string scenario_path;
  std::vector<std::string> overrides;
  std::uint64_t seed = 0;
  std::int64_t replications = 0, years = 0, households = 0;
  int part = 0, parts = 0;  // part of parts, 1-based
  std::int64_t begin = 0, end = 0;
  std::string model_fingerprint;
};

// 16 hex digits of a 64-bit FNV-1a hash of the model's inputs and derived tables: engine
// version, scenario text as run, households and their endowments, chosen portfolios and
// enrollments, fixed incomes, premiums and rates. Two processes that built the same model
// agree; a changed csv, another version or a different choice outcome does not.
std::string model_fingerprint(const Model& model);

// Writes `part` (replications [part.begin, part.end) of `model`, part `index` of `parts`,
// 1-based) to `path` atomically.
void write_part(const std::string& path, const Model& model, const RunPart& part, int index,
                int parts);

// The same part as the bytes of an in-memory HDF5 file, to send between processes (MPI), and
// read back; `name` labels it in messages.
std::vector<unsigned char> part_image(const Model& model, const RunPart& part, int index,
                                      int parts);
RunPart read_part_image(const std::vector<unsigned char>& image, const std::string& name,
                        const Model& model);

// The same part as a message between processes of one job that built the same model (MPI):
// its ranges, the accumulator's exact arrays and its rows as they are in memory, after a mark,
// the byte order and the model's fingerprint (`fingerprint`, model_fingerprint(model), which the
// caller has at hand). Every length is checked on reading against the model; a message from
// another model, another byte order or of another shape is refused (std::runtime_error naming
// `name`). Not a file format: only between processes of one incsim build.
std::vector<unsigned char> part_message(const Model& model, const RunPart& part,
                                        const std::string& fingerprint);
RunPart read_part_message(const std::vector<unsigned char>& bytes, const std::string& name,
                          const Model& model, const std::string& fingerprint);

// The header of a part file; throws std::runtime_error naming the file if it is not one.
PartHeader read_part_header(const std::string& path);

// The part's sums and rows, checked against `model` (fingerprint, shapes); throws
// std::runtime_error naming the file.
RunPart read_part(const std::string& path, const Model& model);

// Checks that `headers` are the parts 1..N of one run, each once (any order); returns them
// sorted by part, or throws std::runtime_error saying what is missing, duplicated or
// mismatched, naming the files.
std::vector<PartHeader> check_parts(std::vector<PartHeader> headers);

}  // namespace incsim
