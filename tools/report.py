#!/usr/bin/env python3
"""One self-contained HTML report of an incsim result, for readers without Python or a network.

    tools/report.py RESULT.h5 [-o report.html] [--title TITLE] [--point K]

A run (incsim run), or one point of a sweep with --point K, gives: a summary in words of the
last year; the headline measures per year (headcount FGT0 against the exit target, target
risk, poverty gap and severity, relapse, mean income and its quantiles, government cost), each
with what it means; the government cost by component (/fiscal/by_component); each insurance
product's premiums, payouts and loss ratios; registered-poor and other households; the charts
of tools/plot_*.py; the scenario as run and the provenance (incsim and schema version, seed,
replications, overrides, created, the file's path and SHA-256). A sweep (incsim sweep) without
--point gives the sweep table: each point's parameters, every headline measure and its
difference from point 0 with its paired standard error, and the charts of tools/plot_sweep.py.

Every "±" is 1.96 Monte Carlo standard errors (a 95% interval: how far the estimate could move
with more replications, not the spread of possible futures); differences between sweep points
use the paired standard error. The page has no scripts and loads nothing: styles are inline,
charts are inline SVG with their text drawn as paths (Chinese names render without fonts),
tables use the reader's system fonts. Writes <RESULT stem>_report.html (or
<RESULT stem>_point<K>_report.html) in the current directory unless -o is given, and prints
its path. Uses the Debian packages of the plotting scripts (h5py, numpy, matplotlib, xarray,
h5netcdf, pandas, PyYAML). The page's parts: report_html.py (escaping, numbers with their
intervals, tables, the charts as inline SVG, the page), report_sweep.py (the sweep table).

Example: tools/report.py xianning_2019.h5 -o xianning_2019.html
         tools/report.py index_coverage.h5 -o coverage.html
         tools/report.py index_coverage.h5 --point 4 -o coverage_point4.html
"""
import argparse
import os
import sys

sys.dont_write_bytecode = True  # no __pycache__ beside the tools
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import numpy as np  # noqa: E402

import incsim_plot_common as common  # noqa: E402  (chooses matplotlib's Agg backend)
import incsim_results as results  # noqa: E402
import report_html as rh  # noqa: E402
import report_sweep  # noqa: E402
from report_html import Markup, esc, estimate, row, se_of, tag, values  # noqa: E402

PRODUCT_WORDS = common.PRODUCT_LABELS
GROUP_WORDS = {"poor": "registered poor households", "other": "other households"}


def fail(message):
    print(f"report.py: {message}", file=sys.stderr)
    sys.exit(1)


def run_provenance(run):
    a = run.attrs
    overrides = rh.attr_list(a.get("overrides"))
    extra = [("scenario", a.get("scenario_name", "?")),
             ("scenario file", a.get("scenario_file", "?")),
             ("seed", a.get("seed", "?")),
             ("replications", f"{a.get('replications', '?')} used of "
                              f"{a.get('replications_requested', '?')} requested"),
             ("overrides (--set)", "; ".join(overrides) if overrides else "none"),
             ("households, persons", f"{a.get('households', '?')}, {a.get('persons', '?')}"),
             ("years", f"{a.get('years', '?')} from {a.get('start_year', '?')}")]
    if run.point is not None:
        s = run.sweep_attrs
        extra = [("sweep file", s.get("sweep_file", "?")), ("sweep point", run.point)] + extra
    return rh.provenance(run.path, a if run.point is None else run.sweep_attrs, extra)


