from __future__ import annotations

import asyncio
import threading

import pytest

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

    res = await stream_markdown(ls, deltas(), title="AI coach", stream_id="s")
    sent = [p for m, p in ls.notifications if m == "sessionlens/stream"]
    assert [p["delta"] for p in sent] == ["Hello ", "**world**", ""] and sent[-1] == {"id": "s", "delta": "", "done": True, "error": "boom"}
    assert res["markdown"].startswith("Hello **world**") and "AI coach unavailable:** boom" in res["markdown"]
