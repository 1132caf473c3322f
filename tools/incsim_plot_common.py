"""Shared helpers of the incsim plotting scripts (tools/plot_*.py): the command line (with
--point for one point of a sweep result), opening a result through incsim_results, readable
labels with units, a font for labels the default font cannot draw (CJK names), the exit target
from the scenario text, and saving a PNG.

Uses h5py, numpy, matplotlib (Agg backend, no display needed), xarray, h5netcdf, pandas (through
incsim_results) and PyYAML.
"""
import argparse
import functools
import math
import os
import sys
import textwrap

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (the backend must be chosen first)
import numpy as np  # noqa: E402
from matplotlib import font_manager  # noqa: E402

import incsim_results as results  # noqa: E402

DEFAULT_EXIT_TARGET = 0.02
PRODUCTS = ("agricultural", "income_index", "poverty_guard")
PRODUCT_LABELS = {
    "agricultural": "agricultural insurance",
    "income_index": "income index insurance",
    "poverty_guard": "poverty guard",
}
# Installed fonts tried, in this order, for labels the default font cannot draw (Debian:
# fonts-noto-cjk, fonts-wqy-microhei, fonts-wqy-zenhei). Matplotlib sees the first face of a
# .ttc collection, so Noto's pan-CJK file appears as "Noto Sans CJK JP"; it draws simplified
# Chinese too.
CJK_FONTS = ("Noto Sans CJK SC", "WenQuanYi Micro Hei", "WenQuanYi Zen Hei", "Noto Sans CJK JP",
             "Noto Sans CJK TC", "Noto Sans CJK KR", "Noto Serif CJK SC", "Noto Serif CJK JP",
             "AR PL UMing CN", "Droid Sans Fallback")


