"""The sessionlens language server (pygls 2, stdio): builds the server from ``FEATURES``.

Handlers are thin: convert params, call a service in a worker thread, convert back.  The core
(state, document routing, progress, commands) lives in ``lsp.core``, ``lsp.documents``,
``lsp.progress`` and ``lsp.commands``; each feature in its own module under ``lsp.features``.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Iterable
from typing import Any

from sessionlens.lsp.commands import CommandSpec
from sessionlens.lsp.core import Feature, MethodSpec, SessionLensServer
from sessionlens.lsp.features import FEATURES
from sessionlens.models.api import COMMANDS as DECLARED_COMMANDS
from sessionlens.services import selftrace

log = logging.getLogger("sessionlens.lsp")

__all__ = ["COMMANDS", "SessionLensServer", "build_server", "run"]

COMMANDS = [c.name for f in FEATURES for c in f.commands]


def _traced(fn: Any, method: str) -> Any:
    """``fn`` inside a span and a latency histogram by ``rpc.method`` (only when telemetry is on)."""
    t = selftrace.telemetry("lsp")
    if not t.enabled:
        return fn
    attrs = {"rpc.system": "jsonrpc", "rpc.method": method}
    if _is_async(fn):

        async def traced(ls: Any, *args: Any) -> Any:
            t0 = time.perf_counter()
            with t.span(method, **attrs):
                try:
                    return await fn(ls, *args)
                finally:
                    t.record("sessionlens.lsp.request.duration", time.perf_counter() - t0, **attrs)
    else:

        def traced(ls: Any, *args: Any) -> Any:  # type: ignore[misc]
            t0 = time.perf_counter()
            with t.span(method, **attrs):
                try:
                    return fn(ls, *args)
                finally:
                    t.record("sessionlens.lsp.request.duration", time.perf_counter() - t0, **attrs)

    return traced


def _register_method(ls: SessionLensServer, spec: MethodSpec) -> None:
    fn = _traced(spec.fn, spec.method)

    # pygls injects the server into handlers whose first parameter is named `ls`
    if _is_async(fn):

        async def handler(ls: SessionLensServer, params: Any) -> Any:
            return await fn(ls, params)
    else:

        def handler(ls: SessionLensServer, params: Any) -> Any:  # type: ignore[misc]
            return fn(ls, params)

    handler.__name__ = getattr(fn, "__name__", spec.method)
    if spec.options is not None:
        ls.feature(spec.method, spec.options)(handler)
    else:
        ls.feature(spec.method)(handler)


def _register_command(ls: SessionLensServer, spec: CommandSpec) -> None:
    execute = _traced(spec.execute, f"workspace/executeCommand {spec.name}")

    async def handler(ls: SessionLensServer, *args: Any) -> Any:
        return await execute(ls, args)

    ls.command(spec.name)(handler)


def _is_async(fn: Any) -> bool:
    import inspect

    return inspect.iscoroutinefunction(fn)


def build_server(features: Iterable[Feature] = FEATURES) -> SessionLensServer:
    ls = SessionLensServer()
    methods: dict[str, str] = {}
    commands: dict[str, str] = {}
    for feature in features:
        if feature.documents is not None:
            ls.providers.append(feature.documents)
        for m in feature.methods:
            if m.method in methods:
                raise RuntimeError(f"{m.method} is handled by both {methods[m.method]} and {feature.name}")
            methods[m.method] = feature.name
            _register_method(ls, m)
        for c in feature.commands:
            if c.name in commands:
                raise RuntimeError(f"{c.name} is implemented by both {commands[c.name]} and {feature.name}")
            commands[c.name] = feature.name
            _register_command(ls, c)
    return ls


def check_contract(features: Iterable[Feature] = FEATURES) -> list[str]:
    """Declared commands without a handler and handlers without a declaration (empty when in sync)."""
    implemented = {c.name for f in features for c in f.commands}
    return sorted(set(DECLARED_COMMANDS) ^ implemented)


def run(stdin: Any, stdout: Any) -> int:
    logging.getLogger("pygls").setLevel(logging.WARNING)
    level = os.environ.get("SESSIONLENS_LOG", "INFO").upper()
    logging.basicConfig(level=getattr(logging, level, logging.INFO), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    srv = build_server()
    try:
        srv.start_io(stdin, stdout)
    finally:
        selftrace.shutdown()  # flush our own spans and metrics (a no-op without OTEL_* variables)
    return 0
