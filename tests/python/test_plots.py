#!/usr/bin/env python3
"""Runs every plotting script of tools/ headless on small incsim results (plain, with
insurance, a poorer one, the insured one in both coordinate layouts of string_scales.py, one
point of a sweep, and one with Chinese village and scenario names) and checks that each writes
a PNG (exists, non-empty, PNG signature) and prints its path, that `--help` exits 0 and
documents --point, that a missing input, a sweep without --point, --point on a single run and
a point out of range fail with status 1 and a message (no traceback), and that labels the
default font lacks are drawn (no missing-glyph warning). In process: the per-village
vulnerable shares reproduce the engine's, the headcount histogram's bins each hold the same
number of possible headcounts, the fiscal chart's components add up to the government cost, and
the protection chart's bars are the stored basis-risk datasets (the script needs insurance: on
a result without, it fails with a message).

Usage: test_plots.py INCSIM_BINARY SCENARIO TOOLS_DIR TMPDIR
"""
import os
import subprocess
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree (before the imports below)

import h5py
import numpy as np

from checks import Checks
import string_scales

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
SCRIPTS = ["plot_income_fan.py", "plot_headcount.py", "plot_headcount_distribution.py",
           "plot_vulnerability_by_village.py", "plot_fiscal.py", "plot_protection.py"]
# Scripts that need insurance in the result: on one without, they fail with a message.
NEEDS_INSURANCE = {"plot_protection.py"}
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
    import incsim_results as ir
    import plot_vulnerability_by_village as village
    for result in results:
        with ir.open_run(result) as run, h5py.File(result, "r") as f:
            persons = f["groups/village/persons"][()]
            cases = [(f["households/vulnerability"][:, t], f["poverty/vulnerable_share"][t])
                     for t in range(len(f["year"]))]
            cases.append((f["households/vulnerability_horizon"][()],
                          f["poverty/vulnerable_share_horizon"][()]))
            for k, (v, expected) in enumerate(cases):
                share = village.vulnerable_share(run, v, 0.5)
                total = float((share * persons).sum() / persons.sum())
                checks.check(abs(total - float(expected)) < 1e-12,
                             f"{result} case {k}: village shares give {total}, "
                             f"the file {float(expected)}")
                county = village.county_share(run, v, 0.5)
                checks.check(abs(county - float(expected)) < 1e-12,
                             f"{result} case {k}: county share {county}, the file {expected}")
            if result.endswith("poorer.h5"):
                checks.check(f["poverty/vulnerable_share"][-1] > 0.1,
                             "the poorer scenario should have vulnerable persons")


def check_histogram_bins(checks, results):
    """Every bin of plot_headcount_distribution holds the same number w of the possible
    headcounts k / persons, and every replication falls in a bin."""
    import plot_headcount_distribution as distribution
    for result in results:
        with h5py.File(result, "r") as f:
            persons = int(f.attrs["persons"])
            for t in range(len(f["year"])):
                values = f["replications/fgt0"][:, t]
                for width in (None, 1, 3):
                    edges, w = distribution.bin_edges(values, persons, width)
                    checks.check(w is not None and (width is None or w == width),
                                 f"{result} year {t}: headcounts not seen on the support "
                                 f"k/{persons} (w={w})")
                    if w is None:
                        continue
                    low, high = np.ceil(edges[:-1] * persons - 1e-9), np.ceil(edges[1:] * persons
                                                                              - 1e-9)
                    counts = (high - low).astype(int)  # whole k in [edge_j, edge_j+1)
                    checks.check(bool(np.all(counts == w)),
                                 f"{result} year {t} width {width}: bins hold {set(counts)} "
                                 f"possible headcounts, not {w} each")
                    inside = np.histogram(values, bins=edges)[0].sum()
                    checks.check(inside == len(values),
                                 f"{result} year {t}: {len(values) - inside} replications "
                                 "outside the bins")


