"""#17 items 1, 2, 3 and 6: one bad value costs a diagnostic on its line and a clamped or absent
field, never the file, the pass, a report or the running total."""

from __future__ import annotations

import random
from pathlib import Path

import apsw
import orjson
import pytest

from sessionlens import ingest
from sessionlens.agents.codex import parser as codex_parser
from sessionlens.models.limits import INT64_MAX, MAX_TOKENS
from sessionlens.services.indexer import failure_message
from tests.reliability.base_logs import corpus_logs, fresh_ids, generated
from tests.reliability.hostile import deep, dumps, lines_of, record_lines
from tests.services.helpers import cli_env, make_app, run_cli


@pytest.fixture(scope="module")
def base(tmp_path_factory) -> dict[str, bytes]:
    return generated(tmp_path_factory.mktemp("base"))


def _write(root: Path, name: str, data: bytes) -> Path:
    p = root / name
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_bytes(data)
    return p


def _insert_after(data: bytes, n: int, *records: object) -> bytes:
    lines = lines_of(data)
    return b"\n".join([*lines[:n], *(dumps(r) for r in records), *lines[n:]]) + b"\n"


def _events_and_problems(app, path: Path) -> tuple[int, list]:
    db = app.db()
    row = db.file_row(str(path))
    assert row is not None and row.status == "ok", (path, row)
    n = db.conn.execute("SELECT count(*) FROM events WHERE file_id=?", (row.id,)).fetchone()[0]
    return n, db.problems(row.id)


def _overflow_records() -> list[dict]:
    ts = "2026-03-02T09:00:01.000Z"
    return [
        {
            "timestamp": ts,
            "type": "event_msg",
            "payload": {"type": "exec_command_end", "call_id": "c-x", "duration": {"secs": 1e300, "nanos": 0}, "exit_code": 2**64 - 1},
        },
        {
            "timestamp": ts,
            "type": "event_msg",
            "payload": {"type": "exec_command_end", "call_id": "c-y", "duration": 1e300, "exit_code": 99999999999999999999},
        },
        {
            "timestamp": ts,
            "type": "response_item",
            "payload": {
                "type": "function_call_output",
                "call_id": "c-z",
                "output": "Exit code: 99999999999999999999\nWall time: 1e300 seconds\nOutput:\nboom",
            },
        },
        {
            "timestamp": ts,
            "type": "response_item",
            "payload": {
                "type": "custom_tool_call_output",
                "call_id": "c-w",
                "output": dumps({"output": "x", "metadata": {"exit_code": -(2**63) - 5, "duration_seconds": 1e300}}).decode(),
            },
        },
    ]


def test_item1_values_sqlite_cannot_store_do_not_abort_the_pass(base, tmp_path, figures):
    logs = tmp_path / "logs"
    rng = random.Random(1)
    a = _write(logs, "a.jsonl", fresh_ids(base["codex"], rng))
    b = _write(logs, "b.jsonl", _insert_after(fresh_ids(base["codex"], rng), 5, *_overflow_records()))
    c = _write(logs, "c" * 3 + "/z.jsonl", fresh_ids(base["claude"], rng))  # after b: indexed after the bad file
    app = make_app(tmp_path / "home")
    try:
        st = app.index([str(logs)])
        figures.add("inputs tried", 3)
        assert st.errors == [] and st.files_changed == 3
        for p in (a, b, c):
            n, probs = _events_and_problems(app, p)
            figures.add("events checked", n)
            if n != record_lines(p.read_bytes()):
                figures.add("events lost", abs(record_lines(p.read_bytes()) - n), str(p))
        _, probs = _events_and_problems(app, b)
        bad_lines = {p.line for p in probs}
        assert {6, 7, 9} <= bad_lines, probs  # the records' own lines (1-based, inserted after line 5)
        assert all(p.severity == "warning" for p in probs if p.line in (6, 7, 9))
        assert st.search_docs > 0 and app.search("the", limit=5)["total"] > 0
        again = app.index([str(logs)])  # the next run neither crashes nor re-does anything
        assert again.errors == [] and again.files_skipped == 3
        ev = app.db().conn.execute("SELECT max(abs(exit_code)), max(duration_ms) FROM events").fetchone()
        assert ev[0] < 2**32 and ev[1] <= 365 * 24 * 3600 * 1000
    finally:
        app.close()
    figures.check()


def _tokens(total: int) -> dict:
    return {"input_tokens": total, "cached_input_tokens": 0, "output_tokens": total, "reasoning_output_tokens": 0, "total_tokens": total}


