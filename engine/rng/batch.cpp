// Batched Philox4x32-10, Box-Muller normals and exp for the simulation kernel, and the
// elementwise log, cos and pow of the batched Beta sampler (engine/rng/beta.cpp).
//
// This is the one translation unit built with -O3 -ffast-math (CMakeLists.txt), so that GCC
// vectorises the loops below and calls glibc's libmvec (_ZGVdN4v_sin, _ZGVdN4v_cos,
// _ZGVdN4v_exp, _ZGVdN4vv_pow) for exp, sin, cos and pow. The log is SLEEF's
// Sleef_logd4_u35avx2 (3.5 ulp, libmvec's is 4; Debian's libsleef), called explicitly:
// libmvec's AVX2 log starts from vrcpps, an approximation whose bits differ between CPU
// vendors, so the same binary drew other normals on an Intel and an AMD machine. Every
// kernel used here is IEEE arithmetic with fused multiply-adds and no approximate
// instruction (checked by disassembly: tools/check_vector_math.py, run as a test), so a draw
// has the same bits on every x86-64-v3 CPU.
//
// Position independence: every element is computed by exactly one piece of machine code.
// The work is cut into chunks of kChunk lanes and each chunk goes through a non-inlined
// kernel with a compile-time trip count (a multiple of every vector width), so there is no
// scalar prologue or epilogue whose libm path could differ from the vector one. A partial
// last chunk is padded into local buffers and run through the same kernels; only its live
// lanes are copied out. A draw therefore never depends on n or on its position in a batch.
#include <algorithm>
#include <cassert>
#include <cmath>
#include <cstring>
#include <numbers>

#include <immintrin.h>

#include <sleef.h>

#include "incsim/rng.h"
#include "vector_math.h"

