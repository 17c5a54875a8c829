"""Parsing a growing file in several passes gives the same result as one pass."""

from __future__ import annotations

from pathlib import Path

import pytest

from sessionlens.ingest import claude, codex
from sessionlens.models.session import ParserState

from .helpers import merge_turns, merge_usage, parse_in_chunks
from .test_corpus import ALL_FILES


def _parser(rel: str):
    return codex.parse if rel.startswith("codex/") else claude.parse


def _line_ends(data: bytes) -> list[int]:
    ends, pos = [], data.find(b"\n")
    while pos >= 0:
        ends.append(pos + 1)
        pos = data.find(b"\n", pos + 1)
    return ends


def _cut_sets(data: bytes) -> list[list[int]]:
    ends = _line_ends(data)
    n = len(ends)
    at_lines = sorted({ends[0], ends[n // 4], ends[n // 2], ends[(3 * n) // 4]})
    # cuts in the middle of a line: the partial line must be left for the next pass
    mid_line = sorted({max(1, e - 5) for e in at_lines})
    # cuts right before a newline: the complete JSON line is consumed, its newline comes later
    before_newline = sorted({e - 1 for e in at_lines})
    every_line = ends if n <= 100 else []
    return [c for c in (at_lines, mid_line, before_newline, every_line) if c]


@pytest.mark.parametrize("rel", ALL_FILES)
def test_incremental_equals_single_pass(corpus: Path, rel: str) -> None:
    parse = _parser(rel)
    path = str(corpus / rel)
    data = (corpus / rel).read_bytes()
    whole = parse(data, path, None)
    assert whole.state.offset == len(data)
    for cuts in _cut_sets(data):
        passes = parse_in_chunks(parse, data, path, cuts)
        events = [e for r in passes for e in r.events]
        assert [e.model_dump() for e in events] == [e.model_dump() for e in whole.events], cuts[:5]
        assert merge_usage(passes) == merge_usage([whole])
        assert merge_turns(passes) == merge_turns([whole])
        assert passes[-1].session == whole.session
        assert passes[-1].state.offset == len(data)
        assert [p for r in passes for p in r.problems] == whole.problems


def test_partial_line_is_left_for_next_pass(corpus: Path) -> None:
    rel = "codex/agentlogs/crud.jsonl"
    data = (corpus / rel).read_bytes()
    cut = _line_ends(data)[2] + 40  # 3 lines + 40 bytes of the 4th
    first = codex.parse(data[:cut], rel, None)
    assert first.state.offset == _line_ends(data)[2] and first.state.line == 3
    assert [e.line for e in first.events] == [1, 2, 3] and first.problems == []
    state = ParserState.model_validate_json(first.state.model_dump_json())
    rest = codex.parse(data[state.offset :], rel, state)
    assert rest.events[0].line == 4 and rest.events[0].offset == _line_ends(data)[2]
    assert rest.state.offset == len(data)
