"""Source paths: a session inside a container (``/x/opencode.db#ses_123``) and whether a session's
source is still there.  Apart from :mod:`sessionlens.agents.base` (which re-exports them) so that a
listing asks them without importing the adapter contract (its dataclasses) or the registry."""

from __future__ import annotations

import os

#: Separator between a container's path and a member key in a member source's path.
MEMBER_SEP = "#"


def member_path(container: str, key: str) -> str:
    """The source path of one session inside a container (``/x/opencode.db#ses_123``)."""
    return f"{container}{MEMBER_SEP}{key}"


def split_member(path: str) -> tuple[str, str | None]:
    """``(container, key)`` for a member path, ``(path, None)`` for a plain file."""
    if MEMBER_SEP in path and not os.path.exists(path):
        container, _, key = path.rpartition(MEMBER_SEP)
        if os.path.exists(container):
            return container, key
    return path, None


def source_exists(path: str | None) -> bool:
    """Whether a session's source is still there: a plain file, or the container (database, storage
    tree) of a member path (``/x/opencode.db#ses_123`` exists while ``/x/opencode.db`` does)."""
    if not path:
        return False
    return os.path.exists(path) or os.path.exists(split_member(path)[0])