# -- a run -----------------------------------------------------------------------------------
def poverty_section(run, target, charts, chart_argv):
    p = run["poverty"]
    ys = run.years
    fgt0, fgt0_se = values(p, "fgt0"), values(p, "fgt0_se")
    line = values(p, "line")
    pct = f"{100 * target:g}%"
    verdict = []
    for v, s in zip(fgt0, fgt0_se):
        side = rh.excludes(v, s, target)
        verdict.append({"above": f"above {pct}", "below": f"below {pct}"}.get(
            side, f"too close to {pct} to tell"))
    rows = [
        row("poverty line (yuan per capita per year)",
            "z: the national rural poverty line the incomes are compared with",
            line, None, exact_decimals=0),
        row("headcount FGT0 (% of persons)",
            "expected share of persons whose household's per-capita net income is below the "
            "line (mean over replications)", fgt0, fgt0_se, 100.0),
        [rh.row_label(f"headcount vs the {pct} exit target",
                      "the county exits poverty when the headcount is at most the target: "
                      "'above'/'below' when the whole 95% interval is; 'too close to tell' "
                      "when more replications would be needed")] + verdict,
        row(f"target risk P(FGT0 > {pct}) (probability)",
            "share of simulated futures (replications) in which the headcount exceeds the "
            "target: the risk of missing the exit target even when the expected headcount "
            "is below it", values(p, "target_risk"), se_of(p, "target_risk")),
        row("poverty gap FGT1 (index, 0-1)",
            "mean shortfall below the line as a share of the line, over all persons (0 for "
            "the non-poor): how far below the line the poor are", values(p, "fgt1"),
            se_of(p, "fgt1")),
        row("poverty severity FGT2 (index, 0-1)",
            "mean squared shortfall: weighs the poorest most", values(p, "fgt2"),
            se_of(p, "fgt2")),
        row("relapse (% of persons)",
            "persons poor this year among those not poor the year before (none in the first "
            "year)", values(p, "relapse"), se_of(p, "relapse"), 100.0),
    ]
    if "vulnerable_share" in p:
        rows.append(row("vulnerable (% of persons)",
                        "persons whose household is below the line in at least half of the "
                        "replications (no standard error)", values(p, "vulnerable_share"),
                        None, 100.0))
    content = [rh.table(["measure (unit)"] + [str(y) for y in ys], rows,
                        "Poverty per year; \u00b1 is 1.96 Monte Carlo standard errors (a 95% "
                        "interval)")]
    ever = []
    if "ever_poor" in p:
        ever.append(Markup(
            "Ever poor over the horizon: " + tag("strong", estimate(
                float(p["ever_poor"].values), float(p["ever_poor_se"].values)
                if "ever_poor_se" in p else None, 100.0) + "% of persons")
            + " (in households below the line in at least one year; \u00b1 1.96 se)."))
    if "two_consecutive_poor_ever" in p:
        ever.append(Markup(
            " Poor in two consecutive years at least once: " + esc(estimate(
                float(p["two_consecutive_poor_ever"].values),
                float(p["two_consecutive_poor_ever_se"].values), 100.0)) + "% of persons."))
    if ever:
        content.append(tag("p", rh.join(ever)))
    content.append(charts.draw("plot_headcount", chart_argv,
                               "Headcount by year: the dark band is the 95% interval of the "
                               "mean (\u00b11.96 se), the light band where 90% of the simulated "
                               "futures land; the dashed line is the exit target."))
    content.append(charts.draw("plot_headcount_distribution", chart_argv,
                               "The headcount of every simulated future in the last year; the "
                               "target risk is the share of them right of the target line "
                               "(the chart gives its se: one standard error)."))
    return rh.join(content)


def income_section(run, charts, chart_argv):
    inc = run["income"]
    ys = run.years
    rows = [row("mean per-capita net income (yuan per capita)",
                "person-weighted mean over persons and replications, constant yuan",
                values(inc, "mean"), se_of(inc, "mean"))]
    levels = np.asarray(inc["quantile"].values, dtype=float)
    q = np.asarray(inc["quantiles"].transpose("year", "quantile").values, dtype=float)
    bound = (np.asarray(inc["quantile_error_bound"].transpose("year", "quantile").values,
                        dtype=float) if "quantile_error_bound" in inc else None)
    for level, words in ((0.05, "5% of persons (pooled over replications) have less"),
                         (0.5, "the median: half of persons have less"),
                         (0.95, "5% of persons have more")):
        hit = np.nonzero(np.isclose(levels, level, atol=1e-9))[0]
        if len(hit):
            k = int(hit[0])
            rows.append(row(f"{100 * level:g}% point of income (yuan per capita)", words,
                            q[:, k], None, exact_decimals=0))
    content = [rh.table(["measure (unit)"] + [str(y) for y in ys], rows,
                        "Income per year; \u00b1 is 1.96 Monte Carlo standard errors. The "
                        "quantiles have no \u00b1: they are read from a fine histogram"
                        + (f", exact to within {np.nanmax(bound):,.0f} yuan"
                           if bound is not None and np.isfinite(np.nanmax(bound)) else "")
                        + ".")]
    content.append(charts.draw("plot_income_fan", chart_argv,
                               "Spread of per-capita incomes by year (bands between quantiles "
                               "of persons), the mean, the median and the poverty line."))
    return rh.join(content)


