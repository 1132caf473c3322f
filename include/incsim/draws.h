// The address of every random draw (MODEL.md section 10): which stream, and which `index`
// word of the Philox counter {unit, replication, year, index} serves which purpose. These
// numbers are part of the reproducibility contract: a given seed gives the same shocks in
// every version that keeps this table. Add new purposes; never renumber.
#pragma once

#include <cstdint>

namespace incsim::draws {

// Stream::population, unit = household, replication = year = 0.
inline constexpr std::uint32_t kPopulationAttributes = 0;  // w0 size, w1 poor
inline constexpr std::uint32_t kPopulationResources = 1;   // normals: farmland, forest, capital

// Stream::enrollment, unit = household, replication = year = 0.
inline constexpr std::uint32_t kPublicPost = 0;  // w0
inline constexpr std::uint32_t kEnrollment = 1;  // w0 agricultural, w1 income index, w2 guard,
                                                 // w3 dibao take-up

// Stream::choice, unit = household, replication = year = 0.
inline constexpr std::uint32_t kFixedPortfolio = 0;    // w0
inline constexpr std::uint32_t kLogitPortfolio = 1;    // w0
inline constexpr std::uint32_t kCapacityPriority = 2;  // w0: u_h, served in ascending order (v2)

// Stream::replication (also Stream::choice_pilot), replication = r, year = t (1-based).
// Prices: unit = market, one normal pair per market-year.
inline constexpr std::uint32_t kPriceInnovation = 0;
// Wages: unit = household; block k serves laborers 2k and 2k+1: the Box-Muller pair of
// (w0, w1) gives their wage normals (cos, sin), w2 and w3 their employment uniforms.
inline constexpr std::uint32_t kWage = 0x100;  // + k
// Yields: unit = household; block k of industry i gives the normals of products 4k..4k+3:
// Box-Muller pairs (w0, w1) -> products 4k (cos), 4k+1 (sin); (w2, w3) -> 4k+2, 4k+3.
inline constexpr std::uint32_t kYieldBase = 0x10000;  // + i * 0x100 + k
inline constexpr std::uint32_t yield_index(int industry, int product_block) {
  return kYieldBase + static_cast<std::uint32_t>(industry) * 0x100u +
         static_cast<std::uint32_t>(product_block);
}

// Hazards: unit = the scope unit (0 for county, the village index, or the household index).
// Occurrence of hazard k: word 0 of index kHazardOccurrence + k. Severity of hazard k:
// consecutive counters from severity_index(k) (a rejection sampler takes what it needs).
inline constexpr std::uint32_t kHazardOccurrence = 0x100000;  // + k
inline constexpr std::uint32_t severity_index(int hazard) {
  return 0x200000u + static_cast<std::uint32_t>(hazard) * 0x1000u;
}
inline constexpr std::uint32_t kSeverityBlocks = 0x1000;  // counters per hazard

// Health (v2, MODEL.md section 7a): unit = household. Illness e of persons 4b..4b+3: words
// 0..3 of index health_occurrence(e, b) (person 4b + w occurs when word w is below the
// Bernoulli threshold). The cost of person j's episode of e: the Box-Muller normal (cos) of
// words (w0, w1) of health_cost(e, j). At most kMaxIllnesses illnesses and kMaxPersons
// persons per household (household sizes are at most 1000).
inline constexpr std::uint32_t kHealthBase = 0x1000000;
inline constexpr int kMaxIllnesses = 255;
inline constexpr int kMaxPersons = 0x8000;
inline constexpr std::uint32_t health_occurrence(int illness, int person_block) {
  return kHealthBase + static_cast<std::uint32_t>(illness) * 0x10000u +
         static_cast<std::uint32_t>(person_block);
}
inline constexpr std::uint32_t health_cost(int illness, int person) {
  return kHealthBase + static_cast<std::uint32_t>(illness) * 0x10000u + 0x8000u +
         static_cast<std::uint32_t>(person);
}

}  // namespace incsim::draws