def test_item2_huge_token_counts_keep_every_report_working(base, tmp_path, figures):
    logs = tmp_path / "logs"
    rng = random.Random(2)
    huge = {
        "timestamp": "2026-03-02T09:00:02.000Z",
        "type": "event_msg",
        "payload": {"type": "token_count", "info": {"total_token_usage": _tokens(INT64_MAX), "last_token_usage": _tokens(INT64_MAX)}},
    }
    _write(logs, "codex.jsonl", _insert_after(fresh_ids(base["codex"], rng), 8, huge, huge))
    claude = []
    for ln in lines_of(fresh_ids(base["claude"], rng)):
        obj = orjson.loads(ln)
        usage = (obj.get("message") or {}).get("usage") if isinstance(obj.get("message"), dict) else None
        if isinstance(usage, dict):
            usage["output_tokens"] = INT64_MAX
            usage["cache_read_input_tokens"] = 2**64 - 1
        claude.append(dumps(obj))
    _write(logs, "claude/-p/s.jsonl", b"\n".join(claude) + b"\n")
    home, user = tmp_path / "home", tmp_path / "user"
    user.mkdir()
    env = cli_env(user)
    r = run_cli("index", "--home", str(home), str(logs), env=env)
    assert r.returncode == 0, r.stderr
    figures.add("inputs tried", 2)
    # an older store may hold such rows already: the sums must not overflow either
    c = apsw.Connection(str(home / "sessionlens.db"))
    sid = c.execute("SELECT session_id FROM usage LIMIT 1").fetchone()[0]
    for i in range(3):
        c.execute(
            """INSERT INTO usage(key, file_id, session_id, seq, input, cache_read, cache_write_5m, cache_write_1h,
                     output, reasoning, cost_known, agent) VALUES(?, 1, ?, 1, ?, ?, 0, 0, ?, 0, 0, 'codex')""",
            (f"old:{i}", sid, INT64_MAX, INT64_MAX, INT64_MAX),
        )
    c.close()
    for args in (
        ("stats", "--json"),
        ("cost", "--json"),
        ("cost", "--by", "session"),
        ("show", sid, "--markdown"),
        ("export", sid),
        ("export", sid, "--format", "json"),
        ("sessions",),
    ):
        out = run_cli(*args, "--home", str(home), env=env)
        if out.returncode != 0:
            figures.add("crashes", 1, f"{args}: {out.stderr.strip()[-200:]}")
    stats = orjson.loads(run_cli("stats", "--json", "--home", str(home), env=env).stdout)
    assert all(0 <= stats["totals"][k] for k in ("input", "output", "cache_read"))
    figures.check()


def test_item2_parsed_token_counts_are_bounded(base):
    """No record the parsers produce counts more than MAX_TOKENS (sums of millions fit in int64)."""
    huge = {
        "timestamp": "2026-03-02T09:00:02.000Z",
        "type": "event_msg",
        "payload": {"type": "token_count", "info": {"total_token_usage": _tokens(INT64_MAX), "last_token_usage": _tokens(2**70)}},
    }
    r = codex_parser.parse(_insert_after(base["codex"], 8, huge), "/x/rollout.jsonl")
    assert r.usage and all(max(u.usage.model_dump().values()) <= MAX_TOKENS for u in r.usage)
    assert any("token_usage" in p.message for p in r.problems)


def test_item3_big_ints_deep_nesting_and_odd_years_keep_the_file(base, tmp_path, figures):
    logs = tmp_path / "logs"
    rng = random.Random(3)
    cl = [orjson.loads(x) for x in lines_of(fresh_ids(base["claude"], rng))]
    touched = []
    for i, obj in enumerate(cl):
        msg = obj.get("message")
        if isinstance(msg, dict) and isinstance(msg.get("content"), list):
            for block in msg["content"]:
                if isinstance(block, dict) and block.get("type") == "tool_use" and isinstance(block.get("input"), dict):
                    block["input"]["description"] = deep(300)  # kept in the event's extra
                    block["input"]["timeout"] = 123456789012345678901234567890
                    touched.append(i + 1)
                    break
        if len(touched) >= 2:
            break
    cl[3]["timestamp"] = "0001-01-01T00:00:00+05:00"
    cl[4]["timestamp"] = "9999-12-31T23:59:59-05:00"
    data = b"\n".join(dumps(o) for o in cl) + b"\n"
    p = _write(logs, "claude/-p/s.jsonl", data)
    cx = _insert_after(
        fresh_ids(base["codex"], rng),
        3,
        {
            "timestamp": "2026-03-02T09:00:01Z",
            "type": "response_item",
            "metadata": deep(400),
            "payload": {"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": "deep"}]},
        },
    )
    q = _write(logs, "codex.jsonl", cx)
    app = make_app(tmp_path / "home")
    try:
        st = app.index([str(logs)])
        figures.add("inputs tried", 2)
        assert st.errors == [], st.errors
        for f in (p, q):
            n, probs = _events_and_problems(app, f)
            figures.add("events checked", n)
            if n != record_lines(f.read_bytes()):
                figures.add("files lost" if n == 0 else "events lost", 1, str(f))
        _, probs = _events_and_problems(app, p)
        assert {4, 5} <= {x.line for x in probs}, probs  # the odd years, on their lines
        assert touched and all(app.db().event(app.db().file_row(str(p)).id, t) is not None for t in touched)
    finally:
        app.close()
    figures.check()


