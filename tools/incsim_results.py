"""Reads incsim results as xarray Datasets with labelled coordinates, and as tidy tables.

    import sys; sys.path.insert(0, "tools")   # from the checkout's top level
    import incsim_results as ir

    run = ir.open_run("xianning_2019.h5")               # one run (incsim run)
    run["groups/poor"].fgt0.sel(group_poor="poor", year=2021)
    run["prices"]["mean"].sel(market="crayfish")
    ir.tidy(run["groups/village"], "fgt0")             # variable, group_village, year, value, se

    point = ir.open_run("coverage.h5", point=3)         # point 3 of a sweep (incsim sweep)
    sweep = ir.open_sweep("coverage.h5")                # the sweep table: (point, year)
    sweep["fgt0_diff"].sel(year=2023)                   # swept parameters are coords of point

Every group of a result opens as its own xarray Dataset (engine h5netcdf), and every category
dimension (market, industry, village_index, group_<grouping>, portfolio, index_industry,
component, ...) gets its labels as the dimension's coordinate, so `sel` takes names. A dimension
scale that already holds strings is used as it is; an integer one (files written before the
writer stored labels in the scales) gets the labels of the dataset that names its entries:
/markets/name, /industries/name, /households/village_labels, /groups/<grouping>/labels,
/insurance/<product>/industries, and the portfolios' "main + aux" names built from /choice.
Positions stay available through `isel`.

Needs h5py, numpy, pandas, xarray and h5netcdf (Debian: python3-h5py python3-numpy
python3-pandas python3-xarray python3-h5netcdf; tools/setup.sh installs them).
"""
import os

import h5py
import numpy as np
import pandas as pd
import xarray as xr

__all__ = ["ResultError", "Run", "describe", "open_run", "open_sweep", "tidy"]


class ResultError(ValueError):
    """The file is not what was asked for: not an incsim result, a sweep opened as a run without
    a point, a point that is not in the sweep, a single run opened as a sweep."""


def text(value):
    """A str from an HDF5 string (bytes or str) or any scalar."""
    if isinstance(value, bytes):
        return value.decode("utf-8")
    if isinstance(value, np.ndarray) and value.ndim == 0:
        return text(value[()])
    return str(value)


def _attr_value(value):
    """An attribute as plain Python: str for strings, lists for arrays, numbers as they are."""
    if isinstance(value, bytes):
        return value.decode("utf-8")
    if isinstance(value, np.ndarray):
        if value.dtype.kind in "OS":
            return [text(v) for v in value.ravel()]
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    return value


def _strings(values):
    return [text(v) for v in np.asarray(values).ravel()]


def _is_text(values):
    return np.asarray(values).dtype.kind in "OSU"


def _is_scale(obj):
    return isinstance(obj, h5py.Dataset) and text(obj.attrs.get("CLASS", b"")) == "DIMENSION_SCALE"


def _open_h5(path):
    if not os.path.exists(path):
        raise ResultError(f"no such file: {path}")
    if not os.path.isfile(path):
        raise ResultError(f"{path} is not a regular file")
    try:
        f = h5py.File(path, "r")
    except OSError as e:
        raise ResultError(f"cannot open {path} as HDF5: {e}") from None
    if "incsim_version" not in f.attrs:
        f.close()
        raise ResultError(f"{path} is not an incsim result (no incsim_version attribute)")
    return f


def _is_sweep(f):
    return "sweep" in f and isinstance(f["sweep"], h5py.Group) and "point" in f["sweep"]


def describe(path):
    """'run' or 'sweep' (with the number of points and whether /points is kept)."""
    with _open_h5(path) as f:
        if not _is_sweep(f):
            return {"kind": "run"}
        return {"kind": "sweep", "points": int(f["sweep/point"].shape[0]),
                "keeps_points": "points" in f}


