"""The one work-done progress helper (server-initiated ``$/progress``) and Markdown streaming on top of it."""

from __future__ import annotations

import asyncio
import logging
import threading
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from lsprotocol import types as T

from sessionlens.lsp.core import STREAM_NOTIFICATION, SessionLensServer
from sessionlens.models.api import StreamNotification

log = logging.getLogger(__name__)


class Progress:
    """A work-done progress bar; every method is a no-op when the client does not support (or refused) one.

    ``cancel``: an event set when the user presses the progress's cancel button (then it is cancellable).
    """

    def __init__(self, ls: SessionLensServer, token: str | None) -> None:
        self.ls = ls
        self.token = token

    @classmethod
    async def start(cls, ls: SessionLensServer, title: str, *, cancel: threading.Event | None = None) -> Progress:
        if not ls.client_supports("window", "work_done_progress"):
            return cls(ls, None)
        token = f"sessionlens-{uuid.uuid4()}"
        try:
            await ls.work_done_progress.create_async(token)
        except Exception as e:
            log.info("client refused work-done progress: %s", e)
            return cls(ls, None)
        if cancel is not None:
            fut = ls.work_done_progress.tokens.get(token)
            if fut is not None:  # pygls cancels this future on window/workDoneProgress/cancel
                fut.add_done_callback(lambda f: cancel.set() if f.cancelled() else None)
        ls.work_done_progress.begin(token, T.WorkDoneProgressBegin(title=title, cancellable=cancel is not None, percentage=0))
        return cls(ls, token)

    def __bool__(self) -> bool:
        return self.token is not None

    def report(self, message: str, percentage: int | None = None) -> None:
        if self.token:
            self.ls.work_done_progress.report(self.token, T.WorkDoneProgressReport(message=message, percentage=percentage))

    def report_threadsafe(self, loop: asyncio.AbstractEventLoop, message: str, percentage: int | None = None) -> None:
        """``report`` from a worker thread."""
        if self.token:
            loop.call_soon_threadsafe(self.report, message, percentage)

    def end(self, message: str = "done") -> None:
        if self.token:
            self.ls.work_done_progress.end(self.token, T.WorkDoneProgressEnd(message=message))
            self.token = None


def wants_stream(ls: SessionLensServer) -> bool:
    """Did the client declare it renders ``sessionlens/stream`` notifications?  (The VS Code extension
    sets ``capabilities.experimental.sessionlens.stream``; other editors get the answer as a document.)"""
    caps = getattr(ls, "client_capabilities", None)
    exp = getattr(caps, "experimental", None) if caps is not None else None
    if isinstance(exp, dict):
        mine = exp.get("sessionlens")
        return isinstance(mine, dict) and bool(mine.get("stream"))
    return ls.client_supports("experimental", "sessionlens", "stream")


def _slug(title: str) -> str:
    return "".join(c if c.isalnum() else "-" for c in title.lower()).strip("-") or "answer"


async def show_answer(ls: SessionLensServer, title: str, sid: str, md: str, error: str | None) -> str | None:
    """Show a finished answer in any LSP editor: an error alone as ``window/showMessage``; an answer as
    a Markdown document (in the store's folder) opened with ``window/showDocument`` — or, for a client
    without it, as a message.  Returns the document's uri, if one was shown."""
    if error and not md.replace(f"> **{title} unavailable:** {error}", "").strip():
        ls.window_show_message(T.ShowMessageParams(type=T.MessageType.Error, message=f"sessionlens {title}: {error}"))
        return None
    if ls.client_supports("window", "show_document", "support"):
        folder = Path(ls.app.home) / "answers"
        try:
            folder.mkdir(parents=True, exist_ok=True)
            doc = folder / f"{_slug(title)}-{sid[:12]}.md"
            doc.write_text(f"# {title}\n\n{md}\n", encoding="utf-8")
        except OSError as e:
            log.warning("cannot write the answer document: %s", e)
        else:
            uri = doc.as_uri()
            try:
                res = await ls.window_show_document_async(T.ShowDocumentParams(uri=uri, take_focus=True))
                if res is None or getattr(res, "success", True):
                    return uri
            except Exception as e:  # the client refused: fall back to a message
                log.info("window/showDocument failed: %s", e)
    text = md if len(md) <= 4000 else md[:3999] + "…"
    ls.window_show_message(
        T.ShowMessageParams(type=T.MessageType.Error if error else T.MessageType.Info, message=f"sessionlens {title}:\n{text}")
    )
    return None


async def stream_markdown(ls: SessionLensServer, agen: AsyncIterator[str], *, title: str, stream_id: str | None = None) -> dict[str, Any]:
    """Forward a stream of Markdown deltas as `sessionlens/stream` notifications (to clients that declare
    them) and progress; return the whole text.  Clients without the notifications get the finished
    answer as a document or a message (``show_answer``): every LSP editor sees it."""
    sid = stream_id or str(uuid.uuid4())
    stream = wants_stream(ls)
    progress = await Progress.start(ls, title)
    parts: list[str] = []
    error = None
    try:
        async for delta in agen:
            parts.append(delta)
            if stream:
                ls.protocol.notify(STREAM_NOTIFICATION, StreamNotification(id=sid, delta=delta, done=False).model_dump())
            progress.report(f"{sum(map(len, parts)):,} characters")
    except Exception as e:
        error = str(e)
        log.warning("%s failed: %s", title, e)
    finally:
        if stream:
            ls.protocol.notify(STREAM_NOTIFICATION, StreamNotification(id=sid, delta="", done=True, error=error).model_dump())
        progress.end("failed" if error else "done")
    md = "".join(parts)
    if error:
        md = (md + "\n\n" if md else "") + f"> **{title} unavailable:** {error}\n"
    out: dict[str, Any] = {"id": sid, "markdown": md, "error": error}
    if not stream:
        out["document"] = await show_answer(ls, title, sid, md, error)
    return out
