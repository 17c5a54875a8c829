"""Where a session lives: ``sessionlens://`` deep links, file URIs, imported sessions, workspace bounds."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TypedDict
from urllib.parse import parse_qs, quote, unquote, urlparse

from sessionlens.store import NotFound

LINK_SCHEME = "sessionlens"

#: the path of an imported session's file row: ``sessionlens-import:<session id>`` (no file on disk)
IMPORT_PREFIX = "sessionlens-import:"


class ResolvedLink(TypedDict):
    session_id: str
    seq: int | None
    path: str
    uri: str | None
    line: int  # the 1-based file line, as in search hits


def is_imported(path: str | None) -> bool:
    return bool(path) and str(path).startswith(IMPORT_PREFIX)


def file_uri(path: str | None) -> str | None:
    """``file://`` URI of a log on disk (None for an imported session, which has no file)."""
    return Path(path).as_uri() if path and os.path.isabs(path) else None


def deep_link_for(session_id: str, seq: int | None = None) -> str:
    link = f"{LINK_SCHEME}://session/{quote(session_id, safe='')}"
    return link + (f"?event={seq}" if seq is not None else "")


def parse_link(link: str) -> tuple[str, int | None]:
    """(session id or prefix, event number or None) of a ``sessionlens://session/<id>?event=<n>`` link."""
    u = urlparse(link.strip())
    if u.scheme != LINK_SCHEME or u.netloc != "session" or not u.path.strip("/"):
        raise NotFound(f"not a sessionlens link: {link!r} (expected {LINK_SCHEME}://session/<id>?event=<n>)")
    sid = unquote(u.path.strip("/"))
    q = parse_qs(u.query)
    seq = None
    if q.get("event"):
        try:
            seq = int(q["event"][0])
        except ValueError:
            raise NotFound(f"bad event number in {link!r}") from None
    return sid, seq


def inside_folders(path: str, folders: list[str]) -> bool:
    """True when ``path`` (resolved: ``..``, symlinks) lies inside one of ``folders`` (resolved)."""
    try:
        real = os.path.realpath(path)
        return any(os.path.commonpath([real, d]) == d for d in folders)
    except (ValueError, OSError):
        return False
