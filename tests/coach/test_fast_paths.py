"""The coach's fast paths give exactly what the plain definitions give.

``find_secrets`` tries each pattern where a match can start (``_ANCHORS``, ``_credential_starts``)
instead of searching the whole text; ``secret_candidates`` gates texts with the Rust regex engine
(``_gate``); ``informative_line`` scores lines by the parts of ``_STRONG_RE``; ``Context`` reads the
events by kind from one pass.  Each is compared with its plain form on the generated sample logs,
the corpus when present and deterministic fuzz built around the patterns' literals.
"""

from __future__ import annotations

import json
import random
import re
import sys
from collections import Counter
from pathlib import Path

import pytest

from sessionlens.coach import evidence, redact
from sessionlens.coach.config import CoachConfig
from sessionlens.coach.rules import Context, EventKind, _is_wait, _test_patterns, run_rules
from tests.coach.test_secret_prefilter import SAMPLES
from tests.conftest import corpus_root

_WORDS = [
    "password", "passwd", "pwd", "secret", "api_key", "apikey", "API-KEY", "private_key", "client-secret", "access_token",
    "auth-token", "token", "Token", "SECRET_KEY", "session_token", "SessionToken", "security_token", "aws_secret_access_key",
    "AWS_SECRET_KEY", "secretaccesskey", "https://", "postgres://u:", "@db", "x://a:b@c", "mongodb+srv://", "sk-", "sk-ant-",
    "sk_live_", "rk_test_", "İ", "\u212a", "ſ", "ı", " = ", ": ", "=", ":", '"', "'", "\n", "\t", "\x1c", "\u00a0", "\u3000",
    "=>", ":=", "Qm7s2KpL9x", "hunter2xyz9", "abcdef123456", "ghp_", "github_pat_", "eyJ", "eyJhbGciOiJIUzI1NiJ9.", "AKIA",
    "ASIA", "xoxb-", "Bearer ", "Authorization: ", "authorization=", "-----BEGIN ", "RSA ", "PRIVATE KEY-----", "AIza",
    "https://hooks.slack.com/services/T", "aaaaaaaaaaaaaaaaaaaa1", "a1B2c3D4e5F6g7H8i9J0", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYz8",
    "localhost", "[REDACTED]", "example", "${TOKEN}", "\x00", "😀",
]  # fmt: skip


def _fuzz(n: int, seed: int) -> list[str]:
    rnd = random.Random(seed)
    out = []
    for _ in range(n):
        parts = [rnd.choice(_WORDS) if rnd.random() < 0.7 else rnd.choice("abc XYZ_-./0123+") for _ in range(rnd.randint(1, 16))]
        out.append("".join(parts))
    for s in SAMPLES:
        for _ in range(40):
            i = rnd.randint(0, len(s))
            out.append(s[:i] + rnd.choice(_WORDS) + s[i:])
            out.append(rnd.choice(_WORDS) + s + rnd.choice(_WORDS))
    return out


def _strings(obj) -> list[str]:
    out, stack = [], [obj]
    while stack:
        x = stack.pop()
        if isinstance(x, str):
            out.append(x)
        elif isinstance(x, dict):
            stack.extend(x.values())
        elif isinstance(x, list):
            stack.extend(x)
    return out


def _log_texts(sample_logs: Path) -> list[str]:
    """Every string of the sample logs and (at most 40 files of) the corpus."""
    paths = sorted(sample_logs.rglob("*.jsonl"))
    if corpus_root().is_dir():
        paths += sorted(corpus_root().rglob("*.jsonl"))[:40]
    texts = []
    for p in paths:
        for line in p.read_text(encoding="utf-8", errors="replace").splitlines():
            try:
                texts.extend(_strings(json.loads(line)))
            except ValueError:
                texts.append(line)
    return texts


@pytest.fixture(scope="module")
def texts(sample_logs) -> list[str]:
    out = _log_texts(sample_logs) + _fuzz(20_000, 1) + SAMPLES
    assert len(out) > 30_000
    return out


def test_find_secrets_anchored_is_the_search_of_every_position(texts, monkeypatch):
    fast = [redact.find_secrets(t) for t in texts]
    monkeypatch.setattr(redact, "_anchored", lambda rx, text, starts: rx.finditer(text))
    plain = [redact.find_secrets(t) for t in texts]
    assert fast == plain
    kinds = {m.kind for hits in plain for m in hits}
    assert kinds == {p.kind for p in redact.SECRET_PATTERNS}, kinds  # every pattern was exercised
    assert sum(map(bool, plain)) > 1000


def test_every_pattern_is_anchored_or_searched():
    kinds = [p.kind for p in redact.SECRET_PATTERNS]
    assert set(redact._ANCHORS) | {"credential"} == set(kinds)
    for kind, (literals, _folded, least, most) in redact._ANCHORS.items():
        assert literals and 0 <= least <= most, kind


def test_the_gate_passes_every_text_the_prefilter_accepts(texts):
    gate = redact._gate()
    assert gate is not None, "pydantic-core's rust-regex engine is there"
    accepted = [t for t in texts if redact.may_hold_secret(t)]
    assert len(accepted) > 1000
    assert all(gate(t) for t in accepted)
    assert not gate("the cache key is derived from the path") and not gate("rows.sort(key=len)")
    assert gate("x TO\u212aEN \x1c= 3")  # the Kelvin sign lower-cases to "k"; U+001C is a space to Python
    assert gate("token = 'abc\udcff123456'")  # no UTF-8: not judged, passed on


