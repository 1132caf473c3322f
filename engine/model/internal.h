// Internal steps of build_model, split by concern (population, portfolios, fixed income).
#pragma once

#include <string>
#include <vector>

#include "incsim/model.h"

namespace incsim::detail {

void resize_households(Households& hh, std::size_t n);
int laborers_of(const Population& pop, int size);
void generate_population(const Scenario& scenario, Households& hh,
                         std::vector<std::string>& village_labels);
void import_population(const Scenario& scenario, Households& hh,
                       std::vector<std::string>& village_labels);

}  // namespace incsim::detail
