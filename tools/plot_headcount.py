#!/usr/bin/env python3
"""Poverty headcount (FGT0) by year from an incsim result (or one sweep point).

Draws the mean headcount over replications (/poverty/fgt0) with its 95% Monte Carlo
interval (mean +/- 1.96 se, /poverty/fgt0_se), the 5-95% band of the per-replication
headcount (/replications/fgt0: where one simulated future lands), and the exit target
(poverty.exit_target of the scenario as run, default 2%) as a horizontal line.

Example: tools/plot_headcount.py xianning_2019.h5 -o headcount.png
         tools/plot_headcount.py insurance_stack.h5 --point 3 -o stack_point3.png
"""
import numpy as np
from matplotlib.ticker import PercentFormatter

import incsim_plot_common as common


def main():
    args = common.parser(__doc__, "headcount").parse_args()
    run = common.open_result(args)
    poverty = run["poverty"]
    ys = run.years
    mean = 100 * np.asarray(poverty["fgt0"].values, dtype=float)
    se = 100 * np.asarray(poverty["fgt0_se"].values, dtype=float)
    per_rep = 100 * np.asarray(run["replications"]["fgt0"].transpose("replication", "year").values,
                               dtype=float)
    p05, p95 = np.percentile(per_rep, [5, 95], axis=0)
    target = 100 * common.exit_target(run)

    fig, ax = common.plt.subplots(figsize=(8, 5))
    ax.fill_between(ys, p05, p95, color="lightsteelblue", alpha=0.7, linewidth=0,
                    label="5-95% of replications")
    ax.fill_between(ys, mean - 1.96 * se, mean + 1.96 * se, color="steelblue", alpha=0.8,
                    linewidth=0, label="95% interval of the mean (\u00b11.96 se)")
    ax.plot(ys, mean, color="navy", marker="o", linewidth=2, label="mean headcount")
    ax.axhline(target, color="crimson", linestyle="--", linewidth=1.5,
               label=f"exit target {target:g}%")

    common.year_axis(ax, ys)
    common.ylabel(ax, "poverty headcount FGT0 (% of persons)")
    ax.yaxis.set_major_formatter(PercentFormatter(decimals=None))
    top = max(float(np.max(p95)), float(np.max(mean + 1.96 * se)), target)
    ax.set_ylim(0, 1.15 * top if top > 0 else 1)
    ax.grid(axis="y", alpha=0.3)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize="small")
    ax.set_title(common.title(run, args, f"poverty headcount ({per_rep.shape[0]} replications)"))
    common.save(fig, args)


if __name__ == "__main__":
    main()
