#!/usr/bin/env python3
"""Does the insurance pay when the household loses? Basis risk per covered industry and the
certainty-equivalent gain per group, from an incsim result with agricultural or income index
insurance (or one sweep point).

Top row, one panel per covered industry (/insurance/<product>/basis_risk/, MODEL.md section
9), in one harvest year: for agricultural insurance, income index insurance and the two
together ("double"), the share of losses paid nothing (missed), of payments made without a loss
(false alarm) and of the shortfall made good (covered). A loss is revenue below rho times
expected revenue (insurance.basis_risk_reference, 0.8 by default). Bottom: the CE gain of the
households holding each product (/insurance/<product>/ce_gain), yuan per capita per year, for
registered-poor and other households, with the persons holding it. Error bars are 95% Monte
Carlo intervals: 1.96 x the matching *_se dataset (for the CE gain, the jackknife standard
error).

--year chooses the harvest year shown (default: each industry's last harvest year with a
value).

Example: tools/plot_protection.py tongshan_double_insurance.h5 -o protection.png
         tools/plot_protection.py sweep.h5 --point 2 --year 2021
"""
import numpy as np

import incsim_plot_common as common

VARIANTS = ("agricultural", "income_index", "double")
VALUE_VARIANTS = ("agricultural", "income_index", "poverty_guard", "double")
VARIANT_LABELS = {
    "agricultural": "agricultural insurance",
    "income_index": "income index insurance",
    "poverty_guard": "poverty guard",
    "double": "double (agricultural + income index)",
}
VARIANT_COLORS = {"agricultural": "seagreen", "income_index": "darkorange",
                  "poverty_guard": "mediumpurple", "double": "steelblue"}
MEASURES = (("missed", "missed"), ("false_alarm", "false alarm"), ("covered", "covered"))
FOOTNOTE = ("missed: % of losses paid nothing; false alarm: % of payments made without a loss; "
            "covered: % of the shortfall paid (sum min(K, S) / sum S). Error bars: \u00b11.96 "
            "Monte Carlo se.")
COLUMNS = 3  # industry panels per row


def basis_risk(run):
    """{industry: {variant: {measure: (values (T), se (T))}}} over the variants in the file."""
    table = {}
    for v in VARIANTS:
        path = f"insurance/{v}/basis_risk"
        if f"{path}/industries" not in run:
            continue
        h5 = run.h5[path]
        names = [common.results.text(x) for x in h5["industries"][()]]
        for k, industry in enumerate(names):
            cell = table.setdefault(industry, {}).setdefault(v, {})
            for measure, _ in MEASURES:
                values = np.asarray(h5[measure][k], dtype=float)
                se = np.asarray(h5[measure + "_se"][k], dtype=float)
                cell[measure] = (values, se)
    return table


def shown_year(run, variants, year):
    """Index of the year shown for one industry: `year`, else the last year in which some
    variant has a value (None when it has none)."""
    ys = run.years
    if year is not None:
        return common.year_index(run, year)
    defined = np.zeros(len(ys), dtype=bool)
    for cell in variants.values():
        for values, _ in cell.values():
            defined |= np.isfinite(values)
    hits = np.nonzero(defined)[0]
    return int(hits[-1]) if len(hits) else None


def industry_panel(ax, run, industry, variants, t):
    present = [v for v in VARIANTS if v in variants]
    width = 0.8 / max(1, len(present))
    x = np.arange(len(MEASURES))
    for k, v in enumerate(present):
        values = np.array([variants[v][m][0][t] for m, _ in MEASURES]) * 100
        se = np.array([variants[v][m][1][t] for m, _ in MEASURES]) * 100
        offset = (k - (len(present) - 1) / 2) * width
        bars = ax.bar(x + offset, np.nan_to_num(values), width, yerr=np.nan_to_num(1.96 * se),
                      capsize=3, color=VARIANT_COLORS[v], ecolor="black",
                      label=VARIANT_LABELS[v])
        for bar, value, half in zip(bars, values, np.nan_to_num(1.96 * se)):
            label = "n/a" if not np.isfinite(value) else f"{value:.0f}"
            ax.annotate(label, (bar.get_x() + bar.get_width() / 2, bar.get_height() + half),
                        xytext=(0, 2), textcoords="offset points", ha="center",
                        fontsize="x-small")
    ax.set_xticks(x, [label for _, label in MEASURES])
    ax.set_ylim(0, 112)
    common.ylabel(ax, "% (\u00b11.96 se)")
    ax.set_title(f"{industry}, {run.years[t]}", fontsize="medium")
    ax.grid(axis="y", alpha=0.3)