def fiscal_section(run, charts, chart_argv):
    import plot_fiscal
    fiscal = run["fiscal"]
    ys = run.years
    rows = []
    if "by_component" in fiscal:
        table = fiscal["by_component"].transpose("component", "year")
        table_se = (fiscal["by_component_se"].transpose("component", "year")
                    if "by_component_se" in fiscal else None)
        source = "/fiscal/by_component"
        for c in table["component"].values:
            label = plot_fiscal.COMPONENT_LABELS.get(str(c), str(c).replace("_", " "))
            se = (np.asarray(table_se.sel(component=c).values, dtype=float)
                  if table_se is not None else None)
            rows.append(row(label, None, np.asarray(table.sel(component=c).values, dtype=float),
                            se, exact_decimals=0))
    else:
        parts, source = plot_fiscal.components(run)
        for _, label, v in parts:
            rows.append(row(label, None, v, None, exact_decimals=0))
    rows.append(row("government cost: total (yuan per year)",
                    "the sum of the components above: what the programme costs the "
                    "government in the year", values(fiscal, "government_cost"),
                    se_of(fiscal, "government_cost"), exact_decimals=0))
    content = [rh.table(["component (yuan per year)"] + [str(y) for y in ys], rows,
                        "Government cost by component, yuan per year; \u00b1 is 1.96 Monte "
                        "Carlo standard errors (\u00b1 0: the part does not depend on the "
                        f"shocks). Source: {source}.")]
    if "health" in run.groups and "out_of_pocket" in run["health"]:
        h = run["health"]
        content.append(rh.table(["households' medical costs (yuan per year)"]
                                + [str(y) for y in ys],
                                [row("out of pocket", "paid by households (not a government "
                                     "cost)", values(h, "out_of_pocket"),
                                     se_of(h, "out_of_pocket"), exact_decimals=0),
                                 row("reimbursed", "paid by the public schemes (in the "
                                     "government cost above)", values(h, "reimbursed"),
                                     se_of(h, "reimbursed"), exact_decimals=0)],
                                "Medical costs; \u00b1 is 1.96 Monte Carlo standard errors"))
    insured = any(f"insurance/{p}/payout" in run for p in common.PRODUCTS)
    content.append(charts.draw("plot_fiscal", chart_argv,
                               "Government cost by component"
                               + (" and, per insurance product, premiums against payouts"
                                  if insured else "") + " (error bars \u00b11.96 se)."))
    return rh.join(content)


def horizon_payout(run, product):
    """(total payout over the horizon, its se) from /replications/payout_<product>, or
    (sum of the yearly means, None) when the file has no per-replication payouts."""
    reps = run["replications"]
    name = f"payout_{product}"
    if name in reps:
        per_rep = np.asarray(reps[name].transpose("replication", "year").values,
                             dtype=float).sum(axis=1)
        se = per_rep.std(ddof=1) / np.sqrt(len(per_rep)) if len(per_rep) > 1 else None
        return float(per_rep.mean()), se
    return float(values(run[f"insurance/{product}"], "payout").sum()), None


def insurance_section(run):
    ys = run.years
    content = []
    products = [p for p in common.PRODUCTS if f"insurance/{p}/payout" in run]
    if not products:
        return tag("p", "No insurance product is configured in this scenario.")
    for product in products:
        ds = run[f"insurance/{product}"]
        premium, subsidy, payout = (values(ds, n) for n in ("premium", "subsidy", "payout"))
        total_premium = float(premium.sum())
        total_payout, total_payout_se = horizon_payout(run, product)
        ratio = total_payout / total_premium if total_premium > 0 else float("nan")
        ratio_se = (total_payout_se / total_premium
                    if total_payout_se is not None and total_premium > 0 else None)

        def line(name, what, v, se, total=None, total_se=None, scale=1.0, decimals=0):
            r = row(name, what, v, se, scale, decimals)
            r.append(estimate(total, total_se, scale, decimals) if total is not None else "")
            return r
        rows = [
            line("premiums (yuan)", "due from the enrolled: households' and government's "
                 "shares together", premium, se_of(ds, "premium"), total_premium, 0.0),
            line("government share (yuan)", "premium subsidy (in the government cost)",
                 subsidy, se_of(ds, "subsidy"), float(subsidy.sum()), 0.0),
            line("households' share (yuan)", "what the enrolled households pay",
                 premium - subsidy, np.zeros_like(premium), float((premium - subsidy).sum()),
                 0.0),
            line("payouts (yuan)", "indemnities paid to households", payout,
                 se_of(ds, "payout"), total_payout, total_payout_se),
            line("loss ratio", "payouts / premiums: above 1 the product pays out more than "
                 "it collects", values(ds, "loss_ratio"), se_of(ds, "loss_ratio"), ratio,
                 ratio_se, decimals=None),
            line("paid share (% of exposed households)", "enrolled households exposed that "
                 "year that received a payout", values(ds, "paid_share"),
                 se_of(ds, "paid_share"), scale=100.0, decimals=None),
            line("insurer result (yuan)", "premiums minus payouts (negative: a loss)",
                 values(ds, "insurer_result"), se_of(ds, "insurer_result"),
                 total_premium - total_payout, total_payout_se),
        ]
        if "exposed" in ds:
            rows.append(line("exposed households", "enrolled and running a covered industry "
                             "(or enrolled in the guard)", values(ds, "exposed"), None))
        content.append(tag("h3", PRODUCT_WORDS.get(product, product)))
        content.append(rh.table(["measure (unit)"] + [str(y) for y in ys] + ["horizon"], rows,
                                "Per year and over the horizon (sums; the loss ratio over "
                                "the horizon is total payouts / total premiums); \u00b1 is "
                                "1.96 Monte Carlo standard errors (premiums do not depend on "
                                "the shocks: \u00b1 0)"))
    return rh.join(content)


