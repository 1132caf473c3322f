#!/usr/bin/env python3
"""tools/incsim_results.py on small results, in today's layout (integer category scales, labels
in separate datasets) and in the layout the writer is moving to (string scales, /fiscal/
by_component; made by string_scales.py):

- open_run gives every group as an xarray Dataset (h5netcdf engine) whose category dimensions
  (market, industry, village_index, group_<grouping>, portfolio, index_industry, component)
  carry the labels as coordinates: for every such dimension of every dataset, sel by each label
  gives what h5py reads at that position; every expected category dimension is seen;
- the same for a point of a sweep result (open_run(path, point=K));
- open_sweep: the swept parameters are coordinates of point, the table's values are h5py's;
- tidy: every row's value and se equal the h5py element they come from;
- the errors: a sweep without a point, a point out of range, a point of a single run, a sweep
  keeping only its table, a single run given to open_sweep, a missing or foreign file.

Usage: test_results_reader.py INCSIM_BINARY SCENARIOS_DIR TOOLS_DIR TMPDIR
"""
import os
import subprocess
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree (before the imports below)

import h5py
import numpy as np

from checks import Checks
import string_scales

INSURANCE = ("insurance={income_index: {covers: [rice_crayfish_115], coverage: 0.8, "
             "premium_rate: 0.05, subsidy: {poor: 1.0, other: 0.5}, "
             "enrollment: {poor: 1.0, other: 0.2}}, "
             "poverty_guard: {threshold: 1.5, cap: 10000, premium_per_capita: 40, "
             "subsidy: {poor: 1.0, other: 1.0}, enrollment: {poor: 1.0, other: 0.5}}}")
SMALL = ["--set", "population.households=150", "--set", "choice.pilot_replications=20"]
SWEEP = """base: {base}
set: {{population.households: 120, scenario.replications: 12, choice.pilot_replications: 20}}
parameters:
  insurance.income_index.coverage: [0.7, 0.9]
  insurance.income_index.subsidy.other: [0, 1]
"""
ALWAYS = {"market", "industry", "village_index", "group_poor", "group_main_industry",
          "group_village", "group_insured", "portfolio"}


def run(command):
    r = subprocess.run(command, capture_output=True, text=True)
    if r.returncode != 0:
        print(r.stdout, r.stderr)
        raise SystemExit(f"{' '.join(command)} exited {r.returncode}")


def same(a, b):
    a, b = np.asarray(a), np.asarray(b)
    if a.dtype.kind in "OSU" or b.dtype.kind in "OSU":
        dec = np.vectorize(lambda v: v.decode() if isinstance(v, bytes) else str(v),
                           otypes=[object])
        return a.shape == b.shape and (a.size == 0 or bool((dec(a) == dec(b)).all()))
    return a.shape == b.shape and np.array_equal(a, b, equal_nan=True)


def selects(da, dim, label, want):
    """da.sel({dim: label}) holds `want` (False when the label is not found)."""
    try:
        return same(da.sel({dim: label}).values, want)
    except KeyError:
        return False


def check_run(checks, ir, path, point, original, expect_string_scales, expect_dims):
    """Every category dimension of every group of `path` (point `point`) is labelled with the
    labels that the schema 1.0 datasets of `original` give, and sel by each label reads what h5py
    reads of `path` at its position."""
    where = f"{os.path.basename(path)}" + (f" point {point}" if point is not None else "")
    with h5py.File(original, "r") as fo, h5py.File(path, "r") as f:
        root_o = fo if point is None else fo[f"points/{point}"]
        root = f if point is None else f[f"points/{point}"]
        labels = string_scales.category_labels(root_o)
        if "fiscal/by_component" in root:
            labels["component"] = string_scales.COMPONENTS
        seen = set()
        with ir.open_run(path, point) as result:
            checks.check(same(result.years, root["year"][()]), f"{where}: years")
            for group in result.groups:
                ds = result[group]
                for dim in ds.dims:
                    if dim not in labels:
                        if dim in ds.coords and dim in root[group]:
                            checks.check(same(ds[dim].values, root[group][dim][()]),
                                         f"{where} {group}: numeric coordinate {dim} changed")
                        continue
                    seen.add(dim)
                    coord = [str(v) for v in ds[dim].values]
                    checks.check(coord == labels[dim],
                                 f"{where} {group}: {dim} coordinate {coord[:4]}..., expected "
                                 f"{labels[dim][:4]}...")
                    source = ds[dim].attrs.get("labels_from")
                    wanted = ("the dimension scale" if expect_string_scales
                              else "legacy label dataset")
                    checks.check(source == wanted,
                                 f"{where} {group}: {dim} labels from {source!r}, "
                                 f"expected {wanted!r}")
                    for name, da in ds.data_vars.items():
                        if dim not in da.dims:
                            continue
                        axis = da.dims.index(dim)
                        stored = root[f"{group}/{name}"][()]
                        wrong = [label for i, label in enumerate(labels[dim])
                                 if not selects(da, dim, label, np.take(stored, i, axis=axis))]
                        checks.check(not wrong, f"{where} {group}/{name}.sel({dim}=...) differs "
                                                f"from h5py for {wrong[:3]}")
            # a village by name, as the README shows
            village = labels["village_index"][-1]
            got = result["groups/village"].fgt0.sel(group_village=village,
                                                     year=int(result.years[1]))
            i = labels["group_village"].index(village)
            checks.check(float(got) == float(root["groups/village/fgt0"][i, 1]),
                         f"{where}: groups/village fgt0.sel(group_village={village!r})")
            for dim in ("market", "industry", "village_index", "group_poor", "portfolio"):
                checks.check(result.labels(dim) == labels[dim], f"{where}: labels({dim!r})")
            checks.check(result.labels("year") is None, f"{where}: labels('year') is not None")
        missing = expect_dims - seen
        checks.check(not missing, f"{where}: category dimensions never seen: {sorted(missing)}")


