"""Measure shapes of the real session-log corpus (used to calibrate the sample generator).

Run: ``.venv/bin/python tests/samples/measure_corpus.py [CORPUS_DIR]``.  Prints line-type
counts, size statistics and key sets; it is a developer tool, not a test.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
from collections import Counter, defaultdict
from pathlib import Path


def _q(values: list[int]) -> str:
    if not values:
        return "-"
    v = sorted(values)
    pick = lambda p: v[min(len(v) - 1, int(p * len(v)))]  # noqa: E731
    return f"n={len(v)} p50={pick(0.5)} p90={pick(0.9)} p99={pick(0.99)} max={v[-1]} mean={int(statistics.mean(v))}"


def codex_line_type(obj: dict) -> str:
    t = obj.get("type")
    p = obj.get("payload")
    if isinstance(p, dict) and t in ("response_item", "event_msg"):
        return f"{t}/{p.get('type')}"
    return str(t)


def claude_line_type(obj: dict) -> str:
    t = obj.get("type")
    if t == "progress":
        return f"progress/{(obj.get('data') or {}).get('type')}"
    if t == "system":
        return f"system/{obj.get('subtype')}"
    if t == "user":
        c = obj["message"].get("content")
        if isinstance(c, list) and c and c[0].get("type") == "tool_result":
            return "user/tool_result"
        return "user/prompt"
    if t == "assistant":
        c = obj["message"].get("content") or [{}]
        return f"assistant/{c[0].get('type')}"
    return str(t)


def main(root: Path) -> None:
    for agent, typer in (("codex", codex_line_type), ("claude", claude_line_type)):
        counts: Counter[str] = Counter()
        sizes: dict[str, list[int]] = defaultdict(list)
        keys: dict[str, set[str]] = defaultdict(set)
        tools: Counter[str] = Counter()
        tc_total = tc_dup = 0
        turns_per_file: list[int] = []
        for path in sorted((root / agent).rglob("*.jsonl")):
            prev = None
            turns = 0
            for raw in path.read_bytes().splitlines():
                if not raw.strip():
                    continue
                obj = json.loads(raw)
                lt = typer(obj)
                counts[lt] += 1
                sizes[lt].append(len(raw))
                keys[lt].update(obj.keys())
                if agent == "codex":
                    p = obj.get("payload") or {}
                    if lt.endswith("/function_call") or lt.endswith("/custom_tool_call"):
                        tools[p.get("name")] += 1
                    if lt == "event_msg/user_message":
                        turns += 1
                    if lt == "event_msg/token_count" and p.get("info"):
                        tc_total += 1
                        tot = p["info"].get("total_token_usage")
                        if tot == prev:
                            tc_dup += 1
                        prev = tot
                else:
                    if lt == "assistant/tool_use":
                        tools[obj["message"]["content"][0]["name"]] += 1
                    if lt == "user/prompt" and not obj.get("isMeta") and not obj.get("isSidechain"):
                        turns += 1
            turns_per_file.append(turns)
        total = sum(counts.values())
        print(f"== {agent}: {total} lines, turns/file {turns_per_file}")
        for lt, n in counts.most_common():
            print(f"  {lt:45s} {n:6d} {100 * n / total:5.1f}%  bytes {_q(sizes[lt])}")
        print(f"  tools: {dict(tools.most_common())}")
        if agent == "codex":
            print(f"  token_count with info: {tc_total}, exact repeats: {tc_dup}")


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else os.environ.get("SESSIONLENS_CORPUS", "/work/shared/corpus")))
