// Batched exact Beta(a, b) variates (incsim/rng.h beta_batch) for household-scope hazard
// severities: the scalar sampler of engine/model/shocks.cpp run on many lanes at once.
//
// Rounds in lockstep. Marsaglia-Tsang rejects, so lanes use different numbers of words. Each
// lane has its own word cursor; in a round every unfinished lane makes one attempt at its
// current variate (X ~ Gamma(a), then Y ~ Gamma(b)) from the words at its cursor: the normal
// from the next two, the acceptance uniform from the third (consumed only if v > 0) and, for a
// shape below 1, U from the fourth (consumed only on acceptance). The attempts of a round are
// computed chunk by chunk (kChunk lanes): words gathered per lane, log, cos and pow through the
// fixed-size vector kernels of batch.cpp (vector_math.h: SLEEF's log, libmvec's cos and pow), and
// the arithmetic between them here, in a file built without -ffast-math, written exactly as the
// scalar sampler writes it (IEEE +, -, *, /, sqrt and comparisons round the same whether GCC
// vectorises them or not). Everything a lane computes depends on its own words only (unused chunk
// slots get harmless constants), so a variate does not depend on n, on the batch or on its position
// in it.
//
// Words. With no rejection a variate takes 6 words (8 when both shapes are below 1): two
// Philox blocks, at the same counter indices for every lane, computed for all lanes up front by
// the vectorised philox_batch. A lane keeps a window of two consecutive blocks of its stream;
// when an attempt's four words reach past it (only after a rejection) the window moves on by
// one block, computed by the scalar philox4x32_10 for that lane alone. Measured on the 2-vCPU
// AVX2 box against computing a third block for every lane up front (a 12-word window): the
// lazy scalar refill is about 10% faster at 20 to 32 lanes (few lanes ever need it, and the
// third vector block is paid for by all of them).
//
// Cost (tools/bench_rng.cpp, Beta(1, 4)): about 30-40 ns a variate at 20-64 lanes against
// 120 ns for the scalar sampler; the vector log and cos calls (3 logs and a cos per attempt,
// about 11 ns a lane) are most of it. A single variate costs ~3x the scalar sampler (a whole
// chunk and two padded Philox batches), so county and village hazards, one draw per year or
// village, keep the scalar sample_severity.
//
// Chunk size: kMathChunk = 8 (vector_math.h) beats 16 at the 1-32 lanes of a kernel batch's
// struck households (less padding in the last chunk of a round and in the rare-rejection
// rounds), and is the same speed above.
#include <algorithm>
#include <cassert>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <numbers>
#include <stdexcept>
#include <string>

#include "incsim/rng.h"
#include "vector_math.h"

namespace incsim::rng {
namespace {

constexpr std::size_t kChunk = detail::kMathChunk;  // lanes per attempt
constexpr std::size_t kGroup = 64;                  // lanes whose state is held at once
static_assert(kGroup % kLanes == 0 && kGroup % kChunk == 0);

// Marsaglia-Tsang constants of one gamma variate, computed as the scalar sampler does.
struct GammaParams {
  double d = 0.0, c = 0.0;
  double inv = 1.0;    // 1 / shape, the power of U when boosted (1: unused)
  bool boost = false;  // shape < 1: Gamma(shape + 1) U^(1/shape)
};

GammaParams gamma_params(double shape) {
  GammaParams p;
  p.boost = shape < 1.0;
  const double s = p.boost ? shape + 1.0 : shape;
  p.d = s - 1.0 / 3.0;
  p.c = 1.0 / std::sqrt(9.0 * p.d);
  if (p.boost) p.inv = 1.0 / shape;
  return p;
}

class BetaSampler {
 public:
  BetaSampler(double a, double b, Key key, std::uint32_t replication, std::uint32_t year,
              std::uint32_t first_index, std::uint32_t blocks)
      : params_{gamma_params(a), gamma_params(b)},
        boost_(params_[0].boost || params_[1].boost),
        key_(key),
        replication_(replication),
        year_(year),
        first_(first_index),
        blocks_(blocks) {}

  // The variates of units[0..m), m <= kGroup.
  void run(const std::uint32_t* units, std::size_t m, double* out);

 private:
  void cover_window(std::size_t i);
  void attempt(const std::uint32_t* lanes, std::size_t count);