class Run:
    """One run's result: a file of `incsim run`, or /points/<k> of a sweep file.

    run[group] is an xarray Dataset of the group's datasets (e.g. "poverty", "groups/poor",
    "insurance/income_index", "/" for the root's coordinates) with category labels as
    coordinates; run.attrs the run's root attributes (scenario_name, seed, replications, ...);
    `path in run` tells whether a dataset or group exists; run.labels(dim) the labels of a
    category dimension; run.tidy(group, names) a long table. Close it (or use `with`).
    """

    def __init__(self, path, f, point=None):
        self.path = path
        self.point = point
        self._file = f
        self._root = f if point is None else f[f"points/{point}"]
        self._prefix = "" if point is None else f"points/{point}/"
        self.attrs = {k: _attr_value(v) for k, v in self._root.attrs.items()}
        self._datasets = {}
        self._labels = {}
        self._scales = None
        self.sweep_attrs = ({k: _attr_value(v) for k, v in f.attrs.items()}
                            if point is not None else None)

    # -- plain HDF5 -----------------------------------------------------------------------
    @property
    def h5(self):
        """The h5py group of the run (the file, or /points/<k>)."""
        return self._root

    def __contains__(self, path):
        return path.strip("/") in self._root

    @property
    def groups(self):
        """Paths of the groups holding datasets other than coordinates (sorted)."""
        found = set()

        def visit(name, obj):
            if isinstance(obj, h5py.Dataset) and not _is_scale(obj) and "/" in name:
                found.add(name.rsplit("/", 1)[0])
        self._root.visititems(visit)
        return sorted(found)

    @property
    def years(self):
        return np.asarray(self._root["year"][()], dtype=int)

    @property
    def scenario_name(self):
        return text(self.attrs.get("scenario_name", os.path.basename(self.path)))

    @property
    def point_description(self):
        """For a sweep point: what the point sets ('+ poverty guard' in stack mode, else its
        overrides); None for a run."""
        if self.point is None:
            return None
        sweep = self._file["sweep"]
        if "overlay" in sweep:
            overlay = text(sweep["overlay"][self.point])
            return "base" if self.point == 0 else f"+ {overlay}"
        if "overrides" in sweep:
            return text(sweep["overrides"][self.point]).replace("; ", ", ")
        return None

    # -- labels ---------------------------------------------------------------------------
    def _scale_paths(self):
        """dimension name -> path (relative to the run) of a scale of that name."""
        if self._scales is None:
            scales = {}

            def visit(name, obj):
                if _is_scale(obj):
                    dim = text(obj.attrs.get("NAME", name.rsplit("/", 1)[-1]))
                    # the root's own scale first, else the first copy found
                    if dim not in scales or "/" not in name:
                        scales[dim] = name
            self._root.visititems(visit)
            self._scales = scales
        return self._scales

    def _legacy_labels(self, dim, size):
        """Labels of an integer-indexed category dimension from the datasets naming its entries
        (None if the dimension is not a category one or nothing names its entries)."""
        root = self._root
        candidates = []
        if dim == "market":
            candidates = ["markets/name"]
        elif dim == "industry":
            candidates = ["industries/name"]
        elif dim == "village_index":
            candidates = ["households/village_labels"]
        elif dim.startswith("group_"):
            candidates = [f"groups/{dim[len('group_'):]}/labels"]
        elif dim == "index_industry":
            candidates = [f"insurance/{p}/industries" for p in
                          ("income_index", "agricultural", "poverty_guard")]
        elif dim == "portfolio":
            candidates = ["choice/labels"]
        for path in candidates:
            if path in root and root[path].shape == (size,) and _is_text(root[path][()]):
                return _strings(root[path][()])
        if (dim == "portfolio" and "choice/portfolio_main" in root
                and "choice/portfolio_aux" in root):
            main = np.asarray(root["choice/portfolio_main"][()], dtype=int)
            aux = np.asarray(root["choice/portfolio_aux"][()], dtype=int)
            names = self.labels("industry")
            if len(main) == size and names is not None:
                # the rule of the sweep table's portfolio labels (engine/sweep/point_file.cpp)
                return ["none" if m < 0 else names[m] + (f" + {names[a]}" if a >= 0 else "")
                        for m, a in zip(main, aux)]
        return None

    def labels(self, dim):
        """The labels of category dimension `dim` as a list of str, or None for a numeric
        dimension (year, quantile, household, ...)."""
        if dim not in self._labels:
            path = self._scale_paths().get(dim)
            values = self._root[path][()] if path is not None else None
            if values is not None and _is_text(values):
                self._labels[dim] = _strings(values)
            else:
                size = len(values) if values is not None else None
                self._labels[dim] = (self._legacy_labels(dim, size) if size is not None else None)
        return self._labels[dim]

    def _labelled(self, ds):
        """`ds` with every category dimension's coordinate replaced by its labels."""
        for dim in list(ds.dims):
            if dim not in ds.coords:
                continue
            values = ds[dim].values
            if _is_text(values):
                labels = _strings(values)
                source = "the dimension scale"
            else:
                labels = self.labels(dim)
                if labels is None or len(labels) != ds.sizes[dim]:
                    continue
                source = "legacy label dataset"
            attrs = dict(ds[dim].attrs)
            attrs["labels_from"] = source
            ds = ds.assign_coords({dim: (dim, np.asarray(labels, dtype=object), attrs)})
        return ds

    def __getitem__(self, group):
        group = group.strip("/")
        if group not in self._datasets:
            if group and (group not in self._root or not isinstance(self._root[group], h5py.Group)):
                raise KeyError(f"no group {group!r} in {self.path}"
                               + (f" point {self.point}" if self.point is not None else ""))
            where = (self._prefix + group).strip("/") or None
            ds = xr.open_dataset(self.path, group=where, engine="h5netcdf")
            self._datasets[group] = self._labelled(ds)
        return self._datasets[group]

    def tidy(self, group, variables=None):
        """tidy(run[group], variables): a long pandas table."""
        return tidy(self[group], variables)

    # -- lifetime -------------------------------------------------------------------------
    def close(self):
        for ds in self._datasets.values():
            ds.close()
        self._datasets.clear()
        self._file.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __repr__(self):
        where = f" point {self.point}" if self.point is not None else ""
        return f"<incsim Run {self.path}{where}: {self.scenario_name}, groups {self.groups}>"


