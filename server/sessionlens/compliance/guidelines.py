"""Guidelines in AGENTS.md / CLAUDE.md: parsing, the ``sessionlens:`` annotation, built-in recognizers.

Every bullet (``-``, ``*``, ``+``, ``1.``) and every paragraph under a heading is a guideline with
its file and 1-based line.  A guideline is *checkable* when it carries an annotation, when a
built-in recognizer understands its wording, or when an LLM extraction (cached per file hash)
produced a check for it.

Annotation grammar (an HTML comment, invisible in rendered Markdown)::

    - Never force-push. <!-- sessionlens: must-not-run=/git\\s+push\\s+.*--force/ -->

    annotation := "<!--" ws* "sessionlens:" (ws | ";")* item ((ws | ";")+ item)* ws* "-->"
    item       := key ["=" value]
    value      := "/" regex "/"          (a Python regex; write "\\/" for a slash)
                | '"' text '"'           (write '\\"' for a quote)
                | bare                   (no spaces; lists are comma-separated)

Keys (repeatable where it makes sense): ``id``, ``rule``, ``must-run``, ``must-not-run``,
``must-use``, ``must-not-use``, ``must-not-edit``, ``files``, ``trigger``, ``when``,
``severity``.  Their meaning is in docs/compliance.md and in :class:`Check`.  A comment on its
own line directly under a guideline (no blank line between) belongs to that guideline.

Pure: no I/O.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from typing import Any

from sessionlens.coach.config import DEFAULT_TEST_COMMAND_PATTERNS

ANNOTATION_RE = re.compile(r"<!--\s*sessionlens:(.*?)-->", re.S)
_ANY_COMMENT_RE = re.compile(r"<!--.*?-->", re.S)
_HEADING_RE = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_BULLET_RE = re.compile(r"^(\s*)(?:[-*+]|\d{1,3}[.)])\s+(.*)$")
_FENCE_RE = re.compile(r"^\s*(```|~~~)")

LIST_KEYS = ("must-run", "must-not-run", "must-use", "must-not-use", "must-not-edit", "files", "trigger")
SCALAR_KEYS = ("id", "rule", "when", "severity")  # `label` is internal: never written or read
REGEX_KEYS = ("must-run", "must-not-run", "trigger")
WHEN_VALUES = ("always", "edit", "run", "tool")
SEVERITIES = ("error", "warning", "info", "hint")

# the tests any project may use: the coach's defaults
TEST_COMMAND_RE = "|".join(f"(?:{p})" for p in DEFAULT_TEST_COMMAND_PATTERNS)


class AnnotationError(ValueError):
    """A malformed annotation; ``offset`` is the character offset of the problem inside the comment body."""


@dataclass
class Check:
    """What makes a guideline checkable.  Every field is optional; see docs/compliance.md.

    * ``must_run``: regexes; each must match a shell command of the session (after the last
      relevant edit when the guideline applies because of edits).
    * ``must_not_run``: regexes; no shell command may match.
    * ``must_use`` / ``must_not_use``: tool names (``Bash``, ``WebFetch``, ``apply_patch``…).
    * ``must_not_edit``: file globs the session must not edit.
    * ``files``: file globs scoping the guideline: it applies only to sessions that edited a match.
    * ``trigger``: regexes over shell commands; when given, the guideline applies only to sessions
      that ran a matching command.
    * ``when``: ``always`` | ``edit`` | ``run`` (see docs); None picks the default per key.
    * ``rule``: a coach rule id: violated when that rule reports a finding in the session.
    """

    must_run: list[str] = field(default_factory=list)
    must_not_run: list[str] = field(default_factory=list)
    must_use: list[str] = field(default_factory=list)
    must_not_use: list[str] = field(default_factory=list)
    must_not_edit: list[str] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    trigger: list[str] = field(default_factory=list)
    when: str | None = None
    rule: str | None = None
    id: str | None = None
    severity: str | None = None
    label: str | None = None  # a readable description (built-in recognizers); not part of the annotation

    def is_empty(self) -> bool:
        return not (self.must_run or self.must_not_run or self.must_use or self.must_not_use or self.must_not_edit or self.rule)

    def to_annotation(self) -> str:
        """This check as an annotation comment (round-trips through :func:`parse_annotation`)."""
        return format_annotation(self)

    def summary(self) -> str:
        """A short human description, for hovers and the CLI."""
        if self.label:
            return self.label
        parts = []
        for label, vals in (
            ("must run", self.must_run),
            ("must not run", self.must_not_run),
            ("must use tool", self.must_use),
            ("must not use tool", self.must_not_use),
            ("must not edit", self.must_not_edit),
        ):
            if vals:
                parts.append(f"{label} " + " or ".join(f"`{v}`" for v in vals))
        if self.rule:
            parts.append(f"coach rule `{self.rule}` must not fire")
        if self.files:
            parts.append("for edits of " + ", ".join(f"`{v}`" for v in self.files))
        if self.trigger:
            parts.append("when " + " or ".join(f"`{v}`" for v in self.trigger) + " ran")
        if self.when:
            parts.append(f"when={self.when}")
        return "; ".join(parts) or "(nothing to check)"

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if v not in (None, [], "")}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "Check":
        kw: dict[str, Any] = {}
        for k in LIST_KEYS:
            attr = k.replace("-", "_")
            v = d.get(attr, d.get(k))
            if v:
                kw[attr] = [str(x) for x in (v if isinstance(v, list) else [v]) if str(x).strip()]
        for k in SCALAR_KEYS:
            v = d.get(k)
            if v not in (None, ""):
                kw[k] = str(v)
        return cls(**kw)

    def validate(self) -> list[str]:
        """Problems with this check (bad regexes, unknown values); empty when it is usable."""
        errs = []
        for attr in ("must_run", "must_not_run", "trigger"):
            for rx in getattr(self, attr):
                try:
                    re.compile(rx)
                except re.error as e:
                    errs.append(f"{attr.replace('_', '-')}: invalid regular expression /{rx}/: {e}")
        if self.when is not None and self.when not in WHEN_VALUES:
            errs.append(f"when={self.when}: expected one of {', '.join(WHEN_VALUES)}")
        if self.severity is not None and self.severity not in SEVERITIES:
            errs.append(f"severity={self.severity}: expected one of {', '.join(SEVERITIES)}")
        return errs


@dataclass
class Guideline:
    """One guideline of an instruction file."""

    path: str
    line: int  # 1-based first line
    end_line: int  # 1-based last line
    text: str  # the guideline's words, without annotations and list markers
    heading: str | None = None
    check: Check | None = None
    source: str | None = None  # "annotation" | "builtin" | "llm" | None (not checkable)
    errors: list[tuple[int, str]] = field(default_factory=list)  # (1-based line, message)
    annotated: bool = False

    @property
    def checkable(self) -> bool:
        return self.check is not None and not self.check.is_empty()

    @property
    def key(self) -> str:
        """Identity across versions and files: the annotation id, else the normalized text."""
        if self.check is not None and self.check.id:
            return "id:" + self.check.id
        return "text:" + normalize(self.text)

    @property
    def short(self) -> str:
        t = " ".join(self.text.split())
        return t if len(t) <= 90 else t[:87] + "…"


def normalize(text: str) -> str:
    t = _ANY_COMMENT_RE.sub("", text)
    t = re.sub(r"[`*_]", "", t)
    return re.sub(r"\s+", " ", t).strip().lower().rstrip(".")


# ------------------------------------------------------------------------------ annotation


def _tokens(body: str) -> list[tuple[str, str | None, int]]:
    """(key, raw value or None, offset) items of an annotation body."""
    out: list[tuple[str, str | None, int]] = []
    i, n = 0, len(body)
    while i < n:
        if body[i].isspace() or body[i] == ";":
            i += 1
            continue
        m = re.match(r"[A-Za-z][A-Za-z0-9_-]*", body[i:])
        if not m:
            raise AnnotationError(f"expected a key at {body[i : i + 12]!r}")
        key, start = m.group(0), i
        i += len(key)
        if i < n and body[i] == "=":
            i += 1
            if i < n and body[i] in '/"':
                q = body[i]
                j = i + 1
                buf = []
                while j < n and body[j] != q:
                    if body[j] == "\\" and j + 1 < n and body[j + 1] == q:
                        buf.append(q)
                        j += 2
                        continue
                    buf.append(body[j])
                    j += 1
                if j >= n:
                    raise AnnotationError(f"{key}: missing closing {q}")
                out.append((key, ("/" if q == "/" else "") + "".join(buf), start))
                i = j + 1
            else:
                word = re.match(r"[^\s;]*", body[i:])
                value = word.group(0) if word else ""
                out.append((key, value, start))
                i += len(value)
        else:
            out.append((key, None, start))
    return out


def parse_annotation(body: str) -> Check:
    """A :class:`Check` from an annotation's body (the text after ``sessionlens:``).

    Raises :class:`AnnotationError` on unknown keys, missing values or invalid regexes.
    """
    kw: dict[str, Any] = {}
    for key, raw, _ in _tokens(body):
        k = key.lower()
        if k not in LIST_KEYS and k not in SCALAR_KEYS:
            raise AnnotationError(f"unknown key {key!r}; known keys: {', '.join(SCALAR_KEYS + LIST_KEYS)}")
        if raw is None or raw in ("", "/"):
            raise AnnotationError(f"{key} needs a value ({key}=…)")
        is_regex = raw.startswith("/")
        value = raw[1:] if is_regex else raw
        attr = k.replace("-", "_")
        if k in LIST_KEYS:
            if k in REGEX_KEYS:
                vals = [value] if is_regex else [re.escape(value)]
            else:
                vals = [v for v in value.split(",") if v]
            kw.setdefault(attr, []).extend(vals)
        else:
            kw[attr] = value
    check = Check(**kw)
    errs = check.validate()
    if errs:
        raise AnnotationError("; ".join(errs))
    return check


def _quote(value: str, regex: bool) -> str:
    if regex:
        return "/" + value.replace("/", "\\/") + "/"
    if re.fullmatch(r"[^\s;\"/]+", value):
        return value
    return '"' + value.replace('"', '\\"') + '"'


def format_annotation(check: Check) -> str:
    """The annotation comment for ``check`` (keys in a stable order)."""
    items = []
    for k in ("id", "rule"):
        v = getattr(check, k)
        if v:
            items.append(f"{k}={_quote(v, False)}")
    for k in LIST_KEYS:
        for v in getattr(check, k.replace("-", "_")):
            items.append(f"{k}={_quote(v, k in REGEX_KEYS)}")
    for k in ("when", "severity"):
        v = getattr(check, k)
        if v:
            items.append(f"{k}={v}")
    return "<!-- sessionlens: " + " ".join(items) + " -->"


def rule_annotation(rule_id: str) -> str:
    """The annotation the coach's quick fix writes next to a guideline that came from coach rule ``rule_id``."""
    return format_annotation(Check(rule=rule_id))


