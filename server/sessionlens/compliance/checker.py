"""Checking sessions against the guidelines in effect, and the reports built from it.

Semantics (also in docs/compliance.md):

* A guideline **applies** to a session when its trigger happened: ``when=edit`` — the session
  edited a file (in ``files=`` when given; doc files don't count for ``must-run``);
  ``when=run`` — a shell command ran (one matching ``trigger=`` when given); ``when=tool`` — any
  tool was called; ``when=always``.  Defaults: ``must-run``/``must-use``/``must-not-edit`` →
  edit, ``must-not-run`` → run, ``must-not-use`` → tool, ``rule=`` → per coach rule.
* It is **violated** when it applies and a forbidden command/tool/edit happened, a required
  command/tool is missing (after the last relevant edit for ``when=edit``), or the named coach
  rule reported a finding.  Otherwise it was **followed**.
* Of two guidelines with the same key (``id=``, else the normalized text) the one in the file
  closer to the cwd wins.
"""

from __future__ import annotations

import dataclasses
import fnmatch
import logging
import os
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from sessionlens.coach.config import CoachConfig
from sessionlens.coach.evidence import SHELL_TOOLS, is_redacted
from sessionlens.coach.rules import EDIT_TOOLS
from sessionlens.compliance.guidelines import TEST_COMMAND_RE, Check, Guideline, command_regex, parse_guidelines, text_hash
from sessionlens.compliance.instructions import InstructionFile, instruction_files, is_instruction_file
from sessionlens.models import Event, EventKind, EventRef, Finding, Severity
from sessionlens.models.store import StoredSession

log = logging.getLogger(__name__)

RULE_ID = "guideline-violation"
#: Bump when the checks' semantics change: stored guideline findings are then recomputed.
CHECKER_VERSION = 2
RECENT_SESSIONS = 20  # the window of the lenses, hovers and `sessionlens rules`
RETIRE_MIN_SESSIONS = 3  # "never relevant — retire it?" needs at least this many checked sessions
MAX_EVIDENCE = 20
DOC_EXT = tuple(CoachConfig().doc_file_extensions)  # the coach's defaults (a project may configure others)
EXTRACT_CACHE_PREFIX = "guidelines:"

_RULE_WHEN = {
    "no-tests-after-edit": "edit",
    "patch-failed": "edit",
    "tool-error": "tool",
    "repeated-failure": "tool",
    "huge-tool-output": "tool",
    "slow-tool-call": "tool",
    "rejected-tool-use": "tool",
}


@dataclass
class GuidelineResult:
    """How one session did against one guideline."""

    guideline: Guideline
    file: InstructionFile
    session_id: str
    status: str  # "violated" | "followed" | "not-applicable" | "unknown" (the deciding commands are redacted)
    evidence: list[tuple[int, str]] = field(default_factory=list)  # (seq, what happened)
    current_line: int | None = None  # the guideline's line in the current file (None: no longer there)

    def to_dict(self) -> dict[str, Any]:
        g = self.guideline
        return {
            "session_id": self.session_id,
            "status": self.status,
            "path": g.path,
            "line": g.line,
            "current_line": self.current_line,
            "guideline": g.text,
            "key": g.key,
            "source": g.source,
            "check": g.check.to_dict() if g.check else None,
            "commit": self.file.commit,
            "evidence": [{"seq": s, "note": n} for s, n in self.evidence],
        }


# ------------------------------------------------------------------------------ session facts


@dataclass
class _Facts:
    commands: list[tuple[int, str]]
    tools: list[tuple[int, str]]
    edits: list[tuple[int, list[str]]]  # (seq, files relative to the cwd when possible)
    rule_hits: dict[str, list[tuple[int, str]]]
    last_seq: int
    opaque: list[int] = field(default_factory=list)  # tool calls whose command the log does not show (redacted)