namespace incsim::rng {
namespace {

// Measured on the 2-vCPU AVX2 box: 8 to 64 give the same Philox rate, 32 is ~10% faster
// than 8 or 16 for normals; a batch smaller than kChunk pays for a whole padded chunk.
// The kernels take __restrict arguments: `units`, `out`, `words` and `z` must not overlap.
constexpr std::size_t kChunk = 32;
static_assert(kChunk % kLanes == 0 && kChunk % 8 == 0);

constexpr std::uint32_t kMul0 = 0xD2511F53u;
constexpr std::uint32_t kMul1 = 0xCD9E8D57u;
constexpr std::uint32_t kWeyl0 = 0x9E3779B9u;
constexpr std::uint32_t kWeyl1 = 0xBB67AE85u;
constexpr int kRounds = 10;

struct KeySchedule {
  std::uint32_t k0[kRounds];
  std::uint32_t k1[kRounds];
};

KeySchedule schedule(Key key) {
  KeySchedule ks{};
  for (int r = 0; r < kRounds; ++r) {
    ks.k0[r] = key[0] + static_cast<std::uint32_t>(r) * kWeyl0;
    ks.k1[r] = key[1] + static_cast<std::uint32_t>(r) * kWeyl1;
  }
  return ks;
}

#if defined(__AVX2__)
// The high and low 32 bits of the 32x32->64 products of each lane of `a` with `m` (AVX2 has
// vpmuludq for the even lanes only: the odd lanes are shifted down and multiplied apart).
inline void mulhilo(__m256i a, __m256i m, __m256i& hi, __m256i& lo) {
  const __m256i even = _mm256_mul_epu32(a, m);
  const __m256i odd = _mm256_mul_epu32(_mm256_srli_epi64(a, 32), m);
  lo = _mm256_blend_epi32(even, _mm256_slli_epi64(odd, 32), 0xAA);
  hi = _mm256_blend_epi32(_mm256_srli_epi64(even, 32), odd, 0xAA);
}

// Philox4x32-10 on kChunk counters {units[i], replication, year, index}, eight lanes per
// AVX2 register and two registers in flight so one group's multiply latency overlaps the
// other's work. The words equal the scalar philox4x32_10 bit for bit (tested).
__attribute__((noinline)) void philox_chunk(
    const KeySchedule& ks, const std::uint32_t* __restrict units, std::uint32_t replication,
    std::uint32_t year, std::uint32_t index, const std::uint32_t* __restrict indices,
    std::uint32_t* __restrict w0, std::uint32_t* __restrict w1, std::uint32_t* __restrict w2,
    std::uint32_t* __restrict w3) {
  constexpr int kGroups = 2;
  static_assert(kChunk % (8 * kGroups) == 0);
  const __m256i m0 = _mm256_set1_epi32(static_cast<int>(kMul0));
  const __m256i m1 = _mm256_set1_epi32(static_cast<int>(kMul1));
  for (std::size_t i = 0; i < kChunk; i += 8 * kGroups) {
    __m256i c0[kGroups], c1[kGroups], c2[kGroups], c3[kGroups];
    for (int g = 0; g < kGroups; ++g) {
      c0[g] = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(units + i + 8 * g));
      c1[g] = _mm256_set1_epi32(static_cast<int>(replication));
      c2[g] = _mm256_set1_epi32(static_cast<int>(year));
      c3[g] = indices ? _mm256_loadu_si256(reinterpret_cast<const __m256i*>(indices + i + 8 * g))
                      : _mm256_set1_epi32(static_cast<int>(index));
    }
    for (int r = 0; r < kRounds; ++r) {
      const __m256i k0 = _mm256_set1_epi32(static_cast<int>(ks.k0[r]));
      const __m256i k1 = _mm256_set1_epi32(static_cast<int>(ks.k1[r]));
      for (int g = 0; g < kGroups; ++g) {
        __m256i hi0, lo0, hi1, lo1;
        mulhilo(c0[g], m0, hi0, lo0);
        mulhilo(c2[g], m1, hi1, lo1);
        c0[g] = _mm256_xor_si256(_mm256_xor_si256(hi1, c1[g]), k0);
        c1[g] = lo1;
        c2[g] = _mm256_xor_si256(_mm256_xor_si256(hi0, c3[g]), k1);
        c3[g] = lo0;
      }
    }
    for (int g = 0; g < kGroups; ++g) {
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(w0 + i + 8 * g), c0[g]);
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(w1 + i + 8 * g), c1[g]);
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(w2 + i + 8 * g), c2[g]);
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(w3 + i + 8 * g), c3[g]);
    }
  }
}
#else
// Philox4x32-10 on kChunk counters {units[i], replication, year, index}. Lanes are
// independent and the rounds are unrolled, so the lane loop vectorises (32x32->64 products
// become vpmuludq).
__attribute__((noinline)) void philox_chunk(
    const KeySchedule& ks, const std::uint32_t* __restrict units, std::uint32_t replication,
    std::uint32_t year, std::uint32_t index, const std::uint32_t* __restrict indices,
    std::uint32_t* __restrict w0, std::uint32_t* __restrict w1, std::uint32_t* __restrict w2,
    std::uint32_t* __restrict w3) {
  for (std::size_t i = 0; i < kChunk; ++i) {
    std::uint32_t c0 = units[i];
    std::uint32_t c1 = replication;
    std::uint32_t c2 = year;
    std::uint32_t c3 = indices ? indices[i] : index;
#pragma GCC unroll 10
    for (int r = 0; r < kRounds; ++r) {
      const std::uint64_t p0 = static_cast<std::uint64_t>(kMul0) * c0;
      const std::uint64_t p1 = static_cast<std::uint64_t>(kMul1) * c2;
      const std::uint32_t n0 = static_cast<std::uint32_t>(p1 >> 32) ^ c1 ^ ks.k0[r];
      const std::uint32_t n2 = static_cast<std::uint32_t>(p0 >> 32) ^ c3 ^ ks.k1[r];
      c1 = static_cast<std::uint32_t>(p1);
      c3 = static_cast<std::uint32_t>(p0);
      c0 = n0;
      c2 = n2;
    }
    w0[i] = c0;
    w1[i] = c1;
    w2[i] = c2;
    w3[i] = c3;
  }
}
#endif

// rng::uniform(w) = (w + 0.5) 2^-32, written so that it vectorises on AVX2 (which has no
// unsigned 32-bit -> double conversion): the signed value w - 2^31 converts exactly, and
// every step below is exact, so the result equals uniform(w) bit for bit.
inline double uniform_v(std::uint32_t w) {
  const auto s = static_cast<std::int32_t>(w ^ 0x80000000u);
  return (static_cast<double>(s) + 2147483648.5) * 0x1p-32;
}

// out = log(x) on N lanes (a multiple of 4), SLEEF's AVX2 kernel 4 at a time.
template <std::size_t N>
inline void log_lanes(const double* x, double* out) {  // out may be x
  static_assert(N % 4 == 0);
  for (std::size_t i = 0; i < N; i += 4)
    _mm256_storeu_pd(out + i, Sleef_logd4_u35avx2(_mm256_loadu_pd(x + i)));
}

