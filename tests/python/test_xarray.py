#!/usr/bin/env python3
"""Opens groups of an incsim result with xarray through h5netcdf (the netCDF-4 view of our
HDF5 dimension scales) and checks that every dimension is named after its scale, with the
values h5py reads, and that the root group's scales become coordinates.

Usage: test_xarray.py INCSIM_BINARY SCENARIO TMPDIR
"""
import os
import subprocess
import sys
import traceback

import h5py
import numpy as np

from checks import Checks

INSURANCE = ("insurance={income_index: {covers: [rice_crayfish_115], coverage: 0.8, "
             "premium_rate: 0.05, subsidy: {poor: 1.0, other: 0.5}, "
             "enrollment: {poor: 1.0, other: 0.2}}, "
             "poverty_guard: {threshold: 1.5, cap: 10000, premium_per_capita: 40, "
             "subsidy: {poor: 1.0, other: 1.0}, enrollment: {poor: 1.0, other: 0.5}}}")

# group -> {variable: expected dims}
EXPECTED_DIMS = {
    "income": {"mean": ("year",), "mean_se": ("year",), "std": ("year",),
               "quantiles": ("year", "quantile"), "horizon_mean_quantiles": ("quantile",),
               "histogram": ("year", "bin"), "bin_edges": ("bin_edge",)},
    "poverty": {"fgt0": ("year",), "fgt0_se": ("year",), "fgt1": ("year",),
                "fgt2": ("year",), "relapse": ("year",), "target_risk": ("year",),
                "ever_poor": ()},
    "households": {"mean_income": ("household", "year"),
                   "vulnerability": ("household", "year"), "id": ("household",),
                   "size": ("household",), "village_labels": ("village_index",)},
    "groups/poor": {"labels": ("group_poor",), "fgt0": ("group_poor", "year"),
                    "income_mean": ("group_poor", "year")},
    "groups/main_industry": {"fgt0": ("group_main_industry", "year")},
    "replications": {"fgt0": ("replication", "year")},
    "prices": {"mean": ("year", "market")},
    "fiscal": {"government_cost": ("year",), "government_cost_se": ("year",)},
}
EXPECTED_INSURANCE_DIMS = {
    "insurance/poverty_guard": {"premium": ("year",), "payout": ("year",),
                                "loss_ratio_se": ("year",)},
    "insurance/income_index": {"payout": ("year",), "rate_used": ("index_industry", "year")},
}


def same_values(a, b):
    a, b = np.asarray(a), np.asarray(b)
    if a.dtype.kind in "OSU" or b.dtype.kind in "OSU":
        decode = np.vectorize(lambda v: v.decode() if isinstance(v, bytes) else str(v))
        return a.shape == b.shape and (a.size == 0 or (decode(a) == decode(b)).all())
    return a.shape == b.shape and np.array_equal(a, b, equal_nan=True)


def check_groups(checks, xr, path, expected):
    with h5py.File(path, "r") as f:
        for group, variables in expected.items():
            try:
                ds = xr.open_dataset(path, group=group, engine="h5netcdf")
            except Exception:
                checks.check(False, f"xarray cannot open group {group}:\n"
                                    + traceback.format_exc())
                continue
            phony = [d for d in ds.dims if str(d).startswith("phony_dim")]
            checks.check(not phony, f"{group}: unnamed (phony) dimensions {phony}")
            for name, dims in variables.items():
                if name not in ds.variables:
                    checks.check(False, f"{group}/{name} not seen by xarray")
                    continue
                var = ds.variables[name]
                checks.check(tuple(var.dims) == dims,
                             f"{group}/{name} has dims {tuple(var.dims)}, expected {dims}")
                checks.check(same_values(var.values, f[f"{group}/{name}"][()]),
                             f"{group}/{name}: xarray and h5py values differ")
                checks.check("units" in var.attrs and "description" in var.attrs,
                             f"{group}/{name}: units/description attributes not visible")
            ds.close()


def main():
    binary, scenario, tmp = sys.argv[1:4]
    try:
        import xarray as xr
        import h5netcdf
    except ImportError as e:
        print(f"FAIL: {e}; install python3-xarray python3-h5netcdf (tools/setup.sh)")
        print("0 passed, 1 failed")
        return 1
    print(f"xarray {xr.__version__}, h5netcdf {h5netcdf.__version__}, h5py {h5py.__version__}")
    os.makedirs(tmp, exist_ok=True)
    plain = os.path.join(tmp, "python_xarray.h5")
    insured = os.path.join(tmp, "python_xarray_insured.h5")
    common = ["--replications", "16", "-q", "--set", "population.households=80"]
    for out, extra in [(plain, []), (insured, ["--set", INSURANCE])]:
        subprocess.run([binary, "run", scenario, "-o", out] + common + extra, check=True,
                       stdout=subprocess.DEVNULL)
    checks = Checks()

    check_groups(checks, xr, plain, EXPECTED_DIMS)
    check_groups(checks, xr, insured, EXPECTED_INSURANCE_DIMS)

    with h5py.File(plain, "r") as f:
        years = f["year"][()]
        levels = f["quantile"][()]
        # The root group: every scale is a coordinate with its values.
        root = xr.open_dataset(plain, engine="h5netcdf")
        for scale in ["year", "quantile", "replication", "household", "market", "village_index",
                      "bin", "bin_edge", "portfolio", "group_poor", "group_main_industry",
                      "group_village", "group_insured"]:
            checks.check(scale in root.coords and same_values(root[scale].values, f[scale][()]),
                         f"root: {scale} is not a coordinate with the file's values")
        # A group opened alone carries its own copies of the coordinates it uses.
        income = xr.open_dataset(plain, group="income", engine="h5netcdf")
        checks.check(same_values(income["quantiles"].coords["quantile"].values, levels),
                     "income/quantiles: the group's quantile coordinate differs from the root's")
        year = int(years[2])
        checks.check(float(income["mean"].sel(year=year)) == float(f["income/mean"][2]),
                     "income/mean.sel(year=...) on the group opened alone")
        median = float(income["quantiles"].sel(year=year, quantile=0.5))
        k = int(np.nonzero(levels == 0.5)[0][0])
        checks.check(median == float(f["income/quantiles"][2, k]),
                     "income/quantiles.sel(year=..., quantile=0.5)")
        poverty = xr.open_dataset(plain, group="poverty", engine="h5netcdf")
        checks.check(bool(np.isnan(poverty["relapse"].values[0])),
                     "poverty/relapse year 1 is not NaN through xarray")
        checks.check(float(poverty["ever_poor"]) == float(f["poverty/ever_poor"][()]),
                     "poverty/ever_poor scalar")
        labels = xr.open_dataset(plain, group="groups/poor", engine="h5netcdf")["labels"]
        checks.check([str(v) for v in labels.values] == ["poor", "other"],
                     f"groups/poor/labels decode as {list(labels.values)}")
        hh = xr.open_dataset(plain, group="households", engine="h5netcdf")
        checks.check(hh["mean_income"].shape == (int(f.attrs["households"]), len(years)),
                     f"households/mean_income shape {hh['mean_income'].shape}")

    print(f"{checks.passed} passed, {len(checks.failed)} failed")
    return 1 if checks.failed else 0


if __name__ == "__main__":
    sys.exit(main())
