"""The coach in log documents: quick fixes for coach findings (guideline edit, explain, disable the rule)
and the AI commands ``explainFinding``, ``coachSession``, ``setApiKey``."""

from __future__ import annotations

from typing import Any

from lsprotocol import types as T

from sessionlens.lsp.commands import command, session_ref
from sessionlens.lsp.convert import path_to_uri
from sessionlens.lsp.core import Feature, SessionLensServer, read_document
from sessionlens.lsp.progress import stream_markdown
from sessionlens.models.api import CoachSessionParams, ExplainFindingParams, SetApiKeyParams, SetApiKeyResult
from sessionlens.services.app import NotFound
from sessionlens.services.coaching import FileEdit

COACH_SOURCE = "sessionlens-coach"


def workspace_edit(ls: SessionLensServer, edit: FileEdit) -> T.WorkspaceEdit:
    uri = path_to_uri(edit.path)
    if edit.old_text is None:
        whole = T.Range(start=T.Position(line=0, character=0), end=T.Position(line=0, character=0))
    else:
        lines = edit.old_text.split("\n")
        whole = T.Range(start=T.Position(line=0, character=0),
                        end=T.Position(line=len(lines) - 1, character=len(lines[-1].encode("utf-16-le")) // 2))
    text_edit = T.TextEdit(range=whole, new_text=edit.new_text)
    if ls.client_supports("workspace", "workspace_edit", "document_changes"):
        changes: list[Any] = []
        if edit.creates:
            changes.append(T.CreateFile(uri=uri, options=T.CreateFileOptions(ignore_if_exists=True)))
        changes.append(T.TextDocumentEdit(text_document=T.OptionalVersionedTextDocumentIdentifier(uri=uri, version=None),
                                          edits=[text_edit]))
        return T.WorkspaceEdit(document_changes=changes)
    return T.WorkspaceEdit(changes={uri: [text_edit]})


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
        edit = await ls.run(ls.coach.guideline_edit, finding, read_document(ls))
        if edit is not None:
            actions.append(T.CodeAction(title=edit.title, kind=T.CodeActionKind.QuickFix, diagnostics=[d],
                                        edit=workspace_edit(ls, edit), is_preferred=True))
        actions.append(T.CodeAction(
            title="Explain with AI coach", kind=T.CodeActionKind.QuickFix, diagnostics=[d],
            command=T.Command(title="Explain with AI coach", command="sessionlens.explainFinding",
                              arguments=[{"finding_id": finding["id"]}]),
        ))
        dis = await ls.run(ls.coach.disable_rule_edit, finding, read_document(ls))
        actions.append(T.CodeAction(title=dis.title, kind=T.CodeActionKind.QuickFix, diagnostics=[d],
                                    edit=workspace_edit(ls, dis)))
    return actions or None


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


FEATURE = Feature("coach", commands=(set_api_key, explain_finding, coach_session))
