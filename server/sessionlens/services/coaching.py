"""Coach services: quick-fix edits to the agent's instructions and the project config, and LLM explanations."""

from __future__ import annotations

import hashlib
import logging
import os
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sessionlens.coach.config import disable_rule_edit
from sessionlens.coach.llm import (
    CoachLLM,
    LLMUnavailable,
    build_finding_prompt,
    build_session_prompt,
    deterministic_session_summary,
)
from sessionlens.models import EventRef, Finding, Severity
from sessionlens.services.app import App, NotFound
from sessionlens.services.indexer import PROJECT_CONFIG
from sessionlens.store import session_from_dict

log = logging.getLogger(__name__)

GUIDELINE_HEADING = "## Guidelines from sessionlens"
INSTRUCTION_FILE = {"codex": "AGENTS.md", "claude": "CLAUDE.md"}


@dataclass
class FileEdit:
    """A whole-file edit: ``new_text`` replaces ``old_text`` (None = the file does not exist yet)."""

    path: str
    old_text: str | None
    new_text: str
    title: str

    @property
    def creates(self) -> bool:
        return self.old_text is None


def finding_from_row(row: dict[str, Any]) -> Finding:
    return Finding(
        rule_id=row["rule_id"], severity=Severity(row["severity"]), message=row["message"], session_id=row["session_id"],
        seq=row["seq"], related=[EventRef(**r) for r in row.get("related") or []], guideline=row.get("guideline"),
        data=row.get("data") or {},
    )


