#!/usr/bin/env bash
# Builds the libFuzzer targets of tests/fuzz/ with clang, ASan and UBSan into ./build-fuzz,
# assembles their seed corpora and runs each target for SECONDS seconds (as many at a time as
# there are cores). Prints per target the executions and the corpus size; crash, leak, timeout
# and out-of-memory inputs go to build-fuzz/crashes/<target>/, and the exit status is 1 if any
# target found something (2 for a usage or set-up error).
# Usage: bash tools/fuzz.sh [--build-only | --no-build] SECONDS [TARGET...]
#   TARGET       scenario, csv, sweep, inspect (default: all four)
#   --build-only build the targets and assemble the corpora, run nothing (no SECONDS)
#   --no-build   use the build as it is (the ctest entries fuzz.<target>, after fuzz.build)
# Environment: INCSIM, the incsim binary that writes the inspect target's seed results
# (default build/incsim); FUZZ_PARALLEL, targets run at a time (default: the cores);
# FUZZ_KEEP_GOING=1, go on fuzzing after a finding for the whole time (libFuzzer's -fork=1
# with -ignore_crashes, -ignore_ooms, -ignore_timeouts) to collect every distinct artefact;
# FUZZ_DIR, the build and corpus directory (default build-fuzz).
# A target's corpus, build-fuzz/corpus/<target>/, is kept between runs and grows; the seeds
# (scenarios/, tests/bad_inputs/, tests/regression/scenarios/, tests/fuzz/seeds/, a few small
# results written by incsim, tests/fuzz/known_libhdf5/ for inspect, and the reproducers of
# findings in tests/fuzz/regressions/<target>/)
# are copied in at every build.
set -euo pipefail
cd "$(dirname "$0")/.."

all_targets=(scenario csv sweep inspect)
usage() {
  sed -n '7,10p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
}
build=1 run=1
case "${1:-}" in
  --build-only) run=0; shift ;;
  --no-build) build=0; shift ;;
esac
seconds=0
if ((run)); then
  [[ "${1:-}" =~ ^[1-9][0-9]*$ ]] || usage
  seconds=$1
  shift
