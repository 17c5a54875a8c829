"""Lifecycle and workspace state: initialize, configuration (pulled and pushed), workspace folders,
the file watchers the client registers, shutdown."""

from __future__ import annotations

import asyncio
import logging
import uuid
from typing import Any

from lsprotocol import types as T

from sessionlens.agents import registry as agent_registry
from sessionlens.coach.config import CONFIG_FILENAME as PROJECT_CONFIG
from sessionlens.compliance.instructions import INSTRUCTION_GLOBS
from sessionlens.evals.runner import SUITE_SUFFIX
from sessionlens.lsp.commands import command
from sessionlens.lsp.convert import path_to_uri, uri_to_path
from sessionlens.lsp.core import Feature, SessionLensServer, method
from sessionlens.lsp.features import indexing
from sessionlens.models.api import DocumentsParams, DocumentsResult

log = logging.getLogger(__name__)


@method(T.INITIALIZE)
def initialize(ls: SessionLensServer, params: T.InitializeParams) -> None:
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


def documents() -> DocumentsResult:
    """What this server serves; the extension's document selector is generated from the same declaration."""
    return DocumentsResult(
        logs=agent_registry.watch_globs(),
        instructions=list(INSTRUCTION_GLOBS),
        evals=[f"**/*{SUITE_SUFFIX}"],
        config=[f"**/{PROJECT_CONFIG}"],
        sources=["**/*"],
    )


@command("sessionlens.documents")
async def documents_command(ls: SessionLensServer, a: DocumentsParams) -> DocumentsResult:
    return documents()


def file_watchers(ls: SessionLensServer) -> list[T.FileSystemWatcher]:
    decl = documents()
    globs = decl.logs  # every registered agent's sources (sessionlens.agents)
    watchers = [T.FileSystemWatcher(glob_pattern=g) for g in (*globs, *decl.config)]
    if ls.client_supports("workspace", "did_change_watched_files", "relative_pattern_support"):
        for root in ls.app.roots():
            if not any(root.startswith(f) for f in ls.app.workspace_folders):
                watchers += [T.FileSystemWatcher(glob_pattern=T.RelativePattern(base_uri=path_to_uri(root), pattern=g)) for g in globs]
    return watchers


@method(T.INITIALIZED)
async def initialized(ls: SessionLensServer, params: T.InitializedParams) -> None:
    ls.index_wakeup = asyncio.Event()
    if ls.client_supports("workspace", "configuration"):
        await pull_configuration(ls)
    regs = []
    if ls.client_supports("workspace", "did_change_configuration", "dynamic_registration"):
        regs.append(
            T.Registration(
                id=str(uuid.uuid4()),
                method=T.WORKSPACE_DID_CHANGE_CONFIGURATION,
                register_options=T.DidChangeConfigurationRegistrationOptions(section="sessionlens"),
            )
        )
    if ls.client_supports("workspace", "did_change_watched_files", "dynamic_registration"):
        regs.append(
            T.Registration(
                id=str(uuid.uuid4()),
                method=T.WORKSPACE_DID_CHANGE_WATCHED_FILES,
                register_options=T.DidChangeWatchedFilesRegistrationOptions(watchers=file_watchers(ls)),
            )
        )
    if regs:
        try:
            await ls.client_register_capability_async(T.RegistrationParams(registrations=regs))
        except Exception as e:
            log.warning("dynamic registration failed: %s", e)
    indexing.start(ls)


@method(T.SHUTDOWN)
async def shutdown(ls: SessionLensServer, params: Any) -> None:
    for t in list(ls.tasks):
        t.cancel()
    ls.watcher.close()
    try:  # the search index's last merge finishes before exit (else the next writer redoes it)
        await asyncio.wait_for(asyncio.get_running_loop().run_in_executor(None, ls.app.wait_merges), 10)
    except Exception as e:
        log.warning("search index merge at shutdown: %s", e or type(e).__name__)
    ls.pool.shutdown(wait=False, cancel_futures=True)
    ls.index_pool.shutdown(wait=False, cancel_futures=True)


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


@method(T.WORKSPACE_DID_CHANGE_CONFIGURATION)
async def did_change_configuration(ls: SessionLensServer, params: T.DidChangeConfigurationParams) -> None:
    settings = params.settings if isinstance(params.settings, dict) else None
    if ls.client_supports("workspace", "configuration"):
        await pull_configuration(ls)
    elif settings:
        ls.configure(ls.init_options, settings)
    indexing.request_index(ls, full=True)


@method(T.WORKSPACE_DID_CHANGE_WORKSPACE_FOLDERS)
def did_change_folders(ls: SessionLensServer, params: T.DidChangeWorkspaceFoldersParams) -> None:
    folders = set(ls.app.workspace_folders)
    for f in params.event.removed:
        p = uri_to_path(f.uri)
        if p:
            folders.discard(p)
    for f in params.event.added:
        p = uri_to_path(f.uri)
        if p:
            folders.add(p)
    ls.app.workspace_folders = sorted(folders)
    indexing.request_index(ls, full=True)


FEATURE = Feature(
    "lifecycle",
    methods=(initialize, initialized, shutdown, did_change_configuration, did_change_folders),
    commands=(documents_command,),
)
