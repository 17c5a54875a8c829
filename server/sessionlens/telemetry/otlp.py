"""OTLP/HTTP protobuf encoding of :class:`~sessionlens.telemetry.genai.SpanRecord` lists.

Needs the ``otel`` extra (``opentelemetry-proto``); imported only when an export runs.  Also the
endpoint and header conventions of the standard ``OTEL_EXPORTER_OTLP_*`` environment variables.
"""

from __future__ import annotations

import os
from typing import Iterable, Mapping
from urllib.parse import unquote

from sessionlens.telemetry.genai import SCHEMA_URL, SCOPE_NAME, SpanRecord


class OtlpUnavailable(RuntimeError):
    """The protobuf classes are not installed."""


def _pb():
    try:
        from opentelemetry.proto.collector.trace.v1 import trace_service_pb2
        from opentelemetry.proto.common.v1 import common_pb2
        from opentelemetry.proto.resource.v1 import resource_pb2
        from opentelemetry.proto.trace.v1 import trace_pb2
    except ImportError as e:  # pragma: no cover - exercised only without the extra
        raise OtlpUnavailable("OTLP export needs the 'otel' extra: pip install 'sessionlens[otel]'") from e
    return trace_service_pb2, common_pb2, resource_pb2, trace_pb2


def _any(common_pb2, v):
    a = common_pb2.AnyValue()
    if isinstance(v, bool):
        a.bool_value = v
    elif isinstance(v, int):
        a.int_value = max(-(2**63), min(v, 2**63 - 1))
    elif isinstance(v, float):
        a.double_value = v
    elif isinstance(v, (list, tuple)):
        a.array_value.values.extend(_any(common_pb2, x) for x in v)
    else:
        a.string_value = str(v)
    return a


def _kvs(common_pb2, attrs: Mapping[str, object]):
    return [common_pb2.KeyValue(key=k, value=_any(common_pb2, v)) for k, v in attrs.items()]


def encode(spans: Iterable[SpanRecord], resource: Mapping[str, object], *, version: str = "") -> bytes:
    """An ``ExportTraceServiceRequest`` with one resource and one scope."""
    trace_service_pb2, common_pb2, resource_pb2, trace_pb2 = _pb()
    scope = trace_pb2.ScopeSpans(scope=common_pb2.InstrumentationScope(name=SCOPE_NAME, version=version), schema_url=SCHEMA_URL)
    for s in spans:
        sp = trace_pb2.Span(
            trace_id=s.trace_id,
            span_id=s.span_id,
            parent_span_id=s.parent_span_id or b"",
            name=s.name,
            kind=s.kind,
            start_time_unix_nano=max(s.start_ns, 0),
            end_time_unix_nano=max(s.end_ns, s.start_ns, 0),
            attributes=_kvs(common_pb2, s.attributes),
            status=trace_pb2.Status(code=s.status_code, message=s.status_message),
        )
        for ev in s.events:
            sp.events.append(
                trace_pb2.Span.Event(time_unix_nano=max(ev.time_ns, 0), name=ev.name, attributes=_kvs(common_pb2, ev.attributes))
            )
        scope.spans.append(sp)
    rs = trace_pb2.ResourceSpans(
        resource=resource_pb2.Resource(attributes=_kvs(common_pb2, resource)), scope_spans=[scope], schema_url=SCHEMA_URL
    )
    return trace_service_pb2.ExportTraceServiceRequest(resource_spans=[rs]).SerializeToString()


def decode(data: bytes):
    """The request back as protobuf objects (for tests and the loopback receiver)."""
    trace_service_pb2, *_ = _pb()
    req = trace_service_pb2.ExportTraceServiceRequest()
    req.ParseFromString(data)
    return req


def traces_endpoint(endpoint: str | None, env: Mapping[str, str] | None = None) -> str:
    """The URL to POST to: an explicit endpoint (``/v1/traces`` added to a bare base URL), else the
    ``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`` (used as is) or ``OTEL_EXPORTER_OTLP_ENDPOINT`` (+ ``/v1/traces``)."""
    env = os.environ if env is None else env
    if endpoint:
        base = endpoint.rstrip("/")
        return base if base.endswith("/v1/traces") else base + "/v1/traces"
    if env.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"):
        return env["OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"]
    base = env.get("OTEL_EXPORTER_OTLP_ENDPOINT", "http://localhost:4318").rstrip("/")
    return base + "/v1/traces"


def headers_from_env(env: Mapping[str, str] | None = None) -> dict[str, str]:
    """``OTEL_EXPORTER_OTLP_HEADERS`` then ``OTEL_EXPORTER_OTLP_TRACES_HEADERS`` (``k=v,k2=v2``, URL-encoded)."""
    env = os.environ if env is None else env
    out: dict[str, str] = {}
    for var in ("OTEL_EXPORTER_OTLP_HEADERS", "OTEL_EXPORTER_OTLP_TRACES_HEADERS"):
        for part in (env.get(var) or "").split(","):
            if "=" in part:
                k, v = part.split("=", 1)
                if k.strip():
                    out[unquote(k.strip())] = unquote(v.strip())
    return out
