"""Where session logs live, and a fast walker that finds them.

``default_roots()`` asks every registered agent (:mod:`sessionlens.agents`) for its log folders
(each reads its own environment overrides, e.g. ``CODEX_HOME``, ``CLAUDE_CONFIG_DIR``,
``GEMINI_CLI_HOME``); ``discover()`` walks directories with ``os.scandir`` and yields the files
some agent's ``file_patterns`` match.  Neither fails on missing paths.
"""

from __future__ import annotations

import logging
import os
from typing import Iterable, Iterator

from sessionlens.agents import registry
from sessionlens.agents.base import Root

logger = logging.getLogger(__name__)

_SKIP_DIRS = frozenset({"node_modules", ".git", "tool-results"})
_SKIP_FILES = frozenset({"history.jsonl"})
_ZST = ".jsonl.zst"
_GZ = ".jsonl.gz"


def default_roots() -> list[Root]:
    """Every agent's standard log directories, in registry order (Codex ``sessions`` before
    ``archived_sessions``)."""
    return registry.default_roots()


def _is_log(name: str, path: str) -> bool:
    # a gzip-compressed JSONL log is read like any (its content decides which agent wrote it)
    return name not in _SKIP_FILES and (name.endswith(_GZ) or registry.is_candidate(path, name))


def is_log_path(path: str) -> bool:
    """Whether walking a folder would yield this file by its name and place (a file event's path):
    an agent's log name, not a prompt history, not under ``node_modules``, ``.git`` or ``tool-results``."""
    return not in_skipped_dir(path) and _is_log(os.path.basename(path), path)


def in_skipped_dir(path: str) -> bool:
    """Whether ``path`` lies under a folder the walk skips (``node_modules``, ``.git``, ``tool-results``)."""
    return not _SKIP_DIRS.isdisjoint(path.split(os.sep)[:-1])


def shown_path(path: str) -> str:
    """A path fit to show and store: undecodable bytes of a non-UTF-8 name as backslash escapes."""
    try:
        path.encode("utf-8")
        return path
    except UnicodeEncodeError:
        return os.fsencode(path).decode("utf-8", "backslashreplace")


def _utf8(name: str) -> bool:
    try:
        name.encode("utf-8")
        return True
    except UnicodeEncodeError:  # bytes the file system gave that are no UTF-8 (surrogate escapes)
        return False


def _walk(top: str, dirs: list[str] | None = None, skipped: list[tuple[str, str]] | None = None) -> Iterator[str]:
    stack = [top]
    while stack:
        d = stack.pop()
        if dirs is not None:
            dirs.append(d)
        try:
            with os.scandir(d) as it:
                entries = sorted(it, key=lambda e: e.name)
        except OSError as exc:
            logger.debug("cannot list %s: %s", d, exc)
            if skipped is not None:
                skipped.append((shown_path(d), f"unreadable folder: {exc.strerror or exc}"))
            continue
        names = {e.name for e in entries}
        subdirs: list[str] = []
        for e in entries:
            name = e.name
            try:
                if e.is_dir(follow_symlinks=False):
                    if name not in _SKIP_DIRS:
                        if not _utf8(name):
                            if skipped is not None:
                                skipped.append((shown_path(e.path), "folder name is not UTF-8: not read"))
                            continue
                        subdirs.append(e.path)
                    continue
                if not e.is_file():
                    continue
            except OSError:
                continue
            if not _is_log(name, e.path):
                continue
            if not _utf8(name):
                if skipped is not None:
                    skipped.append((shown_path(e.path), "file name is not UTF-8: not indexed"))
                continue
            if name.endswith(_ZST) and name[: -len(".zst")] in names:
                continue  # the plain file wins (Codex keeps both only transiently)
            yield e.path
        stack.extend(reversed(subdirs))


def discover(paths: Iterable[str], dirs: list[str] | None = None, skipped: list[tuple[str, str]] | None = None) -> Iterator[str]:
    """Yield every candidate session source under ``paths`` (files are yielded as-is): the files that
    match some agent's ``file_patterns`` (``*.jsonl``, ``*.jsonl.zst``, Gemini's ``session-*.json``...).

    Directories are walked recursively (skipping ``node_modules``, ``.git`` and Claude's
    ``tool-results``); ``history.jsonl`` prompt histories are skipped; when both ``x.jsonl`` and
    ``x.jsonl.zst`` exist only the plain file is yielded.  Missing paths are ignored; each file is
    yielded once.  ``dirs``, when given, receives every directory walked; ``skipped`` receives
    ``(path, reason)`` for what cannot be read (an unreadable folder, a name that is not UTF-8).
    """
    seen: set[str] = set()
    for p in paths:
        p = os.path.expanduser(p)
        if not _utf8(p):
            if skipped is not None:
                skipped.append((shown_path(p), "path is not UTF-8: not read"))
            continue
        if os.path.isdir(p):
            found: Iterable[str] = _walk(p, dirs, skipped)
        elif os.path.isfile(p):
            found = (p,) if os.path.basename(p) not in _SKIP_FILES else ()
        else:
            continue
        for f in found:
            if f not in seen:
                seen.add(f)
                yield f


__all__ = ["Root", "default_roots", "discover", "in_skipped_dir", "is_log_path"]
