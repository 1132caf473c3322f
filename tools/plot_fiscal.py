#!/usr/bin/env python3
"""Government cost by component, and premiums against payouts of each insurance product, by
year, from an incsim result (or one sweep point).

Top row (only when the scenario configures insurance): one panel per product
(/insurance/<product>/): the premiums due, split into the government's share (subsidy) and the
households' share, beside the payouts, with the loss ratio over the horizon (total payouts /
total premiums) in the panel's title. Bottom: the government cost per year stacked by
component: /fiscal/by_component when the result has it; otherwise the premium subsidy of each
product (/insurance/<product>/subsidy), dibao (/fiscal/dibao), medical reimbursements
(/fiscal/health_reimbursement, with a health section) and the rest of /fiscal/government_cost
(public posts, transfers and setup subsidies, which older results do not split). With a health
section the households' out-of-pocket medical costs (/health/out_of_pocket) are drawn beside
it. Error bars are 95% Monte Carlo intervals (1.96 x the matching *_se dataset): on the total
for the government cost.

Example: tools/plot_fiscal.py tongshan_double_insurance.h5 -o fiscal.png
         tools/plot_fiscal.py insurance_stack.h5 --point 3 -o stack_fiscal.png
"""
import numpy as np
from matplotlib.gridspec import GridSpec

import incsim_plot_common as common

COMPONENT_LABELS = {
    "premium_subsidy_agricultural": "premium subsidy: agricultural insurance",
    "premium_subsidy_income_index": "premium subsidy: income index insurance",
    "premium_subsidy_poverty_guard": "premium subsidy: poverty guard",
    "public_posts": "public-welfare posts",
    "transfers": "transfers",
    "setup_subsidies": "setup subsidies",
    "dibao": "dibao",
    "health_reimbursement": "medical reimbursements",
    "other": "public posts, transfers, setup subsidies",
}
COMPONENT_COLORS = {
    "premium_subsidy_agricultural": "seagreen", "premium_subsidy_income_index": "darkorange",
    "premium_subsidy_poverty_guard": "mediumpurple", "public_posts": "steelblue",
    "transfers": "lightskyblue", "setup_subsidies": "slategray", "dibao": "goldenrod",
    "health_reimbursement": "lightcoral", "other": "steelblue",
}


def series(ds, name):
    value = np.asarray(ds[name].values, dtype=float)
    se = (np.asarray(ds[name + "_se"].values, dtype=float) if name + "_se" in ds
          else np.zeros_like(value))
    return value, se


def products(run):
    return [p for p in common.PRODUCTS if f"insurance/{p}/payout" in run]


def components(run):
    """([(name, label, values per year)], source): the government cost's components, which add
    up to /fiscal/government_cost; source names where they come from."""
    fiscal = run["fiscal"]
    if "by_component" in fiscal:
        table = fiscal["by_component"].transpose("component", "year")
        rows = [(str(c), COMPONENT_LABELS.get(str(c), str(c).replace("_", " ")),
                 np.asarray(table.sel(component=c).values, dtype=float))
                for c in table["component"].values]
        return rows, "/fiscal/by_component"
    cost = np.asarray(fiscal["government_cost"].values, dtype=float)
    rows = []
    for p in products(run):
        subsidy = np.asarray(run[f"insurance/{p}"]["subsidy"].values, dtype=float)
        rows.append((f"premium_subsidy_{p}", COMPONENT_LABELS[f"premium_subsidy_{p}"], subsidy))
    for name in ("dibao", "health_reimbursement"):
        if name in fiscal:
            rows.append((name, COMPONENT_LABELS[name],
                         np.asarray(fiscal[name].values, dtype=float)))
    rest = cost - sum((values for _, _, values in rows), np.zeros_like(cost))
    rest[np.abs(rest) < 1e-9 * np.maximum(np.abs(cost), 1.0)] = 0.0  # rounding, not money
    rows.append(("other", COMPONENT_LABELS["other"], rest))
    return rows, ("public posts, transfers and setup subsidies together: the rest of "
                  "/fiscal/government_cost (no /fiscal/by_component in this file)")


