"""Copies of an incsim result in both layouts of its category coordinates, so the reader and
the charts are tested on both whichever the incsim binary writes:

- schema 1.0 (integer scales): every category dimension scale (market, industry,
  village_index, group_<grouping>, portfolio, index_industry) holds the indices 0..n-1, and the
  labels are in /markets/name, /industries/name, /households/village_labels,
  /groups/<grouping>/labels (portfolios: /choice/portfolio_main, portfolio_aux), with no
  /fiscal/by_component;
- schema 2.0 (string scales): those scales hold the labels as variable-length UTF-8 strings,
  attached to the same datasets, and /fiscal/by_component (component, year) with
  /fiscal/by_component_se and a string scale `component` sum to /fiscal/government_cost.

to_integer_scales turns a 2.0 file into a 1.0 one; to_string_scales a 1.0 file into a 2.0 one
and then removes the 1.0 label datasets, so whatever still reads labels from them fails on the
copy (strip_legacy_labels does that alone, for a file the writer made). The labels are computed
here from the stored datasets, independently of tools/incsim_results.py.

When to_string_scales has to add /fiscal/by_component to a 1.0 file, the split is a STAND-IN
for the writer's: the premium subsidies, dibao and medical reimbursements are the file's own
(/insurance/<product>/subsidy, /fiscal/dibao, /fiscal/health_reimbursement); the rest of the
government cost, which 1.0 files do not split, is shared 50/30/20 between public_posts,
transfers and setup_subsidies (their standard errors are left at 0).

Usage (as a module): both_layouts(path) -> (integer_layout_path, string_layout_path)
"""
import shutil

import h5py
import numpy as np

PRODUCTS = ("agricultural", "income_index", "poverty_guard")
COMPONENTS = ["premium_subsidy_agricultural", "premium_subsidy_income_index",
              "premium_subsidy_poverty_guard", "public_posts", "transfers", "setup_subsidies",
              "dibao", "health_reimbursement"]
LEGACY_LABELS = ["markets/name", "industries/name", "households/village_labels"]



def text(v):
    return v.decode() if isinstance(v, bytes) else str(v)


def strings(dataset):
    return [text(v) for v in dataset[()]]


def category_labels(root):
    """dimension name -> labels, from the legacy datasets of one run root."""
    industries = strings(root["industries/name"])
    labels = {"market": strings(root["markets/name"]), "industry": industries,
              "village_index": strings(root["households/village_labels"])}
    for grouping in root["groups"]:
        labels[f"group_{grouping}"] = strings(root[f"groups/{grouping}/labels"])
    main = root["choice/portfolio_main"][()]
    aux = root["choice/portfolio_aux"][()]
    labels["portfolio"] = ["none" if m < 0 else industries[m] + (f" + {industries[a]}" if a >= 0
                                                                  else "")
                           for m, a in zip(main, aux)]
    for product in PRODUCTS:
        if f"insurance/{product}/industries" in root:
            labels["index_industry"] = strings(root[f"insurance/{product}/industries"])
    return labels


def is_scale(obj):
    return isinstance(obj, h5py.Dataset) and text(obj.attrs.get("CLASS", b"")) == "DIMENSION_SCALE"


def relabel_scales(f, root):
    labels = category_labels(root)
    scales, uses = [], {}

    def visit(name, obj):
        if not isinstance(obj, h5py.Dataset):
            return
        if is_scale(obj):
            if text(obj.attrs.get("NAME", b"")) in labels and obj.dtype.kind != "O":
                scales.append(obj.name)
            return
        for axis, dim in enumerate(obj.dims):
            for scale in dim.values():
                uses.setdefault(scale.name, []).append((obj.name, axis))
    root.visititems(visit)
    for path in scales:
        old = f[path]
        dim = text(old.attrs["NAME"])
        attrs = {k: old.attrs[k] for k in ("units", "description") if k in old.attrs}
        users = uses.get(path, [])
        for user, axis in users:
            f[user].dims[axis].detach_scale(old)
        del f[path]
        new = f.create_dataset(path, data=np.array(labels[dim], dtype=object),
                               dtype=h5py.string_dtype("utf-8"))
        for k, v in attrs.items():
            new.attrs[k] = v
        new.attrs["description"] = f"{dim} labels"
        new.make_scale(dim)
        for user, axis in users:
            f[user].dims[axis].attach_scale(new)


def strip_legacy_labels(root):
    for path in LEGACY_LABELS + [f"groups/{g}/labels" for g in root["groups"]]:
        if path in root:
            del root[path]


def uses_of(root):
    """scale path -> [(dataset path, axis)] of the datasets under `root` attached to it."""
    uses = {}

    def visit(name, obj):
        if isinstance(obj, h5py.Dataset) and not is_scale(obj):
            for axis, dim in enumerate(obj.dims):
                for scale in dim.values():
                    uses.setdefault(scale.name, []).append((obj.name, axis))
    root.visititems(visit)
    return uses


