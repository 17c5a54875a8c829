"""Discovery + incremental indexing: files → parsers → store (one transaction per chunk) → coach → search.

Unchanged files cost one ``stat``.  A grown file is parsed from its last complete line.  A
rewritten or truncated file (or one parsed by an older parser) is re-parsed from the start.
Every chunk commits its events together with the file's new offset, so a killed run resumes
where it stopped, without losing or duplicating anything.
"""

from __future__ import annotations

import hashlib
import logging
import multiprocessing
import os
import time
from collections import deque
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from sessionlens import ingest
from sessionlens.coach.config import CoachConfig, load_project_config
from sessionlens.coach.redact import find_secrets
from sessionlens.coach.rules import RULE_KINDS, may_hold_secret, run_rules
from sessionlens.cost import PriceTable, cost_of
from sessionlens.ingest import claude, codex
from sessionlens.ingest.base import TRUNCATION_MARK
from sessionlens.ingest.discovery import discover
from sessionlens.models import Agent, ParserState
from sessionlens.search import SearchIndex
from sessionlens.store import Store, session_from_dict

log = logging.getLogger(__name__)

HEAD_BYTES = 4096
CHUNK_BYTES = 8 * 1024 * 1024
DETECT_BYTES = 1024 * 1024
PROJECT_CONFIG = ".sessionlens.json"
#: A pass with at least this much to parse is a bulk pass: it runs the coach in a worker process
#: (the second core) while this process goes on parsing and writing (files wait for their findings
#: with ``mtime_ns`` 0), checkpoints the WAL less often, and gives Tantivy two indexing threads.
BULK_COACH_BYTES = 48 * 1024 * 1024
#: Characters of a successful tool result's text the coach reads back (the rules look at failures'
#: text, and at a success's size, ending and secrets only).
RULE_TEXT_CLIP = 1024
#: Files whose coach may be in flight at once (bounds what waits to be written; a waiting file
#: costs a few hundred bytes, and a huge file's coach must not stall the parsing of the next ones).
COACH_IN_FLIGHT = 512


@dataclass
class IndexStats:
    files_seen: int = 0
    files_changed: int = 0
    files_skipped: int = 0
    not_sessions: int = 0
    errors: list[str] = field(default_factory=list)
    bytes_parsed: int = 0
    events: int = 0
    problems: int = 0
    search_docs: int = 0
    seconds: float = 0.0
    changed_paths: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {
            "files_seen": self.files_seen,
            "files_changed": self.files_changed,
            "files_skipped": self.files_skipped,
            "not_sessions": self.not_sessions,
            "errors": self.errors,
            "bytes_parsed": self.bytes_parsed,
            "events": self.events,
            "problems": self.problems,
            "search_docs": self.search_docs,
            "seconds": round(self.seconds, 3),
        }


@dataclass
class Progress:
    done: int
    total: int
    bytes_done: int
    path: str | None


class ProjectResolver:
    """A session's project is the git root of its cwd, else the cwd itself."""

    def __init__(self):
        self._cache: dict[str, str] = {}

    def __call__(self, cwd: str | None) -> str | None:
        if not cwd:
            return None
        hit = self._cache.get(cwd)
        if hit is not None:
            return hit
        root = cwd
        p = Path(cwd)
        try:
            if p.is_dir():
                for cand in (p, *p.parents):
                    if (cand / ".git").exists():
                        root = str(cand)
                        break
        except OSError:
            pass
        self._cache[cwd] = root
        return root


def _hash(b: bytes) -> str:
    return hashlib.blake2b(b, digest_size=16).hexdigest()