def product_panel(ax, run, product, ys):
    ds = run[f"insurance/{product}"]
    premium, premium_se = series(ds, "premium")
    subsidy, _ = series(ds, "subsidy")
    payout, payout_se = series(ds, "payout")
    scale, unit = common.money_scale(max(np.max(premium), np.max(payout)))
    households = premium - subsidy
    ax.bar(ys - 0.2, subsidy / scale, 0.4, color="lightsteelblue", edgecolor="steelblue",
           hatch="//", label="premiums: government share")
    ax.bar(ys - 0.2, households / scale, 0.4, bottom=subsidy / scale, color="steelblue",
           yerr=1.96 * premium_se / scale, capsize=2, ecolor="black",
           label="premiums: households' share")
    ax.bar(ys + 0.2, payout / scale, 0.4, color="indianred", yerr=1.96 * payout_se / scale,
           capsize=2, ecolor="black", label="payouts")
    total = float(np.sum(premium))
    ratio = float(np.sum(payout)) / total if total > 0 else float("nan")
    ax.set_title(f"{common.PRODUCT_LABELS.get(product, product)}\nloss ratio over the horizon "
                 f"{ratio:.2f}", fontsize="medium")
    common.ylabel(ax, f"{unit} per year")
    ax.grid(axis="y", alpha=0.3)
    common.year_axis(ax, ys)
    ax.tick_params(axis="x", labelrotation=45 if len(ys) > 6 else 0)


def main():
    args = common.parser(__doc__, "fiscal").parse_args()
    run = common.open_result(args)
    ys = run.years
    fiscal = run["fiscal"]
    insured = products(run)
    cost, cost_se = series(fiscal, "government_cost")
    rows, source = components(run)
    rows = [r for r in rows if np.any(r[2] != 0)]
    health = "health_reimbursement" in fiscal and "health" in run.groups
    oop, oop_se = (series(run["health"], "out_of_pocket") if health
                   else (np.zeros_like(cost), np.zeros_like(cost)))

    columns = max(1, len(insured))
    fig = common.plt.figure(figsize=(max(10, 4.2 * columns), 9 if insured else 5.5))
    grid = GridSpec(2 if insured else 1, columns, figure=fig,
                    height_ratios=[1, 1.25] if insured else [1])
    for k, product in enumerate(insured):
        ax = fig.add_subplot(grid[0, k])
        product_panel(ax, run, product, ys)
        if k == len(insured) - 1:
            ax.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), fontsize="small",
                      title="\u00b11.96 se", title_fontsize="small")
    bottom = fig.add_subplot(grid[-1, :])
    scale, unit = common.money_scale(max(float(np.max(cost)), float(np.max(oop))))
    width = 0.36 if health else 0.6
    x = ys - width / 2 if health else ys
    base = np.zeros_like(cost)
    for name, label, values in rows:
        bottom.bar(x, values / scale, width, bottom=base / scale,
                   color=COMPONENT_COLORS.get(name, None), label=label)
        base = base + values
    bottom.errorbar(x, cost / scale, yerr=1.96 * cost_se / scale, fmt="none", ecolor="black",
                    capsize=3, label="government cost: total \u00b11.96 se")
    if health:
        bottom.bar(ys + width / 2, oop / scale, width, yerr=1.96 * oop_se / scale, capsize=3,
                   color="white", edgecolor="indianred", hatch="..", ecolor="black",
                   label="households' out-of-pocket medical costs\n(not a government cost; "
                         "\u00b11.96 se)")
    common.ylabel(bottom, f"{unit} per year")
    bottom.set_title(f"government cost by component ({source})", fontsize="medium")
    bottom.grid(axis="y", alpha=0.3)
    handles, labels = bottom.get_legend_handles_labels()
    bottom.legend(handles[::-1], labels[::-1], loc="upper left", bbox_to_anchor=(1.01, 1.0),
                  fontsize="small")
    common.year_axis(bottom, ys)
    what = ("government cost by component, premiums and payouts by product" if insured
            else "government cost")
    heading = common.title(run, args, what)
    if not insured and not args.title:
        heading += "\n(no insurance configured in this scenario)"
    fig.suptitle(heading)
    fig.tight_layout()
    common.save(fig, args)


if __name__ == "__main__":
    main()
