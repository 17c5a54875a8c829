"""The document router: every ``textDocument/*`` request goes to the provider that handles the document.

Providers come from the features' ``documents`` (in ``FEATURES`` order; the session-log provider is
last and takes what no other claims).
"""

from __future__ import annotations

from lsprotocol import types as T

from sessionlens.lsp.convert import uri_to_path
from sessionlens.lsp.core import Feature, SessionLensServer, method, provider_for


@method(T.TEXT_DOCUMENT_DID_OPEN)
async def did_open(ls: SessionLensServer, params: T.DidOpenTextDocumentParams) -> None:
    path = uri_to_path(params.text_document.uri)
    prov = provider_for(ls, path)
    if path and prov is not None:
        await prov.did_open(ls, params.text_document.uri, path, params.text_document.version)


@method(T.TEXT_DOCUMENT_DID_SAVE)
async def did_save(ls: SessionLensServer, params: T.DidSaveTextDocumentParams) -> None:
    path = uri_to_path(params.text_document.uri)
    prov = provider_for(ls, path)
    if path and prov is not None:
        doc = ls.workspace.text_documents.get(params.text_document.uri)
        await prov.did_save(ls, params.text_document.uri, path, doc.version if doc else None)


@method(T.TEXT_DOCUMENT_DID_CHANGE)
async def did_change(ls: SessionLensServer, params: T.DidChangeTextDocumentParams) -> None:
    path = uri_to_path(params.text_document.uri)
    prov = provider_for(ls, path)
    if path and prov is not None:
        await prov.did_change(ls, params.text_document.uri, path, params.text_document.version)


@method(T.TEXT_DOCUMENT_DID_CLOSE)
def did_close(ls: SessionLensServer, params: T.DidCloseTextDocumentParams) -> None:
    path = uri_to_path(params.text_document.uri)
    if path:
        ls.extra_paths.discard(path)
    ls.text_document_publish_diagnostics(T.PublishDiagnosticsParams(uri=params.text_document.uri, diagnostics=[]))


@method(T.TEXT_DOCUMENT_DOCUMENT_SYMBOL)
async def document_symbol(ls: SessionLensServer, params: T.DocumentSymbolParams) -> list[T.DocumentSymbol] | None:
    path = uri_to_path(params.text_document.uri)
    prov = provider_for(ls, path)
    return await prov.document_symbol(ls, path) if path and prov else None


@method(T.TEXT_DOCUMENT_HOVER)
async def hover(ls: SessionLensServer, params: T.HoverParams) -> T.Hover | None:
    path = uri_to_path(params.text_document.uri)
    prov = provider_for(ls, path)
    return await prov.hover(ls, path, params.position) if path and prov else None


@method(T.TEXT_DOCUMENT_DEFINITION)
async def definition(ls: SessionLensServer, params: T.DefinitionParams) -> list[T.Location] | None:
    path = uri_to_path(params.text_document.uri)
    prov = provider_for(ls, path)
    return await prov.definition(ls, path, params.position) if path and prov else None


@method(T.TEXT_DOCUMENT_CODE_LENS)
async def code_lens(ls: SessionLensServer, params: T.CodeLensParams) -> list[T.CodeLens] | None:
    path = uri_to_path(params.text_document.uri)
    prov = provider_for(ls, path)
    return await prov.code_lens(ls, path) if path and prov else None


@method(T.TEXT_DOCUMENT_FOLDING_RANGE)
async def folding(ls: SessionLensServer, params: T.FoldingRangeParams) -> list[T.FoldingRange] | None:
    path = uri_to_path(params.text_document.uri)
    prov = provider_for(ls, path)
    return await prov.folding(ls, path) if path and prov else None


@method(T.TEXT_DOCUMENT_CODE_ACTION, T.CodeActionOptions(code_action_kinds=[T.CodeActionKind.QuickFix]))
async def code_action(ls: SessionLensServer, params: T.CodeActionParams) -> list[T.CodeAction] | None:
    path = uri_to_path(params.text_document.uri)
    prov = provider_for(ls, path)
    return await prov.code_action(ls, path, params) if path and prov else None


FEATURE = Feature(
    "documents",
    methods=(did_open, did_save, did_change, did_close, document_symbol, hover, definition, code_lens, folding, code_action),
)
