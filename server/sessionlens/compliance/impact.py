"""The guideline loop: did adding a guideline to AGENTS.md / CLAUDE.md make the agent better?

For each guideline of an instruction file:

* **when it appeared**: the oldest commit of the file's git history from which on it has been in
  the file without interruption (its key: the annotation ``id=`` or the normalized text); a
  guideline only in the working tree (e.g. just written by the coach's quick fix) appeared at the
  file's modification time;
* **the sessions before and after**: the project's sessions (those that read this file) started
  before / after that moment;
* **how often it was violated**: its check evaluated on every session, before as well as after (the
  check describes behaviour, whether or not the agent was told);
* **the outcomes it is meant to move**, per session: tool errors, repeated failures, sessions whose
  edits were tested, turns, tokens and cost;
* **is the difference real**: Fisher's exact test on violated / followed sessions, with a "too few
  sessions" note below :data:`MIN_SESSIONS` a side.

Guidelines never violated since they were added (over at least :data:`RETIRE_AFTER` sessions) are
suggested for retirement: the agent no longer needs telling.

The functions taking ``app`` read the store through ``app.db()`` (the services facade, duck-typed:
nothing here imports a higher layer).
"""

from __future__ import annotations

import logging
import math
import os
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from sessionlens.coach.config import CoachConfig
from sessionlens.coach.rules import Context, _test_patterns, tests_after_edit
from sessionlens.compliance.checker import RULE_ID, _facts, _scope_dir, evaluate, file_guidelines
from sessionlens.compliance.guidelines import Guideline, parse_guidelines
from sessionlens.compliance.instructions import InstructionFile, git_root, instruction_files, show_at
from sessionlens.models import EventKind, Finding, Severity
from sessionlens.models.listing import SessionSummary
from sessionlens.models.store import StoredSession
from sessionlens.store import session_from_row

log = logging.getLogger(__name__)
_CONFIG = CoachConfig()
_PATTERNS = _test_patterns(tuple(_CONFIG.test_command_patterns))

MIN_SESSIONS = 5  # fewer applicable sessions on a side: "too few sessions" instead of a p-value
RETIRE_AFTER = 10  # never violated in this many applicable sessions since it was added: suggest retiring it
COACH_HEADING = "## Guidelines from sessionlens"  # where the coach's quick fix writes (services.coaching)
_GIT_TIMEOUT = 10

#: The outcome each coach rule is meant to move (a guideline annotated ``rule=`` moves its own).
RULE_OUTCOME = {
    "tool-error": "tool_errors",
    "repeated-failure": "repeated_failures",
    "no-tests-after-edit": "tested_share",
    "patch-failed": "tool_errors",
}
OUTCOME_LABELS = {
    "tool_errors": "tool errors",
    "repeated_failures": "repeated failures",
    "tested_share": "edits tested",
    "turns": "turns",
    "tokens": "tokens",
    "cost_usd": "cost",
}


# ------------------------------------------------------------------------------ statistics


def fisher_exact(a: int, b: int, c: int, d: int) -> float:
    """Two-sided p-value of Fisher's exact test on the 2x2 table [[a, b], [c, d]]."""
    n = a + b + c + d
    if n == 0:
        return 1.0
    row1, col1 = a + b, a + c

    def p(x: int) -> float:
        return math.comb(col1, x) * math.comb(n - col1, row1 - x) / math.comb(n, row1)

    lo, hi = max(0, row1 + col1 - n), min(row1, col1)
    observed = p(a)
    return min(1.0, sum(q for x in range(lo, hi + 1) if (q := p(x)) <= observed * (1 + 1e-9)))


def significance(before: "Side", after: "Side") -> dict[str, Any]:
    """Fisher's exact test on violated vs followed, before vs after, with a plain-words note."""
    if before.applied < MIN_SESSIONS or after.applied < MIN_SESSIONS:
        return {
            "p_value": None,
            "note": f"too few sessions to tell ({before.applied} before, {after.applied} after; at least {MIN_SESSIONS} each)",
        }
    pv = fisher_exact(before.violated, before.applied - before.violated, after.violated, after.applied - after.violated)
    if pv < 0.05:
        note = f"a real change (Fisher's exact test p={pv:.3f})"
    else:
        note = f"could be chance (Fisher's exact test p={pv:.2f})"
    return {"p_value": pv, "note": note}


# ------------------------------------------------------------------------------ data


