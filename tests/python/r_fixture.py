#!/usr/bin/env python3
"""Set-up of the R reader test (tests/r/read_result.R): a small run in both coordinate layouts
(string_scales.py) and a small sweep, and `expected.csv` with the h5py values the R test must
read: file, key, value (17 significant digits, so that R parses the same double).

Usage: r_fixture.py INCSIM_BINARY SCENARIOS_DIR OUTDIR
"""
import os
import subprocess
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree (before the imports below)

import h5py
import numpy as np

import string_scales


def text(v):
    return v.decode() if isinstance(v, bytes) else str(v)


def labels(root, scale, legacy):
    values = root[scale][()]
    source = values if values.dtype.kind == "O" else root[legacy][()]
    return [text(v) for v in source]


def expected_of(root, year):
    """key -> value, as read by h5py (the keys the R test knows)."""
    years = [int(y) for y in root["year"][()]]
    t = years.index(year)
    levels = list(root["quantile"][()])
    poor = labels(root, "group_poor", "groups/poor/labels").index("poor")
    crayfish = labels(root, "market", "markets/name").index("crayfish")
    village = labels(root, "village_index", "households/village_labels")
    v = village.index(village[-1])
    return {
        "fgt0_last": root["poverty/fgt0"][-1],
        "fgt0_se_last": root["poverty/fgt0_se"][-1],
        "ever_poor": root["poverty/ever_poor"][()],
        "poor_fgt0_year": root["groups/poor/fgt0"][poor, t],
        "median_income_year": root["income/quantiles"][t, levels.index(0.5)],
        "crayfish_price_year": root["prices/mean"][t, crayfish],
        "last_village_income_year": root["groups/village/income_mean"][v, t],
        "years": len(years),
        "poor_groups": root["groups/poor/fgt0"].shape[0],
    }


def main():
    binary, scenarios, out = sys.argv[1:4]
    os.makedirs(out, exist_ok=True)
    run = os.path.join(out, "run.h5")
    subprocess.run([binary, "run", os.path.join(scenarios, "xianning_2019.yaml"), "-o", run, "-q",
                    "--replications", "20", "--set", "population.households=150"], check=True)
    integer, string = string_scales.both_layouts(run)
    sweep_file, sweep = os.path.join(out, "sweep.yaml"), os.path.join(out, "sweep.h5")
    with open(sweep_file, "w") as f:
        f.write(f"base: {os.path.abspath(os.path.join(scenarios, 'xianning_2019.yaml'))}\n"
                "set: {population.households: 120, scenario.replications: 12}\n"
                "parameters: {markets.crayfish.volatility: [0.15, 0.35]}\n")
    subprocess.run([binary, "sweep", sweep_file, "-o", sweep, "-q", "--restart"], check=True,
                   stderr=subprocess.DEVNULL)
    rows = []
    for path in (integer, string):
        with h5py.File(path, "r") as f:
            for key, value in expected_of(f, 2021).items():
                rows.append((os.path.basename(path), key, value))
    with h5py.File(sweep, "r") as f:
        for key, value in expected_of(f["points/1"], 2021).items():
            rows.append(("sweep.h5:points/1", key, value))
        rows.append(("sweep.h5", "fgt0_diff_1_last", f["sweep/fgt0_diff"][1, -1]))
        rows.append(("sweep.h5", "fgt0_diff_se_1_last", f["sweep/fgt0_diff_se"][1, -1]))
    with open(os.path.join(out, "expected.csv"), "w") as f:
        f.write("file,key,value\n")
        for name, key, value in rows:
            f.write(f"{name},{key},{float(np.asarray(value)):.17g}\n")
    print(f"wrote {len(rows)} expected values to {os.path.join(out, 'expected.csv')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