def open_run(path, point=None):
    """Opens a run result, or point `point` (0-based) of a sweep result, as a Run.

    Raises ResultError for a file that is not an incsim result, a sweep without `point` (the
    message says how many points it has), a point out of range or not kept (keep: table), and a
    `point` given for a single run."""
    f = _open_h5(path)
    try:
        if _is_sweep(f):
            points = int(f["sweep/point"].shape[0])
            if point is None:
                raise ResultError(f"{path} is a sweep result with {points} points: choose one "
                                  f"(point 0..{points - 1})")
            if "points" not in f:
                raise ResultError(f"{path} keeps only the sweep table (keep: table or "
                                  "--table-only): it has no per-point results")
            point = int(point)
            if not 0 <= point < points or str(point) not in f["points"]:
                raise ResultError(f"{path} has no point {point} (points 0..{points - 1})")
        elif point is not None:
            raise ResultError(f"{path} is a single run, not a sweep: it has no points")
        return Run(path, f, point)
    except BaseException:
        f.close()
        raise


def _sweep_attrs(f):
    attrs = {k: _attr_value(v) for k, v in f.attrs.items()}
    for k, v in f["sweep"].attrs.items():
        attrs[k] = _attr_value(v)
    attrs.setdefault("parameters", [])
    if isinstance(attrs["parameters"], str):
        attrs["parameters"] = [attrs["parameters"]]
    return attrs


def _plain_attrs(dataset):
    keep = {}
    for k in ("units", "description"):
        if k in dataset.attrs:
            keep[k] = text(dataset.attrs[k])
    return keep


def _dims_of(obj):
    """The dimension names of a dataset from its attached scales (else its dimension labels);
    None where neither names one."""
    names = []
    for dim in obj.dims:
        keys = [k for k in dim.keys() if k]
        names.append(keys[0] if keys else (dim.label or None))
    return tuple(names)


