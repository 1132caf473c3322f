#!/usr/bin/env python3
"""A headline measure over the points of an incsim sweep (incsim sweep -o RESULT.h5).

- One swept parameter (grid or zip), or several zipped (then over the point index): two panels
  sharing the x axis. Top: the measure at each point with each point's own 95% Monte Carlo
  interval (1.96 x /sweep/<measure>_se) as a band. Bottom: the difference from point 0 with
  1.96 x its paired standard error (/sweep/<measure>_diff_se): all points use the same random
  numbers, so differences between points are far more precise than the points' own intervals
  suggest, and a trend hidden by overlapping intervals shows there. With --diff only the bottom
  panel is drawn.
- Two parameters in a grid: a heatmap of the measure (or of the difference from point 0 with
  --diff), the first parameter on the rows; each cell reads "estimate +/- half-width", the
  half-width being 1.96 standard errors (a 95% interval; paired with --diff).
- Stack mode: a bar chart of the increment each overlay adds (point k minus point k-1) with
  1.96 x its paired standard error, and the total (last point minus point 0).

Measures: mean_income, fgt0 (% of persons; differences in percentage points), fgt1 and fgt2
(indices), government_cost, target_risk (a probability), payout_<product>, and with
agricultural or income index insurance the basis-risk shares missed_<product>,
false_alarm_<product> and covered_<product> (product agricultural, income_index or double; in
%, differences in percentage points); money is shown in yuan, thousand or million yuan as
fits.

Example: tools/plot_sweep.py index_coverage.h5 --measure fgt0 --year 2023 -o coverage.png
"""
import os

import numpy as np

import incsim_plot_common as common
import incsim_results as results

# measure -> (name, scale, unit of the level, unit of a difference); scale None: money
MEASURES = {
    "mean_income": ("mean per-capita income", 1.0, "yuan per capita", "yuan per capita"),
    "fgt0": ("headcount FGT0", 100.0, "% of persons", "percentage points"),
    "fgt1": ("poverty gap index FGT1", 1.0, "", ""),
    "fgt2": ("poverty severity index FGT2", 1.0, "", ""),
    "government_cost": ("government cost", None, "per year", "per year"),
    "target_risk": ("target risk P(FGT0 > exit target)", 1.0, "probability", "probability"),
}
FIELD_WORDS = {
    "coverage": "coverage (share of expected revenue)", "subsidy": "premium subsidy",
    "enrollment": "enrollment", "premium_rate": "premium rate", "loading": "premium loading",
    "deductible": "deductible", "threshold": "threshold (x poverty line)", "cap": "cap (yuan)",
    "premium_per_capita": "premium per person (yuan)", "volatility": "price volatility",
    "poor": "registered poor", "other": "other households", "exit_target": "exit target",
    "households": "households", "replications": "replications",
}


BASIS_MEASURES = {"missed": "losses paid nothing", "false_alarm": "payments without a loss",
                  "covered": "share of the shortfall paid"}
BASIS_VARIANTS = {"agricultural": "agricultural insurance", "income_index": "income index insurance",
                  "double": "double insurance (both products)"}


def describe(measure):
    if measure in MEASURES:
        return MEASURES[measure]
    for prefix, what in BASIS_MEASURES.items():
        variant = measure[len(prefix) + 1:]
        if measure.startswith(prefix + "_") and variant in BASIS_VARIANTS:
            return (f"{BASIS_VARIANTS[variant]}: {prefix.replace('_', ' ')} ({what})", 100.0,
                    "%", "percentage points")
    product = measure[len("payout_"):]
    return (f"{common.PRODUCT_LABELS.get(product, product)} payouts", None, "per year", "per year")


def words(segment):
    if segment.isdigit():
        return f"item {int(segment) + 1}"
    return FIELD_WORDS.get(segment, segment.replace("_", " "))