class Indexer:
    def __init__(self, store: Store, search: SearchIndex, *, prices: PriceTable | None = None, coach_enabled: bool = True,
                 projects: ProjectResolver | None = None, coach_cache: dict | None = None):
        self.store = store
        self.search = search
        self.prices = prices or PriceTable.default()
        self.coach_enabled = coach_enabled
        self.projects = projects or ProjectResolver()
        self._coach_cfg: dict[str, tuple[float, CoachConfig]] = coach_cache if coach_cache is not None else {}
        self._held_events: tuple[int, list | None] | None = None
        self._pool: ProcessPoolExecutor | None = None
        self._pending: deque[tuple[int, int, int, Future]] = deque()

    # ------------------------------------------------------------------ public
    def index(
        self,
        paths: Iterable[str],
        *,
        progress: Callable[[Progress], None] | None = None,
        cancelled: Callable[[], bool] | None = None,
        lock_timeout: float | None = None,
        on_wait: Callable[[str | None], None] | None = None,
        sync_search: bool = True,
    ) -> IndexStats:
        """Index every session log under ``paths`` (files or directories).

        Holds the store's writer lock for the pass; ``lock_timeout`` 0 returns at once (with
        ``errors == ['busy']``) when another process is writing.
        """
        t0 = time.perf_counter()
        stats = IndexStats()
        bulk = False
        files = list(discover(paths))
        stats.files_seen = len(files)
        if not self.store.lock.acquire(timeout=lock_timeout, on_wait=on_wait):
            stats.errors.append("busy")
            return stats
        try:
            rows = self.store.file_rows()
            todo = []
            for path in files:
                try:
                    st = os.stat(path)
                except OSError as e:
                    stats.errors.append(f"{path}: {e.strerror or e}")
                    continue
                row = rows.get(path)
                if (
                    row is not None
                    and row.size == st.st_size
                    and row.mtime_ns == st.st_mtime_ns
                    and (row.parser_version == ingest.PARSER_VERSION or row.status != "ok")
                ):
                    stats.files_skipped += 1
                    continue
                todo.append((path, st, row))
            todo_bytes = sum(max(st.st_size - (row.offset if row else 0), 0) for _, st, row in todo)
            bulk = todo_bytes >= BULK_COACH_BYTES
            self._pool = self._start_pool(todo_bytes)
            if bulk:
                self.store.bulk_writes(True)
            done_bytes = 0
            stopped = False
            for i, (path, st, row) in enumerate(todo):
                if cancelled and cancelled():
                    stopped = True
                    break
                if progress:
                    progress(Progress(i, len(todo), done_bytes, path))
                try:
                    changed = self._index_file(path, st, row, stats)
                except Exception as e:  # never let one file stop the pass
                    log.exception("indexing %s failed", path)
                    stats.errors.append(f"{path}: {e}")
                    with self.store.conn:
                        fid = self.store.ensure_file(path)
                        self.store.mark_file(fid, size=st.st_size, mtime_ns=st.st_mtime_ns, status="error", error=str(e)[:500])
                    changed = False
                if changed:
                    stats.files_changed += 1
                    stats.changed_paths.append(path)
                done_bytes += max(st.st_size - (row.offset if row else 0), 0)
            if stopped:  # don't wait for the worker: files not coached yet keep mtime 0, the next pass coaches them
                self._drain()
                self._pending.clear()
            self._drain(everything=True)
            self._stop_pool()  # before the search sync: the worker's memory goes back before Tantivy's grows
            if progress:
                progress(Progress(len(todo), len(todo), done_bytes, None))
            if sync_search:
                stats.search_docs = self.search.sync(self.store, threads=2 if bulk else 1)
        finally:
            try:
                self._drain(everything=True)
            finally:
                self._stop_pool()
                if bulk:
                    self.store.bulk_writes(False)
                self.store.lock.release()
        stats.seconds = time.perf_counter() - t0
        return stats

    def sync_search(self) -> int:
        with self.store.lock:
            return self.search.sync(self.store)

    # ------------------------------------------------------------------ one file
    def _index_file(self, path: str, st: os.stat_result, row, stats: IndexStats) -> bool:
        store = self.store
        if path.endswith(".zst"):
            return self._index_whole(path, st, row, stats)
        with open(path, "rb") as f:
            head = f.read(HEAD_BYTES)
            full = (
                row is None
                or row.status != "ok"
                or row.parser_version != ingest.PARSER_VERSION
                or st.st_size < row.offset
                or row.head_len == 0
                or _hash(head[: row.head_len]) != row.head_hash
                or len(head) < row.head_len
            )
            det = head
            if b"\n" not in det:  # a first line longer than the head (Codex base_instructions): read more to detect
                det = head + f.read(DETECT_BYTES)
                f.seek(len(head))
            agent = ingest.detect(path, det)
            if agent is None:
                with store.conn:
                    fid = store.ensure_file(path)
                    if row is not None and row.status == "ok":
                        store.clear_file(fid)
                    store.mark_file(fid, size=st.st_size, mtime_ns=st.st_mtime_ns, status="not_session")
                stats.not_sessions += 1
                return False
            parser = codex if agent == Agent.CODEX else claude
            with store.conn:
                fid = store.ensure_file(path)
                if full and row is not None:
                    store.clear_file(fid)
            state: ParserState | None = None
            offset = 0
            if not full and row.state:
                state = ParserState.model_validate_json(row.state)
                offset = state.offset
            head_len = min(len(head), HEAD_BYTES)
            head_hash = _hash(head[:head_len])
            chunk = CHUNK_BYTES
            changed = False
            session_id = None
            # a file parsed whole in one chunk hands its events to the coach directly (no read-back)
            chunks = 0
            whole_events = None
            f.seek(offset)
            while True:
                data = f.read(chunk)
                if not data:
                    break
                result = parser.parse(data, path, state)
                consumed = result.state.offset - offset
                if consumed <= 0 and not result.events and not result.problems:
                    if len(data) < chunk:
                        break  # only a partial last line: picked up when the file grows
                    chunk *= 2  # a single line longer than the chunk
                    f.seek(offset)
                    continue
                chunk = CHUNK_BYTES
                sess = result.session
                project = self.projects(sess.cwd)
                costs = {}
                for u in result.usage:
                    if u.cost_usd is not None and self.prices.lookup(u.model) is None:
                        costs[u.key] = (u.cost_usd, True)
                        continue
                    c = cost_of(u.usage, u.model, self.prices, agent=agent.value, speed=u.speed)
                    costs[u.key] = (c.usd, c.known)
                with store.conn:
                    # mtime 0 until the coach has run on the whole file: a run killed in between
                    # sees the file as changed and finishes the job (see ``pending`` below)
                    store.apply_parse(
                        fid, result, project=project, project_name=Path(project).name if project else None,
                        usage_costs=costs, size=st.st_size, mtime_ns=0, head_len=head_len,
                        head_hash=head_hash, parser_version=ingest.PARSER_VERSION,
                    )
                chunks += 1
                whole_events = result.events if chunks == 1 and state is None else None
                stats.bytes_parsed += consumed
                stats.events += len(result.events)
                stats.problems += len(result.problems)
                changed = changed or bool(result.events or result.problems)
                offset = result.state.offset
                state = result.state
                session_id = session_id or sess.id
                f.seek(offset)
            if not changed:
                if not full and row.mtime_ns == 0:  # an earlier run was killed before its coach step
                    self._run_coach(fid)
                with store.conn:
                    store.touch_file(fid, size=st.st_size, mtime_ns=st.st_mtime_ns)
                    if full and row is None:
                        store.mark_file(fid, size=st.st_size, mtime_ns=st.st_mtime_ns, status="ok", agent=agent.value)
                return False
        self._coach_then_touch(fid, st, whole_events)
        return True

    def _index_whole(self, path: str, st: os.stat_result, row, stats: IndexStats) -> bool:
        store = self.store
        result = ingest.parse_file(path)
        with store.conn:
            fid = store.ensure_file(path)
            if row is not None:
                store.clear_file(fid)
            if result is None:
                store.mark_file(fid, size=st.st_size, mtime_ns=st.st_mtime_ns, status="not_session")
                stats.not_sessions += 1
                return False
            project = self.projects(result.session.cwd)
            costs = {}
            for u in result.usage:
                c = cost_of(u.usage, u.model, self.prices, agent=result.agent.value, speed=u.speed)
                costs[u.key] = (c.usd, c.known)
            store.apply_parse(
                fid, result, project=project, project_name=Path(project).name if project else None, usage_costs=costs,
                size=st.st_size, mtime_ns=0, head_len=0, head_hash=None, parser_version=ingest.PARSER_VERSION,
            )
        stats.bytes_parsed += st.st_size
        stats.events += len(result.events)
        stats.problems += len(result.problems)
        self._coach_then_touch(fid, st, result.events)
        return True

    # ------------------------------------------------------------------ coach
    def coach_config(self, project: str | None) -> CoachConfig:
        if not project:
            return CoachConfig()
        cfg_path = Path(project) / PROJECT_CONFIG
        try:
            mtime = cfg_path.stat().st_mtime
        except OSError:
            return CoachConfig()
        hit = self._coach_cfg.get(project)
        if hit and hit[0] == mtime:
            return hit[1]
        cfg = load_project_config(cfg_path).coach
        self._coach_cfg[project] = (mtime, cfg)
        return cfg

    def _rule_events(self, file_id: int) -> list:
        """A file's events as far as the coach reads them (see ``RULE_KINDS``): the others are only
        scanned for secrets, streamed, and read in full when they hold one."""
        store = self.store
        kinds = sorted(k.value for k in RULE_KINDS)
        events = store.events_for_rules(file_id, kinds, clip=RULE_TEXT_CLIP, suffix=TRUNCATION_MARK)
        have = {e.seq: i for i, e in enumerate(events)}
        for seq, text in store.clipped_texts(file_id, RULE_TEXT_CLIP):  # a secret needs the whole text
            if may_hold_secret(text) and find_secrets(text):
                full = store.event(file_id, seq)
                if full is not None and seq in have:
                    events[have[seq]] = full
        secret = [seq for seq, command, text in store.event_texts(file_id, kinds)
                  if seq not in have and ((may_hold_secret(command) and find_secrets(command))
                                             or (may_hold_secret(text) and find_secrets(text)))]
        if secret:
            events += [e for e in (store.event(file_id, seq) for seq in secret) if e is not None]
            events.sort(key=lambda e: e.seq)
        return events

    # ------------------------------------------------------------------ coach in a worker process
    def _start_pool(self, todo_bytes: int) -> ProcessPoolExecutor | None:
        if not self.coach_enabled or todo_bytes < BULK_COACH_BYTES or (os.cpu_count() or 1) < 2:
            return None
        try:  # spawn: APSW and Tantivy objects of this process must not be inherited
            return ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"), initializer=_coach_worker_init,
                                       initargs=(str(self.store.home),))
        except (OSError, ValueError) as e:
            log.warning("coach worker unavailable (%s): the coach runs in this process", e)
            return None

    def _stop_pool(self) -> None:
        pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)

    def _coach_then_touch(self, fid: int, st: os.stat_result, held: list | None) -> None:
        """Coach the file (in the worker during bulk passes), then record its size and mtime: only
        then does a later pass consider the file done."""
        if self._pool is not None:
            try:
                fut = self._pool.submit(_coach_worker_run, fid)
            except Exception as e:  # a broken pool: carry on in this process
                log.warning("coach worker failed (%s): the coach runs in this process", e)
                self._stop_pool()
            else:
                self._pending.append((fid, st.st_size, st.st_mtime_ns, fut))
                self._drain(wait_one=len(self._pending) > COACH_IN_FLIGHT)
                return
        self._held_events = (fid, held)
        self._run_coach(fid)
        with self.store.conn:
            self.store.touch_file(fid, size=st.st_size, mtime_ns=st.st_mtime_ns)

    def _drain(self, *, wait_one: bool = False, everything: bool = False) -> None:
        """Write the worker's findings of finished files (in submission order)."""
        store = self.store
        while self._pending:
            fid, size, mtime_ns, fut = self._pending[0]
            if not (everything or wait_one or fut.done()):
                return
            wait_one = False
            self._pending.popleft()
            try:
                res = fut.result()
            except Exception as e:
                log.warning("coach worker failed on file %s (%s): running it here", fid, e)
                res = self._coach_findings(fid, None)
            with store.conn:
                if res is not None:
                    store.replace_findings(fid, res[0], res[1])
                store.touch_file(fid, size=size, mtime_ns=mtime_ns)

    # ------------------------------------------------------------------ coach
    def _run_coach(self, file_id: int) -> None:
        """Run the coach rules over the whole file, on the events just parsed when they are all of them
        (``_held_events``), else on the events read back from the store."""
        held, self._held_events = self._held_events, None
        if not self.coach_enabled:
            return
        res = self._coach_findings(file_id, held[1] if held is not None and held[0] == file_id else None)
        if res is not None:
            with self.store.conn:
                self.store.replace_findings(file_id, res[0], res[1])

    def _coach_findings(self, file_id: int, held: list | None) -> tuple[str, list] | None:
        """(session id, findings) of a file, None when there is nothing to coach or the rules failed."""
        store = self.store
        row = store.file_row_by_id(file_id)
        if row is None or not row.session_id:
            return None
        sd = store.get_session(row.session_id)
        if sd is None:
            return None
        session = session_from_dict(sd)
        events = held if held is not None else self._rule_events(file_id)
        turns = store.turns(session.id)
        try:
            findings = run_rules(session, events, turns, self.coach_config(sd.get("project")))
        except Exception:
            log.exception("coach rules failed on %s", row.path)
            return None
        try:  # guideline violations (AGENTS.md / CLAUDE.md) become findings on the violating events
            from sessionlens.compliance.checker import session_compliance_findings

            findings += session_compliance_findings(sd, events, findings, cache_get=store.cache_get)
        except Exception:
            log.exception("guideline checks failed on %s", row.path)
        return session.id, findings


#: The worker process's own indexer (its own store connection), made by ``_coach_worker_init``.
_WORKER: Indexer | None = None


def _coach_worker_init(home: str) -> None:
    global _WORKER
    _WORKER = Indexer(Store(home), None)  # type: ignore[arg-type]  # the worker never searches


def _coach_worker_run(file_id: int) -> tuple[str, list] | None:
    assert _WORKER is not None
    return _WORKER._coach_findings(file_id, None)