  const GammaParams params_[2];
  const bool boost_;
  const Key key_;
  const std::uint32_t replication_, year_, first_, blocks_;

  // State of the current group of lanes. Lane i's window words_[i] holds the words of the
  // counters first_ + base_[i] and first_ + base_[i] + 1; its cursor is word off_[i] of it.
  std::uint32_t unit_[kGroup];  // padded with the last unit for philox_batch
  std::uint32_t base_[kGroup];
  std::uint32_t off_[kGroup];
  std::uint8_t stage_[kGroup];  // 0: drawing X, 1: drawing Y, 2: done
  double g_[2][kGroup];         // X and Y
  alignas(32) std::uint32_t words_[kGroup][8];
};

void BetaSampler::run(const std::uint32_t* units, std::size_t m, double* out) {
  assert(m > 0 && m <= kGroup);
  const std::size_t stride = (m + kLanes - 1) / kLanes * kLanes;
  std::memcpy(unit_, units, m * sizeof(std::uint32_t));
  std::fill(unit_ + m, unit_ + stride, units[m - 1]);
  alignas(32) std::uint32_t blocks[2][4 * kGroup];  // [s][w * stride + i]: word w, counter s
  philox_batch(key_, unit_, replication_, year_, first_, stride, blocks[0]);
  philox_batch(key_, unit_, replication_, year_, first_ + 1, stride, blocks[1]);
  std::uint32_t active[kGroup];
  for (std::size_t i = 0; i < m; ++i) {
    for (std::size_t w = 0; w < 4; ++w) {
      words_[i][w] = blocks[0][w * stride + i];
      words_[i][4 + w] = blocks[1][w * stride + i];
    }
    base_[i] = 0;
    off_[i] = 0;
    stage_[i] = 0;
    active[i] = static_cast<std::uint32_t>(i);
  }
  for (std::size_t n_active = m; n_active > 0;) {
    for (std::size_t c = 0; c < n_active; c += kChunk)
      attempt(active + c, std::min(kChunk, n_active - c));
    std::size_t kept = 0;
    for (std::size_t j = 0; j < n_active; ++j) {
      active[kept] = active[j];
      kept += stage_[active[j]] < 2;
    }
    n_active = kept;
  }
  for (std::size_t i = 0; i < m; ++i) out[i] = g_[0][i] / (g_[0][i] + g_[1][i]);
}

// Moves lane i's window on until it holds the four words from its cursor (off_ <= 4). Blocks
// past the last counter are zeros: read speculatively, never consumed (attempt throws first).
void BetaSampler::cover_window(std::size_t i) {
  while (off_[i] > 4) {
    std::memcpy(words_[i], words_[i] + 4, 4 * sizeof(std::uint32_t));
    off_[i] -= 4;
    ++base_[i];
    const std::uint32_t next = base_[i] + 1;
    Block b{};
    if (next < blocks_)
      b = philox4x32_10(counter(unit_[i], replication_, year_, first_ + next), key_);
    std::memcpy(words_[i] + 4, b.data(), sizeof(b));
  }
}

// rng::uniform(w) in a form GCC vectorises on AVX2 (no unsigned 32-bit -> double conversion):
// w - 2^31 converts exactly as a signed value and every step is exact, so the result equals
// uniform(w) bit for bit.
inline double uniform_v(std::uint32_t w) {
  const auto s = static_cast<std::int32_t>(w ^ 0x80000000u);
  return (static_cast<double>(s) + 2147483648.5) * 0x1p-32;
}

// One Marsaglia-Tsang attempt for each of lanes[0..count), count <= kChunk. The loops over
// all kChunk slots have no control flow and vectorise; the last one, per live lane, applies
// the outcome.
void BetaSampler::attempt(const std::uint32_t* lanes, std::size_t count) {
  constexpr double kTwoPi = 2.0 * std::numbers::pi;
  alignas(32) std::uint32_t w[4][kChunk];
  alignas(32) double d[kChunk], c[kChunk], inv[kChunk];
  for (std::size_t j = 0; j < count; ++j) {
    const std::size_t i = lanes[j];
    cover_window(i);
    const std::uint32_t* from = words_[i] + off_[i];
    for (std::size_t q = 0; q < 4; ++q) w[q][j] = from[q];
    const GammaParams& p = params_[stage_[i]];
    d[j] = p.d;
    c[j] = p.c;
    inv[j] = p.inv;
  }
  for (std::size_t j = count; j < kChunk; ++j) {  // unused slots: finite, in every domain
    for (std::size_t q = 0; q < 4; ++q) w[q][j] = 0x80000000u;
    d[j] = 1.0;
    c[j] = 0.5;
    inv[j] = 1.0;
  }
  alignas(32) double u1[kChunk], theta[kChunk], u3[kChunk], u4[kChunk];
#pragma GCC unroll 1  // a complete unroll of a short loop would keep it from vectorising
  for (std::size_t j = 0; j < kChunk; ++j) {
    u1[j] = uniform_v(w[0][j]);
    theta[j] = kTwoPi * uniform_v(w[1][j]);
    u3[j] = uniform_v(w[2][j]);
    u4[j] = uniform_v(w[3][j]);
  }
  alignas(32) double log_u1[kChunk], cos_theta[kChunk], log_u3[kChunk];
  detail::log_chunk(u1, log_u1);
  detail::cos_chunk(theta, cos_theta);
  detail::log_chunk(u3, log_u3);
  // The scalar sampler: z = sqrt(-2 ln u1) cos(2 pi u2); v = 1 + c z; rejected if v <= 0;
  // v = v^3; accepted if ln u < 0.5 z^2 + d - d v + d ln v. The log is taken of v^3 where v
  // and v^3 are positive, of 1 elsewhere (the scalar rejects there: v <= 0, or ln v = -inf).
  alignas(32) double z[kChunk], v3[kChunk], safe_v3[kChunk], log_v3[kChunk], power[kChunk];
  alignas(32) std::int64_t positive[kChunk], accept[kChunk];
#pragma GCC unroll 1  // a complete unroll of a short loop would keep it from vectorising
  for (std::size_t j = 0; j < kChunk; ++j) {
    z[j] = std::sqrt(-2.0 * log_u1[j]) * cos_theta[j];
    const double v = 1.0 + c[j] * z[j];
    v3[j] = v * v * v;
    positive[j] = v > 0.0;
    safe_v3[j] = (v > 0.0) & (v3[j] > 0.0) ? v3[j] : 1.0;
  }
  detail::log_chunk(safe_v3, log_v3);
  if (boost_) detail::pow_chunk(u4, inv, power);
#pragma GCC unroll 1  // a complete unroll of a short loop would keep it from vectorising
  for (std::size_t j = 0; j < kChunk; ++j) {
    const double rhs = 0.5 * z[j] * z[j] + d[j] - d[j] * v3[j] + d[j] * log_v3[j];
    accept[j] = positive[j] & (v3[j] > 0.0) & (log_u3[j] < rhs);
  }
  for (std::size_t j = 0; j < count; ++j) {
    const std::size_t i = lanes[j];
    if (!positive[j]) {
      off_[i] += 2;  // the normal only
    } else {
      off_[i] += 3;
      if (accept[j]) {
        double x = d[j] * v3[j];
        if (params_[stage_[i]].boost) {
          x = x * power[j];
          off_[i] += 1;
        }
        g_[stage_[i]][i] = x;
        ++stage_[i];
      }
    }
    if (std::uint64_t{4} * base_[i] + off_[i] > std::uint64_t{4} * blocks_)
      throw std::runtime_error("Beta sampler exhausted its " + std::to_string(blocks_) +
                               " counters (unit " + std::to_string(unit_[i]) + ", replication " +
                               std::to_string(replication_) + ", year " + std::to_string(year_) +
                               ")");
  }
}

}  // namespace

void beta_batch(double a, double b, Key key, const std::uint32_t* units, std::size_t n,
                std::uint32_t replication, std::uint32_t year, std::uint32_t first_index,
                std::uint32_t blocks, double* out) {
  assert(a > 0.0 && b > 0.0 && blocks >= 2);
  BetaSampler sampler(a, b, key, replication, year, first_index, blocks);
  for (std::size_t start = 0; start < n; start += kGroup)
    sampler.run(units + start, std::min(kGroup, n - start), out + start);
}

}  // namespace incsim::rng