def groups_section(run, charts, chart_argv):
    ys = run.years
    content = []
    if "groups/poor" in run:
        g = run["groups/poor"]
        labels = [str(v) for v in g["group_poor"].values]
        persons = values(g, "persons") if "persons" in g else [float("nan")] * len(labels)
        rows = []
        for k, label in enumerate(labels):
            who = GROUP_WORDS.get(label, label)
            fgt0 = g["fgt0"].transpose("group_poor", "year").values[k]
            fgt0_se = g["fgt0_se"].transpose("group_poor", "year").values[k]
            rows.append(row(f"headcount, {who} (% of their persons)",
                            f"{persons[k]:,.0f} persons", fgt0, fgt0_se, 100.0))
        for k, label in enumerate(labels):
            who = GROUP_WORDS.get(label, label)
            mean = g["income_mean"].transpose("group_poor", "year").values[k]
            mean_se = g["income_mean_se"].transpose("group_poor", "year").values[k]
            rows.append(row(f"mean income, {who} (yuan per capita)", None, mean, mean_se))
        content.append(rh.table(["group and measure (unit)"] + [str(y) for y in ys], rows,
                                "Registered poor (\u201cjian dang li ka\u201d) and other "
                                "households; \u00b1 is 1.96 Monte Carlo standard errors"))
    if "groups/village" in run:
        g = run["groups/village"]
        fgt0 = g["fgt0"].transpose("group_village", "year").values
        fgt0_se = g["fgt0_se"].transpose("group_village", "year").values
        persons = values(g, "persons") if "persons" in g else [float("nan")] * len(fgt0)
        rows = [row(str(label), f"{persons[k]:,.0f} persons", fgt0[k], fgt0_se[k], 100.0)
                for k, label in enumerate(g["group_village"].values)]
        content.append(rh.table(["village: headcount FGT0 (% of its persons)"]
                                + [str(y) for y in ys], rows,
                                "Headcount per village; \u00b1 is 1.96 Monte Carlo standard "
                                "errors"))
    content.append(charts.draw("plot_vulnerability_by_village", chart_argv,
                               "Per village: persons whose household is poor with at least "
                               "each probability, and the headcount per year (\u00b11.96 se)."))
    return rh.join(content)


def summary(run, target):
    p, inc, fiscal = run["poverty"], run["income"], run["fiscal"]
    t = len(run.years) - 1
    year = int(run.years[t])
    fgt0, fgt0_se = float(values(p, "fgt0")[t]), float(values(p, "fgt0_se")[t])
    risk, risk_se = float(values(p, "target_risk")[t]), float(values(p, "target_risk_se")[t])
    side = rh.excludes(fgt0, fgt0_se, target)
    pct = f"{100 * target:g}%"
    where = {"above": f"above the county's {pct} exit target",
             "below": f"below the county's {pct} exit target"}.get(
        side, f"too close to the {pct} exit target to tell at this number of replications")
    reps = int(run.attrs.get("replications", 0))
    parts = [
        f"In {year}, the last year, the expected poverty headcount is ",
        tag("strong", f"{estimate(fgt0, fgt0_se, 100.0)}% of persons"), f", {where}. ",
        f"The target risk, the probability that the headcount exceeds {pct} (the share of "
        f"the {reps:,} simulated futures in which it does), is ",
        tag("strong", estimate(risk, risk_se)), ". Mean per-capita net income is ",
        tag("strong", f"{estimate(values(inc, 'mean')[t], se_of(inc, 'mean')[t])} yuan"),
        "; the government spends ",
        tag("strong", estimate(values(fiscal, "government_cost")[t],
                               se_of(fiscal, "government_cost")[t], exact_decimals=0)
            + " yuan"), " in that year."]
    return tag("p", rh.join(parts))


