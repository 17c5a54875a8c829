"""A Gemini CLI document rewritten in place is re-read per message: only the messages whose bytes
changed (by message id) are interpreted again, the rest replayed; the result equals a parse from
scratch, in the parser and in the store."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sessionlens.agents.gemini import parser as gp
from tests.conftest import corpus_root
from tests.services.helpers import make_app, snapshot

SID = "5f0c1d2e-0000-4000-8000-00000000abcd"


def _user(i: int, text: str) -> dict:
    return {"id": f"u{i}", "timestamp": f"2026-03-01T10:{i:02d}:00.000Z", "type": "user", "content": [{"text": text}]}


def _gemini(i: int, text: str, *, tool: str | None = None, result: str | None = None, out: int = 40) -> dict:
    m: dict = {
        "id": f"g{i}",
        "timestamp": f"2026-03-01T10:{i:02d}:30.000Z",
        "type": "gemini",
        "content": text,
        "thoughts": [{"subject": "Planning", "description": f"step {i}"}],
        "model": "gemini-2.5-pro",
        "tokens": {"input": 1000 + i, "output": out, "cached": 200, "thoughts": 7, "tool": 0, "total": 0},
    }
    if tool:
        call: dict = {
            "id": f"call-{i}",
            "name": tool,
            "args": {"file_path": f"src/m{i}.py"},
            "status": "success",
            "timestamp": f"2026-03-01T10:{i:02d}:40.000Z",
        }
        if result is not None:
            call["result"] = [{"functionResponse": {"id": f"call-{i}", "name": tool, "response": {"output": result}}}]
        m["toolCalls"] = [call]
    return m


def _doc(messages: list[dict], updated: str = "2026-03-01T10:30:00.000Z") -> bytes:
    doc = {
        "sessionId": SID,
        "projectHash": "ab" * 32,
        "startTime": "2026-03-01T10:00:00.000Z",
        "lastUpdated": updated,
        "messages": messages,
    }
    return (json.dumps(doc, indent=2, ensure_ascii=False) + "\n").encode()  # Gemini CLI: JSON.stringify(.., null, 2)


def _versions() -> tuple[list[dict], list[dict]]:
    v1 = [
        _user(1, "read the config"),
        _gemini(2, "Reading it.", tool="read_file", result="x = 1"),
        _user(3, "now fix the bug"),
        _gemini(4, "Looking.", tool="read_file"),
    ]  # the call's result is not in yet
    v2 = [dict(m) for m in v1]
    v2[1] = _gemini(2, "Reading it now, the whole file.", tool="read_file", result="x = 1\ny = 2\n" * 3)  # grew: later lines shift
    v2[3] = _gemini(4, "Looking.", tool="read_file", result="def f(): ...")  # the result arrived
    v2 += [_user(5, "thanks"), _gemini(6, "Done.", out=12)]
    return v1, v2


def _dump(r) -> dict:
    return r.model_dump(mode="json")


def test_only_changed_messages_are_interpreted_and_the_result_is_a_full_parse(tmp_path: Path):
    v1, v2 = _versions()
    path = str(tmp_path / "chats" / "session-2026-03-01T10-00-5f0c1d2e.json")
    gp.forget()
    gp.parse(_doc(v1), path)
    before = dict(gp.STATS)
    again = gp.parse(_doc(v2, "2026-03-01T10:40:00.000Z"), path)
    interpreted = gp.STATS["interpreted"] - before["interpreted"]
    reused = gp.STATS["reused"] - before["reused"]
    assert (interpreted, reused) == (4, 2)  # g2 and g4 changed, u5 and g6 are new; u1 and u3 replayed
    gp.forget()
    fresh = gp.parse(_doc(v2, "2026-03-01T10:40:00.000Z"), path)
    assert gp.STATS["interpreted"] - before["interpreted"] == 4 + len(v2)
    assert _dump(again) == _dump(fresh)
    assert [e.kind.value for e in fresh.events].count("tool_result") == 2 and len(fresh.usage) == 3
    # replayed messages sit at their new lines: u3 moved down by the lines g2 grew
    u3 = next(e for e in again.events if e.message_id == "u3")
    text_lines = _doc(v2, "2026-03-01T10:40:00.000Z").decode().split("\n")
    assert any("now fix the bug" in ln for ln in text_lines[u3.line - 1 : u3.line + 3])


def test_a_message_changed_to_different_bytes_is_never_replayed(tmp_path: Path):
    v1, _ = _versions()
    path = str(tmp_path / "session-x.json")
    gp.forget()
    gp.parse(_doc(v1), path)
    changed = [dict(m) for m in v1]
    changed[0] = _user(1, "read the config, please")
    r = gp.parse(_doc(changed), path)
    assert r.events[0].text == "read the config, please"
    assert r.session.title == "read the config, please"


def test_another_layout_is_parsed_whole_and_equal(tmp_path: Path):
    """A document on one line (not Gemini CLI's indent) has no per-message slices: parsed whole, same result."""
    _, v2 = _versions()
    compact = json.dumps({"sessionId": SID, "projectHash": "ab" * 32, "messages": v2}).encode()
    pretty = json.dumps({"sessionId": SID, "projectHash": "ab" * 32, "messages": v2}, indent=2).encode()
    gp.forget()
    a, b = gp.parse(compact, "/c/session-a.json"), gp.parse(pretty, "/c/session-b.json")

    def facts(r):  # (a pretty document orders events by line, a one-line one by interpretation)
        return sorted((e.kind.value, e.text or "", e.tool or "") for e in r.events)

    assert facts(a) == facts(b) and len(a.usage) == len(b.usage) == 3
    assert {e.line for e in a.events} == {1}


def test_the_store_after_a_rewrite_equals_a_fresh_index(tmp_path: Path):
    v1, v2 = _versions()
    logs = tmp_path / "logs" / "tmp" / "abc" / "chats"
    logs.mkdir(parents=True)
    log = logs / "session-2026-03-01T10-00-5f0c1d2e.json"
    log.write_bytes(_doc(v1))
    gp.forget()
    app = make_app(tmp_path / "a")
    try:
        app.index([str(tmp_path / "logs")])
        log.write_bytes(_doc(v2, "2026-03-01T10:40:00.000Z"))
        before = gp.STATS["interpreted"]
        stats = app.index([str(tmp_path / "logs")])
        assert stats.files_changed == 1
        assert gp.STATS["interpreted"] - before == 4 < len(v2)  # fewer messages interpreted than the document has
    finally:
        app.close()
    gp.forget()
    fresh = make_app(tmp_path / "b")
    try:
        fresh.index([str(tmp_path / "logs")])
    finally:
        fresh.close()
    a, b = snapshot(tmp_path / "a"), snapshot(tmp_path / "b")
    assert a == b
    assert SID in str(a["sessions"]) and len(a["events"]) > len(v2)


@pytest.mark.parametrize(
    "rel",
    [
        "gemini/Mai0313+VibeCodingTracker@0247fb6c18/examples/test_conversation_gemini.json",
        "gemini/Mai0313+VibeCodingTracker@894772f767/examples/test_conversation_gemini.json",
        "gemini/entireio+cli@9c8075b751/a0/3d69f30a1f/0/full.jsonl",
    ],
)
def test_corpus_document_grown_message_by_message_equals_full_parses(rel: str, tmp_path: Path):
    """A real recording replayed as Gemini CLI writes it (one more message per rewrite): every version
    parsed with what is remembered equals the same version parsed from scratch."""
    src = corpus_root() / rel
    if not src.is_file():
        pytest.skip(f"corpus file not found: {src}")
    doc = json.loads(src.read_bytes())
    path = str(tmp_path / "session-grow.json")
    gp.forget()
    total = len(doc["messages"])
    start = dict(gp.STATS)
    for n in range(1, total + 1):
        data = (json.dumps({**doc, "messages": doc["messages"][:n]}, indent=2, ensure_ascii=False) + "\n").encode()
        warm = _dump(gp.parse(data, path))
        kept = gp._MEMO.pop(path)  # the same bytes parsed from scratch, then the memo put back
        cold = _dump(gp.parse(data, path))
        gp._MEMO[path] = kept
        assert warm == cold, n
    # the warm file interpreted each message once (the cold copies every time)
    cold_count = total * (total + 1) // 2
    assert gp.STATS["interpreted"] - start["interpreted"] == total + cold_count
    assert gp.STATS["reused"] - start["reused"] == cold_count - total


def test_corpus_jsonl_recording_grown_line_by_line_equals_full_parses(tmp_path: Path):
    """The JSONL recording (messages re-appended in full, ``$set``, ``$rewindTo``) parsed whole after
    every appended line, with the memo, equals each version parsed from scratch."""
    src = corpus_root() / "gemini/Mai0313+VibeCodingTracker/tests/fixtures/sessions/gemini.jsonl"
    if not src.is_file():
        pytest.skip(f"corpus file not found: {src}")
    lines = src.read_bytes().splitlines(keepends=True)
    path = str(tmp_path / "session-grow.jsonl")
    gp.forget()
    start = dict(gp.STATS)
    for n in range(1, len(lines) + 1):
        data = b"".join(lines[:n])
        warm = _dump(gp.parse(data, path))
        kept = gp._MEMO.pop(path)
        cold = _dump(gp.parse(data, path))
        gp._MEMO[path] = kept
        assert warm == cold, n
    assert gp.STATS["reused"] > start["reused"]
