"""The one API of sessionlens, used by the CLI, the language server and the web UI.

``App`` owns the store home, the shared search index and the indexer, and is a facade over the
capability services: ``sessions``, ``transcripts``, ``search_service``, ``documents``, ``costs``,
``findings_service``, ``indexing`` (one module each under ``services/``).  Its methods delegate;
new application code goes into a capability module, with at most a thin method here.

Store connections are per thread (APSW connections must not be shared), so every method may be
called from any thread; the language server calls them from worker threads, never its event loop.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from functools import cached_property
from typing import TYPE_CHECKING, Any

from sessionlens.services.links import IMPORT_PREFIX, LINK_SCHEME, deep_link_for, file_uri, inside_folders, is_imported
from sessionlens.store import NotFound, Store, iso, parse_time

if TYPE_CHECKING:
    from sessionlens.cost import PriceTable
    from sessionlens.models import Event
    from sessionlens.models.store import StoredFinding, StoredSession
    from sessionlens.search import SearchIndex
    from sessionlens.services.documents import DiagnosticInfo, Documents
    from sessionlens.services.findings import Findings, FindingTotals, RuleCount
    from sessionlens.services.indexer import Indexer, IndexStats, ProjectResolver
    from sessionlens.services.indexing import AgentInfo, Indexing
    from sessionlens.services.masking import FINDING_TEXT, SESSION_TEXT, mask_row
    from sessionlens.services.outline import OutlineNode
    from sessionlens.services.pricing import Costs, load_prices
    from sessionlens.services.render import html as render_html
    from sessionlens.services.search import Search
    from sessionlens.services.sessions import Sessions, TimelineRow
    from sessionlens.services.settings import AnySettings
    from sessionlens.services.transcripts import Transcripts

__all__ = [
    "App",
    "DiagnosticInfo",
    "FINDING_TEXT",
    "IMPORT_PREFIX",
    "LINK_SCHEME",
    "NotFound",
    "OutlineNode",
    "SESSION_TEXT",
    "file_uri",
    "inside_folders",
    "is_imported",
    "iso",
    "load_prices",
    "mask_row",
    "parse_time",
]

#: re-exported names whose modules load on first use (a CLI command imports only what it runs)
_LAZY = {
    "DiagnosticInfo": "sessionlens.services.documents",
    "OutlineNode": "sessionlens.services.outline",
    "FINDING_TEXT": "sessionlens.services.masking",
    "SESSION_TEXT": "sessionlens.services.masking",
    "mask_row": "sessionlens.services.masking",
    "load_prices": "sessionlens.services.pricing",
}


def __getattr__(name: str) -> Any:
    mod = _LAZY.get(name)
    if mod is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(mod), name)


class App:
    def __init__(self, settings: AnySettings | None = None):
        if settings is None:
            from sessionlens.services.settings import Settings

            settings = Settings()
        self.settings: AnySettings = settings
        self.home = self.settings.home
        self.home.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        self.workspace_folders: list[str] = []
        self.api_key: str | None = None

    # The shared state and the capability services are made on first use (each reads the state
    # above through this App): a command imports and opens only what it runs.
    @cached_property
    def _prices(self) -> tuple[PriceTable, list[str]]:
        from sessionlens.services.pricing import load_prices

        return load_prices(self.home)

    @cached_property
    def prices(self) -> PriceTable:
        return self._prices[0]

    @cached_property
    def config_errors(self) -> list[str]:
        return self._prices[1]

    @cached_property
    def search_index(self) -> SearchIndex:
        from sessionlens.search import SearchIndex

        return SearchIndex(self.home)

    @cached_property
    def indexing(self) -> Indexing:
        from sessionlens.services.indexing import Indexing

        return Indexing(self)

    @cached_property
    def sessions_service(self) -> Sessions:
        from sessionlens.services.sessions import Sessions

        return Sessions(self)

    @cached_property
    def transcripts(self) -> Transcripts:
        from sessionlens.services.transcripts import Transcripts

        return Transcripts(self.sessions_service)

    @cached_property
    def search_service(self) -> Search:
        from sessionlens.services.search import Search

        return Search(self)

    @cached_property
    def documents(self) -> Documents:
        from sessionlens.services.documents import Documents

        return Documents(self)

    @cached_property
    def costs(self) -> Costs:
        from sessionlens.services.pricing import Costs

        return Costs(self)

    @cached_property
    def findings_service(self) -> Findings:
        from sessionlens.services.findings import Findings

        return Findings(self, self.sessions_service)

    # ------------------------------------------------------------------ plumbing
    def db(self) -> Store:
        st: Store | None = getattr(self._local, "store", None)
        if st is None:
            st = Store(self.home)
            self._local.store = st
        return st

    def wait_merges(self) -> None:
        """Let a background merge of the search index finish (``Indexer.index(merge_in_background=...)``)."""
        search = self.__dict__.get("search_index")
        if search is not None:
            search.wait_merges()

    def close(self) -> None:
        self.wait_merges()
        st = getattr(self._local, "store", None)
        if st is not None:
            st.close()
            self._local.store = None

    @property
    def projects(self) -> ProjectResolver:
        return self.indexing.projects

    @property
    def _outline_cache(self) -> dict[str, Any]:
        return self.documents.outlines.entries

    # ------------------------------------------------------------------ indexing
    def indexer(self) -> Indexer:
        return self.indexing.indexer()

    def log_globs(self) -> list[str]:
        from sessionlens.services import indexing as indexing_mod

        return indexing_mod.log_globs()

    def is_log_candidate(self, path: str, *, sniff: bool = False) -> bool:
        from sessionlens.services import indexing as indexing_mod

        return indexing_mod.is_log_candidate(path, sniff=sniff)

    def agents(self) -> list[AgentInfo]:
        from sessionlens.services import indexing as indexing_mod

        return indexing_mod.agents()

    def roots(self, extra: Iterable[str] = ()) -> list[str]:
        return self.indexing.roots(extra)

    def index(self, paths: Iterable[str] | None = None, **kw: Any) -> IndexStats:
        return self.indexing.index(paths, **kw)

    def stats(self) -> dict[str, Any]:
        return self.sessions_service.stats()

    # ------------------------------------------------------------------ sessions
    def sessions(
        self,
        *,
        project: str | None = None,
        agent: str | None = None,
        since: Any = None,
        until: Any = None,
        limit: int = 100,
        workspace_only: bool | None = None,
        query: str | None = None,
        include_subagents: bool = True,
        has_findings: bool = False,
        sort: str = "started",
        descending: bool = True,
    ) -> list[dict[str, Any]]:
        return self.sessions_service.list(
            project=project,
            agent=agent,
            since=since,
            until=until,
            limit=limit,
            workspace_only=workspace_only,
            query=query,
            include_subagents=include_subagents,
            has_findings=has_findings,
            sort=sort,
            descending=descending,
        )

    def resolve_session(self, ref: str) -> StoredSession:
        return self.sessions_service.resolve(ref)

    def session_for_path(self, path: str) -> StoredSession | None:
        return self.sessions_service.for_path(path)

    def session_data(self, ref: str, *, redact: bool = True) -> render_html.SessionData:
        return self.sessions_service.data(ref, redact=redact)

    def timeline(self, ref: str, *, redact: bool = True) -> tuple[StoredSession, list[TimelineRow]]:
        return self.sessions_service.timeline(ref, redact=redact)

    # ------------------------------------------------------------------ transcripts
    def render_session(self, ref: str, *, redact: bool = True) -> tuple[str, str]:
        return self.transcripts.markdown(ref, redact=redact)

    def render_session_parts(self, ref: str, *, redact: bool = True) -> dict[str, Any]:
        return dict(self.transcripts.parts(ref, redact=redact))

    def render_turn_html(self, ref: str, turn: int, *, redact: bool = True) -> str:
        return self.transcripts.turn_html(ref, turn, redact=redact)

    def render_event_html(self, ref: str, seq: int, *, redact: bool = True) -> str:
        return self.transcripts.event_html(ref, seq, redact=redact)

    def render_session_html(self, ref: str, *, redact: bool = True, script: bool = True) -> str:
        return self.transcripts.page(ref, redact=redact, script=script)

    # ------------------------------------------------------------------ search
    def search(
        self,
        query: str,
        *,
        agent: str | None = None,
        project: str | None = None,
        kind: str | None = None,
        tool: str | None = None,
        session: str | None = None,
        model: str | None = None,
        since: Any = None,
        until: Any = None,
        limit: int = 20,
        offset: int = 0,
        workspace_only: bool | None = False,
        show_secrets: bool = False,
    ) -> dict[str, Any]:
        return dict(
            self.search_service.query(
                query,
                agent=agent,
                project=project,
                kind=kind,
                tool=tool,
                session=session,
                model=model,
                since=since,
                until=until,
                limit=limit,
                offset=offset,
                workspace_only=workspace_only,
                show_secrets=show_secrets,
            )
        )

    # ------------------------------------------------------------------ links
    @staticmethod
    def deep_link_for(session_id: str, seq: int | None = None) -> str:
        return deep_link_for(session_id, seq)

    def deep_link(self, path: str, line0: int) -> str:
        s = self.db().session_for_path(path)
        if s is None:
            raise NotFound(f"{path} is not an indexed session log")
        return deep_link_for(s.id, line0 + 1)

    def resolve_link(self, link: str) -> dict[str, Any]:
        return dict(self.sessions_service.resolve_link(link))

    # ------------------------------------------------------------------ cost
    def cost_report(
        self, by: str = "day", *, since: Any = None, until: Any = None, project: str | None = None, agent: str | None = None, tz: Any = None
    ) -> dict[str, Any]:
        return dict(self.costs.report(by, since=since, until=until, project=project, agent=agent, tz=tz))

    def reprice(self) -> int:
        return self.costs.reprice()

    def cost_chart_svg(
        self, *, by: str = "day", since: Any = None, until: Any = None, project: str | None = None, agent: str | None = None
    ) -> str:
        return self.costs.chart_svg(by=by, since=since, until=until, project=project, agent=agent)

    # ------------------------------------------------------------------ coach findings
    def findings(
        self, *, project: str | None = None, session: str | None = None, rule: str | None = None, limit: int = 10_000
    ) -> list[StoredFinding]:
        return self.findings_service.list(project=project, session=session, rule=rule, limit=limit)

    def finding_counts(self, project: str | None = None, rule: str | None = None, session: str | None = None) -> list[RuleCount]:
        return self.findings_service.counts(project, rule, session)

    def finding_totals(self, project: str | None = None, rule: str | None = None, session: str | None = None) -> FindingTotals:
        return self.findings_service.totals(project, rule, session)

    @staticmethod
    def coach_rules() -> dict[str, str]:
        from sessionlens.services.findings import coach_rules

        return coach_rules()

    # ------------------------------------------------------------------ document views (LSP)
    def is_indexed(self, path: str) -> bool:
        return self.documents.is_indexed(path)

    def outline(self, path: str) -> list[OutlineNode]:
        return self.documents.outline(path)

    def event_at(self, path: str, line0: int) -> tuple[StoredSession, Event] | None:
        return self.documents.event_at(path, line0)

    def hover(self, path: str, line0: int) -> str | None:
        return self.documents.hover(path, line0)

    def diagnostics(self, path: str) -> list[DiagnosticInfo]:
        return self.documents.diagnostics(path)

    def definition(self, path: str, line0: int) -> list[tuple[str, int]]:
        return self.documents.definition(path, line0)

    def lenses(self, path: str) -> list[tuple[int, str]]:
        return self.documents.lenses(path)

    def folding(self, path: str) -> list[tuple[int, int]]:
        return self.documents.folding(path)
