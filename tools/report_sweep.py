"""The sweep side of tools/report.py: the sweep table (each point's parameters, every headline
measure with its 1.96-se interval and its difference from point 0 with 1.96 paired se; the
increment over the point before in a stack), the portfolio shares, the charts of
tools/plot_sweep.py, and a sweep point's own differences for `report.py --point K`.
"""
import os

import numpy as np

import incsim_plot_common as common
import incsim_results as results
import plot_sweep
import report_html as rh
from report_html import estimate, row, tag


def point_section(args, run):
    """The point's parameters and its paired differences from point 0 (from /sweep)."""
    sweep = results.open_sweep(args.result)
    k = run.point
    return rh.join([sweep_points_table(sweep, only=k),
                    tag("p", "Differences of this point from point 0 (the sweep's reference), "
                        "per year; \u00b1 is 1.96 paired standard errors (the points share "
                        "their random numbers):"),
                    measures_by_year(sweep, k, "_diff")])


# -- a sweep ---------------------------------------------------------------------------------
def measure_names(sweep):
    order = ["mean_income", "fgt0", "fgt1", "fgt2", "government_cost", "target_risk"]
    payouts = sorted(str(v) for v in sweep.data_vars if str(v).startswith("payout_")
                     and f"{v}_se" in sweep and not str(v).endswith(("_diff", "_increment",
                                                                     "_se")))
    return [m for m in order if m in sweep] + payouts


def measure_unit(measure):
    """(name, scale, unit, difference unit, decimals when exact)."""
    name, scale, unit, diff_unit = plot_sweep.describe(measure)
    if scale is None:
        return name, 1.0, "yuan per year", "yuan per year", 0
    return name, scale, unit, diff_unit, None


def parameter_columns(sweep):
    params = [str(p) for p in sweep.attrs.get("parameters", []) if str(p) in sweep.coords
              and str(p) != "overlay"]
    cols = [(p, plot_sweep.parameter_title(p)) for p in params]
    if "overlay" in sweep.coords:
        cols.append(("overlay", "overlay added"))
    return cols


def point_values(sweep, k, cols):
    out = []
    for name, _ in cols:
        v = sweep[name].values[k]
        out.append(f"{v:g}" if isinstance(v, (float, np.floating)) else str(v))
    return out


def sweep_points_table(sweep, only=None):
    cols = parameter_columns(sweep)
    points = range(sweep.sizes["point"]) if only is None else [only]
    # the swept values are the overrides of a grid or zip point; a stack's overlay names what
    # it adds, its overrides say how
    overrides = "overrides" in sweep.coords and (not cols or "overlay" in sweep.coords)
    rows = []
    for k in points:
        r = [str(k)] + point_values(sweep, k, cols)
        if overrides:
            r.append(tag("small", str(sweep["overrides"].values[k])))
        r.append(f"{int(sweep['replications'].values[k]):,}" if "replications" in sweep.coords
                 else "?")
        rows.append(r)
    head = (["point"] + [title for _, title in cols]
            + (["overrides of the point (cumulative in a stack)"] if overrides else [])
            + ["replications"])
    return rh.table(head, rows, "Points of the sweep and what each sets", numeric_from=99)


def measures_by_year(sweep, k, suffix):
    years = [str(int(y)) for y in sweep["year"].values]
    rows = []
    for m in measure_names(sweep):
        name, scale, unit, diff_unit, decimals = measure_unit(m)
        v = np.asarray(sweep[m + suffix].values[k], dtype=float)
        se = np.asarray(sweep[m + suffix + "_se"].values[k], dtype=float)
        u = diff_unit if suffix else unit
        rows.append(row(f"{name} ({u})" if u else name, None, v, se, scale, decimals))
    return rh.table(["measure (unit)"] + years, rows,
                    "\u00b1 is 1.96 " + ("paired " if suffix else "") + "standard errors")


def paired(sweep):
    if "replications" not in sweep.coords:
        return True
    reps = np.asarray(sweep["replications"].values)
    return bool(np.all(reps == reps[0]))