fi
targets=("$@")
((${#targets[@]})) || targets=("${all_targets[@]}")
for t in "${targets[@]}"; do
  [[ " ${all_targets[*]} " == *" $t "* ]] || { echo "fuzz: unknown target '$t'" >&2; usage; }
done

mkdir -p "${FUZZ_DIR:-build-fuzz}"
out=$(cd "${FUZZ_DIR:-build-fuzz}" && pwd)
bin=$out/tests/fuzz
jobs=$(nproc 2>/dev/null || echo 2)

# seed TARGET FILE...: copies the files into the target's corpus under names that keep their
# origin, relative to the source tree or $out (inputs libFuzzer adds are named by their hash).
seed() {
  local t=$1 f name
  shift
  mkdir -p "$out/corpus/$t"
  for f in "$@"; do
    name=${f#"$out"/}
    if [ -f "$f" ]; then cp "$f" "$out/corpus/$t/seed-${name//\//_}"; fi
  done
}

# seed_results: small result files for the inspect target, one per reader path (a plain run;
# insurance and hazards; health and the guard; the csv scenario's convergence batches; a stack
# sweep's /sweep table), rewritten when the incsim binary is newer.
seed_results() {
  local incsim=${INCSIM:-build/incsim} h5=$out/seed-results s
  if [ ! -x "$incsim" ]; then
    echo "fuzz: $incsim not found: build it first (bash tools/setup.sh) or set INCSIM" >&2
    exit 2
  fi
  mkdir -p "$h5"
  # write_result NAME COMMAND...: runs `incsim COMMAND... -o $h5/NAME.h5` unless that file is newer.
  write_result() {
    local name=$1
    shift
    [ "$h5/$name.h5" -nt "$incsim" ] && return 0
    "$incsim" "$@" -o "$h5/$name.h5" >"$h5/$name.log" 2>&1 || {
      cat "$h5/$name.log" >&2
      echo "fuzz: cannot write the seed result $h5/$name.h5" >&2
      exit 2
    }
  }
  local small=(--threads 1 -q --set population.households=20 --set choice.pilot_replications=2)
  for s in xianning_2019 tongshan_double_insurance tongcheng_poverty_guard; do
    write_result $s run "scenarios/$s.yaml" --replications 2 "${small[@]}" \
      --set output.histogram_bins=8 --set 'output.quantiles=[0.1, 0.5, 0.9]' \
      --set output.sample_paths=1
  done
  write_result csv_expected_utility run tests/regression/scenarios/csv_expected_utility.yaml \
    --replications 10 --threads 1 -q
  write_result sweep_insurance_stack sweep scenarios/sweep_insurance_stack.yaml --table-only \
    --set scenario.replications=2 "${small[@]}"
  seed inspect "$h5"/*.h5
}

if ((build)); then
  if ! command -v clang++ >/dev/null; then
    echo "fuzz: clang++ not found (bash tools/setup.sh installs clang and libFuzzer)" >&2
    exit 2
  fi
  if [ ! -f "$out/CMakeCache.txt" ]; then
    CC=clang CXX=clang++ cmake -S . -B "$out" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
      -DINCSIM_FUZZ=ON -DINCSIM_BUILD_TESTS=OFF -DINCSIM_BUILD_BENCHMARKS=OFF >/dev/null
  fi
  # Only the fuzz targets and the stages they link, never the whole project.
  cmake --build "$out" -j "$jobs" --target "${targets[@]/#/fuzz_}"

  shopt -s nullglob
  for t in "${targets[@]}"; do
    case $t in
      scenario)
        runs=()
        for f in scenarios/*.yaml; do [[ $f == scenarios/sweep_* ]] || runs+=("$f"); done
        seed scenario "${runs[@]}" tests/bad_inputs/*.yaml tests/regression/scenarios/*.yaml
        ;;
      csv) seed csv tests/bad_inputs/data/*.csv tests/regression/scenarios/*.csv ;;
      sweep) seed sweep scenarios/sweep_*.yaml tests/fuzz/seeds/sweep/*.yaml ;;
      inspect) seed_results && seed inspect tests/fuzz/seeds/inspect/* tests/fuzz/known_libhdf5/* ;;
    esac
    seed "$t" tests/fuzz/regressions/"$t"/*
  done
  shopt -u nullglob
fi
((run)) || exit 0

for t in "${targets[@]}"; do
  if [ ! -x "$bin/fuzz_$t" ]; then
    echo "fuzz: $bin/fuzz_$t is not built (run without --no-build)" >&2
    exit 2
  fi
done
mkdir -p "$out/logs" "$out/tmp"
symbolizer=$(command -v llvm-symbolizer || true)
for f in /usr/lib/llvm-*/bin/llvm-symbolizer; do
  [ -n "$symbolizer" ] || [ ! -x "$f" ] || symbolizer=$f
done
keep_going=()
if [ "${FUZZ_KEEP_GOING:-0}" = 1 ]; then
  keep_going=(-fork=1 -ignore_crashes=1 -ignore_ooms=1 -ignore_timeouts=1)
fi

# fuzz_one TARGET: runs it for $seconds; its output goes to $out/logs/TARGET.log. Each fuzzing
# process writes the inputs it hands the engine by path under its own directory in $out/tmp.
# allocator_may_return_null with max_allocation_size_mb: a malloc of 2 GiB or more returns NULL,
# as the C library may, so that libhdf5 refusing an absurd size from a corrupt file is not a
# finding; in our code `new` then makes ASan report "out of memory" with the stack (a finding).
# -rss_limit_mb bounds the fuzzing process; fuzz_inspect bounds its reading child itself.
# An input that takes over 10 s is a finding (slow-unit-*), except for inspect, whose reading
# child runs under a CPU limit of 10 s (fuzz_inspect.cpp): libhdf5 spends seconds zeroing a
# buffer of the size a corrupt variable-length string declares, and the child's wall time
# (with its stack trace symbolised) can pass 10 s on a loaded machine; the 30 s timeout
# stays a finding.
# fuzz_inspect forks a reading child per input, which must happen in a single-threaded
# process: libFuzzer's RSS thread (-rss_limit_mb > 0) can hold the sanitizer allocator's lock
# at the fork, and the child's leak check then waits for it for ever. Its parent stays small
# (the child bounds its own memory); allocations of 2 GiB or more fail in both (ASan's
# max_allocation_size_mb).
fuzz_one() {
  local t=$1 slow=10 rss=2048
  [ "$t" = inspect ] && slow=30 && rss=0
  mkdir -p "$out/crashes/$t" "$out/corpus/$t"
  TMPDIR=$out/tmp ASAN_SYMBOLIZER_PATH=$symbolizer \
    ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=1:max_allocation_size_mb=2048 \
    UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    LSAN_OPTIONS=suppressions=$PWD/tests/fuzz/lsan.supp:print_suppressions=0 \
    "$bin/fuzz_$t" -max_total_time="$seconds" -timeout=30 -report_slow_units=$slow -rss_limit_mb=$rss \
    -print_final_stats=1 "${keep_going[@]}" -artifact_prefix="$out/crashes/$t/" \
    "$out/corpus/$t" >"$out/logs/$t.log" 2>&1
}

# innermost_frame LOG: the innermost frame of LOG's first report that is neither the
# sanitizers', libFuzzer's nor the C and C++ runtimes': whether a fault is in incsim or in a
# library it calls (libhdf5 is not instrumented, and its bugs are not ours to fix).
innermost_frame() {
  awk 'BEGIN {
         skip = "__interceptor|__asan|__sanitizer|__lsan|__ubsan|fuzzer::|libc\\.so|libgcc_s|"
         skip = skip "libstdc\\+\\+|operator new| in (std::|__gnu_cxx::|malloc|calloc|realloc|"
         skip = skip "abort|raise|__pthread)"
       }
       /ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|runtime error:/ {on = 1}
       on && /^ +#[0-9]+ / && $0 !~ skip {
         sub(/^ +#[0-9]+ 0x[0-9a-f]+ in /, "")
         print "  innermost frame: " substr($0, 1, 160)
         exit
       }' "$1"
}

parallel=${FUZZ_PARALLEL:-$jobs}
echo "fuzz: ${targets[*]} for $seconds s each, $parallel at a time; logs in $out/logs/"
declare -A status
pids=()
for t in "${targets[@]}"; do
  # Artefacts of earlier runs stay in crashes/<target>/; only new ones count for this run.
  find "$out/crashes/$t" -type f 2>/dev/null | sort >"$out/logs/$t.before" || true
  fuzz_one "$t" &
  pids+=($!)
  while (($(jobs -rp | wc -l) >= parallel)); do wait -n || true; done
done
for i in "${!pids[@]}"; do
  rc=0
  wait "${pids[$i]}" || rc=$?
  status[${targets[$i]}]=$rc
done

found=0
row='%-9s %-7s %11s %7s %13s %13s\n'
# shellcheck disable=SC2059
printf "$row" target result executions exec/s "corpus files" "corpus bytes"
for t in "${targets[@]}"; do
  log=$out/logs/$t.log
  # libFuzzer's final statistics; with -fork, the parent's last line "#N: cov: ... exec/s R".
  execs=$(awk '/^stat::number_of_executed_units:/ {n = $2} END {print n}' "$log")
  rate=$(awk '/^stat::average_exec_per_sec:/ {n = $2} END {print n}' "$log")
  if [ -z "$execs" ]; then
    execs=$(awk '/^#[0-9]+: cov:/ {n = substr($1, 2, length($1) - 2)} END {print n}' "$log")
    rate=$(awk '/^#[0-9]+: cov:/ {for (i = 1; i < NF; i++) if ($i == "exec/s") r = $(i + 1)}
                END {print r}' "$log")
  fi
  files=$(find "$out/corpus/$t" -type f | wc -l)
  bytes=$(find "$out/corpus/$t" -type f -printf '%s\n' | awk '{s += $1} END {print s + 0}')
  new=$(comm -13 "$out/logs/$t.before" <(find "$out/crashes/$t" -type f | sort))
  result=clean
  if [ "${status[$t]}" -ne 0 ] || [ -n "$new" ]; then
    result=FOUND
    found=1
  fi
  # shellcheck disable=SC2059
  printf "$row" "$t" $result "${execs:-?}" "${rate:-?}" "$files" "$bytes"
  if [ $result = FOUND ]; then
    echo "  exit status ${status[$t]}; log $log; new artefacts:"
    while read -r f; do echo "    ${f:-none}"; done <<<"$new"
    grep -E '^(==[0-9]+==ERROR|SUMMARY:|.*runtime error:|fuzz harness:)' "$log" | sort -u |
      head -8 | sed 's/^/  /'
    innermost_frame "$log"
  fi
done
exit $found
