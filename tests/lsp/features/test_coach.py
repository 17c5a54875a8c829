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
    params = T.CodeActionParams(
        text_document=T.TextDocumentIdentifier(uri=path.as_uri()), range=diag.range, context=T.CodeActionContext(diagnostics=[diag])
    )
    actions = await logs.PROVIDER.code_action(ls, str(path), params)
    titles = [a.title for a in actions]
    assert "Explain with AI coach" in titles
    explain = next(a for a in actions if a.title == "Explain with AI coach")
    assert explain.command.arguments == [{"finding_id": diag.data["finding_id"]}]
    # the generated sessions ran in /home/dev/projects/..., not on this machine: nothing is written
    # anywhere; the actions say why (a message when chosen, or greyed out where the client can)
    refused = [a for a in actions if a.title.endswith("(unavailable)")]
    assert refused and all(a.edit is None and a.command.command == "sessionlens.showQuickFixTarget" for a in refused)
    assert "not a folder on this machine" in refused[-1].command.arguments[0]["message"]
    ls.capabilities.add(("text_document", "code_action", "disabled_support"))
    actions = await logs.PROVIDER.code_action(ls, str(path), params)
    disabled = [a for a in actions if a.disabled is not None]
    assert disabled and all(a.edit is None for a in disabled) and "not a folder" in disabled[-1].disabled.reason
    res = await coach.show_quick_fix_target.execute(ls, [{"message": "the session ran elsewhere"}])
    assert res["ok"] and ls.messages[-1].message == "sessionlens: the session ran elsewhere"


async def test_quick_fixes_in_the_workspace_edit_and_open_the_target(tmp_path):
    import random
    from pathlib import Path

    from sessionlens.samples.generator import DEFAULT_START, generate_claude_session
    from tests.lsp.fakes import FakeServer, make_app

    ws = tmp_path / "ws"
    (ws / ".git").mkdir(parents=True)
    log = tmp_path / "logs" / "s.jsonl"
    generate_claude_session(random.Random(4), path=log, start=DEFAULT_START, turns=2, cwd=str(ws), problems=("repeat_failure",))
    app = make_app(tmp_path / "home", workspace=[ws])
    app.index([str(log.parent)])
    srv = FakeServer(app)
    try:
        diags = [
            d for d in await logs.PROVIDER.diagnostics(srv, str(log)) if d.source == coach.COACH_SOURCE and d.code == "repeated-failure"
        ]
        params = T.CodeActionParams(
            text_document=T.TextDocumentIdentifier(uri=log.as_uri()),
            range=diags[0].range,
            context=T.CodeActionContext(diagnostics=diags[:1]),
        )
        actions = await logs.PROVIDER.code_action(srv, str(log), params)
        target = ws / "CLAUDE.md"
        add = next(a for a in actions if a.title.startswith("Add guideline to "))
        assert str(target).replace(str(Path.home()), "~") in add.title  # names the path
        assert list(add.edit.changes) == [target.as_uri()]
        assert add.command.command == "sessionlens.showQuickFixTarget" and add.command.arguments == [{"path": str(target)}]
        disable = next(a for a in actions if a.title.startswith("Disable rule"))
        assert list(disable.edit.changes) == [(ws / ".sessionlens.json").as_uri()]
        # after the edit the client runs the command: the file opens (window/showDocument)
        srv.capabilities.add(("window", "show_document", "support"))
        shown = []

        async def show(params):
            shown.append(params)
            return T.ShowDocumentResult(success=True)

        srv.window_show_document_async = show
        res = await coach.show_quick_fix_target.execute(srv, [{"path": str(target)}])
        assert res["uri"] == target.as_uri() and shown[0].uri == target.as_uri() and shown[0].take_focus
        # never a file outside the workspace, whatever the arguments say
        from sessionlens.lsp.commands import RequestFailed

        with pytest.raises(RequestFailed):
            await coach.show_quick_fix_target.execute(srv, [{"path": str(tmp_path / "elsewhere.md")}])
    finally:
        srv.close()
        app.close()


async def test_diagnostics_from_other_sources_get_no_quick_fix(ls, log_path):
    d = T.Diagnostic(
        range=T.Range(start=T.Position(line=0, character=0), end=T.Position(line=0, character=1)),
        message="x",
        source="someone-else",
        data={"finding_id": 1},
    )
    params = T.CodeActionParams(
        text_document=T.TextDocumentIdentifier(uri=log_path.as_uri()), range=d.range, context=T.CodeActionContext(diagnostics=[d])
    )
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
    ls.capabilities.add(("experimental", "sessionlens", "stream"))  # a client that renders the stream (VS Code)
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


async def test_explain_without_a_key_tells_any_editor(ls, indexed, monkeypatch):
    """A client without the custom notifications (Neovim, Helix...) gets the error as window/showMessage."""
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    _, diag = await _coach_diagnostic(ls, indexed)
    res = await coach.explain_finding.execute(ls, [{"finding_id": diag.data["finding_id"]}])
    assert res["error"] and not any(m == "sessionlens/stream" for m, _ in ls.notifications)
    assert ls.messages and ls.messages[-1].type == T.MessageType.Error and "API key" in ls.messages[-1].message