def check_fiscal_components(checks, integer, string):
    """plot_fiscal's components add up to /fiscal/government_cost in both layouts: computed
    from the stored parts (schema 1.0) or read from /fiscal/by_component (2.0)."""
    import incsim_results as ir
    import plot_fiscal as fiscal
    stacks = {}
    for path, source in ((integer, "government_cost"), (string, "by_component")):
        with ir.open_run(path) as run, h5py.File(path, "r") as f:
            rows, where = fiscal.components(run)
            cost = f["fiscal/government_cost"][()]
            total = sum(values for _, _, values in rows)
            checks.check(np.allclose(total, cost, rtol=1e-12, atol=1e-6),
                         f"{path}: components sum to {total}, government cost {cost}")
            checks.check(source in where, f"{path}: components taken from {where!r}")
            stacks[source] = {name: values for name, _, values in rows}
            if source == "government_cost":
                for p in ("income_index", "poverty_guard"):
                    checks.check(np.array_equal(stacks[source][f"premium_subsidy_{p}"],
                                                f[f"insurance/{p}/subsidy"][()]),
                                 f"{path}: premium subsidy of {p} is not /insurance/{p}/subsidy")
            else:
                names = [n.decode() if isinstance(n, bytes) else n for n in f["fiscal/component"]]
                for k, name in enumerate(names):
                    checks.check(np.array_equal(stacks[source][name], f["fiscal/by_component"][k]),
                                 f"{path}: component {name} is not /fiscal/by_component[{k}]")
    # the stored parts of 1.0 and the writer's split of 2.0 agree on what both show
    legacy, split = stacks["government_cost"], stacks["by_component"]
    for name in ("premium_subsidy_income_index", "premium_subsidy_poverty_guard", "dibao",
                 "health_reimbursement"):
        if name in legacy:
            checks.check(np.allclose(legacy[name], split[name], rtol=1e-12, atol=1e-6),
                         f"{name}: {legacy[name]} from the stored parts, {split[name]} split")
    rest = split["public_posts"] + split["transfers"] + split["setup_subsidies"]
    checks.check(np.allclose(legacy["other"], rest, rtol=1e-9, atol=1e-3),
                 f"posts + transfers + setup subsidies: {legacy['other']} from the stored parts, "
                 f"{rest} split")


def check_protection_tables(checks, results):
    """plot_protection's bars are the file's basis-risk datasets, per industry and product."""
    import incsim_results as ir
    import plot_protection as protection
    for path in results:
        with ir.open_run(path) as run, h5py.File(path, "r") as f:
            table = protection.basis_risk(run)
            names = [n.decode() if isinstance(n, bytes) else n
                     for n in f["insurance/income_index/basis_risk/industries"][()]]
            checks.check(sorted(table) == sorted(names) and len(names) > 0,
                         f"{path}: industries {sorted(table)}, the file {names}")
            for k, industry in enumerate(names):
                for measure in ("missed", "false_alarm", "covered"):
                    values, se = table[industry]["income_index"][measure]
                    stored = f[f"insurance/income_index/basis_risk/{measure}"][k]
                    checks.check(np.array_equal(values, stored, equal_nan=True),
                                 f"{path} {industry} {measure}: {values} vs {stored}")
                t = protection.shown_year(run, table[industry], None)
                checks.check(t is not None and np.isfinite(table[industry]["income_index"]
                                                           ["covered"][0][t]),
                             f"{path} {industry}: shown year {t} has no value")


def check_fonts(checks):
    import incsim_plot_common as common
    checks.check(common.use_fonts_for("xianning") is None,
                 "ASCII labels should not need another font")
    name = common.use_fonts_for("咸宁 通山")
    checks.check(name is not None, "no installed font draws Chinese labels (install "
                                   "fonts-noto-cjk: tools/setup.sh)")