@dataclass
class SessionOutcome:
    """One session as the impact view counts it."""

    session_id: str
    started_at: float | None
    status: str  # the guideline's check: "violated" | "followed" | "not-applicable" | "unchecked"
    tool_errors: int = 0
    repeated_failures: int = 0
    edited: bool = False
    tested: bool | None = None  # edits tested afterwards (None: no edits, or unknown)
    turns: int = 0
    tokens: int = 0
    cost_usd: float = 0.0
    evidence: tuple[int, str] | None = None  # first violation (seq, note)


@dataclass
class Side:
    """The sessions on one side of the guideline's appearance."""

    sessions: int = 0
    applied: int = 0
    violated: int = 0
    tool_errors: int = 0
    repeated_failures: int = 0
    edit_sessions: int = 0  # sessions with edits whose testing is known
    tested_sessions: int = 0
    turns: int = 0
    tokens: int = 0
    cost_usd: float = 0.0
    violations: list[dict[str, Any]] = field(default_factory=list)

    def add(self, o: SessionOutcome) -> None:
        self.sessions += 1
        if o.status in ("violated", "followed"):
            self.applied += 1
        if o.status == "violated":
            self.violated += 1
            if o.evidence:
                self.violations.append({"session_id": o.session_id, "seq": o.evidence[0], "note": o.evidence[1]})
        self.tool_errors += o.tool_errors
        self.repeated_failures += o.repeated_failures
        if o.tested is not None:
            self.edit_sessions += 1
            self.tested_sessions += int(o.tested)
        self.turns += o.turns
        self.tokens += o.tokens
        self.cost_usd += o.cost_usd

    def per_session(self, metric: str) -> float | None:
        if metric == "tested_share":
            return self.tested_sessions / self.edit_sessions if self.edit_sessions else None
        if not self.sessions:
            return None
        return getattr(self, metric) / self.sessions

    def to_dict(self) -> dict[str, Any]:
        d = {
            k: getattr(self, k)
            for k in (
                "sessions",
                "applied",
                "violated",
                "tool_errors",
                "repeated_failures",
                "edit_sessions",
                "tested_sessions",
                "turns",
                "tokens",
            )
        }
        d["cost_usd"] = round(self.cost_usd, 6)
        d["per_session"] = {m: self.per_session(m) for m in OUTCOME_LABELS}
        d["violations"] = self.violations[:20]
        return d


@dataclass
class Appearance:
    """When a guideline appeared in its file."""

    ts: float
    commit: str | None  # None: only in the working tree (not committed yet)
    how: str  # "git" | "working-tree"

    @property
    def date(self) -> str:
        return datetime.fromtimestamp(self.ts, timezone.utc).strftime("%Y-%m-%d")


# ------------------------------------------------------------------------------ git history


def _git(root: str, *args: str) -> str | None:
    try:
        r = subprocess.run(["git", "-C", root, *args], capture_output=True, timeout=_GIT_TIMEOUT, check=False)
    except (OSError, subprocess.SubprocessError) as e:
        log.info("git %s failed in %s: %s", args[0], root, e)
        return None
    return r.stdout.decode("utf-8", "replace") if r.returncode == 0 else None


def file_history(path: str) -> list[tuple[str, float]]:
    """(commit, commit time) of the commits that changed ``path``, oldest first ([] outside git)."""
    root = git_root(os.path.dirname(os.path.abspath(path)))
    if root is None:
        return []
    rel = os.path.relpath(os.path.realpath(path), os.path.realpath(root))
    out = _git(root, "log", "--format=%H %ct", "--", rel)
    if not out:
        return []
    rows = []
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[1].isdigit():
            rows.append((parts[0], float(parts[1])))
    return list(reversed(rows))


def appearances(path: str, text: str) -> dict[str, Appearance]:
    """{guideline key: when it appeared} for the guidelines of ``text`` (the file as it is now)."""
    keys = [g.key for g in parse_guidelines(text, path)]
    history = file_history(path)
    root = git_root(os.path.dirname(os.path.abspath(path))) if history else None
    rel = os.path.relpath(os.path.realpath(path), os.path.realpath(root)) if root else ""
    versions: list[tuple[str, float, set[str]]] = []
    for commit, ts in history:
        t = show_at(root, commit, rel) if root else None
        versions.append((commit, ts, {g.key for g in parse_guidelines(t, path)} if t is not None else set()))
    try:
        mtime = os.stat(path).st_mtime
    except OSError:
        mtime = None
    out: dict[str, Appearance] = {}
    for key in keys:
        since: tuple[str, float] | None = None
        for commit, ts, present in versions:  # the start of the last uninterrupted run up to now
            if key in present:
                if since is None:
                    since = (commit, ts)
            else:
                since = None
        if since is not None and versions and key in versions[-1][2]:
            out[key] = Appearance(since[1], since[0], "git")
        elif mtime is not None:  # in the working tree only
            out[key] = Appearance(mtime, None, "working-tree")
    return out


