"""Indexing: one serialised loop (full passes and live appends), polling of the agents' homes,
watched-file events, and the ``reindex`` / ``status`` commands.

Indexing runs on its own single-thread executor, reported with work-done progress; the event loop
only does I/O.  Several servers (editor windows) and the CLI share one store: whoever holds the
store's writer lock indexes, the others read and follow.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import time
from pathlib import Path
from typing import Any

from lsprotocol import types as T

from sessionlens.coach.config import CONFIG_FILENAME
from sessionlens.lsp.commands import command
from sessionlens.lsp.convert import uri_to_path
from sessionlens.lsp.core import STATUS_NOTIFICATION, Feature, SessionLensServer, method, publish
from sessionlens.lsp.progress import Progress
from sessionlens.models.api import ReindexParams, ReindexResult, StatusParams, StatusResult
from sessionlens.services.indexer import IndexStats

log = logging.getLogger(__name__)

LOG_SUFFIXES = (".jsonl", ".jsonl.zst")


def request_index(ls: SessionLensServer, paths: list[str] | None = None, *, full: bool = False, settled: bool = False) -> None:
    """Queue work for the index loop; ``settled``: the paths come grouped already (the watcher's
    batches), so the loop need not wait for more."""
    if settled and not ls.pending_paths and not ls.full_pass_requested:
        ls.pending_settled = True
    elif not settled:
        ls.pending_settled = False
    if full:
        ls.full_pass_requested = True
    if paths:
        ls.pending_paths.update(paths)
    if ls.index_wakeup is not None:
        ls.index_wakeup.set()


def settle_heap() -> None:
    """After a full pass, what the server keeps from it (file rows, the watcher's files and folders,
    caches) leaves the collector's generations: a collection of the whole heap (200-440 ms with 10,000
    followed logs, on whichever thread allocates) would otherwise land on a later append or request."""
    gc.collect()
    gc.freeze()


async def index_loop(ls: SessionLensServer) -> None:
    """Serialises all indexing work: full passes (start-up, settings, reindex) and live appends."""
    assert ls.index_wakeup is not None
    while True:
        await ls.index_wakeup.wait()
        if not getattr(ls, "pending_settled", False):
            await asyncio.sleep(0.03)  # coalesce bursts of the editor's file events
        ls.pending_settled = False
        ls.index_wakeup.clear()
        full = ls.full_pass_requested
        paths = sorted(ls.pending_paths)
        ls.full_pass_requested = False
        ls.pending_paths.clear()
        try:
            if full:
                await run_index(ls, paths=None, title="Indexing agent session logs", show_progress=True)
                settle_heap()
            if paths:
                await run_index(ls, paths=paths, title=None, show_progress=False)
        except Exception as e:
            log.exception("indexing failed: %s", e)


async def run_index(ls: SessionLensServer, *, paths: list[str] | None, title: str | None, show_progress: bool = True) -> IndexStats | None:
    loop = asyncio.get_running_loop()
    progress = await Progress.start(ls, title) if (title and show_progress) else Progress(ls, None)
    ls.indexing = True
    if title:
        ls.notify_status("indexing", title, await ls.run(lambda: ls.app.db().counts()))
    last = [0.0]

    def on_progress(p: Any) -> None:
        now = time.monotonic()
        if not progress or (now - last[0] < 0.2 and p.path is not None):
            return
        last[0] = now
        pct = int(100 * p.done / p.total) if p.total else 100
        msg = f"{p.done}/{p.total} files" + (f" · {Path(p.path).name}" if p.path else "")

        def send() -> None:
            try:
                progress.report(msg, pct)
                ls.protocol.notify(STATUS_NOTIFICATION, {**ls.last_status, "state": "indexing", "message": msg})
            except Exception:
                pass

        loop.call_soon_threadsafe(send)

    counts: dict[str, int] | None = None

    def work() -> IndexStats:
        nonlocal counts
        targets = ls.app.roots(sorted(ls.extra_paths)) if paths is None else paths
        # another window or the CLI may be writing: wait briefly, then follow its results
        # a pass of a few changed logs (the watcher's, the editor's) leaves the search index's merges to a
        # thread: an append is searchable once committed, not after a merge of older segments
        st = ls.app.index(targets, progress=on_progress, lock_timeout=30 if paths is None else 5, merge_in_background=paths is not None)
        try:
            counts = ls.app.db().counts()  # here, not on the event loop
        except Exception as e:
            log.warning("status counts failed: %s", e)
        return st

    stats = None
    try:
        stats = await loop.run_in_executor(ls.index_pool, work)
    finally:
        ls.indexing = False
        msg = "done"
        if stats is not None:
            msg = f"{stats.files_changed} changed of {stats.files_seen} files · {stats.events:,} events"
            if stats.errors == ["busy"]:
                msg = "another sessionlens process is indexing; showing its results"
        progress.end(msg)
    ls.notify_status("idle", counts=counts)
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
    await refresh_code_lenses(ls)


async def refresh_code_lenses(ls: SessionLensServer) -> None:
    if ls.client_supports("workspace", "code_lens", "refresh_support"):
        try:
            await asyncio.wait_for(ls.workspace_code_lens_refresh_async(None), 2)
        except Exception:
            log.debug("code lens refresh failed", exc_info=True)


def outside_roots(ls: SessionLensServer) -> list[str]:
    """The log roots the editor's file watcher does not cover: outside every workspace folder, or asked for."""
    return [
        r
        for r in ls.app.roots(sorted(ls.extra_paths))
        if not any(r == f or r.startswith(f.rstrip("/") + "/") for f in ls.app.workspace_folders) or r in ls.extra_paths
    ]


