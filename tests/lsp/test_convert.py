"""The outline's symbols are sent as prebuilt JSON (``convert.outline_json``): the very JSON the
lsprotocol objects (``convert.outline_to_symbols``) unstructure to, passed through by the server's converter."""

from __future__ import annotations

import json

from pygls.protocol import default_converter

from sessionlens.lsp import convert
from sessionlens.lsp.server import build_server
from sessionlens.services.outline import OutlineNode


def _tree() -> list[OutlineNode]:
    child_past_end = OutlineNode(name="late", kind="tool", start=9, end=12, end_len=7, detail="✗ exit 1")
    return [
        OutlineNode(
            name="s",
            kind="session",
            start=0,
            end=10,
            end_len=3,
            detail="codex · 2 turns",
            children=[
                OutlineNode(name="", kind="turn", start=1, end=1, end_len=0, children=[child_past_end]),
                OutlineNode(name="odd", kind="no-such-kind", start=-1, end=-2),
                OutlineNode(name="… 3 more events", kind="more", start=4, end=8, end_len=2, children=[]),
            ],
        )
    ]


def test_outline_json_is_what_the_symbols_unstructure_to():
    nodes = _tree()
    want = default_converter().unstructure(convert.outline_to_symbols(nodes))
    got = convert.outline_json(nodes)
    assert list(got) == want
    assert json.dumps(got) == json.dumps(want)  # the same bytes, key order included
    assert got[0]["range"]["end"] == {"line": 12, "character": 7}  # a child past its parent's end widens it


def test_the_server_sends_the_json_as_it_is():
    ls = build_server()
    syms = convert.outline_json(_tree())
    assert ls.protocol._converter.unstructure(syms) is syms


def test_the_heap_left_by_a_full_pass_leaves_the_collector():
    import gc

    from sessionlens.lsp.features.indexing import settle_heap

    kept = [[i] for i in range(1000)]  # long-lived objects, as a full pass leaves them
    try:
        settle_heap()
        assert gc.get_freeze_count() >= len(kept)
    finally:
        gc.unfreeze()
