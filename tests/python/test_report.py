#!/usr/bin/env python3
"""tools/report.py end to end: builds HTML reports of a run (three insurance products and a
scenario name full of HTML: `<b>`, `&`, quotes, `</pre><script>`), of the example csv
population (Chinese village names), of a stack sweep and one of its points, of a grid sweep
and of a grid kept as a table only, and checks

- that each page is self-contained: no <script>, <link>, <img>, <iframe>, <object>, <embed>
  or <base>; no src attribute; every href a fragment (#...) or, on an SVG <image>, inline PNG
  data (matplotlib draws heatmaps and colour bars as rasters); no CSS url() but url(#...), no
  @import; no "http:/", "https:/" or "file:/" anywhere (the inputs hold no web address); ids
  unique (the inline charts' ids are prefixed); the checker itself flags a page that breaks
  each rule;
- that the numbers are the file's (read with h5py), formatted as the report shows them
  ("v ± h", h = 1.96 standard errors, both rounded to two significant digits of h), row by
  row: headcount, mean income, target risk, government cost and each of its components,
  each product's premiums, payouts and loss ratios (over the horizon from /replications),
  registered poor and other households, villages; a sweep's value and paired difference from
  point 0 per point (and increment in a stack), a sweep point's differences and its own tables;
  provenance (seed, versions, overrides, created, path, SHA-256) and the scenario text, which
  reads back exactly after escaping;
- that headless Chromium (Debian's chromium; tools/setup.sh installs it; missing, the test
  fails) renders each page: the screenshot (1200 x 3000, and one at a phone's 412 px) is not
  blank (grey-level spread and share of non-white pixels, which a blank page's screenshot
  fails), Chromium logs no console message at all (the pages have no scripts, so any
  ":CONSOLE" or "Uncaught" line in --enable-logging=stderr output is an error; a page with a
  script error is detected), and the DOM it parsed (--dump-dom) holds every chart, every
  table, the footer and the escaped title, and no script;
- the command line: --help, the default output name, a missing file, --point on a single run,
  a point out of range and --point on a table-only sweep (status 1, a message, no traceback).

Usage: test_report.py INCSIM_BINARY SCENARIOS_DIR TOOLS_DIR TMPDIR
"""
import hashlib
import html.parser
import math
import os
import re
import shutil
import signal
import subprocess
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree (before the imports below)

import h5py
import numpy as np

from checks import Checks

HOSTILE = '<b>咸宁</b> & "x" </pre><script>alert(1)</script>'
GUARD = ("insurance.poverty_guard={threshold: 1.5, cap: 10000, premium_per_capita: 40, "
         "subsidy: {poor: 1.0, other: 1.0}, enrollment: {poor: 1.0, other: 0.5}}")
SMALL_SWEEP = ("set: {population.households: 200, scenario.replications: 30, "
               "choice.pilot_replications: 20}\n")
STACK = ("mode: stack\noverlays:\n"
         "  - {name: agricultural, set: {insurance.agricultural: {covers: [rice_crayfish_115], "
         "sum_insured: {rice_crayfish_115: 3000}, deductible: 0.1, premium_rate: 0.06, "
         "subsidy: {poor: 1.0, other: 0.7}, enrollment: {poor: 1.0, other: 0.3}}}}\n"
         "  - {name: poverty guard, set: {insurance.poverty_guard: {threshold: 1.5, cap: 10000, "
         "premium_per_capita: 40, subsidy: {poor: 1, other: 1}, enrollment: {poor: 1, "
         "other: 0.5}}}}\n")
GRID = ("parameters:\n  insurance.income_index.coverage: [0.6, 1.0]\n"
        "  insurance.income_index.subsidy.other: [0, 1]\n")
PRODUCTS = ("agricultural", "income_index", "poverty_guard")
# inline charts per report: a run's five plot_*.py charts; a sweep's plot_sweep.py charts (a
# line or stack: fgt0 and government cost; a two-parameter grid: three heatmaps)
CHARTS = {"run": 5, "example": 5, "stack": 2, "stack_point2": 5, "grid": 3, "grid_table": 3}