# ------------------------------------------------------------------------------ sessions


def _reads_file(s: StoredSession, path: str) -> bool:
    name = os.path.basename(path)
    agent = s.agent or ""
    if name.startswith("CLAUDE"):
        return agent == "claude"
    if name.startswith("GEMINI"):
        return agent == "gemini"
    if name.startswith("AGENTS") and agent == "claude":  # Claude reads AGENTS.md only when CLAUDE.md imports it
        try:
            files, _ = instruction_files(s)
        except Exception:
            return False
        return any(os.path.realpath(f.path) == os.path.realpath(path) for f in files)
    return True


def project_sessions(app, path: str, limit: int = 2000) -> list[SessionSummary]:
    """The sessions that read instruction file ``path`` (or ran in its folder), oldest first."""
    scope = _scope_dir(path)
    db = app.db()
    rows = db.list_sessions(projects_under=[scope], limit=limit)
    rows = [s for s in rows if _reads_file(s, path)]
    rows.sort(key=lambda s: (s.started_at or 0, s.id))
    return rows


@dataclass
class _SessionBase:
    """What the impact view reads of one session, whatever the guideline (computed once per report)."""

    outcome: SessionOutcome
    facts: Any


def _base(app, s: SessionSummary) -> _SessionBase:
    db = app.db()
    rows = db.findings(session_id=s.id, limit=100_000)
    findings = [
        Finding(rule_id=r.rule_id, severity=Severity(r.severity), message=r.message, session_id=r.session_id, seq=r.seq)
        for r in rows
        if r.rule_id != RULE_ID
    ]
    kinds = [k.value for k in (EventKind.TOOL_CALL, EventKind.PATCH)]
    events = db.events(s.file_id, kinds=kinds)
    facts = _facts(s, events, findings)
    by_rule: dict[str, int] = {}
    for f in findings:
        by_rule[f.rule_id] = by_rule.get(f.rule_id, 0) + 1
    edited = bool(facts.edits)
    tested: bool | None = None
    if edited:  # "unknown" (a redacted command after the last edit) counts on neither side
        res = tests_after_edit(
            Context(
                session=session_from_row(s), events=sorted(events, key=lambda e: e.seq), turns=[], config=_CONFIG, test_patterns=_PATTERNS
            )
        )
        tested = {"tested": True, "untested": False}.get(res.status)
    o = SessionOutcome(
        session_id=s.id,
        started_at=s.started_at,
        status="unchecked",
        tool_errors=by_rule.get("tool-error", 0),
        repeated_failures=by_rule.get("repeated-failure", 0),
        edited=edited,
        tested=tested,
        turns=s.turns or 0,
        tokens=s.tokens or 0,
        cost_usd=s.cost_usd or 0.0,
    )
    return _SessionBase(o, facts)


def _outcome(app, s: SessionSummary, g: Guideline | None, bases: dict[str, _SessionBase] | None = None) -> SessionOutcome:
    """One session's outcome against guideline ``g`` (``bases``: the per-session data, memoized)."""
    if bases is None:
        bases = {}
    base = bases.get(s.id)
    if base is None:
        base = bases[s.id] = _base(app, s)
    status, evidence = "unchecked", None
    if g is not None and g.check is not None and g.checkable:
        status, ev = evaluate(g.check, base.facts)
        evidence = ev[0] if ev else None
    return replace(base.outcome, status=status, evidence=evidence)


def outcome_metric(g: Guideline) -> str:
    """The outcome a guideline is meant to move: its coach rule's, tests for a must-run-tests check,
    else tool errors."""
    c = g.check
    if c is not None and c.rule in RULE_OUTCOME:
        return RULE_OUTCOME[c.rule]
    if c is not None and (c.must_run and (c.label or "").find("test") >= 0 or any("test" in r for r in c.must_run)):
        return "tested_share"
    return "tool_errors"


def _change(before: float | None, after: float | None) -> float | None:
    """Relative change after vs before (-0.4 = 40% fewer); None when undefined."""
    if before is None or after is None:
        return None
    if before == 0:
        return None if after == 0 else math.inf
    return (after - before) / before


