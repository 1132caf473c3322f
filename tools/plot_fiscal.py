#!/usr/bin/env python3
"""Insurance payouts by product and government cost by year from an incsim result.

Top panel (only when the scenario configures insurance): payouts of each product
(/insurance/<product>/payout) per year. Bottom panel: government cost per year
(/fiscal/government_cost: premium subsidies + public posts + transfers + dibao + setup
subsidies, + medical reimbursements with a health section). With a health section the
government cost bar is split into medical reimbursements (/fiscal/health_reimbursement, hatched)
and the rest, and the households' out-of-pocket medical costs (/health/out_of_pocket) are drawn
beside it. Error bars are 95% Monte Carlo intervals (1.96 x the matching *_se dataset).
Without an /insurance group only the government cost is drawn and the title says so.

Example: tools/plot_fiscal.py xianning_2019.h5 -o fiscal.png
"""
import numpy as np

import incsim_plot_common as common

COLORS = {"agricultural": "seagreen", "income_index": "darkorange", "poverty_guard": "purple"}


def series(f, path):
    value = np.asarray(f[path][()], dtype=float)
    se_path = path + "_se"
    se = np.asarray(f[se_path][()], dtype=float) if se_path in f else np.zeros_like(value)
    return value, se


def main():
    args = common.parser(__doc__, "fiscal").parse_args()
    f = common.open_result(args.result)
    ys = common.years(f)
    products = [p for p in common.PRODUCTS if f"insurance/{p}/payout" in f]
    cost, cost_se = series(f, "fiscal/government_cost")

    if products:
        fig, (top, bottom) = common.plt.subplots(2, 1, figsize=(10, 8), sharex=True)
        payouts = {p: series(f, f"insurance/{p}/payout") for p in products}
        scale, unit = common.money_scale(max(float(np.max(v)) for v, _ in payouts.values()))
        width = 0.8 / len(products)
        for k, p in enumerate(products):
            value, se = payouts[p]
            top.bar(ys - 0.4 + width * (k + 0.5), value / scale, width,
                    yerr=1.96 * se / scale, capsize=3, color=COLORS[p], ecolor="gray",
                    label=common.PRODUCT_LABELS[p])
        top.set_ylabel(f"insurance payouts ({unit} per year)")
        top.grid(axis="y", alpha=0.3)
        top.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize="small",
                   title="\u00b11.96 se", title_fontsize="small")
        title = f"{common.scenario_name(f)}: insurance payouts and government cost" + (
            ", medical costs" if "fiscal/health_reimbursement" in f else "")
    else:
        fig, bottom = common.plt.subplots(figsize=(8, 5))
        top = bottom
        title = f"{common.scenario_name(f)}: government cost" + (
            " and medical costs" if "fiscal/health_reimbursement" in f else "")

    health = "fiscal/health_reimbursement" in f
    if health:
        medical, _ = series(f, "fiscal/health_reimbursement")
        oop, oop_se = series(f, "health/out_of_pocket")
        scale, unit = common.money_scale(float(max(np.max(cost), np.max(oop))))
        bottom.bar(ys - 0.18, (cost - medical) / scale, 0.36, color="steelblue",
                   label="government cost: subsidies, posts, transfers, dibao")
        bottom.bar(ys - 0.18, medical / scale, 0.36, bottom=(cost - medical) / scale,
                   yerr=1.96 * cost_se / scale, capsize=3, color="lightsteelblue",
                   hatch="//", edgecolor="steelblue", ecolor="black",
                   label="government cost: medical reimbursements (total \u00b11.96 se)")
        bottom.bar(ys + 0.18, oop / scale, 0.36, yerr=1.96 * oop_se / scale, capsize=3,
                   color="indianred", ecolor="black",
                   label="households' out-of-pocket medical costs (\u00b11.96 se)")
    else:
        scale, unit = common.money_scale(float(np.max(cost)))
        bottom.bar(ys, cost / scale, 0.6, yerr=1.96 * cost_se / scale, capsize=3,
                   color="steelblue", ecolor="black",
                   label="government cost (\u00b11.96 se)")
    bottom.set_ylabel(f"government and medical costs ({unit} per year)" if health
                      else f"government cost ({unit} per year)")
    bottom.grid(axis="y", alpha=0.3)
    bottom.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize="small")
    common.year_axis(bottom, ys)
    title = args.title or title
    if not products:
        title += "\n(no insurance configured in this scenario)"
    top.set_title(title)
    fig.tight_layout()
    common.save(fig, args)


if __name__ == "__main__":
    main()