def sweep_measure_table(sweep, measure, t, cols):
    name, scale, unit, diff_unit, decimals = measure_unit(measure)
    stack = measure + "_increment" in sweep
    rows = []
    for k in range(sweep.sizes["point"]):
        level = sweep[measure].values[k, t], sweep[measure + "_se"].values[k, t]
        diff = sweep[measure + "_diff"].values[k, t], sweep[measure + "_diff_se"].values[k, t]
        clear = (k > 0 and np.isfinite(diff[1]) and abs(diff[0]) > rh.Z95 * diff[1])
        r = ([str(k)] + point_values(sweep, k, cols)
             + [estimate(*level, scale, decimals),
                ("(reference)" if k == 0 else estimate(*diff, scale, decimals))
                + (" *" if clear else "")])
        if stack:
            inc = (sweep[measure + "_increment"].values[k, t],
                   sweep[measure + "_increment_se"].values[k, t])
            clear_inc = k > 0 and np.isfinite(inc[1]) and abs(inc[0]) > rh.Z95 * inc[1]
            r.append("" if k == 0 else estimate(*inc, scale, decimals)
                     + (" *" if clear_inc else ""))
        rows.append(r)
    kind = "paired" if paired(sweep) else "unpaired (the points' replications differ)"
    head = (["point"] + [title for _, title in cols]
            + [f"{name}" + (f" ({unit})" if unit else ""),
               "difference from point 0" + (f" ({diff_unit})" if diff_unit else "")]
            + (["increment over point k\u22121"] if stack else []))
    year = int(sweep["year"].values[t])
    return rh.table(head, rows,
                    f"{name} in {year}: each point's value \u00b1 1.96 se, and its difference "
                    f"from point 0 \u00b1 1.96 {kind} se"
                    + (" (stack: the increment is the effect of the overlay the point adds)"
                       if stack else "")
                    + "; * the 95% interval excludes 0",
                    numeric_from=1 + len(cols))


def sweep_all_years(sweep, measure, cols):
    name, scale, unit, diff_unit, decimals = measure_unit(measure)
    years = [str(int(y)) for y in sweep["year"].values]
    blocks = []
    for suffix, what in (("", f"{name}" + (f" ({unit})" if unit else "") + " \u00b1 1.96 se"),
                         ("_diff", "difference from point 0" + (f" ({diff_unit})" if diff_unit
                                                                else "")
                          + " \u00b1 1.96 paired se")):
        rows = []
        for k in range(sweep.sizes["point"]):
            v = np.asarray(sweep[measure + suffix].values[k], dtype=float)
            se = np.asarray(sweep[measure + suffix + "_se"].values[k], dtype=float)
            rows.append([str(k)] + point_values(sweep, k, cols)
                        + [estimate(a, b, scale, decimals) for a, b in zip(v, se)])
        blocks.append(rh.table(["point"] + [c for _, c in cols] + years, rows, what,
                               numeric_from=1 + len(cols)))
    return rh.details(f"{name}: every year", rh.join(blocks))


def portfolio_table(sweep):
    if "portfolio_share" not in sweep:
        return ""
    share = np.asarray(sweep["portfolio_share"].values, dtype=float)
    labels = [str(v) for v in sweep["portfolio"].values]
    top = list(np.argsort(-share.mean(axis=0), kind="stable")[:5])
    rows = [[str(k)] + [estimate(share[k, j], None, 100.0, 1) for j in top]
            for k in range(share.shape[0])]
    return rh.table(["point"] + [labels[j] for j in top], rows,
                    "Share of households running each of the five most common portfolios, % "
                    "(households choose again at every point; no Monte Carlo error: the choice "
                    "is made once per point)")


