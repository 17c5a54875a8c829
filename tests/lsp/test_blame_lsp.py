"""pytest-lsp: agent blame on a scripted git repository — hover and lens, line by line, over stdio."""

from __future__ import annotations

import asyncio
import json
import re
from urllib.parse import unquote

import pytest
import pytest_lsp
from lsprotocol import types as T
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities

from sessionlens.samples import blame_repo
from tests.lsp.conftest import server_command, vscode_caps

pytestmark = [pytest.mark.lsp, pytest.mark.asyncio(loop_scope="module")]

NAMES = {blame_repo.SESSION_A: "A", blame_repo.SESSION_B: "B", blame_repo.SESSION_C: "C"}
_STATE: dict = {}


async def _start(client: LanguageClient, root, caps: T.ClientCapabilities) -> blame_repo.Fixture:
    fx = blame_repo.build(root / "fx")
    client.set_configuration({"logRoots": [str(fx.logs)], "includeHomeLogs": False}, section="sessionlens")
    await client.initialize_session(
        T.InitializeParams(
            capabilities=caps,
            workspace_folders=[T.WorkspaceFolder(uri=fx.repo.as_uri(), name="demo")],
            initialization_options={"storePath": str(root / "home"), "includeHomeLogs": False, "logRoots": [str(fx.logs)]},
        )
    )

    async def idle():
        while True:
            res = await client.workspace_execute_command_async(T.ExecuteCommandParams(command="sessionlens.status", arguments=[{}]))
            if not res["indexing"] and res["sessions"] >= 3:
                return
            await asyncio.sleep(0.1)

    await asyncio.wait_for(idle(), 60)
    return fx


@pytest_lsp.fixture(scope="module", config=ClientServerConfig(server_command=server_command(), server_env=None))
async def client(lsp_client: LanguageClient, tmp_path_factory):
    _STATE["fx"] = await _start(lsp_client, tmp_path_factory.mktemp("blamelsp"), vscode_caps())
    yield
    await asyncio.wait_for(lsp_client.shutdown_session(), 10)


async def _open(client: LanguageClient, path, text: str | None = None) -> str:
    uri = path.as_uri()
    client.text_document_did_open(
        T.DidOpenTextDocumentParams(
            text_document=T.TextDocumentItem(uri=uri, language_id="python", version=1, text=path.read_text() if text is None else text)
        )
    )
    return uri


async def _hover(client: LanguageClient, uri: str, line: int) -> T.Hover | None:
    return await client.text_document_hover_async(
        T.HoverParams(text_document=T.TextDocumentIdentifier(uri=uri), position=T.Position(line=line, character=2))
    )


def _link_of(md: str) -> str:
    m = re.search(r"\]\(command:sessionlens\.ui\.openLink\?([^)]+)\)", md)
    assert m, md
    return json.loads(unquote(m.group(1)))[0]


@pytest.mark.parametrize("rel", ["src/app.py", "src/config.py", "src/helpers.py", "README.md"])
async def test_hover_names_each_lines_writer_and_none_for_the_rest(client: LanguageClient, rel: str):
    fx = _STATE["fx"]
    uri = await _open(client, fx.repo / rel)
    lines = (fx.repo / rel).read_text().split("\n")[:-1]
    got: list[str | None] = []
    for i in range(len(lines)):
        h = await _hover(client, uri, i)
        if h is None:
            got.append(None)
            continue
        md = h.contents.value  # type: ignore[union-attr]
        sid = _link_of(md).split("/session/")[1].split("?")[0]
        got.append(NAMES[sid])
        assert md.startswith(("Claude Code · 2026-02-09 · turn ", "Codex · 2026-02-09 · turn 1")), md
    assert got == [NAMES.get(x) if x else None for x in fx.expected[rel]]


async def test_hover_text_names_turn_prompt_and_tool(client: LanguageClient):
    fx = _STATE["fx"]
    uri = await _open(client, fx.repo / "src/config.py")
    h = await _hover(client, uri, 5)  # "# the number of attempts before giving up": A's second turn
    md = h.contents.value  # type: ignore[union-attr]
    assert md.splitlines()[0] == "Claude Code · 2026-02-09 · turn 2: *Document the config module* · Edit of config.py"
    assert "[Open the transcript at this edit](command:sessionlens.ui.openLink?" in md
    assert "1 other session edited this file" in md
    h = await _hover(client, (fx.repo / "src/helpers.py").as_uri(), 0)
    assert h is not None and "apply_patch of util.py (now src/helpers.py)" in h.contents.value  # type: ignore[union-attr]


