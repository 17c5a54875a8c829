"""Format detection and file-level parsing (plain, growing, zstd)."""

from __future__ import annotations

import shutil
from pathlib import Path

import orjson
import pytest
import zstandard

from sessionlens.ingest import PARSER_VERSION, detect, parse_file
from sessionlens.models.session import Agent, ParserState

CODEX_LINE = {
    "timestamp": "2026-01-25T10:32:00.707Z",
    "type": "session_meta",
    "payload": {"id": "019bf4b5-e7b0-75a0-8bf2-05fbf1b13c9b", "cwd": "/w"},
}
CLAUDE_LINE = {
    "parentUuid": None,
    "isSidechain": False,
    "type": "user",
    "sessionId": "s1",
    "uuid": "u1",
    "timestamp": "2026-02-10T21:11:56.846Z",
    "message": {"role": "user", "content": "hi"},
}


def jl(*objs: object) -> bytes:
    return b"".join(orjson.dumps(o) + b"\n" for o in objs)


@pytest.mark.parametrize(
    "head, expected",
    [
        (jl(CODEX_LINE), Agent.CODEX),
        (jl({"id": "x", "timestamp": "2025-08-10T12:50:53.445Z", "instructions": None}), Agent.CODEX),
        (jl({"record_type": "session_meta", "id": "x", "timestamp": "2025-09-01T10:00:00Z"}), Agent.CODEX),
        (jl(CLAUDE_LINE), Agent.CLAUDE),
        (b"\n\n" + jl({"type": "summary", "summary": "t", "leafUuid": "x"}, CLAUDE_LINE), Agent.CLAUDE),
        (jl({"type": "file-history-snapshot", "messageId": "m", "snapshot": {}, "isSnapshotUpdate": False}), Agent.CLAUDE),
        # ~/.codex/history.jsonl and ~/.claude/history.jsonl are prompt histories, not sessions
        (jl({"session_id": "019b", "ts": 1769354480, "text": "fix it"}), None),
        (jl({"display": "fix it", "pastedContents": {}, "timestamp": 1769354480, "project": "/p", "sessionId": "s"}), None),
        (b"not json at all\n", None),
        (b"", None),
        (jl([1, 2, 3]), None),
    ],
)
def test_detect(head: bytes, expected: Agent | None) -> None:
    assert detect("/any/file.jsonl", head) is expected


def test_detect_a_cut_off_line_by_its_first_members() -> None:
    """A first line longer than the head (megabytes of instructions) is judged by the members read
    before the cut; one cut before they tell stays undecided."""
    head = b'{"type": "user", "sessionId": "s", "uuid": "u", "message": {"con'
    assert detect("/x.jsonl", jl(CLAUDE_LINE) + head) is Agent.CLAUDE
    assert detect("/x.jsonl", head) is Agent.CLAUDE
    codex_head = b'{"timestamp":"2026-01-25T10:32:00.707Z","type":"session_meta","payload":{"id":"x","base_instructions":{"text":"You are'
    assert detect("/x.jsonl", codex_head) is Agent.CODEX
    assert detect("/x.jsonl", b'{"type": "us') is None
    assert detect("/x.jsonl", b'{"display": "fix it", "pastedContents": {"a": "') is None


def test_parser_version_is_an_int() -> None:
    assert isinstance(PARSER_VERSION, int) and PARSER_VERSION >= 1


def test_parse_file_non_session_returns_none(tmp_path: Path) -> None:
    p = tmp_path / "history.jsonl"
    p.write_bytes(jl({"session_id": "a", "ts": 1, "text": "t"}))
    assert parse_file(str(p)) is None


def test_parse_file_grows(tmp_path: Path) -> None:
    p = tmp_path / "s1.jsonl"
    first = jl(CLAUDE_LINE)
    p.write_bytes(first + b'{"type": "assistant", "mess')  # the agent is still writing
    r1 = parse_file(str(p))
    assert r1 is not None and r1.agent is Agent.CLAUDE and [e.line for e in r1.events] == [1]
    assert r1.state.offset == len(first)
    state = ParserState.model_validate_json(r1.state.model_dump_json())
    p.write_bytes(first + jl({**CLAUDE_LINE, "uuid": "u2", "message": {"role": "user", "content": "more"}}))
    r2 = parse_file(str(p), state)
    assert r2 is not None and [e.line for e in r2.events] == [2] and r2.events[0].offset == len(first)
    assert r2.session.id == "s1" and r2.state.offset == p.stat().st_size
    assert [t.index for t in r2.turns] == [1] and r2.state.turns == 2