def sweep_report(args, path):
    sweep = results.open_sweep(path)  # ResultError: the caller says why
    a = sweep.attrs
    common.use_fonts_for(args.title or "", *[str(v) for c in ("overlay", "overrides")
                                            if c in sweep.coords for v in sweep[c].values])
    charts = rh.Charts()
    years = [int(y) for y in sweep["year"].values]
    t = len(years) - 1
    cols = parameter_columns(sweep)
    mode = str(a.get("mode", "grid"))
    points = sweep.sizes["point"]
    base = os.path.basename(str(a.get("base_scenario_file", "?")))
    keeps = results.describe(path).get("keeps_points", False)
    intro = [tag("p", f"A {mode} sweep of {points} points on {base}, {len(years)} years "
                 f"({years[0]}\u2013{years[-1]}). Every point is a full run of the base scenario "
                 "with the point's overrides and the same seed, so replication r of every point "
                 "saw the same prices, hazards and illnesses: a difference between points is "
                 "the effect of what they set, and its paired standard error, "
                 "sd(x_k \u2212 x_0)/\u221aR over replications, is far smaller than the points' "
                 "own errors."),
             tag("div", rh.join([tag("strong", "How to read the numbers. "),
                                 "\u201c\u00b1\u201d is 1.96 standard errors (a 95% Monte Carlo "
                                 "interval) everywhere: each point's own for its value, the "
                                 "paired one for its difference from point 0. Money in "
                                 "constant yuan per year, headcount in % of persons, "
                                 "differences of headcount in percentage points."]), cls="note"),
             sweep_points_table(sweep),
             tag("p", "A full report of one point (every table and chart of a run): "
                 + ("tools/report.py " + os.path.basename(path) + " --point K." if keeps else
                    "not available, the sweep kept only its table (keep: table).")),
             portfolio_table(sweep)]
    measure_blocks = []
    for m in measure_names(sweep):
        measure_blocks.append(tag("h3", measure_unit(m)[0]))
        measure_blocks.append(sweep_measure_table(sweep, m, t, cols))
        measure_blocks.append(sweep_all_years(sweep, m, cols))
    chart_blocks = []
    grid = mode == "grid" and len(cols) == 2 and "grid_shape" in a
    if grid:
        what = {"": "each cell: the point's value \u00b1 1.96 se (its own 95% interval)",
                "--diff": "each cell: the difference from point 0 \u00b1 1.96 paired se"}
        drawn = (("fgt0", ""), ("fgt0", "--diff"), ("government_cost", "--diff"))
    elif mode == "stack":
        what = {"": "bars: the increment each overlay adds (point k minus point k\u22121) and "
                    "the total; error bars \u00b1 1.96 paired se"}
        drawn = (("fgt0", ""), ("government_cost", ""))
    else:
        what = {"": "top: each point's value with its own 95% interval (\u00b1 1.96 se); "
                    "bottom: the difference from point 0 \u00b1 1.96 paired se"}
        drawn = (("fgt0", ""), ("government_cost", ""))
    for m, extra in drawn:
        chart_blocks.append(charts.draw(
            "plot_sweep", [path, "--measure", m] + ([extra] if extra else []),
            f"{measure_unit(m)[0]} in {years[t]} over the sweep: {what[extra]}."))
    texts = [tag("p", "The sweep file:"), tag("pre", str(a.get("sweep", ""))),
             tag("p", f"The base scenario ({a.get('base_scenario_file', '?')}):"),
             tag("pre", str(a.get("base_scenario", "")))]
    fixed = rh.attr_list(a.get("fixed_overrides"))
    overrides = rh.attr_list(a.get("overrides"))
    extra = [("sweep file", a.get("sweep_file", "?")),
             ("base scenario file", a.get("base_scenario_file", "?")),
             ("mode, points, kept", f"{mode}, {points}, {a.get('keep', '?')}"),
             ("seed", a.get("seed", "?")),
             ("replications per point", ", ".join(sorted({f"{int(r):,}" for r in
                                                          sweep["replications"].values}))
              if "replications" in sweep.coords else "?"),
             ("the sweep file's set", "; ".join(fixed) if fixed else "none"),
             ("command line --set (applied after it)",
              "; ".join(overrides) if overrides else "none"),
             ("years", f"{len(years)} from {years[0]}")]
    sections = [("sweep", "The sweep", rh.join(intro)),
                ("measures", f"Headline measures in {years[t]}, and every year",
                 rh.join(measure_blocks)),
                ("charts", "Charts", rh.join(chart_blocks)),
                ("scenario", "Sweep file and base scenario",
                 rh.details("show the sweep file and the base scenario (YAML)", rh.join(texts))),
                ("provenance", "Provenance", rh.provenance(path, a, extra))]
    title = args.title or f"Sweep of {base}: incsim report"
    subtitle = f"{points} points, mode {mode}, {len(years)} years ({years[0]}\u2013{years[-1]})"
    return rh.page(title, subtitle, sections, rh.footer(path)), charts
