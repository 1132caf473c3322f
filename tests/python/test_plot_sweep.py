#!/usr/bin/env python3
"""Runs tools/plot_sweep.py headless on small sweeps (one parameter: line; a two-parameter grid:
heatmap; stack mode: bars of increments) and checks that each writes a PNG and prints its
path, that --help exits 0, and that a missing measure or a single-run file fails with status 1.

Usage: test_plot_sweep.py INCSIM_BINARY SCENARIOS_DIR TOOLS_DIR TMPDIR
"""
import os
import subprocess
import sys

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
SMALL = ("set: {population.households: 120, scenario.replications: 20, "
         "choice.pilot_replications: 20}\n")
SWEEPS = {
    "line": "mode: grid\nparameters: {markets.crayfish.volatility: [0.15, 0.25, 0.35]}\n",
    "heatmap": ("parameters:\n  insurance.income_index.coverage: [0.6, 0.8, 1.0]\n"
                "  insurance.income_index.subsidy.other: [0, 1]\n"),
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
    print(f"{len(failed)} failed" if failed else "all passed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