def check_tidy(checks, ir, path, point):
    where = f"{os.path.basename(path)}" + (f" point {point}" if point is not None else "")
    with h5py.File(path, "r") as f, ir.open_run(path, point) as result:
        root = f if point is None else f[f"points/{point}"]
        years = [int(y) for y in root["year"][()]]
        cases = [("groups/poor", "fgt0", "group_poor"), ("groups/village", "income_mean",
                                                          "group_village"),
                 ("prices", "mean", "market"), ("poverty", "fgt1", None),
                 ("poverty", "ever_poor", None)]
        for group, name, dim in cases:
            table = ir.tidy(result[group], name)
            stored = root[f"{group}/{name}"]
            se = root[f"{group}/{name}_se"][()] if f"{group}/{name}_se" in root else None
            checks.check(len(table) == max(1, stored.size),
                         f"{where} tidy {group}/{name}: {len(table)} rows for {stored.size} values")
            checks.check(list(table.columns[:1]) == ["variable"] and
                         list(table.columns[-2:]) == ["value", "se"],
                         f"{where} tidy {group}/{name}: columns {list(table.columns)}")
            labels = [str(v) for v in result[group][dim].values] if dim else None
            bad = 0
            for row in table.itertuples(index=False):
                row = row._asdict()
                index = []
                for d in result[group][name].dims:
                    if d == "year":
                        index.append(years.index(int(row["year"])))
                    elif d == dim:
                        index.append(labels.index(row[d]))
                    else:
                        index.append(int(np.nonzero(result[group][d].values == row[d])[0][0]))
                want = stored[tuple(index)] if index else stored[()]
                want_se = (se[tuple(index)] if index else se[()]) if se is not None else None
                if row["value"] != want or (want_se is not None and row["se"] != want_se) or \
                        (want_se is None and not np.isnan(row["se"])):
                    bad += 1
            checks.check(bad == 0, f"{where} tidy {group}/{name}: {bad} rows differ from h5py")
        whole = result.tidy("poverty")
        checks.check({"fgt0", "fgt1", "fgt2", "ever_poor"} <= set(whole["variable"]) and
                     not any(v.endswith("_se") for v in whole["variable"]),
                     f"{where}: tidy(poverty) variables {sorted(set(whole['variable']))}")


def check_sweep(checks, ir, path):
    with h5py.File(path, "r") as f:
        sweep = ir.open_sweep(path)
        table = f["sweep"]
        parameters = [v.decode() if isinstance(v, bytes) else v for v in table.attrs["parameters"]]
        checks.check(list(sweep.attrs["parameters"]) == parameters,
                     f"open_sweep parameters {sweep.attrs['parameters']}")
        for p in parameters:
            checks.check(p in sweep.coords and sweep[p].dims == ("point",) and
                         same(sweep[p].values, table[p][()]),
                         f"open_sweep: {p} is not a coordinate of point with the file's values")
        for name in ("fgt0", "fgt0_diff", "fgt0_diff_se", "government_cost_se", "mean_income"):
            checks.check(sweep[name].dims == ("point", "year") and
                         same(sweep[name].values, table[name][()]), f"open_sweep {name}")
        checks.check(same(sweep["portfolio"].values, table["portfolio_labels"][()]) and
                     same(sweep["portfolio_share"].values, table["portfolio_share"][()]),
                     "open_sweep portfolio_share / portfolio labels")
        # sel by a swept value, as the README shows
        p0, p1 = parameters
        indexed = sweep.set_index(point=[p0, p1])
        k = 3
        got = float(indexed["fgt0_diff"].sel({p0: table[p0][k], p1: table[p1][k]}).isel(year=-1))
        checks.check(got == float(table["fgt0_diff"][k, -1]), "open_sweep set_index/sel by values")
        tidy = ir.tidy(sweep, "fgt0_diff")
        years = list(table["year"][()])
        bad = 0
        for row in tidy.to_dict("records"):
            k, t = int(row["point"]), years.index(row["year"])
            if (row["value"] != table["fgt0_diff"][k, t] or row["se"] != table["fgt0_diff_se"][k, t]
                    or row[p0] != table[p0][k] or row[p1] != table[p1][k]):
                bad += 1
        checks.check(len(tidy) == table["fgt0_diff"].size and bad == 0,
                     f"tidy(sweep, fgt0_diff): {bad} of {len(tidy)} rows differ from h5py")


