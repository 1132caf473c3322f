#!/usr/bin/env python3
"""Fan chart of per-capita net income by year from an incsim result (or one sweep point).

Shaded bands lie between symmetric quantile pairs of /income/quantiles (e.g. 1-99%, 5-95%,
10-90%, 25-75% of the pooled person-weighted distribution over persons and replications),
with the median and the mean (/income/mean) as lines and the poverty line (/poverty/line)
dashed.

Example: tools/plot_income_fan.py xianning_2019.h5 -o income_fan.png
         tools/plot_income_fan.py index_coverage.h5 --point 4 -o point4_fan.png
"""
import numpy as np
from matplotlib.ticker import StrMethodFormatter

import incsim_plot_common as common


def symmetric_pairs(levels):
    """(low index, high index) of quantile pairs p and 1-p, widest first."""
    pairs = []
    for i, p in enumerate(levels):
        if p >= 0.5:
            continue
        match = np.nonzero(np.isclose(levels, 1.0 - p, atol=1e-9))[0]
        if len(match):
            pairs.append((i, int(match[0])))
    return sorted(pairs, key=lambda ij: levels[ij[0]])


def main():
    args = common.parser(__doc__, "income_fan").parse_args()
    run = common.open_result(args)
    income, poverty = run["income"], run["poverty"]
    ys = run.years
    levels = np.asarray(income["quantile"].values, dtype=float)
    q = np.asarray(income["quantiles"].transpose("year", "quantile").values, dtype=float)
    mean = np.asarray(income["mean"].values, dtype=float)
    line = np.asarray(poverty["line"].values, dtype=float)
    unit = common.units(income["quantiles"])

    fig, ax = common.plt.subplots(figsize=(8, 5))
    pairs = symmetric_pairs(levels)
    cmap = common.plt.get_cmap("Blues")
    for k, (lo, hi) in enumerate(pairs):
        shade = cmap(0.25 + 0.5 * (k + 1) / max(len(pairs), 1))
        ax.fill_between(ys, q[:, lo], q[:, hi], color=shade, linewidth=0,
                        label=f"{100 * levels[lo]:g}-{100 * levels[hi]:g}% of persons")
    median = np.nonzero(np.isclose(levels, 0.5, atol=1e-9))[0]
    if len(median):
        ax.plot(ys, q[:, median[0]], color="navy", linewidth=2, label="median")
    ax.plot(ys, mean, color="darkorange", linewidth=2, marker="o", label="mean")
    ax.plot(ys, line, color="crimson", linestyle="--", linewidth=1.5, label="poverty line")

    common.year_axis(ax, ys)
    common.ylabel(ax, common.axis_label("per-capita net income", unit))
    ax.yaxis.set_major_formatter(StrMethodFormatter("{x:,.0f}"))
    ax.grid(axis="y", alpha=0.3)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize="small")
    reps = int(run.attrs["replications"])
    ax.set_title(common.title(run, args, f"income distribution by year ({reps} replications)"))
    common.save(fig, args)


if __name__ == "__main__":
    main()
