// Test helpers that run the simulation kernel directly.
#pragma once

#include <vector>

#include "incsim/model.h"
#include "incsim/simulate.h"

namespace incsim::test {

// Farm net income of every household in every replication, [t - 1][r * H + h].
inline std::vector<std::vector<double>> farm_net_by_year(const Model& model) {
  const Kernel kernel(model);
  Workspace ws(model);
  std::vector<std::vector<double>> out(model.years);
  for (std::int64_t r = 0; r < model.replications; ++r)
    kernel.run_replication(r, ws, [&](const YearOutcome& y) {
      for (double v : y.farm_net_income) out[y.year - 1].push_back(v);
    });
  return out;
}

}  // namespace incsim::test
