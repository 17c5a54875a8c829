"""What the capability services (sessions, search, documents, ...) need of the application.

``sessionlens.services.app.App`` satisfies ``Host``; a service holds its host and reads the
host's mutable state (workspace folders, prices) through it, never a copy.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from sessionlens.cost import PriceTable
    from sessionlens.search import SearchIndex
    from sessionlens.services.settings import AnySettings
    from sessionlens.store import Store


class Host(Protocol):
    settings: AnySettings
    home: Path
    workspace_folders: list[str]

    @property
    def search_index(self) -> SearchIndex: ...  # made on first use

    @property
    def prices(self) -> PriceTable: ...

    def db(self) -> Store: ...


def workspace_scope(host: Host, workspace_only: bool | None) -> list[str]:
    """The folders a listing is limited to: the open workspace folders when ``workspace_only``
    (None: as the ``homeLogsScope`` setting says), else none (every session)."""
    if workspace_only is None:
        workspace_only = host.settings.home_logs_scope == "workspace"
    return list(host.workspace_folders) if workspace_only and host.workspace_folders else []
