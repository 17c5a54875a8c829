"""OTLP export over real HTTP on loopback: the raw protobuf decoded and every attribute name checked
against the pinned semantic conventions; idempotent and resumable exports; headers from the environment."""

from __future__ import annotations

import http.server
import threading
import time
from collections import Counter

import pytest

from sessionlens.services.otlp import ExportError, OtlpExport
from sessionlens.telemetry import otlp
from sessionlens.telemetry.genai import SEMCONV_VERSION

gen_ai_attributes = pytest.importorskip("opentelemetry.semconv._incubating.attributes.gen_ai_attributes")


class Receiver:
    """A loopback OTLP/HTTP receiver keeping the raw requests; ``fail_after`` answers 500 from then on."""

    def __init__(self, fail_after: int | None = None):
        self.requests: list[tuple[dict[str, str], bytes]] = []
        self.fail_after = fail_after
        outer = self

        class H(http.server.BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                if outer.fail_after is not None and len(outer.requests) >= outer.fail_after:
                    self.send_response(500)
                    self.end_headers()
                    return
                outer.requests.append(({k.lower(): v for k, v in self.headers.items()} | {":path": self.path}, body))
                self.send_response(200)
                self.send_header("Content-Type", "application/x-protobuf")
                self.end_headers()

            def log_message(self, *a):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def spans(self):
        return self.spans_of(b for h, b in self.requests if h[":path"].endswith("/v1/traces"))

    def spans_of(self, bodies):
        out = []
        for body in bodies:
            req = otlp.decode(body)
            for rs in req.resource_spans:
                for ss in rs.scope_spans:
                    out.extend((rs, ss, sp) for sp in ss.spans)
        return out

    def metric_names(self) -> set[str]:
        from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import ExportMetricsServiceRequest

        names = set()
        for h, body in self.requests:
            if h[":path"].endswith("/v1/metrics"):
                req = ExportMetricsServiceRequest()
                req.ParseFromString(body)
                names |= {m.name for rm in req.resource_metrics for sm in rm.scope_metrics for m in sm.metrics}
        return names

    def close(self):
        self.server.shutdown()


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


def _semconv_names() -> set[str]:
    return {v for k, v in vars(gen_ai_attributes).items() if k.startswith("GEN_AI_") and isinstance(v, str)}


DEPRECATED = {"gen_ai.system", "gen_ai.prompt", "gen_ai.completion", "gen_ai.usage.prompt_tokens", "gen_ai.usage.completion_tokens"}
# names from other registries of the same semconv version, and OpenInference's (switchable)
OTHER_SEMCONV = {
    "error.type",
    "process.exit.code",
    "vcs.ref.head.name",
    "vcs.ref.head.revision",
    "exception.type",
    "exception.message",
    "service.name",
    "service.version",
}


def _value(any_value):
    return getattr(any_value, any_value.WhichOneof("value"))


def test_raw_protobuf_carries_valid_genai_spans(generated_app, receiver):
    st = OtlpExport(generated_app, receiver.url, batch_spans=20).run(OtlpExport(generated_app, receiver.url).select())
    assert st.requests == len(receiver.requests) > 1 and st.spans == len(receiver.spans()) > 0
    names = _semconv_names()
    seen = Counter()
    for rs, ss, sp in receiver.spans():
        assert ss.schema_url.endswith(SEMCONV_VERSION) and ss.scope.name == "sessionlens"
        res = {kv.key: _value(kv.value) for kv in rs.resource.attributes}
        assert res["service.name"] == "sessionlens" and res["openinference.project.name"] == "sessionlens"
        attrs = {kv.key: _value(kv.value) for kv in sp.attributes}
        op = attrs["gen_ai.operation.name"]
        seen[op] += 1
        for key in attrs:
            if key.startswith("gen_ai."):
                assert key in names, f"{key} is not a gen_ai attribute of semconv {SEMCONV_VERSION}"
                assert key not in DEPRECATED
            else:
                assert key in OTHER_SEMCONV or key.split(".")[0] in (
                    "sessionlens",
                    "llm",
                    "tool",
                    "openinference",
                    "session",
                    "input",
                    "output",
                ), key
        for ev in sp.events:
            for kv in ev.attributes:
                assert kv.key in OTHER_SEMCONV or kv.key.startswith("sessionlens."), kv.key
        if op == "chat":
            assert sp.kind == sp.SPAN_KIND_CLIENT and sp.name == f"chat {attrs['gen_ai.request.model']}"
            assert attrs["gen_ai.usage.input_tokens"] >= attrs["gen_ai.usage.cache_read.input_tokens"]
        elif op == "execute_tool":
            assert sp.name == f"execute_tool {attrs['gen_ai.tool.name']}" and attrs["gen_ai.tool.call.id"]
        else:
            assert op == "invoke_agent" and attrs["gen_ai.conversation.id"]
    assert seen["invoke_agent"] and seen["chat"] and seen["execute_tool"]


def test_export_is_resumable_and_idempotent(generated_app, receiver, tmp_path):
    ex = OtlpExport(generated_app, receiver.url, batch_spans=20)
    sel = ex.select()
    # an export interrupted after two accepted batches...
    failing = Receiver(fail_after=2)
    try:
        ex_f = OtlpExport(generated_app, failing.url, batch_spans=20)
        with pytest.raises(ExportError):
            ex_f.run(sel)
        first = {sp.span_id for _, _, sp in failing.spans()}
        assert first
        # ...resumes where it stopped: the rest, and nothing already accepted
        failing.fail_after = None
        st = ex_f.run(sel)
        second = [sp.span_id for _, _, sp in failing.spans()][len(first) :]
        assert st.spans == len(second) > 0 and not first & set(second)
        full = {sp.span_id for _, _, sp in failing.spans()}
    finally:
        failing.close()
    # a full export elsewhere produces the very same span ids
    ex.run(sel)
    assert {sp.span_id for _, _, sp in receiver.spans()} == full
    # and a second run sends nothing: every session is unchanged for this endpoint
    again = ex.run(sel)
    assert again.spans == 0 and again.unchanged == len(sel)
    assert again.requests == 0


def test_headers_and_endpoint_come_from_the_standard_variables(generated_app, receiver, monkeypatch):
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", receiver.url)
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_HEADERS", "authorization=Bearer%20abc,x-team=core")
    ex = OtlpExport(generated_app)
    assert ex.url == receiver.url + "/v1/traces"
    ex.run(ex.select()[:1])
    headers = receiver.requests[0][0]
    assert headers["authorization"] == "Bearer abc" and headers["x-team"] == "core"
    assert headers["content-type"] == "application/x-protobuf"
    assert otlp.traces_endpoint(None, {"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://h:1/x"}) == "http://h:1/x"


def test_an_unreachable_endpoint_is_one_clear_error(generated_app):
    ex = OtlpExport(generated_app, "http://127.0.0.1:9", timeout=0.5)
    import sessionlens.services.otlp as mod

    calls = []
    orig_sleep = mod.time.sleep
    mod.time.sleep = lambda s: calls.append(s)
    try:
        with pytest.raises(ExportError, match="127.0.0.1:9"):
            ex.run(ex.select()[:1])
    finally:
        mod.time.sleep = orig_sleep
    assert len(calls) == 4  # retried with backoff, then gave up


def test_eval_results_are_evaluation_spans_and_a_new_result_resends_the_session(generated_app, receiver):
    ex = OtlpExport(generated_app, receiver.url)
    s = ex.select()[0]
    ex.run([s])
    before = len(receiver.spans())
    generated_app.db().add_eval_run(
        "suite-x",
        None,
        1.0e9,
        1.0e9 + 5,
        None,
        None,
        {"passed": 1},
        [{"session_id": s.id, "case_id": "c1", "check_id": "no_tool_errors", "passed": False, "message": "2 tool errors"}],
    )
    st = ex.run([s])  # the session changed (a new eval result): sent again
    assert st.sessions == 1 and st.spans == before + 1
    evals = [sp for _, _, sp in receiver.spans() if sp.name == "evaluation no_tool_errors"]
    assert len(evals) == 1
    attrs = {kv.key: _value(kv.value) for kv in evals[0].attributes}
    assert attrs["gen_ai.evaluation.name"] == "no_tool_errors" and attrs["gen_ai.evaluation.score.label"] == "fail"
    assert attrs["gen_ai.evaluation.score.value"] == 0.0 and evals[0].status.code == 2
    assert evals[0].start_time_unix_nano == int((1.0e9 + 5) * 1e9)


def test_follow_ships_new_sessions_as_they_are_indexed(tmp_path, receiver):
    import threading

    from sessionlens.samples.generator import generate_corpus
    from tests.services.helpers import make_app

    logs = tmp_path / "logs"
    generate_corpus(logs / "a", seed=21, total_bytes=40_000)
    app = make_app(tmp_path / "home")
    app.settings.log_roots = [str(logs)]
    ex = OtlpExport(app, receiver.url)
    rounds = {"n": 0}

    def progress(st):
        rounds["n"] += 1

    stop = threading.Event()
    t = threading.Thread(target=lambda: ex.follow(interval=0.2, stop=stop.is_set, on_progress=progress), daemon=True)
    t.start()
    deadline = time.monotonic() + 60
    while not receiver.requests and time.monotonic() < deadline:
        time.sleep(0.1)
    first = {sp.trace_id for _, _, sp in receiver.spans()}
    assert first
    generate_corpus(logs / "b", seed=22, total_bytes=40_000)  # new sessions appear while following
    while len({sp.trace_id for _, _, sp in receiver.spans()}) <= len(first) and time.monotonic() < deadline:
        time.sleep(0.1)
    stop.set()
    t.join(10)
    assert len({sp.trace_id for _, _, sp in receiver.spans()}) > len(first)
    ids = [sp.span_id for _, _, sp in receiver.spans()]
    assert len(ids) == len(set(ids))  # nothing sent twice while following
    app.close()