def test_parse_file_zst_equals_plain(tmp_path: Path, corpus: Path) -> None:
    src = corpus / "codex/agentlogs/crud.jsonl"
    plain = tmp_path / src.name
    shutil.copy(src, plain)
    zst = tmp_path / "rollout-2026-01-25T10-32-00-019bf4b5-e7b0-75a0-8bf2-05fbf1b13c9b.jsonl.zst"
    zst.write_bytes(zstandard.ZstdCompressor().compress(src.read_bytes()))
    a = parse_file(str(plain))
    b = parse_file(str(zst), ParserState(offset=10**9))  # state is ignored for .zst
    assert a is not None and b is not None
    assert [e.model_dump() for e in a.events] == [e.model_dump() for e in b.events]
    assert b.usage == a.usage and b.session.id == a.session.id
    assert b.state.offset == src.stat().st_size


def test_parse_file_zst_streamed_frame(tmp_path: Path) -> None:
    """A zstd frame without a content size (streaming writer) decompresses too."""
    data = jl(CODEX_LINE, {"timestamp": "2026-01-25T10:32:01Z", "type": "event_msg", "payload": {"type": "user_message", "message": "hi"}})
    zst = tmp_path / "r.jsonl.zst"
    with open(zst, "wb") as fh, zstandard.ZstdCompressor().stream_writer(fh) as w:
        w.write(data)
    r = parse_file(str(zst))
    assert r is not None and len(r.events) == 2 and r.turns[0].prompt == "hi"


def test_parse_file_missing_raises(tmp_path: Path) -> None:
    with pytest.raises(OSError):
        parse_file(str(tmp_path / "nope.jsonl"))


def test_detect_with_a_first_line_longer_than_the_head(tmp_path: Path) -> None:
    meta = {**CODEX_LINE, "payload": {**CODEX_LINE["payload"], "base_instructions": {"text": "x" * 300_000}}}
    p = tmp_path / "r.jsonl"
    p.write_bytes(
        jl(meta, {"timestamp": "2026-01-25T10:32:01Z", "type": "event_msg", "payload": {"type": "user_message", "message": "hi"}})
    )
    r1 = parse_file(str(p))
    assert r1 is not None and r1.agent is Agent.CODEX and len(r1.events) == 2
    with open(p, "ab") as fh:
        fh.write(jl({"timestamp": "2026-01-25T10:32:02Z", "type": "event_msg", "payload": {"type": "agent_message", "message": "yo"}}))
    r2 = parse_file(str(p), r1.state)
    assert r2 is not None and [e.line for e in r2.events] == [3]


def test_complete_last_line_without_newline_then_growth() -> None:
    """A complete JSON line is consumed before its newline arrives (also with CRLF and empty passes)."""
    from sessionlens.ingest import claude

    a = orjson.dumps(CLAUDE_LINE)
    b = orjson.dumps({**CLAUDE_LINE, "uuid": "u2"})
    data = a + b"\r\n" + b + b"\r\n" + b"7\n"
    cuts = [len(a), len(a), len(a) + 1, len(a) + 2 + len(b) + 2 + 1]  # "7" alone must wait for its newline
    state = None
    lines: list[int] = []
    problems = []
    for end in [*cuts, len(data)]:
        start = state.offset if state is not None else 0
        r = claude.parse(data[start:end], "/p/s1.jsonl", state)
        lines += [e.line for e in r.events]
        problems += [(p.line, p.offset) for p in r.problems]
        state = ParserState.model_validate_json(r.state.model_dump_json())
    assert lines == [1, 2]
    assert problems == [(3, len(a) + 2 + len(b) + 2)]
    assert (state.offset, state.line) == (len(data), 3)
