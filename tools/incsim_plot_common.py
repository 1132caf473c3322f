"""Shared helpers of the incsim plotting scripts (tools/plot_*.py): command line, opening a
result file, labels with units, the exit target from the scenario text, and saving a PNG.

Only h5py, numpy, matplotlib (Agg backend, no display needed) and PyYAML are used.
"""
import argparse
import os
import sys

import h5py
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (the backend must be chosen first)
import numpy as np  # noqa: E402

DEFAULT_EXIT_TARGET = 0.02
PRODUCTS = ("agricultural", "income_index", "poverty_guard")
PRODUCT_LABELS = {
    "agricultural": "agricultural insurance",
    "income_index": "income index insurance",
    "poverty_guard": "poverty guard",
}


def parser(description, kind):
    """The common command line: RESULT.h5 [-o OUT.png] [--title TITLE]."""
    p = argparse.ArgumentParser(description=description,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("result", metavar="RESULT.h5", help="an incsim result file (incsim run -o)")
    p.add_argument("-o", "--output", metavar="OUT.png",
                   help=f"PNG to write (default: <RESULT stem>_{kind}.png in the current "
                        "directory)")
    p.add_argument("--title", help="chart title (default: a description with the scenario name)")
    p.set_defaults(kind=kind)
    return p


def output_path(args):
    if args.output:
        return args.output
    stem = os.path.splitext(os.path.basename(args.result))[0]
    return f"{stem}_{args.kind}.png"


def fail(message):
    print(f"{os.path.basename(sys.argv[0])}: {message}", file=sys.stderr)
    sys.exit(1)


def open_result(path):
    """Opens an incsim result read-only; exits with a message if it is not one."""
    if not os.path.exists(path):
        fail(f"no such file: {path}")
    try:
        f = h5py.File(path, "r")
    except OSError as e:
        fail(f"cannot open {path} as HDF5: {e}")
    if "incsim_version" not in f.attrs:
        fail(f"{path} is not an incsim result (no incsim_version attribute)")
    return f


def text(value):
    return value.decode() if isinstance(value, bytes) else str(value)


def strings(dataset):
    return [text(v) for v in dataset[()]]


def scenario_name(f):
    return text(f.attrs.get("scenario_name", os.path.basename(f.filename)))


def years(f):
    return np.asarray(f["year"][()], dtype=int)


def units(dataset):
    return text(dataset.attrs.get("units", ""))


def axis_label(what, unit):
    """'what (unit)', leaving out dimensionless units."""
    return what if unit in ("", "1") else f"{what} ({unit})"


def exit_target(f):
    """poverty.exit_target of the scenario as run (root attribute `scenario`), else 0.02."""
    try:
        import yaml
        doc = yaml.safe_load(text(f.attrs["scenario"]))
        value = doc["poverty"]["exit_target"]
        return float(value)
    except Exception:  # no attribute, no yaml module, key absent: the MODEL.md default
        return DEFAULT_EXIT_TARGET


def year_index(f, year):
    """Index of calendar `year` in /year (None = last year); exits if the year is not there."""
    ys = years(f)
    if year is None:
        return len(ys) - 1
    hits = np.nonzero(ys == year)[0]
    if len(hits) == 0:
        fail(f"year {year} is not in the result (years {ys[0]}..{ys[-1]})")
    return int(hits[0])


def money_scale(max_value):
    """(divisor, unit label) so that yuan amounts read well on an axis."""
    if max_value >= 1e6:
        return 1e6, "million yuan"
    if max_value >= 1e4:
        return 1e3, "thousand yuan"
    return 1.0, "yuan"


def year_axis(ax, ys):
    ax.set_xticks(ys)
    ax.set_xticklabels([str(y) for y in ys])
    ax.set_xlabel("year")


def save(fig, args):
    out = output_path(args)
    fig.savefig(out, dpi=120, bbox_inches="tight")
    plt.close(fig)
    print(out)
    return out
