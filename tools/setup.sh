#!/usr/bin/env bash
# Installs the Debian packages incsim needs (only those missing), then configures and builds
# into ./build. Safe to run repeatedly.
# Usage: bash tools/setup.sh [--no-tests] [extra cmake args...]
#   --no-tests   the incsim command only: no test suite, no benchmarks, and none of the
#                packages only they need (the quick start's first command)
set -euo pipefail
cd "$(dirname "$0")/.."

with_tests=ON
if [ "${1:-}" = --no-tests ]; then
  with_tests=OFF
  shift
fi
packages=(build-essential cmake g++ libeigen3-dev libtbb-dev libyaml-cpp-dev libhdf5-dev
          hdf5-tools libcli11-dev libnlopt-cxx-dev libsleef-dev
          openmpi-bin libopenmpi-dev)  # optional: mpirun -n K incsim run|sweep (README)
if [ "$with_tests" = ON ]; then
  packages+=(libgtest-dev libgmock-dev libbenchmark-dev
             python3 python3-h5py python3-numpy python3-yaml
             python3-matplotlib python3-xarray python3-h5netcdf python3-pandas
             python3-jsonschema  # the scenario schema test (tests/python/test_schema.py)
             fonts-noto-cjk  # CJK scenario and village names in the charts
             chromium  # renders tools/report.py's HTML headless (tests/python/test_report.py)
             r-base-core r-cran-hdf5r  # the R reader test (tests/r/read_result.R)
             clang libclang-rt-dev llvm)  # the fuzz smoke runs (tests/fuzz, tools/fuzz.sh)
fi
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}" >&2
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

jobs=$(nproc 2>/dev/null || echo 2)
# Both options are passed every time, so the test command after a --no-tests build turns the
# suite back on (the cache would otherwise keep it off).
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DINCSIM_BUILD_TESTS="$with_tests" \
      -DINCSIM_BUILD_BENCHMARKS="$with_tests" "$@" >/dev/null
cmake --build build -j "$jobs"
