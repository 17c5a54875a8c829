"""A small Chrome DevTools Protocol driver for headless Chromium (aiohttp websockets): navigate,
evaluate, screenshot, and collect console/CSP errors.  Enough to use the web UI as a person would."""

from __future__ import annotations

import asyncio
import base64
import itertools
import json
import os
import re
import shutil
import tempfile
from pathlib import Path

import aiohttp

CHROMIUM = os.environ.get("SESSIONLENS_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser") or "/usr/bin/chromium"


def available() -> bool:
    return bool(CHROMIUM) and os.path.exists(CHROMIUM)


class Browser:
    def __init__(self):
        self.proc = None
        self.ws = None
        self.http = None
        self.ids = itertools.count(1)
        self.pending: dict[int, asyncio.Future] = {}
        self.events: list[dict] = []
        self.loaded = asyncio.Event()
        self.reader = None
        self.profile = tempfile.mkdtemp(prefix="sessionlens-chromium-")

    async def __aenter__(self):
        self.proc = await asyncio.create_subprocess_exec(
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--no-first-run",
            "--disable-extensions",
            "--hide-scrollbars",
            "--remote-debugging-port=0",
            f"--user-data-dir={self.profile}",
            "about:blank",
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
        )
        port = None
        while port is None:
            line = await asyncio.wait_for(self.proc.stderr.readline(), 60)
            if not line:
                raise RuntimeError("chromium exited before DevTools started")
            m = re.search(rb"DevTools listening on ws://127\.0\.0\.1:(\d+)/", line)
            if m:
                port = int(m.group(1))
        asyncio.get_running_loop().create_task(self._drain())
        self.http = aiohttp.ClientSession()
        async with self.http.put(f"http://127.0.0.1:{port}/json/new?about:blank") as r:
            target = await r.json(content_type=None)
        self.ws = await self.http.ws_connect(target["webSocketDebuggerUrl"], max_msg_size=0)
        self.reader = asyncio.get_running_loop().create_task(self._read())
        await self.send("Page.enable")
        await self.send("Runtime.enable")
        await self.send("Log.enable")
        await self.send("Emulation.setDeviceMetricsOverride", width=1280, height=900, deviceScaleFactor=1, mobile=False)
        return self

    async def _drain(self):
        while self.proc and self.proc.stderr and await self.proc.stderr.readline():
            pass

    async def _read(self):
        async for msg in self.ws:
            data = json.loads(msg.data)
            if "id" in data and data["id"] in self.pending:
                self.pending.pop(data["id"]).set_result(data)
            elif data.get("method") == "Page.loadEventFired":
                self.loaded.set()
            elif "method" in data:
                self.events.append(data)

    async def send(self, method: str, **params):
        i = next(self.ids)
        fut = asyncio.get_running_loop().create_future()
        self.pending[i] = fut
        await self.ws.send_str(json.dumps({"id": i, "method": method, "params": params}))
        res = await asyncio.wait_for(fut, 60)
        if "error" in res:
            raise RuntimeError(f"{method}: {res['error']}")
        return res.get("result", {})

    async def goto(self, url: str) -> None:
        self.loaded.clear()
        await self.send("Page.navigate", url=url)
        await asyncio.wait_for(self.loaded.wait(), 60)

    async def js(self, expression: str):
        res = await self.send("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in res:
            raise RuntimeError(f"js failed: {res['exceptionDetails']}")
        return res["result"].get("value")

    async def submit(self, expression: str) -> None:
        """Run ``expression`` (which submits a form or clicks a link) and wait for the next page."""
        self.loaded.clear()
        await self.js(expression)
        await asyncio.wait_for(self.loaded.wait(), 60)

    async def wait_for(self, expression: str, timeout: float = 20) -> None:
        for _ in range(int(timeout / 0.2)):
            if await self.js(expression):
                return
            await asyncio.sleep(0.2)
        raise AssertionError(f"timed out waiting for {expression}")

    async def screenshot(self, path: Path, *, full: bool = False) -> int:
        params = {"format": "png"}
        if full:
            h = await self.js("Math.min(document.documentElement.scrollHeight, 2400)")
            params["clip"] = {"x": 0, "y": 0, "width": 1280, "height": h, "scale": 1}
            params["captureBeyondViewport"] = True
        data = base64.b64decode((await self.send("Page.captureScreenshot", **params))["data"])
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        return len(data)

    def errors(self) -> list[str]:
        out = []
        for e in self.events:
            if e["method"] == "Log.entryAdded" and e["params"]["entry"]["level"] == "error":
                out.append(e["params"]["entry"].get("text", ""))
            elif e["method"] == "Runtime.exceptionThrown":
                out.append(str(e["params"]["exceptionDetails"].get("text")))
        return out

    async def __aexit__(self, *exc):
        if self.reader:
            self.reader.cancel()
        if self.ws:
            await self.ws.close()
        if self.http:
            await self.http.close()
        if self.proc and self.proc.returncode is None:
            self.proc.kill()
            await self.proc.wait()
        shutil.rmtree(self.profile, ignore_errors=True)
