"""Guidelines: language features for AGENTS.md / CLAUDE.md / CLAUDE.local.md / .ruler/*.md, and the coach conversation.

* code lens per checkable guideline: "followed in 17 of 20 recent sessions · 3 violations";
* hover: how the guideline is checked and the violating sessions as deep links;
* diagnostics: malformed annotations (error), "never relevant — retire it?" (information);
* code actions: remove a never-relevant guideline, pin a recognized check as an annotation;
* document symbols: headings and guidelines.
Commands: ``sessionlens.askCoach``, ``sessionlens.conversation``, ``sessionlens.clearConversation``,
``sessionlens.guidelineReport``, ``sessionlens.extractGuidelines``.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from lsprotocol import types as T

from sessionlens.coach.llm import CoachLLM
from sessionlens.coach.markdown import escape_md, message_md
from sessionlens.coach.redact import redact
from sessionlens.compliance.checker import RECENT_SESSIONS, lens_title, report
from sessionlens.compliance.conversation import ConversationService
from sessionlens.compliance.extract_llm import extract
from sessionlens.compliance.guidelines import Guideline, parse_guidelines, text_hash
from sessionlens.compliance.impact import hover_markdown as impact_markdown
from sessionlens.compliance.impact import impact_report, lens_text
from sessionlens.compliance.instructions import is_instruction_file
from sessionlens.lsp.commands import command, session_ref
from sessionlens.lsp.convert import path_to_uri, uri_to_path
from sessionlens.lsp.core import DocumentProvider, Feature, SessionLensServer, publish
from sessionlens.lsp.features.indexing import request_index
from sessionlens.lsp.progress import stream_markdown
from sessionlens.models.api import (
    AskCoachParams,
    ClearConversationResult,
    ConversationParams,
    ConversationResult,
    ExtractGuidelinesParams,
    GuidelineReportParams,
    GuidelineReportResult,
    InstructionFileRef,
)
from sessionlens.store import NotFound

log = logging.getLogger(__name__)

SOURCE = "sessionlens-rules"
RETIRE_CODE = "guideline-never-relevant"
ANNOTATION_CODE = "guideline-annotation"
_CACHE_TTL_S = 5.0


def _range(line1: int, end1: int | None = None, text_lines: list[str] | None = None) -> T.Range:
    end = (end1 or line1) - 1
    width = len(text_lines[end]) if text_lines and 0 <= end < len(text_lines) else 1
    return T.Range(start=T.Position(line=line1 - 1, character=0), end=T.Position(line=end, character=max(width, 1)))


class GuidelineDocuments(DocumentProvider):
    name = "guidelines"

    def __init__(self) -> None:
        self._reports: dict[str, tuple[float, tuple[int, ...], dict[str, Any]]] = {}
        self._impacts: dict[str, tuple[float, tuple[tuple[int, ...], str], dict[str, dict[str, Any]]]] = {}

    def matches(self, path: str) -> bool:
        return is_instruction_file(path)

    # ------------------------------------------------------------------ data
    def _text(self, ls: SessionLensServer, path: str) -> str:
        return ls.read_document(path) or ""

    async def _report(self, ls: SessionLensServer, path: str) -> dict[str, Any]:
        """The per-guideline report of this file, cached briefly and until the store changes."""
        stamp = await ls.run(lambda: tuple(ls.app.db().counts().values()))
        hit = self._reports.get(path)
        if hit and hit[1] == stamp and time.monotonic() - hit[0] < _CACHE_TTL_S:
            return hit[2]
        rep = await ls.run(report, ls.app, path=path, limit=RECENT_SESSIONS)
        self._reports[path] = (time.monotonic(), stamp, rep)
        return rep

    async def _impact(self, ls: SessionLensServer, path: str) -> dict[str, dict[str, Any]]:
        """{guideline key: before/after figures} of this file (compliance.impact), cached like the report."""
        text = self._text(ls, path)
        stamp = (await ls.run(lambda: tuple(ls.app.db().counts().values())), text_hash(text))
        hit = self._impacts.get(path)
        if hit and hit[1] == stamp and time.monotonic() - hit[0] < _CACHE_TTL_S:
            return hit[2]
        try:
            rep = await ls.run(impact_report, ls.app, path, text=text)
            rows = {r["key"]: r for r in rep["rows"]}
        except Exception:
            log.exception("guideline impact failed for %s", path)
            rows = {}
        self._impacts[path] = (time.monotonic(), stamp, rows)
        return rows

    async def did_save(self, ls: SessionLensServer, uri: str, path: str, version: int | None) -> None:
        # the guidelines changed: findings computed with the old file are stale (the pass re-coaches them)
        self.forget(path)
        request_index(ls, full=True)
        await publish(ls, uri, version)

    async def _rows(self, ls: SessionLensServer, path: str) -> tuple[list[Guideline], dict[str, dict[str, Any]], int, list[str]]:
        text = self._text(ls, path)
        gs = parse_guidelines(text, path)
        rep = await self._report(ls, path)
        return gs, {r["key"]: r for r in rep["rows"]}, rep["sessions"], text.splitlines()

    # ------------------------------------------------------------------ features
    async def code_lens(self, ls: SessionLensServer, path: str) -> list[T.CodeLens] | None:
        """One lens per guideline: its before/after impact once sessions ran since it was added (and, for a
        guideline without a check, only when there are sessions on both sides), else its recent record."""
        gs, rows, n, _ = await self._rows(ls, path)
        impact = await self._impact(ls, path)
        out = []
        for g in gs:
            row = impact.get(g.key)
            if row is not None and row["added"] is not None and row["after"]["sessions"] and (g.checkable or row["before"]["sessions"]):
                title = lens_text(row)
            elif g.checkable:
                rec = rows.get(g.key)
                title = (
                    lens_title(rec)
                    if rec
                    else ("not in effect for any indexed session" if n == 0 else f"not in effect in the last {n} sessions")
                )
            else:
                continue
            out.append(
                T.CodeLens(
                    range=_range(g.line),
                    command=T.Command(title=title, command="sessionlens.guidelineReport", arguments=[{"path": path, "line": g.line - 1}]),
                )
            )
        return out

    async def hover(self, ls: SessionLensServer, path: str, position: T.Position) -> T.Hover | None:
        gs, rows, n, lines = await self._rows(ls, path)
        line1 = position.line + 1
        g = next((x for x in gs if x.line <= line1 <= x.end_line), None)
        if g is None:
            return None
        md = _hover_markdown(g, rows.get(g.key), n)
        row = (await self._impact(ls, path)).get(g.key)
        if row is not None and row["added"] is not None:
            md += "\n\n" + lens_text(row) + "\n\n" + impact_markdown(row)
        return T.Hover(contents=T.MarkupContent(kind=T.MarkupKind.Markdown, value=md), range=_range(g.line, g.end_line, lines))

    async def diagnostics(self, ls: SessionLensServer, path: str) -> list[T.Diagnostic] | None:
        text = self._text(ls, path)
        lines = text.splitlines()
        gs = parse_guidelines(text, path)
        out = []
        for g in gs:
            for ln, msg in g.errors:
                out.append(
                    T.Diagnostic(
                        range=_range(ln, ln, lines), message=msg, severity=T.DiagnosticSeverity.Error, source=SOURCE, code=ANNOTATION_CODE
                    )
                )
        try:
            _, rows, n, _ = await self._rows(ls, path)
        except Exception:
            log.exception("guideline report failed for %s", path)
            return out
        for g in gs:
            row = rows.get(g.key)
            if g.checkable and row and row["never_relevant"]:
                out.append(
                    T.Diagnostic(
                        range=_range(g.line, g.end_line, lines),
                        severity=T.DiagnosticSeverity.Information,
                        source=SOURCE,
                        code=RETIRE_CODE,
                        message=f"never relevant in the last {row['sessions']} sessions — retire it?",
                        data={"line": g.line - 1, "end_line": g.end_line - 1},
                    )
                )
        impact = await self._impact(ls, path)
        for g in gs:
            row = impact.get(g.key)
            old = rows.get(g.key)
            if row and row["retire"] and not (old and old["never_relevant"]):
                out.append(
                    T.Diagnostic(
                        range=_range(g.line, g.end_line, lines),
                        severity=T.DiagnosticSeverity.Information,
                        source=SOURCE,
                        code=RETIRE_CODE,
                        message=f"not violated in the {row['after']['applied']} sessions it applied to since "
                        f"it was added ({row['added']['date']}) — retire it?",
                        data={"line": g.line - 1, "end_line": g.end_line - 1},
                    )
                )
        return out

    async def code_action(self, ls: SessionLensServer, path: str, params: T.CodeActionParams) -> list[T.CodeAction] | None:
        uri = path_to_uri(path)
        text = self._text(ls, path)
        lines = text.splitlines()
        out = []
        for d in params.context.diagnostics:
            if d.code == RETIRE_CODE and d.source == SOURCE:
                start, end = d.range.start.line, d.range.end.line
                edit = T.TextEdit(
                    range=T.Range(start=T.Position(line=start, character=0), end=T.Position(line=end + 1, character=0)), new_text=""
                )
                out.append(
                    T.CodeAction(
                        title="Remove this guideline (never relevant)",
                        kind=T.CodeActionKind.QuickFix,
                        diagnostics=[d],
                        edit=T.WorkspaceEdit(changes={uri: [edit]}),
                    )
                )
        line1 = params.range.start.line + 1
        for g in parse_guidelines(text, path):
            if g.line <= line1 <= g.end_line and g.source == "builtin" and g.check is not None:
                ln = g.end_line - 1
                width = len(lines[ln]) if ln < len(lines) else 0
                edit = T.TextEdit(
                    range=T.Range(start=T.Position(line=ln, character=width), end=T.Position(line=ln, character=width)),
                    new_text=" " + g.check.to_annotation(),
                )
                out.append(
                    T.CodeAction(
                        title="Pin the recognized check as a sessionlens annotation",
                        kind=T.CodeActionKind.RefactorRewrite,
                        edit=T.WorkspaceEdit(changes={uri: [edit]}),
                    )
                )
        return out or None

    async def document_symbol(self, ls: SessionLensServer, path: str) -> list[T.DocumentSymbol] | None:
        text = self._text(ls, path)
        lines = text.splitlines()
        out = []
        for g in parse_guidelines(text, path):
            detail = {"annotation": "checked (annotation)", "builtin": "checked (recognized)", "llm": "checked (LLM)"}.get(
                g.source or "", ""
            )
            rng = _range(g.line, g.end_line, lines)
            out.append(
                T.DocumentSymbol(
                    name=g.short or "(guideline)",
                    detail=(g.heading or "") + (" · " + detail if detail else ""),
                    kind=T.SymbolKind.Property if g.checkable else T.SymbolKind.String,
                    range=rng,
                    selection_range=_range(g.line, g.line, lines),
                )
            )
        return out

    def forget(self, path: str) -> None:
        self._reports.pop(path, None)
        self._impacts.pop(path, None)


def _instruction_path(a: InstructionFileRef, what: str) -> str:
    path = a.path or (uri_to_path(a.uri) if a.uri else None)
    if not path or not is_instruction_file(path):
        raise NotFound(f"{what} needs the path of an AGENTS.md / CLAUDE.md / .ruler/*.md file")
    return path


@command("sessionlens.askCoach")
async def ask_coach(ls: SessionLensServer, a: AskCoachParams) -> dict[str, Any]:
    svc = ConversationService(ls.app)
    ref = session_ref(a)
    await ls.run(ls.app.resolve_session, ref)  # a clear error before streaming starts
    return await stream_markdown(ls, svc.ask(ref, a.question), title="Ask the coach", stream_id=a.stream_id)


@command("sessionlens.conversation")
async def conversation(ls: SessionLensServer, a: ConversationParams) -> ConversationResult:
    s, msgs = await ls.run(ConversationService(ls.app).history, session_ref(a))
    return ConversationResult(session_id=s.id, messages=[m.model_dump() for m in msgs])


@command("sessionlens.clearConversation")
async def clear_conversation(ls: SessionLensServer, a: ConversationParams) -> ClearConversationResult:
    sid = await ls.run(ConversationService(ls.app).clear, session_ref(a))
    return ClearConversationResult(ok=True, session_id=sid)


@command("sessionlens.guidelineReport")
async def guideline_report(ls: SessionLensServer, a: GuidelineReportParams) -> GuidelineReportResult:
    path = _instruction_path(a, "guidelineReport")
    PROVIDER.forget(path)
    gs, rows, n, _ = await PROVIDER._rows(ls, path)
    if a.line is not None:
        gs = [g for g in gs if g.line <= a.line + 1 <= g.end_line]
    impact = await PROVIDER._impact(ls, path)
    parts = []
    for g in gs:
        row = impact.get(g.key)
        md = _hover_markdown(g, rows.get(g.key), n) if g.checkable else ""
        if row is not None and row["added"] is not None and (g.checkable or row["before"]["sessions"]):
            md = (md + "\n\n" if md else f"**Guideline** ({g.path.rsplit('/', 1)[-1]}:{g.line})\n\n") + impact_markdown(row)
        if md:
            parts.append(md)
    md = "\n\n---\n\n".join(parts)
    return GuidelineReportResult(
        sessions=n,
        rows=[r for g in gs if (r := rows.get(g.key))],
        impact=[r for g in gs if (r := impact.get(g.key))],
        markdown=md or "_No checkable guideline here._",
    )


@command("sessionlens.extractGuidelines")
async def extract_guidelines(ls: SessionLensServer, a: ExtractGuidelinesParams) -> dict[str, Any]:
    path = _instruction_path(a, "extractGuidelines")
    text = PROVIDER._text(ls, path)
    llm = CoachLLM(ls.app.settings.llm, editor_api_key=ls.app.api_key)
    db = ls.app.db
    try:
        res = await extract(
            text, path, llm, cache_get=lambda k: db().cache_get(k), cache_put=lambda *x: db().cache_put(*x), model=ls.app.settings.llm.model
        )
    finally:
        await llm.aclose()
    PROVIDER.forget(path)
    return {**res, "hash": text_hash(text)}


def _hover_markdown(g: Guideline, row: dict[str, Any] | None, n: int) -> str:
    how = {"annotation": "a sessionlens annotation", "builtin": "a built-in recognizer", "llm": "an LLM extraction"}
    out = [f"**Guideline** ({g.path.rsplit('/', 1)[-1]}:{g.line})"]
    if not g.checkable or g.check is None:
        out.append("Not checked: add an annotation such as `<!-- sessionlens: must-not-run=/git push/ -->` (see docs/compliance.md).")
        return "\n\n".join(out)
    out.append(f"Checked by {how.get(g.source or '', 'a check')}: {message_md(g.check.summary())}")
    if row is None:
        out.append(f"Not in effect for any of the last {n} indexed sessions.")
        return "\n\n".join(out)
    out.append(f"{lens_title(row)} (checked {row['sessions']} session{'s' if row['sessions'] != 1 else ''}; applied to {row['applied']}).")
    if row["violations"]:
        out.append(
            "**Violating sessions**\n\n"
            + "\n".join(
                f"- [{_esc((v.get('title') or v['session_id'])[:60])}]({v['link']}) — line {v['seq']}: {message_md(redact(v['note'] or ''))}"
                for v in row["violations"]
            )
        )
    return "\n\n".join(out)


def _esc(s: str) -> str:
    """A session title (log content) as link text: secrets masked, no HTML, no Markdown, one line."""
    return escape_md(redact(s).replace("\n", " "))


PROVIDER = GuidelineDocuments()
FEATURE = Feature(
    "guidelines",
    documents=PROVIDER,
    commands=(ask_coach, conversation, clear_conversation, guideline_report, extract_guidelines),
)
