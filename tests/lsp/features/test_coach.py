"""Coach quick fixes on log diagnostics and the AI commands, with a fake context (no API key: a clear error)."""

from __future__ import annotations

import pytest
from lsprotocol import types as T
from pygls.exceptions import JsonRpcInvalidParams

from sessionlens.lsp.commands import CommandNotFound
from sessionlens.lsp.features import coach, logs
from sessionlens.models.api import NOT_FOUND


async def _coach_diagnostic(ls, indexed):
    for p in indexed["logs"]:
        for d in await logs.PROVIDER.diagnostics(ls, str(p)):
            if d.source == coach.COACH_SOURCE and isinstance(d.data, dict) and "finding_id" in d.data:
                return p, d
    raise AssertionError("no coach finding in the generated logs")


async def test_quick_fixes_for_a_finding_explain_and_disable(ls, indexed):
    path, diag = await _coach_diagnostic(ls, indexed)
    params = T.CodeActionParams(text_document=T.TextDocumentIdentifier(uri=path.as_uri()), range=diag.range,
                                context=T.CodeActionContext(diagnostics=[diag]))
    actions = await logs.PROVIDER.code_action(ls, str(path), params)
    titles = [a.title for a in actions]
    assert "Explain with AI coach" in titles
    explain = next(a for a in actions if a.title == "Explain with AI coach")
    assert explain.command.arguments == [{"finding_id": diag.data["finding_id"]}]
    disable = actions[-1]
    assert disable.edit and (disable.edit.changes or disable.edit.document_changes)


async def test_diagnostics_from_other_sources_get_no_quick_fix(ls, log_path):
    d = T.Diagnostic(range=T.Range(start=T.Position(line=0, character=0), end=T.Position(line=0, character=1)),
                     message="x", source="someone-else", data={"finding_id": 1})
    params = T.CodeActionParams(text_document=T.TextDocumentIdentifier(uri=log_path.as_uri()), range=d.range,
                                context=T.CodeActionContext(diagnostics=[d]))
    assert await coach.quick_fixes(ls, params) is None


async def test_workspace_edit_uses_document_changes_when_the_client_can(ls, tmp_path):
    from sessionlens.services.coaching import FileEdit

    edit = FileEdit(path=str(tmp_path / "AGENTS.md"), old_text=None, new_text="# Rules\n", title="t")
    plain = coach.workspace_edit(ls, edit)
    assert list(plain.changes) == [(tmp_path / "AGENTS.md").as_uri()]
    ls.capabilities.add(("workspace", "workspace_edit", "document_changes"))
    rich = coach.workspace_edit(ls, edit)
    assert isinstance(rich.document_changes[0], T.CreateFile)


async def test_set_api_key(ls):
    assert await coach.set_api_key.execute(ls, [{"key": "  "}]) == {"ok": True, "configured": False}
    assert await coach.set_api_key.execute(ls, [{"key": " sk-test "}]) == {"ok": True, "configured": True}
    assert ls.app.api_key == "sk-test"


async def test_explain_without_a_key_streams_a_clear_error(ls, indexed, monkeypatch):
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    _, diag = await _coach_diagnostic(ls, indexed)
    res = await coach.explain_finding.execute(ls, [{"finding_id": diag.data["finding_id"], "stream_id": "s1"}])
    assert res["id"] == "s1" and res["error"] and "API key" in res["error"] + res["markdown"]
    done = [p for m, p in ls.notifications if m == "sessionlens/stream" and p["done"]]
    assert done and done[-1]["id"] == "s1" and done[-1]["error"] == res["error"]


async def test_explain_an_unknown_finding_is_not_found(ls):
    with pytest.raises(CommandNotFound) as exc:
        await coach.explain_finding.execute(ls, [{"finding_id": 987654}])
    assert exc.value.code == NOT_FOUND
    with pytest.raises(JsonRpcInvalidParams, match="finding_id"):
        await coach.explain_finding.execute(ls, [{}])
