#!/usr/bin/env bash
# A Slurm job array that splits one incsim run into N parts, one array task each, with no MPI:
# task i runs `incsim run --part i/N` (replications of part i of the run's block grid), and a
# dependent job merges the parts into the result, bit for bit the file one `incsim run` writes.
# The same two steps work with any scheduler that numbers its tasks (PBS job arrays, Kubernetes
# indexed jobs): only the task index variable changes.
#
# Submit from the repository root (a shared file system holds the binary, scenario and parts):
#   N=64 SCENARIO=scenarios/bench.yaml OUT=bench.h5 bash tools/slurm/array_job.sh
# Every part builds the same model (the choice and fair-premium pilots are deterministic; a
# part records the model's fingerprint and the merge refuses parts that disagree).
#SBATCH --job-name=incsim-part
#SBATCH --cpus-per-task=32
#SBATCH --time=02:00:00
#SBATCH --output=parts/%x-%A_%a.log
set -euo pipefail

if [[ -z "${SLURM_ARRAY_TASK_ID:-}" ]]; then  # submitting: the array, then the merge after it
  : "${N:?set N, the number of parts}" "${SCENARIO:?set SCENARIO}" "${OUT:?set OUT}"
  mkdir -p parts
  array=$(sbatch --parsable --array=1-"$N" --export=ALL,N,SCENARIO,OUT "$0")
  sbatch --dependency=afterok:"$array" --job-name=incsim-merge --cpus-per-task=4 \
         --output=parts/merge-%j.log --wrap \
         "build/incsim merge parts/part-*-of-$N.h5 -o $OUT --threads 4"
  echo "submitted array $array ($N parts) and its merge into $OUT"
  exit 0
fi

i=$SLURM_ARRAY_TASK_ID
build/incsim run "$SCENARIO" --part "$i/$N" -o "parts/part-$i-of-$N.h5" \
  --threads "${SLURM_CPUS_PER_TASK:-0}" -q
