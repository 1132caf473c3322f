// Private to engine/scenario: the entries of the scenario key table (key_table.cpp), which
// keys.cpp indexes for the loader and for `incsim schema`.
#pragma once

#include <vector>

#include "incsim/keys.h"

namespace incsim::scenario_detail {

// Every entry, parents before their children (built once, by keys.cpp's index).
std::vector<ScenarioKey> scenario_key_entries();

}  // namespace incsim::scenario_detail
