"""Coach services: quick-fix edits to the agent's instructions and the project config, and LLM explanations."""

from __future__ import annotations

import hashlib
import logging
import os
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

from sessionlens.agents import registry as agent_registry
from sessionlens.coach.config import disable_rule_edit
from sessionlens.coach.llm import (
    CoachLLM,
    LLMUnavailable,
    build_finding_prompt,
    build_session_prompt,
    deterministic_session_summary,
)
from sessionlens.coach.markdown import sanitize_model_markdown
from sessionlens.models.store import FindingDetail, StoredFinding, StoredSession
from sessionlens.services.app import App, NotFound
from sessionlens.services.indexer import PROJECT_CONFIG
from sessionlens.store import finding_from_row, session_from_row

log = logging.getLogger(__name__)

GUIDELINE_HEADING = "## Guidelines from sessionlens"


def instruction_file(agent: str | None) -> str:
    """The file a guideline quick fix edits for this agent (its adapter's ``instructions.primary``)."""
    a = agent_registry.get(agent or "codex")
    return a.instructions.primary if a is not None else "AGENTS.md"


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


class TargetRefused(ValueError):
    """A quick fix would write where the agent does not read instructions, or outside the workspace."""


def _inside(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip("/") + "/")


def _display(path: str) -> str:
    home = os.path.expanduser("~")
    return "~" + path[len(home) :] if home not in ("", "/") and _inside(path, home) else path


class CoachService:
    def __init__(self, app: App):
        self.app = app

    # ------------------------------------------------------------------ targets
    def _session_dirs(self, finding: StoredFinding) -> tuple[str, str]:
        """(project root, cwd) the session ran in, both real paths on this machine and inside an open
        workspace folder.  Raises TargetRefused with the reason otherwise: a log (maybe shared, maybe
        from another machine) never decides where a file is written."""
        cwd = finding.cwd if isinstance(finding, FindingDetail) else None
        if cwd is None:
            s = self.app.db().get_session(finding.session_id)
            cwd = s.cwd if s else None
        if not cwd:
            raise TargetRefused("the session does not record the folder it ran in")
        if not os.path.isabs(cwd):
            raise TargetRefused(f"the session's folder {cwd!r} is not an absolute path")
        real = os.path.realpath(cwd)
        if not os.path.isdir(real):
            raise TargetRefused(f"the session ran in {cwd}, which is not a folder on this machine")
        folders = [os.path.realpath(f) for f in self.app.workspace_folders if f and os.path.isabs(f)]
        if not any(_inside(real, f) for f in folders):
            where = ", ".join(folders) if folders else "no workspace folder is open"
            raise TargetRefused(
                f"the session ran in {cwd}, outside the open workspace folders ({where}); "
                "open that project as a workspace folder to edit its instructions"
            )
        from sessionlens.compliance.instructions import git_root

        root = git_root(real) or real
        return root, real

    def _instruction_dir(self, finding: StoredFinding) -> str:
        """Where the session's agent reads project instructions: the project root when it is inside a
        workspace folder, else the outermost folder between it and the cwd that is."""
        root, cwd = self._session_dirs(finding)
        folders = [os.path.realpath(f) for f in self.app.workspace_folders if f and os.path.isabs(f)]
        chain = [cwd]
        while chain[-1] != root and _inside(chain[-1], root) and os.path.dirname(chain[-1]) != chain[-1]:
            chain.append(os.path.dirname(chain[-1]))
        for d in reversed(chain):  # outermost first
            if any(_inside(d, f) for f in folders):
                return d
        return cwd

    @staticmethod
    def _confined(path: str, folders: list[str]) -> str:
        real = os.path.realpath(path)  # a symlinked AGENTS.md pointing elsewhere is not written through
        if not any(_inside(real, os.path.realpath(f)) for f in folders):
            raise TargetRefused(f"{path} resolves to {real}, outside the open workspace folders")
        return path

    def finding(self, finding_id: int) -> FindingDetail:
        row = self.app.db().finding(finding_id)
        if row is None:
            raise NotFound(f"finding {finding_id} no longer exists (the log was re-indexed); refresh the diagnostics")
        return row

    def guideline_target(self, finding: StoredFinding) -> str:
        """The instruction file the finding's guideline goes to (raises TargetRefused with the reason)."""
        name = instruction_file(finding.agent)
        return self._confined(os.path.join(self._instruction_dir(finding), name), self.app.workspace_folders)

    def guideline_edit(self, finding: StoredFinding, read=None) -> FileEdit | None:
        """The edit that adds the finding's guideline to AGENTS.md (Codex) or CLAUDE.md (Claude) where the
        agent reads it; None if already there.  Raises TargetRefused when there is no such place."""
        if not finding.guideline:
            return None
        path = Path(self.guideline_target(finding))
        old = read(str(path)) if read else _read(path)
        new = add_guideline_text(old, finding.guideline, finding.rule_id)
        if new is None:
            return None
        return FileEdit(str(path), old, new, f"Add guideline to {_display(str(path))}")

    def disable_rule_edit(self, finding: StoredFinding, read=None) -> FileEdit:
        """``.sessionlens.json`` at the project root (where the indexer reads it), rule disabled."""
        root, _ = self._session_dirs(finding)
        if not any(_inside(root, os.path.realpath(f)) for f in self.app.workspace_folders if f):
            raise TargetRefused(f"the project root {root} is outside the open workspace folders")
        path = Path(self._confined(os.path.join(root, PROJECT_CONFIG), self.app.workspace_folders))
        old = read(str(path)) if read else _read(path)
        return FileEdit(
            str(path),
            old,
            disable_rule_edit(old, finding.rule_id),
            f"Disable rule '{finding.rule_id}' for this project ({_display(str(path))})",
        )

    # ------------------------------------------------------------------ LLM
    def _llm(self) -> CoachLLM:
        return CoachLLM(self.app.settings.llm, editor_api_key=self.app.api_key)

    def explain_cache_key(self, finding: StoredFinding) -> str:
        h = hashlib.sha256(
            f"{finding.session_id}|{finding.seq}|{finding.rule_id}|{finding.message}|{self.app.settings.llm.model}".encode()
        ).hexdigest()
        return f"explain:{h}"

    def finding_context(self, finding: StoredFinding):
        db = self.app.db()
        s = db.get_session(finding.session_id)
        if s is None:
            raise NotFound(f"session {finding.session_id} is not indexed")
        events = db.events(s.file_id, max(finding.seq - 25, 0), finding.seq + 10)
        events = [e for e in events if not e.duplicate and e.kind.value not in ("meta", "token_usage")]
        return session_from_row(s), events

    async def explain(self, finding: StoredFinding) -> AsyncIterator[str]:
        """Stream the AI coach's explanation; cached in the store per finding and model."""
        key = self.explain_cache_key(finding)
        cached = self.app.db().cache_get(key)
        if cached:
            yield sanitize_model_markdown(cached)  # stored by an older version, maybe unsanitized
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

    def session_summary(self, ref: str) -> tuple[StoredSession, str]:
        db = self.app.db()
        s = self.app.resolve_session(ref)
        events = db.events(s.file_id)
        findings = [finding_from_row(f) for f in db.findings(session_id=s.id)]
        return s, deterministic_session_summary(session_from_row(s), findings, events, db.turns(s.id))

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
        events = [e for e in db.events(s.file_id) if not e.duplicate]
        findings = [finding_from_row(f) for f in db.findings(session_id=s.id)]
        system, messages = build_session_prompt(session_from_row(s), findings, events)
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
