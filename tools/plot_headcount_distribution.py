#!/usr/bin/env python3
"""Distribution over replications of the county poverty headcount in one year, from an incsim
result (or one sweep point).

A histogram of /replications/fgt0 for the chosen year (--year, default the last year of the
horizon), a vertical line at the exit target (poverty.exit_target of the scenario as run,
default 2%), and the target risk P(headcount > target) from /poverty/target_risk with its
Monte Carlo standard error.

A replication's headcount is a whole number of poor persons divided by the persons of the
population, so it takes only the values k / persons: the bins are a whole number w of persons
wide, with edges halfway between such values, so that every bin holds the same number of
possible values (bins of arbitrary width hold one more or one fewer of them and draw a comb).
w follows the Freedman-Diaconis rule rounded up to whole persons (--bin-persons sets it).

Example: tools/plot_headcount_distribution.py xianning_2019.h5 --year 2021 -o risk.png
"""
import math

import numpy as np
from matplotlib.ticker import MaxNLocator, PercentFormatter

import incsim_plot_common as common


def support_step(values, persons):
    """1 / persons when every value is a whole number of persons out of `persons`, else None."""
    if not persons or persons <= 0 or len(values) == 0:
        return None
    k = np.asarray(values, dtype=float) * persons
    return 1.0 / persons if np.all(np.abs(k - np.round(k)) < 1e-6) else None


def bin_edges(values, persons, bin_persons=None):
    """(edges, w): histogram edges of headcount `values` (fractions) aligned to the support
    k / persons, w persons per bin (w = None when the values are not on that support: then
    numpy's 'auto' edges)."""
    values = np.asarray(values, dtype=float)
    if support_step(values, persons) is None:
        edges = np.histogram_bin_edges(values, bins="auto")
        if len(edges) < 8:
            edges = np.linspace(values.min(), values.max() + 1e-9, 8)
        return edges, None
    k = np.round(values * persons).astype(np.int64)
    lo, hi = int(k.min()), int(k.max())
    if bin_persons is None:
        q75, q25 = np.percentile(k, [75, 25])
        width = 2 * (q75 - q25) / len(k) ** (1 / 3)  # Freedman-Diaconis, in persons
        if width <= 0:
            width = (hi - lo + 1) / max(1.0, math.sqrt(len(k)))
        bin_persons = max(1, int(math.ceil(width)))
    w = int(bin_persons)
    bins = max(1, int(math.ceil((hi - lo + 1) / w)))
    edges = (lo - 0.5 + w * np.arange(bins + 1)) / persons
    return edges, w


def main():
    p = common.parser(__doc__, "headcount_distribution")
    p.add_argument("--year", type=int, help="calendar year to show (default: the last year)")
    p.add_argument("--bin-persons", type=int, metavar="W",
                   help="bin width in poor persons (default: Freedman-Diaconis, rounded up)")
    args = p.parse_args()
    if args.bin_persons is not None and args.bin_persons < 1:
        common.fail(f"--bin-persons must be at least 1 (got {args.bin_persons})")
    run = common.open_result(args)
    t = common.year_index(run, args.year)
    year = int(run.years[t])
    fraction = np.asarray(run["replications"]["fgt0"].isel(year=t).values, dtype=float)
    poverty = run["poverty"]
    persons = int(run.attrs.get("persons", 0))
    edges, w = bin_edges(fraction, persons, args.bin_persons)
    values, edges = 100 * fraction, 100 * edges
    target = 100 * common.exit_target(run)
    risk = float(poverty["target_risk"].isel(year=t))
    risk_se = (float(poverty["target_risk_se"].isel(year=t))
               if "target_risk_se" in poverty else None)

    fig, ax = common.plt.subplots(figsize=(8, 5))
    label = f"{len(values)} replications"
    if w is not None:
        label += (f"\nbins of {w} poor person{'s' if w > 1 else ''} = {100 * w / persons:.3g}% "
                  f"of the {persons:,} persons")
    ax.hist(values, bins=edges, color="steelblue", edgecolor="white", linewidth=0.5, label=label)
    ax.axvline(target, color="crimson", linestyle="--", linewidth=1.5,
               label=f"exit target {target:g}%")
    ax.axvline(values.mean(), color="navy", linewidth=1.5,
               label=f"mean {values.mean():.2f}%")
    risk_text = f"P(headcount > {target:g}%) = {risk:.3f}"
    if risk_se is not None:
        risk_text += f" (se {risk_se:.3f})"

    common.xlabel(ax, f"poverty headcount FGT0 in {year} (% of persons)")
    ax.xaxis.set_major_formatter(PercentFormatter(decimals=None))
    common.ylabel(ax, "replications")
    lo, hi = min(edges[0], target), max(edges[-1], target)
    pad = 0.05 * (hi - lo) if hi > lo else 0.1
    ax.set_xlim(lo - pad, hi + pad)
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.grid(axis="y", alpha=0.3)
    legend = ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize="small",
                       title=risk_text, title_fontsize="small")
    legend.get_title().set_color("crimson")
    ax.set_title(common.title(run, args, f"headcount across replications, {year}"))
    common.save(fig, args)


if __name__ == "__main__":
    main()
