// Unit tests of the counter-based random numbers (include/incsim/rng.h, MODEL.md section 10).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <numbers>
#include <set>
#include <string>
#include <vector>

#include "incsim/rng.h"

namespace rng = incsim::rng;

namespace {

// Deterministic test inputs (splitmix64 sequence), independent of the code under test.
struct TestGen {
  std::uint64_t state;
  std::uint64_t next() {
    std::uint64_t z = (state += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  std::uint32_t next32() { return static_cast<std::uint32_t>(next() >> 32); }
};

std::vector<std::uint32_t> iota_units(std::size_t n, std::uint32_t first) {
  std::vector<std::uint32_t> u(n);
  for (std::size_t i = 0; i < n; ++i) u[i] = first + static_cast<std::uint32_t>(i);
  return u;
}

}  // namespace

// Random123 kat_vectors for philox4x32 with 10 rounds.
TEST(Philox, KnownAnswerVectors) {
  EXPECT_EQ(rng::philox4x32_10({0, 0, 0, 0}, {0, 0}),
            (rng::Block{0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8}));
  EXPECT_EQ(rng::philox4x32_10({0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff},
                               {0xffffffff, 0xffffffff}),
            (rng::Block{0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd}));
  EXPECT_EQ(rng::philox4x32_10({0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344},
                               {0xa4093822, 0x299f31d0}),
            (rng::Block{0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1}));
}

TEST(Philox, CounterLayoutAndAddressed) {
  const rng::Key key = rng::make_key(42, rng::Stream::replication);
  const rng::Addressed draw{key};
  EXPECT_EQ(rng::counter(1, 2, 3, 4), (rng::Counter{1, 2, 3, 4}));
  EXPECT_EQ(draw(7, 11, 13, 17), rng::philox4x32_10({7, 11, 13, 17}, key));
  EXPECT_NE(draw(7, 11, 13, 17), draw(7, 11, 13, 18));
}

TEST(MakeKey, KnownAnswer) {
  // seed 0, stream 1: the splitmix64 finaliser of 0x9E3779B97F4A7C15, i.e. the first output
  // of splitmix64 seeded with 0 (0xe220a8397b1dcdaf).
  EXPECT_EQ(rng::make_key(0, rng::Stream::population), (rng::Key{0x7b1dcdaf, 0xe220a839}));
}

TEST(MakeKey, DistinctForDistinctSeedsAndStreams) {
  const rng::Stream streams[] = {rng::Stream::population,   rng::Stream::enrollment,
                                 rng::Stream::choice_pilot, rng::Stream::choice,
                                 rng::Stream::fair_premium, rng::Stream::replication};
  std::set<std::uint64_t> seen;
  std::size_t count = 0;
  TestGen gen{123};
  std::vector<std::uint64_t> seeds;
  for (std::uint64_t s = 0; s < 5000; ++s) seeds.push_back(s);
  for (int i = 0; i < 5000; ++i) seeds.push_back(gen.next());
  seeds.push_back(~std::uint64_t{0});
  for (const std::uint64_t seed : seeds) {
    for (const rng::Stream stream : streams) {
      const rng::Key k = rng::make_key(seed, stream);
      EXPECT_EQ(k, rng::make_key(seed, stream));  // deterministic
      seen.insert((static_cast<std::uint64_t>(k[1]) << 32) | k[0]);
      ++count;
    }
  }
  EXPECT_EQ(seen.size(), count);
}

TEST(Uniform, OpenInterval) {
  EXPECT_GT(rng::uniform(0), 0.0);
  EXPECT_LT(rng::uniform(0xffffffffu), 1.0);
  EXPECT_EQ(rng::uniform(0), 0x1p-33);
  EXPECT_EQ(rng::uniform(0xffffffffu), 1.0 - 0x1p-33);
  EXPECT_EQ(rng::uniform(0x80000000u), 0.5 + 0x1p-33);
  // The extreme words give finite normals.
  for (const std::uint32_t w1 : {0u, 1u, 0x80000000u, 0xfffffffeu, 0xffffffffu}) {
    for (const std::uint32_t w2 : {0u, 0x40000000u, 0xffffffffu}) {
      const auto z = rng::normal_pair(w1, w2);
      EXPECT_TRUE(std::isfinite(z[0]) && std::isfinite(z[1])) << w1 << " " << w2;
    }
  }
  // Largest possible radius: sqrt(-2 ln 2^-33) = sqrt(66 ln 2).
  const auto zmax = rng::normal_pair(0, 0);
  EXPECT_NEAR(std::hypot(zmax[0], zmax[1]), std::sqrt(66.0 * std::numbers::ln2), 1e-12);
}

TEST(Uniform, ChiSquareAndKolmogorovSmirnov) {
  // 2^18 units x 4 words = ~1e6 words from the batched generator.
  const std::size_t n = std::size_t{1} << 18;
  const auto units = iota_units(n, 0);
  std::vector<std::uint32_t> words(4 * n);
  rng::philox_batch(rng::make_key(2024, rng::Stream::replication), units.data(), 3, 5, 7, n,
                    words.data());

  // Chi-square over 1024 equiprobable bins (top 10 bits): 1023 degrees of freedom, so the
  // statistic has mean 1023 and standard deviation sqrt(2046) ~ 45; accept within 5 SD.
  constexpr std::size_t kBins = 1024;
  std::vector<double> counts(kBins, 0.0);
  for (const std::uint32_t w : words) counts[w >> 22] += 1.0;
  const double expected = static_cast<double>(words.size()) / kBins;
  double chi2 = 0.0;
  for (const double c : counts) chi2 += (c - expected) * (c - expected) / expected;
  EXPECT_LT(std::abs(chi2 - 1023.0), 5.0 * std::sqrt(2046.0)) << "chi2 = " << chi2;

  // Kolmogorov-Smirnov on 1e5 uniforms: sqrt(m) D < 1.95 (p ~ 0.001).
  std::vector<double> u(words.begin(), words.begin() + 100000);
  for (double& x : u) x = rng::uniform(static_cast<std::uint32_t>(x));
  std::sort(u.begin(), u.end());
  const double m = static_cast<double>(u.size());
  double d = 0.0;
  for (std::size_t i = 0; i < u.size(); ++i) {
    d = std::max({d, (static_cast<double>(i) + 1.0) / m - u[i], u[i] - static_cast<double>(i) / m});
  }
  EXPECT_LT(std::sqrt(m) * d, 1.95) << "D = " << d;
}

TEST(PhiloxBatch, EqualsScalarWords) {
  TestGen gen{7};
  for (const std::size_t n : {8, 16, 56, 64, 72, 128, 256, 264, 1000, 4096}) {
    for (int trial = 0; trial < 3; ++trial) {
      const rng::Key key{gen.next32(), gen.next32()};
      const std::uint32_t rep = gen.next32(), year = gen.next32(), index = gen.next32();
      std::vector<std::uint32_t> units(n);
      for (auto& u : units) u = gen.next32();
      units[0] = 0;
      units[n - 1] = 0xffffffffu;
      std::vector<std::uint32_t> out(4 * n, 0xdeadbeef);
      rng::philox_batch(key, units.data(), rep, year, index, n, out.data());
      for (std::size_t i = 0; i < n; ++i) {
        const rng::Block b = rng::philox4x32_10({units[i], rep, year, index}, key);
        for (std::size_t j = 0; j < 4; ++j) {
          ASSERT_EQ(out[j * n + i], b[j]) << "n=" << n << " i=" << i << " j=" << j;
        }
      }
    }
  }
  // Edge counters and keys.
  for (const std::uint32_t c : {0u, 0xffffffffu}) {
    const rng::Key key{c, c};
    std::vector<std::uint32_t> units(8, c), out(32);
    rng::philox_batch(key, units.data(), c, c, c, 8, out.data());
    const rng::Block b = rng::philox4x32_10({c, c, c, c}, key);
    for (std::size_t j = 0; j < 4; ++j) EXPECT_EQ(out[j * 8], b[j]);
  }
}

TEST(Normal4Batch, MatchesScalarWordsAndNormalPair) {
  const rng::Key key = rng::make_key(99, rng::Stream::replication);
  for (const std::size_t n : {8, 64, 200, 4096}) {
    const auto units = iota_units(n, 1000);
    std::vector<std::uint32_t> words(4 * n);
    std::vector<double> z(4 * n);
    rng::normal4_batch(key, units.data(), 1, 2, 3, n, words.data(), z.data());
    double max_rel = 0.0;
    for (std::size_t i = 0; i < n; ++i) {
      const rng::Block b = rng::philox4x32_10(rng::counter(units[i], 1, 2, 3), key);
      const auto p01 = rng::normal_pair(b[0], b[1]);
      const auto p23 = rng::normal_pair(b[2], b[3]);
      const double ref[4] = {p01[0], p01[1], p23[0], p23[1]};
      const double radius[4] = {std::hypot(p01[0], p01[1]), std::hypot(p01[0], p01[1]),
                                std::hypot(p23[0], p23[1]), std::hypot(p23[0], p23[1])};
      for (std::size_t j = 0; j < 4; ++j) {
        EXPECT_EQ(words[j * n + i], b[j]);
        const double got = z[j * n + i];
        // Relative to the value, with an absolute floor of 1e-12 times the Box-Muller
        // radius for values near a zero of cos or sin.
        const double tol = 1e-12 * std::max(std::abs(ref[j]), radius[j]);
        ASSERT_NEAR(got, ref[j], tol) << "n=" << n << " i=" << i << " j=" << j;
        if (ref[j] != 0.0) max_rel = std::max(max_rel, std::abs(got - ref[j]) / std::abs(ref[j]));
      }
    }
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.3g", max_rel);
    RecordProperty("max_rel_diff_n" + std::to_string(n), buf);
    EXPECT_LT(max_rel, 1e-12);
  }
}

TEST(Normal4Batch, IndependentOfBatchSizeAndPosition) {
  const rng::Key key = rng::make_key(5, rng::Stream::replication);
  const std::uint32_t probes[] = {0, 17, 123456, 0xfffffff0u, 0xffffffffu};
  for (const std::uint32_t unit : probes) {
    // Reference: the unit at position 3 of a batch of 8.
    std::vector<std::uint32_t> small = iota_units(8, 500);
    small[3] = unit;
    std::vector<std::uint32_t> w8(32);
    std::vector<double> z8(32);
    rng::normal4_batch(key, small.data(), 9, 8, 7, 8, w8.data(), z8.data());
    // The same unit at other positions of batches of 256 (full chunks) and 72, 200 (with a
    // padded partial chunk).
    for (const std::size_t n : {256, 72, 200}) {
      for (const std::size_t pos : {std::size_t{0}, n / 2 + 1, n - 1, std::size_t{67}}) {
        std::vector<std::uint32_t> big = iota_units(n, 90000);
        big[pos] = unit;
        std::vector<std::uint32_t> w(4 * n);
        std::vector<double> z(4 * n);
        rng::normal4_batch(key, big.data(), 9, 8, 7, n, w.data(), z.data());
        for (std::size_t j = 0; j < 4; ++j) {
          const double a = z8[j * 8 + 3], b = z[j * n + pos];
          EXPECT_EQ(std::memcmp(&a, &b, sizeof a), 0)
              << "unit=" << unit << " n=" << n << " pos=" << pos << " j=" << j << " " << a << " vs "
              << b;
          EXPECT_EQ(w8[j * 8 + 3], w[j * n + pos]);
        }
      }
    }
  }
}

TEST(Normal4Batch, Moments) {
  // 250000 units x 4 = 1e6 normals.
  const std::size_t n = 250000;
  const auto units = iota_units(n, 0);
  std::vector<std::uint32_t> words(4 * n);
  std::vector<double> z(4 * n);
  rng::normal4_batch(rng::make_key(20240601, rng::Stream::replication), units.data(), 0, 0, 0, n,
                     words.data(), z.data());

  const double total = static_cast<double>(z.size());
  double sum = 0.0;
  for (const double x : z) sum += x;
  const double mean = sum / total;
  double ss = 0.0, s3 = 0.0, s4 = 0.0;
  for (const double x : z) {
    const double d = x - mean;
    ss += d * d;
    s3 += d * d * d;
    s4 += d * d * d * d;
  }
  const double var = ss / (total - 1.0);
  EXPECT_LT(std::abs(mean), 4.0 / std::sqrt(total)) << "mean " << mean;
  EXPECT_LT(std::abs(var - 1.0), 4.0 * std::sqrt(2.0 / total)) << "var " << var;
  // Skewness (SE sqrt(6/N)) and excess kurtosis (SE sqrt(24/N)).
  EXPECT_LT(std::abs(s3 / total), 4.0 * std::sqrt(6.0 / total));
  EXPECT_LT(std::abs(s4 / total - 3.0), 4.0 * std::sqrt(24.0 / total));

  // Correlation between the four outputs of a block, and between neighbouring units.
  const double units_d = static_cast<double>(n);
  auto corr = [&](const double* a, const double* b, std::size_t len) {
    double sab = 0.0, saa = 0.0, sbb = 0.0;
    for (std::size_t i = 0; i < len; ++i) {
      sab += a[i] * b[i];
      saa += a[i] * a[i];
      sbb += b[i] * b[i];
    }
    return sab / std::sqrt(saa * sbb);
  };
  for (std::size_t j = 0; j < 4; ++j) {
    for (std::size_t k = j + 1; k < 4; ++k) {
      const double r = corr(&z[j * n], &z[k * n], n);
      EXPECT_LT(std::abs(r), 4.0 / std::sqrt(units_d)) << "corr(" << j << "," << k << ")";
    }
    const double lag = corr(&z[j * n], &z[j * n + 1], n - 1);
    EXPECT_LT(std::abs(lag), 4.0 / std::sqrt(units_d)) << "lag-1 corr of output " << j;
  }
  // Squares are uncorrelated too (the Box-Muller radius is shared by a pair).
  std::vector<double> sq(z.size());
  for (std::size_t i = 0; i < z.size(); ++i) sq[i] = z[i] * z[i] - 1.0;
  const double r01 = corr(&sq[0], &sq[n], n);
  EXPECT_LT(std::abs(r01), 4.0 / std::sqrt(units_d)) << "corr of squares " << r01;

  // Kolmogorov-Smirnov against the standard normal CDF on the first 2e5 draws.
  std::vector<double> s(z.begin(), z.begin() + 200000);
  std::sort(s.begin(), s.end());
  const double m = static_cast<double>(s.size());
  double d = 0.0;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const double f = 0.5 * std::erfc(-s[i] / std::numbers::sqrt2);
    d = std::max({d, (static_cast<double>(i) + 1.0) / m - f, f - static_cast<double>(i) / m});
  }
  EXPECT_LT(std::sqrt(m) * d, 1.95) << "KS D = " << d;
}

TEST(ExpBatch, MatchesStdExp) {
  TestGen gen{11};
  for (const std::size_t n : {8, 64, 72, 1000, 4096}) {
    std::vector<double> x(n), out(n);
    for (std::size_t i = 0; i < n; ++i) {
      // Mostly the kernel's range (log-normal yields, prices), some extreme arguments.
      const double u = static_cast<double>(gen.next() >> 11) * 0x1p-53;
      x[i] = (i % 5 == 0) ? -700.0 + 1400.0 * u : -20.0 + 40.0 * u;
    }
    x[0] = 0.0;
    x[1] = -0.0;
    x[2] = 1.0;
    x[3] = 709.0;
    x[4] = -708.0;
    x[5] = 1e-300;
    rng::exp_batch(x.data(), n, out.data());
    for (std::size_t i = 0; i < n; ++i) {
      const double ref = std::exp(x[i]);
      ASSERT_LE(std::abs(out[i] - ref), 1e-14 * ref) << "x=" << x[i];
    }
    // In place (out aliases x) gives the same bits.
    std::vector<double> y = x;
    rng::exp_batch(y.data(), n, y.data());
    EXPECT_EQ(std::memcmp(y.data(), out.data(), n * sizeof(double)), 0);
  }
}

TEST(ExpBatch, IndependentOfBatchSizeAndPosition) {
  std::vector<double> x8(8, 0.25), x256(256, -3.0), x72(72, 1.5);
  const double probe = -1.2345678901234567;
  x8[5] = probe;
  x256[200] = probe;
  x72[70] = probe;
  std::vector<double> o8(8), o256(256), o72(72);
  rng::exp_batch(x8.data(), 8, o8.data());
  rng::exp_batch(x256.data(), 256, o256.data());
  rng::exp_batch(x72.data(), 72, o72.data());
  EXPECT_EQ(std::memcmp(&o8[5], &o256[200], sizeof(double)), 0);
  EXPECT_EQ(std::memcmp(&o8[5], &o72[70], sizeof(double)), 0);
}

TEST(LogBatch, MatchesScalarLogInPlaceAndAtAnyPosition) {
  for (std::size_t n : {8u, 40u, 72u}) {
    std::vector<double> x(n), out(n);
    for (std::size_t i = 0; i < n; ++i) x[i] = 0.37 + 1.93 * static_cast<double>(i * i);
    x[0] = 1.0;  // log 1 = 0 exactly
    x[1] = 1e-300;
    x[2] = 1e300;
    rng::log_batch(x.data(), n, out.data());
    EXPECT_EQ(out[0], 0.0);
    for (std::size_t i = 1; i < n; ++i) {
      const double ref = std::log(x[i]);
      ASSERT_LE(std::abs(out[i] - ref), 1e-15 * std::max(1.0, std::abs(ref))) << "x=" << x[i];
    }
    std::vector<double> y = x;
    rng::log_batch(y.data(), n, y.data());
    EXPECT_EQ(std::memcmp(y.data(), out.data(), n * sizeof(double)), 0);
  }
  std::vector<double> x8(8, 2.5), x72(72, 7.0), o8(8), o72(72);
  x8[3] = x72[69] = 1234.5678;
  rng::log_batch(x8.data(), 8, o8.data());
  rng::log_batch(x72.data(), 72, o72.data());
  EXPECT_EQ(std::memcmp(&o8[3], &o72[69], sizeof(double)), 0);
}

TEST(Batch, EmptyIsNoOp) {
  rng::philox_batch({1, 2}, nullptr, 0, 0, 0, 0, nullptr);
  rng::normal4_batch({1, 2}, nullptr, 0, 0, 0, 0, nullptr, nullptr);
  rng::exp_batch(nullptr, 0, nullptr);
  SUCCEED();
}

namespace incsim {
namespace {

// The kernel draws products 0 and 1 (and wages) with normal2_batch and more products with
// normal4_batch; a product's draw must not depend on which form was used.
TEST(Normal2Batch, RowsAndWordsEqualNormal4Bitwise) {
  const rng::Key key = rng::make_key(99, rng::Stream::replication);
  for (std::size_t n : {8u, 40u, 256u}) {
    std::vector<std::uint32_t> units(n);
    for (std::size_t i = 0; i < n; ++i) units[i] = static_cast<std::uint32_t>(7 * i + 3);
    std::vector<std::uint32_t> w2(4 * n), w4(4 * n);
    std::vector<double> z2(2 * n), z4(4 * n);
    rng::normal2_batch(key, units.data(), 5, 2, 0x10001, n, w2.data(), z2.data());
    rng::normal4_batch(key, units.data(), 5, 2, 0x10001, n, w4.data(), z4.data());
    EXPECT_EQ(w2, w4) << "n " << n;
    EXPECT_EQ(0, std::memcmp(z2.data(), z4.data(), 2 * n * sizeof(double))) << "n " << n;
  }
}

// A single product or a last odd laborer uses normal1_batch: the same row 0, bit for bit.
TEST(Normal1Batch, RowAndWordsEqualNormal2Bitwise) {
  const rng::Key key = rng::make_key(98, rng::Stream::replication);
  for (std::size_t n : {8u, 24u, 40u, 256u}) {
    std::vector<std::uint32_t> units(n);
    for (std::size_t i = 0; i < n; ++i) units[i] = static_cast<std::uint32_t>(5 * i + 1);
    std::vector<std::uint32_t> w1(4 * n), w2(4 * n);
    std::vector<double> z1(n), z2(2 * n);
    rng::normal1_batch(key, units.data(), 5, 2, 0x100, n, w1.data(), z1.data());
    rng::normal2_batch(key, units.data(), 5, 2, 0x100, n, w2.data(), z2.data());
    EXPECT_EQ(w1, w2) << "n " << n;
    EXPECT_EQ(0, std::memcmp(z1.data(), z2.data(), n * sizeof(double))) << "n " << n;
  }
}

// A counter index per lane (health draws): each lane's words equal the scalar Philox of its
// own counter, and its normal equals normal1_batch's for that index, whatever the batch.
TEST(IndexedBatch, EqualsScalarWordsAndNormal1PerLane) {
  TestGen gen{11};
  const rng::Key key{gen.next32(), gen.next32()};
  for (const std::size_t n : {8, 40, 256, 264}) {
    std::vector<std::uint32_t> units(n), indices(n);
    for (std::size_t i = 0; i < n; ++i) {
      units[i] = gen.next32();
      indices[i] = gen.next32();
    }
    std::vector<std::uint32_t> out(4 * n), words(4 * n);
    std::vector<double> z(n);
    rng::philox_batch_indexed(key, units.data(), 9, 4, indices.data(), n, out.data());
    rng::normal1_batch_indexed(key, units.data(), 9, 4, indices.data(), n, words.data(), z.data());
    EXPECT_EQ(out, words);
    for (std::size_t i = 0; i < n; ++i) {
      const rng::Block b = rng::philox4x32_10({units[i], 9, 4, indices[i]}, key);
      for (std::size_t j = 0; j < 4; ++j)
        ASSERT_EQ(out[j * n + i], b[j]) << "n=" << n << " i=" << i;
      // The same counter alone, through the one-index form (padded to a batch of 8).
      std::vector<std::uint32_t> one(8, units[i]), w1(32);
      std::vector<double> z1(8);
      rng::normal1_batch(key, one.data(), 9, 4, indices[i], 8, w1.data(), z1.data());
      ASSERT_EQ(0, std::memcmp(&z[i], &z1[0], sizeof(double))) << "n=" << n << " i=" << i;
    }
  }
}

}  // namespace
}  // namespace incsim

namespace incsim::rng {
namespace {

// The integer Bernoulli form used by the kernel agrees with uniform(w) < p at the boundary
// word and its neighbours, for probabilities on and off the 2^-32 grid.
TEST(BernoulliThreshold, AgreesWithTheUniformComparisonAtTheBoundary) {
  for (double p : {0.0, 1e-12, 0x1p-32, 1.5 * 0x1p-32, 0.05, 0.1, 0.5, 0.6, 0.9, 1.0 - 0x1p-33,
                   1.0 - 0x1p-40, 1.0}) {
    const std::uint64_t tau = bernoulli_threshold(p);
    ASSERT_LE(tau, std::uint64_t{1} << 32) << p;
    for (std::int64_t d = -2; d <= 2; ++d) {
      const std::int64_t w = static_cast<std::int64_t>(tau) + d;
      if (w < 0 || w > 0xffffffffLL) continue;
      const auto word = static_cast<std::uint32_t>(w);
      EXPECT_EQ(static_cast<std::uint64_t>(word) < tau, uniform(word) < p)
          << "p = " << p << ", w = " << w << ", threshold " << tau;
    }
  }
}

}  // namespace
}  // namespace incsim::rng