# ------------------------------------------------------------------------------ recognizers

_TICK = r"`([^`]+)`"
_WORD = r"([A-Za-z0-9][\w.+-]*)"
_THING = rf"(?:{_TICK}|{_WORD})"
_NEG = r"(?:never|don't|do not|dont|must not|mustn't|should not|shouldn't|avoid)"


def command_regex(phrase: str) -> str:
    """A regex matching ``phrase`` as a shell command (its first word in command position)."""
    words = phrase.strip().split()
    if not words:
        return ""
    first = re.escape(words[0])
    rest = "".join(r"\s+" + re.escape(w) for w in words[1:])
    return (
        r"(?:^|[;&|(\n'\"`]|\$\()\s*(?:(?:sudo|env|time|exec|command|nohup|xargs)\s+(?:-\S+\s+)*)*"
        rf"(?:\S*/)?{first}(?![\w.-]){rest}"
    )


def _git(sub: str) -> str:
    return command_regex("git") + rf"\s+(?:-\S+\s+(?:\S+\s+)?)*{sub}\b"


_RECOGNIZERS: list[tuple[re.Pattern[str], Any]] = []


def _recognizer(pattern: str):
    def deco(fn):
        _RECOGNIZERS.append((re.compile(pattern, re.I), fn))
        return fn

    return deco


