"""The logs the suite attacks: generated sessions of every generator (hermetic) plus, when the
corpus is present, real logs of each agent."""

from __future__ import annotations

import random
import re
import uuid
from datetime import datetime, timezone
from pathlib import Path

from sessionlens.samples.generator import generate_claude_session, generate_codex_session
from tests.conftest import corpus_root

START = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)
CORPUS_LOGS = (
    "codex/localpush/rollout-2026-02-23T12-41-04-019c8a4d-8f45-7010-8b5d-7fad920aa6f9.jsonl",
    "codex/agentlogs/crud.jsonl",
    "claude/agentlogs/crud.jsonl",
    "claude/spotter/tool_heavy.jsonl",
)
_UUID = re.compile(rb"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def generated(tmp: Path, seed: int = 5, turns: int = 3) -> dict[str, bytes]:
    """One generated Codex rollout and one Claude transcript (bytes by agent)."""
    rng = random.Random(seed)
    tmp.mkdir(parents=True, exist_ok=True)
    cx = tmp / "rollout-2026-03-02T09-00-00-0195e0f0-0000-7000-8000-000000000001.jsonl"
    generate_codex_session(rng, path=cx, start=START, turns=turns, cwd="/work/proj", problems=("secret",))
    cl = tmp / "claude" / "-work-proj" / "0195e0f0-0000-4000-8000-000000000002.jsonl"
    generate_claude_session(rng, path=cl, start=START, turns=turns, cwd="/work/proj")
    return {"codex": cx.read_bytes(), "claude": cl.read_bytes()}


def corpus_logs() -> dict[str, bytes]:
    root = corpus_root()
    out = {}
    for rel in CORPUS_LOGS:
        p = root / rel
        if p.is_file():
            out[rel] = p.read_bytes()
    return out


def fresh_ids(data: bytes, rng: random.Random) -> bytes:
    """The log with every uuid replaced consistently (copies of one log are separate sessions)."""
    mapping: dict[bytes, bytes] = {}

    def sub(m: re.Match) -> bytes:
        k = m.group(0)
        if k not in mapping:
            mapping[k] = str(uuid.UUID(int=rng.getrandbits(128), version=4)).encode()
        return mapping[k]

    return _UUID.sub(sub, data)