def _facts(session: StoredSession, events: Sequence[Event], findings: Sequence[Finding]) -> _Facts:
    cwd = (session.cwd or "").rstrip("/")
    commands, tools, edits = [], [], []
    seen_calls: set[str] = set()

    def rel(f: str) -> str:
        return f[len(cwd) + 1 :] if cwd and f.startswith(cwd + "/") else f

    opaque: list[int] = []
    for e in sorted(events, key=lambda x: x.seq):
        if e.duplicate:
            continue
        if e.kind in (EventKind.TOOL_CALL, EventKind.PATCH):
            if e.tool:
                tools.append((e.seq, e.tool))
            if e.command and e.kind is EventKind.TOOL_CALL and not is_redacted(e.command):
                commands.append((e.seq, e.command))
            elif e.kind is EventKind.TOOL_CALL and (
                is_redacted(e.tool) or ((e.tool in SHELL_TOOLS or e.command) and (e.command is None or is_redacted(e.command)))
            ):
                opaque.append(e.seq)
            is_edit = e.kind is EventKind.PATCH or e.tool in EDIT_TOOLS or (e.command or "").lstrip().startswith("apply_patch")
            if is_edit and not (e.call_id and e.call_id in seen_calls):
                if e.call_id:
                    seen_calls.add(e.call_id)
                edits.append((e.seq, [rel(f) for f in e.files]))
    hits: dict[str, list[tuple[int, str]]] = {}
    for f in findings:
        if f.rule_id != RULE_ID:
            hits.setdefault(f.rule_id, []).append((f.seq, f.message))
    last = max((e.seq for e in events), default=1)
    return _Facts(commands, tools, edits, hits, last, opaque)


def _glob_match(path: str, globs: Sequence[str]) -> bool:
    name = path.rsplit("/", 1)[-1]
    return any(fnmatch.fnmatch(path, g) or ("/" not in g and fnmatch.fnmatch(name, g)) for g in globs)


def _default_when(c: Check) -> str:
    if c.when:
        return c.when
    if c.must_run or c.must_use or c.must_not_edit:
        return "edit"
    if c.must_not_run:
        return "run"
    if c.must_not_use:
        return "tool"
    if c.rule:
        return _RULE_WHEN.get(c.rule, "always")
    return "always"


_LEADING_WORD = re.compile(r"^(?:\^|\\b|\(\?:\^\|\)\s*)*([A-Za-z][\w.+-]*)")


def _implied_triggers(check: Check, when: str) -> list[str]:
    """``must-not-run=/git push .../`` without ``trigger=`` applies when its program (``git``) ran."""
    if when != "run" or not check.must_not_run:
        return []
    words = []
    for rx in check.must_not_run:
        m = _LEADING_WORD.match(rx)
        if not m:
            return []  # a pattern without a plain leading program: any command triggers
        words.append(command_regex(m.group(1)))
    return words


def project_check(check: Check, config: CoachConfig | None) -> Check:
    """``check`` with the project's configured test-command patterns where it says "a test command" (as the coach)."""
    if config is None or TEST_COMMAND_RE not in check.must_run:
        return check
    mine = "|".join(f"(?:{p})" for p in config.test_command_patterns)
    return dataclasses.replace(check, must_run=[mine if p == TEST_COMMAND_RE else p for p in check.must_run])