def parser(description, kind, point=True):
    """The common command line: RESULT.h5 [-o OUT.png] [--title TITLE] [--point K]."""
    p = argparse.ArgumentParser(description=description,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("result", metavar="RESULT.h5",
                   help="an incsim result file (incsim run -o), or a sweep result (incsim "
                        "sweep -o) with --point")
    p.add_argument("-o", "--output", metavar="OUT.png",
                   help=f"PNG to write (default: <RESULT stem>_{kind}.png, or "
                        f"<RESULT stem>_point<K>_{kind}.png for a sweep point, in the current "
                        "directory)")
    p.add_argument("--title", help="chart title (default: a description with the scenario name)")
    if point:
        p.add_argument("--point", type=int, metavar="K",
                       help="for a sweep result: plot point K (0-based: /points/K, the K-th "
                            "row of /sweep; `incsim inspect` lists them)")
    p.set_defaults(kind=kind)
    return p


def output_path(args):
    if args.output:
        return args.output
    stem = os.path.splitext(os.path.basename(args.result))[0]
    point = getattr(args, "point", None)
    if point is not None:
        stem += f"_point{point}"
    return f"{stem}_{args.kind}.png"


def fail(message):
    print(f"{os.path.basename(sys.argv[0])}: {message}", file=sys.stderr)
    sys.exit(1)


def open_result(args):
    """The run (or the sweep point of --point) of args.result as an incsim_results.Run; exits
    with status 1 and a message if it is not one. Chooses a font for its labels."""
    point = getattr(args, "point", None)
    try:
        info = results.describe(args.result)
        if info["kind"] == "sweep" and point is None:
            fail(f"{args.result} is a sweep result with {info['points']} points: plot one with "
                 f"--point K (0..{info['points'] - 1}), or the whole sweep with "
                 "tools/plot_sweep.py")
        run = results.open_run(args.result, point)
    except results.ResultError as e:
        message = str(e)
        if point is not None and "single run" in message:
            message += "; --point applies to sweep results only"
        fail(message)
    texts = [args.title or "", run.scenario_name, run.point_description or ""]
    for dim in ("village_index", "industry", "market", "group_main_industry", "group_village"):
        texts += run.labels(dim) or []
    use_fonts_for(*texts)
    return run


def title(run, args, what):
    """args.title, else '<scenario>: <what>' with the sweep point on a second line."""
    if args.title:
        return args.title
    head = f"{run.scenario_name}: {what}"
    if run.point is not None:
        head += f"\nsweep point {run.point}: {run.point_description}"
    return head


# -- fonts ----------------------------------------------------------------------------------
@functools.lru_cache(maxsize=None)
def _charmap(path):
    from matplotlib.ft2font import FT2Font
    try:
        return frozenset(FT2Font(path).get_charmap())
    except Exception:  # an unreadable font file: it covers nothing
        return frozenset()


def _font_path(name):
    try:
        return font_manager.findfont(font_manager.FontProperties(family=[name]),
                                     fallback_to_default=False)
    except ValueError:
        return None


def use_fonts_for(*texts):
    """If the default font lacks glyphs some text needs (Chinese village or scenario names),
    adds the first installed font of CJK_FONTS that has them as a fallback; returns its name
    (None when nothing is needed). Warns on stderr when no installed font has them."""
    default = font_manager.findfont(font_manager.FontProperties(family=["sans-serif"]))
    covered = _charmap(default)
    needed = {ord(c) for t in texts for c in str(t) if not c.isspace()} - covered
    if not needed:
        return None
    for name in CJK_FONTS:
        path = _font_path(name)
        if path and needed <= _charmap(path):
            # matplotlib (>= 3.6) falls back glyph by glyph along font.family, but a generic
            # family ("sans-serif") stands for one font only: name both
            first = font_manager.FontProperties(fname=default).get_name()
            matplotlib.rcParams["font.family"] = [first, name]
            return name
    sample = "".join(sorted(chr(c) for c in needed)[:8])
    print(f"{os.path.basename(sys.argv[0])}: warning: no installed font draws {sample!r}; "
          "install fonts-noto-cjk or fonts-wqy-microhei (Debian) for such labels",
          file=sys.stderr)
    return None


# -- labels, numbers ------------------------------------------------------------------------
def units(da):
    return results.text(da.attrs.get("units", ""))


def axis_label(what, unit):
    """'what (unit)', leaving out dimensionless units."""
    return what if unit in ("", "1", None) else f"{what} ({unit})"


def scenario_value(run, keys, default):
    """The number at `keys` (e.g. ("poverty", "exit_target")) in the scenario as run (root
    attribute `scenario`), else `default`."""
    try:
        import yaml
        doc = yaml.safe_load(results.text(run.attrs["scenario"]))
        for key in keys:
            doc = doc[key]
        return float(doc)
    except Exception:  # no attribute, no yaml module, key absent: the MODEL.md default
        return default


def exit_target(run):
    """poverty.exit_target of the scenario as run (root attribute `scenario`), else 0.02."""
    return scenario_value(run, ("poverty", "exit_target"), DEFAULT_EXIT_TARGET)


def year_index(run, year):
    """Index of calendar `year` in /year (None = last year); exits if the year is not there."""
    ys = run.years
    if year is None:
        return len(ys) - 1
    hits = np.nonzero(ys == year)[0]
    if len(hits) == 0:
        fail(f"year {year} is not in the result (years {ys[0]}..{ys[-1]})")
    return int(hits[0])


def money_scale(max_value):
    """(divisor, unit label) so that yuan amounts read well on an axis."""
    max_value = abs(float(max_value)) if np.isfinite(max_value) else 0.0
    if max_value >= 1e6:
        return 1e6, "million yuan"
    if max_value >= 1e4:
        return 1e3, "thousand yuan"
    return 1.0, "yuan"


def decimals_for(half_width, significant=2, most=6):
    """Decimals that show `half_width` (e.g. a 95% half-width) to `significant` digits."""
    if not np.isfinite(half_width) or half_width <= 0:
        return None
    return int(min(most, max(0, significant - 1 - math.floor(math.log10(half_width)))))


def format_estimate(value, half_width):
    """('3.6012', '0.0012'): the value rounded to the precision of its interval's half-width,
    thousands separated; the half-width None when it is 0 or not finite."""
    d = decimals_for(half_width)
    if d is None:
        magnitude = abs(value) if np.isfinite(value) and value != 0 else 1.0
        d = int(min(6, max(0, 2 - math.floor(math.log10(magnitude)))))  # 3 significant digits
        return f"{value:,.{d}f}", None
    return f"{value:,.{d}f}", f"{half_width:,.{d}f}"


def wrap_label(ax, text, vertical):
    """`text` with its lines wrapped to the length of the axes side it labels: matplotlib
    (3.6) leaves the overhang of a longer axis label out of the saved figure's tight box, so
    such a label is cut off at the image's edge."""
    fig = ax.get_figure()
    box = ax.get_position()
    length = (box.height * fig.get_figheight() if vertical else
              box.width * fig.get_figwidth()) * 72  # points
    size = matplotlib.font_manager.FontProperties(
        size=matplotlib.rcParams["axes.labelsize"]).get_size_in_points()
    chars = max(12, int(length / (0.62 * size)))
    return "\n".join(textwrap.fill(line, chars) if line else line for line in text.split("\n"))


def xlabel(ax, text):
    ax.set_xlabel(wrap_label(ax, text, vertical=False))


def ylabel(ax, text):
    ax.set_ylabel(wrap_label(ax, text, vertical=True))


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
