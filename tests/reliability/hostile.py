"""Hostile variants of session logs: what an adversary (or a broken disk, or a buggy agent) writes.

Every generator takes the bytes of a real log (a corpus file or one of ``sessionlens.samples``) and
yields ``(name, bytes)`` variants; the suite indexes them all and checks that nothing crashes, no
file is lost, no event is lost or duplicated, no secret leaks and no payload is injected.
"""

from __future__ import annotations

import gzip
import random
import re
from collections.abc import Iterator
from typing import Any

import orjson

INT64_MAX = 2**63 - 1

#: Values that broke, or could break, a stage (SQLite int64, float→int, datetime, orjson depth).
HOSTILE_NUMBERS: list[Any] = [
    INT64_MAX,
    2**63,
    2**64 - 1,
    -(2**63) - 1,
    -1,
    -(10**9),
    1e300,
    -1e300,
    1e19,
    0.5,
    123456789012345678901234567890,
]
HOSTILE_STAMPS = [
    "0001-01-01T00:00:00+05:00",
    "9999-12-31T23:59:59-05:00",
    "0000-00-00T00:00:00Z",
    "2026-02-30T25:61:61Z",
    "",
    "2026-01-01T00:00:00",
    "1970-01-01T00:00:00Z",
]
HOSTILE_STRINGS = [
    "",
    "\u0000",
    "\u202e\u2066rtl",
    "x" * 70_000,
    "Exit code 99999999999999999999",
    "Process exited with code 99999999999999999999",
    "Wall time: 1e300 seconds",
    "<script>alert(1)</script>",
    "[x](command:workbench.action.terminal.new)",
]


def deep(n: int = 300) -> Any:
    """A value nested ``n`` levels deep (orjson serializes 255 at most)."""
    v: Any = "bottom"
    for _ in range(n):
        v = {"a": v}
    return v


def _leaves(obj: Any, path: tuple = ()) -> Iterator[tuple]:
    if len(path) >= 40:  # a value nested deeper (planted before) counts as one leaf
        yield path
        return
    if isinstance(obj, dict):
        for k, v in obj.items():
            yield from _leaves(v, (*path, k))
    elif isinstance(obj, list):
        for i, v in enumerate(obj[:20]):
            yield from _leaves(v, (*path, i))
    else:
        yield path


def _set(obj: Any, path: tuple, value: Any) -> None:
    for k in path[:-1]:
        obj = obj[k]
    obj[path[-1]] = value


def mutate(obj: dict, rng: random.Random) -> dict:
    """A deep copy of one log record with one leaf replaced by a hostile value of its own kind (a
    number by a huge/negative/float one, a timestamp by year 1 or 9999, a string by junk) or by a
    value of another type, or a member dropped, or a value nested 300 deep."""
    try:
        obj = orjson.loads(orjson.dumps(obj))
    except TypeError:  # mutated before: nested too deep for orjson
        import copy
        import sys

        old = sys.getrecursionlimit()
        sys.setrecursionlimit(max(old, 10_000))
        try:
            obj = copy.deepcopy(obj)
        finally:
            sys.setrecursionlimit(old)
    leaves = [p for p in _leaves(obj) if p and len(p) < 50]
    if not leaves:
        return obj
    path = rng.choice(leaves)
    cur: Any = obj
    for k in path:
        cur = cur[k]
    roll = rng.random()
    if roll < 0.08:
        parent = obj
        for k in path[:-1]:
            parent = parent[k]
        if isinstance(parent, dict):
            parent.pop(path[-1], None)
            return obj
    if roll < 0.16:
        _set(obj, path, deep(rng.choice((256, 300, 1000))))
    elif isinstance(cur, bool) or cur is None or roll < 0.3:
        _set(obj, path, rng.choice([*HOSTILE_NUMBERS, *HOSTILE_STRINGS[:6], [], {}, True, None]))
    elif isinstance(cur, (int, float)):
        _set(obj, path, rng.choice(HOSTILE_NUMBERS))
    elif isinstance(cur, str) and path[-1] in ("timestamp", "started_at", "ended_at", "ts"):
        _set(obj, path, rng.choice(HOSTILE_STAMPS))
    else:
        _set(obj, path, rng.choice(HOSTILE_STRINGS))
    return obj


