"""The page side of tools/report.py: escaping, numbers with their 95% Monte Carlo intervals,
tables, inline SVG charts and the self-contained page (inline CSS, no scripts, no external
files, fonts of the reader's system, charts whose text matplotlib has turned into paths).

Every text that comes from a result file goes through `esc` (or a cell that is not Markup);
Markup marks HTML this module built itself. Charts runs a tools/plot_*.py script with its save
step replaced, so that the report shows the script's own chart.
"""
import datetime
import hashlib
import html
import importlib
import io
import os
import re
import sys

import numpy as np

import incsim_plot_common as common

Z95 = 1.96  # every "±" of the report is 1.96 standard errors: a 95% Monte Carlo interval


class Markup(str):
    """HTML built here, inserted as it is (anything else is escaped)."""


def esc(value):
    if isinstance(value, Markup):
        return value
    return Markup(html.escape(str(value), quote=True))


def join(parts, sep=""):
    return Markup(esc(sep).join(esc(p) for p in parts))


def tag(name, content="", **attrs):
    """<name attrs>content</name>; attribute values escaped, `cls` for class."""
    text = "".join(f' {("class" if k == "cls" else k.replace("_", "-"))}="{esc(v)}"'
                   for k, v in attrs.items() if v is not None)
    return Markup(f"<{name}{text}>{esc(content)}</{name}>")


# -- numbers ---------------------------------------------------------------------------------
def plain(value, decimals=None):
    """A number with thousands separators: `decimals` places, else 3 significant digits."""
    if value is None or not np.isfinite(value):
        return "\u2013"
    if decimals is not None:
        return f"{value:,.{decimals}f}"
    return common.format_estimate(float(value), 0.0)[0]


def estimate(value, se, scale=1.0, exact_decimals=None):
    """'v ± h': value x scale with h = 1.96 x se x scale, both rounded to two significant
    digits of h (common.decimals_for). A negligible h (at most 1e-9 of the value: rounding in
    sums of numbers that do not depend on the shocks) reads '± 0' with `exact_decimals`
    places (default 3 significant digits); se None or NaN: the value alone; value NaN: '–'."""
    if value is None or not np.isfinite(value):
        return "\u2013"
    v = float(value) * scale
    if se is None or not np.isfinite(se):
        return plain(v, exact_decimals)
    h = Z95 * abs(float(se)) * scale
    if h <= 1e-9 * max(abs(v), 1.0):
        return f"{plain(v, exact_decimals)} \u00b1 0"
    d = common.decimals_for(h)
    return f"{v:,.{d}f} \u00b1 {h:,.{d}f}"


def excludes(value, se, reference):
    """'above', 'below' or None: whether value's 95% interval lies wholly above or below."""
    if not (np.isfinite(value) and np.isfinite(se)):
        return None
    if value - Z95 * se > reference:
        return "above"
    if value + Z95 * se < reference:
        return "below"
    return None


# -- tables ----------------------------------------------------------------------------------
def cell(content, header=False, numeric=False):
    return tag("th" if header else "td", content, cls="num" if numeric else None)


def row_label(name, what=None):
    """A first-column cell: the measure's name (with its unit) and, small, what it means."""
    return Markup(esc(name) + (tag("small", what, cls="what") if what else ""))


def table(head, rows, caption=None, numeric_from=1):
    """A table in a horizontally scrolling box (phones); cells from column `numeric_from` on
    are right-aligned numbers that do not wrap."""
    parts = []
    parts.append(tag("thead", tag("tr", join(cell(h, header=True, numeric=i >= numeric_from)
                                             for i, h in enumerate(head)))))
    body = []
    for r in rows:
        body.append(tag("tr", join(cell(c, header=i == 0, numeric=i >= numeric_from)
                                   for i, c in enumerate(r))))
    parts.append(tag("tbody", join(body)))
    # the caption outside the scrolling box, so that it wraps at the screen's width
    return Markup((tag("p", caption, cls="caption") if caption else "")
                  + tag("div", tag("table", join(parts)), cls="scroll"))


def definition_list(items):
    return tag("dl", join(Markup(tag("dt", k) + tag("dd", v)) for k, v in items))


def details(summary, content, open_=False):
    return Markup(f"<details{' open' if open_ else ''}>" + tag("summary", summary)
                  + esc(content) + "</details>")


