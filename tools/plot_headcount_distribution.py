#!/usr/bin/env python3
"""Distribution over replications of the county poverty headcount in one year.

A histogram of /replications/fgt0 for the chosen year (--year, default the last year of the
horizon), a vertical line at the exit target (poverty.exit_target of the scenario as run,
default 2%), and the target risk P(headcount > target) from /poverty/target_risk with its
Monte Carlo standard error.

Example: tools/plot_headcount_distribution.py xianning_2019.h5 --year 2021 -o risk.png
"""
import numpy as np
from matplotlib.ticker import PercentFormatter

import incsim_plot_common as common


def main():
    p = common.parser(__doc__, "headcount_distribution")
    p.add_argument("--year", type=int, help="calendar year to show (default: the last year)")
    args = p.parse_args()
    f = common.open_result(args.result)
    t = common.year_index(f, args.year)
    year = int(common.years(f)[t])
    values = 100 * np.asarray(f["replications/fgt0"][:, t], dtype=float)
    target = 100 * common.exit_target(f)
    risk = float(f["poverty/target_risk"][t])
    risk_se = float(f["poverty/target_risk_se"][t]) if "poverty/target_risk_se" in f else None

    fig, ax = common.plt.subplots(figsize=(8, 5))
    edges = np.histogram_bin_edges(values, bins="auto")
    if len(edges) < 8:  # few replications or few distinct values: still show a shape
        edges = np.linspace(values.min(), values.max() + 1e-9, 8)
    ax.hist(values, bins=edges, color="steelblue", edgecolor="white",
            label=f"{len(values)} replications")
    ax.axvline(target, color="crimson", linestyle="--", linewidth=1.5,
               label=f"exit target {target:g}%")
    ax.axvline(values.mean(), color="navy", linewidth=1.5,
               label=f"mean {values.mean():.2f}%")
    risk_text = f"P(headcount > {target:g}%) = {risk:.3f}"
    if risk_se is not None:
        risk_text += f" (se {risk_se:.3f})"
    ax.text(0.98, 0.97, risk_text, transform=ax.transAxes, ha="right", va="top",
            bbox=dict(boxstyle="round", facecolor="white", edgecolor="crimson"))

    ax.set_xlabel(f"poverty headcount FGT0 in {year} (% of persons)")
    ax.xaxis.set_major_formatter(PercentFormatter(decimals=None))
    ax.set_ylabel("replications")
    lo, hi = min(values.min(), target), max(values.max(), target)
    pad = 0.05 * (hi - lo) if hi > lo else 0.1
    ax.set_xlim(lo - pad, hi + pad)
    ax.grid(axis="y", alpha=0.3)
    ax.legend(loc="upper left", fontsize="small", framealpha=0.9)
    ax.set_title(args.title or f"{common.scenario_name(f)}: headcount across replications, "
                               f"{year}")
    common.save(fig, args)


if __name__ == "__main__":
    main()
