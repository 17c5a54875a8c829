"""``workspace/symbol``: full-text search over every indexed session."""

from __future__ import annotations

from lsprotocol import types as T

from sessionlens.lsp import convert
from sessionlens.lsp.core import Feature, SessionLensServer, method


@method(T.WORKSPACE_SYMBOL)
async def workspace_symbol(ls: SessionLensServer, params: T.WorkspaceSymbolParams) -> list[T.SymbolInformation]:
    q = (params.query or "").strip()
    if not q:
        return []
    res = await ls.run(ls.app.search, q, limit=50, workspace_only=None)
    out = []
    for h in res["hits"]:
        if not h.get("uri"):
            continue
        name = " ".join((h["snippet"] or h["kind"]).split())[:100]
        out.append(
            T.SymbolInformation(
                name=name,
                kind=convert.SYMBOL_KIND.get({"tool_call": "tool", "patch": "patch"}.get(h["kind"], "message"), T.SymbolKind.String),
                location=T.Location(uri=h["uri"], range=convert.line_range(h["line"] - 1, h["line"] - 1, 1)),
                container_name=f"{h['agent']} · {h.get('project_name') or '-'} · {(h.get('title') or h['session_id'])[:40]}",
            )
        )
    return out


FEATURE = Feature("workspace_symbols", methods=(workspace_symbol,))
