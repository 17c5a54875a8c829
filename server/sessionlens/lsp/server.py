"""The sessionlens language server (pygls 2, stdio).

Handlers are thin: convert params, call a service in a worker thread, convert back.  Indexing
runs on its own single-thread executor, reported with work-done progress; the event loop only
does I/O.  Several servers (editor windows) and the CLI share one store: whoever holds the
store's writer lock indexes, the others read and follow.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from lsprotocol import types as T
from pygls.lsp.server import LanguageServer

from sessionlens import __version__
from sessionlens.lsp import convert
from sessionlens.lsp.convert import path_to_uri, uri_to_path
from sessionlens.services.app import App, NotFound
from sessionlens.services.coaching import CoachService, FileEdit
from sessionlens.services.settings import merge_settings
from sessionlens.services.watch import LogWatcher
from sessionlens.store import StoreError

log = logging.getLogger("sessionlens.lsp")

STATUS_NOTIFICATION = "sessionlens/status"
STREAM_NOTIFICATION = "sessionlens/stream"
COMMANDS = [
    "sessionlens.search", "sessionlens.sessions", "sessionlens.renderSession", "sessionlens.resolveLink",
    "sessionlens.deepLink", "sessionlens.reindex", "sessionlens.status", "sessionlens.costReport",
    "sessionlens.setApiKey", "sessionlens.coachSession", "sessionlens.explainFinding", "sessionlens.runEvals",
]


class SessionLensServer(LanguageServer):
    def __init__(self):
        super().__init__("sessionlens", __version__, text_document_sync_kind=T.TextDocumentSyncKind.Incremental)
        self.app: App | None = None
        self.coach: CoachService | None = None
        self.init_options: dict[str, Any] = {}
        self.pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="sl-read")
        self.index_pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sl-index")
        self.indexing = False
        self.pending_paths: set[str] = set()
        self.full_pass_requested = False
        self.index_wakeup: asyncio.Event | None = None
        self.tasks: set[asyncio.Task] = set()
        self.extra_paths: set[str] = set()
        self.last_status: dict[str, Any] = {}
        self._error_reported: set[str] = set()
        self.poll_task: asyncio.Task | None = None
        self.watcher = LogWatcher(lambda: self.app.db().file_rows())
        self.providers: list = []

    # ------------------------------------------------------------------ helpers
    def spawn(self, coro) -> asyncio.Task:
        task = asyncio.ensure_future(coro)
        self.tasks.add(task)

        def done(t: asyncio.Task):
            self.tasks.discard(t)
            if not t.cancelled() and t.exception() is not None:
                log.error("background task failed", exc_info=t.exception())

        task.add_done_callback(done)
        return task

    async def run(self, fn, *args, **kw):
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.pool, lambda: fn(*args, **kw))

    def report_server_error(self, error: Exception, source) -> None:  # no pop-up storms
        key = type(error).__name__
        log.error("server error (%s): %s", source, error, exc_info=error)
        if key in self._error_reported:
            return
        self._error_reported.add(key)
        try:
            self.window_show_message(T.ShowMessageParams(type=T.MessageType.Error, message=f"sessionlens: {error}"))
        except Exception:
            pass

    def notify_status(self, state: str, message: str = "") -> None:
        counts = {}
        try:
            counts = self.app.db().counts() if self.app else {}
        except Exception as e:
            log.warning("status counts failed: %s", e)
        self.last_status = {"state": state, "files": counts.get("files", 0), "sessions": counts.get("sessions", 0),
                            "events": counts.get("events", 0), "message": message}
        try:
            self.protocol.notify(STATUS_NOTIFICATION, self.last_status)
        except Exception:
            pass

    def client_supports(self, *path: str) -> bool:
        obj: Any = self.client_capabilities
        for p in path:
            obj = getattr(obj, p, None) if obj is not None else None
        return bool(obj)

    def configure(self, *layers: dict | None) -> list[str]:
        settings, errors = merge_settings(*layers)
        folders = self.app.workspace_folders if self.app else []
        key = self.app.api_key if self.app else None
        if self.app is None or settings.home != self.app.home:
            if self.app is not None:
                self.app.close()
            self.app = App(settings)
            self.watcher = LogWatcher(lambda: self.app.db().file_rows())  # another store: start afresh
        else:
            self.app.settings = settings
        self.app.workspace_folders = folders
        self.app.api_key = key
        self.coach = CoachService(self.app)
        for e in errors:
            log.warning(e)
        return errors


class DocumentProvider:
    """Language features for non-log documents (AGENTS.md/CLAUDE.md, *.eval.json, ...).

    Feature modules (``sessionlens.lsp.compliance``, ``sessionlens.lsp.evals``) subclass this and are
    registered in ``build_server``; the server's handlers ask each provider that ``matches`` a path.
    Every method returns None when it has nothing to say.
    """

    def matches(self, path: str) -> bool:
        return False

    async def diagnostics(self, ls: "SessionLensServer", path: str) -> list[T.Diagnostic] | None:
        return None

    async def code_lens(self, ls: "SessionLensServer", path: str) -> list[T.CodeLens] | None:
        return None

    async def hover(self, ls: "SessionLensServer", path: str, position: T.Position) -> T.Hover | None:
        return None

    async def code_action(self, ls: "SessionLensServer", path: str, params: T.CodeActionParams) -> list[T.CodeAction] | None:
        return None

    async def document_symbol(self, ls: "SessionLensServer", path: str) -> list[T.DocumentSymbol] | None:
        return None

    def register(self, ls: "SessionLensServer") -> None:
        """Register extra commands or features (called once from build_server)."""


def _load_providers() -> list[DocumentProvider]:
    out: list[DocumentProvider] = []
    for mod in ("sessionlens.lsp.compliance", "sessionlens.lsp.evals"):
        try:
            m = __import__(mod, fromlist=["PROVIDER"])
        except ImportError:
            continue
        prov = getattr(m, "PROVIDER", None)
        if prov is not None:
            out.append(prov)
    return out


def provider_for(ls: "SessionLensServer", path: str | None) -> DocumentProvider | None:
    if not path:
        return None
    for p in ls.providers:
        try:
            if p.matches(path):
                return p
        except Exception:
            log.exception("provider %r failed", p)
    return None


def build_server() -> SessionLensServer:
    ls_ = SessionLensServer()
    ls_.providers = _load_providers()

    # ------------------------------------------------------------------ lifecycle
    @ls_.feature(T.INITIALIZE)
    def initialize(ls: SessionLensServer, params: T.InitializeParams):
        opts = params.initialization_options if isinstance(params.initialization_options, dict) else {}
        ls.init_options = opts
        errors = ls.configure(opts)
        folders = []
        for f in params.workspace_folders or []:
            p = uri_to_path(f.uri)
            if p:
                folders.append(p)
        if not folders and params.root_uri:
            p = uri_to_path(params.root_uri)
            if p:
                folders.append(p)
        ls.app.workspace_folders = folders
        if errors:
            ls.window_show_message(T.ShowMessageParams(type=T.MessageType.Warning, message="; ".join(errors)))

    @ls_.feature(T.INITIALIZED)
    async def initialized(ls: SessionLensServer, params: T.InitializedParams):
        ls.index_wakeup = asyncio.Event()
        if ls.client_supports("workspace", "configuration"):
            await pull_configuration(ls)
        regs = []
        if ls.client_supports("workspace", "did_change_configuration", "dynamic_registration"):
            regs.append(T.Registration(id=str(uuid.uuid4()), method=T.WORKSPACE_DID_CHANGE_CONFIGURATION,
                                       register_options=T.DidChangeConfigurationRegistrationOptions(section="sessionlens")))
        if ls.client_supports("workspace", "did_change_watched_files", "dynamic_registration"):
            globs = ls.app.log_globs()
            watchers = [T.FileSystemWatcher(glob_pattern=g) for g in globs]
            watchers.append(T.FileSystemWatcher(glob_pattern="**/.sessionlens.json"))
            if ls.client_supports("workspace", "did_change_watched_files", "relative_pattern_support"):
                for root in ls.app.roots():
                    if not any(root.startswith(f) for f in ls.app.workspace_folders):
                        watchers += [T.FileSystemWatcher(glob_pattern=T.RelativePattern(base_uri=path_to_uri(root), pattern=g))
                                     for g in globs]
            regs.append(T.Registration(id=str(uuid.uuid4()), method=T.WORKSPACE_DID_CHANGE_WATCHED_FILES,
                                       register_options=T.DidChangeWatchedFilesRegistrationOptions(watchers=watchers)))
        if regs:
            try:
                await ls.client_register_capability_async(T.RegistrationParams(registrations=regs))
            except Exception as e:
                log.warning("dynamic registration failed: %s", e)
        ls.full_pass_requested = True
        ls.spawn(index_loop(ls))
        ls.poll_task = ls.spawn(poll_loop(ls))
        ls.index_wakeup.set()

    @ls_.feature(T.SHUTDOWN)
    async def shutdown(ls: SessionLensServer, params):
        for t in list(ls.tasks):
            t.cancel()
        ls.pool.shutdown(wait=False, cancel_futures=True)
        ls.index_pool.shutdown(wait=False, cancel_futures=True)

    @ls_.feature(T.WORKSPACE_DID_CHANGE_CONFIGURATION)
    async def did_change_configuration(ls: SessionLensServer, params: T.DidChangeConfigurationParams):
        settings = params.settings if isinstance(params.settings, dict) else None
        if ls.client_supports("workspace", "configuration"):
            await pull_configuration(ls)
        elif settings:
            ls.configure(ls.init_options, settings)
        request_index(ls, full=True)

    @ls_.feature(T.WORKSPACE_DID_CHANGE_WORKSPACE_FOLDERS)
    def did_change_folders(ls: SessionLensServer, params: T.DidChangeWorkspaceFoldersParams):
        folders = set(ls.app.workspace_folders)
        for f in params.event.removed:
            folders.discard(uri_to_path(f.uri))
        for f in params.event.added:
            p = uri_to_path(f.uri)
            if p:
                folders.add(p)
        ls.app.workspace_folders = sorted(folders)
        request_index(ls, full=True)

    @ls_.feature(T.WORKSPACE_DID_CHANGE_WATCHED_FILES)
    def did_change_watched(ls: SessionLensServer, params: T.DidChangeWatchedFilesParams):
        paths = []
        for ch in params.changes:
            p = uri_to_path(ch.uri)
            if not p:
                continue
            if p.endswith(".sessionlens.json"):
                request_index(ls, full=True)
                continue
            if ch.type != T.FileChangeType.Deleted:
                paths.append(p)
        if paths:
            request_index(ls, paths)

    # ------------------------------------------------------------------ documents
    @ls_.feature(T.TEXT_DOCUMENT_DID_OPEN)
    async def did_open(ls: SessionLensServer, params: T.DidOpenTextDocumentParams):
        path = uri_to_path(params.text_document.uri)
        if provider_for(ls, path) is not None:
            await publish(ls, params.text_document.uri, params.text_document.version)
            return
        if not path or not ls.app.is_log_candidate(path):
            return
        ls.extra_paths.add(path)
        if await ls.run(ls.app.is_indexed, path):
            await publish(ls, params.text_document.uri, params.text_document.version)
        request_index(ls, [path])

    @ls_.feature(T.TEXT_DOCUMENT_DID_SAVE)
    async def did_save(ls: SessionLensServer, params: T.DidSaveTextDocumentParams):
        path = uri_to_path(params.text_document.uri)
        if provider_for(ls, path) is not None:
            doc = ls.workspace.text_documents.get(params.text_document.uri)
            await publish(ls, params.text_document.uri, doc.version if doc else None)
            return
        if path and ls.app.is_log_candidate(path):
            request_index(ls, [path])

    @ls_.feature(T.TEXT_DOCUMENT_DID_CHANGE)
    async def did_change(ls: SessionLensServer, params: T.DidChangeTextDocumentParams):
        path = uri_to_path(params.text_document.uri)
        if provider_for(ls, path) is not None:
            await publish(ls, params.text_document.uri, params.text_document.version)

    @ls_.feature(T.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(ls: SessionLensServer, params: T.DidCloseTextDocumentParams):
        path = uri_to_path(params.text_document.uri)
        if path:
            ls.extra_paths.discard(path)
        ls.text_document_publish_diagnostics(T.PublishDiagnosticsParams(uri=params.text_document.uri, diagnostics=[]))

    @ls_.feature(T.TEXT_DOCUMENT_DOCUMENT_SYMBOL)
    async def document_symbol(ls: SessionLensServer, params: T.DocumentSymbolParams):
        path = uri_to_path(params.text_document.uri)
        if not path:
            return None
        prov = provider_for(ls, path)
        if prov is not None:
            return await prov.document_symbol(ls, path)
        nodes = await ls.run(ls.app.outline, path)
        return convert.outline_to_symbols(nodes) or None

    @ls_.feature(T.TEXT_DOCUMENT_HOVER)
    async def hover(ls: SessionLensServer, params: T.HoverParams):
        path = uri_to_path(params.text_document.uri)
        if not path:
            return None
        prov = provider_for(ls, path)
        if prov is not None:
            return await prov.hover(ls, path, params.position)
        md = await ls.run(ls.app.hover, path, params.position.line)
        if not md:
            return None
        line = params.position.line
        return T.Hover(contents=T.MarkupContent(kind=T.MarkupKind.Markdown, value=md),
                       range=T.Range(start=T.Position(line=line, character=0), end=T.Position(line=line + 1, character=0)))

    @ls_.feature(T.TEXT_DOCUMENT_DEFINITION)
    async def definition(ls: SessionLensServer, params: T.DefinitionParams):
        path = uri_to_path(params.text_document.uri)
        if not path:
            return None
        targets = await ls.run(ls.app.definition, path, params.position.line)
        return [T.Location(uri=path_to_uri(p), range=convert.line_range(line, line, 0)) for p, line in targets] or None

    @ls_.feature(T.TEXT_DOCUMENT_CODE_LENS)
    async def code_lens(ls: SessionLensServer, params: T.CodeLensParams):
        path = uri_to_path(params.text_document.uri)
        if not path:
            return None
        prov = provider_for(ls, path)
        if prov is not None:
            return await prov.code_lens(ls, path)
        lenses = await ls.run(ls.app.lenses, path)
        return [
            T.CodeLens(range=convert.line_range(line, line, 1), command=T.Command(title=title, command=""))
            for line, title in lenses
        ] or None

    @ls_.feature(T.TEXT_DOCUMENT_FOLDING_RANGE)
    async def folding(ls: SessionLensServer, params: T.FoldingRangeParams):
        path = uri_to_path(params.text_document.uri)
        if not path:
            return None
        ranges = await ls.run(ls.app.folding, path)
        return [T.FoldingRange(start_line=a, end_line=b, kind=T.FoldingRangeKind.Region) for a, b in ranges] or None

    @ls_.feature(T.TEXT_DOCUMENT_CODE_ACTION, T.CodeActionOptions(code_action_kinds=[T.CodeActionKind.QuickFix]))
    async def code_action(ls: SessionLensServer, params: T.CodeActionParams):
        prov = provider_for(ls, uri_to_path(params.text_document.uri))
        if prov is not None:
            return await prov.code_action(ls, uri_to_path(params.text_document.uri), params)
        actions = []
        for d in params.context.diagnostics:
            data = d.data if isinstance(d.data, dict) else None
            if d.source != "sessionlens-coach" or not data or "finding_id" not in data:
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

    # ------------------------------------------------------------------ workspace
    @ls_.feature(T.WORKSPACE_SYMBOL)
    async def workspace_symbol(ls: SessionLensServer, params: T.WorkspaceSymbolParams):
        q = (params.query or "").strip()
        if not q:
            return []
        res = await ls.run(ls.app.search, q, limit=50, workspace_only=None)
        out = []
        for h in res["hits"]:
            if not h.get("uri"):
                continue
            name = " ".join((h["snippet"] or h["kind"]).split())[:100]
            out.append(T.SymbolInformation(
                name=name, kind=convert.SYMBOL_KIND.get({"tool_call": "tool", "patch": "patch"}.get(h["kind"], "message")),
                location=T.Location(uri=h["uri"], range=convert.line_range(h["line"] - 1, h["line"] - 1, 1)),
                container_name=f"{h['agent']} · {h.get('project_name') or '-'} · {(h.get('title') or h['session_id'])[:40]}",
            ))
        return out

    # ------------------------------------------------------------------ commands
    def command(name: str):
        def deco(fn):
            @ls_.command(name)
            async def handler(ls: SessionLensServer, *args):
                arg = args[0] if args and isinstance(args[0], dict) else {}
                try:
                    return await fn(ls, arg)
                except (NotFound, StoreError, ValueError) as e:
                    raise CommandError(str(e)) from e
            return fn
        return deco

    @command("sessionlens.search")
    async def cmd_search(ls: SessionLensServer, a: dict):
        return await ls.run(
            ls.app.search, str(a.get("query") or ""), agent=a.get("agent"), project=a.get("project"), kind=a.get("kind"),
            tool=a.get("tool"), session=a.get("session"), since=a.get("since"), until=a.get("until"),
            limit=int(a.get("limit") or 20), workspace_only=a.get("workspace_only", None),
        )

    @command("sessionlens.sessions")
    async def cmd_sessions(ls: SessionLensServer, a: dict):
        rows = await ls.run(ls.app.sessions, project=a.get("project"), agent=a.get("agent"), since=a.get("since"),
                            until=a.get("until"), limit=int(a.get("limit") or 200), workspace_only=a.get("workspace_only", None))
        return {"sessions": rows}

    @command("sessionlens.renderSession")
    async def cmd_render(ls: SessionLensServer, a: dict):
        ref = a.get("session_id") or (uri_to_path(a["uri"]) if a.get("uri") else None)
        if not ref:
            raise NotFound("renderSession needs a session_id or a uri")
        title, md = await ls.run(ls.app.render_session, ref)
        return {"title": title, "markdown": md}

    @command("sessionlens.resolveLink")
    async def cmd_resolve(ls: SessionLensServer, a: dict):
        return await ls.run(ls.app.resolve_link, str(a.get("link") or ""))

    @command("sessionlens.deepLink")
    async def cmd_deeplink(ls: SessionLensServer, a: dict):
        path = uri_to_path(a.get("uri") or "")
        if not path:
            raise NotFound("deepLink needs the uri of an indexed session log")
        return {"link": await ls.run(ls.app.deep_link, path, int(a.get("line") or 0))}

    @command("sessionlens.reindex")
    async def cmd_reindex(ls: SessionLensServer, a: dict):
        paths = a.get("paths")
        stats = await run_index(ls, paths=list(paths) if paths else None, title="Reindexing session logs")
        c = await ls.run(lambda: ls.app.db().counts())
        return {"files": c["files"], "sessions": c["sessions"], "events": c["events"], "problems": c["problems"],
                "changed": stats.files_changed if stats else 0}

    @command("sessionlens.status")
    async def cmd_status(ls: SessionLensServer, a: dict):
        c = await ls.run(lambda: ls.app.db().counts())
        return {"indexing": ls.indexing, **c, "store": str(ls.app.home), "globs": ls.app.log_globs(),
                "agents": [a["name"] for a in ls.app.agents()]}

    @command("sessionlens.costReport")
    async def cmd_cost(ls: SessionLensServer, a: dict):
        by = a.get("by") or "day"
        kw = dict(since=a.get("since"), until=a.get("until"), project=a.get("project"), agent=a.get("agent"))
        rep = await ls.run(ls.app.cost_report, by, **kw)
        svg = await ls.run(ls.app.cost_chart_svg, **kw)
        from sessionlens.cost.report import to_markdown

        rep["markdown"] = to_markdown(rep["rows"]) if rep["rows"] else "_No token usage recorded._"
        rep["svg"] = svg
        return rep

    @command("sessionlens.setApiKey")
    async def cmd_set_key(ls: SessionLensServer, a: dict):
        key = a.get("key")
        ls.app.api_key = key.strip() if isinstance(key, str) and key.strip() else None
        return {"ok": True, "configured": ls.app.api_key is not None}

    @command("sessionlens.explainFinding")
    async def cmd_explain(ls: SessionLensServer, a: dict):
        finding = await ls.run(ls.coach.finding, int(a.get("finding_id") or 0))
        return await stream_markdown(ls, ls.coach.explain(finding), title="AI coach", stream_id=a.get("stream_id"))

    @command("sessionlens.coachSession")
    async def cmd_coach_session(ls: SessionLensServer, a: dict):
        ref = a.get("session_id") or (uri_to_path(a["uri"]) if a.get("uri") else None)
        if not ref:
            raise NotFound("coachSession needs a session_id or a uri")
        return await stream_markdown(ls, ls.coach.coach_session(ref), title="Coach this session", stream_id=a.get("stream_id"))

    @command("sessionlens.runEvals")
    async def cmd_run_evals(ls: SessionLensServer, a: dict):
        try:
            from sessionlens.lsp.evals import run_evals_command
        except ImportError:
            raise CommandError("evals are not available in this build") from None
        return await run_evals_command(ls, a)

    for prov in ls_.providers:
        prov.register(ls_)
    return ls_


class CommandError(Exception):
    pass


def read_document(ls: SessionLensServer):
    """Read a file as the editor has it (open buffer) or from disk."""

    def read(path: str) -> str | None:
        uri = path_to_uri(path)
        doc = ls.workspace.text_documents.get(uri)
        if doc is not None:
            return doc.source
        try:
            return Path(path).read_text(encoding="utf-8")
        except FileNotFoundError:
            return None

    return read


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


async def stream_markdown(ls: SessionLensServer, agen, *, title: str, stream_id: str | None = None) -> dict:
    """Forward a stream of Markdown deltas as `sessionlens/stream` notifications and progress; return the whole text."""
    sid = stream_id or str(uuid.uuid4())
    token = await start_progress(ls, title)
    parts: list[str] = []
    error = None
    try:
        async for delta in agen:
            parts.append(delta)
            ls.protocol.notify(STREAM_NOTIFICATION, {"id": sid, "delta": delta, "done": False})
            if token:
                ls.work_done_progress.report(token, T.WorkDoneProgressReport(message=f"{sum(map(len, parts)):,} characters"))
    except Exception as e:
        error = str(e)
        log.warning("%s failed: %s", title, e)
    finally:
        ls.protocol.notify(STREAM_NOTIFICATION, {"id": sid, "delta": "", "done": True, "error": error})
        if token:
            ls.work_done_progress.end(token, T.WorkDoneProgressEnd(message="failed" if error else "done"))
    md = "".join(parts)
    if error:
        md = (md + "\n\n" if md else "") + f"> **{title} unavailable:** {error}\n"
    return {"id": sid, "markdown": md, "error": error}


async def start_progress(ls: SessionLensServer, title: str) -> str | None:
    if not ls.client_supports("window", "work_done_progress"):
        return None
    token = f"sessionlens-{uuid.uuid4()}"
    try:
        await ls.work_done_progress.create_async(token)
    except Exception as e:
        log.info("client refused work-done progress: %s", e)
        return None
    ls.work_done_progress.begin(token, T.WorkDoneProgressBegin(title=title, cancellable=False, percentage=0))
    return token


async def pull_configuration(ls: SessionLensServer) -> None:
    items = [T.ConfigurationItem(section="sessionlens")]
    try:
        res = await asyncio.wait_for(ls.workspace_configuration_async(T.ConfigurationParams(items=items)), 5)
    except Exception as e:
        log.warning("workspace/configuration failed: %s", e)
        return
    cfg = res[0] if res else None
    errors = ls.configure(ls.init_options, cfg if isinstance(cfg, dict) else None)
    if errors:
        ls.window_show_message(T.ShowMessageParams(type=T.MessageType.Warning, message="; ".join(errors)))


# ---------------------------------------------------------------------- indexing
def request_index(ls: SessionLensServer, paths: list[str] | None = None, *, full: bool = False) -> None:
    if full:
        ls.full_pass_requested = True
    if paths:
        ls.pending_paths.update(paths)
    if ls.index_wakeup is not None:
        ls.index_wakeup.set()


async def index_loop(ls: SessionLensServer) -> None:
    """Serialises all indexing work: full passes (start-up, settings, reindex) and live appends."""
    while True:
        await ls.index_wakeup.wait()
        await asyncio.sleep(0.03)  # coalesce bursts of file events
        ls.index_wakeup.clear()
        full = ls.full_pass_requested
        paths = sorted(ls.pending_paths)
        ls.full_pass_requested = False
        ls.pending_paths.clear()
        try:
            if full:
                await run_index(ls, paths=None, title="Indexing agent session logs", show_progress=True)
            if paths:
                await run_index(ls, paths=paths, title=None, show_progress=False)
        except Exception as e:
            log.exception("indexing failed: %s", e)


async def run_index(ls: SessionLensServer, *, paths: list[str] | None, title: str | None, show_progress: bool = True):
    loop = asyncio.get_running_loop()
    token = await start_progress(ls, title) if (title and show_progress) else None
    ls.indexing = True
    if title:
        ls.notify_status("indexing", title)
    last = [0.0]

    def progress(p):
        now = time.monotonic()
        if token is None or (now - last[0] < 0.2 and p.path is not None):
            return
        last[0] = now
        pct = int(100 * p.done / p.total) if p.total else 100
        msg = f"{p.done}/{p.total} files" + (f" · {Path(p.path).name}" if p.path else "")

        def send():
            try:
                ls.work_done_progress.report(token, T.WorkDoneProgressReport(message=msg, percentage=pct))
                ls.protocol.notify(STATUS_NOTIFICATION, {**ls.last_status, "state": "indexing", "message": msg})
            except Exception:
                pass

        loop.call_soon_threadsafe(send)

    def work():
        targets = None
        if paths is None:
            targets = ls.app.roots(sorted(ls.extra_paths))
        else:
            targets = paths
        # another window or the CLI may be writing: wait briefly, then follow its results
        return ls.app.index(targets, progress=progress, lock_timeout=30 if paths is None else 5)

    stats = None
    try:
        stats = await loop.run_in_executor(ls.index_pool, work)
    finally:
        ls.indexing = False
        if token:
            msg = "done"
            if stats is not None:
                msg = f"{stats.files_changed} changed of {stats.files_seen} files · {stats.events:,} events"
                if stats.errors == ["busy"]:
                    msg = "another sessionlens process is indexing; showing its results"
            ls.work_done_progress.end(token, T.WorkDoneProgressEnd(message=msg))
    ls.notify_status("idle")
    if stats is not None and (stats.files_changed or paths is None):
        await refresh_open_documents(ls, set(stats.changed_paths) if paths is not None else None)
    return stats


async def refresh_open_documents(ls: SessionLensServer, changed: set[str] | None) -> None:
    for uri, doc in list(ls.workspace.text_documents.items()):
        path = uri_to_path(uri)
        if not path or not ls.app.is_log_candidate(path):
            continue
        if changed is not None and path not in changed:
            continue
        await publish(ls, uri, doc.version)
    for refresh in ("workspace_code_lens_refresh_async",):
        if ls.client_supports("workspace", "code_lens", "refresh_support"):
            try:
                await asyncio.wait_for(getattr(ls, refresh)(None), 2)
            except Exception:
                pass


async def publish(ls: SessionLensServer, uri: str, version: int | None) -> None:
    path = uri_to_path(uri)
    if not path:
        return
    prov = provider_for(ls, path)
    if prov is not None:
        try:
            pd = await prov.diagnostics(ls, path)
        except Exception:
            log.exception("diagnostics provider failed for %s", path)
            pd = None
        if pd is not None:
            ls.text_document_publish_diagnostics(T.PublishDiagnosticsParams(uri=uri, version=version, diagnostics=pd))
        return
    diags = await ls.run(ls.app.diagnostics, path)
    ls.text_document_publish_diagnostics(T.PublishDiagnosticsParams(
        uri=uri, version=version, diagnostics=[convert.diagnostic(d) for d in diags]))


async def poll_loop(ls: SessionLensServer) -> None:
    """Roots outside the workspace (the agent homes) are polled: a stat per known file and folder
    (``LogWatcher``), cheap when nothing changed."""
    while True:
        await asyncio.sleep(ls.app.settings.poll_interval_s)
        if ls.indexing or ls.index_wakeup is None:
            continue
        outside = [r for r in ls.app.roots(sorted(ls.extra_paths))
                   if not any(r == f or r.startswith(f.rstrip("/") + "/") for f in ls.app.workspace_folders)
                   or r in ls.extra_paths]
        if not outside:
            continue
        changed = await ls.run(ls.watcher.changed, outside)
        if changed:
            request_index(ls, changed)


def run(stdin, stdout) -> int:
    logging.getLogger("pygls").setLevel(logging.WARNING)
    level = os.environ.get("SESSIONLENS_LOG", "INFO").upper()
    logging.basicConfig(level=getattr(logging, level, logging.INFO), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    srv = build_server()
    srv.start_io(stdin, stdout)
    return 0
