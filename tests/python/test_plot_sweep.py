#!/usr/bin/env python3
"""Runs tools/plot_sweep.py headless on small sweeps (one parameter: line; a two-parameter grid:
heatmap; stack mode: bars of increments; two zipped parameters: line over the points) and
checks that each writes a PNG and prints its path, that --help exits 0, and that a missing
measure or a single-run file fails with status 1. In process: the line chart's error bars are
1.96 x the stored standard errors (the difference panel's the paired ones, /sweep/<m>_diff_se),
axis titles are not dotted paths, and the heatmap's numbers are rounded to their interval.

Usage: test_plot_sweep.py INCSIM_BINARY SCENARIOS_DIR TOOLS_DIR TMPDIR
"""
import os
import subprocess
import sys

import h5py
import numpy as np

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
SMALL = ("set: {population.households: 120, scenario.replications: 20, "
         "choice.pilot_replications: 20}\n")
SWEEPS = {
    "line": "mode: grid\nparameters: {markets.crayfish.volatility: [0.15, 0.25, 0.35]}\n",
    "heatmap": ("parameters:\n  insurance.income_index.coverage: [0.6, 0.8, 1.0]\n"
                "  insurance.income_index.subsidy.other: [0, 1]\n"),
    "zip": ("mode: zip\nparameters:\n  insurance.income_index.coverage: [0.6, 1.0]\n"
            "  insurance.income_index.loading: [0.2, 0]\n"),
    "stack": ("mode: stack\noverlays:\n"
              "  - {name: cheaper index, set: {insurance.income_index.loading: 0}}\n"
              "  - {name: poverty guard, set: {insurance.poverty_guard: {threshold: 1.5, "
              "premium_per_capita: 40, subsidy: {poor: 1, other: 1}}}}\n"),
}


