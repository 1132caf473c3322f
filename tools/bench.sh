#!/usr/bin/env bash
# Whole-run benchmarks in household-years per second (households x years x replications per
# second of simulation, as `incsim run` reports it), best of REPEAT runs (the machines are
# shared and noisy: compare two builds in one session, as ratios, never against old figures).
#
# Workloads (10,000 households x 5 years x 1,000 replications):
#   bench-fixed      scenarios/bench.yaml with fixed portfolio shares (no hazards, no insurance)
#   tongshan-fixed   scenarios/tongshan_double_insurance.yaml, the same fixed shares: six
#                    hazards of every scope, agricultural and income index insurance
#   tongshan-none    scenarios/tongshan_no_insurance.yaml, the same hazards without insurance
#   bench-health     bench-fixed plus the health section of scenarios/xianning_2019.yaml (two
#                    illnesses, 0.59 episodes per person-year, days lost); compare with
#                    bench-fixed for the cost of the health stage
#   choice           the choice step of scenarios/bench.yaml as bundled (expected utility,
#                    30 portfolios x 200 pilot replications), seconds and pilot
#                    household-years per second
#   mpi              (not in the default list) the wall time of the whole bundled bench run,
#                    `mpirun -n 2 incsim run scenarios/bench.yaml` against
#                    `incsim run scenarios/bench.yaml --threads 2`, launcher included,
#                    alternating the two REPEAT times each: medians and their ratio (the
#                    THREADS arguments do not apply); then the launcher's own cost, the
#                    medians of `mpirun -n 2 incsim --version` (MPI started and ended on two
#                    ranks, nothing else) and `incsim --version`, and the ratio the run would
#                    have if incsim added nothing to it
#
# Usage: bash tools/bench.sh [THREADS...]        (default: 1 2)
#   INCSIM=path/to/incsim  REPEAT=3  WORKLOADS="bench-fixed choice"  bash tools/bench.sh 2
set -euo pipefail
cd "$(dirname "$0")/.."
incsim=${INCSIM:-build/incsim}
repeat=${REPEAT:-3}
workloads=${WORKLOADS:-"bench-fixed bench-health tongshan-fixed tongshan-none choice"}
threads_list=("$@")
((${#threads_list[@]})) || threads_list=(1 2)
[ -x "$incsim" ] || bash tools/setup.sh
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

# The fixed shares of the bench scenario before households chose (60% run a portfolio).
fixed=(--set choice.rule=fixed --set 'choice.portfolios=[
  {main: rice_crayfish_115, aux: chicken_135, share: 0.20},
  {main: rice_crayfish_115, aux: perilla_114, share: 0.10},
  {main: chicken_135, aux: perilla_114, share: 0.10},
  {main: perilla_114, aux: bee_212, share: 0.05},
  {main: shegan_139, aux: perilla_114, share: 0.05},
  {main: huangjing_143, aux: chicken_135, share: 0.05},
  {main: bee_212, aux: chicken_135, share: 0.05}]')
size=(--set population.households=10000 --replications 1000)
health=(--set 'health={illnesses: [{name: outpatient, probability: 0.34, cost: {mean: 520, cv: 1.0}},
  {name: inpatient, probability: 0.25, cost: {mean: 8000, cv: 1.2}, days_lost: 30}],
  reimbursement: {poor: 0.9117, other: 0.55}, out_of_pocket_cap: {poor: 5000}}')

args_of() {
  case $1 in
    bench-fixed | bench-health) echo scenarios/bench.yaml ;;
    tongshan-fixed) echo scenarios/tongshan_double_insurance.yaml ;;
    tongshan-none) echo scenarios/tongshan_no_insurance.yaml ;;
    choice) echo scenarios/bench.yaml ;;
  esac
}