def dumps(obj: Any) -> bytes:
    """JSON text of a (maybe hostile) record: orjson, or the stdlib for what orjson refuses (big
    ints, 300 levels)."""
    try:
        return orjson.dumps(obj)
    except (orjson.JSONEncodeError, TypeError):
        import json
        import sys

        old = sys.getrecursionlimit()
        sys.setrecursionlimit(max(old, 5000))
        try:
            return json.dumps(obj).encode()
        finally:
            sys.setrecursionlimit(old)


def lines_of(data: bytes) -> list[bytes]:
    return [ln for ln in data.split(b"\n") if ln.strip()]


def value_variants(data: bytes, rng: random.Random, count: int, per_file: int = 3) -> Iterator[tuple[str, bytes]]:
    """``count`` copies of a log, each with ``per_file`` records mutated (see :func:`mutate`)."""
    lines = lines_of(data)
    for i in range(count):
        out = list(lines)
        picks = rng.sample(range(len(out)), min(per_file, len(out)))
        if i % 3 == 0 and 0 not in picks:
            picks[0] = 0  # the first record too: detection must not hang on it
        for j in picks:  # each record mutated once
            try:
                obj = orjson.loads(out[j])
            except orjson.JSONDecodeError:
                continue
            if isinstance(obj, dict):
                out[j] = dumps(mutate(obj, rng))
        yield f"values-{i}", b"\n".join(out) + b"\n"


