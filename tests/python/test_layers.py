"""The architecture's one-way data flow, checked on the sources' #include lines.

Each public header belongs to a stage; each directory of engine/ is a stage. A file may include
headers of its own stage and of the stages it builds on (ALLOWED), never of a later one, so
for instance the kernel cannot reach for HDF5, or the model for the choice stage.
Usage: test_layers.py SOURCE_DIR
"""
import pathlib
import re
import sys

HEADER_STAGE = {
    "rng.h": "rng", "draws.h": "rng",
    "scenario.h": "scenario", "load.h": "scenario", "sweep.h": "scenario", "keys.h": "scenario",
    "calibration.h": "scenario", "calibrate.h": "engine",
    "model.h": "model", "shocks.h": "model",
    "simulate.h": "simulate", "pilot.h": "simulate",
    "choice.h": "choice",
    "stats.h": "stats",
    "hdf5.h": "output", "output.h": "output", "version.h": "output",
    "engine.h": "engine", "part.h": "engine",
}
# Stage -> the stages it may include (besides itself), mirroring CMakeLists.txt.
ALLOWED = {
    "rng": set(),
    "scenario": {"rng"},
    "model": {"scenario", "rng"},
    "simulate": {"model", "scenario", "rng"},
    "choice": {"simulate", "model", "scenario", "rng"},
    "stats": {"simulate", "model", "scenario", "rng"},
    "output": {"stats", "simulate", "model", "scenario", "rng"},
    "engine": {"output", "stats", "choice", "simulate", "model", "scenario", "rng"},
    "cli": {"engine", "output", "stats", "choice", "simulate", "model", "scenario", "rng"},
}
DIR_STAGE = {"rng": "rng", "scenario": "scenario", "model": "model", "simulate": "simulate",
             "choice": "choice", "stats": "stats", "output": "output", "sweep": "engine",
             "calibrate": "engine",
             "cli": "cli"}


def stage_of(path: pathlib.Path, root: pathlib.Path):
    rel = path.relative_to(root)
    if rel.parts[0] == "include":
        return HEADER_STAGE.get(rel.name)
    if rel.parts[0] == "engine":
        if len(rel.parts) == 2:  # engine/run.cpp
            return "engine"
        return DIR_STAGE.get(rel.parts[1])
    return None


def main():
    root = pathlib.Path(sys.argv[1]).resolve()
    files = sorted(list((root / "include").rglob("*.h")) + list((root / "engine").rglob("*.cpp")) +
                   list((root / "engine").rglob("*.h")))
    errors, checked = [], 0
    for f in files:
        stage = stage_of(f, root)
        if stage is None:
            if f.name != "version.h.in":
                errors.append(f"{f.relative_to(root)}: belongs to no stage (add it to test_layers.py)")
            continue
        for line_no, line in enumerate(f.read_text(encoding="utf-8").splitlines(), 1):
            m = re.match(r'\s*#include "([^"]+)"', line)
            if not m:
                continue
            inc = m.group(1)
            if "/" not in inc:  # a header beside the file: its own stage
                target = stage
            elif inc.startswith("incsim/"):
                target = HEADER_STAGE.get(inc.split("/", 1)[1])
            else:  # a private header: engine/<dir>/...
                target = DIR_STAGE.get(inc.split("/", 1)[0])
            checked += 1
            if target is None:
                errors.append(f"{f.relative_to(root)}:{line_no}: unknown header {inc}")
            elif target != stage and target not in ALLOWED[stage]:
                errors.append(f"{f.relative_to(root)}:{line_no}: stage {stage} includes {inc} "
                              f"of the later stage {target}")
    for e in errors:
        print(e)
    print(f"{checked} includes checked in {len(files)} files")
    if checked < 100:
        errors.append("too few includes found: wrong source directory?")
    sys.exit(1 if errors else 0)


if __name__ == "__main__":
    main()
