"""The AI coach over LSP against a loopback fake of the Anthropic Messages API: the key handed over by the
editor, the answer streamed as `sessionlens/stream` notifications, cached in the store, and redacted."""

from __future__ import annotations

import asyncio

import pytest
from lsprotocol import types as T
from pytest_lsp import ClientServerConfig

from tests.coach.fake_anthropic import FAKE_API_KEY, FAKE_MODEL, FakeAnthropic
from tests.lsp.conftest import CLAUDE_SHORT, log_sources, make_workspace, rejected_call, server_command, server_env, vscode_caps, wait_idle

pytestmark = pytest.mark.lsp


@pytest.mark.parametrize("source", log_sources())
async def test_explain_finding_streams_and_caches(tmp_path, source):
    ws = make_workspace(tmp_path, files=(CLAUDE_SHORT,), source=source)
    log = ws / "logs" / CLAUDE_SHORT.replace("/", "__")
    home = tmp_path / "home"
    async with FakeAnthropic() as fake:
        fake.reply("The user **rejected** the command; ask first.", chunks=["The user **rejected** ", "the command; ", "ask first."])
        client = await ClientServerConfig(server_command=server_command(), server_env=server_env(home)).start()
        streamed: list[dict] = []
        client.feature("sessionlens/stream")(lambda params: streamed.append(params))
        try:
            await client.initialize_session(
                T.InitializeParams(
                    capabilities=vscode_caps(),
                    workspace_folders=[T.WorkspaceFolder(uri=ws.as_uri(), name="ws")],
                    initialization_options={
                        "storePath": str(home),
                        "includeHomeLogs": False,
                        "llm": {"base_url": fake.base_url, "model": FAKE_MODEL, "max_retries": 0},
                    },
                )
            )
            await wait_idle(client)
            res = await client.workspace_execute_command_async(
                T.ExecuteCommandParams(command="sessionlens.setApiKey", arguments=[{"key": FAKE_API_KEY}])
            )
            assert res["configured"] is True
            client.text_document_did_open(
                T.DidOpenTextDocumentParams(
                    text_document=T.TextDocumentItem(uri=log.as_uri(), language_id="jsonl", version=1, text=log.read_text())
                )
            )
            await asyncio.wait_for(client.wait_for_notification(T.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS), 15)
            diag = next(d for d in client.diagnostics[log.as_uri()] if d.code == "rejected-tool-use")
            out = await client.workspace_execute_command_async(
                T.ExecuteCommandParams(
                    command="sessionlens.explainFinding", arguments=[{"finding_id": diag.data["finding_id"], "stream_id": "s1"}]
                )
            )
            assert out["error"] is None and out["markdown"] == "The user **rejected** the command; ask first."
            deltas = [p.delta for p in streamed if p.id == "s1" and p.delta]
            assert "".join(deltas) == out["markdown"] and len(deltas) >= 2
            assert len(fake.requests) == 1
            evidence = "mix phx.server" if source == "corpus" else rejected_call(log)
            assert evidence and evidence in fake.requests[0].raw.decode()  # the finding's evidence was sent
            # a second explanation of the same finding comes from the store's cache
            again = await client.workspace_execute_command_async(
                T.ExecuteCommandParams(command="sessionlens.explainFinding", arguments=[{"finding_id": diag.data["finding_id"]}])
            )
            assert again["markdown"] == out["markdown"] and len(fake.requests) == 1
        finally:
            await asyncio.wait_for(client.shutdown_session(), 10)
            await client.stop()