# -- the numbers as the report writes them (its documented rule, written out again here) -----
def three_significant(v):
    magnitude = abs(v) if math.isfinite(v) and v != 0 else 1.0
    d = int(min(6, max(0, 2 - math.floor(math.log10(magnitude)))))
    return f"{v:,.{d}f}"


def pm(value, se, scale=1.0, exact=None):
    """'v ± h' with h = 1.96 se; '± 0' when h is negligible; the value alone without se."""
    if not math.isfinite(value):
        return "\u2013"
    v = float(value) * scale
    if se is None or not math.isfinite(se):
        return f"{v:,.{exact}f}" if exact is not None else three_significant(v)
    h = 1.96 * abs(float(se)) * scale
    if h <= 1e-9 * max(abs(v), 1.0):
        return (f"{v:,.{exact}f}" if exact is not None else three_significant(v)) + " \u00b1 0"
    d = int(min(6, max(0, 1 - math.floor(math.log10(h)))))
    return f"{v:,.{d}f} \u00b1 {h:,.{d}f}"


def clear(value, se):
    return math.isfinite(se) and abs(value) > 1.96 * se


# -- reading the page ------------------------------------------------------------------------
class Page(html.parser.HTMLParser):
    """Tags, attributes, ids, tables (rows of cell texts), <pre> texts, the h1 text and the
    problems that make a page not self-contained."""

    FORBIDDEN = {"script", "link", "img", "iframe", "object", "embed", "base", "frame",
                 "source", "video", "audio", "track", "applet", "portal"}

    def __init__(self, text):
        super().__init__(convert_charrefs=True)
        self.problems, self.ids, self.tags = [], [], {}
        self.tables, self.pres, self.h1 = [], [], ""
        self._cell = self._row = None
        self._pre = self._in_h1 = None
        self._style = self._small = False
        self.feed(text)
        self.close()
        for m in re.finditer(r"\b(https?|file):/", text, re.I):
            self.problems.append(f"the text holds {m.group(0)!r}")

    def _check_css(self, css, where):
        lowered = css.lower().replace(" ", "")
        if "@import" in lowered:
            self.problems.append(f"@import in {where}")
        at = lowered.find("url(")
        while at >= 0:
            if not lowered[at + 4:].lstrip("'\"").startswith("#"):
                self.problems.append(f"url() of another file in {where}")
            at = lowered.find("url(", at + 4)

    def handle_starttag(self, name, attrs):
        self.tags[name] = self.tags.get(name, 0) + 1
        if name in self.FORBIDDEN:
            self.problems.append(f"<{name}>")
        for key, value in attrs:
            value = value or ""
            if key == "id":
                self.ids.append(value)
            if key in ("src", "srcset", "data", "action", "formaction", "poster", "background"):
                self.problems.append(f"{key}= on <{name}>")
            # a fragment, or the data of an SVG <image> (matplotlib's heatmaps are rasters)
            inline = name == "image" and value.startswith("data:image/png;base64,")
            if key.endswith("href") and not value.startswith("#") and not inline:
                self.problems.append(f"{key}={value!r} on <{name}>")
            if key == "style":
                self._check_css(value, f"style of <{name}>")
        if name == "meta" and any(k == "http-equiv" for k, _ in attrs):
            self.problems.append("<meta http-equiv>")
        if name == "style":
            self._style = True
        if name == "table":
            self.tables.append([])
        elif name == "tr" and self.tables:
            self._row = []
            self.tables[-1].append(self._row)
        elif name in ("td", "th") and self._row is not None:
            self._cell = []
        elif name == "pre":
            self._pre = []
        elif name == "h1":
            self._in_h1 = True
        elif name == "small":
            self._small = True

    def handle_endtag(self, name):
        if name in ("td", "th") and self._cell is not None:
            self._row.append("".join(self._cell).strip())
            self._cell = None
        elif name == "tr":
            self._row = None
        elif name == "pre" and self._pre is not None:
            self.pres.append("".join(self._pre))
            self._pre = None
        elif name == "h1":
            self._in_h1 = False
        elif name == "style":
            self._style = False
        elif name == "small":
            self._small = False

    def handle_data(self, data):
        if self._style:
            self._check_css(data, "<style>")
        if self._cell is not None and not self._small:  # a cell's text without its note
            self._cell.append(data)
        if self._pre is not None:
            self._pre.append(data)
        if self._in_h1:
            self.h1 += data

    def row(self, prefix, table_head=None, exact=False):
        """The cells of the first row whose first cell starts with `prefix` (is `prefix` with
        exact) in the first table whose head row holds `table_head`, if given; None if there is
        none. Cell texts leave out the notes in <small>."""
        for t in self.tables:
            if table_head is not None and (not t or table_head not in t[0]):
                continue
            for r in t:
                if r and (r[0] == prefix if exact else r[0].startswith(prefix)):
                    return r
        return None

    def table(self, head_cell):
        for t in self.tables:
            if t and head_cell in t[0]:
                return t
        return None