def evaluate(check: Check, facts: _Facts, config: CoachConfig | None = None) -> tuple[str, list[tuple[int, str]]]:
    """(status, evidence) of one session against one check; ``config``: the project's coach configuration
    (its test-command patterns and documentation extensions, as the coach's rules use them)."""
    check = project_check(check, config)
    doc_ext = tuple(e.lower() for e in config.doc_file_extensions) if config is not None else DOC_EXT
    when = _default_when(check)
    if check.files:
        scoped = [(s, fs) for s, fs in facts.edits if any(_glob_match(f, check.files) for f in fs)]
    elif check.must_run or check.must_use:
        scoped = [(s, fs) for s, fs in facts.edits if not fs or not all(f.lower().endswith(doc_ext) for f in fs)]
    else:
        scoped = list(facts.edits)
    triggers = [re.compile(t) for t in (check.trigger or _implied_triggers(check, when))]
    triggered = [(s, c) for s, c in facts.commands if any(t.search(c) for t in triggers)]
    applies = {"always": True, "edit": bool(scoped), "run": bool(triggered if triggers else facts.commands), "tool": bool(facts.tools)}.get(
        when, True
    )
    if check.files and not scoped:
        applies = False
    if triggers and when != "run" and not triggered:
        applies = False
    if not applies:
        return "not-applicable", []
    ev: list[tuple[int, str]] = []
    for rx in check.must_not_run:
        r = re.compile(rx)
        ev += [(s, f"ran `{_short(c)}`") for s, c in facts.commands if r.search(c)]
    low = {t.lower() for t in check.must_not_use}
    ev += [(s, f"used the tool {t}") for s, t in facts.tools if t.lower() in low]
    if check.must_not_edit:
        for s, fs in facts.edits:
            bad = [f for f in fs if _glob_match(f, check.must_not_edit)]
            if bad:
                ev.append((s, "edited " + ", ".join(bad[:3])))
    if check.rule:
        ev += [(s, f"coach rule {check.rule}: {_short(m)}") for s, m in facts.rule_hits.get(check.rule, [])]
    after = scoped[-1][0] if (when == "edit" and scoped) else 0
    anchor = scoped[-1][0] if scoped else facts.last_seq
    hidden_after = any(s > after for s in facts.opaque)  # a redacted command may have been the required one
    for rx in check.must_run:
        r = re.compile(rx)
        if not any(s > after and r.search(c) for s, c in facts.commands) and not hidden_after:
            where = f" after the last edit (line {after})" if after else ""
            what = "no test command" if check.label and "test command" in check.label else f"no command matching /{_short(rx, 60)}/"
            ev.append((anchor, f"{what} ran{where}"))
    for tool in check.must_use:
        if not any(s > after and t.lower() == tool.lower() for s, t in facts.tools):
            ev.append((anchor, f"the tool {tool} was not used" + (f" after the last edit (line {after})" if after else "")))
    ev.sort()
    if ev:
        return "violated", ev[:MAX_EVIDENCE]
    # nothing seen violates it; but a command the log hides may have been the forbidden one, or the
    # required one's absence may be a redaction: that is unknown, not "followed"
    if facts.opaque and (check.must_not_run or check.trigger) or (check.must_run and any(s > after for s in facts.opaque)):
        return "unknown", []
    return "followed", []


def _short(s: str, n: int = 100) -> str:
    s = " ".join(s.split())
    return s if len(s) <= n else s[: n - 1] + "…"


# ------------------------------------------------------------------------------ guidelines in effect


def cached_extraction(cache_get: Callable[[str], str | None] | None, text: str) -> dict[str, Check]:
    """Checks an LLM extracted earlier for this exact file text, keyed by guideline key and ``line:N``."""
    if cache_get is None:
        return {}
    raw = cache_get(EXTRACT_CACHE_PREFIX + text_hash(text))
    if not raw:
        return {}
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return {}
    out: dict[str, Check] = {}
    for item in data.get("guidelines") or []:
        c = Check.from_dict(item.get("check") or {})
        if c.is_empty() or c.validate():
            continue
        if item.get("key"):
            out[item["key"]] = c
        if item.get("line"):
            out[f"line:{item['line']}"] = c
    return out


def file_guidelines(f: InstructionFile, cache_get=None) -> list[Guideline]:
    gs = parse_guidelines(f.text, f.path)
    extracted = cached_extraction(cache_get, f.text)
    if extracted:
        for g in gs:
            if g.check is None and not g.errors:
                c = extracted.get(g.key) or extracted.get(f"line:{g.line}")
                if c is not None:
                    g.check, g.source = c, "llm"
    return gs


def effective_guidelines(files: Sequence[InstructionFile], cache_get=None) -> list[tuple[Guideline, InstructionFile]]:
    """Checkable guidelines in effect; for equal keys the more specific file (later) wins."""
    chosen: dict[str, tuple[Guideline, InstructionFile]] = {}
    for f in files:
        for g in file_guidelines(f, cache_get):
            if g.checkable:
                chosen.pop(g.key, None)  # re-insert: keeps the order of the winning file
                chosen[g.key] = (g, f)
    return list(chosen.values())


def _current_lines(path: str, _cache: dict[str, tuple[float, dict[str, int]]] = {}) -> dict[str, int]:  # noqa: B006  (a deliberate per-process cache)
    try:
        mtime = os.stat(path).st_mtime_ns
    except OSError:
        return {}
    hit = _cache.get(path)
    if hit and hit[0] == mtime:
        return hit[1]
    try:
        text = Path(path).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return {}
    lines: dict[str, int] = {}
    for g in parse_guidelines(text, path):
        lines.setdefault(g.key, g.line)
    _cache[path] = (mtime, lines)
    return lines