def write_cjk_population(source, csv):
    """The households of `source` as a population csv with Chinese village names."""
    names = ["咸安", "嘉鱼", "赤壁", "通城", "崇阳", "通山",
             "温泉", "横沟桥", "汀泗桥", "向阳湖", "官埠桥", "贺胜桥"]
    with h5py.File(source, "r") as f, open(csv, "w", encoding="utf-8") as out:
        h = f["households"]
        industries = [n.decode() for n in f["industries/name"][()]]
        out.write("id,village,size,laborers,farmland_mu,forest_mu,capital,poor,main,aux\n")
        for k in range(h["id"].shape[0]):
            main, aux = h["main"][k], h["aux"][k]
            out.write(f"h{k},{names[h['village'][k] % len(names)]},{h['size'][k]},"
                      f"{h['laborers'][k]},{h['farmland_mu'][k]:.4f},{h['forest_mu'][k]:.4f},"
                      f"{h['capital'][k]:.2f},{h['poor'][k]},"
                      f"{industries[main] if main >= 0 else ''},"
                      f"{industries[aux] if aux >= 0 else ''}\n")


def main():
    binary, scenario, tools, tmp = (os.path.abspath(a) for a in sys.argv[1:5])
    tmp = os.path.join(tmp, "python_plots")
    os.makedirs(tmp, exist_ok=True)
    env = headless_env(tmp)
    os.environ["MPLCONFIGDIR"] = env["MPLCONFIGDIR"]
    sys.dont_write_bytecode = True  # no __pycache__ in the source tree
    sys.path.insert(0, tools)
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
    integer, string = string_scales.both_layouts(insured)
    # a stack sweep on the same scenario: point 1 adds the insurance
    sweep_file, sweep = os.path.join(tmp, "stack.yaml"), os.path.join(tmp, "stack.h5")
    with open(sweep_file, "w", encoding="utf-8") as f:
        f.write(f"base: {os.path.abspath(scenario)}\nmode: stack\n"
                "set: {population.households: 150, scenario.replications: 20}\n"
                "overlays:\n  - {name: insurance, set: {"
                + INSURANCE.replace("insurance=", "insurance: ", 1) + "}}\n")
    cjk_csv, cjk = os.path.join(tmp, "cjk.csv"), os.path.join(tmp, "cjk.h5")
    write_cjk_population(small, cjk_csv)
    for command in ([binary, "sweep", sweep_file, "-o", sweep, "-q", "--restart"],
                    [binary, "run", scenario, "-o", cjk, "-q", "--replications", "20", "--set",
                     f"population={{csv: {cjk_csv}}}", "--set", "choice.rule=fixed", "--set",
                     "scenario.name=咸宁2019"]):
        r = run(command)
        if r.returncode != 0:
            print(r.stdout, r.stderr)
            print(f"0 passed, 1 failed ({' '.join(command[:2])} exited {r.returncode})")
            return 1

    python = sys.executable
    cases = [("small", small, []), ("insured", insured, []), ("poorer", poorer, []),
             ("schema1", integer, []), ("schema2", string, []), ("point1", sweep, ["--point", "1"]),
             ("cjk", cjk, [])]
    for script in SCRIPTS:
        path = os.path.join(tools, script)
        stem = script[len("plot_"):-len(".py")]
        r = run([python, path, "--help"], env=env)
        checks.check(r.returncode == 0 and "RESULT.h5" in r.stdout and "--title" in r.stdout
                     and "--point" in r.stdout,
                     f"{script} --help exited {r.returncode}: {r.stderr.strip()}")
        for label, result, extra in cases:
            png = os.path.join(tmp, f"{label}_{stem}.png")
            if os.path.exists(png):
                os.remove(png)
            title = [] if label == "cjk" else ["--title", f"test {stem}"]
            r = run([python, path, result, "-o", png] + title + extra, env=env)
            if script in NEEDS_INSURANCE and label in ("small", "poorer", "cjk"):
                checks.check(r.returncode == 1 and "configures no insurance" in r.stderr
                             and "Traceback" not in r.stderr and not os.path.exists(png),
                             f"{script} {label} (no insurance) exited {r.returncode}: "
                             f"{r.stderr.strip()}")
                continue
            checks.check(r.returncode == 0, f"{script} {label} exited {r.returncode}: {r.stderr}")
            checks.check(r.stdout.strip() == png,
                         f"{script} {label} printed {r.stdout.strip()!r}, not the PNG path")
            checks.check("missing from current font" not in r.stderr and "warning" not in r.stderr,
                         f"{script} {label}: {r.stderr.strip()}")
            check_png(checks, png, f"{script} {label}")
        r = run([python, path, os.path.join(tmp, "missing.h5")], env=env)
        checks.check(r.returncode == 1 and "no such file" in r.stderr,
                     f"{script} on a missing file exited {r.returncode}: {r.stderr.strip()}")
        for extra, fragment, what in (([], "--point K (0..1)", "a sweep without --point"),
                                      (["--point", "2"], "no point 2", "a point out of range")):
            r = run([python, path, sweep, "-o", os.path.join(tmp, "bad.png")] + extra, env=env)
            checks.check(r.returncode == 1 and fragment in r.stderr and "Traceback" not in r.stderr,
                         f"{script} on {what} exited {r.returncode}: {r.stderr.strip()}")
        r = run([python, path, small, "--point", "0", "-o", os.path.join(tmp, "bad.png")], env=env)
        checks.check(r.returncode == 1 and "single run" in r.stderr and "Traceback" not in r.stderr,
                     f"{script} --point on a single run exited {r.returncode}: {r.stderr.strip()}")

    # Default output names (<RESULT stem>[_point<K>]_<kind>.png in the current directory) and
    # the options that choose a year, the horizon, thresholds or the bin width.
    for extra, name in (([small], "small_income_fan.png"),
                        ([sweep, "--point", "1"], "stack_point1_income_fan.png")):
        r = run([python, os.path.join(tools, "plot_income_fan.py")] + extra, cwd=tmp, env=env)
        checks.check(r.returncode == 0 and r.stdout.strip() == name,
                     f"default output: {r.stdout.strip()!r} {r.stderr}")
        check_png(checks, os.path.join(tmp, name), "default output")
    for script, extra, name in [
            ("plot_headcount_distribution.py", ["--year", "2020"], "year2020.png"),
            ("plot_headcount_distribution.py", ["--bin-persons", "2"], "bins2.png"),
            ("plot_vulnerability_by_village.py", ["--horizon"], "horizon.png"),
            ("plot_vulnerability_by_village.py", ["--year", "2021"], "village2021.png"),
            ("plot_vulnerability_by_village.py", ["--threshold", "0.2", "--threshold", "0.05"],
             "thresholds.png")]:
        png = os.path.join(tmp, name)
        r = run([python, os.path.join(tools, script), small, "-o", png] + extra, env=env)
        checks.check(r.returncode == 0, f"{script} {extra} exited {r.returncode}: {r.stderr}")
        check_png(checks, png, f"{script} {extra}")
    for script, extra, status, fragment in [
            ("plot_headcount_distribution.py", ["--year", "1999"], 1, "1999"),
            ("plot_headcount_distribution.py", ["--bin-persons", "0"], 1, "--bin-persons"),
            ("plot_vulnerability_by_village.py", ["--threshold", "1.5"], 2, "--threshold")]:
        r = run([python, os.path.join(tools, script), small, "-o", os.path.join(tmp, "bad.png")]
                + extra, env=env)
        checks.check(r.returncode == status and fragment in r.stderr,
                     f"{script} {extra} exited {r.returncode}: {r.stderr.strip()}")

    check_village_shares(checks, tools, [small, poorer, integer, string])
    check_histogram_bins(checks, [small, poorer])
    check_fiscal_components(checks, integer, string)
    check_protection_tables(checks, [insured, integer, string])
    check_fonts(checks)

    print(f"{checks.passed} passed, {len(checks.failed)} failed")
    return 1 if checks.failed else 0


if __name__ == "__main__":
    sys.exit(main())