def gain_panel(ax, run):
    groups = run.labels("group_poor") or ["poor", "other"]
    present = [v for v in VALUE_VARIANTS if f"insurance/{v}/ce_gain" in run]
    width = 0.8 / max(1, len(present))
    x = np.arange(len(groups))
    for k, v in enumerate(present):
        h5 = run.h5[f"insurance/{v}"]
        gain = np.asarray(h5["ce_gain"][()], dtype=float)
        se = np.asarray(h5["ce_gain_se"][()], dtype=float)
        holders = np.asarray(h5["ce_holders"][()], dtype=float)
        offset = (k - (len(present) - 1) / 2) * width
        bars = ax.bar(x + offset, np.nan_to_num(gain), width, yerr=np.nan_to_num(1.96 * se),
                      capsize=3, color=VARIANT_COLORS[v], ecolor="black",
                      label=VARIANT_LABELS[v])
        for bar, value, persons, half in zip(bars, gain, holders, np.nan_to_num(1.96 * se)):
            label = ("no holders" if not np.isfinite(value)
                     else f"{value:.0f}\n{persons:,.0f} persons")
            top = max(bar.get_height(), 0.0) + half
            ax.annotate(label, (bar.get_x() + bar.get_width() / 2, top), xytext=(0, 3),
                        textcoords="offset points", ha="center", fontsize="x-small")
    ax.axhline(0, color="black", linewidth=0.8)
    ax.set_xticks(x, ["registered poor" if g == "poor" else f"{g} households" for g in groups])
    common.ylabel(ax, "yuan per capita per year")
    ax.set_title("protection value: certainty-equivalent gain of the holders\n(income with the "
                 "product vs without its payouts and premium shares)", fontsize="medium")
    ax.grid(axis="y", alpha=0.3)
    ax.margins(y=0.25)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize="small")


def main():
    p = common.parser(__doc__, "protection")
    p.add_argument("--year", type=int, metavar="YEAR",
                   help="calendar year of the basis-risk panels (default: each industry's last "
                        "harvest year)")
    args = p.parse_args()
    run = common.open_result(args)
    table = basis_risk(run)
    gains = any(f"insurance/{v}/ce_gain" in run for v in VALUE_VARIANTS)
    if not table and not gains:
        common.fail(f"{args.result} has no basis-risk or CE-gain datasets: the scenario "
                    "configures no insurance")
    shown = {}  # industry -> year index, for the industries with a harvest in the horizon
    for industry, variants in table.items():
        t = shown_year(run, variants, args.year)
        if t is not None:
            shown[industry] = t
    skipped = [i for i in table if i not in shown]
    columns = min(COLUMNS, max(1, len(shown)))
    industry_rows = -(-len(shown) // COLUMNS)
    rows = industry_rows + (1 if gains else 0)
    fig = common.plt.figure(figsize=(max(11.0, 5.2 * columns + 3), 3.9 * rows + 0.8))
    grid = fig.add_gridspec(max(1, rows), columns)
    for k, (industry, t) in enumerate(shown.items()):
        ax = fig.add_subplot(grid[k // COLUMNS, k % COLUMNS])
        industry_panel(ax, run, industry, table[industry], t)
        if k == min(len(shown), COLUMNS) - 1:
            ax.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), fontsize="small")
    if gains:
        gain_panel(fig.add_subplot(grid[-1, :]), run)
    note = FOOTNOTE if shown else ""
    if skipped:
        note += (" " if note else "") + "No harvest year in the horizon: " + ", ".join(skipped)
    if note:
        fig.text(0.01, 0.005, note, fontsize="small", ha="left", va="bottom", wrap=True)
    reference = common.scenario_value(run, ("insurance", "basis_risk_reference"), 0.8)
    fig.suptitle(common.title(run, args, f"does the insurance pay when the household loses? "
                                         f"(a loss: revenue below {reference:g} x expected)"))
    fig.tight_layout(rect=(0, 0.03, 1, 1))
    common.save(fig, args)


if __name__ == "__main__":
    main()
