"""Session-log documents through the router, with a fake context (no pygls server, no stdio)."""

from __future__ import annotations

from lsprotocol import types as T
from pygls.protocol import default_converter

from sessionlens.lsp import convert, documents
from sessionlens.lsp.core import provider_for
from sessionlens.lsp.features import logs


def _doc(path) -> T.TextDocumentIdentifier:
    return T.TextDocumentIdentifier(uri=path.as_uri())


async def test_an_indexed_log_has_an_outline_rooted_at_its_session(ls, log_path):
    sent = await documents.document_symbol(ls, T.DocumentSymbolParams(text_document=_doc(log_path)))
    assert sent
    # sent as the JSON of the symbols (no lsprotocol objects): the same as the objects unstructured
    nodes = ls.app.outline(str(log_path))
    assert list(sent) == default_converter().unstructure(convert.outline_to_symbols(nodes))
    syms = default_converter().structure(list(sent), list[T.DocumentSymbol])
    assert syms[0].kind == T.SymbolKind.Module
    n_lines = len(log_path.read_text().splitlines())
    assert all(0 <= s.range.start.line <= s.range.end.line <= n_lines for s in syms)
    assert syms[0].children, "a session has turns"


async def test_hover_folding_and_lenses_come_from_the_indexed_events(ls, log_path):
    folds = await documents.folding(ls, T.FoldingRangeParams(text_document=_doc(log_path)))
    assert folds and all(f.start_line < f.end_line for f in folds)
    lenses = await documents.code_lens(ls, T.CodeLensParams(text_document=_doc(log_path)))
    assert lenses and all(lens.command and lens.command.title for lens in lenses)
    hovers = []
    for line in range(len(log_path.read_text().splitlines())):
        h = await documents.hover(ls, T.HoverParams(text_document=_doc(log_path), position=T.Position(line=line, character=0)))
        if h is not None:
            hovers.append((line, h))
    assert hovers, "some event has a hover"
    line, h = hovers[0]
    assert h.range.start.line == line and h.contents.kind == T.MarkupKind.Markdown and h.contents.value.strip()


async def test_a_file_that_is_not_indexed_answers_nothing(ls, tmp_path):
    other = tmp_path / "notes.jsonl"
    other.write_text('{"x": 1}\n')
    assert await documents.document_symbol(ls, T.DocumentSymbolParams(text_document=_doc(other))) is None
    assert await documents.code_lens(ls, T.CodeLensParams(text_document=_doc(other))) is None
    assert await documents.folding(ls, T.FoldingRangeParams(text_document=_doc(other))) is None


async def test_opening_a_log_queues_it_for_indexing_and_publishes_when_known(ls, log_path):
    await documents.did_open(
        ls, T.DidOpenTextDocumentParams(text_document=T.TextDocumentItem(uri=log_path.as_uri(), language_id="jsonl", version=3, text=""))
    )
    assert str(log_path) in ls.extra_paths and str(log_path) in ls.pending_paths
    assert ls.published and ls.published[-1].uri == log_path.as_uri() and ls.published[-1].version == 3
    documents.did_close(ls, T.DidCloseTextDocumentParams(text_document=_doc(log_path)))
    assert str(log_path) not in ls.extra_paths
    assert ls.published[-1].diagnostics == []


async def test_opening_a_non_log_file_does_nothing(ls, tmp_path):
    f = tmp_path / "README.txt"
    f.write_text("hi")
    await documents.did_open(
        ls, T.DidOpenTextDocumentParams(text_document=T.TextDocumentItem(uri=f.as_uri(), language_id="plaintext", version=1, text="hi"))
    )
    assert not ls.extra_paths and not ls.pending_paths and not ls.published


def test_the_log_provider_is_the_fallback_and_the_others_claim_their_files(ls, tmp_path):
    assert provider_for(ls, str(tmp_path / "x.jsonl")) is logs.PROVIDER
    assert provider_for(ls, str(tmp_path / "AGENTS.md")).name == "guidelines"
    assert provider_for(ls, str(tmp_path / "a.eval.json")).name == "evals"
    assert provider_for(ls, None) is None


async def test_diagnostics_of_a_log_carry_the_coach_source(ls, indexed):
    seen = []
    for p in indexed["logs"]:
        diags = await logs.PROVIDER.diagnostics(ls, str(p))
        seen.extend(diags)
    assert seen, "the generator seeds problems the coach reports"
    assert {d.source for d in seen} <= {"sessionlens-coach", "sessionlens", "sessionlens-parser"}
    assert any(d.source == "sessionlens-coach" and isinstance(d.data, dict) and "finding_id" in d.data for d in seen)