def open_sweep(path):
    """The table of a sweep result as one xarray Dataset.

    Dimensions point (K), year (T) and portfolio (P, labelled). Data variables: every headline
    measure of /sweep with its _se, _diff, _diff_se (and _increment, _increment_se in stack
    mode), and portfolio_share (point, portfolio). Coordinates of point: each swept parameter
    (named by its dotted path, as in the sweep file), overlay (stack mode), overrides and
    replications. attrs: the file's root attributes with /sweep's (parameters, grid_shape,
    mode, ...). Raises ResultError for a file that is not a sweep result."""
    with _open_h5(path) as f:
        if not _is_sweep(f):
            raise ResultError(f"{path} is not an incsim sweep result (no /sweep table)")
        sweep = f["sweep"]
        points = np.asarray(sweep["point"][()], dtype=int)
        years = np.asarray(sweep["year"][()], dtype=int)
        sizes = {"point": len(points), "year": len(years)}
        attrs = _sweep_attrs(f)
        coords = {"point": ("point", points, _plain_attrs(sweep["point"])),
                  "year": ("year", years, _plain_attrs(sweep["year"]))}
        portfolios = None
        for name in ("portfolio", "portfolio_labels"):  # the scale (schema 2.0), else the list
            if name in sweep and _is_text(sweep[name][()]):
                portfolios = _strings(sweep[name][()])
                coords["portfolio"] = ("portfolio", np.asarray(portfolios, dtype=object),
                                       _plain_attrs(sweep[name]))
                sizes["portfolio"] = len(portfolios)
                break
        data = {}
        for name, obj in sweep.items():
            if (not isinstance(obj, h5py.Dataset) or _is_scale(obj)
                    or name in ("point", "year", "portfolio", "portfolio_labels")):
                continue
            values = obj[()]
            if _is_text(values):
                values = np.asarray(_strings(values), dtype=object).reshape(obj.shape)
            dims = _dims_of(obj)
            if None in dims or any(sizes.get(d) != n for d, n in zip(dims, obj.shape)):
                # no scales attached: the table's documented shapes
                by_shape = {(len(points),): ("point",),
                            (len(points), len(years)): ("point", "year")}
                if portfolios is not None:
                    by_shape.setdefault((len(points), len(portfolios)), ("point", "portfolio"))
                dims = by_shape.get(obj.shape)
                if dims is None:
                    raise ResultError(f"{path}: /sweep/{name} has shape {obj.shape}, neither "
                                      "(points,) nor (points, years) nor (points, portfolios)")
            if dims == ("point",):
                coords[name] = ("point", values, _plain_attrs(obj))
            else:
                data[name] = (dims, values, _plain_attrs(obj))
    return xr.Dataset(data, coords=coords, attrs=attrs)


def tidy(data, variables=None):
    """A long pandas table of `data` (an xarray Dataset from Run[group] or open_sweep, or one
    DataArray): one row per variable and element, with columns variable, one per dimension
    (labels for category dimensions), the other coordinates along those dimensions (e.g. the
    swept parameters), value, and se (the matching <variable>_se, NaN where there is none).

    variables: a name or a list of names (default: every numeric data variable that is not
    itself an _se)."""
    if isinstance(data, xr.DataArray):
        name = data.name if data.name is not None else "value"
        ds = data.to_dataset(name=name)
        variables = [name]
    else:
        ds = data
    if variables is None:
        variables = [v for v in ds.data_vars
                     if not str(v).endswith("_se") and ds[v].dtype.kind in "fiub"]
    elif isinstance(variables, str):
        variables = [variables]
    frames = []
    for name in variables:
        if name not in ds:
            raise KeyError(f"no variable {name!r} (have: {', '.join(map(str, ds.data_vars))})")
        da = ds[name]
        se = ds[name + "_se"] if name + "_se" in ds.data_vars else None
        if se is not None and set(se.dims) != set(da.dims):
            se = None
        if da.ndim == 0:
            frame = pd.DataFrame({"value": [da.values.item()]})
            frame["se"] = se.values.item() if se is not None else np.nan
        else:
            keep = [c for c in da.coords if c not in da.dims and set(da[c].dims) <= set(da.dims)
                    and da[c].ndim > 0]
            frame = da.reset_coords([c for c in da.coords if c not in da.dims and c not in keep],
                                    drop=True).to_dataframe(name="value")
            if se is not None:
                frame["se"] = (se.transpose(*da.dims).reset_coords(drop=True)
                               .to_dataframe(name="se")["se"])
            else:
                frame["se"] = np.nan
            frame = frame.reset_index()
            frame = frame[list(da.dims) + keep + ["value", "se"]]
        frame.insert(0, "variable", name)
        frames.append(frame)
    if not frames:
        return pd.DataFrame(columns=["variable", "value", "se"])
    return pd.concat(frames, ignore_index=True, sort=False)