def _norm(s: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<!--.*?-->", "", s)).strip().lower()


def guideline_line(guideline: str, rule_id: str) -> str:
    """A bullet carrying a checkable annotation (grammar: sessionlens.compliance.guidelines, docs/compliance.md)."""
    from sessionlens.compliance.guidelines import rule_annotation

    return f"- {guideline.strip()} {rule_annotation(rule_id)}"


def has_guideline(text: str, guideline: str) -> bool:
    g = _norm(guideline)
    return any(_norm(line.lstrip("-* ").strip()) == g for line in text.splitlines())


def add_guideline_text(text: str | None, guideline: str, rule_id: str) -> str | None:
    """The instruction file's new text with the guideline under the sessionlens heading; None if already there."""
    text = text or ""
    if has_guideline(text, guideline):
        return None
    line = guideline_line(guideline, rule_id)
    lines = text.splitlines()
    if GUIDELINE_HEADING in lines:
        i = lines.index(GUIDELINE_HEADING) + 1
        # after the heading's existing bullets
        while i < len(lines) and (lines[i].startswith("- ") or not lines[i].strip()):
            if not lines[i].strip() and (i + 1 >= len(lines) or not lines[i + 1].startswith("- ")):
                break
            i += 1
        lines.insert(i, line)
        return "\n".join(lines) + "\n"
    prefix = text if not text or text.endswith("\n") else text + "\n"
    sep = "\n" if prefix.strip() else ""
    head = "" if prefix.strip() else "# Agent instructions\n\n"
    return f"{prefix}{sep}{head}{GUIDELINE_HEADING}\n\n{line}\n"


class CoachService:
    def __init__(self, app: App):
        self.app = app

    # ------------------------------------------------------------------ targets
    def _project_dir(self, finding: dict[str, Any]) -> Path:
        proj = finding.get("project")
        folders = self.app.workspace_folders
        if proj and os.path.isdir(proj):
            for f in folders:  # prefer the open workspace folder that holds the project
                if proj == f or proj.startswith(f.rstrip("/") + "/") or f.startswith(proj.rstrip("/") + "/"):
                    return Path(proj if os.path.isdir(proj) else f)
            return Path(proj)
        if folders:
            return Path(folders[0])
        row = self.app.db().get_session(finding["session_id"])
        return Path(row["path"]).parent if row else Path.cwd()

    def finding(self, finding_id: int) -> dict[str, Any]:
        row = self.app.db().finding(finding_id)
        if row is None:
            raise NotFound(f"finding {finding_id} no longer exists (the log was re-indexed); refresh the diagnostics")
        return row

    def guideline_edit(self, finding: dict[str, Any], read=None) -> FileEdit | None:
        """The edit that adds the finding's guideline to AGENTS.md (Codex) or CLAUDE.md (Claude); None if present."""
        if not finding.get("guideline"):
            return None
        name = INSTRUCTION_FILE.get(finding.get("agent") or "codex", "AGENTS.md")
        path = self._project_dir(finding) / name
        old = read(str(path)) if read else _read(path)
        new = add_guideline_text(old, finding["guideline"], finding["rule_id"])
        if new is None:
            return None
        return FileEdit(str(path), old, new, f"Add guideline to {name}")

    def disable_rule_edit(self, finding: dict[str, Any], read=None) -> FileEdit:
        path = self._project_dir(finding) / PROJECT_CONFIG
        old = read(str(path)) if read else _read(path)
        return FileEdit(str(path), old, disable_rule_edit(old, finding["rule_id"]),
                        f"Disable rule '{finding['rule_id']}' for this project")

    # ------------------------------------------------------------------ LLM
    def _llm(self) -> CoachLLM:
        return CoachLLM(self.app.settings.llm, editor_api_key=self.app.api_key)

    def explain_cache_key(self, finding: dict[str, Any]) -> str:
        h = hashlib.sha256(f"{finding['session_id']}|{finding['seq']}|{finding['rule_id']}|{finding['message']}|"
                           f"{self.app.settings.llm.model}".encode()).hexdigest()
        return f"explain:{h}"

    def finding_context(self, finding: dict[str, Any]):
        db = self.app.db()
        s = db.get_session(finding["session_id"])
        if s is None:
            raise NotFound(f"session {finding['session_id']} is not indexed")
        events = db.events(s["file_id"], max(finding["seq"] - 25, 0), finding["seq"] + 10)
        events = [e for e in events if not e.duplicate and e.kind.value not in ("meta", "token_usage")]
        return session_from_dict(s), events

    async def explain(self, finding: dict[str, Any]) -> AsyncIterator[str]:
        """Stream the AI coach's explanation; cached in the store per finding and model."""
        key = self.explain_cache_key(finding)
        cached = self.app.db().cache_get(key)
        if cached:
            yield cached
            return
        llm = self._llm()  # raises LLMUnavailable with the how-to-set-a-key message
        session, events = self.finding_context(finding)
        system, messages = build_finding_prompt(finding_from_row(finding), session, events)
        parts: list[str] = []
        try:
            async for delta in llm.stream(system, messages):
                parts.append(delta)
                yield delta
        finally:
            await llm.aclose()
        if parts:
            self.app.db().cache_put(key, "explain", self.app.settings.llm.model, "".join(parts))

    def session_summary(self, ref: str) -> tuple[dict, str]:
        db = self.app.db()
        s = self.app.resolve_session(ref)
        events = db.events(s["file_id"])
        findings = [finding_from_row(f) for f in db.findings(session_id=s["id"])]
        return s, deterministic_session_summary(session_from_dict(s), findings, events, db.turns(s["id"]))

    async def coach_session(self, ref: str) -> AsyncIterator[str]:
        """Deterministic summary first; then, when an LLM is configured, a richer review streamed after it."""
        s, summary = self.session_summary(ref)
        yield summary
        try:
            llm = self._llm()
        except LLMUnavailable as e:
            yield f"\n\n> {e}\n"
            return
        db = self.app.db()
        events = [e for e in db.events(s["file_id"]) if not e.duplicate]
        findings = [finding_from_row(f) for f in db.findings(session_id=s["id"])]
        system, messages = build_session_prompt(session_from_dict(s), findings, events)
        yield "\n\n## AI coach review\n\n"
        try:
            async for delta in llm.stream(system, messages):
                yield delta
        finally:
            await llm.aclose()


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
