#!/usr/bin/env python3
"""How did the calibration get there? The path of an `incsim calibrate` record
(/calibration, MODEL.md section 12): the objective of each evaluation (log scale, the best so
far as a line), then one panel per target with each evaluation's estimate, its 95% Monte
Carlo interval (1.96 x estimate_se) and the observed value, and one panel per parameter with
its value at each evaluation inside its bounds. The check run at the fitted values, when the
record has one, is the last point of each target panel (a diamond).

Example: tools/plot_calibration.py xianning_calibrated.h5 -o calibration.png
"""
import argparse
import math
import os
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

import incsim_plot_common as common  # noqa: E402

COLUMNS = 3


def text(x):
    return x.decode() if isinstance(x, bytes) else str(x)


def read_record(path):
    """The record as a dict of numpy arrays and labels; exits with a message if it is none."""
    import h5py
    try:
        f = h5py.File(path, "r")
    except OSError as e:
        common.fail(f"cannot open {path}: {e}")
    with f:
        if "calibration" not in f or "objective" not in f["calibration"]:
            common.fail(f"{path} is not an incsim calibrate record (no /calibration/objective): "
                        "pass the .h5 record that incsim calibrate writes beside its output")
        g = f["calibration"]
        rec = {
            "parameters": [text(x) for x in g["parameter"][()]],
            "lower": np.asarray(g["lower"][()], dtype=float),
            "upper": np.asarray(g["upper"][()], dtype=float),
            "targets": [text(x) for x in g["target"][()]],
            "value": np.asarray(g["target_value"][()], dtype=float),
            "x": np.asarray(g["parameters"][()], dtype=float),
            "objective": np.asarray(g["objective"][()], dtype=float),
            "estimate": np.asarray(g["estimate"][()], dtype=float),
            "se": np.asarray(g["estimate_se"][()], dtype=float),
            "status": text(g.attrs.get("status", "")),
            "file": text(g.attrs.get("calibration_file", path)),
            "check": None,
        }
        if "check" in g:
            rec["check"] = (np.asarray(g["check/estimate"][()], dtype=float),
                            np.asarray(g["check/estimate_se"][()], dtype=float),
                            int(g["check"].attrs["replications"]))
    if rec["objective"].size == 0:
        common.fail(f"{path} holds no evaluation yet")
    return rec


def main():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("record", metavar="RECORD.h5", help="the record incsim calibrate writes")
    p.add_argument("-o", "--output", metavar="OUT.png",
                   help="PNG to write (default: <RECORD stem>_calibration.png)")
    p.add_argument("--title", help="chart title")
    args = p.parse_args()
    rec = read_record(args.record)
    args.result, args.kind = args.record, "calibration"
    common.use_fonts_for(args.title or "", *rec["targets"], *rec["parameters"])

    evaluations = np.arange(1, rec["objective"].size + 1)
    panels = 1 + len(rec["targets"]) + len(rec["parameters"])
    rows = math.ceil(panels / COLUMNS)
    fig, axes = plt.subplots(rows, COLUMNS, figsize=(4.6 * COLUMNS, 3.3 * rows), squeeze=False)
    flat = axes.ravel()

    ax = flat[0]
    objective = rec["objective"]
    positive = objective[objective > 0]
    # An objective of exactly 0 (every target met, e.g. targets generated on the same seed)
    # has no place on a log axis: drawn at a tenth of the smallest positive one, as triangles.
    floor = positive.min() / 10 if positive.size else 1.0
    shown = np.where(objective > 0, objective, floor)
    ax.semilogy(evaluations[objective > 0], shown[objective > 0], "o", ms=3, color="gray",
                label="evaluation")
    if (objective <= 0).any():
        ax.semilogy(evaluations[objective <= 0], shown[objective <= 0], "v", ms=5,
                    color="darkred", label="objective 0 (drawn at the floor)")
    ax.semilogy(evaluations, np.minimum.accumulate(shown), "-", color="black",
                label="best so far")
    ax.set_title("objective: sum of squared scaled misses")
    common.xlabel(ax, "evaluation")
    ax.legend(fontsize=8)

    for k, label in enumerate(rec["targets"]):
        ax = flat[1 + k]
        est, se = rec["estimate"][:, k], rec["se"][:, k]
        ax.errorbar(evaluations, est, yerr=1.96 * np.nan_to_num(se), fmt="o", ms=3,
                    color="steelblue", ecolor="lightsteelblue", label="estimate \u00b11.96 se")
        ax.axhline(rec["value"][k], color="darkred", lw=1, label="observed")
        if rec["check"] is not None:
            c_est, c_se, c_reps = rec["check"]
            ax.errorbar([evaluations[-1] + 1], [c_est[k]], yerr=[1.96 * c_se[k]], fmt="D",
                        color="black", label=f"check ({c_reps} replications)")
        ax.set_title(label, fontsize=10)
        # Plain numbers: an offset or 1e6 multiplier above the axis would sit on the title.
        ax.ticklabel_format(axis="y", style="plain", useOffset=False)
        common.xlabel(ax, "evaluation")
        ax.legend(fontsize=7)

    for i, name in enumerate(rec["parameters"]):
        ax = flat[1 + len(rec["targets"]) + i]
        ax.plot(evaluations, rec["x"][:, i], "o-", ms=3, lw=0.8, color="seagreen")
        ax.axhline(rec["lower"][i], color="gray", ls="--", lw=0.8)
        ax.axhline(rec["upper"][i], color="gray", ls="--", lw=0.8)
        ax.set_title(name, fontsize=10)
        common.xlabel(ax, "evaluation")

    for ax in flat[:panels]:
        ax.xaxis.get_major_locator().set_params(integer=True)
    for ax in flat[panels:]:
        ax.set_visible(False)
    status = "" if rec["status"] == "finished" else f" ({rec['status']}: not finished)"
    fig.suptitle(args.title or f"calibration of {os.path.basename(rec['file'])}: "
                 f"{rec['objective'].size} evaluations{status}")
    fig.tight_layout()
    common.save(fig, args)


if __name__ == "__main__":
    sys.exit(main())