# -- running ---------------------------------------------------------------------------------
def run(command, cwd=None, env=None, timeout=600):
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=timeout)


def sha256(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def texts(values):
    return [v.decode() if isinstance(v, bytes) else str(v) for v in np.asarray(values).ravel()]


def check_self_contained(checks, page, label):
    checks.check(not page.problems, f"{label}: not self-contained: {page.problems[:8]}")
    duplicates = {i for i in page.ids if page.ids.count(i) > 1}
    checks.check(not duplicates, f"{label}: duplicate ids {sorted(duplicates)[:5]}")


def check_checker(checks):
    """The self-containment checker flags each kind of reference."""
    bad = ('<!DOCTYPE html><html><head><link rel="stylesheet" href="https://x.org/a.css">'
           '<style>@import "b.css"; body { background: url(c.png) }</style>'
           '<script src="d.js"></script></head><body><img src="file:///etc/hostname">'
           '<a href="//x.org/">x</a><svg><use href="e.svg#g"/><image href="data:text/html,x"/>'
           '</svg><p>see http://x.org</p></body></html>')
    page = Page(bad)
    kinds = " ".join(page.problems)
    for fragment in ("<link>", "@import", "url()", "<script>", "<img>", "src=", "href='//x.org/'",
                     "href='e.svg#g'", "href='data:text/html,x'", "'https:/'", "'file:/'",
                     "'http:/'"):
        checks.check(fragment in kinds, f"the checker misses {fragment} in a bad page: {kinds}")


def check_run_report(checks, page, result, point=None):
    """The tables of a run report against the file (or /points/<point>)."""
    with h5py.File(result, "r") as f:
        g = f if point is None else f[f"points/{point}"]
        label = os.path.basename(result) + (f" point {point}" if point is not None else "")
        years = [str(int(y)) for y in g["year"][()]]
        head = page.table("measure (unit)")
        checks.check(head is not None and head[0][1:1 + len(years)] == years,
                     f"{label}: poverty table's years {head[0] if head else None} != {years}")

        def expect(prefix, values, ses, scale=1.0, exact=None, table_head=None, extra=None,
                   whole=False):
            r = page.row(prefix, table_head, whole)
            want = [pm(v, s, scale, exact) for v, s in
                    zip(values, ses if ses is not None else [None] * len(values))]
            got = r[1:1 + len(want)] if r else None
            checks.check(got == want, f"{label}: row {prefix!r}: {got} != {want}")
            if extra is not None:
                checks.check(r is not None and r[1 + len(want)] == extra,
                             f"{label}: row {prefix!r} horizon: "
                             f"{r[1 + len(want)] if r else None} != {extra}")

        p = g["poverty"]
        expect("headcount FGT0 (% of persons)", p["fgt0"][()], p["fgt0_se"][()], 100.0)
        expect("target risk P(FGT0 > 2%)", p["target_risk"][()], p["target_risk_se"][()])
        expect("poverty gap FGT1", p["fgt1"][()], p["fgt1_se"][()])
        expect("relapse", p["relapse"][()], p["relapse_se"][()], 100.0)
        expect("mean per-capita net income", g["income/mean"][()], g["income/mean_se"][()])
        expect("government cost: total", g["fiscal/government_cost"][()],
               g["fiscal/government_cost_se"][()], exact=0)
        t = -1
        sentence = f"{pm(p['fgt0'][t], p['fgt0_se'][t], 100.0)}% of persons"
        checks.check(sentence in page.rawdata_text,
                     f"{label}: the summary lacks {sentence!r}")
        verdicts = page.row("headcount vs the 2% exit target")
        want = []
        for v, s in zip(p["fgt0"][()], p["fgt0_se"][()]):
            want.append("above 2%" if v - 1.96 * s > 0.02 else
                        "below 2%" if v + 1.96 * s < 0.02 else "too close to 2% to tell")
        checks.check(verdicts is not None and verdicts[1:] == want,
                     f"{label}: exit target verdicts {verdicts} != {want}")

        sys.path.insert(0, TOOLS)
        import plot_fiscal
        components = texts(g["fiscal/component"][()])
        by, by_se = g["fiscal/by_component"][()], g["fiscal/by_component_se"][()]
        for k, c in enumerate(components):
            expect(plot_fiscal.COMPONENT_LABELS[c], by[k], by_se[k], exact=0,
                   table_head="component (yuan per year)", whole=True)
        checks.check(np.allclose(by.sum(axis=0), g["fiscal/government_cost"][()], rtol=1e-12),
                     f"{label}: components do not sum to the cost")

        products = [q for q in PRODUCTS if f"insurance/{q}" in g]
        for q in products:
            ins = g[f"insurance/{q}"]
            premium, payout = ins["premium"][()], ins["payout"][()]
            per_rep = g[f"replications/payout_{q}"][()].sum(axis=1)
            total_se = per_rep.std(ddof=1) / math.sqrt(len(per_rep))
            ratio = per_rep.mean() / premium.sum()
            # the product's own table: the first after its heading; rows are found in order
            tables = [tb for tb in page.tables if tb and "horizon" in tb[0]]
            index = products.index(q)
            checks.check(len(tables) == len(products),
                         f"{label}: {len(tables)} insurance tables for {products}")
            if len(tables) != len(products):
                continue
            rows = {r[0].split(" (")[0]: r for r in tables[index][1:]}
            for name, v, s, exact, total in (
                    ("premiums", premium, ins["premium_se"][()], 0, pm(premium.sum(), 0.0,
                                                                        exact=0)),
                    ("payouts", payout, ins["payout_se"][()], 0, pm(per_rep.mean(), total_se,
                                                                     exact=0)),
                    ("loss ratio", ins["loss_ratio"][()], ins["loss_ratio_se"][()], None,
                     pm(ratio, total_se / premium.sum()))):
                want = [pm(a, b, exact=exact) for a, b in zip(v, s)] + [total]
                got = rows.get(name, [None])[1:]
                checks.check(got == want, f"{label}: {q} {name}: {got} != {want}")

        poor = g["groups/poor"]
        labels = texts(poor["labels"][()])
        words = {"poor": "registered poor households", "other": "other households"}
        for k, who in enumerate(labels):
            expect(f"headcount, {words[who]}", poor["fgt0"][k], poor["fgt0_se"][k], 100.0)
            expect(f"mean income, {words[who]}", poor["income_mean"][k],
                   poor["income_mean_se"][k])
        village = g["groups/village"]
        for k, name in enumerate(texts(village["labels"][()])):
            expect(name, village["fgt0"][k], village["fgt0_se"][k], 100.0,
                   table_head="village: headcount FGT0 (% of its persons)", whole=True)

        attrs = f.attrs if point is None else f.attrs  # versions and created of the file
        prov = page.table("item")
        items = {r[0]: r[1] for r in (prov or [])[1:] if len(r) > 1}
        for key, want in (("seed", str(int(g.attrs["seed"]))),
                          ("incsim version", str(attrs["incsim_version"])),
                          ("output schema version", str(attrs["schema_version"])),
                          ("created (UTC, by incsim)", str(attrs["created_utc"])),
                          ("file", os.path.abspath(result)),
                          ("file SHA-256", sha256(result)),
                          ("overrides (--set)", "; ".join(texts(g.attrs["overrides"])) or "none"),
                          ("replications", f"{int(g.attrs['replications'])} used of "
                                           f"{int(g.attrs['replications_requested'])} requested")):
            checks.check(items.get(key) == want,
                         f"{label}: provenance {key!r}: {items.get(key)!r} != {want!r}")
        scenario = str(g.attrs["scenario"])
        checks.check(scenario in page.pres, f"{label}: the scenario text does not read back")


def check_sweep_table(checks, page, result, measure, head_name, scale, exact, label):
    """The last-year table of `measure`: per point the value and the difference from point 0
    (and the increment in a stack), with their stars."""
    with h5py.File(result, "r") as f:
        s = f["sweep"]
        table = page.table(head_name)
        checks.check(table is not None, f"{label}: no table headed {head_name!r}")
        if table is None:
            return
        stack = f"{measure}_increment" in s
        params = ([texts(s["overlay"][()])] if "overlay" in s else
                  [[f"{v:g}" for v in s[p][()]] for p in texts(s.attrs["parameters"])])
        for k in range(s["point"].shape[0]):
            level = pm(s[measure][k, -1], s[f"{measure}_se"][k, -1], scale, exact)
            d, d_se = s[f"{measure}_diff"][k, -1], s[f"{measure}_diff_se"][k, -1]
            diff = ("(reference)" if k == 0 else pm(d, d_se, scale, exact)) + (
                " *" if k > 0 and clear(d, d_se) else "")
            want = [str(k)] + [p[k] for p in params] + [level, diff]
            if stack:
                i, i_se = s[f"{measure}_increment"][k, -1], s[f"{measure}_increment_se"][k, -1]
                want.append("" if k == 0 else pm(i, i_se, scale, exact)
                            + (" *" if clear(i, i_se) else ""))
            got = table[k + 1] if k + 1 < len(table) else None
            checks.check(got == want, f"{label}: {measure} point {k}: {got} != {want}")


def check_point_diffs(checks, page, result, point):
    with h5py.File(result, "r") as f:
        s = f["sweep"]
        for measure, prefix, scale, exact in (("fgt0", "headcount FGT0 (percentage points)", 100.0,
                                               None),
                                              ("government_cost", "government cost (yuan per year)",
                                               1.0, 0)):
            want = [pm(v, e, scale, exact) for v, e in
                    zip(s[f"{measure}_diff"][point], s[f"{measure}_diff_se"][point])]
            r = page.row(prefix)
            checks.check(r is not None and r[1:] == want,
                         f"point {point}: differences {measure}: {r} != {want}")


# -- Chromium --------------------------------------------------------------------------------
def chromium_binary():
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    return None


def render(browser, page_path, png, tmp, size="1200,3000"):
    """(returncode, DOM text, console lines, stderr) of one headless Chromium load that also
    takes the screenshot. --no-sandbox: CI runs as root."""
    if os.path.exists(png):
        os.remove(png)
    command = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
               "--no-first-run", "--no-default-browser-check", "--disable-extensions",
               "--hide-scrollbars", f"--user-data-dir={os.path.join(tmp, 'chromium-profile')}",
               "--enable-logging=stderr", "--v=0", f"--screenshot={png}", "--dump-dom",
               f"--window-size={size}", "file://" + os.path.abspath(page_path)]
    # its own process group, so that a hung load (a script's alert() blocks headless Chromium)
    # is ended with every renderer it started
    child = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             start_new_session=True)
    try:
        out, err = child.communicate(timeout=120)
    except subprocess.TimeoutExpired:
        os.killpg(child.pid, signal.SIGKILL)
        out, err = child.communicate()
        return -1, out, [], f"chromium did not finish in 120 s\n{err}"
    console = [line for line in err.splitlines() if ":CONSOLE" in line or "Uncaught" in line]
    return child.returncode, out, console, err


