"""The server core: the server's state, the feature/method declarations and the document-provider interface.

Feature modules (``sessionlens.lsp.features``) import from here, never from ``lsp.server`` (which
imports them to build the server).  Handlers are module-level functions ``(ls, params)`` so they can
be imported and called with a fake context in unit tests.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TypeVar

from lsprotocol import types as T
from pygls.lsp.server import LanguageServer
from pygls.protocol import default_converter

from sessionlens import __version__
from sessionlens.lsp.convert import path_to_uri, register_hooks, uri_to_path
from sessionlens.models.api import StatusNotification
from sessionlens.services.app import App
from sessionlens.services.coaching import CoachService
from sessionlens.services.hubclient import TeamHubs
from sessionlens.services.settings import merge_settings
from sessionlens.services.watch import RootWatcher

if TYPE_CHECKING:
    from sessionlens.lsp.commands import CommandSpec

log = logging.getLogger("sessionlens.lsp")

STATUS_NOTIFICATION = "sessionlens/status"
STREAM_NOTIFICATION = "sessionlens/stream"

R = TypeVar("R")


class SessionLensServer(LanguageServer):
    def __init__(self) -> None:
        super().__init__(
            "sessionlens",
            __version__,
            text_document_sync_kind=T.TextDocumentSyncKind.Incremental,
            converter_factory=lambda: register_hooks(default_converter()),  # type: ignore[no-untyped-call]
        )
        self._app: App | None = None
        self._coach: CoachService | None = None
        self.init_options: dict[str, Any] = {}
        self.pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="sl-read")
        self.index_pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sl-index")
        self.indexing = False
        self.pending_paths: set[str] = set()
        self.full_pass_requested = False
        self.pending_settled = False  # the pending paths came grouped (the watcher's batch): no coalescing wait
        self.index_wakeup: asyncio.Event | None = None
        self.tasks: set[asyncio.Task[Any]] = set()
        self.extra_paths: set[str] = set()
        self.last_status: dict[str, Any] = {}
        self._error_reported: set[str] = set()
        self.poll_task: asyncio.Task[Any] | None = None
        self.watcher = RootWatcher(lambda: self.app.db().file_rows())
        self.providers: list[DocumentProvider] = []
        self.hubs = TeamHubs()  # team hubs the editor added (keys in memory only; outlive a configuration change)

    # ------------------------------------------------------------------ state
    @property
    def app(self) -> App:
        """The application API (set by ``initialize``; a request before it is a protocol error)."""
        if self._app is None:
            raise RuntimeError("sessionlens: the server is not initialized")
        return self._app

    @app.setter
    def app(self, value: App) -> None:
        self._app = value

    @property
    def coach(self) -> CoachService:
        if self._coach is None:
            raise RuntimeError("sessionlens: the server is not initialized")
        return self._coach

    @coach.setter
    def coach(self, value: CoachService) -> None:
        self._coach = value

    @property
    def initialized(self) -> bool:
        return self._app is not None

    # ------------------------------------------------------------------ helpers
    def spawn(self, coro: Awaitable[Any]) -> asyncio.Task[Any]:
        task = asyncio.ensure_future(coro)
        self.tasks.add(task)

        def done(t: asyncio.Task[Any]) -> None:
            self.tasks.discard(t)
            if not t.cancelled() and t.exception() is not None:
                log.error("background task failed", exc_info=t.exception())

        task.add_done_callback(done)
        return task

    async def run(self, fn: Callable[..., R], *args: Any, **kw: Any) -> R:
        """Run a blocking service call on the reader pool."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.pool, lambda: fn(*args, **kw))

    def report_server_error(self, error: Exception, source: Any) -> None:  # no pop-up storms
        key = type(error).__name__
        log.error("server error (%s): %s", source, error, exc_info=error)
        if key in self._error_reported:
            return
        self._error_reported.add(key)
        try:
            self.window_show_message(T.ShowMessageParams(type=T.MessageType.Error, message=f"sessionlens: {error}"))
        except Exception:
            pass

    def notify_status(self, state: Literal["indexing", "idle"], message: str = "", counts: dict[str, int] | None = None) -> None:
        """Tell the client the indexing state; ``counts`` (the store's, read off the event loop by the
        caller: counting a big store's events takes a while) default to the last ones sent."""
        if counts is None:
            last = self.last_status
            counts = {k: last.get(k, 0) for k in ("files", "sessions", "events")}
        self.last_status = StatusNotification(
            state=state, files=counts.get("files", 0), sessions=counts.get("sessions", 0), events=counts.get("events", 0), message=message
        ).model_dump()
        try:
            self.protocol.notify(STATUS_NOTIFICATION, self.last_status)
        except Exception:
            pass

    def client_supports(self, *path: str) -> bool:
        obj: Any = self.client_capabilities
        for p in path:
            obj = getattr(obj, p, None) if obj is not None else None
        return bool(obj)

    def configure(self, *layers: dict[str, Any] | None) -> list[str]:
        settings, errors = merge_settings(*layers)
        old = self._app
        folders = old.workspace_folders if old else []
        key = old.api_key if old else None
        if old is None or settings.home != old.home:
            if old is not None:
                old.close()
            self.app = App(settings)
            self.watcher.close()
            self.watcher = RootWatcher(lambda: self.app.db().file_rows())  # another store: start afresh
        else:
            old.settings = settings
        self.app.workspace_folders = folders
        self.app.api_key = key
        self.coach = CoachService(self.app)
        for e in errors:
            log.warning(e)
        return errors

    def read_document(self, path: str) -> str | None:
        """A file as the editor has it (open buffer) or from disk (None when missing)."""
        doc = self.workspace.text_documents.get(path_to_uri(path))
        if doc is not None:
            return str(doc.source)
        try:
            return Path(path).read_text(encoding="utf-8")
        except FileNotFoundError:
            return None


