// Edges and values of the fine quantile bins (see incsim/stats.h for the error bound).
#include <cmath>
#include <limits>

#include "incsim/stats.h"

namespace incsim::quantile_bins {
namespace {

// Magnitude edges of the idx-th non-central bin of one sign.
double magnitude_lower(int idx) {
  const int e = idx >> kSubBits;
  const int m = idx & ((1 << kSubBits) - 1);
  return std::ldexp(1.0 + m / double(1 << kSubBits), e);
}
double magnitude_upper(int idx) {
  if (idx == kHalf - 1) return std::numeric_limits<double>::infinity();
  const int e = idx >> kSubBits;
  const int m = idx & ((1 << kSubBits) - 1);
  return std::ldexp(1.0 + (m + 1) / double(1 << kSubBits), e);
}

}  // namespace

double lower_edge(int bin) {
  if (bin == kCenter) return -1.0;
  if (bin > kCenter) return magnitude_lower(bin - kCenter - 1);
  return -magnitude_upper(kCenter - 1 - bin);
}

double upper_edge(int bin) {
  if (bin == kCenter) return 1.0;
  if (bin > kCenter) return magnitude_upper(bin - kCenter - 1);
  return -magnitude_lower(kCenter - 1 - bin);
}

double value(int bin) {
  if (bin == kCenter) return 0.0;
  const double lo = lower_edge(bin);
  const double hi = upper_edge(bin);
  if (std::isinf(lo)) return hi;
  if (std::isinf(hi)) return lo;
  return 0.5 * (lo + hi);
}

double error_bound(int bin) {
  if (bin == kCenter) return 1.0;
  const double lo = lower_edge(bin);
  const double hi = upper_edge(bin);
  return 0.5 * (hi - lo);
}

}  // namespace incsim::quantile_bins
