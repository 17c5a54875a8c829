"""The LSP features, registered once by ``sessionlens.lsp.server.build_server`` from this one list.

Order matters for documents: the first feature whose provider ``matches`` a path handles it; the
session-log provider is last and takes everything else.  A feature module that fails to import
fails the server (no optional features).
"""

from __future__ import annotations

from sessionlens.lsp import documents
from sessionlens.lsp.core import Feature
from sessionlens.lsp.features import (
    blame,
    coach,
    evals,
    guidelines,
    hubs,
    indexing,
    lifecycle,
    logs,
    sessions,
    workspace_symbols,
)

FEATURES: tuple[Feature, ...] = (
    lifecycle.FEATURE,
    indexing.FEATURE,
    documents.FEATURE,
    guidelines.FEATURE,
    evals.FEATURE,
    blame.FEATURE,
    logs.FEATURE,
    workspace_symbols.FEATURE,
    sessions.FEATURE,
    hubs.FEATURE,
    coach.FEATURE,
)