def expect_error(checks, ir, call, fragment, what):
    try:
        call()
    except ir.ResultError as e:
        checks.check(fragment in str(e), f"{what}: message {str(e)!r} lacks {fragment!r}")
        return
    except Exception as e:  # noqa: BLE001  (any other exception is the failure reported)
        checks.check(False, f"{what}: {type(e).__name__} {e} instead of ResultError")
        return
    checks.check(False, f"{what}: no error")


def main():
    binary, scenarios, tools, tmp = sys.argv[1:5]
    tmp = os.path.join(tmp, "python_results_reader")
    os.makedirs(tmp, exist_ok=True)
    sys.dont_write_bytecode = True
    sys.path.insert(0, tools)
    import incsim_results as ir
    checks = Checks()
    scenario = os.path.join(scenarios, "xianning_2019.yaml")
    plain, insured = os.path.join(tmp, "plain.h5"), os.path.join(tmp, "insured.h5")
    run([binary, "run", scenario, "-o", plain, "-q", "--replications", "12"] + SMALL)
    run([binary, "run", scenario, "-o", insured, "-q", "--replications", "12", "--set", INSURANCE]
        + SMALL)
    sweep_file, sweep = os.path.join(tmp, "grid.yaml"), os.path.join(tmp, "grid.h5")
    with open(sweep_file, "w") as f:
        f.write(SWEEP.format(base=os.path.abspath(os.path.join(scenarios,
                                                               "tongshan_double_insurance.yaml"))))
    run([binary, "sweep", sweep_file, "-o", sweep, "-q", "--restart"])
    table_only = os.path.join(tmp, "table_only.h5")
    run([binary, "sweep", sweep_file, "-o", table_only, "-q", "--restart", "--table-only"])
    layouts = {p: string_scales.both_layouts(p) for p in (plain, insured, sweep)}
    print(f"incsim writes the {string_scales.layout(plain)} layout")

    indexed = ALWAYS | {"index_industry"}
    for source in (plain, insured):
        integer, string = layouts[source]
        dims = indexed if source == insured else ALWAYS
        check_run(checks, ir, integer, None, integer, False, dims)
        check_run(checks, ir, string, None, integer, True, dims | {"component"})
        check_tidy(checks, ir, integer, None)
        check_tidy(checks, ir, string, None)
    integer, string = layouts[sweep]
    for point in (0, 3):
        check_run(checks, ir, integer, point, integer, False, indexed)
        check_run(checks, ir, string, point, integer, True, indexed | {"component"})
        check_tidy(checks, ir, string, point)
    check_sweep(checks, ir, sweep)
    check_sweep(checks, ir, integer)

    # the point's own attributes, and what it sets
    with ir.open_run(sweep, 3) as r, h5py.File(sweep, "r") as f:
        checks.check(r.attrs["replications"] == 12 and r.scenario_name ==
                     f["points/3"].attrs["scenario_name"], f"point attrs {r.attrs}")
        checks.check(r.point_description == f["sweep/overrides"][3].decode().replace("; ", ", "),
                     f"point_description {r.point_description!r}")

    foreign = os.path.join(tmp, "foreign.h5")
    with h5py.File(foreign, "w") as f:
        f["x"] = [1, 2]
    expect_error(checks, ir, lambda: ir.open_run(sweep), "sweep result with 4 points",
                 "open_run(sweep)")
    expect_error(checks, ir, lambda: ir.open_run(sweep, 4), "no point 4", "open_run(sweep, 4)")
    expect_error(checks, ir, lambda: ir.open_run(sweep, -1), "no point -1", "open_run(sweep, -1)")
    expect_error(checks, ir, lambda: ir.open_run(plain, 0), "single run", "open_run(run, 0)")
    expect_error(checks, ir, lambda: ir.open_run(table_only, 0), "keeps only the sweep table",
                 "open_run(table-only sweep, 0)")
    expect_error(checks, ir, lambda: ir.open_sweep(plain), "not an incsim sweep",
                 "open_sweep(run)")
    expect_error(checks, ir, lambda: ir.open_run(os.path.join(tmp, "missing.h5")), "no such file",
                 "open_run(missing)")
    expect_error(checks, ir, lambda: ir.open_run(foreign), "not an incsim result",
                 "open_run(foreign)")
    expect_error(checks, ir, lambda: ir.open_run(sweep_file), "cannot open", "open_run(yaml)")
    return checks.finish()


if __name__ == "__main__":
    sys.exit(main())
