#!/usr/bin/env bash
# An MPI job for a cluster: one rank per node, each using the node's cores with threads; the
# ranks split the replications (and the sweep points, and the households of the choice
# pilot), rank 0 writes the result, bit for bit the file one `incsim run` writes.
#   sbatch --nodes=64 tools/slurm/mpi_job.sh scenarios/bench.yaml bench.h5
# For a sweep: sbatch --nodes=16 tools/slurm/mpi_job.sh --sweep scenarios/sweep_basis_risk.yaml out.h5
#SBATCH --job-name=incsim-mpi
#SBATCH --ntasks-per-node=1
#SBATCH --cpus-per-task=32
#SBATCH --time=02:00:00
set -euo pipefail
command=run
if [[ "${1:-}" == "--sweep" ]]; then command=sweep; shift; fi
input=${1:?scenario or sweep file}
out=${2:?output file}
# srun starts the ranks under Slurm's PMI; `mpirun -n K` does the same outside Slurm.
srun --cpu-bind=none build/incsim "$command" "$input" -o "$out" \
  --threads "${SLURM_CPUS_PER_TASK:-0}"
