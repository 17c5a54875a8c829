"""What of an event the search index holds: a long tool output by its head and its tail."""

from sessionlens.search.index import RESULT_HEAD, RESULT_TAIL, _doc_text


def test_long_tool_output_keeps_head_and_tail():
    out = "start-marker " + "filler " * 1000 + "middle-marker " + "filler " * 1000 + "AssertionError: boom"
    body = _doc_text("tool_result", "exec_command", None, out, None)
    assert body.startswith("start-marker") and body.endswith("AssertionError: boom")
    assert "middle-marker" not in body
    assert len(body) <= RESULT_HEAD + RESULT_TAIL + 1


def test_short_outputs_and_other_kinds_are_whole():
    assert _doc_text("tool_result", None, "pytest -q", "3 passed", None) == "pytest -q\n3 passed"
    msg = "x" * 5000 + " tail-word"
    assert _doc_text("assistant_message", None, None, msg, None).endswith("tail-word")


def test_the_store_trims_texts_like_the_index(tmp_path):
    """Texts read for the index arrive trimmed by SQLite; the document text is the same as from the
    whole text (multi-byte characters included)."""
    from sessionlens.search.index import DEFAULT_MAX_TEXT, MAX_TEXT
    from sessionlens.store import Store

    st = Store(tmp_path)
    texts = {
        "tool_result": ["é" * 999 + "start " + "ü-filler " * 900 + "ending ✓", "short ✓", "x" * 1400, "y" * 1401],
        "assistant_message": ["a" * 7000 + " end", "ok"],
        "patch": ["p" * 5000],
    }
    rows, seq = [], 0
    with st.conn:
        fid = st.ensure_file(str(tmp_path / "f.jsonl"))
        for kind, items in texts.items():
            for t in items:
                seq += 1
                rows.append(
                    (fid, seq, "s", 0, 1, None, kind, None, None, None, None, None, None, 0, None, t, None, None, None, 0, None, None, None)
                )
        st.conn.executemany(
            "INSERT INTO events(file_id, seq, session_id, offset, length, ts, kind, subtype, turn, tool, call_id, "
            "command, exit_code, is_error, duration_ms, text, files, model, usage_key, flags, agent_id, "
            "parent_call_id, data) VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            rows,
        )
    whole = {r[1]: r for r in rows}
    got = list(st.searchable_events(fid, 0, (), clip=(RESULT_HEAD, RESULT_TAIL, max(DEFAULT_MAX_TEXT, *MAX_TEXT.values()))))
    assert len(got) == len(rows)
    for seq, _sid, _ts, kind, tool, _model, command, text, files, _flags in got:
        full = whole[seq][15]
        assert _doc_text(kind, tool, command, text, files) == _doc_text(kind, tool, command, full, files), (kind, seq)
