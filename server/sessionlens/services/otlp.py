"""Export sessions as OpenTelemetry GenAI traces over OTLP/HTTP (protobuf).

``OtlpExport(app, endpoint).run(...)`` selects sessions from the store, maps each (with its sub-agents) to
spans (:mod:`sessionlens.telemetry.genai`), redacts every text first (always), encodes the batch and POSTs it.
What an endpoint has received is recorded per session in the store, so a repeated or interrupted export
sends only sessions that are new or changed since; the span ids are deterministic, so sending one again
never duplicates it in a backend that de-duplicates by id.  ``follow`` repeats that as new events are indexed.
"""

from __future__ import annotations

import logging
import os
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable

from sessionlens import __version__
from sessionlens.coach.redact import redact
from sessionlens.services.app import App, parse_time
from sessionlens.store import telemetry as marks
from sessionlens.telemetry import otlp
from sessionlens.telemetry.genai import Options, SessionView, SpanRecord, UsageRow, evaluation_spans, session_spans

if TYPE_CHECKING:
    from sessionlens.models.store import StoredSession

log = logging.getLogger(__name__)


class ExportError(RuntimeError):
    pass


@dataclass
class ExportStats:
    endpoint: str
    sessions: int = 0  # sessions sent in this run
    unchanged: int = 0  # skipped: the endpoint already has them as they are
    spans: int = 0
    requests: int = 0
    bytes: int = 0
    seconds: float = 0.0
    errors: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "endpoint": self.endpoint,
            "sessions": self.sessions,
            "unchanged": self.unchanged,
            "spans": self.spans,
            "requests": self.requests,
            "bytes": self.bytes,
            "seconds": round(self.seconds, 3),
            "errors": self.errors,
        }


def _post(url: str, body: bytes, headers: dict[str, str], timeout: float) -> None:
    req = urllib.request.Request(url, data=body, method="POST", headers={**headers, "Content-Type": "application/x-protobuf"})
    delay = 0.5
    for attempt in range(5):
        try:
            with urllib.request.urlopen(req, timeout=timeout) as r:  # noqa: S310 - the user's endpoint
                r.read()
            return
        except urllib.error.HTTPError as e:
            if e.code in (429, 502, 503, 504) and attempt < 4:
                time.sleep(delay)
                delay *= 2
                continue
            raise ExportError(f"{url}: HTTP {e.code} {e.reason}") from e
        except (urllib.error.URLError, OSError) as e:
            if attempt < 4:
                time.sleep(delay)
                delay *= 2
                continue
            raise ExportError(f"{url}: {getattr(e, 'reason', e)}") from e