def how_to_read(reps):
    return tag("div", rh.join([
        tag("strong", "How to read the numbers. "),
        f"Every \u201c\u00b1\u201d is 1.96 Monte Carlo standard errors: a 95% interval for the "
        f"estimate, from {reps:,} replications (simulated futures). It says how far the "
        "estimate could move with more replications; it is not the spread of possible futures "
        "(the target risk and the charts' light bands show that). \u201c\u00b1 0\u201d: the "
        "number does not depend on the random shocks. Money is in constant yuan of the "
        "scenario's base year; headcounts in % of persons."]), cls="note")


def run_report(args, run):
    target = common.exit_target(run)
    charts = rh.Charts()
    argv = [args.result] + (["--point", str(run.point)] if run.point is not None else [])
    reps = int(run.attrs.get("replications", 0))
    sections = []
    if run.point is not None:
        sections.append(("point", "This point of the sweep", report_sweep.point_section(args, run)))
    sections += [
        ("summary", "Summary", rh.join([summary(run, target), how_to_read(reps)])),
        ("poverty", "Poverty", poverty_section(run, target, charts, argv)),
        ("income", "Income", income_section(run, charts, argv)),
        ("fiscal", "Government cost", fiscal_section(run, charts, argv)),
        ("insurance", "Insurance: premiums, payouts, loss ratios", insurance_section(run)),
        ("groups", "Registered poor and other households; villages",
         groups_section(run, charts, argv)),
        ("scenario", "Scenario as run",
         rh.join([tag("p", "The scenario text the run used, with the overrides applied (root "
                      "attribute \u201cscenario\u201d):"),
                  rh.details("show the scenario (YAML)",
                             tag("pre", str(run.attrs.get("scenario", ""))))])),
        ("provenance", "Provenance", run_provenance(run)),
    ]
    title = args.title or (f"{run.scenario_name}: incsim report" if run.point is None else
                           f"{run.scenario_name}, sweep point {run.point}: incsim report")
    subtitle = (f"{reps:,} replications, {len(run.years)} years ({run.years[0]}\u2013"
                f"{run.years[-1]}), {int(run.attrs.get('households', 0)):,} households")
    if run.point is not None:
        subtitle = f"sweep point {run.point}: {run.point_description}; " + subtitle
    return rh.page(title, subtitle, sections, rh.footer(args.result)), charts


def output_path(args):
    if args.output:
        return args.output
    stem = os.path.splitext(os.path.basename(args.result))[0]
    if args.point is not None:
        stem += f"_point{args.point}"
    return f"{stem}_report.html"


def main():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("result", metavar="RESULT.h5", help="an incsim run or sweep result")
    p.add_argument("-o", "--output", metavar="OUT.html",
                   help="HTML file to write (default: <RESULT stem>_report.html, or "
                        "<RESULT stem>_point<K>_report.html, in the current directory)")
    p.add_argument("--title", help="the page's title (default: from the scenario name)")
    p.add_argument("--point", type=int, metavar="K",
                   help="for a sweep result: the full report of point K (0-based) instead of "
                        "the sweep table")
    args = p.parse_args()
    try:
        info = results.describe(args.result)
        if info["kind"] == "sweep" and args.point is None:
            document, charts = report_sweep.sweep_report(args, args.result)
        else:
            run = results.open_run(args.result, args.point)
            common.use_fonts_for(args.title or "", run.scenario_name,
                                 run.point_description or "")
            with run:
                document, charts = run_report(args, run)
    except results.ResultError as e:
        message = str(e)
        if args.point is not None and "single run" in message:
            message += "; --point applies to sweep results only"
        fail(message)
    out = output_path(args)
    tmp = f"{out}.tmp-{os.getpid()}"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(document)
    os.replace(tmp, out)
    print(out)


if __name__ == "__main__":
    main()
