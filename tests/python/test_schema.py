"""`incsim schema`, the JSON Schema (draft-07) generated from the loader's key table, on scenario
files as PyYAML reads them: every bundled scenario (not the sweeps), the regression scenarios
and the key table test's maximal ones validate; each kind of mistake (a misspelt key, a value
out of range, a wrong type, a missing required key, ...) is rejected at its path; and the loader
(`incsim validate`) agrees on every variant, so the schema is neither looser nor stricter there.
Usage: test_schema.py INCSIM SOURCE_DIR TMP_DIR
"""
import copy
import json
import pathlib
import subprocess
import sys

from checks import Checks

try:
    import jsonschema
except ImportError:
    print("FAIL: python3-jsonschema is not installed (tools/setup.sh installs it)")
    sys.exit(1)
import yaml


def scenario_files(source):
    bundled = sorted(p for p in (source / "scenarios").glob("*.yaml")
                     if not p.name.startswith("sweep_")
                     and not p.name.endswith("_calibration.yaml"))
    regression = sorted((source / "tests/regression/scenarios").glob("*.yaml"))
    maximal = [source / "tests/unit/data/all_keys.yaml",
               source / "tests/unit/data/all_keys_alternatives.yaml"]
    return bundled + regression + maximal


def load(path):
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    # A csv population is read relative to the scenario file; the variants are written elsewhere.
    population = doc.get("population") or {}
    if "csv" in population:
        population["csv"] = str((path.parent / population["csv"]).resolve())
    return doc


def loader_status(incsim, doc, tmp, name):
    path = tmp / f"schema_{name}.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    run = subprocess.run([incsim, "validate", str(path)], capture_output=True, text=True)
    return run.returncode, run.stderr


def errors_at(validator, doc, path):
    """The schema's errors whose instance path is `path`, and all errors (for messages)."""
    everything = list(validator.iter_errors(doc))
    found = [e for e in everything if list(e.absolute_path) == list(path)]
    return found, everything


def first_name(mapping):
    return next(iter(mapping))


def main():
    incsim, source, tmp = sys.argv[1], pathlib.Path(sys.argv[2]), pathlib.Path(sys.argv[3])
    tmp.mkdir(parents=True, exist_ok=True)
    checks = Checks()

    run = subprocess.run([incsim, "schema"], capture_output=True, text=True)
    checks.check(run.returncode == 0, f"incsim schema exits 0 ({run.stderr})")
    schema = json.loads(run.stdout)
    checks.check(schema.get("$schema") == "http://json-schema.org/draft-07/schema#",
                 "the schema declares draft-07")
    jsonschema.Draft7Validator.check_schema(schema)  # raises on a malformed schema
    validator = jsonschema.Draft7Validator(schema)

    files = scenario_files(source)
    checks.check(len(files) >= 8, f"found the scenarios ({len(files)})")
    docs = {}
    for path in files:
        docs[path.name] = load(path)
        problems = [f"{'.'.join(map(str, e.absolute_path))}: {e.message}"
                    for e in validator.iter_errors(docs[path.name])]
        checks.check(not problems, f"{path.name} validates: {problems[:5]}")

    xianning = docs["xianning_2019.yaml"]
    tongshan = docs["tongshan_double_insurance.yaml"]
    csv = docs["csv_expected_utility.yaml"]
    market = first_name(xianning["markets"])
    industry = first_name(xianning["industries"])
    hazard = first_name(tongshan["hazards"])

    def variant(doc, change):
        changed = copy.deepcopy(doc)
        change(changed)
        return changed

    def rename(mapping, old, new):
        mapping[new] = mapping.pop(old)

    # (name, document, where the schema must object, the validator keywords that may object)
    rejected = [
        ("misspelt_key",
         variant(xianning, lambda d: rename(d["markets"][market], "price", "prise")),
         ["markets", market], {"additionalProperties"}),
        ("misspelt_section",
         variant(xianning, lambda d: rename(d, "poverty", "povery")),
         [], {"additionalProperties"}),
        ("above_maximum",
         variant(xianning, lambda d: d["markets"][market].update(volatility=6)),
         ["markets", market, "volatility"], {"maximum"}),
        ("at_exclusive_minimum",
         variant(xianning, lambda d: d["poverty"].update(line=0)),
         ["poverty", "line"], {"exclusiveMinimum"}),
        ("list_item_out_of_range",
         variant(xianning, lambda d: d.setdefault("output", {}).update(quantiles=[0.5, 1.0])),
         ["output", "quantiles", 1], {"exclusiveMaximum"}),
        ("integer_expected",
         variant(xianning, lambda d: d["scenario"].update(years=2.5)),
         ["scenario", "years"], {"type"}),
        ("wrong_type",
         variant(xianning, lambda d: d["markets"][market].update(price="cheap")),
         ["markets", market, "price"], {"type"}),
        ("missing_required_key",
         variant(xianning, lambda d: d["scenario"].pop("years")),
         ["scenario"], {"required"}),
        ("missing_section",
         variant(xianning, lambda d: d.pop("poverty")),
         [], {"required"}),
        ("missing_products",
         variant(xianning, lambda d: d["industries"][industry].pop("products")),
         ["industries", industry], {"required"}),
        ("enum_typo",
         variant(tongshan, lambda d: d["hazards"][hazard].update(scope="countyy")),
         ["hazards", hazard, "scope"], {"enum"}),
        ("word_or_number",
         variant(tongshan, lambda d: d["insurance"]["income_index"].update(premium_rate="fiar")),
         ["insurance", "income_index", "premium_rate"], {"anyOf"}),
        ("both_alternatives",
         variant(xianning, lambda d: d["choice"]["utility"].update(cara=0.001)),
         ["choice", "utility"], {"oneOf"}),
        ("csv_with_generated_key",
         variant(csv, lambda d: d["population"].update(households=10)),
         ["population", "households"], {None, "false"}),
        ("correlation_out_of_range",
         variant(csv, lambda d: d["correlation"][0].__setitem__(2, 1.5)),
         ["correlation", 0, 2], {"maximum"}),
    ]
    for name, doc, path, keywords in rejected:
        found, everything = errors_at(validator, doc, path)
        summary = [(list(e.absolute_path), e.validator, e.message[:80]) for e in everything][:6]
        checks.check(any(e.validator in keywords for e in found),
                     f"{name}: the schema objects at {path} ({keywords}); it says {summary}")
        status, stderr = loader_status(incsim, doc, tmp, name)
        checks.check(status == 2, f"{name}: incsim validate refuses it too (status {status})")

    # What the loader accepts although it looks incomplete, the schema accepts too.
    def products_from_defaults(d):
        d["industries_defaults"] = {"products": d["industries"][industry].pop("products")}

    accepted = [
        ("empty_health", variant(xianning, lambda d: d.update(health={}))),
        ("null_hazards", variant(tongshan, lambda d: d.update(hazards=None))),
        ("products_from_defaults", variant(xianning, products_from_defaults)),
        ("aux_none", variant(docs["all_keys.yaml"],
                             lambda d: d["choice"]["portfolios"][0].update(aux=None))),
    ]
    for name, doc in accepted:
        problems = [f"{list(e.absolute_path)}: {e.message[:80]}" for e in validator.iter_errors(doc)]
        checks.check(not problems, f"{name}: the schema accepts it: {problems[:3]}")
        status, stderr = loader_status(incsim, doc, tmp, name)
        checks.check(status == 0, f"{name}: incsim validate accepts it too ({stderr.strip()[:300]})")

    return checks.finish()


if __name__ == "__main__":
    sys.exit(main())
