"""Index a folder of logs into a fresh store and print a digest of everything indexing wrote.

Proves that a speed-up changed nothing: run it before and after a change on the same folders and
compare (``--compare`` against a saved digest names the tables that differ; ``--dump`` writes every
row so that a difference can be diffed).  Not part of the default test run::

    .venv/bin/python -m tests.perf.store_digest /work/shared/corpus --out /tmp/before.json --dump /tmp/before
    .venv/bin/python -m tests.perf.store_digest /work/shared/corpus --compare /tmp/before.json

What is compared: every row of files (path, agent, size, offset, lines, head, parser version, parser
state, session, status, error, coach hash), sessions, turns, events, usage, problems, findings,
edits and projects, with file ids replaced by the file's path and row ids left out (rows are sorted);
and every stored field of every Tantivy search document.  Left out: when a file was indexed.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import tantivy

from sessionlens.services.app import App
from sessionlens.services.settings import Settings

#: tables compared, and the columns left out of each (row ids, clock times)
TABLES: dict[str, set[str]] = {
    "files": {"id", "indexed_at"},
    "projects": set(),
    "sessions": set(),
    "turns": set(),
    "events": {"id"},
    "usage": set(),
    "problems": set(),
    "findings": {"id"},
    "edits": set(),
}


def _rows(conn: Any, table: str, skip: set[str], paths: dict[int, str]) -> list[str]:
    cols = [r[1] for r in conn.execute(f"PRAGMA table_info({table})")]
    keep = [c for c in cols if c not in skip]
    out = []
    for row in conn.execute(f"SELECT {', '.join(keep)} FROM {table}"):
        d = dict(zip(keep, row))
        if "file_id" in d:
            d["file_id"] = paths.get(d["file_id"], d["file_id"])
        out.append(json.dumps(d, sort_keys=True, default=lambda b: b.hex() if isinstance(b, bytes) else str(b)))
    out.sort()
    return out


def _search_docs(home: str) -> list[str]:
    from sessionlens.search.index import SearchIndex

    idx = SearchIndex(home).index
    assert idx is not None
    idx.reload()
    searcher = idx.searcher()
    n = searcher.num_docs
    out: list[str] = []
    if n:
        hits = searcher.search(tantivy.Query.all_query(), limit=n).hits
        for _score, addr in hits:
            out.append(json.dumps(searcher.doc(addr).to_dict(), sort_keys=True))
    out.sort()
    return out


def digest(folder: str, dump: str | None = None) -> dict[str, Any]:
    home = tempfile.mkdtemp(prefix="sessionlens-digest-")
    try:
        t0 = time.process_time()
        app = App(Settings(storePath=home, includeHomeLogs=False))
        stats = app.index([folder])
        cpu = time.process_time() - t0
        conn = app.db().conn
        paths = {fid: p for fid, p in conn.execute("SELECT id, path FROM files")}
        tables = {t: _rows(conn, t, skip, paths) for t, skip in TABLES.items()}
        app.close()
        tables["search_documents"] = _search_docs(home)
    finally:
        shutil.rmtree(home, ignore_errors=True)
    if dump:
        os.makedirs(dump, exist_ok=True)
        for t, rows in tables.items():
            Path(dump, f"{t}.jsonl").write_text("".join(r + "\n" for r in rows))
    return {
        "folder": folder,
        "bytes_parsed": stats.bytes_parsed,
        "cpu_seconds_main_process": round(cpu, 2),
        "tables": {t: {"rows": len(rows), "sha256": hashlib.sha256("\n".join(rows).encode()).hexdigest()} for t, rows in tables.items()},
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("folder")
    ap.add_argument("--out", help="write the digest (JSON) here")
    ap.add_argument("--dump", help="write every compared row here (one JSONL file per table)")
    ap.add_argument("--compare", help="a digest written before: exit 1 when a table differs")
    a = ap.parse_args(argv)
    d = digest(a.folder, a.dump)
    text = json.dumps(d, indent=1)
    if a.out:
        Path(a.out).write_text(text + "\n")
    for t, v in d["tables"].items():
        print(f"{t:18s} {v['rows']:>9,} rows  {v['sha256'][:16]}")
    if a.compare:
        old = json.loads(Path(a.compare).read_text())["tables"]
        bad = [t for t in set(old) | set(d["tables"]) if old.get(t) != d["tables"].get(t)]
        print("identical" if not bad else f"DIFFERENT: {', '.join(sorted(bad))}")
        return 1 if bad else 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
