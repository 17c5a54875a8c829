"""Helpers shared by the ingest tests."""

from __future__ import annotations

from collections import Counter
from typing import Callable

from sessionlens.models.session import ParseResult, ParserState, TokenUsage

Parse = Callable[[bytes, str, "ParserState | None"], ParseResult]


def kinds(result: ParseResult) -> dict[str, int]:
    return dict(Counter(e.kind.value for e in result.events))


def usage_totals(result: ParseResult) -> TokenUsage:
    total = TokenUsage()
    for rec in result.usage:
        total = total.add(rec.usage)
    return total


def merge_usage(results: list[ParseResult]) -> dict[str, tuple]:
    """Merge usage records like the store does: per key keep the largest output count."""
    merged: dict[str, tuple] = {}
    for r in results:
        for rec in r.usage:
            old = merged.get(rec.key)
            if old is None or rec.usage.output_tokens > old[0].output_tokens:
                merged[rec.key] = (rec.usage, rec.model)
    return merged


def merge_turns(results: list[ParseResult]) -> dict[int, dict]:
    merged: dict[int, dict] = {}
    for r in results:
        for t in r.turns:
            merged[t.index] = t.model_dump()
    return merged


def parse_in_chunks(parse: Parse, data: bytes, path: str, cuts: list[int]) -> list[ParseResult]:
    """Parse ``data`` as if the file grew to each byte length in ``cuts`` and then to its full size.

    Each pass receives the bytes from the previous state's offset up to the current length, and the
    state goes through a JSON round trip (that is how the store keeps it).
    """
    results: list[ParseResult] = []
    state: ParserState | None = None
    for end in [*cuts, len(data)]:
        start = state.offset if state is not None else 0
        if end < start:
            continue
        r = parse(data[start:end], path, state)
        results.append(r)
        state = ParserState.model_validate_json(r.state.model_dump_json())
    return results
