"""Secret detection and redaction for log content and outgoing LLM payloads.

The same :data:`SECRET_PATTERNS` drive :func:`redact` (used before anything leaves the machine)
and the ``secret-in-log`` coach rule.  Patterns are deliberately specific (vendor prefixes,
PEM armour, ``key = "value"`` assignments) so plain hashes, UUIDs and base64 blobs are left alone.
"""

from __future__ import annotations

import bisect
import itertools
import re
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any, NamedTuple


class SecretPattern(NamedTuple):
    kind: str
    label: str  # human-readable name used in findings
    regex: re.Pattern[str]  # a named group ``secret`` (when present) is the part to redact


_B = r"(?<![A-Za-z0-9_\-])"  # left boundary: not inside a longer token
_E = r"(?![A-Za-z0-9_\-])"  # right boundary

#: The detector's patterns and the regexes that judge their matches, compiled on first use (by
#: :func:`_compile`, ~10 ms): a command that shows no text that may hold a secret - ``may_hold_secret``
#: says so with the few regexes compiled at import - never compiles them.
SECRET_PATTERNS: list[SecretPattern]
_PLACEHOLDER: re.Pattern[str]
_DOTTED_IDENT: re.Pattern[str]
_FAKE_MARKS: re.Pattern[str]
_PEM_END: re.Pattern[str]
_PEM_BODY: re.Pattern[str]
_B64_CHARS: re.Pattern[str]
_URL_PLACEHOLDER: re.Pattern[str]
_LOOPBACK: re.Pattern[str]
_LAZY = frozenset(
    {
        "SECRET_PATTERNS",
        "_PLACEHOLDER",
        "_DOTTED_IDENT",
        "_FAKE_MARKS",
        "_PEM_END",
        "_PEM_BODY",
        "_B64_CHARS",
        "_URL_PLACEHOLDER",
        "_LOOPBACK",
    }
)
_compiled = False