def integer_scales(f, root):
    """2.0 -> 1.0 in place: string category scales become 0..n-1, the label datasets exist,
    the components are gone."""
    labels = {}

    def visit(name, obj):
        if is_scale(obj) and obj.dtype.kind == "O":
            labels[obj.name] = (text(obj.attrs["NAME"]), strings(obj))
    root.visititems(visit)
    for path in ("fiscal/by_component", "fiscal/by_component_se"):
        if path in root:
            del root[path]
    uses = uses_of(root)
    for path, (dim, names) in labels.items():
        old = f[path]
        users = uses.get(path, [])
        for user, axis in users:
            f[user].dims[axis].detach_scale(old)
        del f[path]
        if dim == "component":
            continue
        new = f.create_dataset(path, data=np.arange(len(names), dtype=np.int64))
        new.attrs["units"] = "1"
        new.attrs["description"] = f"{dim} index"
        new.make_scale(dim)
        for user, axis in users:
            f[user].dims[axis].attach_scale(new)
    named = {"market": "markets/name", "industry": "industries/name",
             "village_index": "households/village_labels"}
    for path, (dim, names) in labels.items():
        target = named.get(dim) or (f"groups/{dim[len('group_'):]}/labels"
                                    if dim.startswith("group_") else None)
        if target and target not in root and "/" not in path[len(root.name):].strip("/"):
            d = root.create_dataset(target, data=np.array(names, dtype=object),
                                    dtype=h5py.string_dtype("utf-8"))
            d.dims[0].attach_scale(root[dim])


def add_by_component(root):
    fiscal = root["fiscal"]
    cost = fiscal["government_cost"][()]
    years = len(cost)

    def series(path):
        return np.asarray(root[path][()], dtype=float) if path in root else np.zeros(years)
    values = {f"premium_subsidy_{p}": series(f"insurance/{p}/subsidy") for p in PRODUCTS}
    values["dibao"] = series("fiscal/dibao")
    values["health_reimbursement"] = series("fiscal/health_reimbursement")
    rest = cost - sum(values.values())
    for name, share in (("public_posts", 0.5), ("transfers", 0.3), ("setup_subsidies", 0.2)):
        values[name] = share * rest
    errors = {f"premium_subsidy_{p}": series(f"insurance/{p}/subsidy_se") for p in PRODUCTS}
    errors["dibao"] = series("fiscal/dibao_se")
    errors["health_reimbursement"] = series("fiscal/health_reimbursement_se")
    table = np.array([values[c] for c in COMPONENTS])
    table_se = np.array([errors.get(c, np.zeros(years)) for c in COMPONENTS])
    scales = []
    for where in (root, fiscal):
        scale = where.create_dataset("component", data=np.array(COMPONENTS, dtype=object),
                                     dtype=h5py.string_dtype("utf-8"))
        scale.attrs["units"] = "1"
        scale.attrs["description"] = "component of the government cost"
        scale.make_scale("component")
        scales.append(scale)
    for name, data, description in (
            ("by_component", table, "government cost by component (sums to government_cost)"),
            ("by_component_se", table_se, "Monte Carlo standard error of fiscal/by_component")):
        d = fiscal.create_dataset(name, data=data)
        d.attrs["units"] = "yuan"
        d.attrs["description"] = description
        d.dims[0].attach_scale(scales[1])
        d.dims[1].attach_scale(fiscal["year"])


def roots_of(f):
    return [f[f"points/{k}"] for k in f["points"]] if "points" in f else [] if "sweep" in f else [f]


def layout(path):
    """'string' when the category scales hold labels (schema 2.0), else 'integer'."""
    with h5py.File(path, "r") as f:
        roots = roots_of(f)
        if not roots:
            raise ValueError(f"{path} has no run tree")
        return "string" if roots[0]["market"].dtype.kind == "O" else "integer"


def to_string_scales(source, destination):
    shutil.copyfile(source, destination)
    with h5py.File(destination, "r+") as f:
        for root in roots_of(f):
            relabel_scales(f, root)
            if "fiscal/by_component" not in root:
                add_by_component(root)
            strip_legacy_labels(root)
    return destination


def to_integer_scales(source, destination):
    shutil.copyfile(source, destination)
    with h5py.File(destination, "r+") as f:
        for root in roots_of(f):
            integer_scales(f, root)
    return destination


def both_layouts(path):
    """(a copy of `path` in the 1.0 layout, a copy in the 2.0 layout without the 1.0 label
    datasets), next to it: whichever layout the file has, the other is made from it."""
    stem = path[:-len(".h5")] if path.endswith(".h5") else path
    integer, string = stem + "_integer_scales.h5", stem + "_string_scales.h5"
    if layout(path) == "string":
        to_integer_scales(path, integer)
        shutil.copyfile(path, string)
        with h5py.File(string, "r+") as f:
            for root in roots_of(f):
                strip_legacy_labels(root)
    else:
        shutil.copyfile(path, integer)
        to_string_scales(path, string)
    return integer, string