# -- charts ----------------------------------------------------------------------------------
_SVG_DROP = [re.compile(r"<\?xml.*?\?>", re.S), re.compile(r"<!DOCTYPE.*?>", re.S),
             re.compile(r"<!--.*?-->", re.S), re.compile(r"<metadata>.*?</metadata>", re.S)]
_ID = re.compile(r'\bid="([^"]+)"')


def inline_svg(svg_text, prefix, label):
    """matplotlib's SVG made fit to sit in an HTML page beside others: no XML prolog, DOCTYPE,
    comments (matplotlib writes each text there) or metadata; no namespace declarations (the
    HTML parser puts <svg> in its namespace; their URIs would read as web addresses); every id
    prefixed, so that the charts' ids (figure_1, clip paths, glyphs) do not collide, and links
    as SVG 2 `href`; the size left to CSS (max-width: 100%, keeping the aspect ratio)."""
    for pattern in _SVG_DROP:
        svg_text = pattern.sub("", svg_text)
    svg_text = re.sub(r'\s+xmlns(:\w+)?="[^"]*"', "", svg_text)
    ids = set(_ID.findall(svg_text))
    svg_text = _ID.sub(lambda m: f'id="{prefix}-{m.group(1)}"', svg_text)

    def ref(m):
        target = m.group(2)
        return f'{m.group(1)}#{prefix}-{target}' if target in ids else m.group(0)
    svg_text = re.sub(r'((?:xlink:)?href=")#([^"]+)', ref, svg_text)
    svg_text = re.sub(r'(url\()#([^)]+)', ref, svg_text)
    svg_text = svg_text.replace("xlink:href=", "href=")
    svg_text = svg_text.replace("<svg ", f'<svg role="img" aria-label="{esc(label)}" ', 1)
    return Markup(svg_text.strip())


def figure_svg(fig):
    """A matplotlib figure as SVG text with every glyph drawn as a path (CJK names render
    without the reader's fonts) and no creator or date metadata."""
    import matplotlib
    buffer = io.StringIO()
    with matplotlib.rc_context({"svg.fonttype": "path", "svg.hashsalt": "incsim-report"}):
        fig.savefig(buffer, format="svg", bbox_inches="tight",
                    metadata={"Creator": None, "Date": None, "Format": None, "Type": None})
    return buffer.getvalue()


# -- the page --------------------------------------------------------------------------------
CSS = """
:root { color-scheme: light; }
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", "Helvetica Neue",
       Arial, "Noto Sans CJK SC", "PingFang SC", "Microsoft YaHei", "WenQuanYi Micro Hei",
       sans-serif; color: #1f2328; background: #fff; line-height: 1.45;
       margin: 0 auto; max-width: 72rem; padding: 0.75rem 1rem 3rem; }
h1 { font-size: 1.6rem; margin: 0.5rem 0 0.25rem; }
h2 { font-size: 1.25rem; margin-top: 2rem; border-bottom: 2px solid #d0d7de;
     padding-bottom: 0.2rem; }
h3 { font-size: 1.05rem; margin-top: 1.4rem; }
p.subtitle { color: #57606a; margin-top: 0; }
.note { background: #eef4fb; border-left: 4px solid #4a7ab8; padding: 0.5rem 0.8rem;
        margin: 1rem 0; }
.warn { background: #fff4e5; border-left: 4px solid #d4820f; padding: 0.5rem 0.8rem; }
.scroll { overflow-x: auto; margin: 0.5rem 0 1rem; }
table { border-collapse: collapse; font-size: 0.9rem; }
p.caption { color: #57606a; font-size: 0.85rem; margin: 1rem 0 0.3rem; }
th, td { border-bottom: 1px solid #d8dee4; padding: 0.3rem 0.55rem; vertical-align: top;
         text-align: left; }
thead th { border-bottom: 2px solid #8c959f; background: #f6f8fa; }
.num { text-align: right; white-space: nowrap; font-variant-numeric: tabular-nums; }
small.what { display: block; color: #57606a; font-weight: normal; min-width: 14rem;
             max-width: 30rem; }
tbody th { font-weight: 600; }
figure { margin: 1rem 0 1.5rem; }
figure svg { display: block; max-width: 100%; height: auto; }
figcaption { color: #57606a; font-size: 0.85rem; }
pre { white-space: pre-wrap; overflow-wrap: anywhere; background: #f6f8fa; padding: 0.6rem;
      font-size: 0.8rem; border: 1px solid #d8dee4; }
dt { font-weight: 600; margin-top: 0.4rem; }
dd { margin-left: 1rem; }
details { margin: 0.5rem 0; }
summary { cursor: pointer; color: #0b5cad; }
nav ul { padding-left: 1.2rem; columns: 2 14rem; }
footer { margin-top: 3rem; color: #57606a; font-size: 0.8rem; }
@media (max-width: 40rem) { body { padding: 0.5rem; } table { font-size: 0.8rem; }
                            h1 { font-size: 1.3rem; } small.what { min-width: 9rem; }
                            th, td { padding: 0.25rem 0.35rem; } }
@media print { details > * { display: block; } .scroll { overflow: visible; } }
"""


