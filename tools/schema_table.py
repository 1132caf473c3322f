#!/usr/bin/env python3
"""Prints the datasets of an incsim result as a Markdown table (name, dimensions, units,
description), read from the file's own attributes and dimension scales. Used to keep the
README's Output section complete (tests/python/test_readme_schema.py checks it).

Usage: schema_table.py RESULT.h5
"""
import argparse
import re

import h5py


def text(value):
    return value.decode() if isinstance(value, bytes) else str(value)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("result", help="an incsim result file")
    args = parser.parse_args()
    rows = []
    with h5py.File(args.result, "r") as f:
        def visit(name, obj):
            if not isinstance(obj, h5py.Dataset):
                return
            if obj.attrs.get("CLASS") == b"DIMENSION_SCALE" and "/" in name:
                return  # group-local copies of a coordinate
            if obj.attrs.get("CLASS") == b"DIMENSION_SCALE":
                dims = name  # a coordinate: its own dimension
            else:
                dims = ", ".join(d.label for d in obj.dims) if obj.ndim else "scalar"
            dims = re.sub(r"group_(main_industry|village|poor|insured)", "group_<grouping>", dims)
            generic = re.sub(r"^groups/[^/]+/", "groups/<grouping>/", name)
            generic = re.sub(r"^insurance/[^/]+/", "insurance/<product>/", generic)
            description = text(obj.attrs.get("description", ""))
            description = re.sub(r"groups/(main_industry|village|poor|insured)/", "groups/<grouping>/",
                                 description)
            description = re.sub(r"insurance/(agricultural|income_index|poverty_guard)/",
                                 "insurance/<product>/", description)
            if generic.startswith("group_"):
                generic = "group_<grouping>"
                description = "group index of /groups/<grouping>/labels"
            rows.append((generic, dims, text(obj.attrs.get("units", "")), description))
        f.visititems(visit)
    seen = set()
    print("| dataset | dimensions | units | meaning |")
    print("|---|---|---|---|")
    for name, dims, units, description in rows:
        if name in seen:
            continue
        seen.add(name)
        print(f"| `/{name}` | {dims} | {units} | {description} |")


if __name__ == "__main__":
    main()
