#!/usr/bin/env python3
"""Runs scenarios/TUTORIAL.md: every command of its ```sh blocks, in order, in a scratch
directory laid out as the top of a checkout (copies of scenarios/ and tools/, and build/incsim
linking to the binary under test), failing on the first command that exits non-zero.

The one command not run is `bash tools/setup.sh`: it installs packages and builds the suite,
which is already built when this test runs (it is the build under test). Nothing is appended
to the tutorial's commands: it is written small enough (its text says where it uses fewer
replications than the scenarios ask for) to run in a minute or two on 2 cores.

Also checked: the tutorial covers what it promises (setup, validate, run, inspect, a plot,
compare, sweep, export, report and the example csv scenario); every file or directory a
command names with -o or --csv exists after it; the claims the tutorial makes of compare's
output hold (the same-seed comparison is paired, the other-seed one unpaired because the
seeds differ); and no command writes into the scenarios/ or tools/ copies.

Usage: test_tutorial.py INCSIM_BINARY SOURCE_DIR TMPDIR
"""
import os
import re
import shlex
import shutil
import subprocess
import sys
import time

sys.dont_write_bytecode = True

from checks import Checks

SKIPPED = "bash tools/setup.sh"
COVERS = ("bash tools/setup.sh", "build/incsim validate", "build/incsim run",
          "build/incsim inspect", "tools/plot_headcount.py", "build/incsim compare", "build/incsim sweep",
          "build/incsim export", "tools/report.py", "scenarios/example_households.yaml")


def sh_commands(markdown):
    """The commands of the ```sh blocks, continuation lines joined, comments left out."""
    commands, block = [], None
    for line in markdown.splitlines():
        fence = line.strip()
        if block is None:
            if re.fullmatch(r"```sh\s*", fence):
                block = []
            continue
        if fence.startswith("```"):
            joined = []
            for text in block:
                if joined and joined[-1].endswith("\\"):
                    joined[-1] = joined[-1][:-1].rstrip() + " " + text.strip()
                else:
                    joined.append(text)
            commands += [c.strip() for c in joined if c.strip() and not c.strip().startswith("#")]
            block = None
            continue
        block.append(line)
    return commands


def outputs(command):
    """Paths a command says it writes: the argument after -o or --csv."""
    try:
        words = shlex.split(command)
    except ValueError:
        return []
    return [words[i + 1] for i, w in enumerate(words[:-1]) if w in ("-o", "--csv")]


def listing(path):
    found = set()
    for root, dirs, files in os.walk(path):
        dirs[:] = [d for d in dirs if d != "__pycache__"]
        for name in files:
            full = os.path.join(root, name)
            found.add((os.path.relpath(full, path), os.path.getsize(full)))
    return found


def main():
    binary, source, tmp = (os.path.abspath(a) for a in sys.argv[1:4])
    checks = Checks()
    with open(os.path.join(source, "scenarios", "TUTORIAL.md"), encoding="utf-8") as f:
        commands = sh_commands(f.read())
    checks.check(len(commands) >= 20, f"only {len(commands)} commands in the tutorial")
    for wanted in COVERS:
        checks.check(any(wanted in c for c in commands),
                     f"no command of the tutorial uses {wanted!r}")

    work = os.path.join(tmp, "python_tutorial")
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(os.path.join(work, "build"))
    ignore = shutil.ignore_patterns("__pycache__")
    for name in ("scenarios", "tools"):
        shutil.copytree(os.path.join(source, name), os.path.join(work, name), ignore=ignore)
    os.symlink(binary, os.path.join(work, "build", "incsim"))
    before = {name: listing(os.path.join(work, name)) for name in ("scenarios", "tools")}

    env = dict(os.environ)
    for name in ("DISPLAY", "WAYLAND_DISPLAY", "MPLBACKEND"):
        env.pop(name, None)
    env["MPLCONFIGDIR"] = os.path.join(work, ".mplconfig")
    env["PYTHONDONTWRITEBYTECODE"] = "1"

    started = time.monotonic()
    printed = {}
    for k, command in enumerate(commands):
        if command.startswith(SKIPPED):
            print(f"[{k + 1}/{len(commands)}] skipped: {command} (the suite under test is "
                  "already built)")
            continue
        t0 = time.monotonic()
        r = subprocess.run(["bash", "-o", "pipefail", "-c", command], cwd=work, env=env,
                           capture_output=True, text=True, timeout=900)
        print(f"[{k + 1}/{len(commands)}] {time.monotonic() - t0:5.1f} s  exit {r.returncode}  "
              f"{command}")
        printed[command] = r.stdout
        ok = r.returncode == 0
        checks.check(ok, f"{command!r} exited {r.returncode}\n--- stdout (end):\n"
                         f"{r.stdout[-3000:]}\n--- stderr (end):\n{r.stderr[-3000:]}")
        if not ok:
            break
        for path in outputs(command):
            checks.check(os.path.exists(os.path.join(work, path)),
                         f"{command!r} did not write {path}")
    print(f"tutorial: {time.monotonic() - started:.1f} s for {len(commands)} commands")

    compares = [(c, out) for c, out in printed.items() if c.startswith("build/incsim compare")]
    checks.check(len(compares) == 2, f"{len(compares)} compare commands ran, the text has two")
    if len(compares) == 2:
        (_, same_seed), (_, other_seed) = compares
        checks.check("unpaired" not in same_seed and "paired" in same_seed,
                     f"the same-seed comparison is not paired:\n{same_seed[:1500]}")
        checks.check("unpaired" in other_seed and "seeds differ" in other_seed,
                     f"the other-seed comparison is not unpaired for the seeds:\n"
                     f"{other_seed[:1500]}")
    for name, files in before.items():
        after = listing(os.path.join(work, name))
        checks.check(after == files, f"the tutorial wrote into {name}/: "
                                     f"{sorted(after ^ files)[:5]}")
    return checks.finish()


if __name__ == "__main__":
    sys.exit(main())