def read_document(ls: SessionLensServer) -> Callable[[str], str | None]:
    """The document reader services take (``path -> text``)."""
    return ls.read_document


class DocumentProvider:
    """Language features for one kind of document (session logs, instruction files, eval suites).

    The document router (``sessionlens.lsp.documents``) asks the first provider that ``matches`` a
    path.  Every feature method returns None when it has nothing to say.
    """

    name = "documents"

    def matches(self, path: str) -> bool:
        return False

    # lifecycle: by default a document's diagnostics are (re)published on open, change and save
    async def did_open(self, ls: SessionLensServer, uri: str, path: str, version: int | None) -> None:
        await publish(ls, uri, version)

    async def did_change(self, ls: SessionLensServer, uri: str, path: str, version: int | None) -> None:
        await publish(ls, uri, version)

    async def did_save(self, ls: SessionLensServer, uri: str, path: str, version: int | None) -> None:
        await publish(ls, uri, version)

    # features
    async def diagnostics(self, ls: SessionLensServer, path: str) -> list[T.Diagnostic] | None:
        return None

    async def code_lens(self, ls: SessionLensServer, path: str) -> list[T.CodeLens] | None:
        return None

    async def hover(self, ls: SessionLensServer, path: str, position: T.Position) -> T.Hover | None:
        return None

    async def definition(self, ls: SessionLensServer, path: str, position: T.Position) -> list[T.Location] | None:
        return None

    async def folding(self, ls: SessionLensServer, path: str) -> list[T.FoldingRange] | None:
        return None

    async def code_action(self, ls: SessionLensServer, path: str, params: T.CodeActionParams) -> list[T.CodeAction] | None:
        return None

    async def document_symbol(self, ls: SessionLensServer, path: str) -> list[T.DocumentSymbol] | None:
        return None


@dataclass(frozen=True)
class MethodSpec:
    """An LSP request/notification handler: ``fn(ls, params)``."""

    method: str
    fn: Callable[[Any, Any], Any]
    options: Any = None

    def __call__(self, ls: Any, params: Any) -> Any:
        return self.fn(ls, params)


def method(name: str, options: Any = None) -> Callable[[Callable[[Any, Any], Any]], MethodSpec]:
    def deco(fn: Callable[[Any, Any], Any]) -> MethodSpec:
        return MethodSpec(name, fn, options)

    return deco


@dataclass(frozen=True)
class Feature:
    """One feature module's contribution, listed in ``sessionlens.lsp.features.FEATURES``."""

    name: str
    methods: Sequence[MethodSpec] = ()
    commands: Sequence[CommandSpec] = ()
    documents: DocumentProvider | None = None


def provider_for(ls: SessionLensServer, path: str | None) -> DocumentProvider | None:
    """The first provider (in ``FEATURES`` order) that handles ``path``."""
    if not path:
        return None
    for p in ls.providers:
        try:
            if p.matches(path):
                return p
        except Exception:
            log.exception("provider %r failed", p)
    return None


async def publish(ls: SessionLensServer, uri: str, version: int | None) -> None:
    """(Re)publish a document's diagnostics from its provider; a provider answering None publishes nothing."""
    path = uri_to_path(uri)
    prov = provider_for(ls, path)
    if not path or prov is None:
        return
    try:
        diags = await prov.diagnostics(ls, path)
    except Exception:
        log.exception("diagnostics provider %s failed for %s", prov.name, path)
        return
    if diags is not None:
        ls.text_document_publish_diagnostics(T.PublishDiagnosticsParams(uri=uri, version=version, diagnostics=diags))
