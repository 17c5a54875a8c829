"""``may_hold_secret`` is a sound prefilter for ``find_secrets``: never False when a secret is found."""

from __future__ import annotations

import json

from sessionlens.coach.redact import SECRET_PATTERNS, find_secrets, secret_candidates
from sessionlens.coach.rules import may_hold_secret

SAMPLES = [
    "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA1234567890abcdefABCDEF\n-----END RSA PRIVATE KEY-----",
    "export ANTHROPIC_API_KEY=sk-ant-api03-" + "a1" * 20,
    "OPENAI=sk-proj-" + "Ab3" * 10,
    "id AKIAQ3EGUWX7KZL4NB2P in config",
    "AWS_SECRET_ACCESS_KEY = " + "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",
    "token ghp_" + "a1B2c3D4e5" * 4,
    "xoxb-123456789012-abcdefghij",
    "https://hooks.slack.com/services/T000/B000/a1B2c3D4e5F6",
    "key=AIza" + "SyB7kQ2mLp9Rv4Xk8Tw2zN5cH1jD6fG3hYq",
    "sk_live_" + "a1b2c3d4" * 3,
    "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
    "Authorization: Bearer abcdefghijklmnop1234",
    'db_password = "hunter2xyz9"',
    "PASSWORD: s3cr3tValue!",
    "client-secret=Zx81kq02Lmn",
    '{"Credentials": {"SessionToken": "FwoGZXIvYXdzEJr//////////wEaDOBLrLcXZHTpCRn9dSKyAXkeaJO2aVo4Tr5vSUqYt8Jq6Pzh"}}',
    "DATABASE_URL=postgres://app:Qm7s2KpL9x@db.internal:5432/app",
]


def test_every_sample_is_found_and_passes_the_prefilter():
    kinds = set()
    for text in SAMPLES:
        hits = find_secrets(text)
        assert hits, text
        kinds |= {h.kind for h in hits}
        assert may_hold_secret(text), text
    assert kinds == {p.kind for p in SECRET_PATTERNS}


def test_plain_text_is_rejected():
    for text in (
        None,
        "",
        "ran 12 tests in 0.4s",
        "def f(x):\n    return x + 1",
        "the cache key is derived from the path",
        "rows.sort(key=len)",
        "{'key': 'value', 'max_tokens': 5}",
        "monkey: 3, turkey = 4",
    ):
        assert not may_hold_secret(text)
        assert not find_secrets(text)


def test_prefilter_is_sound_on_the_corpus(corpus):
    checked = 0
    for path in sorted(corpus.rglob("*.jsonl"))[:40]:
        for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
            for text in (line, *_strings(line)):
                checked += 1
                if find_secrets(text):
                    assert may_hold_secret(text), text[:200]
    assert checked > 1000


def _strings(line: str):
    try:
        obj = json.loads(line)
    except ValueError:
        return
    stack = [obj]
    while stack:
        x = stack.pop()
        if isinstance(x, str):
            yield x
        elif isinstance(x, dict):
            stack.extend(x.values())
        elif isinstance(x, list):
            stack.extend(x)


def test_secret_candidates_cover_the_prefilter(corpus):
    """The joined scan finds every text the per-text prefilter accepts (and the samples among noise)."""
    texts = []
    for path in sorted(corpus.rglob("*.jsonl"))[:20]:
        for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
            texts.extend(_strings(line))
    texts += SAMPLES + ["task-runner ok", "İstanbul sk-" + "x" * 30, "rows.sort(key=len)"]
    want = [i for i, t in enumerate(texts) if may_hold_secret(t)]
    got = secret_candidates(texts)
    assert got == sorted(set(got)) and set(want) <= set(got), sorted(set(want) - set(got))[:5]
    assert len(want) >= len(SAMPLES) and len(texts) > 1000
    # without the length-changing character the joined scan is used; the answer is the same
    plain = [t for t in texts if len(t.lower()) == len(t)]
    assert set(i for i, t in enumerate(plain) if may_hold_secret(t)) <= set(secret_candidates(plain))


def test_secret_candidates_in_small_blocks(monkeypatch):
    """Texts are scanned in blocks (bounded memory): a secret at any block edge is still found."""
    from sessionlens.coach import redact

    monkeypatch.setattr(redact, "_SCAN_BLOCK", 50)
    texts = [f"plain text number {i} " * (i % 4 + 1) for i in range(400)]
    for k, sample in zip(range(3, 400, 21), SAMPLES):
        texts[k] = sample
    want = [i for i, t in enumerate(texts) if may_hold_secret(t)]
    assert len(want) == len(SAMPLES) and secret_candidates(texts) == want


def test_the_long_text_scans_cover_every_cased_literal():
    """``secret_candidates`` scans long texts for the cased literals by families: together they
    must find every literal the patterns need (the same list ``may_hold_secret`` uses)."""
    from sessionlens.coach import redact

    literals = [n for needles, folded in redact._NEEDLES.values() if not folded for n in needles]
    for lit in literals:
        assert any(lit.startswith(x) or x in lit for x in redact._CASED_LITERALS) or any(rx.match(lit) for rx in redact._CASED_PREFIXED), (
            lit
        )
        texts = ["nothing to see here " * 3] * 20 + [f"value {lit}abc"]
        assert secret_candidates(texts) == [20], lit


def test_secret_candidates_are_what_the_prefilter_accepts(corpus):
    """The joined scan applies the exact credential keywords too: its candidates are the texts
    ``may_hold_secret`` accepts, no more (each one costs a full ``find_secrets``)."""
    texts = []
    for path in sorted(corpus.rglob("*.jsonl"))[:20]:
        for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
            texts.extend(t for t in _strings(line) if len(t.lower()) == len(t))
    texts += SAMPLES + ["rows.sort(key=len)", "x = {'key': 1}", "API-KEY: abcdef123", "the private_key = 'zz'"]
    assert secret_candidates(texts) == [i for i, t in enumerate(texts) if may_hold_secret(t)]