def blank(png):
    """(is blank, grey-level standard deviation, share of non-white pixels)."""
    from PIL import Image  # python3-pil, a dependency of Debian's python3-matplotlib
    grey = np.asarray(Image.open(png).convert("L"), dtype=float)
    spread, ink = float(grey.std()), float((grey < 240).mean())
    return spread < 10 or ink < 0.02, spread, ink


def check_rendering(checks, browser, tmp, page_path, label, expect_svgs, expect_tables, h1,
                    size="1200,3000"):
    png = os.path.join(tmp, f"{label}.png")
    code, dom, console, stderr = render(browser, page_path, png, tmp, size)
    checks.check(code == 0 and os.path.isfile(png),
                 f"{label}: chromium exited {code}: {stderr[-2000:]}")
    if not os.path.isfile(png):
        return
    is_blank, spread, ink = blank(png)
    checks.check(not is_blank, f"{label}: the screenshot {png} is blank (grey std {spread:.1f}, "
                               f"{100 * ink:.2f}% non-white)")
    checks.check(not console, f"{label}: console messages: {console}")
    parsed = Page(dom)
    checks.check(parsed.tags.get("svg", 0) == expect_svgs,
                 f"{label}: the DOM holds {parsed.tags.get('svg', 0)} charts, not {expect_svgs}")
    checks.check(parsed.tags.get("table", 0) == expect_tables,
                 f"{label}: the DOM holds {parsed.tags.get('table', 0)} tables, not "
                 f"{expect_tables}")
    checks.check("end" in parsed.ids and "script" not in parsed.tags,
                 f"{label}: the DOM lacks the footer or holds a script")
    checks.check(parsed.h1 == h1, f"{label}: the DOM's title {parsed.h1!r} != {h1!r}")
    print(f"{label}: rendered, grey std {spread:.1f}, {100 * ink:.1f}% non-white")


