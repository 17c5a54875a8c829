"""CPU cost of the parse stage alone: every log of a folder through its agent's parser, nothing else.

Prints CPU seconds per MB (the best of ``--rounds``; files are read before the clock starts).
``--mb`` takes the first files (sorted by path) that fit, for quick comparisons.  On a shared
machine CPU seconds still vary with the load; instruction counts do not: run it under valgrind,
once with ``--no-parse`` (start-up and reading only) and subtract::

    valgrind --tool=cachegrind --cache-sim=no --cachegrind-out-file=/dev/null \\
        .venv/bin/python -m tests.perf.parse_cost FOLDER --mb 5 --rounds 1 [--no-parse]

Not part of the default test run.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

from sessionlens.agents import registry


def load(folder: str, mb: float | None) -> list[tuple[str, bytes]]:
    paths = sorted(os.path.join(dp, f) for dp, _dn, fn in os.walk(folder) for f in fn if f.endswith(".jsonl"))
    out: list[tuple[str, bytes]] = []
    total = 0
    for p in paths:
        size = os.path.getsize(p)
        if mb is not None and total + size > mb * 1e6:
            continue
        with open(p, "rb") as fh:
            out.append((p, fh.read()))
        total += size
    return out


def parse_all(files: list[tuple[str, bytes]]) -> int:
    events = 0
    for path, data in files:
        adapter = registry.detect(path, data)
        if adapter is None or adapter.parse is None:
            continue
        events += len(adapter.parse(data, path, registry.initial_state(adapter, path)).events)
    return events


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("folder")
    ap.add_argument("--mb", type=float, help="only the first files (by path) that fit in this many MB")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--no-parse", action="store_true", help="read the files and stop (the baseline of an instruction count)")
    a = ap.parse_args(argv)
    files = load(a.folder, a.mb)
    mb = sum(len(d) for _, d in files) / 1e6
    for p, d in files[:1]:
        registry.detect(p, d)  # the registry's imports, outside the clock
    if a.no_parse:
        return 0
    best = float("inf")
    events = 0
    for _ in range(a.rounds):
        t0 = time.process_time()
        events = parse_all(files)
        best = min(best, time.process_time() - t0)
    print(
        f"{a.folder}: {mb:.1f} MB, {len(files)} files, {events:,} events: {best:.3f} CPU s, "
        f"{best / mb * 1000:.1f} ms per MB ({mb / best:.1f} MB per CPU-second), load {os.getloadavg()[0]:.2f}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
