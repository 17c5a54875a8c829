"""Indexing: which agents sessionlens reads and where their logs live, and an index pass over
them (with the application's own telemetry around it).  The pass itself is ``indexer.Indexer``."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable
from typing import Any, TypedDict

from sessionlens.agents import registry as agent_registry
from sessionlens.ingest.discovery import default_roots
from sessionlens.services import selftrace
from sessionlens.services.base import Host
from sessionlens.services.indexer import Indexer, IndexStats, ProjectResolver

log = logging.getLogger(__name__)


class AgentInfo(TypedDict):
    name: str
    agent: str
    label: str
    source: str
    env: list[str]
    roots: list[str]
    globs: list[str]
    records_tokens: bool


def log_globs() -> list[str]:
    """Glob patterns of every agent's session sources (file watchers, the editor's document selector)."""
    return agent_registry.watch_globs()


def is_log_candidate(path: str, *, sniff: bool = False) -> bool:
    """Whether ``path`` could be a session source by its name (content decides when indexing);
    ``sniff``: also when its first bytes are some agent's (a file the user opened, whatever its name)."""
    if agent_registry.is_candidate(path):
        return True
    if not sniff or "#" in os.path.basename(path):
        return False
    try:
        with open(path, "rb") as f:
            head = f.read(64 * 1024)
    except OSError:
        return False
    return agent_registry.detect(path, head) is not None


def agents() -> list[AgentInfo]:
    """The registered agents: name, label, source kind, default log folders and their env overrides."""
    return [
        {
            "name": a.name,
            "agent": a.agent_name,
            "label": a.label,
            "source": a.source,
            "env": list(a.env_vars),
            "roots": [str(r.path) for r in a.default_roots()],
            "globs": list(a.file_patterns),
            "records_tokens": a.records_tokens,
        }
        for a in agent_registry.adapters()
    ]


class Indexing:
    def __init__(self, host: Host):
        self.host = host
        self.projects = ProjectResolver()
        self.coach_cache: dict[Any, Any] = {}

    def indexer(self) -> Indexer:
        h = self.host
        return Indexer(
            h.db(),
            h.search_index,
            prices=h.prices,
            coach_enabled=h.settings.coach.enabled,
            projects=self.projects,
            coach_cache=self.coach_cache,
        )

    def roots(self, extra: Iterable[str] = ()) -> list[str]:
        """The folders (and files) an index pass walks: the agents' home folders (unless turned off),
        the configured log roots, the workspace folders and ``extra``; existing ones, once each."""
        settings = self.host.settings
        roots: list[str] = []
        if settings.include_home_logs:
            roots += [str(r.path if hasattr(r, "path") else r) for r in default_roots()]
        roots += [os.path.expanduser(p) for p in settings.log_roots]
        roots += list(self.host.workspace_folders)
        roots += [os.path.expanduser(p) for p in extra]
        seen: set[str] = set()
        out: list[str] = []
        for r in roots:
            r = os.path.abspath(r)
            if r not in seen and os.path.exists(r):
                seen.add(r)
                out.append(r)
        return out

    def index(self, paths: Iterable[str] | None = None, **kw: Any) -> IndexStats:
        targets = [os.path.abspath(os.path.expanduser(p)) for p in paths] if paths else self.roots()
        t = selftrace.telemetry()
        if not t.enabled:
            return self.indexer().index(targets, **kw)
        with t.span("sessionlens.index", **{"sessionlens.roots": len(targets)}) as sp:
            st = self.indexer().index(targets, **kw)
            if sp is not None:
                for k in ("files_seen", "files_changed", "bytes_parsed", "events"):
                    sp.set_attribute(f"sessionlens.index.{k}", int(getattr(st, k)))
                if st.errors:
                    sp.set_attribute("sessionlens.index.errors", len(st.errors))
            log.info("index pass: %d changed of %d files, %d bytes", st.files_changed, st.files_seen, st.bytes_parsed)
        t.record("sessionlens.index.duration", st.seconds)
        t.add("sessionlens.index.bytes", st.bytes_parsed)
        t.add("sessionlens.index.files", st.files_changed)
        return st
