"""Hover finds the event shown at an editor line through the file's seq -> line map, read once per indexed
version of the file: a rewritten document is looked up in its new layout, never through a stale map."""

from __future__ import annotations

import json

from sessionlens.samples import agents as sample_agents
from tests.services.helpers import make_app


def _first_line_of(path, needle: str) -> int:
    return next(i for i, line in enumerate(path.read_text().splitlines()) if needle in line)


def test_hover_on_a_json_document_follows_a_rewrite(tmp_path):
    chats = tmp_path / ".gemini" / "tmp" / ("ab" * 32) / "chats"
    doc = chats / "session-2026-02-01T10-00-8a20078e.json"
    sample_agents.write_gemini_document(doc)
    app = make_app(tmp_path / "home")
    try:
        app.index([str(tmp_path / ".gemini")])
        text = doc.read_text()
        args_line = _first_line_of(doc, '"args"')
        md = app.hover(str(doc), args_line)
        assert md and "Tool call" in md, md

        # the CLI rewrites the document: a message in front moves every later line down
        data = json.loads(text)
        data["messages"].insert(0, {**data["messages"][0], "id": "inserted-0", "content": "an earlier question\n" * 3})
        doc.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n")
        app.index([str(tmp_path / ".gemini")])
        moved = _first_line_of(doc, '"args"')
        assert moved > args_line
        md2 = app.hover(str(doc), moved)
        assert md2 and "Tool call" in md2, md2
    finally:
        app.close()