def check_controls(checks, browser, tmp):
    """The rendering checks can fail: a blank page is blank, a script error is seen."""
    empty, broken = os.path.join(tmp, "empty.html"), os.path.join(tmp, "broken.html")
    with open(empty, "w") as f:
        f.write("<!DOCTYPE html><html><head><meta charset='utf-8'><title>e</title></head>"
                "<body></body></html>")
    with open(broken, "w") as f:
        f.write("<!DOCTYPE html><html><head><meta charset='utf-8'><title>b</title></head><body>"
                "<p>text</p><script>no_such_function();</script></body></html>")
    png = os.path.join(tmp, "empty.png")
    code, _, console, stderr = render(browser, empty, png, tmp)
    checks.check(code == 0 and os.path.isfile(png) and blank(png)[0],
                 f"control: an empty page's screenshot is not seen as blank ({code}: "
                 f"{stderr[-500:]})")
    code, _, console, stderr = render(browser, broken, os.path.join(tmp, "broken.png"), tmp)
    checks.check(any("Uncaught" in line for line in console),
                 f"control: a script error is not seen in chromium's log: {stderr[-1000:]}")


# -- main ------------------------------------------------------------------------------------
TOOLS = None


def main():
    global TOOLS
    binary, scenarios, tools, tmp = (os.path.abspath(a) for a in sys.argv[1:5])
    TOOLS = tools
    tmp = os.path.join(tmp, "python_report")
    shutil.rmtree(tmp, ignore_errors=True)
    os.makedirs(tmp)
    env = dict(os.environ)
    for name in ("DISPLAY", "WAYLAND_DISPLAY", "MPLBACKEND"):
        env.pop(name, None)
    env["MPLCONFIGDIR"] = os.path.join(tmp, "mplconfig")
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    os.environ["MPLCONFIGDIR"] = env["MPLCONFIGDIR"]
    checks = Checks()
    check_checker(checks)

    results = {name: os.path.join(tmp, f"{name}.h5")
               for name in ("run", "example", "stack", "grid", "grid_table")}
    sweeps = {"stack": ("tongshan_no_insurance.yaml", STACK),
              "grid": ("tongshan_double_insurance.yaml", GRID)}
    commands = [[binary, "run", os.path.join(scenarios, "tongshan_double_insurance.yaml"),
                 "-o", results["run"], "-q", "--replications", "40",
                 "--set", "population.households=300", "--set", GUARD,
                 "--set", f"scenario.name={HOSTILE}"],
                [binary, "run", os.path.join(scenarios, "example_households.yaml"),
                 "-o", results["example"], "-q", "--replications", "200"]]
    for name, (base, body) in sweeps.items():
        path = os.path.join(tmp, f"{name}.yaml")
        with open(path, "w") as f:
            f.write(f"base: {os.path.join(scenarios, base)}\n{SMALL_SWEEP}{body}")
        commands.append([binary, "sweep", path, "-o", results[name], "-q"])
    commands.append([binary, "sweep", os.path.join(tmp, "grid.yaml"), "-o",
                     results["grid_table"], "-q", "--table-only"])
    for command in commands:
        r = run(command)
        if r.returncode != 0:
            print(r.stdout, r.stderr)
            print(f"0 passed, 1 failed ({' '.join(command[:4])} exited {r.returncode})")
            return 1

    report = os.path.join(tools, "report.py")
    python = sys.executable
    pages = {}
    for label, result, extra in (("run", results["run"], []),
                                 ("example", results["example"], []),
                                 ("stack", results["stack"], []),
                                 ("stack_point2", results["stack"], ["--point", "2"]),
                                 ("grid", results["grid"], []),
                                 ("grid_table", results["grid_table"], [])):
        out = os.path.join(tmp, f"{label}.html")
        r = run([python, report, result, "-o", out] + extra, env=env)
        checks.check(r.returncode == 0 and r.stdout.strip() == out,
                     f"report {label} exited {r.returncode}, printed {r.stdout!r}: {r.stderr}")
        checks.check("warning" not in r.stderr.lower() and "missing from" not in r.stderr
                     and "Traceback" not in r.stderr, f"report {label}: {r.stderr.strip()}")
        if os.path.isfile(out):
            with open(out, encoding="utf-8") as f:
                text = f.read()
            page = Page(text)
            page.rawdata_text = text
            pages[label] = (out, page)
            check_self_contained(checks, page, label)
    for label, (_, page) in pages.items():
        checks.check(page.tags.get("svg", 0) == CHARTS[label],
                     f"{label}: {page.tags.get('svg', 0)} charts, not {CHARTS[label]}")
    missing = [k for k in ("run", "example", "stack", "stack_point2", "grid", "grid_table")
               if k not in pages]
    if missing:
        print(f"{checks.passed} passed, {len(checks.failed) + 1} failed (no report: {missing})")
        return 1

    # numbers, escaping, provenance
    run_page = pages["run"][1]
    check_run_report(checks, run_page, results["run"])
    check_run_report(checks, pages["example"][1], results["example"])
    check_run_report(checks, pages["stack_point2"][1], results["stack"], point=2)
    check_point_diffs(checks, pages["stack_point2"][1], results["stack"], 2)
    raw = run_page.rawdata_text
    checks.check(run_page.h1 == f"{HOSTILE}: incsim report",
                 f"the hostile name does not read back as the title: {run_page.h1!r}")
    checks.check("<script>alert" not in raw and "<b>咸宁" not in raw
                 and "&lt;/pre&gt;&lt;script&gt;alert(1)&lt;/script&gt;" in raw,
                 "the scenario name is not escaped")
    checks.check(run_page.tags.get("b", 0) == 0 and run_page.tags.get("pre", 0) == 1,
                 f"the name's markup became elements: {run_page.tags}")
    for label in ("stack", "grid", "grid_table"):
        page = pages[label][1]
        check_sweep_table(checks, page, results[label], "fgt0", "headcount FGT0 (% of persons)",
                          100.0, None, label)
        check_sweep_table(checks, page, results[label], "government_cost",
                          "government cost (yuan per year)", 1.0, 0, label)
        check_sweep_table(checks, page, results[label], "mean_income",
                          "mean per-capita income (yuan per capita)", 1.0, None, label)
    with h5py.File(results["stack"], "r") as f:
        items = {r[0]: r[1] for r in pages["stack"][1].table("item")[1:]}
        for key, want in (("seed", str(int(f.attrs["seed"]))),
                          ("created (UTC, by incsim)", str(f.attrs["created_utc"])),
                          ("file SHA-256", sha256(results["stack"])),
                          ("sweep file", str(f.attrs["sweep_file"]))):
            checks.check(items.get(key) == want, f"stack provenance {key}: {items.get(key)!r}")
        checks.check(str(f.attrs["sweep"]) in pages["stack"][1].pres
                     and str(f.attrs["base_scenario"]) in pages["stack"][1].pres,
                     "the sweep file or the base scenario does not read back")
    checks.check("--point K" in pages["stack"][1].rawdata_text
                 and "keep: table" in pages["grid_table"][1].rawdata_text,
                 "the sweep reports do not say how to see one point (or that it cannot)")
    example = pages["example"][1]
    checks.check(example.row("高桥村") is not None, "the example's Chinese villages are missing")

    # a schema 1.0 result (integer category scales, no /fiscal/by_component): the components
    # are the stored parts and the rest, and the total is the file's
    import string_scales
    integer, _ = string_scales.both_layouts(results["run"])
    out = os.path.join(tmp, "schema1.html")
    r = run([python, report, integer, "-o", out], env=env)
    checks.check(r.returncode == 0 and os.path.isfile(out),
                 f"report on a schema 1.0 result exited {r.returncode}: {r.stderr[-2000:]}")
    if os.path.isfile(out):
        with open(out, encoding="utf-8") as f:
            old = Page(f.read())
        check_self_contained(checks, old, "schema1")
        checks.check(old.tags.get("svg", 0) == CHARTS["run"], "schema1: charts missing")
        with h5py.File(integer, "r") as f:
            cost, cost_se = f["fiscal/government_cost"][()], f["fiscal/government_cost_se"][()]
        want = [pm(v, s, exact=0) for v, s in zip(cost, cost_se)]
        got = old.row("government cost: total")
        checks.check(got is not None and got[1:] == want, f"schema1: total {got} != {want}")
        checks.check(old.row("public posts, transfers, setup subsidies") is not None,
                     "schema1: the rest of the government cost is not shown")

    # the command line
    r = run([python, report, "--help"], env=env)
    checks.check(r.returncode == 0 and "--point" in r.stdout and "--title" in r.stdout,
                 f"--help exited {r.returncode}")
    r = run([python, report, results["example"], "--title", "Gaoqiao & co."], cwd=tmp, env=env)
    default = os.path.join(tmp, "example_report.html")
    checks.check(r.returncode == 0 and r.stdout.strip() == "example_report.html"
                 and os.path.isfile(default), f"default output: {r.stdout!r} {r.stderr}")
    if os.path.isfile(default):
        with open(default, encoding="utf-8") as f:
            checks.check(Page(f.read()).h1 == "Gaoqiao & co.", "--title is not the page title")
    for extra, fragment, what in (
            ([os.path.join(tmp, "missing.h5")], "no such file", "a missing file"),
            ([results["run"], "--point", "0"], "single run", "--point on a run"),
            ([results["stack"], "--point", "3"], "no point 3", "a point out of range"),
            ([results["grid_table"], "--point", "0"], "only the sweep table",
             "a table-only sweep")):
        r = run([python, report] + extra + ["-o", os.path.join(tmp, "bad.html")], env=env)
        checks.check(r.returncode == 1 and fragment in r.stderr and "Traceback" not in r.stderr,
                     f"{what}: exited {r.returncode}: {r.stderr.strip()[-500:]}")
    checks.check(not os.path.exists(os.path.join(tmp, "bad.html")),
                 "a refused report left a file")

    # Chromium: fails (is not skipped) where it is missing
    browser = chromium_binary()
    checks.check(browser is not None, "chromium is not installed (tools/setup.sh installs it: "
                                      "apt-get install chromium)")
    if browser is not None:
        check_controls(checks, browser, tmp)
        for label, (path, page) in pages.items():
            check_rendering(checks, browser, tmp, path, label, CHARTS[label],
                            page.tags.get("table", 0), page.h1)
        check_rendering(checks, browser, tmp, pages["run"][0], "run_phone", 5,
                        run_page.tags.get("table", 0), run_page.h1, size="412,2400")
    return checks.finish()


if __name__ == "__main__":
    sys.exit(main())