def test_item3_a_failed_file_is_retried_by_a_newer_parser(base, tmp_path, monkeypatch):
    logs = tmp_path / "logs"
    p = _write(logs, "codex.jsonl", base["codex"])
    app = make_app(tmp_path / "home")
    try:
        app.index([str(logs)])
        db = app.db()
        with db.conn:  # as an older sessionlens left it: failed
            db.conn.execute("UPDATE files SET status='error', error='boom', parser_version=? WHERE path=?", (ingest.PARSER_VERSION, str(p)))
        assert app.index([str(logs)]).files_skipped == 1  # same version, unchanged: not retried
        monkeypatch.setattr(ingest, "PARSER_VERSION", ingest.PARSER_VERSION + 1)
        st = app.index([str(logs)])
        assert st.files_skipped == 0 and st.errors == []
        assert db.file_row(str(p)).status == "ok"
    finally:
        app.close()


def test_item3_a_failure_says_why_on_one_line_with_its_line_number():
    import json

    try:
        json.loads('{"a": 1,\n "b": }')
    except ValueError as e:
        msg = failure_message(e)
    assert msg.startswith("line 2: JSONDecodeError") and "\n" not in msg


def _token_lines(data: bytes) -> list[int]:
    out = []
    for i, ln in enumerate(lines_of(data)):
        obj = orjson.loads(ln)
        p = obj.get("payload") or {}
        if (
            obj.get("type") == "event_msg"
            and p.get("type") == "token_count"
            and isinstance(p.get("info"), dict)
            and p["info"].get("total_token_usage")
        ):
            out.append(i)
    return out


_MALFORMED_TOTALS = [
    {},
    "garbage",
    None,
    [],
    {"input_tokens": "12"},
    {"input_tokens": -5, "output_tokens": 3},
    _tokens(0),
    _tokens(INT64_MAX),
    "digits",
]


def _cost(tmp: Path, data: bytes) -> dict:
    logs = tmp / "logs"
    _write(logs, "rollout.jsonl", data)
    app = make_app(tmp / "home")
    try:
        assert app.index([str(logs)]).errors == []
        t = app.stats()["totals"]
        return {k: t[k] for k in ("input", "cache_read", "output", "reasoning", "cost_usd")}
    finally:
        app.close()


def _codex_bases(base) -> list[tuple[str, bytes]]:
    out = [("generated", base["codex"])]
    out += [(k, v) for k, v in corpus_logs().items() if k.startswith("codex/") and len(_token_lines(v)) > 4]
    return out


@pytest.mark.parametrize("bad", range(len(_MALFORMED_TOTALS)), ids=[repr(x)[:20] for x in _MALFORMED_TOTALS])
def test_item6_one_malformed_codex_token_count_does_not_reset_the_total(base, tmp_path, bad, figures):
    for name, data in _codex_bases(base):
        clean = _cost(tmp_path / f"{name.replace('/', '_')}-clean", data)
        lines = lines_of(data)
        idx = _token_lines(data)
        j = idx[len(idx) // 2]
        obj = orjson.loads(lines[j])
        tot = obj["payload"]["info"]["total_token_usage"]
        value = _MALFORMED_TOTALS[bad]
        if value == "digits":  # one digit dropped from the running total
            value = {**tot, "input_tokens": tot["input_tokens"] // 10}
        obj["payload"]["info"]["total_token_usage"] = value
        lines[j] = dumps(obj)
        hostile = _cost(tmp_path / f"{name.replace('/', '_')}-bad", b"\n".join(lines) + b"\n")
        figures.add("inputs tried")
        assert hostile == pytest.approx(clean), (name, clean, hostile)


def test_item6_negative_claude_tokens_count_as_zero(base, tmp_path, figures):
    out = []
    for ln in lines_of(base["claude"]):
        obj = orjson.loads(ln)
        usage = (obj.get("message") or {}).get("usage") if isinstance(obj.get("message"), dict) else None
        if isinstance(usage, dict):
            usage["output_tokens"] = -(10**9)
            usage["input_tokens"] = -3
        out.append(dumps(obj))
    logs = tmp_path / "logs"
    p = _write(logs, "claude/-p/s.jsonl", b"\n".join(out) + b"\n")
    app = make_app(tmp_path / "home")
    try:
        assert app.index([str(logs)]).errors == []
        t = app.stats()["totals"]
        assert t["output"] == 0 and t["input"] == 0 and t["cost_usd"] >= 0
        assert t["cache_read"] > 0  # the valid counts of the same records still count
        rows = app.cost_report("session")["rows"]
        assert rows and all(r["cost_usd"] >= 0 for r in rows)
        _, probs = _events_and_problems(app, p)
        assert any("token counts out of range" in x.message for x in probs)
        figures.add("inputs tried")
    finally:
        app.close()
    figures.check()