def page(title, subtitle, sections, footer):
    """The whole document: sections are (anchor id, heading, content) in order."""
    nav = tag("nav", tag("ul", join(tag("li", Markup(f'<a href="#{esc(a)}">{esc(h)}</a>'))
                                    for a, h, _ in sections)), aria_label="contents")
    body = [tag("h1", title), tag("p", subtitle, cls="subtitle"), nav]
    for anchor, heading, content in sections:
        body.append(tag("section", Markup(tag("h2", heading) + esc(content)), id=anchor))
    body.append(tag("footer", footer, id="end"))
    return ("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
            f"<title>{esc(title)}</title>\n<style>{CSS}</style>\n</head>\n<body>\n"
            + "\n".join(body) + "\n</body>\n</html>\n")


# -- charts from the plotting scripts --------------------------------------------------------
class Charts:
    """Runs a tools/plot_*.py script's main() on the result with its save step replaced, so the
    report shows exactly the chart the script draws, as inline SVG."""

    def __init__(self):
        self.count = 0

    def draw(self, module_name, argv, caption):
        module = importlib.import_module(module_name)
        captured = {}

        def capture(fig, args):
            captured["svg"] = figure_svg(fig)
            heading = getattr(fig, "_suptitle", None)
            captured["title"] = (heading.get_text() if heading is not None else
                                 " ".join(ax.get_title() for ax in fig.axes if ax.get_title()))
            common.plt.close(fig)

        saved_argv, saved_save = sys.argv, common.save
        sys.argv, common.save = [module_name + ".py"] + argv, capture
        try:
            module.main()
        except SystemExit:  # the script's own refusal (common.fail: its message on stderr)
            captured.pop("svg", None)
        finally:
            sys.argv, common.save = saved_argv, saved_save
        if "svg" not in captured:
            print(f"report.py: warning: chart {module_name} not drawn", file=sys.stderr)
            return tag("p", f"(chart not drawn: {module_name} {' '.join(argv[1:])})", cls="warn")
        self.count += 1
        svg = inline_svg(captured["svg"], f"c{self.count}", captured["title"] or caption)
        return tag("figure", Markup(svg + tag("figcaption", caption)))


# -- rows of numbers, provenance -------------------------------------------------------------
def values(ds, name):
    return np.asarray(ds[name].values, dtype=float)


def se_of(ds, name):
    return values(ds, name + "_se") if name + "_se" in ds else None


def row(name, what, value, se, scale=1.0, exact_decimals=None):
    """A table row: the measure, then 'v ± h' per year."""
    ses = se if se is not None else [None] * len(value)
    return [row_label(name, what)] + [estimate(v, s, scale, exact_decimals)
                                      for v, s in zip(value, ses)]


def attr_list(value):
    if value is None:
        return []
    if isinstance(value, (list, tuple)):
        return [str(v) for v in value]
    return [str(value)] if str(value) else []


def sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def provenance(path, attrs, extra=()):
    """The provenance table: what produced the file, and the file itself."""
    items = [("file", os.path.abspath(path)),
             ("file SHA-256", sha256(path)),
             ("file size", f"{os.path.getsize(path):,} bytes"),
             ("incsim version", attrs.get("incsim_version", "?")),
             ("output schema version", attrs.get("schema_version", "?"))]
    items += list(extra)
    items.append(("created (UTC, by incsim)", attrs.get("created_utc", "?")))
    items.append(("report written (UTC)",
                  datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")))
    return table(["item", "value"], [[k, v] for k, v in items], numeric_from=99)


def footer(path):
    return (f"Written by tools/report.py from {os.path.basename(path)}. This page loads "
            "nothing: its charts are inline, its text uses the reader's system fonts.")
