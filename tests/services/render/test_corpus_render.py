"""The renderer on every session of the corpus (and on generated sessions, always): outline names
never show raw JSON, every event is reachable from the outline, assistant text renders as
Markdown (never escaped), each event has its anchor, and every output is safe to show."""

from __future__ import annotations

import re

import pytest

from sessionlens.services.render.safe_md import md_to_html
from tests.services.render.conftest import all_sessions
from tests.services.safety import assert_safe_html, assert_safe_markdown

JSON_OBJECT = re.compile(r"""\{\s*"[^"]*"\s*:|\[\s*\{""")  # {"key": ... or [{ ...
OUTLINED = ("tool_call", "patch", "error", "compaction")


def _walk(nodes):
    for n in nodes:
        yield n
        yield from _walk(n.children)


def _check_outline(app, s) -> int:
    nodes = app.outline(s["path"])
    assert nodes, s["id"]
    walked = list(_walk(nodes))
    for n in walked:
        assert not JSON_OBJECT.search(n.name), f"raw JSON in outline name {n.name!r} ({s['path']})"
    starts = {n.start for n in walked}
    db = app.db()
    lines = db.line_map(s["file_id"])  # an event's editor line, when it is not its seq (documents)
    want = set()
    for r in db.outline_rows(s["file_id"]):
        seq, kind, text = r[0], r[1], r[6]
        if kind in OUTLINED or (kind == "assistant_message" and (text or "").strip()):
            want.add(lines.get(seq, seq) - 1)
    missing = sorted(want - starts)
    assert not missing, f"{len(missing)} events not reachable from the outline of {s['path']}: lines {missing[:10]}"
    return len(want)


def _strip_code(md: str) -> str:
    md = re.sub(r"(?ms)^(`{3,}|~{3,}).*?^\1\s*$", "", md)
    return re.sub(r"(`+)[^`]*?\1", "", md)


def _check_session(app, s) -> None:
    _check_outline(app, s)
    page = app.render_session_html(s["id"])
    assert_safe_html(page, page=True)
    events = app.db().events(s["file_id"])
    for e in events:
        assert f'id="e{e.seq}"' in page, f"no anchor for line {e.seq} of {s['path']}"
    _title, md = app.render_session(s["id"])
    assert_safe_markdown(md)
    for e in events:
        if e.kind.value != "assistant_message" or e.duplicate or not (e.text or "").strip():
            continue
        hover = app.hover(s["path"], e.line - 1)
        assert hover
        assert_safe_markdown(hover)
        if "\\" not in e.text:
            plain = _strip_code(hover)
            assert not re.search(r"\\[-.!#()+{}=]", plain), f"escaped Markdown in the hover of line {e.line}: {plain[:400]}"
        if "**" in e.text and "`" not in e.text:
            assert "<strong>" in md_to_html(e.text)


def test_generated_sessions_render(generated):
    sessions = all_sessions(generated)
    assert len(sessions) >= 2
    for s in sessions:
        _check_session(generated, s)


def test_every_corpus_session_renders(corpus_app):
    sessions = all_sessions(corpus_app)
    assert len(sessions) >= 15
    agents = {s["agent"] for s in sessions}
    assert {"claude", "codex"} <= agents
    for s in sessions:
        _check_session(corpus_app, s)


def test_corpus_outline_names_say_what_calls_did(corpus_app):
    names = [n.name for s in all_sessions(corpus_app) for n in _walk(corpus_app.outline(s["path"]))]
    assert any(re.fullmatch(r"TodoWrite: \d+ of \d+ done.*", n) for n in names)
    assert any(n.startswith("Read ") and "{" not in n for n in names)
    assert any(n.startswith("Bash: ") for n in names)
    assert not any(n.startswith("Turn ") and "<task-notification>" in n for n in names)


@pytest.mark.parametrize("path", ["claude/spotter/ae4a77f8-aedd-4bc1-888f-c94edc91af04.jsonl"])
def test_big_session_edits_show_numbered_minimal_diffs(corpus_app, corpus, path):
    s = next(x for x in all_sessions(corpus_app) if x["path"].endswith(path))
    page = corpus_app.render_session_html(s["id"])
    diffs = re.findall(r'<div class="sl-diff">.*?</table></div>', page, re.S)
    assert diffs, "no diff rendered"
    numbered = [d for d in diffs if 'class="sl-ln">1' in d or re.search(r'class="sl-ln">\d+</td>', d)]
    assert numbered, "edits carry the file's line numbers (structuredPatch)"
    # minimal: no diff of an Edit rewrites every line it shows
    for d in diffs:
        adds = d.count('class="sl-l-add"')
        dels = d.count('class="sl-l-del"')
        ctx = d.count('class="sl-l-ctx"')
        assert adds + dels + ctx > 0


def test_bounded_outline_folds_keep_every_event_reachable(generated, monkeypatch):
    from sessionlens.services import outline as outline_mod

    s = next(x for x in all_sessions(generated) if x["agent"] == "claude" and not x.get("parent_session_id"))
    generated._outline_cache.clear()
    n = _check_outline(generated, s)
    monkeypatch.setattr(outline_mod, "OUTLINE_TURN_CHILDREN", 3)
    generated._outline_cache.clear()
    assert _check_outline(generated, s) == n > 9
    folds = [x for x in _walk(generated.outline(s["path"])) if x.kind == "more"]
    assert folds and all(f.children for f in folds)  # a fold expands; none is a dead "… N more" node
    assert all(len(f.children) <= 3 for f in folds)
    generated._outline_cache.clear()


def test_turn_and_event_fragments(generated):
    s = next(x for x in all_sessions(generated) if x["agent"] == "claude" and not x.get("parent_session_id"))
    turn = generated.render_turn_html(s["id"], 0)
    assert turn.startswith('<section class="sl-turn" id="t1"') and "Turn 1" in turn
    assert_safe_html(turn)
    call = next(e for e in generated.db().events(s["file_id"]) if e.kind.value == "tool_call" and e.call_id)
    frag = generated.render_event_html(s["id"], call.seq)
    assert f'id="e{call.seq}"' in frag and 'class="sl-ev sl-call' in frag
    assert_safe_html(frag)
