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

// model.cpp: everything but the portfolios (every household runs none).
Model build_population_model(const Scenario& scenario);

// insurance.cpp
void build_insurance(Model& model);  // needs markets, industries and hazards
void assign_enrollment(const Scenario& scenario, Households& hh);
struct HouseholdPremiums {
  double household = 0.0;   // the household's share, yuan
  double government = 0.0;  // premium subsidies, yuan
};
HouseholdPremiums premiums_due(Model& model, std::size_t h, int t);

}  // namespace incsim::detail
