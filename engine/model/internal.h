// Internal steps of build_model, split by concern (population, portfolios, fixed income).
#pragma once

#include <string>
#include <vector>

#include "incsim/model.h"

namespace incsim::detail {

void resize_households(Households& hh, std::size_t n);
int laborers_of(const HouseholdDistributions& pop, int size);
void generate_population(const Scenario& scenario, Households& hh,
                         std::vector<std::string>& village_labels);
void import_population(const Scenario& scenario, Households& hh,
                       std::vector<std::string>& village_labels);

// kernel_tables.cpp: Model::kernel from the households' portfolios, units and fixed income.
void build_kernel_tables(Model& model);

// insurance.cpp
void build_insurance(Model& model);   // needs markets, industries and hazards
void build_protection(Model& model);  // after build_insurance
void assign_enrollment(const Scenario& scenario, Households& hh);
}  // namespace incsim::detail
