// Elementwise vector maths of engine/rng/batch.cpp (the -ffast-math translation unit) for the
// other rng sources, private to engine/rng/. Each kernel works on exactly kMathChunk elements
// (a compile-time trip count, a multiple of the AVX2 width: no scalar epilogue), is compiled
// once and never inlined, so every element goes through the same libmvec code and its result
// depends on its own input only. Inputs must be finite and in the function's domain (the
// translation unit assumes no NaN or infinity).
#pragma once

#include <cstddef>

namespace incsim::rng::detail {

inline constexpr std::size_t kMathChunk = 8;

void log_chunk(const double* x, double* out);                   // out = log(x), x > 0
void cos_chunk(const double* x, double* out);                   // out = cos(x)
void pow_chunk(const double* x, const double* y, double* out);  // out = pow(x, y), x > 0

}  // namespace incsim::rng::detail
