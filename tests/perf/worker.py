"""Run one indexing pass in a fresh process and print its figures as JSON (peak RSS: this process and its children).

``python -m tests.perf.worker HOME PATH...``
"""

from __future__ import annotations

import json
import os
import resource
import sys
import threading
import time

from sessionlens.services.app import App
from sessionlens.services.settings import Settings


def _rss_kb(pid: str) -> int:
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def _children(pid: str) -> list[str]:
    out = []
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children") as f:
                out += f.read().split()
    except OSError:
        pass
    return out


class TreeRss(threading.Thread):
    """Samples the resident memory of this process plus its children (the coach worker) every 100 ms:
    the peak of the sum is what the machine had to hold at once."""

    def __init__(self):
        super().__init__(daemon=True)
        self.peak_kb = 0
        self.stop = threading.Event()

    def run(self) -> None:
        me = str(os.getpid())
        while not self.stop.wait(0.1):
            self.peak_kb = max(self.peak_kb, _rss_kb(me) + sum(_rss_kb(c) for c in _children(me)))


def main(argv: list[str]) -> int:
    home, *paths = argv
    sampler = TreeRss()
    sampler.start()
    load0 = os.getloadavg()[0]
    t0 = time.perf_counter()
    app = App(Settings(storePath=home, includeHomeLogs=False))
    stats = app.index(paths)
    seconds = time.perf_counter() - t0
    sampler.stop.set()
    counts = app.db().counts()
    app.close()
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    out = {
        "seconds": seconds,
        "index_seconds": stats.seconds,
        "stats": stats.to_dict(),
        "counts": counts,
        # this process and the coach's worker process together (sampled), and each one's own peak
        "peak_rss_mb": max(sampler.peak_kb, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss) / 1024,
        "peak_rss_main_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "peak_rss_children_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
        # CPU of this process and its worker (start-up included): what a loaded machine changes least
        "cpu_seconds": me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime,
        "load_before": round(load0, 2),
        "load_after": round(os.getloadavg()[0], 2),
    }
    sys.stdout.write(json.dumps(out) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