def parameter_title(path):
    """A readable axis title for a swept dotted path ('insurance.income_index.subsidy.other'
    -> 'income index insurance: premium subsidy, other households')."""
    parts = path.split(".")
    if len(parts) >= 3 and parts[0] == "insurance":
        head = common.PRODUCT_LABELS.get(parts[1], parts[1].replace("_", " "))
        rest = [words(p) for p in parts[2:]]
        return f"{head}: " + ", ".join(rest)
    if len(parts) >= 3 and parts[0] == "markets":
        return f"{parts[1].replace('_', ' ')} market: " + ", ".join(words(p) for p in parts[2:])
    if len(parts) >= 3 and parts[0] == "industries":
        return f"{parts[1]}: " + ", ".join(words(p) for p in parts[2:])
    return ": ".join(words(p) for p in parts)


def short_name(path):
    """The last words of a dotted path, for a tick label ('subsidy.other' -> 'subsidy other')."""
    parts = path.split(".")
    tail = parts[-2:] if len(parts) > 1 and parts[-1] in ("poor", "other") else parts[-1:]
    return " ".join(p.replace("_", " ") for p in tail)


def value_text(value):
    return f"{value:g}" if isinstance(value, (float, np.floating, int, np.integer)) else str(value)


def scaled(measure, values):
    """(scale, level unit, difference unit) for `measure` given the values to be drawn."""
    name, scale, unit, diff_unit = describe(measure)
    if scale is None:
        finite = np.asarray(values, dtype=float)
        finite = finite[np.isfinite(finite)]
        divisor, money = common.money_scale(np.max(np.abs(finite)) if finite.size else 0.0)
        return 1.0 / divisor, f"{money} {unit}", f"{money} {diff_unit}"
    return scale, unit, diff_unit


def line_data(sweep, measure, t):
    """What the line chart draws for year index t: x positions, tick labels (None: numeric
    axis), the axis title, the level (times `scale`, in `unit`) with the half-width of its 95%
    interval (1.96 se), and the difference from point 0 (times `diff_scale`, in `diff_unit`)
    with the half-width of its paired 95% interval (1.96 paired se)."""
    parameters = list(sweep.attrs.get("parameters", []))
    mode = sweep.attrs.get("mode", "grid")
    level = np.asarray(sweep[measure].isel(year=t).values, dtype=float)
    se = np.asarray(sweep[measure + "_se"].isel(year=t).values, dtype=float)
    diff = np.asarray(sweep[measure + "_diff"].isel(year=t).values, dtype=float)
    diff_se = np.asarray(sweep[measure + "_diff_se"].isel(year=t).values, dtype=float)
    scale, unit, _ = scaled(measure, level)
    diff_scale, _, diff_unit = scaled(measure, diff)  # money: its own unit (differences are small)
    if len(parameters) == 1 and mode != "stack":
        values = sweep[parameters[0]].values
        numeric = np.asarray(values).dtype.kind in "fiu"
        x = np.asarray(values, dtype=float) if numeric else np.arange(len(values))
        ticks = None if numeric else [str(v) for v in values]
        xlabel = parameter_title(parameters[0])
    else:
        x = np.arange(len(level))
        if "overlay" in sweep.coords:
            ticks = [str(v) for v in sweep["overlay"].values]
            xlabel = "sweep point"
        elif parameters:
            ticks = ["\n".join(f"{short_name(p)} {value_text(sweep[p].values[k])}"
                               for p in parameters) for k in range(len(level))]
            xlabel = "sweep point: " + "; ".join(parameter_title(p) for p in parameters)
        else:
            ticks = [str(v).replace("; ", "\n") for v in sweep["overrides"].values]
            xlabel = "sweep point"
    return {"x": x, "ticks": ticks, "xlabel": xlabel, "scale": scale, "unit": unit,
            "diff_scale": diff_scale, "diff_unit": diff_unit, "level": level * scale,
            "level_half": 1.96 * se * scale, "diff": diff * diff_scale,
            "diff_half": 1.96 * diff_se * diff_scale}


