#!/usr/bin/env python3
"""Every dataset of a full result (all insurance products, sample paths, convergence) is
documented in the README's Output table.

Usage: test_readme_schema.py INCSIM_BINARY SCENARIOS_DIR TOOLS_DIR README TMPDIR
"""
import os
import subprocess
import sys


def main():
    binary, scenarios, tools, readme, tmp = sys.argv[1:6]
    os.makedirs(tmp, exist_ok=True)
    out = os.path.join(tmp, "readme_schema.h5")
    guard = ("insurance.poverty_guard={threshold: 1.5, cap: 10000, premium_per_capita: 40, "
             "subsidy: {poor: 1, other: 1}, enrollment: {poor: 1, other: 0.5}}")
    subprocess.run([binary, "run", os.path.join(scenarios, "tongshan_double_insurance.yaml"),
                    "-o", out, "-q", "--replications", "40", "--set", "population.households=80",
                    "--set", "choice.pilot_replications=10", "--set", "output.sample_paths=2",
                    "--set", "output.target={measure: fgt0, year: 1, standard_error: 1e-9, batch: 20}",
                    "--set", guard], check=True, stdout=subprocess.DEVNULL)
    table = subprocess.run([sys.executable, os.path.join(tools, "schema_table.py"), out],
                           check=True, capture_output=True, text=True).stdout
    documented = open(readme, encoding="utf-8").read()
    rows = [line.split("|")[1].strip() for line in table.splitlines()[2:]]
    missing = [name for name in rows if name not in documented]
    for name in missing:
        print("FAIL: not documented in README.md:", name)
    print(f"{len(rows) - len(missing)} passed, {len(missing)} failed")
    return 1 if missing or not rows else 0


if __name__ == "__main__":
    sys.exit(main())