// Box-Muller on kChunk word pairs: za = sqrt(-2 ln u(wa)) cos(2 pi u(wb)), zb = ... sin.
// cos and sin are taken in separate loops: in one loop GCC 12 merges them into a scalar
// sincos call before vectorisation and the whole loop stays scalar.
// The radius sqrt(-2 ln u(wa)) and angle 2 pi u(wb) of kChunk Box-Muller pairs, and the cos
// normal r cos(theta): one inline body for box_muller_chunk and box_muller_cos_chunk, so the
// two compute row 0 with the same code.
inline void box_muller_cos(const std::uint32_t* __restrict wa, const std::uint32_t* __restrict wb,
                           double* __restrict r, double* __restrict theta, double* __restrict za) {
  constexpr double kTwoPi = 2.0 * std::numbers::pi;
  for (std::size_t i = 0; i < kChunk; ++i) {
    r[i] = uniform_v(wa[i]);
    theta[i] = kTwoPi * uniform_v(wb[i]);
  }
  log_lanes<kChunk>(r, r);
  for (std::size_t i = 0; i < kChunk; ++i) r[i] = std::sqrt(-2.0 * r[i]);
  for (std::size_t i = 0; i < kChunk; ++i) za[i] = r[i] * std::cos(theta[i]);
}

__attribute__((noinline)) void box_muller_chunk(const std::uint32_t* __restrict wa,
                                                const std::uint32_t* __restrict wb,
                                                double* __restrict za, double* __restrict zb) {
  alignas(32) double r[kChunk];
  alignas(32) double theta[kChunk];
  box_muller_cos(wa, wb, r, theta, za);
  for (std::size_t i = 0; i < kChunk; ++i) zb[i] = r[i] * std::sin(theta[i]);
}

// The cos half of box_muller_chunk (the same inline body), bit-identical to its za.
__attribute__((noinline)) void box_muller_cos_chunk(const std::uint32_t* __restrict wa,
                                                    const std::uint32_t* __restrict wb,
                                                    double* __restrict za) {
  alignas(32) double r[kChunk];
  alignas(32) double theta[kChunk];
  box_muller_cos(wa, wb, r, theta, za);
}

__attribute__((noinline)) void exp_chunk(const double* __restrict x, double* __restrict out) {
  for (std::size_t i = 0; i < kChunk; ++i) out[i] = std::exp(x[i]);
}

__attribute__((noinline)) void log_kchunk(const double* __restrict x, double* __restrict out) {
  log_lanes<kChunk>(x, out);
}

// out = f(x) chunk by chunk; `out` may alias `x`: each chunk is staged through a local buffer,
// so the kernel's restrict-qualified arguments never overlap. A last partial chunk is padded
// with `pad` (in the function's domain).
template <class Chunk>
void chunked(Chunk chunk, const double* x, std::size_t n, double* out, double pad) {
  assert(n % kLanes == 0);
  alignas(32) double in[kChunk];
  std::size_t base = 0;
  for (; base + kChunk <= n; base += kChunk) {
    std::memcpy(in, x + base, sizeof(in));
    chunk(in, out + base);
  }
  if (base < n) {
    const std::size_t m = n - base;
    alignas(32) double res[kChunk];
    std::fill(std::begin(in), std::end(in), pad);
    std::memcpy(in, x + base, m * sizeof(double));
    chunk(in, res);
    std::memcpy(out + base, res, m * sizeof(double));
  }
}

}  // namespace

// Elementwise kernels for engine/rng/beta.cpp (see vector_math.h); `x`, `y` and `out` must not
// overlap.
namespace detail {
static_assert(kMathChunk % 4 == 0);

__attribute__((noinline)) void log_chunk(const double* __restrict x, double* __restrict out) {
  log_lanes<kMathChunk>(x, out);
}

__attribute__((noinline)) void cos_chunk(const double* __restrict x, double* __restrict out) {
  for (std::size_t i = 0; i < kMathChunk; ++i) out[i] = std::cos(x[i]);
}

__attribute__((noinline)) void pow_chunk(const double* __restrict x, const double* __restrict y,
                                         double* __restrict out) {
  for (std::size_t i = 0; i < kMathChunk; ++i) out[i] = std::pow(x[i], y[i]);
}
}  // namespace detail

namespace {

// philox_batch with the counter index `index`, or indices[i] per lane when indices is given.
void philox_words(Key key, const std::uint32_t* units, std::uint32_t replication,
                  std::uint32_t year, std::uint32_t index, const std::uint32_t* indices,
                  std::size_t n, std::uint32_t* out) {
  assert(n % kLanes == 0);
  const KeySchedule ks = schedule(key);
  std::size_t base = 0;
  for (; base + kChunk <= n; base += kChunk) {
    philox_chunk(ks, units + base, replication, year, index, indices ? indices + base : nullptr,
                 out + base, out + n + base, out + 2 * n + base, out + 3 * n + base);
  }
  if (base < n) {
    const std::size_t m = n - base;
    alignas(32) std::uint32_t u[kChunk] = {};
    alignas(32) std::uint32_t ix[kChunk] = {};
    alignas(32) std::uint32_t w[4][kChunk];
    std::memcpy(u, units + base, m * sizeof(std::uint32_t));
    if (indices) std::memcpy(ix, indices + base, m * sizeof(std::uint32_t));
    philox_chunk(ks, u, replication, year, index, indices ? ix : nullptr, w[0], w[1], w[2], w[3]);
    for (std::size_t j = 0; j < 4; ++j) {
      std::memcpy(out + j * n + base, w[j], m * sizeof(std::uint32_t));
    }
  }
}

}  // namespace

