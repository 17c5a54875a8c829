"""The one work-done progress helper (server-initiated ``$/progress``) and Markdown streaming on top of it."""

from __future__ import annotations

import asyncio
import logging
import threading
import uuid
from collections.abc import AsyncIterator
from typing import Any

from lsprotocol import types as T

from sessionlens.lsp.core import STREAM_NOTIFICATION, SessionLensServer

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


async def stream_markdown(ls: SessionLensServer, agen: AsyncIterator[str], *, title: str,
                          stream_id: str | None = None) -> dict[str, Any]:
    """Forward a stream of Markdown deltas as `sessionlens/stream` notifications and progress; return the whole text."""
    sid = stream_id or str(uuid.uuid4())
    progress = await Progress.start(ls, title)
    parts: list[str] = []
    error = None
    try:
        async for delta in agen:
            parts.append(delta)
            ls.protocol.notify(STREAM_NOTIFICATION, {"id": sid, "delta": delta, "done": False})
            progress.report(f"{sum(map(len, parts)):,} characters")
    except Exception as e:
        error = str(e)
        log.warning("%s failed: %s", title, e)
    finally:
        ls.protocol.notify(STREAM_NOTIFICATION, {"id": sid, "delta": "", "done": True, "error": error})
        progress.end("failed" if error else "done")
    md = "".join(parts)
    if error:
        md = (md + "\n\n" if md else "") + f"> **{title} unavailable:** {error}\n"
    return {"id": sid, "markdown": md, "error": error}
