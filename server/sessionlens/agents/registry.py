"""The one registry of agents.  Every other place asks it: detection, dispatch, discovery roots,
``--agent`` choices, the eval schema's agent names, watched globs, instruction files, pricing.

Adding an agent: a package ``sessionlens/agents/<name>/`` exposing ``ADAPTER`` and one line in
``BUILTIN`` below (or :func:`register` at run time, as the toy-agent test does).
"""

from __future__ import annotations

import fnmatch
import importlib
import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from sessionlens.agents.paths import member_path
from sessionlens.models.lazy import lazy_logger, lazy_module

if TYPE_CHECKING:
    import sqlite3

    from sessionlens.agents import sniff
    from sessionlens.agents import sqlite as _sqlite
    from sessionlens.agents.base import AgentAdapter, Root
else:  # detection's and snapshots' modules, imported on first use: a read command asks only the facts
    sqlite3 = lazy_module("sqlite3")
    sniff = lazy_module("sessionlens.agents.sniff")
    _sqlite = lazy_module("sessionlens.agents.sqlite")

logger = lazy_logger(__name__)  # (logging imported on first use: models/lazy.py)

#: The built-in agents, by package (each exposes ``ADAPTER``, or ``ADAPTERS`` when it has several).
BUILTIN: tuple[str, ...] = (
    "sessionlens.agents.codex",
    "sessionlens.agents.claude",
    "sessionlens.agents.qwen",
    "sessionlens.agents.gemini",
    "sessionlens.agents.pi",
    "sessionlens.agents.cursor",
    "sessionlens.agents.copilot",
    "sessionlens.agents.opencode",
    "sessionlens.agents.opencode_go",
    "sessionlens.agents.crush",
)

#: Facts of the built-in agents that a read command asks for (``--agent`` values, whether an agent
#: records tokens), so it need not import every adapter and its parser to answer them; while no adapter
#: is loaded these answer, after that the adapters do (tests/agents/test_registry.py checks they agree).
BUILTIN_NAMES: tuple[str, ...] = ("codex", "claude", "qwen", "gemini", "pi", "cursor", "copilot", "opencode", "opencode-go", "crush")
BUILTIN_NO_TOKENS: frozenset[str] = frozenset({"cursor"})

_ADAPTERS: dict[str, AgentAdapter] = {}
_loaded = False
#: Bumped on every registration (caches keyed on the registry's content compare it).
generation = 0


def _load() -> None:
    global _loaded
    if _loaded:
        return
    _loaded = True
    for mod in BUILTIN:
        m = importlib.import_module(mod)
        for a in getattr(m, "ADAPTERS", None) or (m.ADAPTER,):
            register(a)


def register(adapter: AgentAdapter) -> AgentAdapter:
    """Add (or replace, by name) an agent."""
    global generation
    _load()
    _ADAPTERS[adapter.name] = adapter
    generation += 1
    return adapter


def unregister(name: str) -> None:
    global generation
    _load()
    _ADAPTERS.pop(name, None)
    generation += 1


def adapters() -> list[AgentAdapter]:
    """Every agent, in detection order (``priority``, then registration order)."""
    _load()
    return sorted(_ADAPTERS.values(), key=lambda a: a.priority)


def names() -> list[str]:
    """Agent names (the values of ``sessions.agent``), in registration order (layout variants, which
    report their agent's name, are not listed)."""
    _load()
    return list(dict.fromkeys(a.agent_name for a in _ADAPTERS.values()))


def records_tokens(agent: str | Any) -> bool:
    """False for an agent whose logs hold no token counts (Cursor); True for any other name."""
    key = getattr(agent, "value", agent)
    if not _loaded and key in BUILTIN_NAMES:
        return key not in BUILTIN_NO_TOKENS
    a = get(key)
    return a is None or a.records_tokens


def agent_names() -> list[str]:
    """:func:`names` without importing the adapters while only the built-in ones exist."""
    return list(BUILTIN_NAMES) if not _loaded else names()


