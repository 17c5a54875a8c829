"""Session-log documents (``*.jsonl``): outline, hover, go-to-definition, lenses, folding, diagnostics,
coach quick fixes; opening a log outside the indexed roots indexes it."""

from __future__ import annotations

from lsprotocol import types as T

from sessionlens.lsp import convert
from sessionlens.lsp.convert import path_to_uri
from sessionlens.lsp.core import DocumentProvider, Feature, SessionLensServer, publish
from sessionlens.lsp.features import coach
from sessionlens.lsp.features.indexing import request_index


class LogDocuments(DocumentProvider):
    """The fallback provider: any document no other feature claims is treated as a (possible) session log."""

    name = "logs"

    def matches(self, path: str) -> bool:
        return True

    async def did_open(self, ls: SessionLensServer, uri: str, path: str, version: int | None) -> None:
        if not await ls.run(lambda: ls.app.is_log_candidate(path, sniff=True)):
            return
        ls.extra_paths.add(path)
        if await ls.run(ls.app.is_indexed, path):
            await publish(ls, uri, version)
        request_index(ls, [path])

    async def did_change(self, ls: SessionLensServer, uri: str, path: str, version: int | None) -> None:
        return None  # a log changes on disk; the watcher/poller follows it

    async def did_save(self, ls: SessionLensServer, uri: str, path: str, version: int | None) -> None:
        if ls.app.is_log_candidate(path):
            request_index(ls, [path])
        elif path.endswith(".sessionlens.json"):  # e.g. "Disable this rule": the project's findings follow it
            request_index(ls, full=True)

    async def diagnostics(self, ls: SessionLensServer, path: str) -> list[T.Diagnostic] | None:
        diags = await ls.run(ls.app.diagnostics, path)
        return [convert.diagnostic(d) for d in diags]

    async def document_symbol(self, ls: SessionLensServer, path: str) -> list[T.DocumentSymbol] | None:
        # the symbols' JSON is built on the reader pool too (thousands of them for a huge log)
        syms = await ls.run(lambda: convert.outline_json(ls.app.outline(path)))
        return syms or None  # type: ignore[return-value]  # the JSON of list[T.DocumentSymbol]

    async def hover(self, ls: SessionLensServer, path: str, position: T.Position) -> T.Hover | None:
        md = await ls.run(ls.app.hover, path, position.line)
        if not md:
            return None
        line = position.line
        return T.Hover(
            contents=T.MarkupContent(kind=T.MarkupKind.Markdown, value=md),
            range=T.Range(start=T.Position(line=line, character=0), end=T.Position(line=line + 1, character=0)),
        )

    async def definition(self, ls: SessionLensServer, path: str, position: T.Position) -> list[T.Location] | None:
        targets = await ls.run(ls.app.definition, path, position.line)
        return [T.Location(uri=path_to_uri(p), range=convert.line_range(line, line, 0)) for p, line in targets] or None

    async def code_lens(self, ls: SessionLensServer, path: str) -> list[T.CodeLens] | None:
        lenses = await ls.run(ls.app.lenses, path)
        return [
            T.CodeLens(range=convert.line_range(line, line, 1), command=T.Command(title=title, command="")) for line, title in lenses
        ] or None

    async def folding(self, ls: SessionLensServer, path: str) -> list[T.FoldingRange] | None:
        ranges = await ls.run(ls.app.folding, path)
        return [T.FoldingRange(start_line=a, end_line=b, kind=T.FoldingRangeKind.Region) for a, b in ranges] or None

    async def code_action(self, ls: SessionLensServer, path: str, params: T.CodeActionParams) -> list[T.CodeAction] | None:
        return await coach.quick_fixes(ls, params)


PROVIDER = LogDocuments()
FEATURE = Feature("logs", documents=PROVIDER)
