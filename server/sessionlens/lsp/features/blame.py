"""Agent blame on workspace source files: a hover on a line names the session that wrote it (with a link
to the edit in its transcript), a lens at the top of the file counts the sessions that edited it.

A source file is any file in a workspace folder that is no session log (and none of the documents an
earlier feature serves).  A file no session edited costs one indexed lookup (no git, no lens).
"""

from __future__ import annotations

import json
import logging
import os
from urllib.parse import quote

from lsprotocol import types as T

from sessionlens.agents import registry as agent_registry
from sessionlens.lsp import convert
from sessionlens.lsp.commands import command
from sessionlens.lsp.convert import uri_to_path
from sessionlens.lsp.core import DocumentProvider, Feature, SessionLensServer
from sessionlens.models.api import BlameParams, BlameResult
from sessionlens.services import blame as blame_service
from sessionlens.services.links import inside_folders
from sessionlens.store import NotFound

log = logging.getLogger("sessionlens.lsp.blame")

#: the VS Code extension's command that opens a sessionlens:// link as the transcript at its event
OPEN_LINK_COMMAND = "sessionlens.ui.openLink"
#: the extension's command that lists a file's sessions (the lens)
LIST_COMMAND = "sessionlens.ui.blameSessions"
_SKIP_SUFFIXES = (".sessionlens.json",)


def _is_extension(ls: SessionLensServer) -> bool:
    """The sessionlens VS Code extension (it declares ``experimental.sessionlens``) runs our commands."""
    caps = getattr(ls, "client_capabilities", None)
    exp = getattr(caps, "experimental", None) if caps is not None else None
    if isinstance(exp, dict):
        return isinstance(exp.get("sessionlens"), dict)
    return ls.client_supports("experimental", "sessionlens")


def open_link(ls: SessionLensServer, link: str) -> str:
    """A link a hover can carry: the extension's command (opens the transcript), else the sessionlens:// link."""
    if _is_extension(ls):
        return f"command:{OPEN_LINK_COMMAND}?{quote(json.dumps([link]))}"
    return link


class SourceDocuments(DocumentProvider):
    name = "blame"

    def __init__(self) -> None:
        self._sniffed: dict[str, tuple[int, int, bool]] = {}

    def matches(self, path: str) -> bool:
        """Not a session log (by name, or by content for a file whose name says nothing)."""
        if path.endswith(_SKIP_SUFFIXES) or "#" in os.path.basename(path) or agent_registry.is_candidate(path):
            return False
        try:
            st = os.stat(path)
        except OSError:
            return False
        hit = self._sniffed.get(path)
        if hit is not None and hit[:2] == (st.st_size, st.st_mtime_ns):
            return hit[2]
        try:
            with open(path, "rb") as f:
                head = f.read(64 * 1024)
            source = agent_registry.detect(path, head) is None
        except OSError:
            source = False
        if len(self._sniffed) > 4096:
            self._sniffed.clear()
        self._sniffed[path] = (st.st_size, st.st_mtime_ns, source)
        return source

    @staticmethod
    def _in_workspace(ls: SessionLensServer, path: str) -> bool:
        folders = ls.app.workspace_folders
        return bool(folders) and inside_folders(path, [os.path.realpath(f) for f in folders])

    async def did_open(self, ls: SessionLensServer, uri: str, path: str, version: int | None) -> None:
        return None

    async def did_change(self, ls: SessionLensServer, uri: str, path: str, version: int | None) -> None:
        return None

    async def did_save(self, ls: SessionLensServer, uri: str, path: str, version: int | None) -> None:
        return None

    async def hover(self, ls: SessionLensServer, path: str, position: T.Position) -> T.Hover | None:
        if not self._in_workspace(ls, path):
            return None
        text = ls.read_document(path)
        if text is None:
            return None
        try:
            w, n_sessions, rel = await ls.run(blame_service.hover_info, ls.app, path, text, position.line)
        except OSError as e:
            log.debug("blame of %s: %s", path, e)
            return None
        if w is None:
            return None
        md = blame_service.hover_markdown(w, open_link(ls, w["link"]), others=n_sessions - 1, current=rel)
        line = position.line
        return T.Hover(
            contents=T.MarkupContent(kind=T.MarkupKind.Markdown, value=md),
            range=T.Range(start=T.Position(line=line, character=0), end=T.Position(line=line + 1, character=0)),
        )

    async def code_lens(self, ls: SessionLensServer, path: str) -> list[T.CodeLens] | None:
        if not self._in_workspace(ls, path) or not os.path.isfile(path):
            return None
        _rel, sessions = await ls.run(lambda: blame_service.service(ls.app).sessions_of(path))
        title = blame_service.lens_title(sessions)
        if title is None:
            return None
        uri = convert.path_to_uri(path)
        cmd = (
            T.Command(title=title, command=LIST_COMMAND, arguments=[uri])
            if _is_extension(ls)
            else T.Command(title=title, command="sessionlens.blame", arguments=[{"uri": uri}])
        )
        return [T.CodeLens(range=convert.line_range(0, 0, 0), command=cmd)]


PROVIDER = SourceDocuments()


@command("sessionlens.blame")
async def blame_command(ls: SessionLensServer, a: BlameParams) -> BlameResult:
    path = uri_to_path(a.uri)
    if not path:
        raise NotFound(f"not a file: {a.uri}")
    text = ls.read_document(path)
    if text is None:
        raise NotFound(f"no such file: {path}")
    return BlameResult.model_validate(await ls.run(blame_service.report, ls.app, path, text, a.line))


FEATURE = Feature("blame", commands=(blame_command,), documents=PROVIDER)
