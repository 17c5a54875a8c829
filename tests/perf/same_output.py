"""Prove that a speed-up kept the index's output: a canonical digest of a store (every table's rows)
and of its search index (every document), and the comparison of two of them.

    python -m tests.perf.same_output dump HOME OUT.json      # digest of one store + index
    python -m tests.perf.same_output diff A.json B.json      # exit 1 when they differ (says where)
    python -m tests.perf.same_output index HOME PATH...      # index PATH... cold into HOME, then dump HOME

Build the baseline with the old code (e.g. ``git archive <rev> | tar -x -C /tmp/old`` and
``PYTHONPATH=/tmp/old/server python -m tests.perf.same_output index ...``), the candidate with the
new one, and diff the two digests.  Rows are compared as sets per table (row ids that only number
insertions - events, findings, problems, edits, the search queue - are left out; file ids are kept: every
table refers to them); columns holding the time of indexing are left out.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

#: (table, column) pairs that say when something was indexed, or only count insertions.
VOLATILE = {
    ("files", "indexed_at"),
    ("events", "id"),  # a bulk pass writes files in the order their jobs finish
    ("findings", "id"),
    ("problems", "id"),
    ("edits", "id"),
    ("search_queue", "id"),
    ("llm_cache", "created"),
}
SKIP_TABLES = {"sqlite_sequence", "sqlite_stat1", "sqlite_stat4"}


def _rows_digest(rows: list[str]) -> dict:
    rows.sort()
    h = hashlib.sha256()
    for r in rows:
        h.update(r.encode("utf-8", "surrogatepass"))
        h.update(b"\n")
    return {"rows": len(rows), "sha256": h.hexdigest(), "sample": rows[:3]}


def dump(home: str) -> dict:
    import apsw
    import tantivy

    db = apsw.Connection(str(Path(home) / "sessionlens.db"), flags=apsw.SQLITE_OPEN_READONLY)
    out: dict[str, dict] = {}
    tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table' ORDER BY name")]
    for t in tables:
        if t in SKIP_TABLES:
            continue
        cols = [r[1] for r in db.execute(f"PRAGMA table_info({t})") if (t, r[1]) not in VOLATILE]
        if not cols:
            continue
        rows = [repr(r) for r in db.execute(f"SELECT {', '.join(cols)} FROM {t}")]
        out[f"table:{t}"] = _rows_digest(rows)
    db.close()
    idx_dir = Path(home) / "index"
    if idx_dir.exists():
        from sessionlens.search.index import build_schema

        index = tantivy.Index(build_schema(), path=str(idx_dir), reuse=True)
        index.reload()
        searcher = index.searcher()
        fields = ("session", "agent", "project", "kind", "tool", "model", "text", "ts", "line", "file_id")
        docs = []
        total = searcher.num_docs
        if total:
            res = searcher.search(tantivy.Query.all_query(), limit=total)
            for _score, addr in res.hits:
                d = searcher.doc(addr)
                docs.append(repr(tuple(d.get_first(f) for f in fields)))
        out["search:documents"] = _rows_digest(docs)
    return out


def diff(a: dict, b: dict) -> list[str]:
    problems = []
    for key in sorted(set(a) | set(b)):
        if key not in a or key not in b:
            problems.append(f"{key}: only in {'the first' if key in a else 'the second'}")
        elif a[key]["sha256"] != b[key]["sha256"]:
            problems.append(f"{key}: {a[key]['rows']} vs {b[key]['rows']} rows, contents differ")
    return problems


def main(argv: list[str]) -> int:
    if len(argv) >= 3 and argv[0] == "dump":
        Path(argv[2]).write_text(json.dumps(dump(argv[1]), indent=1))
        return 0
    if len(argv) == 3 and argv[0] == "diff":
        a, b = (json.loads(Path(p).read_text()) for p in argv[1:])
        problems = diff(a, b)
        for p in problems:
            print(p)
        if not problems:
            print(
                f"same output: {len(a)} tables/indexes, " + ", ".join(f"{k.split(':')[1]} {v['rows']}" for k, v in a.items() if v["rows"])
            )
        return 1 if problems else 0
    if len(argv) >= 3 and argv[0] == "index":
        from sessionlens.services.app import App
        from sessionlens.services.settings import Settings

        home, *paths = argv[1:]
        app = App(Settings(storePath=home, includeHomeLogs=False))
        stats = app.index(paths)
        app.close()
        print(json.dumps({k: v for k, v in stats.to_dict().items() if k not in ("skipped", "errors")}))
        return 0
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