def main():
    binary, scenarios, tools, tmp = sys.argv[1:5]
    tmp = os.path.join(tmp, "python_plot_sweep")
    os.makedirs(tmp, exist_ok=True)
    env = dict(os.environ)
    for name in ("DISPLAY", "WAYLAND_DISPLAY", "MPLBACKEND"):
        env.pop(name, None)
    env["MPLCONFIGDIR"] = os.path.join(tmp, "mplconfig")
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    script = os.path.join(tools, "plot_sweep.py")
    base = os.path.abspath(os.path.join(scenarios, "tongshan_double_insurance.yaml"))
    failed = []

    def check(ok, what):
        if not ok:
            failed.append(what)
            print("FAIL:", what)

    r = subprocess.run([sys.executable, script, "--help"], env=env, capture_output=True,
                       text=True)
    check(r.returncode == 0 and "--measure" in r.stdout, f"--help: {r.returncode} {r.stderr}")
    for kind, body in SWEEPS.items():
        sweep = os.path.join(tmp, f"{kind}.yaml")
        result = os.path.join(tmp, f"{kind}.h5")
        with open(sweep, "w") as f:
            f.write(f"base: {base}\n{SMALL}{body}")
        r = subprocess.run([binary, "sweep", sweep, "-o", result, "-q", "--restart"],
                           capture_output=True, text=True)
        if r.returncode != 0:
            print(r.stderr)
            print(f"incsim sweep {kind} exited {r.returncode}")
            return 1
        for extra in ([], ["--diff", "--measure", "mean_income", "--year", "2021"]):
            png = os.path.join(tmp, f"{kind}{'_diff' if extra else ''}.png")
            if os.path.exists(png):
                os.remove(png)
            r = subprocess.run([sys.executable, script, result, "-o", png] + extra, env=env,
                               capture_output=True, text=True)
            check(r.returncode == 0 and r.stdout.strip() == png,
                  f"{kind} {extra}: exit {r.returncode}, printed {r.stdout!r} {r.stderr}")
            ok = os.path.isfile(png) and os.path.getsize(png) > 1000
            check(ok, f"{kind} {extra}: {png} not written")
            if ok:
                with open(png, "rb") as f:
                    check(f.read(8) == PNG_SIGNATURE, f"{kind}: {png} is not a PNG")
    r = subprocess.run([sys.executable, script, os.path.join(tmp, "line.h5"), "--measure",
                        "nonsense", "-o", os.path.join(tmp, "bad.png")], env=env,
                       capture_output=True, text=True)
    check(r.returncode == 1 and "nonsense" in r.stderr, f"bad measure: {r.returncode}")
    single = os.path.join(tmp, "single.h5")
    subprocess.run([binary, "run", base, "-o", single, "-q", "--replications", "5", "--set",
                    "population.households=50", "--set", "choice.pilot_replications=20"],
                   capture_output=True, check=True)
    r = subprocess.run([sys.executable, script, single, "-o", os.path.join(tmp, "bad.png")],
                       env=env, capture_output=True, text=True)
    check(r.returncode == 1 and "not an incsim sweep" in r.stderr, f"single run: {r.stderr}")
    sys.dont_write_bytecode = True
    sys.path.insert(0, tools)
    os.environ["MPLCONFIGDIR"] = env["MPLCONFIGDIR"]
    import incsim_plot_common as common
    import incsim_results as ir
    import plot_sweep
    for kind in ("line", "zip"):
        path = os.path.join(tmp, f"{kind}.h5")
        sweep = ir.open_sweep(path)
        with h5py.File(path, "r") as f:
            table = f["sweep"]
            for measure, scale in (("fgt0", 100.0), ("government_cost", None), ("fgt1", 1.0)):
                for t in (0, len(table["year"]) - 1):
                    data = plot_sweep.line_data(sweep, measure, t)
                    level_scale = data["scale"] if scale is None else scale
                    diff_scale = data["diff_scale"] if scale is None else scale
                    check(np.allclose(data["diff_half"], 1.96 * table[measure + "_diff_se"][:, t]
                                      * diff_scale, rtol=1e-12, atol=0),
                          f"{kind} {measure}: the difference's error bars are not 1.96 paired se")
                    check(np.allclose(data["level_half"], 1.96 * table[measure + "_se"][:, t]
                                      * level_scale, rtol=1e-12, atol=0),
                          f"{kind} {measure}: the level's band is not 1.96 se")
                    check(np.allclose(data["diff"], table[measure + "_diff"][:, t] * diff_scale)
                          and np.allclose(data["level"], table[measure][:, t] * level_scale),
                          f"{kind} {measure}: the plotted values are not the table's")
                    check(bool(np.any(table[measure + "_diff_se"][1:, t] !=
                                      table[measure + "_se"][1:, t])),
                          f"{kind} {measure}: paired and unpaired se coincide: nothing tested")
            if kind == "line":
                check(np.array_equal(data["x"], table["markets.crayfish.volatility"][()]) and
                      data["ticks"] is None, "line: x is not the swept values")
            else:
                check(len(data["ticks"]) == len(table["point"]) and
                      data["ticks"][1] == "coverage 1\nloading 0" and
                      data["xlabel"].startswith("sweep point: ") and "." not in data["xlabel"],
                      f"zip: ticks {data['ticks']}, axis title {data['xlabel']!r}")
            for p in sweep.attrs["parameters"]:
                title = plot_sweep.parameter_title(p)
                check("." not in title and title, f"axis title {title!r} for {p}")
    check(plot_sweep.parameter_title("insurance.income_index.subsidy.other") ==
          "income index insurance: premium subsidy, other households", "parameter_title")
    for (value, half), expected in [((3.601234, 0.0012), ("3.6012", "0.0012")),
                                    ((3601234.0, 1200.0), ("3,601,234", "1,200")),
                                    ((0.041234, 0.0), ("0.0412", None)),
                                    ((-0.000223, 0.0000876), ("-0.000223", "0.000088"))]:
        got = common.format_estimate(value, half)
        check(got == expected, f"format_estimate({value}, {half}) = {got}, expected {expected}")
    print(f"{len(failed)} failed" if failed else "all passed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