def keys_at_commits(path: str, sessions: Sequence[StoredSession]) -> dict[str, set[str]]:
    """{session id: guideline keys of ``path`` at the session's git commit} for the sessions whose
    commit is in the file's repository: what the agent was actually told (a session on an old branch
    ran without a guideline committed elsewhere before it started)."""
    root = git_root(os.path.dirname(os.path.abspath(path)))
    if root is None:
        return {}
    from sessionlens.compliance.instructions import has_commit

    rel = os.path.relpath(os.path.realpath(path), os.path.realpath(root))
    per_commit: dict[str, set[str] | None] = {}
    out: dict[str, set[str]] = {}
    for s in sessions:
        commit = s.git_commit
        if not commit:
            continue
        if commit not in per_commit:
            text = show_at(root, commit, rel) if has_commit(root, commit) else None
            per_commit[commit] = (
                {g.key for g in parse_guidelines(text, path)} if text is not None else (set() if has_commit(root, commit) else None)
            )
        keys = per_commit[commit]
        if keys is not None:
            out[s.id] = keys
    return out


def guideline_impact(
    app,
    g: Guideline,
    appeared: Appearance | None,
    sessions: Sequence[SessionSummary],
    written_by_coach: bool = False,
    keys_at: dict[str, set[str]] | None = None,
    bases: dict[str, _SessionBase] | None = None,
) -> dict[str, Any]:
    """Before/after figures of one guideline.  A session is *after* when the guideline was in the file at
    its git commit (when the repository has that commit), else when it started after the guideline
    appeared."""
    before, after = Side(), Side()
    last_violation: float | None = None
    keys_at = keys_at or {}
    bases = {} if bases is None else bases
    for s in sessions:
        o = _outcome(app, s, g, bases)
        at_commit = keys_at.get(s.id)
        told = (g.key in at_commit) if at_commit is not None else (appeared is not None and (s.started_at or 0) >= appeared.ts)
        if told:
            after.add(o)
            if o.status == "violated":
                last_violation = s.started_at
        else:
            before.add(o)
    changes = {m: _change(before.per_session(m), after.per_session(m)) for m in OUTCOME_LABELS}
    metric = outcome_metric(g)
    retire = appeared is not None and g.checkable and after.applied >= RETIRE_AFTER and after.violated == 0
    return {
        "path": g.path,
        "line": g.line,
        "end_line": g.end_line,
        "key": g.key,
        "guideline": g.text,
        "short": g.short,
        "checkable": g.checkable,
        "check": g.check.summary() if g.check else None,
        "source": g.source,
        "written_by_coach": written_by_coach,
        "added": None if appeared is None else {"date": appeared.date, "ts": appeared.ts, "commit": appeared.commit, "how": appeared.how},
        "before": before.to_dict(),
        "after": after.to_dict(),
        "changes": changes,
        "metric": metric,
        "significance": significance(before, after) if g.checkable else None,
        "retire": retire,
        "last_violation_ts": last_violation,
    }


def impact_report(app, path: str, *, text: str | None = None) -> dict[str, Any]:
    """Before/after figures of every guideline of instruction file ``path`` (its current ``text``)."""
    if text is None:
        text = Path(path).read_text(encoding="utf-8", errors="replace")
    gs = file_guidelines(InstructionFile(path, "agents", text, 1), app.db().cache_get)
    coach_lines = _coach_section_lines(text)
    when = appearances(path, text)
    sessions = project_sessions(app, path)
    keys_at = keys_at_commits(path, sessions)
    bases: dict[str, _SessionBase] = {}  # each session read once, whatever the number of guidelines
    rows = [guideline_impact(app, g, when.get(g.key), sessions, g.line in coach_lines, keys_at, bases) for g in gs]
    return {"path": path, "sessions": len(sessions), "rows": rows}


def _coach_section_lines(text: str) -> set[int]:
    """1-based lines under the coach's "Guidelines from sessionlens" heading."""
    out, inside = set(), False
    for i, line in enumerate(text.splitlines(), start=1):
        if line.startswith("#"):
            inside = line.strip() == COACH_HEADING
            continue
        if inside:
            out.add(i)
    return out


# ------------------------------------------------------------------------------ words


def _pct(change: float | None) -> str | None:
    if change is None:
        return None
    if math.isinf(change):
        return "new"
    return f"{'+' if change > 0 else '−'}{abs(change) * 100:.0f}%" if round(change * 100) != 0 else "±0%"


