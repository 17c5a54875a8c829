"""The language server observing itself: with OTEL_EXPORTER_OTLP_ENDPOINT set, every LSP request becomes a
span (and a latency sample by ``rpc.method``) on a loopback OTLP receiver; the index pass too."""

from __future__ import annotations

import asyncio
import os
import time

import pytest
import pytest_lsp
from lsprotocol import types as T
from pytest_lsp import ClientServerConfig, LanguageClient

from sessionlens.samples.generator import generate_corpus
from tests.lsp.conftest import server_command, vscode_caps, wait_idle
from tests.telemetry.test_otlp import Receiver

RECEIVER = Receiver()
ENV = {
    **{k: v for k, v in os.environ.items() if not k.startswith("OTEL_")},
    "OTEL_EXPORTER_OTLP_ENDPOINT": RECEIVER.url,
    "OTEL_BSP_SCHEDULE_DELAY": "100",
    "OTEL_METRIC_EXPORT_INTERVAL": "200",
    "SESSIONLENS_LOG": "WARNING",
}
_S: dict = {}
pytestmark = pytest.mark.lsp


@pytest_lsp.fixture(scope="module", config=ClientServerConfig(server_command=server_command(), server_env=ENV))
async def client(lsp_client: LanguageClient, tmp_path_factory):
    root = tmp_path_factory.mktemp("selftrace")
    generate_corpus(root / "ws" / "logs", seed=5, total_bytes=120_000)
    _S["root"] = root
    await lsp_client.initialize_session(
        T.InitializeParams(
            capabilities=vscode_caps(),
            workspace_folders=[T.WorkspaceFolder(uri=(root / "ws").as_uri(), name="ws")],
            initialization_options={"storePath": str(root / "home"), "includeHomeLogs": False},
        )
    )
    await wait_idle(lsp_client)
    yield
    await asyncio.wait_for(lsp_client.shutdown_session(), 10)


def _names() -> list[tuple[str, dict]]:
    return [(sp.name, {kv.key: kv.value for kv in sp.attributes}) for _, _, sp in RECEIVER.spans()]


@pytest.mark.asyncio(loop_scope="module")
async def test_requests_and_index_passes_become_spans(client: LanguageClient):
    await client.workspace_symbol_async(T.WorkspaceSymbolParams(query="test"))
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        names = _names()
        if any(n == "workspace/symbol" for n, _ in names) and any(n == "sessionlens.index" for n, _ in names):
            break
        await asyncio.sleep(0.2)
    names = _names()
    sym = [a for n, a in names if n == "workspace/symbol"]
    assert sym and sym[0]["rpc.method"].string_value == "workspace/symbol"
    assert any(n == "sessionlens.index" for n, _ in names)
    assert any(n.startswith("workspace/executeCommand sessionlens.status") for n, _ in names)
    deadline = time.monotonic() + 20
    while "sessionlens.lsp.request.duration" not in RECEIVER.metric_names() and time.monotonic() < deadline:
        await asyncio.sleep(0.2)
    assert "sessionlens.lsp.request.duration" in RECEIVER.metric_names()
