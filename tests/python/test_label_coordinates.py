#!/usr/bin/env python3
"""Schema 2.0 (issue 16): every category dimension of a result has its labels as coordinate,
so plain xarray (h5netcdf engine, no incsim reader) selects by name and gets the row that the
label datasets of schema 1.0 (/markets/name, /industries/name, /groups/<g>/labels,
/households/village_labels, /insurance/income_index/industries) put at that position;
/fiscal/by_component sums to /fiscal/government_cost; a sweep's swept parameters are
coordinates of `point` and its portfolio shares are labelled.

Usage: test_label_coordinates.py INCSIM_BINARY SCENARIOS_DIR TMPDIR
"""
import os
import subprocess
import sys

import h5py
import numpy as np
import xarray as xr

from checks import Checks


def check(checks, ok, what, detail=None):
    """checks.check, with `detail` (what was found) in the message of a failure."""
    checks.check(ok, what if ok or detail is None else f"{what}: {detail}")


def text(values):
    return [v.decode() if isinstance(v, bytes) else str(v) for v in values]


def check_run(checks, path):
    with h5py.File(path, "r") as f:
        legacy = {
            ("prices", "mean", "market"): text(f["markets/name"][:]),
            ("groups/poor", "fgt0", "group_poor"): text(f["groups/poor/labels"][:]),
            ("groups/main_industry", "fgt0", "group_main_industry"):
                text(f["groups/main_industry/labels"][:]),
            ("groups/village", "fgt0", "group_village"): text(f["groups/village/labels"][:]),
            ("choice", "capacity_used", "industry"): text(f["industries/name"][:]),
            ("insurance/income_index", "rate_used", "index_industry"):
                text(f["insurance/income_index/industries"][:]),
        }
        portfolio_main = f["choice/portfolio_main"][:]
        portfolio_aux = f["choice/portfolio_aux"][:]
        industries = text(f["industries/name"][:])
        villages = text(f["households/village_labels"][:])
        government = f["fiscal/government_cost"][:]
        components = f["fiscal/by_component"][:]
        component_se = f["fiscal/by_component_se"][:]
        component_names = text(f["component"][:])
        dibao = f["fiscal/dibao"][:]

    for (group, variable, dim), labels in legacy.items():
        ds = xr.open_dataset(path, group=group, engine="h5netcdf")
        check(checks, list(ds[dim].values) == labels, f"{group}: coordinate {dim} holds the labels",
                     f"{list(ds[dim].values)} vs {labels}")
        check(checks, len(set(labels)) == len(labels), f"{dim}: labels are unique", labels)
        for k, label in enumerate(labels):
            picked = ds[variable].sel({dim: label}).values
            at = ds[variable].isel({dim: k}).values
            check(checks, np.array_equal(picked, at, equal_nan=True),
                         f"{group}/{variable}.sel({dim}={label!r}) is row {k}")

    ds = xr.open_dataset(path, group="choice", engine="h5netcdf")
    expected = []
    for m, a in zip(portfolio_main, portfolio_aux):
        label = "none" if m < 0 else industries[m] + (" + " + industries[a] if a >= 0 else "")
        expected.append(label)
    check(checks, list(ds.portfolio.values) == expected,
                 "choice: the portfolio coordinate is 'main + aux' of its rows",
                 f"{list(ds.portfolio.values)[:4]} vs {expected[:4]}")
    ds = xr.open_dataset(path, group="households", engine="h5netcdf")
    check(checks, list(ds.village_index.values) == villages,
                 "households: the village_index coordinate holds the village names")

    ds = xr.open_dataset(path, group="fiscal", engine="h5netcdf")
    check(checks, component_names == ["premium_subsidy_agricultural",
                                     "premium_subsidy_income_index",
                                     "premium_subsidy_poverty_guard", "public_posts", "transfers",
                                     "setup_subsidies", "dibao", "health_reimbursement"],
                 "fiscal: the eight components in MODEL.md's order", component_names)
    total = components.sum(axis=0)
    check(checks, np.allclose(total, government, rtol=1e-12, atol=0),
                 "fiscal: the components sum to government_cost", f"{total} vs {government}")
    check(checks, np.array_equal(ds.by_component.sel(component="dibao").values, dibao),
                 "fiscal: by_component.sel(component='dibao') is /fiscal/dibao")
    fixed = [component_names.index(c) for c in ("public_posts", "transfers", "setup_subsidies")]
    check(checks, np.all(component_se[fixed] == 0),
                 "fiscal: posts, transfers and setup subsidies have standard error 0")
    check(checks, np.all(components >= 0), "fiscal: no component is negative")
    setup = components[component_names.index("setup_subsidies")]
    check(checks, setup[0] > 0 and np.all(setup[1:] == 0),
                 "fiscal: setup subsidies are paid in the first year only", setup)


def check_sweep(checks, path):
    with h5py.File(path, "r") as f:
        parameters = text(f["sweep"].attrs["parameters"])
        values = {p: f["sweep"][p][:] for p in parameters}
        labels = text(f["sweep/portfolio_labels"][:])
        shares = f["sweep/portfolio_share"][:]
    ds = xr.open_dataset(path, group="sweep", engine="h5netcdf")
    for p in parameters:
        check(checks, p in ds.fgt0.coords, f"sweep: {p} is a coordinate of fgt0",
                     list(ds.fgt0.coords))
        check(checks, p in ds.portfolio_share.coords, f"sweep: {p} is a coordinate of the shares")
        check(checks, np.array_equal(ds.fgt0.coords[p].values, values[p]),
                     f"sweep: coordinate {p} holds the swept values")
    check(checks, list(ds.portfolio.values) == labels,
                 "sweep: the portfolio coordinate is /sweep/portfolio_labels")
    if labels:
        picked = ds.portfolio_share.sel(portfolio=labels[-1]).values
        check(checks, np.array_equal(picked, shares[:, -1], equal_nan=True),
                     "sweep: portfolio_share.sel(portfolio=...) is its column")
    first = parameters[0]
    swapped = ds.fgt0.swap_dims(point=first)
    check(checks, swapped.dims[0] == first, "sweep: fgt0 can be indexed by the swept value")


def main():
    binary, scenarios, tmp = sys.argv[1:4]
    os.makedirs(tmp, exist_ok=True)
    checks = Checks()
    small = ["--set", "population.households=300", "--set", "choice.pilot_replications=4",
             "--threads", "2", "-q"]
    run = os.path.join(tmp, "label_coordinates.h5")
    subprocess.run([binary, "run", os.path.join(scenarios, "tongshan_double_insurance.yaml"),
                    "--replications", "20", "-o", run] + small, check=True,
                   stdout=subprocess.DEVNULL)
    check_run(checks, run)
    sweep = os.path.join(tmp, "label_coordinates_sweep.h5")
    subprocess.run([binary, "sweep", os.path.join(scenarios, "sweep_index_coverage.yaml"),
                    "--table-only", "--set", "scenario.replications=4", "-o", sweep] + small,
                   check=True, stdout=subprocess.DEVNULL)
    check_sweep(checks, sweep)
    return checks.finish()


if __name__ == "__main__":
    sys.exit(main())
