#!/usr/bin/env python3
"""Runs every plotting script of tools/ headless on a small incsim result (and on one with
insurance configured) and checks that each writes a PNG (exists, non-empty, PNG signature),
prints its path, that `--help` exits 0, and that a missing input fails with status 1.

Usage: test_plots.py INCSIM_BINARY SCENARIO TOOLS_DIR TMPDIR
"""
import os
import subprocess
import sys

from checks import Checks

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
SCRIPTS = ["plot_income_fan.py", "plot_headcount.py", "plot_headcount_distribution.py",
           "plot_vulnerability_by_village.py", "plot_fiscal.py"]
INSURANCE = ("insurance={income_index: {covers: [rice_crayfish_115], coverage: 0.8, "
             "premium_rate: 0.05, subsidy: {poor: 1.0, other: 0.5}, "
             "enrollment: {poor: 1.0, other: 0.2}}, "
             "poverty_guard: {threshold: 1.5, cap: 10000, premium_per_capita: 40, "
             "subsidy: {poor: 1.0, other: 1.0}, enrollment: {poor: 1.0, other: 0.5}}}")


def headless_env(tmp):
    """No display; the scripts must choose the Agg backend themselves (MPLBACKEND unset)."""
    env = dict(os.environ)
    for name in ("DISPLAY", "WAYLAND_DISPLAY", "MPLBACKEND"):
        env.pop(name, None)
    env["MPLCONFIGDIR"] = os.path.join(tmp, "mplconfig")  # writable matplotlib cache
    env["PYTHONDONTWRITEBYTECODE"] = "1"  # no __pycache__ in the source tree
    return env


def run(command, cwd=None, env=None):
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True)


def check_png(checks, path, what):
    exists = os.path.isfile(path)
    checks.check(exists, f"{what}: {path} not written")
    if not exists:
        return
    checks.check(os.path.getsize(path) > 1000, f"{what}: {path} is (nearly) empty")
    with open(path, "rb") as f:
        checks.check(f.read(8) == PNG_SIGNATURE, f"{what}: {path} is not a PNG")


def check_village_shares(checks, tools, results):
    """The per-village vulnerable shares of plot_vulnerability_by_village, weighted by the
    persons of each village, reproduce the engine's /poverty/vulnerable_share(_horizon)."""
    sys.dont_write_bytecode = True  # no __pycache__ in the source tree
    sys.path.insert(0, tools)
    import h5py
    import incsim_plot_common as common
    import plot_vulnerability_by_village as village
    for result in results:
        with h5py.File(result, "r") as f:
            labels = common.strings(f["groups/village/labels"])
            persons = f["groups/village/persons"][()]
            cases = [(f["households/vulnerability"][:, t], f["poverty/vulnerable_share"][t])
                     for t in range(len(f["year"]))]
            cases.append((f["households/vulnerability_horizon"][()],
                          f["poverty/vulnerable_share_horizon"][()]))
            for k, (v, expected) in enumerate(cases):
                share = village.vulnerable_share(f, labels, v)
                total = float((share * persons).sum() / persons.sum())
                checks.check(abs(total - float(expected)) < 1e-12,
                             f"{result} case {k}: village shares give {total}, "
                             f"the file {float(expected)}")
            if result.endswith("poorer.h5"):
                checks.check(f["poverty/vulnerable_share"][-1] > 0.1,
                             "the poorer scenario should have vulnerable persons")


def main():
    binary, scenario, tools, tmp = sys.argv[1:5]
    tmp = os.path.join(tmp, "python_plots")
    os.makedirs(tmp, exist_ok=True)
    env = headless_env(tmp)
    checks = Checks()

    small = os.path.join(tmp, "small.h5")
    insured = os.path.join(tmp, "insured.h5")
    poorer = os.path.join(tmp, "poorer.h5")  # many households with P(y < z) >= 0.5
    common = ["--replications", "40", "-q", "--set", "population.households=200"]
    for out, extra in [(small, []), (insured, ["--set", INSURANCE]),
                       (poorer, ["--set", "income.wage.per_laborer=3000", "--set",
                                 "income.dibao.line=0", "--set", "income.public_posts.amount=0"])]:
        r = run([binary, "run", scenario, "-o", out] + common + extra)
        if r.returncode != 0:
            print(r.stdout, r.stderr)
            print(f"0 passed, 1 failed (incsim run for {out} exited {r.returncode})")
            return 1

    python = sys.executable
    for script in SCRIPTS:
        path = os.path.join(tools, script)
        stem = script[len("plot_"):-len(".py")]
        r = run([python, path, "--help"], env=env)
        checks.check(r.returncode == 0 and "RESULT.h5" in r.stdout and "--title" in r.stdout,
                     f"{script} --help exited {r.returncode}: {r.stderr.strip()}")
        for label, result in [("small", small), ("insured", insured), ("poorer", poorer)]:
            png = os.path.join(tmp, f"{label}_{stem}.png")
            if os.path.exists(png):
                os.remove(png)
            r = run([python, path, result, "-o", png, "--title", f"test {stem}"], env=env)
            checks.check(r.returncode == 0, f"{script} {label} exited {r.returncode}: {r.stderr}")
            checks.check(r.stdout.strip() == png,
                         f"{script} {label} printed {r.stdout.strip()!r}, not the PNG path")
            check_png(checks, png, f"{script} {label}")
        r = run([python, path, os.path.join(tmp, "missing.h5")], env=env)
        checks.check(r.returncode == 1 and "no such file" in r.stderr,
                     f"{script} on a missing file exited {r.returncode}: {r.stderr.strip()}")

    # Default output name (<RESULT stem>_<kind>.png in the current directory) and the options
    # that choose a year or the horizon.
    r = run([python, os.path.join(tools, "plot_income_fan.py"), small], cwd=tmp, env=env)
    checks.check(r.returncode == 0 and r.stdout.strip() == "small_income_fan.png",
                 f"default output: {r.stdout.strip()!r} {r.stderr}")
    check_png(checks, os.path.join(tmp, "small_income_fan.png"), "default output")
    for script, extra, name in [
            ("plot_headcount_distribution.py", ["--year", "2020"], "year2020.png"),
            ("plot_vulnerability_by_village.py", ["--horizon"], "horizon.png"),
            ("plot_vulnerability_by_village.py", ["--year", "2021"], "village2021.png")]:
        png = os.path.join(tmp, name)
        r = run([python, os.path.join(tools, script), small, "-o", png] + extra, env=env)
        checks.check(r.returncode == 0, f"{script} {extra} exited {r.returncode}: {r.stderr}")
        check_png(checks, png, f"{script} {extra}")
    r = run([python, os.path.join(tools, "plot_headcount_distribution.py"), small, "--year",
             "1999", "-o", os.path.join(tmp, "bad.png")], env=env)
    checks.check(r.returncode == 1 and "1999" in r.stderr,
                 f"a year outside the horizon exited {r.returncode}: {r.stderr.strip()}")

    check_village_shares(checks, tools, [small, poorer])

    print(f"{checks.passed} passed, {len(checks.failed)} failed")
    return 1 if checks.failed else 0


if __name__ == "__main__":
    sys.exit(main())
