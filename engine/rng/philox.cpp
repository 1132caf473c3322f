// Scalar Philox4x32-10, key derivation and the scalar Box-Muller pair (MODEL.md section 10).
// Built without -ffast-math: this is the reference the batched forms are tested against.
#include <cmath>
#include <numbers>

#include "incsim/rng.h"

namespace incsim::rng {
namespace {

constexpr std::uint32_t kMul0 = 0xD2511F53u;
constexpr std::uint32_t kMul1 = 0xCD9E8D57u;
constexpr std::uint32_t kWeyl0 = 0x9E3779B9u;
constexpr std::uint32_t kWeyl1 = 0xBB67AE85u;

inline void philox_round(Counter& c, const Key& k) {
  const std::uint64_t p0 = static_cast<std::uint64_t>(kMul0) * c[0];
  const std::uint64_t p1 = static_cast<std::uint64_t>(kMul1) * c[2];
  const auto hi0 = static_cast<std::uint32_t>(p0 >> 32);
  const auto lo0 = static_cast<std::uint32_t>(p0);
  const auto hi1 = static_cast<std::uint32_t>(p1 >> 32);
  const auto lo1 = static_cast<std::uint32_t>(p1);
  c = {hi1 ^ c[1] ^ k[0], lo1, hi0 ^ c[3] ^ k[1], lo0};
}

// splitmix64 finaliser (Steele, Lea, Flood 2014): a bijection on 64-bit words.
constexpr std::uint64_t splitmix64_mix(std::uint64_t z) {
  z ^= z >> 30;
  z *= 0xbf58476d1ce4e5b9ULL;
  z ^= z >> 27;
  z *= 0x94d049bb133111ebULL;
  z ^= z >> 31;
  return z;
}

}  // namespace

Block philox4x32_10(Counter counter, Key key) {
  for (int round = 0; round < 10; ++round) {
    if (round > 0) {
      key[0] += kWeyl0;
      key[1] += kWeyl1;
    }
    philox_round(counter, key);
  }
  return counter;
}

Key make_key(std::uint64_t seed, Stream stream) {
  const std::uint64_t z =
      splitmix64_mix(seed ^ (static_cast<std::uint64_t>(stream) * 0x9E3779B97F4A7C15ULL));
  return {static_cast<std::uint32_t>(z), static_cast<std::uint32_t>(z >> 32)};
}

std::array<double, 2> normal_pair(std::uint32_t w1, std::uint32_t w2) {
  const double r = std::sqrt(-2.0 * std::log(uniform(w1)));
  const double theta = 2.0 * std::numbers::pi * uniform(w2);
  return {r * std::cos(theta), r * std::sin(theta)};
}

}  // namespace incsim::rng
