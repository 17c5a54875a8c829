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
