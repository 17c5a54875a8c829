"""sessionlens observing itself: traces and metrics of index passes, LSP requests and hub requests.

Through the OpenTelemetry SDK, and only when the standard environment variables ask for it
(``OTEL_EXPORTER_OTLP_ENDPOINT``, ``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`` / ``..._METRICS_ENDPOINT``, or
``OTEL_TRACES_EXPORTER=otlp|console``; ``OTEL_SDK_DISABLED=true`` wins).  When they don't, this module
hands out a no-op and the SDK is never imported, so start-up time and request latency do not change.

``service.name`` is ``sessionlens`` (``OTEL_SERVICE_NAME`` / ``OTEL_RESOURCE_ATTRIBUTES`` override it, as
the SDK reads them), ``service.version`` the package version, and ``sessionlens.component`` says which
process (cli, lsp, hub).  While a span is active, log records carry its trace id (``[trace=…]``), so a log
line and a span can be matched.

Metrics (histograms in seconds, counters): ``sessionlens.index.duration``, ``sessionlens.index.bytes``,
``sessionlens.index.files``, ``sessionlens.index.queue_depth``, ``sessionlens.lsp.request.duration``
(by ``rpc.method``), ``sessionlens.hub.request.duration`` (by ``http.route`` and
``http.response.status_code``), ``sessionlens.hub.rate_limited``.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import time
from typing import Any, Iterator, Mapping

from sessionlens import __version__

log = logging.getLogger(__name__)


def wanted(env: Mapping[str, str] | None = None) -> bool:
    env = os.environ if env is None else env
    if env.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return False
    if any(
        env.get(k) for k in ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT")
    ):
        return True
    return env.get("OTEL_TRACES_EXPORTER", "none").strip().lower() not in ("", "none")


class Noop:
    """What callers get when nobody asked for telemetry: every call costs a method dispatch."""

    enabled = False

    @contextlib.contextmanager
    def span(self, name: str, **attrs: Any) -> Iterator[None]:
        yield None

    def record(self, metric: str, value: float, **attrs: Any) -> None:
        pass

    def add(self, metric: str, value: int, **attrs: Any) -> None:
        pass

    def shutdown(self) -> None:
        pass


_UNITS = {"duration": "s", "bytes": "By"}


class _TraceIdFilter(logging.Filter):
    def __init__(self, trace_api):
        super().__init__()
        self._trace = trace_api

    def filter(self, record: logging.LogRecord) -> bool:
        ctx = self._trace.get_current_span().get_span_context()
        if ctx.is_valid and not getattr(record, "otel_trace_id", None):
            tid = format(ctx.trace_id, "032x")
            setattr(record, "otel_trace_id", tid)  # noqa: B010 - a LogRecord takes extra attributes
            record.msg = f"[trace={tid}] {record.msg}"
        return True


class Otel:
    enabled = True

    def __init__(self, component: str):
        from opentelemetry import trace
        from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        from opentelemetry.sdk.metrics import MeterProvider
        from opentelemetry.sdk.metrics.export import PeriodicExportingMetricReader
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter

        resource = Resource.create(
            {
                "service.name": os.environ.get("OTEL_SERVICE_NAME") or "sessionlens",
                "service.version": __version__,
                "sessionlens.component": component,
            }
        )
        self._tp = TracerProvider(resource=resource)
        exporter = ConsoleSpanExporter() if os.environ.get("OTEL_TRACES_EXPORTER") == "console" else OTLPSpanExporter()
        self._tp.add_span_processor(BatchSpanProcessor(exporter))
        interval = int(os.environ.get("OTEL_METRIC_EXPORT_INTERVAL", "60000"))
        self._mp = MeterProvider(
            resource=resource, metric_readers=[PeriodicExportingMetricReader(OTLPMetricExporter(), export_interval_millis=interval)]
        )
        self._tracer = self._tp.get_tracer("sessionlens", __version__)
        self._meter = self._mp.get_meter("sessionlens", __version__)
        self._instruments: dict[str, Any] = {}
        self._lock = threading.Lock()
        self._trace = trace
        self._filter = _TraceIdFilter(trace)
        for h in logging.getLogger().handlers:
            h.addFilter(self._filter)
        logging.getLogger().addFilter(self._filter)

    @contextlib.contextmanager
    def span(self, name: str, **attrs: Any) -> Iterator[Any]:
        with self._tracer.start_as_current_span(name, attributes={k: v for k, v in attrs.items() if v is not None}) as sp:
            yield sp

    def _instrument(self, metric: str, kind: str):
        with self._lock:
            inst = self._instruments.get(metric)
            if inst is None:
                unit = next((u for k, u in _UNITS.items() if metric.endswith(k)), "1")
                if kind == "histogram":
                    inst = self._meter.create_histogram(metric, unit=unit)
                elif kind == "gauge":
                    inst = self._meter.create_up_down_counter(metric, unit=unit)
                else:
                    inst = self._meter.create_counter(metric, unit=unit)
                self._instruments[metric] = inst
            return inst

    def record(self, metric: str, value: float, **attrs: Any) -> None:
        self._instrument(metric, "histogram").record(value, attributes=attrs)

    def add(self, metric: str, value: int, **attrs: Any) -> None:
        kind = "gauge" if metric.endswith("queue_depth") else "counter"
        self._instrument(metric, kind).add(value, attributes=attrs)

    def shutdown(self) -> None:
        self._tp.shutdown()
        self._mp.shutdown()
        logging.getLogger().removeFilter(self._filter)


_current: Noop | Otel | None = None
_lock = threading.Lock()


def telemetry(component: str = "cli") -> Noop | Otel:
    """The process's telemetry: the SDK when the environment asks for it (and it is installed), else a no-op."""
    global _current
    if _current is not None:
        return _current
    with _lock:
        if _current is None:
            if wanted():
                try:
                    _current = Otel(component)
                except ImportError:
                    log.warning("OTEL_* variables are set but the OpenTelemetry SDK is not installed: pip install 'sessionlens[selftrace]'")
                    _current = Noop()
            else:
                _current = Noop()
    return _current


def shutdown() -> None:
    """Flush and stop (at process exit); a later ``telemetry()`` starts afresh."""
    global _current
    with _lock:
        if _current is not None:
            _current.shutdown()
        _current = None


@contextlib.contextmanager
def timed(t: Noop | Otel, metric: str, **attrs: Any) -> Iterator[None]:
    if not t.enabled:
        yield
        return
    t0 = time.perf_counter()
    try:
        yield
    finally:
        t.record(metric, time.perf_counter() - t0, **attrs)