def _pick(m: re.Match, *groups: int) -> str | None:
    for g in groups:
        if m.group(g):
            return m.group(g)
    return None


@_recognizer(rf"\b(?:use|prefer|run)\s+{_THING}\s*(?:,\s*not|instead\s+of|rather\s+than|over|not)\s+{_THING}")
def _use_instead(m: re.Match) -> Check | None:
    good, bad = _pick(m, 1, 2), _pick(m, 3, 4)
    if not good or not bad or good.lower() == bad.lower():
        return None
    return Check(
        must_not_run=[command_regex(bad)],
        trigger=[command_regex(good), command_regex(bad)],
        label=f"must not run `{bad}` (when `{good}` or `{bad}` ran)",
    )


@_recognizer(rf"\b{_NEG}\s+(?:ever\s+)?(?:force[- ]push|push\s+(?:with\s+)?--force|push\s+-f)\b")
def _no_force_push(m: re.Match) -> Check:
    return Check(
        must_not_run=[_git("push") + r".*(?:--force|\s-f\b)"],
        trigger=[command_regex("git")],
        label="must not run `git push --force` (when git ran)",
    )


@_recognizer(rf"\b{_NEG}\s+(?:ever\s+)?(?:git\s+)?(commit|push)\b")
def _no_commit_push(m: re.Match) -> Check:
    sub = m.group(1).lower()
    return Check(must_not_run=[_git(sub)], trigger=[command_regex("git")], label=f"must not run `git {sub}` (when git ran)")