def check_session(
    session: StoredSession,
    events: Sequence[Event],
    findings: Sequence[Finding],
    *,
    workspace_folders: Sequence[str] = (),
    home: str | None = None,
    cache_get=None,
    config: CoachConfig | None = None,
) -> list[GuidelineResult]:
    """Every checkable guideline in effect for ``session`` (a store session dict), with its status."""
    files, _ = instruction_files(session, workspace_folders=workspace_folders, home=home)
    if not files:
        return []
    facts = _facts(session, events, findings)
    out = []
    for g, f in effective_guidelines(files, cache_get):
        if g.check is None:  # checkable guidelines have a check
            continue
        status, ev = evaluate(g.check, facts, config)
        cur = g.line if not f.at_commit else _current_lines(f.path).get(g.key)
        out.append(GuidelineResult(g, f, session.id, status, ev, cur))
    return out


def violation_findings(results: Sequence[GuidelineResult], session: StoredSession) -> list[Finding]:
    """``guideline-violation`` findings: one per violating event, related to the guideline's line."""
    out = []
    for r in results:
        if r.status != "violated":
            continue
        g, f = r.guideline, r.file
        name = Path(f.path).name
        line = r.current_line or g.line
        where = f"{name}:{line}"
        note = f"guideline in {name}:{line}"
        if f.at_commit:
            note += f" (as of commit {(f.commit or '')[:10]}" + ("" if r.current_line else "; no longer in the file") + ")"
        sev = Severity(g.check.severity) if g.check and g.check.severity else Severity.WARNING
        for seq, what in r.evidence:
            out.append(
                Finding(
                    rule_id=RULE_ID,
                    severity=sev,
                    session_id=session.id,
                    seq=seq,
                    message=f"Guideline not followed ({where}): {g.short} — {what}",
                    related=[EventRef(session_id=session.id, seq=seq, path=f.path, line=line, note=note)],
                    data={
                        "guideline": g.text,
                        "guideline_path": f.path,
                        "guideline_line": line,
                        "guideline_key": g.key,
                        "source": g.source,
                        "commit": f.commit,
                    },
                )
            )
    return out


def instructions_fingerprint(session: StoredSession, *, workspace_folders: Sequence[str] = ()) -> str:
    """What the guideline findings of ``session`` depend on besides its events: the instruction files
    in effect (paths and text hashes) and the checker's version."""
    files, _ = instruction_files(session, workspace_folders=workspace_folders)
    return f"checker:{CHECKER_VERSION};" + ";".join(f"{f.path}={text_hash(f.text)}@{f.commit or ''}" for f in files)


def session_compliance_findings(
    session: StoredSession,
    events: Sequence[Event],
    findings: Sequence[Finding],
    *,
    workspace_folders: Sequence[str] = (),
    cache_get=None,
    config: CoachConfig | None = None,
) -> list[Finding]:
    """What the indexer stores next to the coach findings of one session log (``config``: its project's)."""
    results = check_session(session, events, findings, workspace_folders=workspace_folders, cache_get=cache_get, config=config)
    return violation_findings(results, session)


# ------------------------------------------------------------------------------ reports over sessions


def _findings_of(app, session_id: str) -> list[Finding]:
    from sessionlens.store import finding_from_row

    return [finding_from_row(r) for r in app.db().findings(session_id=session_id) if r.rule_id != RULE_ID]


def guideline_results(app, session_id: str) -> list[GuidelineResult]:
    """Results of one indexed session (by id, prefix or log path) against its guidelines.

    For eval checks ("guideline followed"): ``[r for r in results if r.guideline.key == ...]``.
    """
    s = app.resolve_session(session_id)
    events = app.db().events(s.file_id)
    return check_session(s, events, _findings_of(app, s.id), workspace_folders=app.workspace_folders, cache_get=app.db().cache_get)


