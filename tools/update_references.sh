#!/usr/bin/env bash
# Regenerates the stored regression references, tests/regression/reference/<case>.txt, from
# the code as it is now: builds incsim and test_references (Release, in build/), runs
# test_references with INCSIM_UPDATE_REFERENCES=1 (each case runs incsim and writes its
# reference instead of comparing), and prints `git diff --stat` of the references.
#
# Use it only when a change of results is intended (a new feature, a fixed bug, a changed
# model), never to make a failing regression test pass by itself: first read the failure
# (which datasets and values moved, and by how much) and make sure the change is the one you
# meant. A change of references must be explained in the commit message that makes it: which
# cases and datasets change, and why.
#
# Usage: bash tools/update_references.sh [extra gtest arguments, e.g. --gtest_filter='*bench*']
set -euo pipefail
cd "$(dirname "$0")/.."
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j2 --target incsim test_references
INCSIM_UPDATE_REFERENCES=1 build/tests/test_references "$@"
git diff --stat -- tests/regression/reference
# New (untracked) reference files do not show in git diff: list them too.
git status --short --untracked-files=all -- tests/regression/reference | grep '^??' || true