class OtlpExport:
    def __init__(
        self,
        app: App,
        endpoint: str | None = None,
        *,
        headers: dict[str, str] | None = None,
        content: bool = False,
        openinference: bool = True,
        project_name: str = "sessionlens",
        batch_spans: int = 2000,
        timeout: float = 30.0,
        post: Callable[[str, bytes, dict[str, str], float], None] | None = None,
    ):
        self.app = app
        self.url = otlp.traces_endpoint(endpoint)
        self.headers = {**otlp.headers_from_env(), **(headers or {})}
        self.opts = Options(content=content, openinference=openinference, redact=redact)
        self.resource = {"service.name": "sessionlens", "service.version": __version__, "openinference.project.name": project_name}
        self.batch_spans = max(1, batch_spans)
        self.timeout = timeout
        self._post = post or _post

    # ------------------------------------------------------------------ building
    def view(self, s: StoredSession, *, depth: int = 0) -> SessionView:
        db = self.app.db()
        events = db.events(s.file_id)
        usage = [
            UsageRow(
                u.key, u.seq, u.ts, u.model, u.input, u.cache_read, u.cache_write_5m, u.cache_write_1h, u.output, u.reasoning, u.cost_usd
            )
            for u in db.usage_rows(s.id)
        ]
        children = [] if depth > 4 else [self.view(c, depth=depth + 1) for c in db.subagent_sessions(s.id)]
        fallback = None
        try:
            fallback = os.stat(s.path.split("#", 1)[0]).st_mtime_ns
        except OSError:
            fallback = time.time_ns()
        return SessionView(  # the mapping reads JSON-shaped rows (``telemetry.genai``)
            session=s.model_dump(),
            events=events,
            usage=usage,
            findings=[f.model_dump() for f in db.findings(session_id=s.id)],
            children=children,
            fallback_ns=fallback,
        )

    def spans_for(self, s: StoredSession) -> list[SpanRecord]:
        spans = session_spans(self.view(s), self.opts)
        for r in marks.eval_results(self.app.db(), s.id):  # eval results as gen_ai.evaluation spans
            spans += evaluation_spans(s.id, [r.model_dump()], time_ns=int((r.finished_at or 0) * 1e9) or spans[0].end_ns)
        return spans

    def select(
        self,
        *,
        session: str | None = None,
        project: str | None = None,
        agent: str | None = None,
        since: str | None = None,
        until: str | None = None,
        limit: int = 1_000_000,
    ) -> Sequence[StoredSession]:
        db = self.app.db()
        if session:
            return [self.app.resolve_session(session)]
        return db.list_sessions(
            project=project, agent=agent, since=parse_time(since), until=parse_time(until, end=True), limit=limit, include_subagents=False
        )

    def _fingerprint(self, s: StoredSession) -> str:
        db = self.app.db()
        parts = [marks.fingerprint(db, s.id, s.file_id)]
        parts += [marks.fingerprint(db, c.id, c.file_id) for c in db.subagent_sessions(s.id)]
        return "|".join(parts)

    # ------------------------------------------------------------------ sending
    def run(self, sessions: Sequence[StoredSession], *, resume: bool = True, on_progress=None) -> ExportStats:
        t0 = time.perf_counter()
        st = ExportStats(self.url)
        db = self.app.db()
        sent = marks.export_marks(db, self.url) if resume else {}
        batch: list[SpanRecord] = []
        pending: list[tuple[str, str, int]] = []

        def flush() -> None:
            if not batch:
                return
            body = otlp.encode(batch, self.resource, version=__version__)
            self._post(self.url, body, self.headers, self.timeout)
            st.requests += 1
            st.bytes += len(body)
            st.spans += len(batch)
            marks.mark_exported(db, self.url, pending)  # only after the backend accepted the batch
            st.sessions += len(pending)
            batch.clear()
            pending.clear()
            if on_progress:
                on_progress(st)

        for s in sessions:
            fp = self._fingerprint(s)
            if resume and sent.get(s.id) == fp:
                st.unchanged += 1
                continue
            spans = self.spans_for(s)
            if batch and len(batch) + len(spans) > self.batch_spans:
                flush()
            batch.extend(spans)
            pending.append((s.id, fp, len(spans)))
        flush()
        st.seconds = time.perf_counter() - t0
        return st

    def follow(
        self, *, interval: float = 2.0, stop: Callable[[], bool] = lambda: False, index: bool = True, on_progress=None, **selection
    ) -> ExportStats:
        """Index (when asked) and export what changed, every ``interval`` seconds, until ``stop()``."""
        total = ExportStats(self.url)
        while not stop():
            if index:
                try:
                    self.app.index()
                except Exception as e:  # noqa: BLE001 - a failed pass is retried next time
                    log.warning("index pass failed: %s", e)
            try:
                st = self.run(self.select(**selection), on_progress=on_progress)
                total.sessions += st.sessions
                total.spans += st.spans
                total.requests += st.requests
                total.bytes += st.bytes
            except ExportError as e:
                total.errors.append(str(e))
                log.warning("%s (retrying in %.0f s)", e, interval)
            deadline = time.monotonic() + interval
            while time.monotonic() < deadline and not stop():
                time.sleep(min(0.2, interval))
        return total