void philox_batch(Key key, const std::uint32_t* units, std::uint32_t replication,
                  std::uint32_t year, std::uint32_t index, std::size_t n, std::uint32_t* out) {
  philox_words(key, units, replication, year, index, nullptr, n, out);
}

void philox_batch_indexed(Key key, const std::uint32_t* units, std::uint32_t replication,
                          std::uint32_t year, const std::uint32_t* indices, std::size_t n,
                          std::uint32_t* out) {
  philox_words(key, units, replication, year, 0, indices, n, out);
}

namespace {

// `pairs` Box-Muller pairs (1 or 2) per counter, or pairs = 0: only the cos normal of the
// first pair; words always receives all four words.
void normal_batch(int pairs, Key key, const std::uint32_t* units, std::uint32_t replication,
                  std::uint32_t year, std::uint32_t index, const std::uint32_t* indices,
                  std::size_t n, std::uint32_t* words, double* z) {
  assert(n % kLanes == 0);
  const KeySchedule ks = schedule(key);
  std::size_t base = 0;
  for (; base + kChunk <= n; base += kChunk) {
    std::uint32_t* w[4];
    for (std::size_t j = 0; j < 4; ++j) w[j] = words + j * n + base;
    philox_chunk(ks, units + base, replication, year, index, indices ? indices + base : nullptr,
                 w[0], w[1], w[2], w[3]);
    if (pairs == 0) box_muller_cos_chunk(w[0], w[1], z + base);
    for (int p = 0; p < pairs; ++p)
      box_muller_chunk(w[2 * p], w[2 * p + 1], z + 2 * p * n + base, z + (2 * p + 1) * n + base);
  }
  if (base < n) {
    const std::size_t m = n - base;
    alignas(32) std::uint32_t u[kChunk] = {};
    alignas(32) std::uint32_t w[4][kChunk];
    alignas(32) double zz[4][kChunk];
    alignas(32) std::uint32_t ix[kChunk] = {};
    std::memcpy(u, units + base, m * sizeof(std::uint32_t));
    if (indices) std::memcpy(ix, indices + base, m * sizeof(std::uint32_t));
    philox_chunk(ks, u, replication, year, index, indices ? ix : nullptr, w[0], w[1], w[2], w[3]);
    if (pairs == 0) box_muller_cos_chunk(w[0], w[1], zz[0]);
    for (int p = 0; p < pairs; ++p)
      box_muller_chunk(w[2 * p], w[2 * p + 1], zz[2 * p], zz[2 * p + 1]);
    for (std::size_t j = 0; j < 4; ++j)
      std::memcpy(words + j * n + base, w[j], m * sizeof(std::uint32_t));
    for (int j = 0; j < std::max(1, 2 * pairs); ++j)
      std::memcpy(z + j * n + base, zz[j], m * sizeof(double));
  }
}

}  // namespace

void normal4_batch(Key key, const std::uint32_t* units, std::uint32_t replication,
                   std::uint32_t year, std::uint32_t index, std::size_t n, std::uint32_t* words,
                   double* z) {
  normal_batch(2, key, units, replication, year, index, nullptr, n, words, z);
}

void normal1_batch(Key key, const std::uint32_t* units, std::uint32_t replication,
                   std::uint32_t year, std::uint32_t index, std::size_t n, std::uint32_t* words,
                   double* z) {
  normal_batch(0, key, units, replication, year, index, nullptr, n, words, z);
}

void normal1_batch_indexed(Key key, const std::uint32_t* units, std::uint32_t replication,
                           std::uint32_t year, const std::uint32_t* indices, std::size_t n,
                           std::uint32_t* words, double* z) {
  normal_batch(0, key, units, replication, year, 0, indices, n, words, z);
}

void normal2_batch(Key key, const std::uint32_t* units, std::uint32_t replication,
                   std::uint32_t year, std::uint32_t index, std::size_t n, std::uint32_t* words,
                   double* z) {
  normal_batch(1, key, units, replication, year, index, nullptr, n, words, z);
}

void exp_batch(const double* x, std::size_t n, double* out) {
  chunked(exp_chunk, x, n, out, 0.0);
}

void log_batch(const double* x, std::size_t n, double* out) {
  chunked(log_kchunk, x, n, out, 1.0);
}

}  // namespace incsim::rng