def draw_line(fig_size, data, name, diff_only):
    rows = 1 if diff_only else 2
    fig, axes = common.plt.subplots(rows, 1, figsize=fig_size, sharex=True, squeeze=False)
    axes = axes[:, 0]
    x = data["x"]
    if not diff_only:
        top = axes[0]
        top.fill_between(x, data["level"] - data["level_half"], data["level"] + data["level_half"],
                         color="lightsteelblue", alpha=0.8, linewidth=0,
                         label="each point's own 95% interval (\u00b11.96 se)")
        top.plot(x, data["level"], marker="o", color="navy", label=name)
        common.ylabel(top, name + (f"\n({data['unit']})" if data["unit"] else ""))
        top.grid(alpha=0.3)
        top.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize="small")
    bottom = axes[-1]
    bottom.axhline(0, color="black", linewidth=0.8)
    bottom.errorbar(x, data["diff"], yerr=data["diff_half"], marker="o", capsize=4,
                    color="darkred", ecolor="gray",
                    label="difference from point 0\n(\u00b11.96 paired se: common random "
                          "numbers)")
    bottom.plot(x[:1], data["diff"][:1], marker="s", color="black", linestyle="none",
                label="point 0 (the reference)")
    what = "difference from point 0" if not diff_only else f"{name},\ndifference from point 0"
    common.ylabel(bottom, what + (f"\n({data['diff_unit']})" if data["diff_unit"] else ""))
    bottom.grid(alpha=0.3)
    bottom.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize="small")
    if data["ticks"] is not None:
        bottom.set_xticks(x)
        many = len(data["ticks"]) > 6 or max(len(t) for t in data["ticks"]) > 12
        bottom.set_xticklabels(data["ticks"], rotation=30 if many else 0,
                               ha="right" if many else "center", fontsize="small")
    common.xlabel(bottom, data["xlabel"])
    return fig, axes[0]


def draw_heatmap(sweep, measure, t, diff, name):
    parameters = list(sweep.attrs["parameters"])
    shape = [int(n) for n in sweep.attrs["grid_shape"]]
    suffix = "_diff" if diff else ""
    value = np.asarray(sweep[measure + suffix].isel(year=t).values, dtype=float)
    se = np.asarray(sweep[measure + suffix + "_se"].isel(year=t).values, dtype=float)
    scale, unit, diff_unit = scaled(measure, value)
    grid = (value * scale).reshape(shape)
    half = (1.96 * se * scale).reshape(shape)

    def ticks(path, step, count):
        values = sweep[path].values[::step][:count]
        return [f"{v:g}" if isinstance(v, (float, np.floating)) else str(v) for v in values]
    rows = ticks(parameters[0], shape[1], shape[0])
    cols = ticks(parameters[1], 1, shape[1])
    fig, ax = common.plt.subplots(figsize=(max(6.5, 1.5 * shape[1] + 3.5),
                                           max(4.5, 0.65 * shape[0] + 2.5)))
    image = ax.imshow(grid, cmap="RdBu_r" if diff else "viridis", aspect="auto", origin="lower")
    if diff:
        limit = float(np.nanmax(np.abs(grid))) or 1.0
        image.set_clim(-limit, limit)
    what = f"{name}, difference from point 0" if diff else name
    bar = fig.colorbar(image, ax=ax)
    bar.set_label(common.wrap_label(bar.ax, common.axis_label(what, diff_unit if diff else unit),
                                    vertical=True))
    for i in range(shape[0]):
        for j in range(shape[1]):
            v, h = common.format_estimate(grid[i, j], half[i, j])
            label = v if h is None else f"{v}\n\u00b1 {h}"
            ax.text(j, i, label, ha="center", va="center", fontsize="small",
                    bbox={"facecolor": "white", "alpha": 0.7, "linewidth": 0})
    ax.set_xticks(range(shape[1]))
    ax.set_xticklabels(cols)
    ax.set_yticks(range(shape[0]))
    ax.set_yticklabels(rows)
    common.xlabel(ax, parameter_title(parameters[1]))
    common.ylabel(ax, parameter_title(parameters[0]))
    note = ("each cell: difference from point 0 (bottom left) \u00b1 1.96 paired se "
            "(95% interval)" if diff else
            "each cell: estimate \u00b1 1.96 se (its own 95% Monte Carlo interval; differences "
            "between cells are\nknown more precisely, from paired replications: see --diff)")
    unit_note = diff_unit if diff else unit
    if unit_note:
        note += f"; in {unit_note}"
    fig.text(0.01, -0.01, note, fontsize="small", color="dimgray", va="top")
    return fig, ax


