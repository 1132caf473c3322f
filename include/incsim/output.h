// Output (MODEL.md section 11): a run's results, its households, choice table and provenance
// as one HDF5 tree. Written from one thread after the parallel work.
#pragma once

#include <string>

#include "incsim/hdf5.h"
#include "incsim/model.h"
#include "incsim/stats.h"

namespace incsim {

// The current time as ISO 8601 UTC ("2026-12-02T14:05:59Z"): the created_utc attribute of every
// file incsim writes.
std::string utc_now();

// Writes `results` (and the model's households, choice table and provenance) to `path`
// atomically: a temporary file renamed on success, nothing left behind on failure.
void write_results(const std::string& path, const Model& model, const RunResults& results);

// Writes the same tree (attributes, scales and datasets) into `group` of an open file, e.g.
// /points/<k> of a sweep.
void write_results(h5::Group group, const Model& model, const RunResults& results);

}  // namespace incsim
