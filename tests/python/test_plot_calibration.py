#!/usr/bin/env python3
"""tools/plot_calibration.py on the record of a small `incsim calibrate` run (scenarios/
xianning_2019.yaml with 300 households, 8 replications, at most 6 evaluations): it writes a
PNG and prints its path, headless; the arrays it plots are the record's; a file that is not a
record, and a missing file, fail with status 1 and a message (no traceback).

Usage: test_plot_calibration.py INCSIM_BINARY SCENARIO TOOLS_DIR TMPDIR
"""
import os
import subprocess
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree (before the imports below)

import h5py
import numpy as np

from checks import Checks

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def main():
    incsim, scenario, tools, tmp = (os.path.abspath(a) for a in sys.argv[1:5])
    work = os.path.join(tmp, "plot_calibration")
    os.makedirs(work, exist_ok=True)
    env = dict(os.environ)
    for name in ("DISPLAY", "WAYLAND_DISPLAY", "MPLBACKEND"):
        env.pop(name, None)
    env["MPLCONFIGDIR"] = os.path.join(work, "mplconfig")
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    checks = Checks()

    calibration = os.path.join(work, "small.yaml")
    with open(calibration, "w") as f:
        f.write(f"base: {os.path.abspath(scenario)}\nreplications: 8\ncheck_replications: 16\n"
                "max_evaluations: 6\nset:\n  population.households: 300\n"
                "parameters:\n  income.wage.poor.employment_rate: {min: 0.5, max: 0.99}\n"
                "targets:\n  - {measure: poverty/fgt0, year: 2019, value: 0.0106}\n"
                "  - {measure: groups/poor/fgt0, group: poor, year: 2019, value: 0.06}\n")
    out = os.path.join(work, "small.calibrated.yaml")
    record = os.path.join(work, "small.calibrated.h5")
    for stale in (out, record):
        if os.path.exists(stale):
            os.remove(stale)
    r = subprocess.run([incsim, "calibrate", calibration, "-o", out, "--threads", "2"],
                       capture_output=True, text=True)
    checks.check(r.returncode == 0, f"incsim calibrate failed: {r.stderr}")
    checks.check(os.path.isfile(record), f"no record {record}")

    png = os.path.join(work, "calibration.png")
    r = subprocess.run([sys.executable, os.path.join(tools, "plot_calibration.py"), record,
                        "-o", png], capture_output=True, text=True, env=env, cwd=work)
    checks.check(r.returncode == 0, f"plot_calibration.py failed: {r.stderr}")
    checks.check(r.stdout.strip() == png, f"printed {r.stdout!r}, expected the PNG's path")
    checks.check(os.path.isfile(png) and os.path.getsize(png) > 1000, f"{png} not written")
    if os.path.isfile(png):
        with open(png, "rb") as f:
            checks.check(f.read(8) == PNG_SIGNATURE, f"{png} is not a PNG")

    sys.path.insert(0, tools)
    import plot_calibration
    rec = plot_calibration.read_record(record)
    with h5py.File(record, "r") as f:
        g = f["calibration"]
        checks.check(np.array_equal(rec["objective"], g["objective"][()]), "objective differs")
        checks.check(np.array_equal(rec["estimate"], g["estimate"][()]), "estimates differ")
        checks.check(rec["x"].shape == (rec["objective"].size, 1), f"x shape {rec['x'].shape}")
        checks.check(rec["targets"] == ["poverty/fgt0 2019", "groups/poor/fgt0 poor 2019"],
                     f"targets {rec['targets']}")
        checks.check(rec["check"] is not None and rec["check"][2] == 16, "no check run")

    for bad, expected in ((calibration, "cannot open"), (os.path.join(work, "missing.h5"),
                                                          "cannot open")):
        r = subprocess.run([sys.executable, os.path.join(tools, "plot_calibration.py"), bad,
                            "-o", os.path.join(work, "bad.png")], capture_output=True, text=True,
                           env=env, cwd=work)
        checks.check(r.returncode == 1 and expected in r.stderr and "Traceback" not in r.stderr,
                     f"{bad}: status {r.returncode}, stderr {r.stderr!r}")
    run_file = os.path.join(work, "run.h5")
    r = subprocess.run([incsim, "run", scenario, "--replications", "4", "--set",
                        "population.households=100", "-o", run_file], capture_output=True)
    r = subprocess.run([sys.executable, os.path.join(tools, "plot_calibration.py"), run_file,
                        "-o", os.path.join(work, "bad.png")], capture_output=True, text=True,
                       env=env, cwd=work)
    checks.check(r.returncode == 1 and "not an incsim calibrate record" in r.stderr,
                 f"a run result: status {r.returncode}, stderr {r.stderr!r}")
    return checks.finish()


if __name__ == "__main__":
    sys.exit(main())