def lens_text(row: dict[str, Any]) -> str:
    """``since added 2026-02-03: violated in 1 of 14 sessions (was 9 of 20); tool errors −40%``."""
    added = row["added"]
    if added is None:
        return "not in the file's history"
    b, a = row["before"], row["after"]
    since = f"since added {added['date']}" + (" (not committed)" if added["how"] == "working-tree" else "")
    if a["sessions"] == 0:
        return f"{since}: no session yet (before: {_violation_words(b)})" if row["checkable"] else f"{since}: no session yet"
    parts = []
    if row["checkable"]:
        parts.append(
            f"violated in {a['violated']} of {a['applied']} session{'s' if a['applied'] != 1 else ''}"
            + (f" (was {b['violated']} of {b['applied']})" if b["sessions"] else " (no session before)")
        )
    else:
        parts.append(f"{a['sessions']} session{'s' if a['sessions'] != 1 else ''} since (vs {b['sessions']} before)")
    change = change_words(row, row["metric"])
    if change is not None and b["sessions"]:
        parts.append(f"{OUTCOME_LABELS[row['metric']]} {change}")
    text = f"{since}: " + "; ".join(parts)
    if row["retire"]:
        text += " · not violated since: retire it?"
    return text


def change_words(row: dict[str, Any], metric: str) -> str | None:
    """``−40%`` for counts per session; ``12% → 88%`` for shares (a relative change of a share misleads)."""
    if metric == "tested_share":
        b, a = row["before"]["per_session"][metric], row["after"]["per_session"][metric]
        return None if b is None or a is None else f"{b * 100:.0f}% → {a * 100:.0f}%"
    return _pct(row["changes"].get(metric))


def _violation_words(side: dict[str, Any]) -> str:
    return f"violated in {side['violated']} of {side['applied']}"


def hover_markdown(row: dict[str, Any]) -> str:
    """The before/after table of one guideline, for a hover or the CLI."""
    added = row["added"]
    out = []
    if added is None:
        out.append("**Impact**: the guideline is not in the file's git history nor on disk.")
        return "\n\n".join(out)
    where = f"commit `{added['commit'][:10]}`" if added["commit"] else "the working tree (not committed yet)"
    who = " · written by the sessionlens coach" if row["written_by_coach"] else ""
    out.append(f"**Impact since added {added['date']}** ({where}{who})")
    b, a = row["before"], row["after"]
    lines = ["| | before | after | change |", "|---|---:|---:|---:|"]
    lines.append(f"| sessions | {b['sessions']} | {a['sessions']} | |")
    if row["checkable"]:
        lines.append(f"| violated | {b['violated']} of {b['applied']} | {a['violated']} of {a['applied']} | |")
    for m in ("tool_errors", "repeated_failures", "tested_share", "turns", "tokens", "cost_usd"):
        bv, av = b["per_session"][m], a["per_session"][m]
        lines.append(
            f"| {OUTCOME_LABELS[m]}{' (share of sessions with edits)' if m == 'tested_share' else ' per session'} "
            f"| {_fmt(m, bv)} | {_fmt(m, av)} | {(_pct(row['changes'][m]) if m != 'tested_share' else None) or '–'} |"
        )
    out.append("\n".join(lines))
    if row["significance"]:
        out.append(f"Significance: {row['significance']['note']}.")
    if row["retire"]:
        out.append(
            f"Not violated in any of the {a['applied']} sessions it applied to since it was added: "
            "the agent may not need telling any more — retire it?"
        )
    return "\n\n".join(out)


def _fmt(metric: str, v: float | None) -> str:
    if v is None:
        return "–"
    if metric == "tested_share":
        return f"{v * 100:.0f}%"
    if metric == "cost_usd":
        return f"${v:,.2f}"
    if metric == "tokens":
        return f"{v:,.0f}"
    return f"{v:,.1f}"


def trend(app, path: str, key: str, *, until: float | None = None, window: int = 10) -> dict[str, Any] | None:
    """The guideline's record over the last ``window`` applicable sessions since it appeared (up to the
    session started at ``until``): for the ``guideline_trend`` eval check."""
    text = Path(path).read_text(encoding="utf-8", errors="replace")
    gs = [g for g in file_guidelines(InstructionFile(path, "agents", text, 1), app.db().cache_get) if g.key == key]
    if not gs or not gs[0].checkable:
        return None
    g = gs[0]
    appeared = appearances(path, text).get(key)
    recent = []
    for s in reversed(project_sessions(app, path)):
        t = s.started_at or 0
        if until is not None and t > until:
            continue
        if appeared is not None and t < appeared.ts:
            break
        o = _outcome(app, s, g)
        if o.status in ("violated", "followed"):
            recent.append(o)
        if len(recent) >= window:
            break
    return {"guideline": g, "added": appeared, "applied": len(recent), "violated": [o for o in recent if o.status == "violated"]}


__all__ = [
    "Appearance",
    "appearances",
    "fisher_exact",
    "guideline_impact",
    "hover_markdown",
    "impact_report",
    "lens_text",
    "project_sessions",
    "significance",
    "trend",
]