# Wall seconds of one command; the median of numbers on stdin.
wall() {
  local t0 t1
  t0=$(date +%s.%N)
  "$@" >/dev/null
  t1=$(date +%s.%N)
  awk -v a="$t0" -v b="$t1" 'BEGIN{print b-a}'
}
median() { sort -g | awk '{v[NR]=$1} END{print (NR%2)?v[(NR+1)/2]:(v[NR/2]+v[NR/2+1])/2}'; }
mpi2() { OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 mpirun --oversubscribe -n 2 "$@"; }

# Medians of REPEAT wall times of two commands run alternately, as "one two"; the commands are
# the words before and after a lone `--`.
alternate() {
  local first=() second=() a=() b=() k seen=0 arg
  for arg in "$@"; do
    if [ "$arg" = -- ]; then seen=1; elif ((seen)); then second+=("$arg"); else first+=("$arg"); fi
  done
  for ((k = 0; k < repeat; ++k)); do
    a+=("$(wall "${first[@]}")")
    b+=("$(wall "${second[@]}")")
  done
  echo "$(printf '%s\n' "${a[@]}" | median) $(printf '%s\n' "${b[@]}" | median)"
}

# The MPI comparison: median wall seconds of REPEAT runs of each, alternating; then the
# launcher's own cost the same way.
mpi_ratio() {
  command -v mpirun >/dev/null || { echo "mpi: mpirun not found"; return; }
  local m1 m2 b1 b2
  read -r m1 m2 < <(alternate "$incsim" run scenarios/bench.yaml --threads 2 -o "$out/t.h5" \
    -- mpi2 "$incsim" run scenarios/bench.yaml -o "$out/m.h5")
  printf 'mpi: --threads 2 %.2f s, mpirun -n 2 %.2f s (median of %d each, wall): ratio %.3f\n' \
    "$m1" "$m2" "$repeat" "$(awk -v a="$m1" -v b="$m2" 'BEGIN{print b/a}')"
  read -r b1 b2 < <(alternate "$incsim" --version -- mpi2 "$incsim" --version)
  printf 'mpi: the launcher alone, mpirun -n 2 incsim --version %.3f s against incsim --version %.3f s: floor ratio %.3f\n' \
    "$b2" "$b1" "$(awk -v a="$m1" -v c="$b1" -v d="$b2" 'BEGIN{print (a+d-c)/a}')"
}

for w in $workloads; do [ "$w" = mpi ] && mpi_ratio; done

for threads in "${threads_list[@]}"; do
  for w in $workloads; do
    [ "$w" = mpi ] && continue
    best=0 best_choice=999999
    for ((k = 0; k < repeat; ++k)); do
      if [ "$w" = choice ]; then
        summary=$("$incsim" run "$(args_of "$w")" --replications 2 --threads "$threads" \
                  -o "$out/b.h5")
        s=$(sed -nE 's/.*model and choice of portfolios: ([0-9.]+) s.*/\1/p' <<<"$summary")
        best_choice=$(awk -v a="$s" -v b="$best_choice" 'BEGIN{print (a<b)?a:b}')
      else
        extra=()
        [ "$w" = bench-health ] && extra=("${health[@]}")
        # shellcheck disable=SC2046
        summary=$("$incsim" run $(args_of "$w") "${size[@]}" "${fixed[@]}" "${extra[@]}" \
                  --threads "$threads" -o "$out/b.h5")
        rate=$(sed -nE 's/.*\(([0-9.]+) M household-years\/s\).*/\1/p' <<<"$summary" | head -1)
        best=$(awk -v a="$rate" -v b="$best" 'BEGIN{print (a>b)?a:b}')
      fi
    done
    if [ "$w" = choice ]; then
      # 10,000 households x 30 portfolios x 200 pilot replications x 5 years (an upper bound:
      # infeasible portfolios are skipped).
      rate=$(awk -v s="$best_choice" 'BEGIN{printf "%.1f", 10000*30*200*5/s/1e6}')
      printf 'threads=%s  %-15s %6.2f s  (%s M pilot household-years/s at most)\n' \
        "$threads" "$w" "$best_choice" "$rate"
    else
      printf 'threads=%s  %-15s %6.1f M household-years/s\n' "$threads" "$w" "$best"
    fi
  done
done
