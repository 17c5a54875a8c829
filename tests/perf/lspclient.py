"""A minimal JSON-RPC client for the language server over stdio, for timing (no pygls in the client)."""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any


class LspClient:
    """Starts ``python -m sessionlens lsp`` and times requests as an editor would see them."""

    def __init__(self, env: dict[str, str] | None = None, cwd: str | None = None):
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "sessionlens", "lsp"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            # SL_PERF_SERVER_LOG: where the server's stderr goes (its log, to see why a timing is what it is)
            stderr=open(os.environ["SL_PERF_SERVER_LOG"], "ab") if os.environ.get("SL_PERF_SERVER_LOG") else subprocess.DEVNULL,
            env={**os.environ, **(env or {})},
            cwd=cwd,
        )
        self._id = 0
        self._lock = threading.Lock()
        self._pending: dict[int, queue.Queue] = {}
        self.notifications: queue.Queue = queue.Queue()
        self._reader = threading.Thread(target=self._read_loop, daemon=True)
        self._reader.start()

    # ------------------------------------------------------------------ wire
    def _send(self, msg: dict[str, Any]) -> None:
        body = json.dumps(msg).encode()
        with self._lock:
            self.proc.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
            self.proc.stdin.flush()

    def _read_loop(self) -> None:
        out = self.proc.stdout
        while True:
            length = None
            while True:
                line = out.readline()
                if not line:
                    return
                line = line.strip()
                if not line:
                    break
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
            if length is None:
                continue
            msg = json.loads(out.read(length))
            if "id" in msg and "method" in msg:  # a request from the server: accept it
                result: Any = None
                if msg["method"] == "workspace/configuration":
                    result = [None for _ in msg.get("params", {}).get("items", [])]
                self._send({"jsonrpc": "2.0", "id": msg["id"], "result": result})
            elif "id" in msg:
                q = self._pending.pop(msg["id"], None)
                if q is not None:
                    q.put(msg)
            else:
                self.notifications.put((time.perf_counter(), msg))

    # ------------------------------------------------------------------ api
    def request(self, method: str, params: Any, timeout: float = 600) -> tuple[float, Any]:
        """Send a request; returns (seconds until the response was read, result)."""
        with self._lock:
            self._id += 1
            rid = self._id
        q: queue.Queue = queue.Queue()
        self._pending[rid] = q
        t0 = time.perf_counter()
        self._send({"jsonrpc": "2.0", "id": rid, "method": method, "params": params})
        msg = q.get(timeout=timeout)
        dt = time.perf_counter() - t0
        if "error" in msg:
            raise RuntimeError(f"{method}: {msg['error']}")
        return dt, msg.get("result")

    def notify(self, method: str, params: Any) -> None:
        self._send({"jsonrpc": "2.0", "method": method, "params": params})

    def wait_notification(self, pred, timeout: float = 600) -> tuple[float, dict]:
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("no matching notification")
            t, msg = self.notifications.get(timeout=left)
            if pred(msg):
                return t, msg

    def drain(self) -> None:
        while not self.notifications.empty():
            self.notifications.get_nowait()

    def initialize(self, init_options: dict[str, Any], root: Path) -> None:
        self.request(
            "initialize",
            {
                "processId": os.getpid(),
                "rootUri": root.as_uri(),
                "workspaceFolders": [{"uri": root.as_uri(), "name": root.name}],
                "capabilities": {
                    "textDocument": {
                        "documentSymbol": {"hierarchicalDocumentSymbolSupport": True},
                        "hover": {"contentFormat": ["markdown", "plaintext"]},
                        "publishDiagnostics": {"relatedInformation": True},
                    },
                    "workspace": {"workspaceFolders": True, "symbol": {}},
                },
                "initializationOptions": init_options,
            },
        )
        self.notify("initialized", {})

    def close(self) -> None:
        try:
            self.request("shutdown", None, timeout=10)
            self.notify("exit", None)
            self.proc.wait(timeout=10)
        except Exception:
            self.proc.kill()
            self.proc.wait()
