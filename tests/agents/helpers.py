"""Helpers shared by the agent-adapter tests."""

from __future__ import annotations

from sessionlens.models.session import ParseResult, TokenUsage


def merge_usage(results: list[ParseResult]) -> dict[str, tuple]:
    """Merge usage records like the store does: per key keep the largest output count."""
    merged: dict[str, tuple] = {}
    for r in results:
        for rec in r.usage:
            old = merged.get(rec.key)
            if old is None or rec.usage.output_tokens > old[0].output_tokens:
                merged[rec.key] = (rec.usage, rec.model)
    return merged


def totals(usage: dict) -> TokenUsage:
    t = TokenUsage()
    for u, _ in usage.values():
        t = t.add(u)
    return t
