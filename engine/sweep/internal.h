// Private to engine/sweep: the point files of the sidecar directory and the assembly of the
// sweep result from them.
//
// A point file holds, at its root, attributes naming the point (index, labels, overrides, the
// fingerprint of its scenario text) and
//   /table/<measure>   (R, T) per-replication values of every headline measure
//   /table/basis_<variant>/<tally>   (R, T) basis-risk tallies summed over the variant's
//                      covered industries (variants with basis-risk measures only)
//   /choice/labels, /choice/share   (P) the portfolios run at the point and their household
//                      shares (rows with a positive share)
//   /tree/             the full single-run tree (write_results into a group), unless table-only
// It is written under a temporary name and renamed when complete, so a point either exists
// whole or not at all.
#pragma once

#include <string>
#include <vector>

#include "incsim/engine.h"
#include "incsim/output.h"
#include "incsim/sweep.h"

namespace incsim::sweep_detail {

// A headline measure of the /sweep table (one (R, T) column of a point file's /table).
struct Measure {
  std::string name;
  std::string units;
  std::string description;
};

// Names of the basis-risk tallies (BasisTally order) in a point file's /table/basis_<variant>.
inline constexpr const char* kBasisTallyNames[kBasisTallies] = {
    "losses", "missed", "paid", "false_alarms", "compensated", "shortfall"};

// mean_income, fgt0, fgt1, fgt2, government_cost, target_risk, then payout_<product> for each
// product in `products` (names from kProductTable).
std::vector<Measure> headline_measures(const std::vector<std::string>& products);

// 64-bit FNV-1a of a text, as 16 hex digits: enough to notice that a text changed (not a
// security check).
std::string fingerprint(const std::string& text);

// Why the file at `path` cannot be used as point k of `spec` whose scenario (overrides
// applied) has the text `scenario_text`; empty if it can. A point file carries its index, its
// overrides and the fingerprint of its scenario, and its table must have the sweep's years
// and its own replications: a swapped, copied, foreign, truncated or unreadable file gives a
// reason (it is then recomputed).
std::string point_file_problem(const std::string& path, const SweepSpec& spec, std::size_t k,
                               const std::string& scenario_text);

// Writes point k's file atomically at `path`.
void write_point_file(const std::string& path, const SweepSpec& spec, std::size_t k,
                      const Model& model, const RunResults& results);
// The same file as the bytes of an in-memory HDF5 file (distributed sweeps).
std::vector<unsigned char> point_file_image(const SweepSpec& spec, std::size_t k,
                                            const Model& model, const RunResults& results);

// Builds `output` atomically from the point files (in point order): /points/<k> copied from
// each file's /tree (unless table-only), /sweep computed from the /table columns.
void assemble_sweep(const SweepSpec& spec, const std::vector<std::string>& point_files,
                    const std::string& output);

// Copies group `source_path` of file `source` to `target_path` of file `target` (created with
// its parents) and re-attaches every dimension scale inside the copy to the copied scales:
// H5Ocopy of HDF5 1.10 does not carry object references across files.
void copy_tree(hid_t source, const std::string& source_path, hid_t target,
               const std::string& target_path);

}  // namespace incsim::sweep_detail
