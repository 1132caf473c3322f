#!/usr/bin/env python3
"""A headline measure over the points of an incsim sweep (incsim sweep -o RESULT.h5).

- One swept parameter (grid or zip): a line of the measure against the parameter's values,
  with 95% Monte Carlo error bars (1.96 x /sweep/<measure>_se); with --diff, the difference
  from point 0 with 1.96 x its paired standard error (/sweep/<measure>_diff_se).
- Two parameters in a grid: a heatmap of the measure (or of the difference with --diff), the
  first parameter on the rows; each cell is annotated with its value.
- Stack mode: a bar chart of the increment each overlay adds (point k minus point k-1) with
  1.96 x its paired standard error, and the total (last point minus point 0).
- Anything else (three or more parameters, zip of several): a line over the point index.

Measures: mean_income, fgt0, fgt1, fgt2, government_cost, target_risk, payout_<product>.

Example: tools/plot_sweep.py index_coverage.h5 --measure fgt0 --year 2023 -o coverage.png
"""
import os

import numpy as np

import incsim_plot_common as common

MEASURES = {
    "mean_income": ("mean per-capita income", 1.0, "yuan per capita"),
    "fgt0": ("headcount FGT0", 100.0, "% of persons"),
    "fgt1": ("poverty gap FGT1", 100.0, "%"),
    "fgt2": ("poverty severity FGT2", 100.0, "%"),
    "government_cost": ("government cost", 1.0, "yuan per year"),
    "target_risk": ("target risk P(FGT0 > exit target)", 1.0, ""),
}


def describe(measure):
    if measure in MEASURES:
        return MEASURES[measure]
    product = measure[len("payout_"):]
    return (f"{common.PRODUCT_LABELS.get(product, product)} payouts", 1.0, "yuan per year")


def labels_of(dataset):
    values = dataset[()]
    if values.dtype.kind in "fiu":
        return [f"{v:g}" for v in values], np.asarray(values, dtype=float)
    return [common.text(v) for v in values], None


