"""A fake LSP context for unit tests of the handlers: the real App on a tmp store of generated logs,
with the client side (capabilities, notifications, progress, open documents) recorded in memory."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from lsprotocol import types as T

from sessionlens.lsp.core import SessionLensServer
from sessionlens.lsp.features import FEATURES
from sessionlens.services.app import App
from sessionlens.services.coaching import CoachService
from sessionlens.services.hubclient import TeamHubs
from sessionlens.services.settings import Settings
from sessionlens.services.watch import RootWatcher


@dataclass
class FakeDocument:
    uri: str
    source: str
    version: int = 1


class FakeProgress:
    """Records ``$/progress`` traffic; ``refuse`` makes ``create_async`` fail like a client that says no."""

    def __init__(self) -> None:
        self.events: list[tuple[str, str, Any]] = []
        self.tokens: dict[str, asyncio.Future[Any]] = {}
        self.refuse = False

    async def create_async(self, token: str) -> None:
        if self.refuse:
            raise RuntimeError("refused")
        self.tokens[token] = asyncio.get_running_loop().create_future()
        self.events.append(("create", token, None))

    def begin(self, token: str, value: T.WorkDoneProgressBegin) -> None:
        self.events.append(("begin", token, value))

    def report(self, token: str, value: T.WorkDoneProgressReport) -> None:
        self.events.append(("report", token, value))

    def end(self, token: str, value: T.WorkDoneProgressEnd) -> None:
        self.events.append(("end", token, value))

    def kinds(self) -> list[str]:
        return [k for k, _, _ in self.events]


@dataclass
class FakeServer:
    """Duck-types ``SessionLensServer`` for the handlers (its own helpers are borrowed, not re-implemented)."""

    app: App
    capabilities: set[tuple[str, ...]] = field(default_factory=set)
    notifications: list[tuple[str, Any]] = field(default_factory=list)
    published: list[T.PublishDiagnosticsParams] = field(default_factory=list)
    messages: list[T.ShowMessageParams] = field(default_factory=list)
    registrations: list[T.RegistrationParams] = field(default_factory=list)
    lens_refreshes: int = 0

    def __post_init__(self) -> None:
        self.coach = CoachService(self.app)
        self.workspace = SimpleNamespace(text_documents={})
        self.protocol = SimpleNamespace(notify=lambda method, params: self.notifications.append((method, params)))
        self.work_done_progress = FakeProgress()
        self.pool = ThreadPoolExecutor(max_workers=2)
        self.index_pool = ThreadPoolExecutor(max_workers=1)
        self.indexing = False
        self.pending_paths: set[str] = set()
        self.full_pass_requested = False
        self.pending_settled = False
        self.index_wakeup: asyncio.Event | None = None
        self.extra_paths: set[str] = set()
        self.last_status: dict[str, Any] = {}
        self.init_options: dict[str, Any] = {}
        self.tasks: set[Any] = set()
        self.watcher = RootWatcher(lambda: self.app.db().file_rows())
        self.providers = [f.documents for f in FEATURES if f.documents is not None]
        self._app = self.app
        self._coach = self.coach
        self._error_reported: set[str] = set()
        self.hubs = TeamHubs()

    # borrowed from the real server
    read_document = SessionLensServer.read_document
    notify_status = SessionLensServer.notify_status
    spawn = SessionLensServer.spawn
    initialized = True

    async def run(self, fn, *args, **kw):
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.pool, lambda: fn(*args, **kw))

    def client_supports(self, *path: str) -> bool:
        return tuple(path) in self.capabilities

    def open(self, path: Path, text: str | None = None, version: int = 1) -> str:
        uri = path.as_uri()
        self.workspace.text_documents[uri] = FakeDocument(uri, path.read_text() if text is None else text, version)
        return uri

    def text_document_publish_diagnostics(self, params: T.PublishDiagnosticsParams) -> None:
        self.published.append(params)

    def window_show_message(self, params: T.ShowMessageParams) -> None:
        self.messages.append(params)

    async def client_register_capability_async(self, params: T.RegistrationParams) -> None:
        self.registrations.append(params)

    async def workspace_code_lens_refresh_async(self, _params: Any) -> None:
        self.lens_refreshes += 1

    def diagnostics_for(self, uri: str) -> list[T.Diagnostic]:
        for p in reversed(self.published):
            if p.uri == uri:
                return list(p.diagnostics)
        raise AssertionError(f"nothing published for {uri}")

    def close(self) -> None:
        self.pool.shutdown(wait=False)
        self.index_pool.shutdown(wait=False)


def make_app(home: Path, *, workspace: list[Path] = ()) -> App:
    app = App(Settings(storePath=str(home), includeHomeLogs=False, homeLogsScope="all"))
    app.workspace_folders = [str(p) for p in workspace]
    return app
