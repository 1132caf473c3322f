// Counter-based random numbers (MODEL.md section 10). Every draw is a pure function of
// (seed, stream, replication, year, unit, index): Philox4x32-10 keyed by (seed, stream) and
// counted by (unit, replication, year, index). No state is shared or carried between draws,
// so results never depend on the thread count or on the order in which work is done.
#pragma once

#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>

namespace incsim::rng {

using Counter = std::array<std::uint32_t, 4>;
using Key = std::array<std::uint32_t, 2>;
using Block = std::array<std::uint32_t, 4>;

// Named streams, one per purpose. Values are part of the reproducibility contract: never
// renumber an existing stream.
enum class Stream : std::uint32_t {
  population = 1,    // household attributes of a generated population
  enrollment = 2,    // insurance enrollment and public posts (drawn once)
  choice_pilot = 3,  // pilot replications for certainty equivalents
  choice = 4,        // fixed-share and logit portfolio draws
  fair_premium = 5,  // fair income-index premium estimation
  replication = 6,   // the Monte Carlo replications (prices, yields, wages, hazards)
};

// Philox4x32-10 (Salmon et al. 2011, Random123). Known answer: counter 0, key 0 ->
// 6627e8d5 e169c58d bc57ac4c 9b00dbd8.
Block philox4x32_10(Counter counter, Key key);

// Key of a (seed, stream) pair: a bijective mix of the 64-bit seed with the stream number,
// so distinct seeds give distinct keys within a stream.
Key make_key(std::uint64_t seed, Stream stream);

// Counter layout: {unit, replication, year, index}. `unit` is a household (or market, or
// village), `index` names the purpose within the stream (see simulate.h for the table).
inline Counter counter(std::uint32_t unit, std::uint32_t replication, std::uint32_t year,
                       std::uint32_t index) {
  return {unit, replication, year, index};
}

// Uniform in the open interval (0, 1): (w + 0.5) / 2^32. Exact, never 0 or 1.
inline double uniform(std::uint32_t w) {
  return (static_cast<double>(w) + 0.5) * 0x1p-32;
}

// The integer form of a Bernoulli(p) draw: uniform(w) < p exactly when w < threshold, with
// threshold = the number of words w whose uniform (w + 0.5) / 2^32 is below p (0 to 2^32).
inline std::uint64_t bernoulli_threshold(double p) {
  if (!(p > 0.0)) return 0;
  if (p >= 1.0) return std::uint64_t{1} << 32;
  const double x = p * 0x1p32 - 0.5;  // exact: p * 2^32 < 2^32 needs no rounding
  const double c = std::ceil(x);
  return c <= 0.0 ? 0 : static_cast<std::uint64_t>(c);
}

// Scalar Box-Muller pair from two words: {sqrt(-2 ln u1) cos(2 pi u2), ... sin(...)}.
// Used outside the hot loop (population, enrollment); the kernel uses the batched form.
std::array<double, 2> normal_pair(std::uint32_t w1, std::uint32_t w2);

// Convenience for scalar callers: the four words of one counter on one key.
struct Addressed {
  Key key;
  Block operator()(std::uint32_t unit, std::uint32_t replication, std::uint32_t year,
                   std::uint32_t index) const {
    return philox4x32_10(counter(unit, replication, year, index), key);
  }
};

// ---- Batched forms for the simulation kernel -------------------------------------------
// All batched functions require n to be a multiple of kLanes (callers pad), so every
// element goes through the same vector code path and a draw never depends on its position
// in a batch.
inline constexpr std::size_t kLanes = 8;
// n rounded up to a multiple of kLanes: the length a batch of n lanes is padded to.
inline constexpr std::size_t padded_lanes(std::size_t n) {
  return (n + kLanes - 1) / kLanes * kLanes;
}

// out[j*n + i] = word j of philox({units[i], replication, year, index}, key), j = 0..3.
void philox_batch(Key key, const std::uint32_t* units, std::uint32_t replication,
                  std::uint32_t year, std::uint32_t index, std::size_t n, std::uint32_t* out);

// Four standard normals per unit from one Philox block by Box-Muller on (w0,w1), (w2,w3):
// z[0*n+i] = r01 cos(2 pi u1), z[1*n+i] = r01 sin(2 pi u1), z[2*n+i], z[3*n+i] likewise.
// `words` is scratch of 4*n.
void normal4_batch(Key key, const std::uint32_t* units, std::uint32_t replication,
                   std::uint32_t year, std::uint32_t index, std::size_t n, std::uint32_t* words,
                   double* z);

// The first Box-Muller pair only: z[0*n+i] and z[1*n+i] are bit-identical to rows 0 and 1
// of normal4_batch for the same counter; `words` (4*n) keeps all four words, so w2 and w3
// remain available as uniforms.
void normal2_batch(Key key, const std::uint32_t* units, std::uint32_t replication,
                   std::uint32_t year, std::uint32_t index, std::size_t n, std::uint32_t* words,
                   double* z);

// Row 0 of normal2_batch only (the cos normal of the first pair), bit-identical to it, for a
// counter whose second normal is not needed; `words` keeps all four words.
void normal1_batch(Key key, const std::uint32_t* units, std::uint32_t replication,
                   std::uint32_t year, std::uint32_t index, std::size_t n, std::uint32_t* words,
                   double* z);

// philox_batch and normal1_batch with a counter index per lane, indices[i] (the same words
// as the scalar forms for each counter): draws of one purpose addressed by a per-lane index,
// e.g. health costs by person and illness, in one batch.
void philox_batch_indexed(Key key, const std::uint32_t* units, std::uint32_t replication,
                          std::uint32_t year, const std::uint32_t* indices, std::size_t n,
                          std::uint32_t* out);
void normal1_batch_indexed(Key key, const std::uint32_t* units, std::uint32_t replication,
                           std::uint32_t year, const std::uint32_t* indices, std::size_t n,
                           std::uint32_t* words, double* z);

// Vectorised elementwise maths for the kernel (one translation unit, pinned flags, so the
// results are bit-identical for a given binary).
void exp_batch(const double* x, std::size_t n, double* out);  // out may alias x
void log_batch(const double* x, std::size_t n, double* out);  // x > 0; out may alias x

// Exact Beta(a, b) variates, batched (household-scope hazard severities, MODEL.md section 5):
// out[i] = X / (X + Y) with X ~ Gamma(a), Y ~ Gamma(b) by Marsaglia and Tsang (2000) (shape
// < 1 by Gamma(s) = Gamma(s + 1) U^(1/s), U drawn after the inner gamma), consuming the words
// of the consecutive counters {units[i], replication, year, first_index + j}, j < blocks, four
// per counter in order, exactly as the scalar sampler of engine/model/shocks.cpp does: a
// normal is sqrt(-2 ln u1) cos(2 pi u2) of the next two uniforms, then the acceptance uniform
// (none after v <= 0). The arithmetic is the scalar sampler's, operation for operation; only
// log (SLEEF), cos and pow (libmvec) are vector kernels instead of libm, so a variate may differ
// from the scalar one in its last bits (and, very rarely, by a different acceptance decision). Any
// n (no padding needed); a unit's variate never depends on n, on its position or on the other units
// of the batch. Requires a, b > 0 and blocks >= 2; throws std::runtime_error if a unit needs more
// than `blocks` counters.
void beta_batch(double a, double b, Key key, const std::uint32_t* units, std::size_t n,
                std::uint32_t replication, std::uint32_t year, std::uint32_t first_index,
                std::uint32_t blocks, double* out);

}  // namespace incsim::rng
