"""Hostile variants at scale: copies of generated and corpus logs with records mutated (huge, negative,
fractional and out-of-range numbers, odd years, junk strings, values of the wrong type, dropped
members, 300-level nesting), indexed together, then read back through every surface.  Nothing may
crash, no file may be lost, and every line comes back as an event or a problem on its line."""

from __future__ import annotations

import json
import random

import pytest

from sessionlens.coach.redact import egress
from tests.reliability.base_logs import corpus_logs, fresh_ids, generated
from tests.reliability.hostile import record_lines, value_variants
from tests.services.helpers import make_app

VARIANTS_PER_LOG = 24


@pytest.fixture(scope="module")
def fuzzed(tmp_path_factory):
    root = tmp_path_factory.mktemp("fuzz")
    bases = generated(root / "base", seed=21)
    bases.update(corpus_logs())
    rng = random.Random(1717)
    files = {}
    for name, data in bases.items():
        agent = "claude" if "claude" in name else "codex"
        for vname, variant in value_variants(data, rng, VARIANTS_PER_LOG, per_file=4):
            variant = fresh_ids(variant, rng)
            p = root / "logs" / agent / f"{name.replace('/', '_')}-{vname}.jsonl"
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_bytes(variant)
            files[p] = record_lines(variant)
    before = _tree(root / "logs")
    app = make_app(root / "home")
    stats = app.index([str(root / "logs")])
    writes = sorted(set(before.items()) ^ set(_tree(root / "logs").items()))
    yield app, stats, files, writes
    app.close()


def _tree(top) -> dict[str, tuple[int, int]]:
    """Every entry under ``top`` with its size and mtime (what an indexer must never change)."""
    import os

    out = {}
    for d, dirs, names in os.walk(top):
        for n in dirs + names:
            st = os.lstat(os.path.join(d, n))
            out[os.path.join(d, n)] = (st.st_size, st.st_mtime_ns)
    return out


def test_indexing_writes_nothing_where_the_logs_are(fuzzed, figures):
    for path, _ in fuzzed[3]:
        figures.add("outside writes", 1, path)
    figures.add("inputs tried", len(fuzzed[2]))
    figures.check()


def test_every_mutated_file_is_indexed_line_for_line(fuzzed, figures):
    app, stats, files, _ = fuzzed
    figures.add("inputs tried", len(files))
    for e in stats.errors:
        figures.add("files lost", 1, e)
    db = app.db()
    for p, lines in files.items():
        row = db.file_row(str(p))
        if row is None or row.status != "ok":
            figures.add("files lost", 1, f"{p.name}: {row.status if row else 'missing'}")
            continue
        n = db.conn.execute("SELECT count(*) FROM events WHERE file_id=?", (row.id,)).fetchone()[0]
        malformed = db.conn.execute(
            "SELECT count(DISTINCT line) FROM problems WHERE file_id=? AND (message LIKE 'malformed JSON%' OR message LIKE 'line is JSON%')",
            (row.id,),
        ).fetchone()[0]
        figures.add("files indexed")
        figures.add("events checked", n)
        if n + malformed < lines:
            figures.add("events lost", lines - n - malformed, p.name)
        elif n + malformed > lines:
            figures.add("events duplicated", n + malformed - lines, p.name)
    figures.check()


def test_every_surface_reads_the_fuzzed_store(fuzzed, figures):
    app, _, _, _ = fuzzed

    def attempt(what, fn, *a, **kw):
        figures.add("inputs tried")
        try:
            return fn(*a, **kw)
        except Exception as e:  # noqa: BLE001 - counted, reported by figures.check()
            figures.add("crashes", 1, f"{what}: {type(e).__name__}: {e}")
            return None

    attempt("stats", app.stats)
    for by in ("day", "week", "month", "session", "model", "project", "agent"):
        attempt(f"cost by {by}", app.cost_report, by)
    sessions = attempt("sessions", app.sessions, limit=1000, workspace_only=False) or []
    assert len(sessions) >= len(fuzzed[2]) // 2
    for s in sessions[:40]:
        attempt("render", app.render_session, s["id"])
        attempt("timeline", app.timeline, s["id"])
        attempt("findings", app.findings, session=s["id"])
        db = app.db()
        payload = attempt(
            "export",
            lambda s=s, db=db: {
                "session": s,
                "usage": db.session_totals([s["id"]]).as_dict(),
                "events": [e.model_dump(mode="json") for e in db.events(s["file_id"])],
            },
        )
        if payload is not None:
            attempt("export json", lambda p=payload: json.dumps(egress(p), default=str))
    for q in ("test", "error", "exit code", '"unterminated', "AND OR NOT", "*", "title:(x"):
        attempt(f"search {q}", app.search, q, limit=10)
    figures.check()


OTHER_AGENTS = (
    "gemini/kenn-io+agentsview/internal/parser/testdata/gemini/tool_calls_with_results.json",
    "pi/kenn-io+agentsview/internal/parser/testdata/pi/session.jsonl",
    "copilot-cli/Mai0313+VibeCodingTracker/tests/fixtures/sessions/copilot.jsonl",
    "qwen-code/Piebald-AI+splitrail/src/analyzers/tests/source_data/qwen_code.jsonl",
    "cursor/abhimehro+personal-config/.cursor/projects/Users-speedybee-Documents-dev-personal-config/agent-transcripts/"
    "5b215917-3363-4870-b82b-7d04804a2c98.jsonl",
)


def test_the_other_agents_survive_hostile_values(tmp_path, figures):
    """Every adapter (JSONL and JSON documents) on mutated copies of its corpus logs: no file lost,
    no pass aborted, every surface readable."""
    import orjson

    from tests.conftest import corpus_root
    from tests.reliability.hostile import dumps, mutate

    root = corpus_root()
    rng = random.Random(99)
    made = 0
    for rel in OTHER_AGENTS:
        src = root / rel
        if not src.is_file():
            continue
        data = src.read_bytes()
        for i in range(10):
            if rel.endswith(".json"):
                try:
                    doc = orjson.loads(data)
                except orjson.JSONDecodeError:
                    break
                for _ in range(3):
                    if isinstance(doc, dict):
                        doc = mutate(doc, rng)
                variant = dumps(doc)
            else:
                variant = next(v for _, v in value_variants(data, rng, 1, per_file=4))
            dest = tmp_path / "logs" / f"v{i}" / rel
            dest.parent.mkdir(parents=True, exist_ok=True)
            dest.write_bytes(variant)
            made += 1
    if made == 0:
        pytest.skip("no corpus logs of the other agents")
    app = make_app(tmp_path / "home")
    try:
        st = app.index([str(tmp_path / "logs")])
        figures.add("inputs tried", made)
        for e in st.errors:
            figures.add("files lost", 1, e[-200:])
        for s in app.sessions(limit=500, workspace_only=False):
            try:
                app.render_session(s["id"])
                app.timeline(s["id"])
            except Exception as e:  # noqa: BLE001 - counted
                figures.add("crashes", 1, f"{s['agent']}: {type(e).__name__}: {e}")
        app.stats()
        app.cost_report("day")
    finally:
        app.close()
    figures.check()