def main():
    p = common.parser(__doc__, "sweep")
    p.add_argument("--measure", default="fgt0",
                   help="headline measure of /sweep (default fgt0): mean_income, fgt0, fgt1, "
                        "fgt2, government_cost, target_risk, payout_<product>")
    p.add_argument("--year", type=int, help="calendar year (default: the last)")
    p.add_argument("--diff", action="store_true",
                   help="plot the difference from point 0 (paired standard errors)")
    args = p.parse_args()
    f = common.open_result(args.result)
    if "sweep" not in f or "point" not in f["sweep"]:
        common.fail(f"{args.result} is not an incsim sweep result (no /sweep table)")
    sweep = f["sweep"]
    if args.measure not in sweep:
        known = sorted(k for k in sweep if k + "_se" in sweep)
        common.fail(f"no measure {args.measure!r} in {args.result} (available: {', '.join(known)})")
    years = np.asarray(sweep["year"][()], dtype=int)
    if args.year is None:
        t = len(years) - 1
    elif args.year in years:
        t = int(np.nonzero(years == args.year)[0][0])
    else:
        common.fail(f"year {args.year} is not in the result (years {years[0]}..{years[-1]})")
    mode = common.text(f.attrs.get("mode", "grid"))
    parameters = [common.text(v) for v in sweep.attrs.get("parameters", [])]
    name, scale, unit = describe(args.measure)
    suffix = "_diff" if args.diff else ""
    value = sweep[args.measure + suffix][:, t] * scale
    se = sweep[args.measure + suffix + "_se"][:, t] * scale
    what = f"{name}, difference from point 0" if args.diff else name
    ylabel = common.axis_label(what, unit)
    base = os.path.basename(common.text(f.attrs.get("base_scenario_file", "")))
    title = args.title or f"{what} in {years[t]}\nsweep of {base}"

    if mode == "stack":
        overlays = labels_of(sweep["overlay"])[0]
        increment = sweep[args.measure + "_increment"][:, t] * scale
        increment_se = sweep[args.measure + "_increment_se"][:, t] * scale
        total = sweep[args.measure + "_diff"][-1, t] * scale
        total_se = sweep[args.measure + "_diff_se"][-1, t] * scale
        names = [f"+ {o}" for o in overlays[1:]] + ["total"]
        heights = np.append(increment[1:], total)
        errors = np.append(increment_se[1:], total_se)
        colors = ["steelblue" if h <= 0 else "indianred" for h in heights[:-1]] + ["dimgray"]
        fig, ax = common.plt.subplots(figsize=(max(6, 1.6 * len(names)), 5))
        ax.bar(range(len(names)), heights, 0.6, yerr=1.96 * errors, capsize=4, color=colors,
               ecolor="black")
        ax.axhline(0, color="black", linewidth=0.8)
        ax.set_xticks(range(len(names)))
        ax.set_xticklabels(names)
        ax.set_ylabel(common.axis_label(f"{name}: change", unit))
        ax.set_xlabel("provision added (point k minus point k-1), and the total; "
                      "\u00b11.96 paired se")
        ax.grid(axis="y", alpha=0.3)
        title = args.title or (f"{name} in {years[t]}: effect of each provision\n"
                               f"base {base}")
    elif len(parameters) == 2 and mode == "grid":
        shape = [int(n) for n in sweep.attrs["grid_shape"]]
        rows = labels_of(sweep[parameters[0]])[0][::shape[1]]
        cols = labels_of(sweep[parameters[1]])[0][:shape[1]]
        grid = np.asarray(value, dtype=float).reshape(shape)
        grid_se = np.asarray(se, dtype=float).reshape(shape)
        fig, ax = common.plt.subplots(figsize=(max(6, 1.2 * shape[1] + 3),
                                               max(4, 0.6 * shape[0] + 2)))
        image = ax.imshow(grid, cmap="RdBu_r" if args.diff else "viridis", aspect="auto",
                          origin="lower")
        if args.diff:
            limit = float(np.nanmax(np.abs(grid))) or 1.0
            image.set_clim(-limit, limit)
        fig.colorbar(image, ax=ax,
                     label=common.axis_label("difference from point 0" if args.diff else name,
                                             unit))
        for i in range(shape[0]):
            for j in range(shape[1]):
                ax.text(j, i, f"{grid[i, j]:.4g}\n\u00b1{1.96 * grid_se[i, j]:.2g}",
                        ha="center", va="center", fontsize="small",
                        bbox={"facecolor": "white", "alpha": 0.6, "linewidth": 0})
        ax.set_xticks(range(shape[1]))
        ax.set_xticklabels(cols)
        ax.set_yticks(range(shape[0]))
        ax.set_yticklabels(rows)
        ax.set_xlabel(parameters[1])
        ax.set_ylabel(parameters[0])
    else:
        fig, ax = common.plt.subplots(figsize=(8, 5))
        if len(parameters) == 1:
            labels, x = labels_of(sweep[parameters[0]])
            xlabel = parameters[0]
        else:
            labels, x = [str(k) for k in range(len(value))], None
            xlabel = "sweep point"
        positions = x if x is not None else np.arange(len(value))
        ax.errorbar(positions, value, yerr=1.96 * se, marker="o", capsize=4, color="steelblue",
                    ecolor="gray",
                    label=f"{what} (\u00b11.96 {'paired ' if args.diff else ''}se)")
        if x is None:
            ax.set_xticks(positions)
            ax.set_xticklabels(labels, rotation=30 if len(labels) > 6 else 0)
        if args.diff:
            ax.axhline(0, color="black", linewidth=0.8)
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
        ax.grid(alpha=0.3)
        ax.legend(loc="best", fontsize="small")
    ax.set_title(title)
    fig.tight_layout()
    common.save(fig, args)


if __name__ == "__main__":
    main()
