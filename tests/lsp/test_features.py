"""Definition, code lenses, folding, code actions (coach quick fixes), configuration and robustness over LSP."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
import pytest_lsp
from lsprotocol import types as T
from pytest_lsp import ClientServerConfig, LanguageClient

from tests.lsp.conftest import (
    CLAUDE_CRUD,
    CLAUDE_SHORT,
    CODEX_CRUD,
    FACTS,
    code_actions_as_sent,
    log_sources,
    make_workspace,
    server_command,
    vscode_caps,
    wait_idle,
)

pytestmark = pytest.mark.lsp
_S: dict = {}


@pytest_lsp.fixture(scope="module", config=ClientServerConfig(server_command=server_command()), params=log_sources())
async def client(lsp_client: LanguageClient, tmp_path_factory, request):
    root = tmp_path_factory.mktemp("feat")
    ws = make_workspace(root, files=(CLAUDE_CRUD, CLAUDE_SHORT, CODEX_CRUD), source=request.param)
    corpus = request.param == "corpus"
    cwd = "/home/marco/projects/spotter" if corpus else FACTS[ws / "logs" / CLAUDE_SHORT.replace("/", "__")]["cwd"]
    # a broken log: garbage, a malformed line in the middle, a huge line, then valid lines
    src = (ws / "logs" / CLAUDE_SHORT.replace("/", "__")).read_text().split("\n")
    bad = src[:3] + ["{not json at all", "x" * 2_000_000, "[1, 2, 3]"] + src[3:]
    (ws / "logs" / "broken.jsonl").write_text("\n".join(bad))
    # the short session as if it ran in this workspace (its copy "elsewhere.jsonl" still names its own cwd)
    short = ws / "logs" / CLAUDE_SHORT.replace("/", "__")
    (ws / "logs" / "elsewhere.jsonl").write_text(short.read_text())
    short.write_text(short.read_text().replace(f'"cwd":"{cwd}"', f'"cwd":"{ws}"'))
    if corpus:
        edited = ws / "JOKE.md"
    else:  # the file the generated session's first Edit names, inside its project
        crud = (ws / "logs" / CLAUDE_CRUD.replace("/", "__")).read_text()
        crud_cwd = FACTS[ws / "logs" / CLAUDE_CRUD.replace("/", "__")]["cwd"]
        edit = next(ln for ln in crud.split("\n") if '"name":"Edit"' in ln)
        target = json.loads(edit)["message"]["content"]
        target = next(b["input"]["file_path"] for b in target if b.get("type") == "tool_use" and b.get("name") == "Edit")
        edited = ws / Path(target).relative_to(crud_cwd)
    edited.parent.mkdir(parents=True, exist_ok=True)
    edited.write_text("# A joke\n\nWhy do programmers prefer dark mode?\nBecause light attracts bugs.\n")
    _S.update(ws=ws, root=root, cwd=cwd, edited=edited)
    code_actions_as_sent(lsp_client)
    await lsp_client.initialize_session(
        T.InitializeParams(
            capabilities=vscode_caps(),
            workspace_folders=[T.WorkspaceFolder(uri=ws.as_uri(), name="ws")],
            initialization_options={"storePath": str(root / "home"), "includeHomeLogs": False},
        )
    )
    await wait_idle(lsp_client)
    yield
    await asyncio.wait_for(lsp_client.shutdown_session(), 10)


def p(rel: str) -> Path:
    return _S["ws"] / "logs" / rel.replace("/", "__")


def doc(rel: str) -> T.TextDocumentIdentifier:
    return T.TextDocumentIdentifier(uri=p(rel).as_uri())


@pytest.mark.asyncio(loop_scope="module")
async def test_definition_jumps_to_edited_file(client: LanguageClient):
    lines = p(CLAUDE_CRUD).read_text().split("\n")
    idx = next(i for i, l in enumerate(lines) if '"name":"Edit"' in l)
    res = await client.text_document_definition_async(
        T.DefinitionParams(text_document=doc(CLAUDE_CRUD), position=T.Position(line=idx, character=3))
    )
    assert res, "an Edit event resolves to the workspace copy of the edited file"
    loc = res[0]
    assert loc.uri == _S["edited"].as_uri()


@pytest.mark.asyncio(loop_scope="module")
async def test_code_lens_and_folding_per_turn(client: LanguageClient):
    lenses = await client.text_document_code_lens_async(T.CodeLensParams(text_document=doc(CODEX_CRUD)))
    assert lenses and all("tokens" in l.command.title for l in lenses)
    assert any("$" in l.command.title for l in lenses)
    syms = await client.text_document_document_symbol_async(T.DocumentSymbolParams(text_document=doc(CLAUDE_SHORT)))
    turns = [c for c in syms[0].children if c.name.startswith("Turn")]
    folds = await client.text_document_folding_range_async(T.FoldingRangeParams(text_document=doc(CLAUDE_SHORT)))
    assert folds
    assert {f.start_line for f in folds} <= {t.range.start.line for t in turns}


@pytest.mark.asyncio(loop_scope="module")
async def test_broken_log_problems_and_server_alive(client: LanguageClient):
    uri = (_S["ws"] / "logs" / "broken.jsonl").as_uri()
    client.text_document_did_open(
        T.DidOpenTextDocumentParams(
            text_document=T.TextDocumentItem(uri=uri, language_id="jsonl", version=1, text=(_S["ws"] / "logs" / "broken.jsonl").read_text())
        )
    )
    await asyncio.wait_for(client.wait_for_notification(T.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS), 15)
    diags = client.diagnostics[uri]
    parse = sorted(d.range.start.line for d in diags if d.code == "parse-error")
    assert 3 in parse and 4 in parse and 5 in parse  # garbage, huge non-JSON line, non-object JSON
    # the rest of the file is still indexed: the outline has its turn
    syms = await client.text_document_document_symbol_async(T.DocumentSymbolParams(text_document=T.TextDocumentIdentifier(uri=uri)))
    assert syms and any(c.name.startswith("Turn") for c in syms[0].children)
    assert not client.messages or all(m.type != T.MessageType.Error for m in client.messages)


@pytest.mark.asyncio(loop_scope="module")
async def test_add_guideline_quick_fix_is_idempotent(client: LanguageClient):
    uri = p(CLAUDE_SHORT).as_uri()
    client.text_document_did_open(
        T.DidOpenTextDocumentParams(
            text_document=T.TextDocumentItem(uri=uri, language_id="jsonl", version=1, text=p(CLAUDE_SHORT).read_text())
        )
    )
    await asyncio.wait_for(client.wait_for_notification(T.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS), 15)
    diag = next(d for d in client.diagnostics[uri] if d.code == "rejected-tool-use")

    async def actions():
        return await client.text_document_code_action_async(
            T.CodeActionParams(
                text_document=T.TextDocumentIdentifier(uri=uri), range=diag.range, context=T.CodeActionContext(diagnostics=[diag])
            )
        )

    acts = await actions()
    titles = [a.title for a in acts]
    target = _S["ws"] / "CLAUDE.md"
    title = f"Add guideline to {target}"  # the target path, where Claude Code reads it: the session's project root
    assert title in titles, titles
    assert "Explain with AI coach" in titles
    assert any(t.startswith("Disable rule") for t in titles)
    add = next(a for a in acts if a.title == title)
    assert add.command.command == "sessionlens.showQuickFixTarget"  # opened after the edit
    ops = add.edit.document_changes
    assert any(isinstance(o, T.CreateFile) and o.uri == target.as_uri() for o in ops)
    text_edit = next(o for o in ops if isinstance(o, T.TextDocumentEdit)).edits[0]
    target.write_text(text_edit.new_text)  # apply, as the editor would
    content = target.read_text()
    assert "## Guidelines from sessionlens" in content and "sessionlens: rule=rejected-tool-use" in content
    # a second request no longer offers the same guideline: applying twice adds it once
    acts2 = await actions() or []  # the instructions changed: the log may be re-coached (the old finding is gone)
    assert title not in [a.title for a in acts2]
    assert target.read_text().count("rule=rejected-tool-use") == 1
    # disable-rule edits the project config
    dis = next(a for a in acts2 if a.title.startswith("Disable rule"))
    cfg_edit = next(o for o in dis.edit.document_changes if isinstance(o, T.TextDocumentEdit)).edits[0]
    cfg = json.loads(cfg_edit.new_text)
    assert cfg["coach"]["rules"]["rejected-tool-use"]["enabled"] is False
    assert dis.edit.document_changes[-1].text_document.uri == (_S["ws"] / ".sessionlens.json").as_uri()


@pytest.mark.asyncio(loop_scope="module")
async def test_quick_fixes_never_write_where_a_foreign_log_says(client: LanguageClient):
    """The same session, but its cwd (/home/marco/projects/spotter, /home/dev/projects/...) is not on this machine."""
    path = _S["ws"] / "logs" / "elsewhere.jsonl"
    uri = path.as_uri()
    client.text_document_did_open(
        T.DidOpenTextDocumentParams(text_document=T.TextDocumentItem(uri=uri, language_id="jsonl", version=1, text=path.read_text()))
    )
    for _ in range(50):
        if any(d.code == "rejected-tool-use" for d in client.diagnostics.get(uri, [])):
            break
        await asyncio.sleep(0.2)
    diag = next(d for d in client.diagnostics[uri] if d.code == "rejected-tool-use")
    acts = await client.text_document_code_action_async(
        T.CodeActionParams(
            text_document=T.TextDocumentIdentifier(uri=uri), range=diag.range, context=T.CodeActionContext(diagnostics=[diag])
        )
    )
    add = next(a for a in acts if a.title == "Add guideline to CLAUDE.md")
    assert add.edit is None and add.disabled and _S["cwd"] in add.disabled.reason
    dis = next(a for a in acts if a.title.startswith("Disable rule"))
    assert dis.edit is None and dis.disabled


@pytest.mark.asyncio(loop_scope="module")
async def test_explain_without_key_says_how_to_set_one(client: LanguageClient):
    uri = p(CLAUDE_SHORT).as_uri()
    # an earlier test's quick fix wrote the project's instructions: the log is re-coached (new finding ids);
    # opening the document again publishes the diagnostics of the findings as they are now
    await wait_idle(client)
    res = None
    for version in range(2, 12):
        client.text_document_did_close(T.DidCloseTextDocumentParams(text_document=T.TextDocumentIdentifier(uri=uri)))
        client.text_document_did_open(
            T.DidOpenTextDocumentParams(
                text_document=T.TextDocumentItem(uri=uri, language_id="jsonl", version=version, text=p(CLAUDE_SHORT).read_text())
            )
        )
        diag = None
        for _ in range(100):  # the publish for this document (others' may come first)
            await asyncio.sleep(0.1)
            diag = next((d for d in client.diagnostics.get(uri, []) if d.code == "rejected-tool-use"), None)
            if diag is not None:
                break
        if diag is None:
            continue
        try:
            res = await client.workspace_execute_command_async(
                T.ExecuteCommandParams(command="sessionlens.explainFinding", arguments=[{"finding_id": diag.data["finding_id"]}])
            )
            break
        except Exception as e:  # re-coached once more in between: open it again
            assert "no longer exists" in str(e)
            await asyncio.sleep(0.5)
    assert res is not None
    assert res["error"] and "ANTHROPIC_API_KEY" in res["error"]


@pytest.mark.asyncio(loop_scope="module")
async def test_coach_session_deterministic(client: LanguageClient):
    res = await client.workspace_execute_command_async(
        T.ExecuteCommandParams(command="sessionlens.coachSession", arguments=[{"uri": p(CLAUDE_SHORT).as_uri()}])
    )
    assert "rejected" in res["markdown"].lower()


@pytest.mark.asyncio(loop_scope="module")
async def test_cost_report_command(client: LanguageClient):
    res = await client.workspace_execute_command_async(
        T.ExecuteCommandParams(command="sessionlens.costReport", arguments=[{"by": "model"}])
    )
    assert res["rows"] and res["totals"]["cost_usd"] > 0
    assert res["svg"].startswith("<svg") and "|" in res["markdown"]


@pytest.mark.asyncio(loop_scope="module")
async def test_bad_command_arguments_answer_with_an_error(client: LanguageClient):
    with pytest.raises(Exception) as exc:
        await client.workspace_execute_command_async(
            T.ExecuteCommandParams(command="sessionlens.resolveLink", arguments=[{"link": "https://example.com"}])
        )
    assert "not a sessionlens link" in str(exc.value)
    res = await client.workspace_execute_command_async(
        T.ExecuteCommandParams(command="sessionlens.search", arguments=[{"query": 'unbalanced "quote ( paren: AND OR'}])
    )
    assert "hits" in res
