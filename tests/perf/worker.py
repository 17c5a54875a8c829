"""Run one indexing pass in a fresh process and print its figures as JSON (peak RSS is per process).

``python -m tests.perf.worker HOME PATH...``
"""

from __future__ import annotations

import json
import resource
import sys
import time

from sessionlens.services.app import App
from sessionlens.services.settings import Settings


def main(argv: list[str]) -> int:
    home, *paths = argv
    t0 = time.perf_counter()
    app = App(Settings(storePath=home, includeHomeLogs=False))
    stats = app.index(paths)
    seconds = time.perf_counter() - t0
    counts = app.db().counts()
    app.close()
    out = {
        "seconds": seconds,
        "index_seconds": stats.seconds,
        "stats": stats.to_dict(),
        "counts": counts,
        # the coach's worker process counts too: the sum of both peaks bounds the total from above
        "peak_rss_mb": (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
                        + resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss) / 1024,
        "peak_rss_main_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "peak_rss_children_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
    }
    sys.stdout.write(json.dumps(out) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
