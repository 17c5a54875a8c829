"""``Store.event_rows``: a file's events as plain rows (``models.store.StoredEvent``), what
``sessionlens show``'s timeline reads so that it imports no pydantic (tests/test_cli_imports.py).

The rows must be the pydantic ``Event``s in all but their class: the same fields, defaults and
values; the redaction and the timeline's renderers give the same answers on either."""

from __future__ import annotations

import pytest

from sessionlens import models
from sessionlens.coach.redact import redact_event
from sessionlens.models import kinds, session
from sessionlens.models.store import StoredEvent, StoredProblem, StoredTokenUsage
from sessionlens.services.render import tools
from tests.services.helpers import make_app


def _defaults(cls) -> dict:
    out = {}
    for name, f in cls.model_fields.items():
        if f.is_required():
            continue
        factory = getattr(f, "default_factory", None)
        out[name] = factory() if factory is not None else f.default
    return out


@pytest.mark.parametrize(
    ("row", "model"),
    [(StoredEvent, session.Event), (StoredTokenUsage, session.TokenUsage), (StoredProblem, session.ParseProblem)],
)
def test_a_plain_row_has_its_models_fields_in_order_with_the_same_defaults(row, model):
    assert list(row.model_fields) == list(model.model_fields)
    assert [n for n, f in row.model_fields.items() if f.is_required()] == [n for n, f in model.model_fields.items() if f.is_required()]
    assert _defaults(row) == _defaults(model)


def test_the_enums_are_the_same_objects_wherever_they_are_imported_from():
    assert session.EventKind is kinds.EventKind is models.EventKind
    assert session.Agent is kinds.Agent is models.Agent
    assert session.Event.model_fields["kind"].annotation is kinds.EventKind


def test_a_usage_row_adds_and_totals_as_the_model():
    a = dict(input_tokens=3, cache_read_tokens=5, cache_write_5m_tokens=7, cache_write_1h_tokens=11, output_tokens=13, reasoning_tokens=2)
    b = dict(input_tokens=1, cache_read_tokens=1, cache_write_5m_tokens=0, cache_write_1h_tokens=4, output_tokens=6, reasoning_tokens=1)
    row, model = StoredTokenUsage(**a), session.TokenUsage(**a)
    assert (row.prompt_tokens, row.total_tokens) == (model.prompt_tokens, model.total_tokens) == (26, 39)
    total = row.add(StoredTokenUsage(**b))
    assert isinstance(total, StoredTokenUsage)
    assert total.model_dump() == model.add(session.TokenUsage(**b)).model_dump()


@pytest.fixture(scope="module")
def app(sample_logs, tmp_path_factory):
    a = make_app(tmp_path_factory.mktemp("event-rows") / "home")
    a.index([str(sample_logs)])
    yield a
    a.close()


def _file_ids(app) -> list[int]:
    return [r[0] for r in app.db().conn.execute("SELECT id FROM files WHERE status='ok' ORDER BY id")]


def test_event_rows_are_the_events_as_plain_rows(app):
    db = app.db()
    seen_usage = seen_extra = 0
    for fid in _file_ids(app):
        events, rows = db.events(fid), db.event_rows(fid)
        assert rows and len(rows) == len(events)
        assert all(type(r) is StoredEvent for r in rows)
        assert [r.model_dump() for r in rows] == [e.model_dump() for e in events]
        for r, e in zip(rows, events):
            assert r.kind is e.kind and type(r.timestamp) is type(e.timestamp)
            if r.usage is not None:
                seen_usage += 1
                assert type(r.usage) is StoredTokenUsage and r.usage.total_tokens == e.usage.total_tokens
            seen_extra += bool(r.extra)
    assert seen_usage and seen_extra


def test_redaction_and_the_timeline_labels_are_the_same_on_rows_and_models(app):
    db = app.db()
    redacted = 0
    for fid in _file_ids(app):
        for r, e in zip(db.event_rows(fid), db.events(fid)):
            rr, re_ = redact_event(r), redact_event(e)
            assert type(rr) is StoredEvent
            assert rr.model_dump() == re_.model_dump()
            redacted += rr is not r
            assert tools.one_line(rr, 110, cwd="/home/dev") == tools.one_line(re_, 110, cwd="/home/dev")
            assert tools.KIND_LABEL.get(r.kind) == tools.KIND_LABEL.get(e.kind)
    assert redacted, "the sample logs carry a planted secret: some event must be redacted"


def test_problems_are_plain_rows_dumped_as_the_parse_problems_were(app, tmp_path):
    log = tmp_path / "broken.jsonl"
    good = '{"type":"session_meta","timestamp":"2026-03-02T09:00:00.000Z","payload":{"id":"0199aaaa-bbbb-7ccc-8ddd-eeeeeeeeeeee","cwd":"/tmp","originator":"codex_cli_rs","cli_version":"0.1"}}'
    log.write_text(good + "\n{not json\n")
    app.index([str(log)])
    row = app.db().file_row(str(log))
    assert row is not None
    probs = app.db().problems(row.id)
    assert probs and all(type(p) is StoredProblem for p in probs)
    p = probs[0]
    model = session.ParseProblem(line=p.line, offset=p.offset, message=p.message, severity=p.severity)
    assert p.model_dump() == model.model_dump() and list(p.model_dump()) == ["line", "offset", "message", "severity"]
    assert p.line == 2