def file_variants(data: bytes) -> Iterator[tuple[str, bytes, bool]]:
    """Whole-file attacks: ``(name, bytes, readable)``; ``readable`` variants must index every
    event of the original (the others must be skipped, counted and named, never crash a pass)."""
    lines = lines_of(data)
    body = b"\n".join(lines) + b"\n"
    yield "garbage-20", b"\n".join([b"garbage{" + bytes([65 + i]) for i in range(20)]) + b"\n" + body, True
    yield "garbage-binary", b"\x00\xff\xfe junk\n" * 30 + body, True
    first = orjson.loads(lines[0])
    if isinstance(first, dict):
        huge = dict(first)
        huge["zz_padding"] = "p" * 1_200_000  # a first line over 1 MB
        yield "huge-first-line", b"\n".join([orjson.dumps(huge), *lines[1:]]) + b"\n", True
    yield "gzip", gzip.compress(body), True
    try:
        import zstandard

        yield "zstd", zstandard.ZstdCompressor().compress(body), True
    except ImportError:  # pragma: no cover - zstandard is a base dependency
        pass
    text = body.decode("utf-8")
    yield "utf-16", text.encode("utf-16"), True
    yield "utf-16-le-nobom", text.encode("utf-16-le"), True
    yield "utf-8-bom", b"\xef\xbb\xbf" + body, True
    yield "cr-only", body.replace(b"\n", b"\r"), True
    yield "crlf", body.replace(b"\n", b"\r\n"), True
    yield "truncated-mid-line", body[: len(body) * 2 // 3], True
    yield "corrupt-gzip", gzip.compress(body)[:200], False
    yield "empty", b"", False
    yield "blank", b"\n\n   \n", False
    yield "binary", bytes(random.Random(1).randrange(256) for _ in range(5000)), False
    yield "json-array", orjson.dumps([1, 2, 3]) + b"\n", False


def record_lines(data: bytes) -> int:
    """Complete non-blank lines of a plain log (what must come back as events or problems)."""
    complete = data[: data.rfind(b"\n") + 1]
    return len(lines_of(complete))


# --------------------------------------------------------------------------- secrets & injections

#: One secret of each kind the detector knows, with a value that is no example or placeholder.
SECRETS: dict[str, str] = {
    "anthropic_key": "sk-ant-api03-Qz7" + "pW4kLm9Xv2" * 8 + "AA",
    "openai_key": "sk-proj-" + "T9mQ2vLx8Rk4" * 4,
    "aws_access_key": "AKIAQ3EGUWX7KZL4NB2P",
    "aws_secret_key": '"SecretAccessKey": "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"',
    "aws_session_token": '"SessionToken": "FwoGZXIvYXdzEJr//////////wEaDOBLrLcXZHTpCRn9dSKyAXkeaJO2aVo4Tr5vSUqYt8Jq6Pzh+hKL3dR5Y6ZkrW2bcMk="',
    "github_token": "ghp_" + "R8x2Lq9ZmT4v" * 3,
    "slack_token": "xoxb-482019374625-7XkQ2mLp9Rv4",
    "stripe_key": "sk_live_" + "51HzQ2mLp9Rv4Xk8T" + "w2",
    "google_api_key": "AIza" + "SyB7kQ2mLp9Rv4Xk8Tw2zN5cH1jD6fG3hYq",  # AIza + 35
    "url_credential": "postgres://app:Qm7s2KpL9xZr@db.internal:5432/app",
    "mongodb": "mongodb+srv://svc:Zr8Kp2Lq9Xm4@cluster0.abcde.mongodb.net/db",
    "credential": 'DB_PASSWORD="hunter2-Kq9Xm4Zr8"',
    "private_key": "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA7Vq2mLp9Rv4Xk8Tw2zN5cH1jD6fG3hY0aEQz7pW4kLm9Xv2\n"
    "-----END RSA PRIVATE KEY-----",
    "jwt": "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhZG1pbjEyMyJ9.Qm7s2KpL9xZrT4v8R2x9LqZmT4vQk2mL",
}


def secret_core(planted: str) -> str:
    """The part of a planted secret that must never appear on an egress (the value, not its key)."""
    if planted.startswith('"') and '": "' in planted:
        return planted.split('": "', 1)[1].rstrip('"')
    if "://" in planted:
        return planted.split(":", 2)[2].split("@", 1)[0]
    if planted.startswith("DB_PASSWORD="):
        return planted.split("=", 1)[1].strip('"')
    if "PRIVATE KEY" in planted:
        return planted.splitlines()[1]
    return planted


#: Payloads that must never reach a rendered surface as live HTML, a command link or a remote image.
INJECTIONS = [
    "<script>alert('xss')</script>",
    "<img src=x onerror=alert(1)>",
    "[click me](command:workbench.action.terminal.new)",
    "![beacon](https://evil.example/p.png?d=1)",
    '<a href="javascript:alert(1)">x</a>',
    "[js](javascript:alert(1))",
    "<iframe src=https://evil.example></iframe>",
]


_FENCED = re.compile(r"^ {0,3}(`{3,}|~{3,})[^\n]*\n.*?^ {0,3}\1[`~]*[ \t]*$", re.M | re.S)
_CODE_SPAN = re.compile(r"(`+)(?!`).+?(?<!`)\1(?!`)", re.S)


def live_markdown(md: str) -> str:
    """``md`` without what renders literally (fenced code blocks, inline code spans)."""
    return _CODE_SPAN.sub("", _FENCED.sub("", md))


def injection_found(rendered: str, markdown: bool = True) -> list[str]:
    """The live constructs of :data:`INJECTIONS` that survive in ``rendered`` Markdown (or HTML)."""
    low = (live_markdown(rendered) if markdown else rendered).lower()
    if markdown:  # a backslash-escaped "<" is a literal character in CommonMark: inert text
        low = low.replace("\\<", "")
    bad = []
    needles = ("<script", "<img", "<iframe", "<a href", "onerror=alert(1)>")
    if markdown:  # in HTML, Markdown link syntax is text
        needles += ("](command:", "](javascript:", "![beacon](")
    for needle in needles:
        if needle == "onerror=alert(1)>" and "<img" not in low:
            continue
        if needle in low:
            bad.append(needle)
    return bad
