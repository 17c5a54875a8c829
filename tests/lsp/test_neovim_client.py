"""A Neovim-style client over stdio (Neovim 0.11's capabilities: no custom notifications, no disabled code
actions): "Explain with AI coach" shows its answer as a document, errors as messages, refusals explained."""

from __future__ import annotations

import asyncio
from pathlib import Path
from urllib.parse import unquote, urlparse

import pytest
from lsprotocol import types as T
from pytest_lsp import ClientServerConfig, client_capabilities

from tests.coach.fake_anthropic import FAKE_API_KEY, FAKE_MODEL, FakeAnthropic
from tests.lsp.conftest import CLAUDE_SHORT, FACTS, code_actions_as_sent, log_sources, make_workspace, server_command, server_env, wait_idle

pytestmark = pytest.mark.lsp


@pytest.mark.parametrize("source", log_sources())
async def test_neovim_gets_the_ai_answer_without_custom_notifications(tmp_path, source):
    ws = make_workspace(tmp_path, files=(CLAUDE_SHORT,), source=source)
    log = ws / "logs" / CLAUDE_SHORT.replace("/", "__")
    home = tmp_path / "home"
    async with FakeAnthropic() as fake:
        fake.reply("Ask before starting a server: the user **rejected** it.")
        client = await ClientServerConfig(server_command=server_command(), server_env=server_env(home)).start()
        code_actions_as_sent(client)
        streamed: list = []
        shown = client.shown_documents  # pytest-lsp answers window/showDocument with success, as Neovim does
        client.feature("sessionlens/stream")(lambda params: streamed.append(params))

        try:
            caps = client_capabilities("neovim")
            assert not caps.experimental and caps.window.show_document.support
            await client.initialize_session(
                T.InitializeParams(
                    capabilities=caps,
                    workspace_folders=[T.WorkspaceFolder(uri=ws.as_uri(), name="ws")],
                    initialization_options={
                        "storePath": str(home),
                        "includeHomeLogs": False,
                        "llm": {"base_url": fake.base_url, "model": FAKE_MODEL, "max_retries": 0},
                    },
                )
            )
            await wait_idle(client)
            client.text_document_did_open(
                T.DidOpenTextDocumentParams(
                    text_document=T.TextDocumentItem(uri=log.as_uri(), language_id="jsonl", version=1, text=log.read_text())
                )
            )
            await asyncio.wait_for(client.wait_for_notification(T.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS), 15)
            diag = next(d for d in client.diagnostics[log.as_uri()] if d.code == "rejected-tool-use")
            explain = {"finding_id": diag.data["finding_id"]}

            # no API key yet: the error reaches the user as a message, not only the server log
            out = await client.workspace_execute_command_async(
                T.ExecuteCommandParams(command="sessionlens.explainFinding", arguments=[explain])
            )
            assert out["error"]
            await asyncio.sleep(0.2)
            errors = [m for m in client.messages if m.type == T.MessageType.Error]
            assert errors and "API key" in errors[-1].message and "ANTHROPIC_API_KEY" in errors[-1].message

            # with a key: the answer opens as a rendered Markdown document
            await client.workspace_execute_command_async(
                T.ExecuteCommandParams(command="sessionlens.setApiKey", arguments=[{"key": FAKE_API_KEY}])
            )
            out = await client.workspace_execute_command_async(
                T.ExecuteCommandParams(command="sessionlens.explainFinding", arguments=[explain])
            )
            assert out["error"] is None and shown, out
            assert out["document"] == shown[-1].uri and shown[-1].take_focus
            doc = Path(unquote(urlparse(shown[-1].uri).path))
            assert "Ask before starting a server: the user **rejected** it." in doc.read_text()
            assert not streamed  # nothing Neovim would have ignored

            # the session ran in its own folder (/home/marco/projects/spotter, not here): the quick fixes say so when chosen
            acts = await client.text_document_code_action_async(
                T.CodeActionParams(
                    text_document=T.TextDocumentIdentifier(uri=log.as_uri()),
                    range=diag.range,
                    context=T.CodeActionContext(diagnostics=[diag]),
                )
            )
            refused = next(a for a in acts if a.title == "Add guideline to CLAUDE.md (unavailable)")
            assert refused.edit is None and refused.disabled is None
            await client.workspace_execute_command_async(
                T.ExecuteCommandParams(command=refused.command.command, arguments=refused.command.arguments)
            )
            await asyncio.sleep(0.2)
            warn = [m for m in client.messages if m.type == T.MessageType.Warning]
            cwd = "/home/marco/projects/spotter" if source == "corpus" else FACTS[log]["cwd"]
            assert warn and cwd in warn[-1].message
            assert not (ws / "CLAUDE.md").exists()
        finally:
            await asyncio.wait_for(client.shutdown_session(), 10)
            await client.stop()