def _compile() -> None:
    global SECRET_PATTERNS, _PLACEHOLDER, _DOTTED_IDENT, _FAKE_MARKS, _PEM_END, _PEM_BODY, _B64_CHARS, _URL_PLACEHOLDER, _LOOPBACK
    global _compiled
    SECRET_PATTERNS = [
        # Only the armour header; find_secrets extends the span to the END line (or the base64 body).
        SecretPattern("private_key", "private key block", re.compile(r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----")),
        SecretPattern("anthropic_key", "Anthropic API key", re.compile(_B + r"sk-ant-[A-Za-z0-9_\-]{20,}" + _E)),
        SecretPattern(
            "openai_key",
            "OpenAI API key",
            re.compile(
                _B + r"sk-(?!ant-)(?:proj-|svcacct-|admin-)?(?=[A-Za-z0-9_\-]*\d)(?=[A-Za-z0-9_\-]*[A-Za-z])[A-Za-z0-9_\-]{20,}" + _E
            ),
        ),
        SecretPattern("aws_access_key", "AWS access key id", re.compile(r"(?<![A-Z0-9])(?:AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}(?![A-Z0-9])")),
        SecretPattern(
            "aws_secret_key",
            "AWS secret access key",
            # AWS_SECRET_ACCESS_KEY=… and the "SecretAccessKey": "…" of `aws sts` / `aws configure export-credentials` JSON
            re.compile(
                r"(?i)(?:aws_?secret_?(?:access_?)?key|secret_?access_?key)[\"']?\s*[:=]\s*[\"']?"
                r"(?P<secret>[A-Za-z0-9/+=]{40})(?![A-Za-z0-9/+=])"
            ),
        ),
        SecretPattern(
            "aws_session_token",
            "AWS session token",
            re.compile(r"(?i)(?:aws_?)?(?:session|security)_?token[\"']?\s*[:=]\s*[\"']?(?P<secret>[A-Za-z0-9/+=]{32,})"),
        ),
        SecretPattern(
            "url_credential",
            "password in a URL",
            # postgres://user:pass@host, mongodb+srv://…, https://x-access-token:…@github.com
            re.compile(r"(?i)\b[a-z][a-z0-9+.\-]{1,30}://[^\s:/@\"'`<>]{0,128}:(?P<secret>[^\s/@\"'`<>]{3,256})@(?=[A-Za-z0-9\[])"),
        ),
        SecretPattern("github_token", "GitHub token", re.compile(_B + r"(?:gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{22,})" + _E)),
        SecretPattern("slack_token", "Slack token", re.compile(_B + r"xox[abposr]-[A-Za-z0-9\-]{10,}" + _E)),
        SecretPattern(
            "slack_webhook",
            "Slack webhook URL",
            re.compile(r"https://hooks\.slack\.com/services/T[A-Za-z0-9_]+/B[A-Za-z0-9_]+/[A-Za-z0-9_]+"),
        ),
        SecretPattern("google_api_key", "Google API key", re.compile(_B + r"AIza[0-9A-Za-z_\-]{35}" + _E)),
        SecretPattern("stripe_key", "Stripe secret key", re.compile(_B + r"(?:sk|rk)_(?:live|test)_[0-9A-Za-z]{16,}" + _E)),
        SecretPattern(
            "jwt",
            "JSON Web Token",
            re.compile(_B + r"eyJ[A-Za-z0-9_\-]{8,}\.eyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{10,}" + _E),
        ),
        SecretPattern(
            "bearer_token",
            "bearer token",
            re.compile(r"(?i)\b(?:authorization[\"']?\s*[:=]\s*[\"']?)?bearer\s+(?P<secret>[A-Za-z0-9._~+/\-]{16,}=*)"),
        ),
        SecretPattern(
            "credential",
            "credential assignment",
            re.compile(
                r"(?i)(?<![A-Za-z])"  # DB_PASSWORD, client-secret: the keyword ends the name
                r"(?:password|passwd|secret|api[_\-]?key|apikey|access[_\-]?token|auth[_\-]?token|"
                r"client[_\-]?secret|secret[_\-]?key|private[_\-]?key|token)"
                r"[\"']?\s*(?::|=|:=|=>)\s*"
                r"(?:(?P<q>[\"'])(?P<secret>[^\s\"'`]{6,200})(?P=q)|(?P<bare>[^\s\"'`,;(){}\[\]<>]{6,200}))"
            ),
        ),
    ]
    _PLACEHOLDER = re.compile(
        r"(?i)^(?:x{3,}|\*{3,}|\.{3,}|<[^>]*>|\$\{?[A-Za-z_][A-Za-z0-9_]*\}?|%\(?[A-Za-z_]+\)?s?|"
        r"\{\{.*\}\}|\$\(.*\)|none|null|nil|true|false|undefined|changeme|password|your[_\-].*|example.*|dummy.*|"
        r"placeholder.*|redacted.*|\[redacted.*|test|testing|secret|string|str|env)$"
    )
    _DOTTED_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)+$")
    #: Marks of a value that stands for a secret without being one: examples (AWS's documented
    #: ``AKIAIOSFODNN7EXAMPLE``), placeholders (``your-api-key``, ``xxxxx``, ``<token>``, ``***``),
    #: variable references (``${TOKEN:-}``, ``$TOKEN``, ``%TOKEN%``, ``{{ secrets.X }}``, ``process.env.X``)
    #: and redaction markers (``[REDACTED:…]``, ``<redacted>``).
    _FAKE_MARKS = re.compile(
        r"(?i)example|placeholder|redacted|x{5}|\*{3}|\.{3}|…|<[^>]*>|\$\{|\$\(|\{\{|your[_\-]?(?:api|secret|token|key|pass)|"
        r"dummy|changeme|replace[_\-]?me|fake[_\-]?(?:key|token|secret)|^\$[A-Za-z_]|^%[A-Za-z_]+%$|"
        r"process\.env|os\.environ|getenv"
    )
    _PEM_END = re.compile(r"-----END (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----")
    _PEM_BODY = re.compile(r"(?:\s*[A-Za-z0-9+/=]{16,}){0,400}")
    _B64_CHARS = re.compile(r"[A-Za-z0-9+/=]")
    _URL_PLACEHOLDER = re.compile(r"(?i)^(?:pwd|passwd|pass|pw|pword|secret|mypassword|yourpassword|pass(?:word)?123)$")
    _LOOPBACK = re.compile(r"(?i)(?:localhost|127\.0\.0\.1|0\.0\.0\.0|\[::1\]|host\.docker\.internal)(?![A-Za-z0-9.\-])")
    _compiled = True


if not TYPE_CHECKING:

    def __getattr__(name: str) -> Any:  # ``redact.SECRET_PATTERNS`` read from outside before first use
        if name in _LAZY:
            _compile()
            return globals()[name]
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def looks_fake(value: str) -> bool:
    """True for a matched "secret" that is an example, a placeholder, a variable reference or a
    redaction marker (see ``_FAKE_MARKS``), or mostly one character repeated."""
    if not _compiled:
        _compile()
    if _FAKE_MARKS.search(value) is not None:
        return True
    core = value.strip("\"'`")
    if len(set(core)) <= 1:
        return True
    # "ghp_000…0", "sk-…aaaaaaaa": one character making most of a long value is filler, not key material
    return len(core) >= 12 and max(core.count(c) for c in set(core)) > 0.6 * len(core)


def _generic_value_ok(m: re.Match[str]) -> bool:
    """Filter false positives of the ``password = value`` (credential) pattern (code, placeholders, types)."""
    value = m.group("secret") or m.group("bare") or ""
    if _PLACEHOLDER.match(value) or value.startswith("[REDACTED") or looks_fake(value):
        return False
    if re.fullmatch(r"[a-z]{1,12}", value.strip("\"'`")):
        return False  # one short lower-case word ("apiKey": "ollama", "changeme"): a dummy value, no key material
    if m.group("bare") is not None:
        # Unquoted: ``api_key=os.environ.get`` or ``password: Optional`` are code, not secrets.
        if _DOTTED_IDENT.match(value) or value.endswith(("(", ".")):
            return False
        if not re.search(r"[0-9]", value) and not re.search(r"[^A-Za-z_]", value):
            return False
        if value.isdigit() or value.startswith(("/", "~", "./", "../", "$", "%")):
            return False  # counts (max_token: 4096), paths, shell/template variables
    return True


#: Literals each pattern needs (``True``: look in the lower-cased text).  A pattern whose literals
#: are all absent is not run: scanning every pattern over every tool output dominated indexing.
_NEEDLES: dict[str, tuple[tuple[str, ...], bool]] = {
    "private_key": (("PRIVATE KEY",), False),
    "anthropic_key": (("sk-ant-",), False),
    "openai_key": (("sk-",), False),
    "aws_access_key": (("AKIA", "ASIA", "ABIA", "ACCA"), False),
    "aws_secret_key": (("aws", "secretaccess", "secret_access"), True),
    "aws_session_token": (("session_token", "sessiontoken", "security_token", "securitytoken"), True),
    "url_credential": (("://",), False),
    "github_token": (("ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_"), False),
    "slack_token": (("xox",), False),
    "slack_webhook": (("hooks.slack.com",), False),
    "google_api_key": (("AIza",), False),
    "stripe_key": (("_live_", "_test_"), False),
    "jwt": (("eyJ",), False),
    "bearer_token": (("bearer",), True),
    "credential": (("pass", "pwd", "secret", "key", "token"), True),
}
# the credential pattern also needs one of its keywords right before the ``:``/``=`` (searched in
# the lower-cased text; the loose form is a cheaper first test)
_CREDENTIAL_LOOSE = re.compile(r"(?:passw(?:or)?d|pwd|secret|key|token)[\"']?\s*[:=]")
_LOOSE_WORDS = ("passwd", "password", "pwd", "secret", "key", "token")  # the words of _CREDENTIAL_LOOSE
_ASSIGN_AFTER = re.compile(r"[\"']?\s*[:=]")  # what follows them in it
_CREDENTIAL_HINT = re.compile(
    r"(?:password|passwd|pwd|secret|api[_\-]?key|apikey|access[_\-]?token|auth[_\-]?token|client[_\-]?secret|"
    r"secret[_\-]?key|private[_\-]?key|token)[\"']?\s*[:=]"
)
# the cased literals as few scans as possible for long texts: a literal is found by ``str.find``
# (fast), a family of literals with a common prefix by a regex (which then scans for its prefix);
# an alternation of all literals is much slower in ``re``
_CASED_PREFIXED = (re.compile(r"A(?:KIA|SIA|BIA|CCA)"), re.compile(r"gh[pousr]_"))
_CASED_LITERALS = ("PRIVATE KEY", "sk-", "github_pat_", "xox", "hooks.slack.com", "AIza", "_live_", "_test_", "eyJ", "://")
_CASED_NEEDLES = re.compile("|".join(re.escape(n) for kind, (needles, folded) in _NEEDLES.items() if not folded for n in needles))
_FOLDED_NEEDLES = tuple(n for kind, (needles, folded) in _NEEDLES.items() if folded and kind != "credential" for n in needles)
_CREDENTIAL_WORDS = _NEEDLES["credential"][0]
# what ``_CREDENTIAL_HINT`` accepts right before "key"
_KEY_QUALIFIERS = ("api", "api_", "api-", "secret", "secret_", "secret-", "private", "private_", "private-")


def may_hold_secret(text: str | None) -> bool:
    """False when ``find_secrets(text)`` is surely empty: none of the patterns' literals occurs (a
    credential assignment needs its keyword right before ``:``/``=``).  A few scans of the text
    instead of every pattern's checks: the secret scan was most of the coach's time."""
    if not text:
        return False
    if _CASED_NEEDLES.search(text) is not None:
        return True
    low = text.lower()
    for n in _FOLDED_NEEDLES:
        if n in low:
            return True
    return (
        any(w in low for w in _CREDENTIAL_WORDS) and _CREDENTIAL_LOOSE.search(low) is not None and _CREDENTIAL_HINT.search(low) is not None
    )


class SecretMatch(NamedTuple):
    kind: str
    start: int
    end: int


_PEM_MAX = 16_384  # longest key block we look for an END line in


def _pem_end(text: str, header_end: int) -> int:
    """End of a private key block whose header ends at ``header_end`` (truncated blocks: the base64 body)."""
    end = _PEM_END.search(text, header_end, min(len(text), header_end + _PEM_MAX))
    if end is not None:
        return end.end()
    body = _PEM_BODY.match(text, header_end)
    return body.end() if body else header_end


def _pem_has_body(text: str, header_end: int, end: int) -> bool:
    """A key block holds key material: at least 32 base64 characters after its header."""
    n = 0
    for _ in _B64_CHARS.finditer(text, header_end, min(end, header_end + 4096)):
        n += 1
        if n >= 32:
            return True
    return False


#: Characters of text joined for one scan of :func:`secret_candidates` (bounds its memory).
_SCAN_BLOCK = 4_000_000


def secret_candidates(texts: list[str]) -> list[int]:
    """Indices (ascending) of the texts that may hold a secret: every ``i`` with
    ``may_hold_secret(texts[i])`` and maybe a few more.  The texts are scanned joined in blocks, a
    handful of scans per block instead of several per text (a session has tens of thousands of
    short texts)."""
    if sum(map(len, texts)) + len(texts) <= _SCAN_BLOCK:
        return _block_candidates(texts, 0, len(texts)) if texts else []
    out: list[int] = []
    i = 0
    while i < len(texts):
        j, size = i, 0
        while j < len(texts) and (size < _SCAN_BLOCK or j == i):
            size += len(texts[j]) + 1
            j += 1
        out += _block_candidates(texts, i, j)
        i = j
    return out


#: Python's ``\s`` in a str pattern (``tests/coach/test_fast_paths.py`` checks it), for the gate:
#: the Rust engine's ``\s`` leaves out U+001C..U+001F.
_PY_SPACE = r"[\t-\r\x1c-\x20\x{85}\x{a0}\x{1680}\x{2000}-\x{200a}\x{2028}\x{2029}\x{202f}\x{205f}\x{3000}]"


def _gate_patterns() -> tuple[str, str]:
    """What ``may_hold_secret`` looks for as patterns of the Rust engine (``regex`` crate syntax),
    matched in the text itself, not lower-cased: the cased literals and the folded ones under
    ``(?i)`` (simple case folding: it matches every text whose lower-cased form holds them, the
    Kelvin sign's "k" included; "İ" lower-cases to "i" and a combining dot, which no literal holds
    after an "i"), then the credential hint by its keywords' last words (a bare "key" only after
    api / secret / private: looser, and faster: ``(?i)`` makes too many literals of the whole
    keywords for the engine's literal search; two patterns are faster than one too)."""
    cased = [n for needles, folded in _NEEDLES.values() if not folded for n in needles]
    literals = "|".join(re.escape(n) for n in cased) + "|(?i:" + "|".join(re.escape(n) for n in _FOLDED_NEEDLES) + ")"
    hint = "(?i:passw(?:or)?d|pwd|secret|token|(?:api|secret|private)[_\\-]?key)[\"']?" + _PY_SPACE + "*[:=]"
    return literals, hint


_GATE: list[Callable[[str], bool] | None] = []


def _gate() -> Callable[[str], bool] | None:
    """``gate(text)``: False when ``may_hold_secret(text)`` surely is (scans by pydantic-core's Rust
    regex engine: sets of literals at gigabytes a second, where ``str.find`` looks for them one by
    one); None when the engine is not there."""
    if not _GATE:
        try:
            from pydantic_core import SchemaValidator, ValidationError, core_schema

            validators = [
                SchemaValidator(core_schema.str_schema(pattern=p, regex_engine="rust-regex")).validate_python for p in _gate_patterns()
            ]
        except Exception:  # noqa: BLE001 - another pydantic-core: the scans of ``_joined_candidates``
            _GATE.append(None)
        else:

            def gate(text: str) -> bool:
                for validate in validators:
                    try:
                        validate(text)
                    except ValidationError as e:  # a text that is no UTF-8 (a lone surrogate) is not judged
                        if not text.isascii() and e.errors(include_url=False)[0]["type"] != "string_pattern_mismatch":
                            return True
                    else:
                        return True
                return False

            _GATE.append(gate)
    return _GATE[0]


def _gated_candidates(texts: list[str], lo: int, hi: int, gate: Callable[[str], bool]) -> list[int]:
    """``may_hold_secret`` of the texts the gate lets through.  ASCII texts are gated joined: a join
    the gate rejects is rejected whole, one it passes is split in two (no literal holds a NUL: the
    gate passes a join only when it passes one of its texts).  The others one by one: the engine
    reads a wide text as UTF-8, made anew for every join."""
    blob = "\x00".join(texts[lo:hi])
    if blob.isascii():
        return _bisected(texts, list(range(lo, hi)), gate, blob)
    narrow = [i for i in range(lo, hi) if texts[i].isascii()]
    wide = [i for i in range(lo, hi) if not texts[i].isascii() and gate(texts[i]) and may_hold_secret(texts[i])]
    return sorted(_bisected(texts, narrow, gate) + wide) if narrow else wide


def _bisected(texts: list[str], idx: list[int], gate: Callable[[str], bool], blob: str | None = None) -> list[int]:
    if len(idx) <= 4:
        return [i for i in idx if gate(texts[i]) and may_hold_secret(texts[i])]
    if not gate("\x00".join([texts[i] for i in idx]) if blob is None else blob):
        return []
    mid = len(idx) // 2
    return _bisected(texts, idx[:mid], gate) + _bisected(texts, idx[mid:], gate)


def _block_candidates(texts: list[str], lo: int, hi: int) -> list[int]:
    gate = _gate()
    if gate is not None:
        return _gated_candidates(texts, lo, hi, gate)
    if hi - lo < 16:
        return [i for i in range(lo, hi) if may_hold_secret(texts[i])]
    # ASCII texts and the others are joined apart: one wide character makes the whole joined text
    # wide, and lower-casing a wide text is ten times slower (it was a third of the scan)
    ascii_ = [t.isascii() for t in texts[lo:hi]]
    if all(ascii_):
        return _joined_candidates(texts, range(lo, hi))
    wide = [i for i, a in zip(range(lo, hi), ascii_) if not a]
    narrow = [i for i, a in zip(range(lo, hi), ascii_) if a]
    return sorted(_joined_candidates(texts, narrow) + _joined_candidates(texts, wide))


# what makes "token" / "secret" a folded needle (``_NEEDLES``: session_token, sessiontoken, ...)
_TOKEN_PREFIXES = ("session_", "session", "security_", "security")
_SECRET_STARTS = ("secretaccess", "secret_access")


def _joined_candidates(texts: list[str], idx: range | list[int]) -> list[int]:
    """``_block_candidates`` of ``texts[i] for i in idx``: the texts joined, a few scans of the whole."""
    if len(idx) < 16:
        return [i for i in idx if may_hold_secret(texts[i])]
    block = [texts[i] for i in idx]
    blob = "\x00".join(block)  # no needle or hint contains or matches NUL: no match straddles two texts
    low = blob.lower()
    if len(low) != len(blob):  # lower-casing changed lengths (rare scripts): positions would not map
        return [i for i in idx if may_hold_secret(texts[i])]
    found: list[int] = []  # positions in ``blob`` of what ``may_hold_secret`` accepts
    add = found.append
    for n in _CASED_LITERALS:
        find = blob.find
        pos = find(n)
        while pos >= 0:
            add(pos)
            pos = find(n, pos + 1)
    for rx in _CASED_PREFIXED:
        for m in rx.finditer(blob):
            add(m.start())
    find = low.find
    for n in ("aws", "bearer"):  # the folded needles not found by the keyword scans below
        pos = find(n)
        while pos >= 0:
            add(pos)
            pos = find(n, pos + 1)
    # the credential keywords (``_LOOSE_WORDS``), each found by ``str.find`` with its ``:``/``=``
    # checked where it ends (the same places as ``_CREDENTIAL_LOOSE.finditer``, at a fraction of a
    # regex scan), then the exact keyword (a bare "key" counts only as api/secret/private key); the
    # folded needles holding a keyword (session_token, secret_access, ...) are found by its scan
    follows = _ASSIGN_AFTER.match
    pos = find("passw")
    while pos >= 0:
        if (low.startswith("passwd", pos) and follows(low, pos + 6) is not None) or (
            low.startswith("password", pos) and follows(low, pos + 8) is not None
        ):
            add(pos)
        pos = find("passw", pos + 1)
    pos = find("pwd")
    while pos >= 0:
        if follows(low, pos + 3) is not None:
            add(pos)
        pos = find("pwd", pos + 1)
    pos = find("secret")
    while pos >= 0:
        if low.startswith(_SECRET_STARTS, pos) or follows(low, pos + 6) is not None:
            add(pos)
        pos = find("secret", pos + 1)
    pos = find("key")
    while pos >= 0:
        if follows(low, pos + 3) is not None and low[max(0, pos - 8) : pos].endswith(_KEY_QUALIFIERS):
            add(pos)
        pos = find("key", pos + 1)
    pos = find("token")
    while pos >= 0:
        if follows(low, pos + 5) is not None or low[max(0, pos - 9) : pos].endswith(_TOKEN_PREFIXES):
            add(pos)
        pos = find("token", pos + 1)
    if not found:
        return []
    starts = list(itertools.accumulate((len(t) + 1 for t in block[:-1]), initial=0))
    at = bisect.bisect_right
    return [idx[k] for k in sorted({at(starts, pos) - 1 for pos in found})]


def _anchored(rx: re.Pattern[str], text: str, starts: Iterable[int]) -> Iterator[re.Match[str]]:
    """``rx.finditer(text)`` when every match of ``rx`` starts at one of ``starts`` (any order, more
    are fine): ``rx.match`` at those only instead of a search of the whole text (``rx`` matches no
    empty text)."""
    end = 0
    for pos in sorted(set(starts)):
        if pos < end:
            continue
        m = rx.match(text, pos)  # lookbehinds and ``\b`` see the text before ``pos``
        if m is not None:
            yield m
            end = m.end()


#: The keywords of the credential pattern end in one of these; the longest qualifier before one
#: ("private_" of private_key) is 8 characters.
_CREDENTIAL_TAILS = ("password", "passwd", "secret", "token")
_QUALIFIER_MAX = 8


def _credential_starts(low: str) -> list[int]:
    """Where a match of the credential pattern can start (``low``: the text folded as ``(?i)`` folds it):
    before a keyword's last word (password, passwd, secret, token, api/secret/private key) that an
    ``:``/``=`` follows (``_CREDENTIAL_HINT``), by as much as a qualifier's length."""
    ends: list[int] = []
    follows = _ASSIGN_AFTER.match
    for word in _CREDENTIAL_TAILS:
        pos = low.find(word)
        while pos >= 0:
            if follows(low, pos + len(word)) is not None:
                ends.append(pos)
            pos = low.find(word, pos + 1)
    pos = low.find("key")
    while pos >= 0:
        if follows(low, pos + 3) is not None and low[max(0, pos - 8) : pos].endswith(_KEY_QUALIFIERS):
            ends.append(pos)
        pos = low.find("key", pos + 1)
    return [p for q in ends for p in range(max(0, q - _QUALIFIER_MAX), q + 1)]


#: Where each pattern's matches start: (literals, in the lower-cased text?, least and most
#: characters before a literal).  Every match of the pattern starts so far before one of its
#: literals (``tests/coach/test_fast_paths.py`` checks the patterns against it); the literals of
#: a ``(?i)`` pattern are looked for in the text folded as ``(?i)`` folds it (``_SRE_FOLD``).  The
#: credential pattern has its own (``_credential_starts``).
_ANCHORS: dict[str, tuple[tuple[str, ...], bool, int, int]] = {
    "private_key": (("-----BEGIN ",), False, 0, 0),
    "anthropic_key": (("sk-ant-",), False, 0, 0),
    "openai_key": (("sk-",), False, 0, 0),
    "aws_access_key": (("AKIA", "ASIA", "ABIA", "ACCA"), False, 0, 0),
    "aws_secret_key": (("aws", "secret"), True, 0, 0),
    "aws_session_token": (("aws", "session", "security"), True, 0, 0),
    "url_credential": (("://",), False, 2, 31),  # the scheme: ``[a-z][a-z0-9+.\-]{1,30}``
    "github_token": (("ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_"), False, 0, 0),
    "slack_token": (("xox",), False, 0, 0),
    "slack_webhook": (("https://hooks.slack.com/services/T",), False, 0, 0),
    "google_api_key": (("AIza",), False, 0, 0),
    "stripe_key": (("_live_", "_test_"), False, 2, 2),  # sk_ / rk_
    "jwt": (("eyJ",), False, 0, 0),
    "bearer_token": (("authorization", "bearer"), True, 0, 0),
}


#: The letters ``re``'s ``(?i)`` matches with an ASCII one besides its two cases (its simple case
#: mapping, ``re._casefix``): translated first, lower-casing a text keeps every character's
#: position and makes each match of a ``(?i)`` literal a plain match (U+0130 is the one character
#: whose ``lower()`` is longer).
_SRE_FOLD = str.maketrans({"\u0130": "i", "\u0131": "i", "\u017f": "s", "\u212a": "k"})


def _anchor_starts(hay: str, literals: tuple[str, ...], least: int, most: int) -> list[int]:
    out: list[int] = []
    find = hay.find
    for lit in literals:
        pos = find(lit)
        while pos >= 0:
            if most:
                out.extend(range(max(0, pos - most), pos - least + 1))
            else:
                out.append(pos)
            pos = find(lit, pos + 1)
    return out


def find_secrets(text: str | None) -> list[SecretMatch]:
    """Return non-overlapping ``(kind, start, end)`` spans of likely secrets, in text order.

    When patterns overlap the earliest span wins; at one start a specific format (a vendor key, a
    URL's password) beats the generic ``key = value`` assignment, then the longest wins.  Examples,
    placeholders, variable references and redaction markers are no secrets (:func:`looks_fake`).
    """
    if not text:
        return []
    if not _compiled:
        _compile()
    candidates: list[tuple[int, bool, int, int, str]] = []  # start, generic, -length, priority, kind
    lower: str | None = None
    fold: str | None = None  # the text as ``(?i)`` sees it, letter for letter (``_SRE_FOLD``)
    for priority, pat in enumerate(SECRET_PATTERNS):
        needles, folded = _NEEDLES.get(pat.kind, ((), False))
        if needles:
            if folded and lower is None:
                lower = text.lower()
            hay = (lower or text) if folded else text
            if not any(n in hay for n in needles):
                continue
        # the pattern tried where a match can start (``_ANCHORS``), not searched for in the whole text
        anchors = _ANCHORS.get(pat.kind)
        matches: Iterable[re.Match[str]]
        if pat.kind == "credential" or (anchors is not None and anchors[1]):
            if fold is None:
                fold = text.lower() if text.isascii() else text.translate(_SRE_FOLD).lower()
            if anchors is None:  # the credential pattern
                matches = _anchored(pat.regex, text, _credential_starts(fold))
            else:
                matches = _anchored(pat.regex, text, _anchor_starts(fold, anchors[0], anchors[2], anchors[3]))
        elif anchors is not None:
            matches = _anchored(pat.regex, text, _anchor_starts(text, anchors[0], anchors[2], anchors[3]))
        else:
            matches = pat.regex.finditer(text)
        for m in matches:
            if pat.kind == "credential" and not _generic_value_ok(m):
                continue
            grp = "secret" if "secret" in pat.regex.groupindex and m.group("secret") is not None else None
            if grp is None and pat.kind == "credential":
                grp = "bare"
            start, end = m.span(grp) if grp else m.span()
            if pat.kind == "private_key":
                end = _pem_end(text, end)
                if not _pem_has_body(text, m.end(), end):
                    continue  # "-----BEGIN PRIVATE KEY-----\n...": documentation, not a key
            elif pat.kind == "url_credential" and (
                _PLACEHOLDER.match(text[start:end])
                or looks_fake(text[start:end])
                or _URL_PLACEHOLDER.match(text[start:end])
                or text[start:end].isdigit()
                or _LOOPBACK.match(text, end + 1)
            ):
                continue  # "admin:pwd@", a local development database: no credential worth a finding
            elif pat.kind != "credential" and looks_fake(text[start:end]):
                continue
            if end > start:
                candidates.append((start, pat.kind == "credential", -(end - start), priority, pat.kind))
    candidates.sort()  # at one start a specific format beats the generic ``key = value``
    out: list[SecretMatch] = []
    last_end = -1
    for start, _generic, neg_len, _prio, kind in candidates:
        if start >= last_end:
            out.append(SecretMatch(kind, start, start - neg_len))
            last_end = start - neg_len
    return out


def redact(text: str) -> str:
    """Replace every likely secret in ``text`` with ``[REDACTED:<kind>]``."""
    if not text or not may_hold_secret(text):
        return text
    spans = find_secrets(text)
    if not spans:
        return text
    parts: list[str] = []
    pos = 0
    for kind, start, end in spans:
        parts.append(text[pos:start])
        parts.append(f"[REDACTED:{kind}]")
        pos = end
    parts.append(text[pos:])
    return "".join(parts)


def _keyed(key: str, value: str) -> str | None:
    """The redacted value of a ``key: value`` member whose value alone looks harmless but whose key
    says what it is (``{"SecretAccessKey": "…"}``, ``{"password": "…"}``); None when it is no secret."""
    probe = f'"{key}": "{value}"'
    if not may_hold_secret(probe):
        return None
    start = len(key) + 5
    for kind, a, b in find_secrets(probe):
        if a >= start and b <= start + len(value):
            return f"[REDACTED:{kind}]"
    return None


def redact_obj(obj: Any, _key: str | None = None) -> Any:
    """Recursively redact every string inside a JSON-like value (dict keys are kept; a value is read
    together with its key, so ``{"password": "hunter2xyz"}`` is caught too)."""
    if isinstance(obj, str):
        out = redact(obj)
        if out == obj and _key is not None and len(obj) >= 6 and len(_key) <= 64:
            return _keyed(_key, obj) or obj
        return out
    if isinstance(obj, dict):
        return {k: redact_obj(v, k if isinstance(k, str) else None) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [redact_obj(v) for v in obj]
    return obj


def egress(obj: Any) -> Any:
    """THE redaction every egress applies (exports, LLM payloads, OTLP, a hub push): a string or a
    JSON-like value with every likely secret replaced by ``[REDACTED:<kind>]``."""
    return redact(obj) if isinstance(obj, str) else redact_obj(obj)


def mask(secret: str) -> str:
    """A safe preview of a secret: at most 4 leading characters and its length."""
    keep = 4 if len(secret) >= 16 else 2
    return f"{secret[:keep]}…({len(secret)} chars)"


def label(kind: str) -> str:
    if not _compiled:
        _compile()
    for pat in SECRET_PATTERNS:
        if pat.kind == kind:
            return pat.label
    return kind


def redact_event(ev: Any) -> Any:
    """A copy of an ``Event`` with its text, command, files and extra redacted (for display)."""
    upd: dict[str, Any] = {}
    if ev.text and may_hold_secret(ev.text):
        upd["text"] = redact(ev.text)
    if ev.command and may_hold_secret(ev.command):
        upd["command"] = redact(ev.command)
    if ev.extra:
        extra = redact_obj(ev.extra)
        if extra != ev.extra:
            upd["extra"] = extra
    if ev.files:
        files = [redact(f) for f in ev.files]
        if files != ev.files:
            upd["files"] = files
    return ev.model_copy(update=upd) if upd else ev