async def test_the_link_opens_the_transcript_at_the_edit(client: LanguageClient):
    fx = _STATE["fx"]
    uri = await _open(client, fx.repo / "src/app.py")
    h = await _hover(client, uri, 15)  # def farewell: B's apply_patch
    link = _link_of(h.contents.value)  # type: ignore[union-attr]
    target = await client.workspace_execute_command_async(
        T.ExecuteCommandParams(command="sessionlens.resolveLink", arguments=[{"link": link}])
    )
    assert target["session_id"] == blame_repo.SESSION_B
    log_line = open(target["path"]).read().split("\n")[target["line"] - 1]
    assert '"apply_patch"' in log_line and "def farewell" in log_line  # the log line of the edit itself
    html = await client.workspace_execute_command_async(
        T.ExecuteCommandParams(command="sessionlens.renderSessionHtml", arguments=[{"session_id": target["session_id"]}])
    )
    assert f'data-seq="{target["line"]}"' in html["body"] or f'id="e{target["line"]}"' in html["body"]


async def test_lens_counts_sessions_and_lists_them(client: LanguageClient):
    fx = _STATE["fx"]
    want = {"src/app.py": 2, "src/config.py": 2, "src/helpers.py": 1, "README.md": 1}
    for rel, n in want.items():
        uri = await _open(client, fx.repo / rel)
        lenses = await client.text_document_code_lens_async(T.CodeLensParams(text_document=T.TextDocumentIdentifier(uri=uri)))
        assert lenses and len(lenses) == 1 and lenses[0].range.start.line == 0
        cmd = lenses[0].command
        assert cmd is not None and re.fullmatch(rf"edited in {n} agent sessions?, last \d+ \w+ ago", cmd.title), cmd.title
        assert cmd.command == "sessionlens.ui.blameSessions" and list(cmd.arguments or []) == [uri]
    res = await client.workspace_execute_command_async(
        T.ExecuteCommandParams(command="sessionlens.blame", arguments=[{"uri": (fx.repo / "src/config.py").as_uri(), "line": 2}])
    )
    assert [NAMES[s["session_id"]] for s in res["sessions"]] == ["C", "A"]
    assert res["writer"]["session_id"] == blame_repo.SESSION_C and res["writer"]["tool"] == "Edit"
    assert res["git"] and res["rel"] == "src/config.py" and res["line_count"] == len(res["writers"])


async def test_a_file_no_session_edited_has_no_lens_and_no_hover(client: LanguageClient):
    fx = _STATE["fx"]
    p = fx.repo / "src" / "untouched.py"
    p.write_text("def untouched() -> None:\n    return None\n")
    uri = await _open(client, p)
    assert await client.text_document_code_lens_async(T.CodeLensParams(text_document=T.TextDocumentIdentifier(uri=uri))) is None
    assert await _hover(client, uri, 0) is None


async def test_unsaved_changes_in_the_editor_are_blamed_as_shown(client: LanguageClient):
    fx = _STATE["fx"]
    p = fx.repo / "src/config.py"
    uri = p.as_uri()
    text = p.read_text()
    client.text_document_did_change(
        T.DidChangeTextDocumentParams(
            text_document=T.VersionedTextDocumentIdentifier(uri=uri, version=5),
            content_changes=[T.TextDocumentContentChangeWholeDocument(text="# typed by a person\n" + text)],
        )
    )
    assert await _hover(client, uri, 0) is None
    h = await _hover(client, uri, 3)  # TIMEOUT = 90, one line further down now
    assert h is not None and blame_repo.SESSION_C in _link_of(h.contents.value)  # type: ignore[union-attr]


@pytest_lsp.fixture(scope="module", config=ClientServerConfig(server_command=server_command(), server_env=None))
async def plain_client(lsp_client: LanguageClient, tmp_path_factory):
    _STATE["fx2"] = await _start(lsp_client, tmp_path_factory.mktemp("blamelsp2"), client_capabilities("neovim"))
    yield
    await asyncio.wait_for(lsp_client.shutdown_session(), 10)


async def test_other_editors_get_the_sessionlens_link(plain_client: LanguageClient):
    fx = _STATE["fx2"]
    uri = await _open(plain_client, fx.repo / "src/app.py")
    h = await _hover(plain_client, uri, 5)
    md = h.contents.value  # type: ignore[union-attr]
    assert f"](sessionlens://session/{blame_repo.SESSION_A}?event=" in md and "command:" not in md
    lenses = await plain_client.text_document_code_lens_async(T.CodeLensParams(text_document=T.TextDocumentIdentifier(uri=uri)))
    assert lenses[0].command.command == "sessionlens.blame"  # type: ignore[union-attr]
