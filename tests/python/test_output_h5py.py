#!/usr/bin/env python3
"""Opens an incsim result with h5py (as an analyst would) and checks the self-description:
root attributes, `units` and `description` on every dataset, and a dimension scale attached
and labelled on every dimension of every non-scalar dataset.

Usage: test_output_h5py.py INCSIM_BINARY SCENARIO TMPDIR
"""
import os
import subprocess
import sys

import h5py
import numpy as np


def main():
    binary, scenario, tmp = sys.argv[1:4]
    os.makedirs(tmp, exist_ok=True)
    out = os.path.join(tmp, "python_output_h5py.h5")
    subprocess.run([binary, "run", scenario, "-o", out, "--replications", "16", "-q",
                    "--set", "population.households=50"], check=True, stdout=subprocess.DEVNULL)
    failures = []
    with h5py.File(out, "r") as f:
        for key in ["incsim_version", "schema_version", "scenario", "scenario_file", "seed",
                    "replications", "years", "households", "persons", "start_year",
                    "created_utc"]:
            if key not in f.attrs:
                failures.append(f"root attribute {key} missing")
        years = f["year"][:]
        if list(years) != list(range(f.attrs["start_year"], f.attrs["start_year"] + 5)):
            failures.append(f"/year is {years}")

        def check(name, obj):
            if not isinstance(obj, h5py.Dataset):
                return
            for attr in ("units", "description"):
                if attr not in obj.attrs:
                    failures.append(f"{name}: no {attr} attribute")
            if obj.attrs.get("CLASS") == b"DIMENSION_SCALE":
                return
            for k, dim in enumerate(obj.dims):
                if not dim.label:
                    failures.append(f"{name}: dimension {k} has no label")
                if len(dim) != 1:
                    failures.append(f"{name}: dimension {k} has {len(dim)} scales attached")
                elif dim[0].shape[0] != obj.shape[k]:
                    failures.append(f"{name}: scale of dimension {k} has the wrong length")

        f.visititems(check)
        for name in ["income/mean", "income/quantiles", "poverty/fgt0", "poverty/relapse",
                     "replications/fgt0", "households/mean_income", "groups/poor/fgt0",
                     "groups/main_industry/labels", "prices/mean", "choice/share"]:
            if name not in f:
                failures.append(f"{name} missing")
        if f["income/quantiles"].dims[1][0][:].tolist() != f["quantile"][:].tolist():
            failures.append("income/quantiles is not attached to /quantile")
        if not np.isnan(f["poverty/relapse"][0]):
            failures.append("relapse in year 1 should be NaN")
    for line in failures:
        print("FAIL:", line)
    print(f"{0 if failures else 1} passed, {1 if failures else 0} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
