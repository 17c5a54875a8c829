from __future__ import annotations

import asyncio
import threading

import pytest
from lsprotocol import types as T

from sessionlens.lsp.progress import Progress, stream_markdown
from tests.lsp.fakes import FakeServer, make_app


@pytest.fixture
def ls(tmp_path):
    srv = FakeServer(make_app(tmp_path / "home"))
    yield srv
    srv.close()
    srv.app.close()


async def test_progress_is_a_no_op_without_client_support(ls):
    p = await Progress.start(ls, "x")
    p.report("a")
    p.end()
    assert not p and ls.work_done_progress.events == []


async def test_a_refused_progress_is_a_no_op(ls):
    ls.capabilities.add(("window", "work_done_progress"))
    ls.work_done_progress.refuse = True
    p = await Progress.start(ls, "x")
    p.report("a")
    assert not p and ls.work_done_progress.events == []


async def test_cancel_from_the_client_sets_the_event(ls):
    ls.capabilities.add(("window", "work_done_progress"))
    cancel = threading.Event()
    p = await Progress.start(ls, "Running", cancel=cancel)
    assert ls.work_done_progress.events[1][2].cancellable is True
    ls.work_done_progress.tokens[p.token].cancel()
    await asyncio.sleep(0)
    assert cancel.is_set()
    p.end("cancelled")
    p.end("twice")  # ends once
    assert ls.work_done_progress.kinds() == ["create", "begin", "end"]


async def test_stream_markdown_forwards_deltas_and_reports_failures(ls):
    async def deltas():
        yield "Hello "
        yield "**world**"
        raise RuntimeError("boom")

    ls.capabilities.add(("experimental", "sessionlens", "stream"))  # a client that declared the notifications
    res = await stream_markdown(ls, deltas(), title="AI coach", stream_id="s")
    sent = [p for m, p in ls.notifications if m == "sessionlens/stream"]
    assert [p["delta"] for p in sent] == ["Hello ", "**world**", ""] and sent[-1] == {"id": "s", "delta": "", "done": True, "error": "boom"}
    assert res["markdown"].startswith("Hello **world**") and "AI coach unavailable:** boom" in res["markdown"]


async def test_stream_markdown_shows_the_answer_in_any_editor(ls):
    """No custom notifications for a client that did not declare them: the answer opens as a document."""

    async def deltas():
        yield "Read the **error** first."

    ls.capabilities.add(("window", "show_document", "support"))
    shown = []

    async def show(params):
        shown.append(params)
        return None

    ls.window_show_document_async = show
    res = await stream_markdown(ls, deltas(), title="AI coach", stream_id="abc")
    assert not [m for m, _ in ls.notifications if m == "sessionlens/stream"]
    assert res["document"] == shown[0].uri and shown[0].take_focus
    from pathlib import Path
    from urllib.parse import unquote, urlparse

    doc = Path(unquote(urlparse(shown[0].uri).path))
    assert doc.read_text().startswith("# AI coach") and "Read the **error** first." in doc.read_text()
    assert str(doc).startswith(str(ls.app.home))  # the store's own folder, never the workspace
    # a client without window/showDocument gets the text as a message
    ls.capabilities.discard(("window", "show_document", "support"))
    await stream_markdown(ls, deltas(), title="AI coach")
    assert ls.messages[-1].type == T.MessageType.Info and "Read the **error** first." in ls.messages[-1].message