def main():
    p = common.parser(__doc__, "sweep", point=False)
    p.add_argument("--measure", default="fgt0",
                   help="headline measure of /sweep (default fgt0): mean_income, fgt0, fgt1, "
                        "fgt2, government_cost, target_risk, payout_<product>, "
                        "missed_<product>, false_alarm_<product>, covered_<product>")
    p.add_argument("--year", type=int, help="calendar year (default: the last)")
    p.add_argument("--diff", action="store_true",
                   help="plot only the difference from point 0 (paired standard errors)")
    args = p.parse_args()
    try:
        sweep = results.open_sweep(args.result)
    except results.ResultError as e:
        common.fail(str(e))
    if args.measure not in sweep or args.measure + "_se" not in sweep:
        known = sorted(k for k in sweep.data_vars if k + "_se" in sweep and
                       not k.endswith(("_diff", "_increment")))
        common.fail(f"no measure {args.measure!r} in {args.result} (available: {', '.join(known)})")
    years = np.asarray(sweep["year"].values, dtype=int)
    if args.year is None:
        t = len(years) - 1
    elif args.year in years:
        t = int(np.nonzero(years == args.year)[0][0])
    else:
        common.fail(f"year {args.year} is not in the result (years {years[0]}..{years[-1]})")
    mode = sweep.attrs.get("mode", "grid")
    parameters = list(sweep.attrs.get("parameters", []))
    labels = [str(v) for c in ("overlay", "overrides") if c in sweep.coords
              for v in sweep[c].values]
    common.use_fonts_for(args.title or "", *labels)
    name = describe(args.measure)[0]
    base = os.path.basename(str(sweep.attrs.get("base_scenario_file", "")))
    title = args.title or (f"{name}" + (", difference from point 0" if args.diff else "")
                           + f" in {years[t]}\nsweep of {base}")

    if mode == "stack":
        increment = np.asarray(sweep[args.measure + "_increment"].isel(year=t).values)
        increment_se = np.asarray(sweep[args.measure + "_increment_se"].isel(year=t).values)
        total = float(sweep[args.measure + "_diff"].isel(year=t).values[-1])
        total_se = float(sweep[args.measure + "_diff_se"].isel(year=t).values[-1])
        heights = np.append(increment[1:], total)
        errors = np.append(increment_se[1:], total_se)
        scale, _, diff_unit = scaled(args.measure, heights)
        heights, errors = heights * scale, errors * scale
        overlays = [str(v) for v in sweep["overlay"].values]
        names = [f"+ {o}" for o in overlays[1:]] + ["total"]
        colors = ["steelblue" if h <= 0 else "indianred" for h in heights[:-1]] + ["dimgray"]
        fig, ax = common.plt.subplots(figsize=(max(6.5, 1.7 * len(names)), 5))
        ax.bar(range(len(names)), heights, 0.6, yerr=1.96 * errors, capsize=4, color=colors,
               ecolor="black")
        ax.axhline(0, color="black", linewidth=0.8)
        ax.set_xticks(range(len(names)))
        ax.set_xticklabels(names)
        common.ylabel(ax, common.axis_label(f"change in {name}", diff_unit))
        common.xlabel(ax, "provision added (point k minus point k-1), and the total (last point "
                      "minus point 0)\nerror bars: \u00b11.96 paired se (95% interval)")
        ax.grid(axis="y", alpha=0.3)
        title = args.title or (f"{name} in {years[t]}: effect of each provision\n"
                               f"base {base}")
    elif len(parameters) == 2 and mode == "grid" and "grid_shape" in sweep.attrs:
        fig, ax = draw_heatmap(sweep, args.measure, t, args.diff, name)
    else:
        data = line_data(sweep, args.measure, t)
        fig, ax = draw_line((8.5, 5 if args.diff else 7.5), data, name, args.diff)
    ax.set_title(title)
    fig.tight_layout()
    common.save(fig, args)


if __name__ == "__main__":
    main()
