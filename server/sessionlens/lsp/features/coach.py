"""The coach in log documents: quick fixes for coach findings (guideline edit, explain, disable the rule)
and the AI commands ``explainFinding``, ``coachSession``, ``setApiKey``."""

from __future__ import annotations

import os
from typing import Any

from lsprotocol import types as T

from sessionlens.lsp.commands import command, session_ref
from sessionlens.lsp.convert import path_to_uri
from sessionlens.lsp.core import Feature, SessionLensServer, read_document
from sessionlens.lsp.progress import stream_markdown
from sessionlens.models.api import (
    CoachSessionParams,
    ExplainFindingParams,
    SetApiKeyParams,
    SetApiKeyResult,
    ShowQuickFixTargetParams,
    ShowQuickFixTargetResult,
)
from sessionlens.services.coaching import FileEdit, TargetRefused, instruction_file
from sessionlens.store import NotFound

COACH_SOURCE = "sessionlens-coach"


def workspace_edit(ls: SessionLensServer, edit: FileEdit) -> T.WorkspaceEdit:
    uri = path_to_uri(edit.path)
    if edit.old_text is None:
        whole = T.Range(start=T.Position(line=0, character=0), end=T.Position(line=0, character=0))
    else:
        lines = edit.old_text.split("\n")
        whole = T.Range(
            start=T.Position(line=0, character=0), end=T.Position(line=len(lines) - 1, character=len(lines[-1].encode("utf-16-le")) // 2)
        )
    text_edit = T.TextEdit(range=whole, new_text=edit.new_text)
    if ls.client_supports("workspace", "workspace_edit", "document_changes"):
        changes: list[Any] = []
        if edit.creates:
            changes.append(T.CreateFile(uri=uri, options=T.CreateFileOptions(ignore_if_exists=True)))
        changes.append(
            T.TextDocumentEdit(text_document=T.OptionalVersionedTextDocumentIdentifier(uri=uri, version=None), edits=[text_edit])
        )
        return T.WorkspaceEdit(document_changes=changes)
    return T.WorkspaceEdit(changes={uri: [text_edit]})


def _refused(ls: SessionLensServer, title: str, reason: str, d: T.Diagnostic) -> T.CodeAction:
    """A quick fix that cannot be applied: greyed out with the reason where the client can show that,
    else an action that says why when chosen (never an edit outside the workspace)."""
    if ls.client_supports("text_document", "code_action", "disabled_support"):
        return T.CodeAction(title=title, kind=T.CodeActionKind.QuickFix, diagnostics=[d], disabled=T.CodeActionDisabled(reason=reason))
    return T.CodeAction(
        title=f"{title} (unavailable)",
        kind=T.CodeActionKind.QuickFix,
        diagnostics=[d],
        command=T.Command(title=title, command="sessionlens.showQuickFixTarget", arguments=[{"message": reason}]),
    )


def _with_open(ls: SessionLensServer, edit: FileEdit, d: T.Diagnostic, preferred: bool = False) -> T.CodeAction:
    """The edit, then the edited file opened (the action's command runs after the edit is applied)."""
    return T.CodeAction(
        title=edit.title,
        kind=T.CodeActionKind.QuickFix,
        diagnostics=[d],
        edit=workspace_edit(ls, edit),
        is_preferred=preferred or None,
        command=T.Command(title="Open", command="sessionlens.showQuickFixTarget", arguments=[{"path": edit.path}]),
    )


async def quick_fixes(ls: SessionLensServer, params: T.CodeActionParams) -> list[T.CodeAction] | None:
    actions = []
    for d in params.context.diagnostics:
        data = d.data if isinstance(d.data, dict) else None
        if d.source != COACH_SOURCE or not data or "finding_id" not in data:
            continue
        try:
            finding = await ls.run(ls.coach.finding, int(data["finding_id"]))
        except NotFound:
            continue
        name = instruction_file(finding.agent)
        try:
            edit = await ls.run(ls.coach.guideline_edit, finding, read_document(ls))
            if edit is not None:
                actions.append(_with_open(ls, edit, d, preferred=True))
        except TargetRefused as e:
            if finding.guideline:
                actions.append(_refused(ls, f"Add guideline to {name}", str(e), d))
        actions.append(
            T.CodeAction(
                title="Explain with AI coach",
                kind=T.CodeActionKind.QuickFix,
                diagnostics=[d],
                command=T.Command(
                    title="Explain with AI coach", command="sessionlens.explainFinding", arguments=[{"finding_id": finding.id}]
                ),
            )
        )
        try:
            dis = await ls.run(ls.coach.disable_rule_edit, finding, read_document(ls))
            actions.append(_with_open(ls, dis, d))
        except TargetRefused as e:
            actions.append(_refused(ls, f"Disable rule '{finding.rule_id}' for this project", str(e), d))
        except ValueError as e:  # an invalid .sessionlens.json is not overwritten
            actions.append(_refused(ls, f"Disable rule '{finding.rule_id}' for this project", str(e), d))
    return actions or None


@command("sessionlens.showQuickFixTarget")
async def show_quick_fix_target(ls: SessionLensServer, a: ShowQuickFixTargetParams) -> ShowQuickFixTargetResult:
    if a.message:
        ls.window_show_message(T.ShowMessageParams(type=T.MessageType.Warning, message=f"sessionlens: {a.message}"))
        return ShowQuickFixTargetResult(ok=True)
    path = os.path.realpath(a.path or "")
    folders = [os.path.realpath(f) for f in ls.app.workspace_folders if f]
    if not any(path == f or path.startswith(f.rstrip("/") + "/") for f in folders):
        raise ValueError(f"{a.path} is outside the open workspace folders")
    uri = path_to_uri(path)
    if ls.client_supports("window", "show_document", "support"):
        await ls.window_show_document_async(T.ShowDocumentParams(uri=uri, take_focus=True))
        return ShowQuickFixTargetResult(ok=True, uri=uri)
    ls.window_show_message(T.ShowMessageParams(type=T.MessageType.Info, message=f"sessionlens: edited {a.path}"))
    return ShowQuickFixTargetResult(ok=True, uri=uri)


@command("sessionlens.setApiKey")
async def set_api_key(ls: SessionLensServer, a: SetApiKeyParams) -> SetApiKeyResult:
    key = a.key
    ls.app.api_key = key.strip() if isinstance(key, str) and key.strip() else None
    return SetApiKeyResult(ok=True, configured=ls.app.api_key is not None)


@command("sessionlens.explainFinding")
async def explain_finding(ls: SessionLensServer, a: ExplainFindingParams) -> dict[str, Any]:
    finding = await ls.run(ls.coach.finding, a.finding_id)
    return await stream_markdown(ls, ls.coach.explain(finding), title="AI coach", stream_id=a.stream_id)


@command("sessionlens.coachSession")
async def coach_session(ls: SessionLensServer, a: CoachSessionParams) -> dict[str, Any]:
    return await stream_markdown(ls, ls.coach.coach_session(session_ref(a)), title="Coach this session", stream_id=a.stream_id)


FEATURE = Feature("coach", commands=(set_api_key, explain_finding, coach_session, show_quick_fix_target))