def test_candidates_are_the_same_with_and_without_the_gate(texts, monkeypatch):
    with_gate = redact.secret_candidates(texts)
    assert with_gate == [i for i, t in enumerate(texts) if redact.may_hold_secret(t)]
    monkeypatch.setattr(redact, "_GATE", [None])
    assert redact.secret_candidates(texts) == with_gate
    monkeypatch.setattr(redact, "_SCAN_BLOCK", 5000)
    assert redact.secret_candidates(texts) == with_gate


def test_python_space_class_of_the_gate():
    py = {c for c in range(sys.maxunicode + 1) if not 0xD800 <= c <= 0xDFFF and re.match(r"\s", chr(c))}
    cls = re.sub(r"\\x\{([0-9a-f]+)\}", lambda m: f"\\U{int(m.group(1), 16):08x}", redact._PY_SPACE)
    rx = re.compile(cls)
    ours = {c for c in range(sys.maxunicode + 1) if not 0xD800 <= c <= 0xDFFF and rx.fullmatch(chr(c))}
    assert ours == py
    gate = redact._gate()
    assert gate is not None
    assert all(gate(f"token{chr(c)}= 1") for c in py)


def test_the_fold_table_holds_every_letter_case_insensitive_re_takes_for_an_ascii_one():
    ascii_letter = re.compile(r"(?i)[a-z]")
    others = {c for c in range(128, sys.maxunicode + 1) if not 0xD800 <= c <= 0xDFFF and ascii_letter.fullmatch(chr(c))}
    assert others == set(redact._SRE_FOLD)
    for c, to in redact._SRE_FOLD.items():
        assert re.fullmatch(f"(?i){to}", chr(c)) and len(chr(c).translate(redact._SRE_FOLD).lower()) == 1


def _score_plain(line: str) -> float:
    E = evidence
    if E._NO_ERRORS_RE.search(line) and not E._STRONG_RE.search(line):
        return 0.5
    if E._STRONG_RE.search(line):
        score = 3.0
    elif E._LOCATION_RE.match(line):
        score = 2.5
    elif E._MEDIUM_RE.search(line):
        score = 2.0
    else:
        score = 1.0
    if line.endswith(":") and score < 3:
        score -= 0.75
    if re.search(r"https?://", line) and score < 3:
        score -= 0.5
    return score


_ERROR_WORDS = [
    "Error", "error", "ERROR", "Exception", "ValueError:", "FAIL", "FAILED", "fatal:", "E   ", "error[E0308]", "error TS2304",
    ": error: ", ": fatal error: ", "[error] x", "[FATAL] y", "no errors", "0 failures", "No Failures", "faılures", "ſ", "İ",
    "\u212a", "not found", "https://x", "http://", "src/a.py:12:3", "<error>", "</stderr>", "[REDACTED]", "[redacted:foo]",
    "[trimmed]", ":", ",", " ", "\n", "\\n", "x", "npm ERR!", "err!", "panic:", "Traceback (most recent call last):", "  ",
    "\t", "┃", "│", "cannot", "Can't", "undefined", "is not", "Exit code 1", "éé",
]  # fmt: skip


def test_scores_and_informative_lines_are_the_plain_ones(texts):
    rnd = random.Random(5)
    outputs = [t for t in texts if "\n" in t][:3000]
    outputs += [
        "".join(rnd.choice(_ERROR_WORDS) if rnd.random() < 0.6 else rnd.choice("abc XYZ_-./0123:") for _ in range(30)) for _ in range(8000)
    ]
    lines = {ln for t in outputs for ln in t.splitlines()[:40]}
    assert len(lines) > 5000
    for ln in lines:
        assert evidence._strong(ln) == bool(evidence._STRONG_RE.search(ln)), ln
        assert evidence._score(ln) == _score_plain(ln), ln
        plain_redacted = bool(ln.strip()) and not evidence.REDACTION_RE.sub("", ln).strip(" \t\r\n,;:")
        assert evidence.is_redacted(ln) == plain_redacted, ln
    long = "\n".join(f"line {i}: nothing" for i in range(1000)) + "\nValueError: the cause"
    assert evidence._lines(long, 400) == evidence._lines(long)[:400]
    assert evidence.informative_line(long) == "line 0: nothing"  # only the first 400 lines are read


def test_context_reads_by_kind_what_a_scan_of_every_event_gives(sample_logs):
    from sessionlens import ingest

    config = CoachConfig()
    checked = 0
    for p in sorted(sample_logs.rglob("*.jsonl"))[:60]:
        res = ingest.parse_file(str(p))
        if res is None or not res.events:
            continue
        events = sorted((e for e in res.events if not e.duplicate), key=lambda e: e.seq)
        ctx = Context(res.session, events, res.turns, config, _test_patterns(tuple(config.test_command_patterns)))
        tool_kinds = (EventKind.TOOL_CALL, EventKind.TOOL_RESULT, EventKind.PATCH)
        assert ctx.tool_events == [e for e in events if e.kind in tool_kinds]
        assert ctx._scan.messages == [e for e in events if e.kind in (EventKind.USER_MESSAGE, EventKind.SYSTEM)]
        assert ctx._waits[0] == [e.seq for e in events if _is_wait(e)]
        assert ctx._scan.stops == [e for e in events if e.kind in (EventKind.USER_MESSAGE, EventKind.ERROR)]
        assert ctx._scan.compactions == [e for e in events if e.kind is EventKind.COMPACTION]
        assert ctx._scan.usage == [e for e in events if e.usage is not None]
        assert ctx._scan.rejected == any(e.extra.get("rejected") for e in events)
        assert ctx.calls_per_turn == Counter(e.turn for e in events if e.kind is EventKind.TOOL_CALL)
        checked += 1
        run_rules(res.session, res.events, res.turns, config)
    assert checked >= 10