def get(name: str | Any) -> AgentAdapter | None:
    """The adapter of that name, else the first adapter of the agent of that name."""
    _load()
    key = getattr(name, "value", name)
    hit = _ADAPTERS.get(key)
    if hit is None:
        hit = next((a for a in _ADAPTERS.values() if a.agent_name == key), None)
    return hit


def label(name: str) -> str:
    a = get(name)
    return a.label if a is not None else str(name)


# ---------------------------------------------------------------------- discovery
def default_roots(home: str | None = None, env: Mapping[str, str] | None = None) -> list[Root]:
    """Every agent's default log folders (env overrides honoured), deduplicated, in registry order."""
    out: list[Root] = []
    seen: set[str] = set()
    _load()
    for a in list(_ADAPTERS.values()):
        for r in a.default_roots(home, env):
            if r.path not in seen:
                seen.add(r.path)
                out.append(r)
    return out


def file_patterns() -> tuple[str, ...]:
    """Every file-name pattern some agent's sources match (fnmatch on the path)."""
    pats: list[str] = []
    for a in adapters():
        pats += a.file_patterns
    return tuple(dict.fromkeys(pats))


def watch_globs() -> list[str]:
    """Glob patterns for an editor's file watcher / document selector (``**/``-prefixed)."""
    out = []
    for p in file_patterns():
        g = p if p.startswith("*/") or p.startswith("**/") else "**/" + p
        g = g.replace("*/", "**/", 1) if g.startswith("*/") else g
        out.append(g)
    return list(dict.fromkeys(out))


_pattern_cache: tuple[int, tuple[tuple[str, ...], tuple[str, ...]]] | None = None


