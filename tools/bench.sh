#!/usr/bin/env bash
# Whole-run benchmark: runs scenarios/bench.yaml (10,000 households x 5 years x 1,000
# replications) on 1 and 2 threads and prints household-years per second (simulation and
# end to end, including model building and writing the HDF5 file).
# Usage: bash tools/bench.sh [scenario.yaml] [extra incsim run args...]
set -euo pipefail
cd "$(dirname "$0")/.."
scenario=${1:-scenarios/bench.yaml}
shift || true
[ -x build/incsim ] || bash tools/setup.sh
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
for threads in 1 2; do
  start=$(date +%s.%N)
  summary=$(build/incsim run "$scenario" -o "$out/bench.h5" --threads "$threads" "$@")
  end=$(date +%s.%N)
  line=$(grep -m1 "household-years in" <<<"$summary")
  hy=$(sed -E 's/simulated ([0-9.e+]+) household-years.*/\1/' <<<"$line")
  rate=$(sed -E 's/.*\(([0-9.]+) M household-years\/s\).*/\1/' <<<"$line")
  wall=$(awk -v a="$start" -v b="$end" 'BEGIN{printf "%.2f", b-a}')
  e2e=$(awk -v h="$hy" -v w="$wall" 'BEGIN{printf "%.1f", h/w/1e6}')
  echo "threads=$threads  simulation: $rate M household-years/s   end to end: $e2e M household-years/s ($wall s)"
done