@_recognizer(rf"\b{_NEG}\s+(?:ever\s+)?(?:run|use|execute|call|invoke)\s+{_TICK}")
def _no_run(m: re.Match) -> Check:
    phrase = m.group(1)
    return Check(
        must_not_run=[command_regex(phrase)],
        trigger=[command_regex(phrase.split()[0])],
        label=f"must not run `{phrase}` (when `{phrase.split()[0]}` ran)",
    )


@_recognizer(r"\b(?:always\s+)?run\s+(?:the\s+|all\s+(?:the\s+)?)?(?:unit\s+)?tests?(?:\s+suite)?\b.*?\b(?:before|after)\b")
def _run_tests(m: re.Match) -> Check:
    return Check(must_run=[TEST_COMMAND_RE], when="edit", label="a test command must run after the last code edit")


@_recognizer(rf"\b(?:always\s+)?run\s+{_TICK}\s+(?:before|after)\b")
def _run_cmd(m: re.Match) -> Check:
    return Check(must_run=[command_regex(m.group(1))], when="edit", label=f"`{m.group(1)}` must run after the last code edit")


def recognize(text: str) -> Check | None:
    """A check from the guideline's wording (the common phrasings), or None."""
    plain = _ANY_COMMENT_RE.sub("", text)
    for rx, fn in _RECOGNIZERS:
        m = rx.search(plain)
        if m:
            check = fn(m)
            if check is not None:
                return check
    return None


# ------------------------------------------------------------------------------ parsing


@dataclass
class _Block:
    line: int
    end_line: int
    lines: list[str]
    heading: str | None


def _blocks(text: str) -> list[_Block]:
    """Bullets and heading-scoped paragraphs, with their source lines."""
    blocks: list[_Block] = []
    heading: str | None = None
    cur: _Block | None = None
    in_fence = False
    in_front = False
    lines = text.splitlines()
    for i, raw in enumerate(lines, start=1):
        s = raw.rstrip()
        if i == 1 and s == "---":
            in_front = True
            continue
        if in_front:
            if s in ("---", "..."):
                in_front = False
            continue
        if _FENCE_RE.match(s):
            in_fence = not in_fence
            cur = None
            continue
        if in_fence:
            continue
        if not s.strip():
            cur = None
            continue
        hm = _HEADING_RE.match(s)
        if hm:
            heading = hm.group(2).strip()
            cur = None
            continue
        bm = _BULLET_RE.match(s)
        only_comment = bool(ANNOTATION_RE.fullmatch(s.strip()))
        if bm and not only_comment:
            cur = _Block(i, i, [bm.group(2)], heading)
            blocks.append(cur)
            continue
        if cur is not None:  # continuation line (or the annotation line right under a guideline)
            cur.lines.append(s.strip())
            cur.end_line = i
            continue
        if only_comment or s.strip().startswith(("<!--", "|", ">")) and not s.strip().startswith("> "):
            continue
        cur = _Block(i, i, [s.strip()], heading)
        blocks.append(cur)
    return blocks


def parse_guidelines(text: str, path: str) -> list[Guideline]:
    """Every guideline of an instruction file, with its annotation or a built-in check."""
    out = []
    for b in _blocks(text):
        joined = "\n".join(b.lines)
        words = " ".join(_ANY_COMMENT_RE.sub("", joined).split())
        if not words and not ANNOTATION_RE.search(joined):
            continue
        g = Guideline(path=path, line=b.line, end_line=b.end_line, text=words, heading=b.heading)
        checks = []
        for m in ANNOTATION_RE.finditer(joined):
            g.annotated = True
            ln = b.line + joined[: m.start()].count("\n")
            try:
                checks.append(parse_annotation(m.group(1)))
            except AnnotationError as e:
                g.errors.append((ln, f"sessionlens annotation: {e}"))
        if checks:
            g.check = _merge(checks)
            g.source = "annotation"
        elif not g.errors:
            c = recognize(words)
            if c is not None:
                g.check, g.source = c, "builtin"
        out.append(g)
    return out


def _merge(checks: list[Check]) -> Check:
    if len(checks) == 1:
        return checks[0]
    merged = Check()
    for c in checks:
        for k in LIST_KEYS:
            getattr(merged, k.replace("-", "_")).extend(getattr(c, k.replace("-", "_")))
        for k in SCALAR_KEYS:
            if getattr(c, k):
                setattr(merged, k, getattr(c, k))
    return merged


def text_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "replace")).hexdigest()