def guideline_followed(app, session_id: str, guideline: str) -> tuple[bool | None, str]:
    """For eval suites: did the session follow ``guideline`` (an ``id=`` or its text)?

    Returns (True|False, message), or (None, message) when the guideline did not apply or is not
    in effect for the session.
    """
    from sessionlens.compliance.guidelines import normalize

    want = {"id:" + guideline, "text:" + normalize(guideline)}
    for r in guideline_results(app, session_id):
        if r.guideline.key in want:
            if r.status == "not-applicable":
                return None, f"the guideline did not apply to this session ({r.guideline.short})"
            if r.status == "unknown":
                return None, f"unknown: commands the guideline depends on are redacted in the log ({r.guideline.short})"
            if r.status == "followed":
                return True, f"followed: {r.guideline.short}"
            seq, what = r.evidence[0]
            return False, f"violated at line {seq}: {what}"
    return None, f"no checkable guideline {guideline!r} is in effect for this session"


def _scope_dir(path: str) -> str:
    p = Path(path)
    if p.parent.name in (".ruler", ".claude"):
        return str(p.parent.parent)
    return str(p.parent)


def _same(a: str, b: str) -> bool:
    return os.path.realpath(a) == os.path.realpath(b)


def report(app, *, path: str | None = None, project: str | None = None, limit: int = RECENT_SESSIONS) -> dict[str, Any]:
    """Per-guideline statistics over the ``limit`` most recent sessions.

    ``path``: one instruction file — the sessions it was in effect for.  ``project``: every
    instruction file of the project's sessions.  Rows are keyed by (file, guideline key).
    """
    db = app.db()
    if path:
        home = os.path.expanduser("~")
        user_level = path.startswith(os.path.join(home, ".codex") + "/") or path.startswith(os.path.join(home, ".claude") + "/")
        cands = db.list_sessions(limit=max(limit * 10, 200), projects_under=[] if user_level else [_scope_dir(path)])
    else:
        cands = db.list_sessions(project=project, limit=limit) if project else db.list_sessions(limit=limit)
    rows: dict[tuple[str, str], dict[str, Any]] = {}
    checked = 0
    for s in cands:
        if checked >= limit:
            break
        events = db.events(s.file_id)
        results = check_session(s, events, _findings_of(app, s.id), workspace_folders=app.workspace_folders, cache_get=db.cache_get)
        if path is not None:
            files, _ = instruction_files(s, workspace_folders=app.workspace_folders)
            if not any(_same(f.path, path) for f in files):
                continue
            results = [r for r in results if _same(r.file.path, path)]
        checked += 1
        for r in results:
            g = r.guideline
            row = rows.setdefault(
                (r.file.path, g.key),
                {
                    "path": r.file.path,
                    "line": r.current_line or g.line,
                    "guideline": g.text,
                    "key": g.key,
                    "source": g.source,
                    "check": g.check.summary() if g.check else "",
                    "sessions": 0,
                    "applied": 0,
                    "followed": 0,
                    "violated": 0,
                    "violations": [],
                },
            )
            row["sessions"] += 1
            if r.status in ("violated", "followed"):
                row["applied"] += 1
            if r.status == "followed":
                row["followed"] += 1
            if r.status == "violated":
                row["violated"] += 1
                seq, what = r.evidence[0]
                row["violations"].append(
                    {
                        "session_id": s.id,
                        "title": s.title,
                        "seq": seq,
                        "note": what,
                        "events": len(r.evidence),
                        "link": app.deep_link_for(s.id, seq),
                    }
                )
    out = sorted(rows.values(), key=lambda r: (r["path"], r["line"]))
    for row_ in out:
        row_["never_relevant"] = row_["applied"] == 0 and row_["sessions"] >= RETIRE_MIN_SESSIONS
    return {"sessions": checked, "rows": out}


def lens_title(row: dict[str, Any]) -> str:
    if row["applied"] == 0:
        return f"never relevant in the last {row['sessions']} session{'s' if row['sessions'] != 1 else ''}"
    v = row["violated"]
    text = f"followed in {row['followed']} of {row['applied']} recent session{'s' if row['applied'] != 1 else ''}"
    return text + (f" · {v} violation{'s' if v != 1 else ''}" if v else "")


__all__ = [
    "RULE_ID",
    "GuidelineResult",
    "check_session",
    "evaluate",
    "effective_guidelines",
    "guideline_followed",
    "guideline_results",
    "is_instruction_file",
    "lens_title",
    "report",
    "session_compliance_findings",
    "violation_findings",
]
