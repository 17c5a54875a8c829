"""Conversions between service results and lsprotocol types."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from lsprotocol import types as T
from pygls.uris import from_fs_path, to_fs_path

from sessionlens.services.app import DiagnosticInfo, OutlineNode

SYMBOL_KIND = {
    "session": T.SymbolKind.Module,
    "turn": T.SymbolKind.Namespace,
    "tool": T.SymbolKind.Function,
    "patch": T.SymbolKind.File,
    "message": T.SymbolKind.String,
    "error": T.SymbolKind.Event,
    "compaction": T.SymbolKind.Package,
    "subagent": T.SymbolKind.Class,
    "result": T.SymbolKind.Variable,
}

SEVERITY = {
    "error": T.DiagnosticSeverity.Error,
    "warning": T.DiagnosticSeverity.Warning,
    "info": T.DiagnosticSeverity.Information,
    "information": T.DiagnosticSeverity.Information,
    "hint": T.DiagnosticSeverity.Hint,
}


def uri_to_path(uri: str) -> str | None:
    p = to_fs_path(uri)
    return str(Path(p).absolute()) if p else None


def path_to_uri(path: str) -> str:
    return from_fs_path(path) or Path(path).as_uri()


def line_range(start: int, end: int | None = None, end_len: int = 0) -> T.Range:
    end = start if end is None else end
    return T.Range(start=T.Position(line=max(start, 0), character=0), end=T.Position(line=max(end, 0), character=max(end_len, 0)))


def outline_to_symbols(nodes: list[OutlineNode]) -> list[T.DocumentSymbol]:
    out = []
    for n in nodes:
        start, end = n.start, max(n.end, n.start)
        rng = line_range(start, end, n.end_len if end > start else max(n.end_len, 1))
        sel = line_range(start, start, 1)
        children = outline_to_symbols(n.children)
        # a child must lie inside its parent
        for c in children:
            if c.range.end.line > rng.end.line:
                rng = T.Range(start=rng.start, end=c.range.end)
        out.append(
            T.DocumentSymbol(
                name=n.name or n.kind,
                detail=n.detail or None,
                kind=SYMBOL_KIND.get(n.kind, T.SymbolKind.Object),
                range=rng,
                selection_range=sel,
                children=children or None,
            )
        )
    return out


class SymbolsJson(list[dict[str, Any]]):
    """Document symbols as the JSON the protocol sends (``outline_json``): the server's converter passes
    them through as they are (``register_hooks``) instead of unstructuring thousands of attrs objects."""


def register_hooks(converter: Any) -> Any:
    """``converter`` (the protocol's cattrs converter) with the pass-through of ``SymbolsJson``."""
    converter.register_unstructure_hook(SymbolsJson, lambda x: x)
    return converter


def _pos(line: int, character: int) -> dict[str, int]:
    return {"line": max(line, 0), "character": max(character, 0)}


def _symbols_json(nodes: list[OutlineNode]) -> list[dict[str, Any]]:
    out = []
    kinds = SYMBOL_KIND
    other = T.SymbolKind.Object.value
    for n in nodes:
        start, end = n.start, max(n.end, n.start)
        rng_end = _pos(end, n.end_len if end > start else max(n.end_len, 1))
        children = _symbols_json(n.children) if n.children else None
        # a child must lie inside its parent
        if children:
            for c in children:
                ce = c["range"]["end"]
                if ce["line"] > rng_end["line"]:
                    rng_end = ce
        sym: dict[str, Any] = {
            "name": n.name or n.kind,
            "kind": kinds[n.kind].value if n.kind in kinds else other,
            "range": {"start": _pos(start, 0), "end": rng_end},
            "selectionRange": {"start": _pos(start, 0), "end": _pos(start, 1)},
        }
        if n.detail:
            sym["detail"] = n.detail
        if children:
            sym["children"] = children
        out.append(sym)
    return out


def outline_json(nodes: list[OutlineNode]) -> SymbolsJson:
    """``outline_to_symbols`` as the JSON sent (the same bytes), built directly: a 2 GB rollout's 5,400
    symbols took ~290 ms as lsprotocol objects unstructured by cattrs, ~40 ms this way."""
    return SymbolsJson(_symbols_json(nodes))


def diagnostic(d: DiagnosticInfo) -> T.Diagnostic:
    related = [
        T.DiagnosticRelatedInformation(
            location=T.Location(uri=path_to_uri(r["path"]), range=line_range(r["line"], r["line"], 1)),
            message=r.get("message") or "related",
        )
        for r in d.related
    ]
    return T.Diagnostic(
        range=T.Range(start=T.Position(line=d.line, character=0), end=T.Position(line=d.line, character=max(d.length, 1))),
        message=d.message,
        severity=SEVERITY.get(d.severity, T.DiagnosticSeverity.Warning),
        source=d.source,
        code=d.code,
        related_information=related or None,
        data=d.data or None,
    )
