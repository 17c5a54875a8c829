"""What domain code (compliance, evals) needs from the application, as a protocol.

``sessionlens.services.app.App`` satisfies it; the domain packages type against this instead of
importing the services layer above them.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from sessionlens.store.db import Store

if TYPE_CHECKING:
    from sessionlens.models.store import StoredSession


class AppContext(Protocol):
    workspace_folders: list[str]
    api_key: str | None

    @property
    def settings(self) -> Any: ...

    @property
    def home(self) -> Path: ...

    def db(self) -> Store: ...

    def resolve_session(self, ref: str) -> StoredSession: ...

    def deep_link_for(self, session_id: str, seq: int | None = None) -> str: ...

    def index(self, paths: Iterable[str] | None = None, **kw: Any) -> Any: ...

    def close(self) -> None: ...