async def poll_loop(ls: SessionLensServer) -> None:
    """Roots outside the workspace (the agent homes) are followed by file-system events (``RootWatcher``:
    a thread that hands changed logs to the index loop, nothing runs while nothing changes); this loop
    only notices new or gone roots, and polls the roots events cannot serve (``LogWatcher``)."""
    loop = asyncio.get_running_loop()

    def changed_from_thread(paths: list[str]) -> None:
        loop.call_soon_threadsafe(lambda: request_index(ls, paths, settled=True))

    ls.watcher.on_change = changed_from_thread
    while True:
        await asyncio.sleep(ls.app.settings.poll_interval_s)
        if ls.index_wakeup is None:
            continue
        roots = outside_roots(ls)
        watcher = ls.watcher
        watcher.on_change = changed_from_thread
        if tuple(roots) != watcher.roots:
            await ls.run(watcher.set_roots, roots)  # starting a watch walks the folders: off the event loop
        if ls.indexing or not watcher.needs_poll:
            continue
        changed = await ls.run(watcher.poll)
        if changed:
            request_index(ls, changed)


def start(ls: SessionLensServer) -> None:
    """Start the index and poll loops with a full pass (from ``initialized``)."""
    if ls.index_wakeup is None:
        ls.index_wakeup = asyncio.Event()
    ls.full_pass_requested = True
    ls.spawn(index_loop(ls))
    ls.poll_task = ls.spawn(poll_loop(ls))
    ls.index_wakeup.set()


@method(T.WORKSPACE_DID_CHANGE_WATCHED_FILES)
def did_change_watched(ls: SessionLensServer, params: T.DidChangeWatchedFilesParams) -> None:
    paths = []
    for ch in params.changes:
        p = uri_to_path(ch.uri)
        if not p:
            continue
        if Path(p).name == CONFIG_FILENAME:
            request_index(ls, full=True)
            continue
        if ch.type != T.FileChangeType.Deleted:
            paths.append(p)
    if paths:
        request_index(ls, paths)


@command("sessionlens.reindex")
async def reindex(ls: SessionLensServer, a: ReindexParams) -> ReindexResult:
    stats = await run_index(ls, paths=list(a.paths) if a.paths else None, title="Reindexing session logs")
    c = await ls.run(lambda: ls.app.db().counts())
    return ReindexResult(
        files=c["files"], sessions=c["sessions"], events=c["events"], problems=c["problems"], changed=stats.files_changed if stats else 0
    )


@command("sessionlens.status")
async def status(ls: SessionLensServer, a: StatusParams) -> StatusResult:
    c = await ls.run(lambda: ls.app.db().counts())
    return StatusResult.model_validate(
        {
            "indexing": ls.indexing,
            **c,
            "store": str(ls.app.home),
            "globs": ls.app.log_globs(),
            "agents": list(dict.fromkeys(a["agent"] for a in ls.app.agents())),
            "watch": ls.watcher.mode,
            "polled": dict(ls.watcher.polled),
        }
    )


FEATURE = Feature("indexing", methods=(did_change_watched,), commands=(reindex, status))
