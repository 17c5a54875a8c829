"""The GenAI span mapping: structure, deterministic ids, exact token sums, redaction, content opt-in."""

from __future__ import annotations

from collections import Counter

import pytest

from sessionlens.coach.redact import find_secrets
from sessionlens.services.otlp import OtlpExport
from sessionlens.telemetry.genai import STATUS_ERROR, session_spans, span_id_for, trace_id_for


def _all(app, **kw):
    ex = OtlpExport(app, "http://127.0.0.1:9/", **kw)
    return ex, [(s, ex.spans_for(s)) for s in ex.select()]


def _check_tree(spans):
    ids = [s.span_id for s in spans]
    assert len(ids) == len(set(ids)), "span ids are unique within a session's trace"
    roots = [s for s in spans if s.parent_span_id is None]
    assert len(roots) == 1 and roots[0].attributes["gen_ai.operation.name"] == "invoke_agent"
    known = set(ids)
    for s in spans:
        assert len(s.trace_id) == 16 and len(s.span_id) == 8 and any(s.trace_id) and any(s.span_id)
        assert s.trace_id == roots[0].trace_id
        assert s.parent_span_id is None or s.parent_span_id in known
        assert s.end_ns >= s.start_ns > 0
    by_id = {s.span_id: s for s in spans}
    for s in spans:  # every chain of parents ends at the root: no loop (backends walk it)
        seen, cur = set(), s
        while cur.parent_span_id is not None:
            assert cur.span_id not in seen, f"parent loop through {s.name}"
            seen.add(cur.span_id)
            cur = by_id[cur.parent_span_id]
        assert cur is roots[0]
    return roots[0]


@pytest.mark.parametrize("which", ["generated_app", "corpus_app"])
def test_every_session_maps_to_a_well_formed_trace_with_the_stores_exact_tokens(request, which):
    app = request.getfixturevalue(which)
    _, pairs = _all(app)
    assert pairs
    for s, spans in pairs:
        root = _check_tree(spans)
        assert root.attributes["gen_ai.conversation.id"] == s.id
        ids = [s.id, *[c.id for c in app.db().subagent_sessions(s.id)]]
        t = app.db().session_totals(ids)
        chats = [x for x in spans if x.attributes.get("gen_ai.operation.name") == "chat"]
        assert len(chats) == t.requests
        assert sum(x.attributes["gen_ai.usage.input_tokens"] for x in chats) == (
            t.input + t.cache_read + t.cache_write_5m + t.cache_write_1h
        )
        assert sum(x.attributes["gen_ai.usage.output_tokens"] for x in chats) == t.output
        assert sum(x.attributes["gen_ai.usage.cache_read.input_tokens"] for x in chats) == t.cache_read
        assert sum(x.attributes["gen_ai.usage.reasoning.output_tokens"] for x in chats) == t.reasoning


def test_tool_calls_become_execute_tool_spans_paired_with_their_results(corpus_app):
    _, pairs = _all(corpus_app)
    n_tools = 0
    for _s, spans in pairs:
        tools = [x for x in spans if x.attributes.get("gen_ai.operation.name") == "execute_tool"]
        n_tools += len(tools)
        for x in tools:
            assert x.name == f"execute_tool {x.attributes['gen_ai.tool.name']}"
            assert x.attributes["openinference.span.kind"] == "TOOL"
            if x.attributes.get("process.exit.code") not in (None, 0):
                assert x.status_code == STATUS_ERROR
    assert n_tools > 100


def test_subagents_nest_under_the_call_that_started_them(corpus_app):
    sid = "ae4a77f8-aedd-4bc1-888f-c94edc91af04"
    ex = OtlpExport(corpus_app, "http://127.0.0.1:9/")
    spans = ex.spans_for(corpus_app.resolve_session(sid))
    agents = [x for x in spans if x.attributes.get("gen_ai.operation.name") == "invoke_agent"]
    assert len(agents) == 1 + len(corpus_app.db().subagent_sessions(sid)) >= 2
    by_id = {x.span_id: x for x in spans}
    for a in agents[1:]:
        parent = by_id[a.parent_span_id]
        assert parent.attributes["gen_ai.operation.name"] in ("execute_tool", "invoke_agent")
    # a sub-agent started by a Task/Agent call hangs under that call
    assert any(by_id[a.parent_span_id].attributes.get("gen_ai.operation.name") == "execute_tool" for a in agents[1:])


def test_ids_are_deterministic(corpus_app):
    ex = OtlpExport(corpus_app, "http://127.0.0.1:9/")
    s = ex.select()[0]
    a, b = ex.spans_for(s), ex.spans_for(s)
    assert [x.span_id for x in a] == [x.span_id for x in b]
    assert a[0].trace_id == trace_id_for(s.id) and a[0].span_id == span_id_for(s.id, "session")
    assert trace_id_for("a") != trace_id_for("b")


def test_content_is_opt_in_and_always_redacted(generated_app):
    _, plain = _all(generated_app)
    keys = {k for _, spans in plain for x in spans for k in x.attributes}
    assert not keys & {"gen_ai.tool.call.arguments", "gen_ai.tool.call.result", "input.value", "output.value", "sessionlens.prompt"}
    _, rich = _all(generated_app, content=True)
    values = [v for _, spans in rich for x in spans for v in x.attributes.values() if isinstance(v, str)]
    values += [v for _, spans in rich for x in spans for ev in x.events for v in ev.attributes.values() if isinstance(v, str)]
    assert any(k == "gen_ai.tool.call.arguments" for _, spans in rich for x in spans for k in x.attributes)
    # the generated corpus plants secrets (the coach finds them); none survives into any attribute
    planted = [f for f in generated_app.findings() if f.rule_id.startswith("secret")]
    assert planted, "the generated corpus carries planted secrets"
    leaks = [v for v in values if find_secrets(v)]
    assert leaks == []


def test_findings_are_span_events(generated_app):
    _, pairs = _all(generated_app)
    counts = Counter()
    for s, spans in pairs:
        n = len(generated_app.db().findings(session_id=s.id))
        evs = [e for e in spans[0].events if e.name == "sessionlens.coach.finding"]
        assert len(evs) == n
        counts["findings"] += n
    assert counts["findings"] > 0


def test_session_spans_accepts_a_view_without_timestamps():
    from sessionlens.models.session import Event, EventKind
    from sessionlens.telemetry.genai import SessionView, UsageRow

    view = SessionView(
        session={"id": "x", "agent": "claude"},
        events=[Event(seq=1, line=1, offset=0, kind=EventKind.TOOL_CALL, tool="Bash", call_id="c1")],
        usage=[UsageRow("k", 1, None, None, input=5, output=2)],
    )
    spans = session_spans(view)
    assert [x.attributes["gen_ai.operation.name"] for x in spans] == ["invoke_agent", "execute_tool", "chat"]
