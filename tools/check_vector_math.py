#!/usr/bin/env python3
"""Checks that the vector maths incsim calls gives the same bits on every x86-64-v3 CPU.

Approximate instructions (rcpps, rsqrtps, their AVX-512 forms) return vendor-specific bits:
a function built on one draws other numbers on an Intel and an AMD machine. This script lists
the libmvec (_ZGV*) and SLEEF functions the binary calls, finds the code each runs on an AVX2
machine (for libmvec, the target its ifunc resolver picks when AVX2 and FMA are usable: the
last address the resolver loads) and fails if that code contains an approximate instruction.
glibc's scalar libm is not checked: its FMA variants are table-driven IEEE arithmetic.

Usage: python3 tools/check_vector_math.py build/incsim
"""
import re
import subprocess
import sys

APPROXIMATE = re.compile(r"\bv?(rcp|rsqrt)(14|28)?(ps|ss|pd|sd|ph|sh)\b")


def run(*args):
    return subprocess.run(args, check=True, capture_output=True, text=True).stdout


def called_functions(binary):
    code = run("objdump", "-d", binary)
    calls = re.findall(r"call\s+[0-9a-f]+ <((?:_ZGV|Sleef_)[^@>]*)@plt>", code)
    names = set(calls)
    return sorted(names)


def library_of(binary, prefix):
    for line in run("ldd", binary).splitlines():
        if prefix in line and "=>" in line:
            return line.split("=>")[1].split()[0]
    raise SystemExit(f"check_vector_math: {binary} calls {prefix} functions; ldd names no {prefix}")


def dynamic_symbols(library):
    table = {}
    for line in run("objdump", "-T", library).splitlines():
        fields = line.split()
        m = re.match(r"([0-9a-f]{8,16}) (.{7}) (\S+)\s+([0-9a-f]{8,16})", line)
        if m and fields:
            table[fields[-1]] = (int(m.group(1), 16), "i" in m.group(2), int(m.group(4), 16))
    return table


def disassemble(library, start, stop):
    return run("objdump", "-d", f"--start-address={start:#x}", f"--stop-address={stop:#x}", library)


def code_start(library, name, address, is_ifunc, size):
    if not is_ifunc:
        return address
    # The resolver returns one of a few lea'd addresses; the last is the AVX2/FMA one (glibc's
    # ifunc-mathvec-avx2.h tests for AVX2 and FMA first, so its lea comes last in the code).
    resolver = disassemble(library, address, address + size)
    targets = re.findall(r"lea\s+0x[0-9a-f]+\(%rip\),%r[a-z0-9]+\s+# ([0-9a-f]+)", resolver)
    if not targets:
        raise SystemExit(f"check_vector_math: cannot read {name}'s ifunc resolver in {library}")
    return int(targets[-1], 16)


def main():
    binary = sys.argv[1] if len(sys.argv) > 1 else "build/incsim"
    functions = called_functions(binary)
    if not functions:
        raise SystemExit(f"check_vector_math: {binary} calls no libmvec or SLEEF function")
    failures = []
    for prefix in ("libmvec", "libsleef"):
        mine = [f for f in functions if f.startswith("_ZGV" if prefix == "libmvec" else "Sleef_")]
        if not mine:
            continue
        library = library_of(binary, prefix)
        symbols = dynamic_symbols(library)
        # Every code start in the library (symbols and resolver targets) bounds a function.
        vector = [(n, e) for n, e in symbols.items() if n.startswith(("_ZGV", "Sleef_"))]
        starts = sorted({entry[0] for entry in symbols.values()}
                        | {code_start(library, n, *e) for n, e in vector})
        for name in mine:
            if name not in symbols:
                failures.append(f"{name}: not exported by {library}")
                continue
            begin = code_start(library, name, *symbols[name])
            end = next((s for s in starts if s > begin), begin + 4096)
            code = disassemble(library, begin, end).splitlines()
            bad = [line.strip() for line in code if APPROXIMATE.search(line)]
            status = "approximate: " + "; ".join(bad[:3]) if bad else "exact arithmetic"
            print(f"{name:28s} {library} {begin:#x}-{end:#x}: {status}")
            if bad:
                failures.append(f"{name} runs {len(bad)} approximate instruction(s) ({bad[0]})")
    if failures:
        print("FAIL: results would depend on the CPU vendor:\n  " + "\n  ".join(failures))
        return 1
    print(f"OK: the {len(functions)} vector functions incsim calls use no approximate instruction")
    return 0


if __name__ == "__main__":
    sys.exit(main())