def _split_patterns() -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(suffixes ``*.x`` that need no fnmatch, the other patterns)."""
    global _pattern_cache
    if _pattern_cache is not None and _pattern_cache[0] == generation:
        return _pattern_cache[1]
    suffixes, others = [], []
    for p in file_patterns():
        if p.startswith("*.") and not any(c in p[2:] for c in "*?[/"):
            suffixes.append(p[1:])
        else:
            others.append(p)
    res = (tuple(suffixes), tuple(others))
    _pattern_cache = (generation, res)
    return res


def is_candidate(path: str, name: str | None = None) -> bool:
    """Whether discovery yields this file when walking a folder (content decides afterwards)."""
    name = name if name is not None else os.path.basename(path)
    suffixes, others = _split_patterns()
    if name.endswith(suffixes):
        return True
    for p in others:
        if "/" in p:
            if fnmatch.fnmatchcase(path, p):
                return True
        elif fnmatch.fnmatchcase(name, p):
            return True
    return False


def source_stat(path: str) -> tuple[int, int]:
    """``(size, mtime_ns)`` that changes whenever the source's content does: the file's own stat, over
    the ``-wal`` too for SQLite files, over the companions for directory sources.  Raises OSError."""
    st = os.stat(path)
    size, mtime = st.st_size, st.st_mtime_ns
    if os.path.exists(path + "-wal"):
        return _sqlite.stat_key(path)
    for a in adapters():
        if a.source != "directory" or a.companions is None:
            continue
        if not any(fnmatch.fnmatchcase(path, p) for p in a.file_patterns if "/" in p):
            continue
        try:
            files = a.companions(path)
        except OSError:
            files = []
        for f in files:  # a session spread over files changes when any of them does
            try:
                cst = os.stat(f)
            except OSError:
                continue
            size += cst.st_size + 1
            mtime = max(mtime, cst.st_mtime_ns)
        break
    for a in _with_companions():
        if a.source == "directory":
            continue  # above
        try:
            files = a.companions(path)  # type: ignore[misc]
        except Exception:
            files = []
        for c in files:
            try:
                mtime = max(mtime, os.stat(c).st_mtime_ns)
            except OSError:
                continue
    return size, mtime


def _with_companions() -> list[AgentAdapter]:
    return [a for a in adapters() if a.companions is not None]


def initial_state(adapter: AgentAdapter, path: str) -> Any:
    """The parser state of a first (whole) pass: ``None``, or one carrying what the companions hold."""
    if adapter.read_companions is None:
        return None
    from sessionlens.models.session import ParserState

    try:
        comp = adapter.read_companions(path)
    except Exception as e:  # an unreadable sidecar costs its facts only
        logger.debug("%s: companions unreadable: %s", path, e)
        comp = {}
    return ParserState(data={"companions": comp or {}})


# ---------------------------------------------------------------------- detection
def detect(path: str, head: bytes) -> AgentAdapter | None:
    """Which agent wrote this file, judged by its content (``path`` only for SQLite, which is opened,
    and for logging).  ``head`` is the start of the file; a cut-off last line is ignored.

    JSONL: the first 20 lines that decode (malformed lines before them do not count, see
    :func:`sniff.head_objects`; a first line cut off by the head's end offers its first members) are
    offered to every adapter with a ``classify_line`` (in priority order); a line that is JSON but
    not an object proves "not a session log".  Otherwise document adapters sniff the head, and SQLite files are opened (a
    private snapshot) and judged by their tables.
    """
    if _sqlite.is_sqlite(head):
        return _detect_sqlite(path)
    liners = [a for a in adapters() if a.classify_line is not None]
    for n, obj in sniff.head_objects(head):  # leading garbage skipped; a cut-off first line judged by its first members
        if not isinstance(obj, dict):
            if n <= 20:
                return None  # JSON that is no object among the first lines: no session log
            continue  # further down (past garbage), a stray value is garbage too
        for a in liners:
            try:
                if a.classify_line is not None and a.classify_line(obj):
                    return _accept(a, path)
            except Exception:  # a detector bug must not stop detection
                logger.debug("%s: classify_line of %s failed", path, a.name, exc_info=True)
    for a in adapters():
        if a.sniff_document is not None:
            try:
                if a.sniff_document(head):
                    return _accept(a, path)
            except Exception:
                logger.debug("%s: sniff_document of %s failed", path, a.name, exc_info=True)
    logger.debug("no session-log content at the start of %s", path)
    return None


def _accept(a: AgentAdapter, path: str) -> AgentAdapter | None:
    """``a`` unless its ``skip_if`` says the file is covered by another one (a richer twin)."""
    if a.skip_if is not None and path:
        try:
            reason = a.skip_if(path)
        except OSError:
            reason = None
        if reason:
            logger.debug("%s: skipped (%s)", path, reason)
            return None
    return a


def _detect_sqlite(path: str) -> AgentAdapter | None:
    cands = [a for a in adapters() if a.sniff_sqlite is not None]
    if not cands:
        return None
    try:
        with _sqlite.snapshot(path) as db:
            tables = _sqlite.tables(db)
            for a in cands:
                try:
                    if a.sniff_sqlite is not None and a.sniff_sqlite(tables) and (a.sniff_db is None or a.sniff_db(db)):
                        return a
                except sqlite3.Error:
                    logger.debug("%s: sniff_db of %s failed", path, a.name, exc_info=True)
    except Exception as e:  # not a readable database
        logger.debug("%s: cannot read as SQLite: %s", path, e)
    return None


@contextmanager
def open_source(adapter: AgentAdapter, path: str) -> Iterator[Any]:
    """What ``members`` / ``parse_member`` of a multi-session adapter read: a snapshot connection for
    ``sqlite`` sources, the anchor path for ``directory`` sources."""
    if adapter.source == "sqlite":
        with _sqlite.snapshot(path) as db:
            yield db
    else:
        yield path


__all__ = [
    "BUILTIN",
    "adapters",
    "default_roots",
    "detect",
    "file_patterns",
    "get",
    "is_candidate",
    "label",
    "member_path",
    "names",
    "open_source",
    "register",
    "source_stat",
    "unregister",
    "watch_globs",
]
