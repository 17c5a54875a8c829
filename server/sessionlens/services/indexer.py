"""Discovery + incremental indexing: files → parsers → store (one transaction per chunk) → coach → search.

Unchanged files cost one ``stat``.  A grown file is parsed from its last complete line.  A
rewritten or truncated file (or one parsed by an older parser) is re-parsed from the start.
Every chunk commits its events together with the file's new offset, so a killed run resumes
where it stopped, without losing or duplicating anything.

The work on a file is a sequence of *jobs* (one per chunk of at most ``CHUNK_BYTES``): a job
reads, parses, prices and turns the events into rows (and, when it covers the whole file, runs
the coach on the parsed events); this process then writes the rows, in job order.  In a bulk pass
a worker process prepares jobs while this one writes, and this one prepares jobs too whenever the
worker has enough queued: both cores parse, and only this process writes (one writer per store).
A file's next chunk is handed to the worker as soon as the chunk before is parsed (its parser state
is all it needs), so one big file is parsed on one core while its chunks are written on the other.
Search documents are added to Tantivy as the rows are written (``InlineWriter``: nothing is read
back at the end of the pass); every transaction goes through ``Store.transaction()``.
"""

from __future__ import annotations

import hashlib
import itertools
import logging
import multiprocessing
import os
import pickle
import shutil
import sys
import tempfile
import threading
import time
import types
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from collections.abc import Set as AbstractSet
from contextlib import ExitStack
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path

from sessionlens import ingest
from sessionlens.agents import registry as agent_registry
from sessionlens.agents import sniff
from sessionlens.agents.base import AgentAdapter, member_path
from sessionlens.agents.common import TRUNCATION_MARK
from sessionlens.coach.config import CONFIG_FILENAME, CoachConfig, load_project_config
from sessionlens.coach.redact import find_secrets
from sessionlens.coach.rules import RULE_KINDS, RuleSieve, coach_input_hash, may_hold_secret, run_rules, secret_event_seqs
from sessionlens.cost import PriceTable, cost_of
from sessionlens.ingest.discovery import discover
from sessionlens.ingest.edits import edit_rows
from sessionlens.models import Event, ParserState
from sessionlens.models.store import StoredSession
from sessionlens.search import SearchIndex
from sessionlens.search.index import InlineWriter
from sessionlens.store import PreparedParse, Store, prepare_parse, session_from_row

log = logging.getLogger(__name__)

HEAD_BYTES = 4096
CHUNK_BYTES = 8 * 1024 * 1024
DETECT_BYTES = 1024 * 1024
#: Bytes read from a changed file's start to tell what it is (leading garbage lines included).
DETECT_HEAD = 64 * 1024
PROJECT_CONFIG = CONFIG_FILENAME  # the one name, declared in coach.config
#: A pass with at least this much to parse is a bulk pass: jobs are also prepared in a worker process
#: (the second core) while this process writes, the WAL is checkpointed less often, and Tantivy gets
#: two indexing threads.
BULK_COACH_BYTES = 48 * 1024 * 1024
#: Characters of a successful tool result's text the coach reads back (the rules look at failures'
#: text, and at a success's size, ending and secrets only).
RULE_TEXT_CLIP = 1024
#: Tantivy's indexing memory in a bulk pass (64 MB otherwise): fewer, larger segments cost less
#: CPU to write and merge (about a sixth less on 1 GB of logs).
BULK_SEARCH_HEAP = 256_000_000
#: A bulk pass commits its writes every this many bytes parsed (each file's rows still commit
#: together with its offset; fewer, larger commits cost less).
BATCH_BYTES = 16 * 1024 * 1024
#: A pass with at least this much to parse indexes its search documents as it writes rows (with
#: this much Tantivy memory), instead of reading them back from the store at its end.
INLINE_SEARCH_BYTES = 4 * 1024 * 1024
INLINE_SEARCH_HEAP = 128_000_000
#: Jobs, and bytes to parse, queued in the worker process at most; beyond that, this process prepares
#: the next job itself.  The queue must outlast the longest job this process takes on meanwhile.
WORKER_AHEAD = 16
WORKER_AHEAD_BYTES = 16 * 1024 * 1024
#: Bytes of prepared but unwritten jobs this process may hold while the job at the head of the queue
#: is still in the worker (bounds memory; past it, this process waits for the worker).
BUFFER_BYTES = 24 * 1024 * 1024


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
    #: every file (or folder) looked at but not indexed, with why: not a session log, failed,
    #: an unreadable folder, a file name that is not UTF-8 (``files_skipped`` counts unchanged files)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    files_recoached: int = 0  # unchanged files coached again (their rules, config or instructions changed)

    def to_dict(self) -> dict:
        return {
            "files_seen": self.files_seen,
            "files_changed": self.files_changed,
            "files_skipped": self.files_skipped,
            "not_sessions": self.not_sessions,
            "skipped": [{"path": p, "reason": r} for p, r in self.skipped],
            "errors": self.errors,
            "bytes_parsed": self.bytes_parsed,
            "events": self.events,
            "problems": self.problems,
            "search_docs": self.search_docs,
            "files_recoached": self.files_recoached,
            "seconds": round(self.seconds, 3),
        }


@dataclass
class Progress:
    done: int
    total: int
    bytes_done: int
    path: str | None


def failure_message(e: BaseException) -> str:
    """One line saying why a file failed, with the line number when the error knows it."""
    text = str(e).splitlines()[0] if str(e) else ""
    line = getattr(e, "lineno", None) or getattr(e, "line", None)
    where = f"line {line}: " if isinstance(line, int) and line > 0 else ""
    return f"{where}{type(e).__name__}: {text}" if text else f"{where}{type(e).__name__}"


class ProjectResolver:
    """A session's project is the repository root of its cwd: the git root when the folder is on
    this machine; else the project the adapter inferred (``hint``, e.g. from Claude's project
    folder name) when it is an ancestor of the cwd; else the deepest known project root above
    the cwd (another session's); else the cwd itself."""

    def __init__(self) -> None:
        self._cache: dict[tuple[str, str | None], str] = {}
        #: the known project roots by their path without a trailing slash (the longest spelling of each)
        self._by_stem: dict[str, str] = {}

    def __call__(self, cwd: str | None, hint: str | None = None) -> str | None:
        if not cwd:
            return None
        key = (cwd, hint)
        hit = self._cache.get(key)
        if hit is not None:
            return hit
        root = None
        p = Path(cwd)
        try:
            if p.is_dir():
                for cand in (p, *p.parents):
                    if (cand / ".git").exists():
                        root = str(cand)
                        break
        except OSError:
            pass
        if root is None and hint and (cwd == hint or cwd.startswith(hint.rstrip("/") + "/")):
            root = hint
        if root is None:
            root = self._deepest_root_above(cwd) or cwd
        if root != cwd or hint == cwd:
            stem = root.rstrip("/")
            if len(root) > len(self._by_stem.get(stem, "")):
                self._by_stem[stem] = root
        self._cache[key] = root
        return root

    def _deepest_root_above(self, cwd: str) -> str | None:
        """The deepest known root of which ``cwd`` lies inside (its ancestors by string, deepest first:
        a look-up per ancestor rather than a scan of every root, which made a pass quadratic in sessions)."""
        i = cwd.rfind("/")
        while i >= 0:
            hit = self._by_stem.get(cwd[:i])
            if hit is not None:
                return hit
            i = cwd.rfind("/", 0, i)
        return None


class _Stat:
    """A source's ``(size, mtime_ns)`` as :func:`sessionlens.agents.source_stat` sees it (a database's
    ``-wal`` counts)."""

    __slots__ = ("st_size", "st_mtime_ns")

    def __init__(self, size: int, mtime_ns: int):
        self.st_size, self.st_mtime_ns = size, mtime_ns


def _hash(b: bytes) -> str:
    return hashlib.blake2b(b, digest_size=16).hexdigest()


@dataclass(slots=True)
class Job:
    """Parse one chunk of a file (or, ``kind == "coach"``, run the coach on a written file)."""

    kind: str  # "parse" | "coach"
    path: str
    fid: int
    size: int
    mtime_ns: int
    agent: str = ""
    offset: int = 0
    state: str | None = None  # ParserState JSON to continue from
    head_len: int = 0
    head_hash: str | None = None
    first: bool = True  # the file's first job of this pass
    clear: bool = False  # a full re-parse of a known file: its old rows go with the first write
    register: bool = False  # a new file: recorded as a session log even when nothing parses yet
    recoach: bool = False  # an earlier run stopped before the coach step (mtime 0): coach even if nothing is new
    zst: bool = False
    whole: bool = False  # a document: always read and parsed whole
    member: bool = False  # one session of a multi-session source (path ``<source>#<key>``)
    changed: bool = False  # an earlier job of this pass wrote events or problems
    secrets: tuple[int, ...] | None = None  # seqs of the events holding a secret, when all of the file's are known
    chunk: int = 0  # bytes per chunk (0: CHUNK_BYTES), as the planning process says (the worker reads the same)


@dataclass(slots=True)
class Prepared:
    prep: PreparedParse | None = None  # None: nothing new to write
    consumed: int = 0
    events: int = 0
    problems: int = 0
    offset: int = 0
    state: str | None = None
    more: bool = False  # the chunk was full: the file may go on
    coached: bool = False  # the coach ran on the whole file's parsed events (``findings``)
    findings: tuple[str, list, str] | None = None  # (session id, findings, coach input hash)
    not_session: bool = False
    nbytes: int = 0  # bytes read (to bound what waits in memory)
    secret_seqs: list[int] | None = None  # a chunk not coached here: its events holding a secret


class _Spooled:
    """A worker's answer handed over through a file in a spool folder (tmpfs when there is one), so
    the answers pipe only carries a few bytes per job and the worker never waits on it."""

    __slots__ = ("path",)

    def __init__(self, path: str):
        self.path = path

    def load(self):
        try:
            with open(self.path, "rb") as f:
                return pickle.loads(f.read())
        finally:
            try:
                os.unlink(self.path)
            except OSError:
                pass


def _spool_dir() -> str | None:
    for base in ("/dev/shm", None):
        try:
            return tempfile.mkdtemp(prefix="sessionlens-spool-", dir=base)
        except OSError:
            continue
    return None


class _Slot:
    __slots__ = ("job", "future", "result", "error")

    def __init__(self, job: Job, future: _Ticket | None = None, result=None, error: BaseException | None = None):
        self.job, self.future, self.result, self.error = job, future, result, error

    def done(self) -> bool:
        return self.future is None or self.future.done()

    def get(self):
        if self.future is not None:
            try:
                self.result = self.future.result()
                if isinstance(self.result, _Spooled):
                    self.result = self.result.load()
            except BaseException as e:  # noqa: BLE001 - reported per file
                self.error = e
            self.future = None
        if self.error is not None:
            raise self.error
        return self.result


#: A pass over at most this many files reads only their rows of the files table (a live append's).
SMALL_PASS_FILES = 1000


class Indexer:
    def __init__(
        self,
        store: Store,
        search: SearchIndex | None,
        *,
        prices: PriceTable | None = None,
        coach_enabled: bool = True,
        projects: ProjectResolver | None = None,
        coach_cache: dict | None = None,
    ):
        self.store = store
        self.search = search
        self.prices = prices or PriceTable.default()
        self.coach_enabled = coach_enabled
        self.projects = projects or ProjectResolver()
        self._coach_cfg: dict[str, tuple[float, CoachConfig]] = coach_cache if coach_cache is not None else {}
        self._hash_memo: dict[tuple, str] = {}
        self._pool: _WorkerProcess | None = None
        self._spool: str | None = None
        self._slots: deque[_Slot] = deque()  # parse jobs, written in this order
        self._coach_slots: list[_Slot] = []  # coach jobs, written when done
        self._buffered = 0
        self._stats: IndexStats | None = None
        self._batching = False  # bulk pass: several jobs' writes per transaction
        self._batch: ExitStack | None = None  # the open transaction of a bulk pass's batch of writes
        self._batch_bytes = 0
        self._inline: InlineWriter | None = None  # search documents added as rows are written
        self._dead: set[int] = set()  # files whose write failed this pass (chunks sent ahead are dropped)

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
        merge_in_background: bool = False,
    ) -> IndexStats:
        """Index every session log under ``paths`` (files or directories).

        Holds the store's writer lock for the pass; ``lock_timeout`` 0 returns at once (with
        ``errors == ['busy']``) when another process is writing.  ``merge_in_background``: a small
        pass leaves the search index's merges to a thread (the language server's appends: they are
        searchable sooner; see search/index.py).
        """
        t0 = time.perf_counter()
        stats = IndexStats()
        bulk = False
        files = list(discover(paths, skipped=stats.skipped))
        stats.files_seen = len(files)
        if not self.store.lock.acquire(timeout=lock_timeout, on_wait=on_wait):
            stats.errors.append("busy")
            return stats
        self._stats = stats
        self._dead = set()
        self._hash_memo = {}  # the coach's inputs (config, instruction files) as they are in this pass
        self._changed_sources: set[str] = set()
        try:
            rows = self.store.file_rows(files if len(files) <= SMALL_PASS_FILES else None)
            self._rows = rows
            todo = []
            unchanged: list[str] = []
            for path in files:
                try:
                    st = _Stat(*agent_registry.source_stat(path))
                except OSError as e:
                    stats.errors.append(f"{path}: {e.strerror or e}")
                    stats.skipped.append((path, f"cannot read: {e.strerror or e}"))
                    continue
                row = rows.get(path)
                if (
                    row is not None
                    and row.size == st.st_size
                    and row.mtime_ns == st.st_mtime_ns
                    and row.parser_version == ingest.PARSER_VERSION  # a file that failed or was no session log
                ):  # is judged again by a newer sessionlens
                    stats.files_skipped += 1
                    if row.status == "error":  # still failed: say so (and why) on every pass
                        why = self.store.file_error(row.id) or "unknown error"
                        stats.skipped.append((path, f"failed earlier: {why} (retried when the file or sessionlens changes)"))
                    unchanged.append(path)
                    continue
                todo.append((path, st, row))
            fids = self._file_ids([path for path, _, row in todo if row is None])
            # files of several chunks first: their chunks are parsed one after the other (each
            # continues from the last one's state), so their chain must start early to overlap
            todo.sort(key=lambda t: max(t[1].st_size - (t[2].offset if t[2] else 0), 0) <= CHUNK_BYTES)
            todo_bytes = sum(max(st.st_size - (row.offset if row else 0), 0) for _, st, row in todo)
            bulk = todo_bytes >= BULK_COACH_BYTES
            self._pool = self._start_pool(todo_bytes)
            if sync_search and self.search is not None and todo_bytes >= INLINE_SEARCH_BYTES:
                # documents are added as rows are written (Tantivy's thread works during the pass,
                # and nothing is read back at its end)
                self._inline = self.search.inline_writer(self.store, heap_size=INLINE_SEARCH_HEAP)
            if bulk:
                self.store.bulk_writes(True)
                self._batching = True
            done_bytes = 0
            stopped = False
            for i, (path, st, row) in enumerate(todo):
                if cancelled and cancelled():
                    stopped = True
                    break
                if progress:
                    progress(Progress(i, len(todo), done_bytes, path))
                fid = row.id if row is not None else fids[path]
                try:
                    job = self._plan(path, fid, st, row)
                except Exception as e:  # never let one file stop the pass
                    self._failed(path, fid, st.st_size, st.st_mtime_ns, e)
                    job = None
                if job is not None:
                    self._submit(job)
                done_bytes += max(st.st_size - (row.offset if row else 0), 0)
            if not stopped:
                # findings follow their inputs: a new rules version, coach config or instruction file
                # re-coaches the unchanged files it concerns
                for job in self._stale_coach_jobs(unchanged):
                    if cancelled and cancelled():
                        stopped = True
                        break
                    self._submit(job)
                    stats.files_recoached += 1
                    stats.changed_paths.append(job.path)
            if not stopped:
                stopped = not self._finish(cancelled)
            if stopped:  # what is not written yet stays for the next pass (files left half done keep mtime 0)
                self._discard()
            self._commit_batch()
            self.store.refresh_usage_days()  # the cost report's summary follows the usage rows written
            self._stop_pool()  # before the search sync: the worker's memory goes back before Tantivy's grows
            if progress:
                progress(Progress(len(todo), len(todo), done_bytes, None))
            if sync_search:
                search = self.search
                assert search is not None, "only the worker's indexer has no search index (it never runs index())"
                applied, redo, inline_docs = self._end_inline(stopped)
                if bulk and not applied:  # the worker is gone: Tantivy may take its memory (fewer segments to merge)
                    docs = search.sync(self.store, threads=2, heap_size=BULK_SEARCH_HEAP)
                else:
                    docs = search.sync(self.store, applied=applied, redo=redo, merge_in_background=merge_in_background and not bulk)
                stats.search_docs = docs + inline_docs
        finally:
            try:
                self._discard()
                self._commit_batch()  # what was written is consistent (rows commit with their offsets)
            finally:
                self._batching = False
                inline, self._inline = self._inline, None
                if inline is not None:  # failed before the search step: the queue has it all
                    inline.rollback()
                self._stop_pool()
                self._stats = None
                if bulk:
                    self.store.bulk_writes(False)
                self.store.lock.release()
        stats.seconds = time.perf_counter() - t0
        return stats

    def _end_inline(self, stopped: bool) -> tuple[set[int], set[int], int]:
        """Commit the documents added during the pass: (files whose queued work they did, files to
        redo from the store, documents added).  A stopped pass rolls them back (the queue has it all)."""
        inline, self._inline = self._inline, None
        if inline is None:
            return set(), set(), 0
        if stopped:
            inline.rollback()
            return set(), set(), 0
        redo = set(inline.redo)
        for fid in inline.applied - redo:  # the session row the search step would read says the same
            ctx = self.store.file_search_context(fid)
            if ctx is None or (ctx.agent or "", ctx.project or "") != inline.context.get(fid):
                redo.add(fid)
        inline.commit()
        return inline.applied, redo, sum(n for fid, n in inline.docs.items() if fid not in redo)

    def _search_redo(self, file_id: int) -> None:
        """A file's search documents are not mirrored by this pass's writes: the search step redoes them."""
        if self._inline is not None:
            self._inline.redo.add(file_id)

    def sync_search(self) -> int:
        search = self.search
        assert search is not None, "only the worker's indexer has no search index"
        with self.store.lock:
            return search.sync(self.store)

    # ------------------------------------------------------------------ planning (this process)
    def _file_ids(self, paths: list[str]) -> dict[str, int]:
        """Rows for new files, all in one transaction."""
        if not paths:
            return {}
        store = self.store
        with store.transaction():
            ids = {p: store.ensure_file(p) for p in paths}
        return ids

    def _plan(self, path: str, fid: int, st: _Stat, row) -> Job | None:
        """The first job for a changed file (None when it is no session log)."""
        store = self.store
        known = agent_registry.get(row.agent) if row is not None and row.status == "container" else None
        if known is not None and known.parse is None and row.parser_version == ingest.PARSER_VERSION:
            self._index_members(known, path, fid, st, row)  # a known database: no need to detect it again
            return None
        if path.endswith(".zst"):
            return Job("parse", path, fid, st.st_size, st.st_mtime_ns, clear=row is not None, zst=True)
        with open(path, "rb") as f:
            head = f.read(HEAD_BYTES)
            if sniff.encoding_of(head, path) != sniff.PLAIN:  # gzip, zstd, UTF-16, BOM, CR-only: decoded, read whole
                return Job("parse", path, fid, st.st_size, st.st_mtime_ns, clear=row is not None, zst=True)
            full = (
                row is None
                or row.status != "ok"
                or row.parser_version != ingest.PARSER_VERSION
                or st.st_size < row.offset
                or row.head_len == 0
                or _hash(head[: row.head_len]) != row.head_hash
                or len(head) < row.head_len
            )
            det = head + f.read(DETECT_HEAD - len(head))  # room for leading garbage lines
            if b"\n" not in det:  # a first line longer than the head (Codex base_instructions): read more to detect
                det += f.read(DETECT_BYTES)  # (a first line longer still is sniffed by its first members)
        adapter = agent_registry.detect(path, det)
        if adapter is None:
            with store.transaction():
                if row is not None and row.status == "ok":
                    store.clear_file(fid)
                    self._search_redo(fid)
                self._clear_members(path)
                store.mark_file(fid, size=st.st_size, mtime_ns=st.st_mtime_ns, status="not_session", parser_version=ingest.PARSER_VERSION)
            self._not_session(path)
            return None
        if adapter.parse is None:  # a source of several sessions (SQLite, a directory)
            self._index_members(adapter, path, fid, st, row)
            return None
        agent = adapter
        whole = adapter.source == "document"
        if whole or adapter.companions is not None:
            full = True  # a document, or a source whose companion files may have changed: parsed again whole
        state = None
        offset = 0
        if not full and row.state:
            state = row.state
            offset = ParserState.model_validate_json(row.state).offset
        elif adapter.read_companions is not None:
            first = agent_registry.initial_state(adapter, path)
            state = first.model_dump_json() if first is not None else None
        head_len = min(len(head), HEAD_BYTES)
        return Job(
            "parse",
            path,
            fid,
            st.st_size,
            st.st_mtime_ns,
            agent=agent.name,
            offset=offset,
            state=state,
            whole=whole,
            head_len=head_len,
            head_hash=_hash(head[:head_len]),
            clear=full and row is not None,
            register=full and row is None,
            recoach=not full and row.mtime_ns == 0,
            secrets=() if offset == 0 else None,
            chunk=CHUNK_BYTES,
        )

    def _clear_members(self, path: str, keep: AbstractSet[str] = frozenset()) -> None:
        """Forget the member rows of ``path`` (a database no longer holding these sessions)."""
        store = self.store
        for r in store.member_rows(path):
            if r.path not in keep:
                store.delete_file(r.id)
                self._search_redo(r.id)

    def _index_members(self, adapter: AgentAdapter, path: str, fid: int, st: _Stat, row) -> None:
        """A source of several sessions: each member (session) whose fingerprint changed is parsed
        whole and written as its own source ``<path>#<key>``; unchanged members cost nothing more than
        their fingerprint; vanished ones are removed.  Done here (never in the worker: the snapshot of
        a database is this process's)."""
        store = self.store
        rows = getattr(self, "_rows", None) or {}
        members_of, parse_member = adapter.members, adapter.parse_member
        if members_of is None or parse_member is None:
            raise ValueError(f"agent {adapter.name!r} reads no members of a multi-session source")
        with agent_registry.open_source(adapter, path) as src:
            members = members_of(src)
            if adapter.yields_to_logged:  # a session the store has from the agent's own log is not read again
                members = [(k, fp) for k, fp in members if store.session_source(k) in (None, member_path(path, k))]
            keep = {member_path(path, key) for key, _ in members}
            todo = []
            for key, fp in members:
                mpath = member_path(path, key)
                mrow = rows.get(mpath) or store.file_row(mpath)
                if (
                    mrow is not None
                    and mrow.status == "ok"
                    and mrow.head_hash == fp
                    and mrow.mtime_ns != 0
                    and mrow.parser_version == ingest.PARSER_VERSION
                ):
                    continue
                todo.append((key, fp, mpath, mrow))
            with store.transaction():
                self._clear_members(path, keep)
                fids = {mpath: (mrow.id if mrow is not None else store.ensure_file(mpath)) for _, _, mpath, mrow in todo}
                store.mark_file(
                    fid,
                    size=st.st_size,
                    mtime_ns=st.st_mtime_ns,
                    status="container",
                    agent=adapter.name,
                    parser_version=ingest.PARSER_VERSION,
                )
            for key, fp, mpath, mrow in todo:
                job = Job(
                    "parse",
                    mpath,
                    fids[mpath],
                    st.st_size,
                    st.st_mtime_ns,
                    agent=adapter.name,
                    head_hash=fp,
                    clear=mrow is not None,
                    register=mrow is None,
                    member=True,
                )
                slot = _Slot(job)
                try:
                    result = parse_member(src, key, mpath)
                    slot.result = self._prepared(job, result, 0, head_len=0, head_hash=fp, whole=True)
                except Exception as e:  # noqa: BLE001 - one bad session costs that session only
                    slot.error = e
                self._slots.append(slot)
                self._write_ready()

    # ------------------------------------------------------------------ preparing (either process)
    def prepare(self, job: Job) -> Prepared:
        """Read, parse and price one chunk; run the coach when the chunk is the whole file."""
        if job.zst:
            return self._prepare_whole(job)
        adapter = agent_registry.get(job.agent)
        parse = adapter.parse if adapter is not None else None
        if parse is None:
            raise ValueError(f"no parser for agent {job.agent!r}")
        state = ParserState.model_validate_json(job.state) if job.state else None
        size = job.chunk or CHUNK_BYTES
        chunk = size if not job.whole else max(size, job.size + 1)
        with open(job.path, "rb") as f:
            while True:
                f.seek(job.offset)
                data = f.read(chunk)
                if not data:
                    return Prepared(offset=job.offset, state=job.state)
                result = parse(data, job.path, state)
                consumed = result.state.offset - job.offset
                if consumed > 0 or result.events or result.problems:
                    break
                if len(data) < chunk:
                    return Prepared(offset=job.offset, state=job.state, nbytes=len(data))  # only a partial last line
                chunk *= 2  # a single line longer than the chunk
        more = len(data) == chunk
        whole = job.offset == 0 and (state is None or (state.offset == 0 and state.line == 0)) and not more
        out = self._prepared(job, result, consumed, head_len=job.head_len, head_hash=job.head_hash, whole=whole)
        out.more = more
        out.nbytes = len(data)
        return out

    def _prepare_whole(self, job: Job) -> Prepared:
        result = ingest.parse_file(job.path)
        if result is None:
            return Prepared(not_session=True)
        return self._prepared(job, result, job.size, head_len=0, head_hash=None, whole=True)

    def _prepared(self, job: Job, result, consumed: int, *, head_len: int, head_hash: str | None, whole: bool) -> Prepared:
        sess = result.session
        agent = getattr(result.agent, "value", result.agent)
        project = self.projects(sess.cwd, sess.project)
        costs = {}
        for u in result.usage:
            if u.cost_usd is not None and self.prices.lookup(u.model) is None:
                costs[u.key] = (u.cost_usd, True)
                continue
            c = cost_of(u.usage, u.model, self.prices, agent=agent, speed=u.speed)
            costs[u.key] = (c.usd, c.known)
        # mtime 0 until the coach has run on the whole file: a run killed in between sees the file as
        # changed and finishes the job
        prep = prepare_parse(
            job.fid,
            result,
            project=project,
            project_name=Path(project).name if project else None,
            usage_costs=costs,
            size=job.size,
            mtime_ns=0,
            head_len=head_len,
            head_hash=head_hash,
            parser_version=ingest.PARSER_VERSION,
        )
        prep.edit_rows = edit_rows(result.events, cwd=sess.cwd, root=project, commit=sess.git_commit)  # agent blame
        out = Prepared(
            prep=prep,
            consumed=consumed,
            events=len(result.events),
            problems=len(prep.problem_rows),
            offset=result.state.offset,
            state=prep.file_state[-1],
        )
        if whole and self.coach_enabled and (result.events or result.problems):
            out.coached = True
            out.findings = self._coach_parsed(job, result, prep)
        elif self.coach_enabled and job.secrets is not None:
            # the coach will read the whole file back: tell it where the secrets are (an append
            # pass knows nothing of the earlier lines: its coach scans them all anyway)
            out.secret_seqs = secret_event_seqs(result.events)
        return out

    # ------------------------------------------------------------------ the queue of jobs
    def _submit(self, job: Job) -> None:
        """Queue a job: to the worker while it has fewer than ``WORKER_AHEAD`` queued, else prepared
        here and now (unless too much already waits in memory: then first wait for the worker).

        Parse jobs are written in the order they were queued.  A coach job (findings of a file read
        back) touches nothing of other files: it is written whenever it is done, so a huge file's
        coach never holds up the files queued after it."""
        queue = self._slots if job.kind == "parse" else self._coach_slots
        pool = self._pool
        if pool is not None:
            # While the worker coaches a file (seconds, for a huge one), jobs queued behind it would
            # hold up every write: parse jobs go to the worker only when no coach job is there.
            coaching = any(s.future is not None and not s.done() for s in self._coach_slots)
            nbytes = min(max(job.size - job.offset, 0), CHUNK_BYTES) if job.kind == "parse" else 0
            if (
                pool.outstanding() < WORKER_AHEAD
                and pool.outstanding_bytes + nbytes <= max(WORKER_AHEAD_BYTES, nbytes)
                and not (coaching and job.kind == "parse")
            ):
                try:
                    queue.append(_Slot(job, pool.submit(job, nbytes)))
                    self._write_ready()
                    return
                except Exception as e:  # a broken pool: carry on in this process
                    log.warning("indexing worker failed (%s): going on in this process", e)
                    self._stop_pool()
            while self._buffered > BUFFER_BYTES and self._slots:
                self._write_ready(wait=True)
        slot = _Slot(job)
        try:
            slot.result = self.run_job(job)
        except Exception as e:  # noqa: BLE001 - reported when the slot is written
            slot.error = e
        if isinstance(slot.result, Prepared):
            self._buffered += slot.result.nbytes
        queue.append(slot)
        self._write_ready()

    def _send_ahead(self, job: Job) -> bool:
        """Hand a file's next chunk to the worker at once (queued after every job already queued, as
        a follow-up is); False when there is no worker to take it now (it follows the write then)."""
        pool = self._pool
        if pool is None or any(s.future is not None and not s.done() for s in self._coach_slots):
            return False
        nbytes = min(max(job.size - job.offset, 0), CHUNK_BYTES)
        if pool.outstanding() >= WORKER_AHEAD or pool.outstanding_bytes + nbytes > max(WORKER_AHEAD_BYTES, nbytes):
            return False
        try:
            self._slots.append(_Slot(job, pool.submit(job, nbytes)))
        except Exception as e:  # noqa: BLE001 - a broken pool: the chunk follows the write, in this process
            log.debug("worker refused a chunk: %s", e)
            return False
        return True

    def _write_ready(self, *, wait: bool = False) -> None:
        """Write the finished jobs at the head of the queue (``wait``: at least the head one, or
        when no parse job is left, a coach job), and every finished coach job."""
        follow: list[Job] = []
        if self._coach_slots:
            done = [s for s in self._coach_slots if s.done()]
            if wait and not done and not self._slots:
                done = [self._coach_slots[0]]
            for slot in done:
                self._coach_slots.remove(slot)
                self._complete(slot)
        while self._slots and (wait or self._slots[0].done()):
            wait = False
            slot = self._slots.popleft()
            if slot.future is None and isinstance(slot.result, Prepared):
                self._buffered -= slot.result.nbytes
            nxt = self._complete(slot)
            if nxt is not None:
                follow.append(nxt)
        for job in follow:
            self._submit(job)

    def _finish(self, cancelled: Callable[[], bool] | None) -> bool:
        """Write every queued job (and their follow-ups); False when cancelled first."""
        while self._slots or self._coach_slots:
            if cancelled and cancelled():
                return False
            self._write_ready(wait=True)
        return True

    def _discard(self) -> None:
        for slot in (*self._slots, *self._coach_slots):
            if slot.future is not None:
                slot.future.cancel()
        self._slots.clear()
        self._coach_slots.clear()
        self._buffered = 0

    # ------------------------------------------------------------------ writing (this process)
    def _complete(self, slot: _Slot) -> Job | None:
        """Write one job's result; return the file's next job, if any (unless already handed to the worker)."""
        job = slot.job
        if job.kind == "parse" and not job.first and job.fid in self._dead:  # an earlier chunk failed to write
            if slot.future is not None:
                slot.future.cancel()
            return None
        try:
            try:
                res = slot.get()
            except WorkerLost as e:  # the worker died (killed, out of memory): do the job here
                log.warning("%s: doing its jobs in this process", e)
                res = self.run_job(job)
        except Exception as e:
            if job.kind != "coach":
                self._failed(job.path, job.fid, job.size, job.mtime_ns, e)
                return None
            log.warning("coach failed on file %s (%s): running it here", job.fid, e)
            res = self.run_job(job)
        store = self.store
        stats = self._stats
        if self._batching and self._batch is None:
            # the outer transaction: each ``with store.transaction()`` below is a savepoint in it
            self._batch = ExitStack()
            self._batch.enter_context(store.transaction())
        if job.kind == "coach":
            with store.transaction():
                if res is not None:
                    store.replace_findings(job.fid, res[0], res[1], res[2])
                store.touch_file(job.fid, size=job.size, mtime_ns=job.mtime_ns)
            return None
        assert stats is not None, "a parse job is written only during index()"
        if res.not_session:
            with store.transaction():
                if job.clear:
                    store.clear_file(job.fid)
                    self._search_redo(job.fid)
                store.mark_file(job.fid, size=job.size, mtime_ns=job.mtime_ns, status="not_session", parser_version=ingest.PARSER_VERSION)
            self._not_session(job.path)
            return None
        changed = job.changed or res.events > 0 or res.problems > 0
        if res.prep is not None:
            done = not res.more and (res.coached or not self.coach_enabled)
            secrets = None if job.secrets is None or res.secret_seqs is None else job.secrets + tuple(res.secret_seqs)
            ahead = None
            if res.more:  # the next chunk needs only this one's parser state: it is parsed while this one is written
                ahead = replace(job, offset=res.offset, state=res.state, first=False, changed=changed, secrets=secrets)
                if not self._send_ahead(ahead):
                    ahead = None
            try:
                sid = self._write(job, res, done)
            except Exception as e:  # never let one file stop the pass
                self._failed(job.path, job.fid, job.size, job.mtime_ns, e)
                self._dead.add(job.fid)
                return None
            if done and res.coached and sid != res.prep.session_id:
                done = False  # written under another id (a copy of a known session): coach what was written
            stats.bytes_parsed += res.consumed
            self._batch_bytes += res.consumed
            if self._batch_bytes >= BATCH_BYTES:
                self._commit_batch()
            stats.events += res.events
            stats.problems += res.problems
            if res.more:
                if ahead is not None:
                    return None
                return replace(job, offset=res.offset, state=res.state, first=False, changed=changed, secrets=secrets)
        else:
            done = False
            secrets = job.secrets
        # the file is parsed to its end
        if changed:
            source = job.path.rpartition("#")[0] if job.member else job.path
            if source not in self._changed_sources:  # a database counts once, however many sessions changed
                self._changed_sources.add(source)
                stats.files_changed += 1
            stats.changed_paths.append(job.path)
        if done:
            return None
        if self.coach_enabled and (changed or job.recoach):
            self._commit_batch()  # the coach reads the file back (maybe from the worker's connection)
            return Job("coach", job.path, job.fid, job.size, job.mtime_ns, secrets=secrets)
        with store.transaction():
            if job.first and job.clear and res.prep is None:
                store.clear_file(job.fid)
                self._search_redo(job.fid)
            store.touch_file(job.fid, size=job.size, mtime_ns=job.mtime_ns)
            if job.register and res.prep is None:
                store.mark_file(job.fid, size=job.size, mtime_ns=job.mtime_ns, status="ok", agent=job.agent)
        return None

    def _write(self, job: Job, res: Prepared, done: bool) -> str:
        """Write a parse job's rows (and, when ``done``, its findings): row by row after a failure, so
        a value the store refuses costs that row (a problem on its line), not the file."""
        store = self.store
        prep = res.prep
        assert prep is not None, "only a job with rows is written"
        for salvage in (False, True):
            try:
                with store.transaction():
                    if job.first and job.clear:
                        store.clear_file(job.fid)
                    sid = store.write_prepared(prep, salvage=salvage)
                    if done and not (res.coached and sid != prep.session_id):
                        if res.findings is not None:
                            store.replace_findings(job.fid, *res.findings)
                        store.touch_file(job.fid, size=job.size, mtime_ns=job.mtime_ns)
            except Exception as e:
                if salvage:
                    raise
                log.warning("%s: writing failed (%s: %s): writing row by row", job.path, type(e).__name__, e)
                continue
            inline = self._inline
            if inline is not None:
                if salvage:  # some rows may be missing: the search step reads what was stored
                    inline.redo.add(job.fid)
                else:
                    r = prep.session_row
                    rows = prep.search_rows()
                    inline.add(job.fid, r[2] or "", r[4] or "", sid, rows, replace=job.first and job.clear, from_seq=prep.first_seq)
            return sid
        raise AssertionError("unreachable")

    def _commit_batch(self) -> None:
        """Commit the open batch (what it holds is consistent: rows commit with their offsets)."""
        self._batch_bytes = 0
        batch, self._batch = self._batch, None
        if batch is not None:
            batch.close()

    def _not_session(self, path: str) -> None:
        stats = self._stats
        assert stats is not None, "files are planned and written only during index()"
        stats.not_sessions += 1
        stats.skipped.append((path, "not a session log (no session line among its first lines)"))

    def _failed(self, path: str, fid: int, size: int, mtime_ns: int, e: BaseException) -> None:
        """One file failed: a one-line error (the traceback only with ``-v``, i.e. at INFO), the file
        marked ``error`` with this parser version (retried once sessionlens changes)."""
        msg = failure_message(e)
        log.warning("indexing %s failed: %s", path, msg)
        log.info("indexing %s failed", path, exc_info=(type(e), e, e.__traceback__))
        stats = self._stats
        assert stats is not None, "files are planned and written only during index()"
        stats.errors.append(f"{path}: {msg}")
        stats.skipped.append((path, f"failed: {msg}"))
        try:
            with self.store.transaction():
                self.store.mark_file(
                    fid, size=size, mtime_ns=mtime_ns, status="error", error=msg[:500], parser_version=ingest.PARSER_VERSION
                )
        except Exception as e2:  # noqa: BLE001 - the store refuses even that: the file is retried next pass
            log.warning("cannot record the failure of %s: %s", path, e2)

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

    def _rule_events(self, file_id: int, full: AbstractSet[int], extra: AbstractSet[int]) -> Iterator[Event]:
        """A file's events as far as the coach reads them (see ``RULE_KINDS``), streamed in seq order:
        the others are only scanned for secrets (``_secret_reads``), and read in full when they hold
        one (``full``: read whole instead of clipped, ``extra``: events of other kinds read besides)."""
        store = self.store
        kinds = sorted(k.value for k in RULE_KINDS)
        pending = sorted(extra)  # events of other kinds holding a secret: merged in, in order
        j = 0
        for ev in store.iter_events_for_rules(file_id, kinds, clip=RULE_TEXT_CLIP, suffix=TRUNCATION_MARK):
            while j < len(pending) and pending[j] < ev.seq:
                more = store.event(file_id, pending[j])
                j += 1
                if more is not None:
                    yield more
            if j < len(pending) and pending[j] == ev.seq:
                j += 1  # read already: the streamed one stands (or its full text, below)
            yield (store.event(file_id, ev.seq) or ev) if ev.seq in full else ev
        for seq in pending[j:]:
            more = store.event(file_id, seq)
            if more is not None:
                yield more

    def _secret_reads(self, file_id: int, secret_seqs: Iterable[int] | None) -> tuple[set[int], set[int]]:
        """(events the coach reads in full instead of clipped, events of other kinds it reads besides):
        ``secret_seqs`` when known, else what a scan of the clipped texts and of the other kinds finds."""
        if secret_seqs is not None:
            known = set(secret_seqs)
            return known, known
        store = self.store
        kinds = sorted(k.value for k in RULE_KINDS)
        full = {seq for seq, text in store.clipped_texts(file_id, RULE_TEXT_CLIP) if may_hold_secret(text) and find_secrets(text)}
        extra = {
            seq
            for seq, command, text in store.event_texts(file_id, kinds)
            if (may_hold_secret(command) and find_secrets(command)) or (may_hold_secret(text) and find_secrets(text))
        }
        return full, extra

    def _coach_parsed(self, job: Job, result, prep: PreparedParse) -> tuple[str, list, str] | None:
        """(session id, findings, coach input hash) of a file parsed whole, from its parsed events
        (nothing read back)."""
        sd = prep.stored_session(job.path)
        return self._coach(sd, result.events, result.turns, job.path)

    def run_job(self, job: Job) -> Prepared | tuple[str, list, str] | None:
        """Do one job (in whichever process): a parse job's ``Prepared``, a coach job's findings."""
        return self.prepare(job) if job.kind == "parse" else self._coach_findings(job.fid, job.secrets)

    def _coach_findings(self, file_id: int, secret_seqs: Iterable[int] | None = None) -> tuple[str, list, str] | None:
        """(session id, findings, coach input hash) of a written file, read back, None when there is
        nothing to coach or the rules failed.  The events are streamed through a ``RuleSieve``:
        memory bounded by what the rules keep, not by the file's size."""
        from sessionlens.compliance.checker import instruction_files

        store = self.store
        row = store.file_row_by_id(file_id)
        if row is None or not row.session_id:
            return None
        sd = store.get_session(row.session_id)
        if sd is None:
            return None
        try:  # the guideline checks read every call: kept only when guidelines are in effect
            keep_calls = bool(instruction_files(sd)[0])
        except Exception:  # noqa: BLE001 - an unreadable project: the checks say so themselves
            keep_calls = True
        session = session_from_row(sd)
        config = self.coach_config(sd.project)
        sieve = RuleSieve(session, config, secret_seqs=secret_seqs, keep_calls=keep_calls)
        try:
            full, extra = self._secret_reads(file_id, secret_seqs)
            sieve.feed(self._rule_events(file_id, full, extra))
            clipped = store.rule_events_by_calls(file_id, sieve.partner_call_ids(), clip=RULE_TEXT_CLIP, suffix=TRUNCATION_MARK)
            partners = ((store.event(file_id, e.seq) or e) if e.seq in full else e for e in clipped)
            turns = store.aborted_or_turns(sd.id, sieve.turns_needed())
            findings = sieve.findings(turns, partners, lambda seqs: (e for e in map(partial(store.event, file_id), seqs) if e is not None))
        except Exception:
            log.exception("coach rules failed on %s", row.path)
            return None
        calls = sieve.calls + ([last] if (last := sieve.last_event()) is not None else [])
        return self._coach(sd, calls, turns, row.path, findings, session)

    def coach_hash(self, sd: StoredSession) -> str:
        """The hash of the coach's inputs for one session (besides its events): the rules' version, the
        project's coach config and the instruction files in effect.  Findings stored under another hash
        are stale: the next pass re-coaches that file (without re-parsing it)."""
        from sessionlens.compliance.checker import instructions_fingerprint

        key = (sd.agent, sd.cwd, sd.project, sd.git_commit, os.path.dirname(sd.path))
        memo = self._hash_memo
        if key not in memo:
            try:
                fp = instructions_fingerprint(sd)
            except Exception:  # an unreadable project: the findings say so themselves
                log.debug("instruction files of %s unreadable", sd.path, exc_info=True)
                fp = "unreadable"
            memo[key] = coach_input_hash(self.coach_config(sd.project), fp)
        return memo[key]

    def _stale_coach_jobs(self, files: list[str]) -> list[Job]:
        """Coach jobs for the unchanged files of this pass whose findings were computed with other inputs."""
        if not self.coach_enabled or not files:
            return []
        jobs = []
        for fid, path, stored, sd in self.store.coach_inputs(files):
            if self.coach_hash(sd) != stored:
                row = self.store.file_row_by_id(fid)
                if row is not None:
                    jobs.append(Job("coach", path, fid, row.size, row.mtime_ns))
        return jobs

    def _coach(
        self, sd: StoredSession, events: list, turns: list, path: str, findings: list | None = None, session=None
    ) -> tuple[str, list, str] | None:
        """The coach's findings of a session (its rules' ``findings`` when run already), then the
        guideline checks on its ``events`` (a file read back: its calls and last event only)."""
        session = session or session_from_row(sd)
        config = self.coach_config(sd.project)
        chash = self.coach_hash(sd if sd.path else sd.model_copy(update={"path": path}))
        if findings is None:
            try:
                findings = run_rules(session, events, turns, config)
            except Exception:
                log.exception("coach rules failed on %s", path)
                return None
        try:  # guideline violations (AGENTS.md / CLAUDE.md) become findings on the violating events
            from sessionlens.compliance.checker import session_compliance_findings

            findings += session_compliance_findings(sd, events, findings, cache_get=self.store.cache_get, config=config)
        except Exception:
            log.exception("guideline checks failed on %s", path)
        return session.id, findings, chash

    # ------------------------------------------------------------------ the worker process
    def _start_pool(self, todo_bytes: int) -> _WorkerProcess | None:
        if todo_bytes < BULK_COACH_BYTES or (os.cpu_count() or 1) < 2:
            return None
        self._spool = _spool_dir()
        try:
            return _WorkerProcess(str(self.store.home), self.prices, self.coach_enabled, self._spool)
        except (OSError, ValueError) as e:
            log.warning("indexing worker unavailable (%s): indexing in this process only", e)
            return None

    def _stop_pool(self) -> None:
        pool, self._pool = self._pool, None
        if pool is not None:
            pool.close()
        spool, self._spool = self._spool, None
        if spool:
            shutil.rmtree(spool, ignore_errors=True)


class WorkerLost(RuntimeError):
    pass


class _Ticket:
    """The pending answer to one job sent to the worker process (a minimal ``Future``)."""

    __slots__ = ("worker", "id")

    def __init__(self, worker: _WorkerProcess, ticket: int):
        self.worker, self.id = worker, ticket

    def done(self) -> bool:
        return self.worker.done(self.id)

    def result(self):
        return self.worker.result(self.id)

    def cancel(self) -> None:
        self.worker.forget(self.id)


_MAIN_LOCK = threading.Lock()


class _WorkerProcess:
    """One worker process fed through a pipe: jobs queue in the pipe itself, so the worker never
    waits for this process (a ``ProcessPoolExecutor`` hands over jobs from a thread that must win
    the GIL from the writing thread first, and its worker sat idle a third of the time)."""

    def __init__(self, home: str, prices: PriceTable, coach_enabled: bool, spool: str | None):
        ctx = multiprocessing.get_context("spawn")  # spawn: APSW and Tantivy objects must not be inherited
        jobs_r, self._jobs = ctx.Pipe(duplex=False)
        self._results, res_w = ctx.Pipe(duplex=False)
        self._proc = ctx.Process(
            target=_worker_main, args=(jobs_r, res_w, home, prices, coach_enabled, spool), name="sessionlens-indexer", daemon=True
        )
        with _MAIN_LOCK:
            # spawn would import this process's ``__main__`` again in the worker (a CLI's or a test
            # runner's module, and all it imports: pydantic's settings models for one), when the
            # worker needs only sessionlens modules: its target and arguments pickle by reference
            main = sys.modules.get("__main__")
            sys.modules["__main__"] = types.ModuleType("__main__")  # no spec, no file: nothing to import
            try:
                self._proc.start()
            finally:
                if main is not None:
                    sys.modules["__main__"] = main
        jobs_r.close()
        res_w.close()
        self._ids = itertools.count(1)
        self._answers: dict[int, tuple[bool, object]] = {}
        self._waiting: dict[int, int] = {}  # job id -> bytes it parses
        self.outstanding_bytes = 0
        self._lost: BaseException | None = None

    def submit(self, job: Job, nbytes: int = 0) -> _Ticket:
        if self._lost is not None:
            raise WorkerLost(str(self._lost))
        tid = next(self._ids)
        self._jobs.send((tid, job))
        self._waiting[tid] = nbytes
        self.outstanding_bytes += nbytes
        return _Ticket(self, tid)

    def outstanding(self) -> int:
        self._collect()
        return len(self._waiting)

    def _collect(self, block_for: int | None = None) -> None:
        try:
            while block_for is not None and block_for in self._waiting or self._results.poll():
                tid, ok, value = self._results.recv()
                if tid in self._waiting:
                    self.outstanding_bytes -= self._waiting.pop(tid)
                    self._answers[tid] = (ok, value)
        except (EOFError, OSError) as e:
            self._lost = e
            for tid in self._waiting:
                self._answers[tid] = (False, WorkerLost(f"the indexing worker stopped ({e!r})"))
            self._waiting.clear()
            self.outstanding_bytes = 0

    def done(self, tid: int) -> bool:
        if tid not in self._answers:
            self._collect()
        return tid in self._answers

    def result(self, tid: int):
        if tid not in self._answers:
            self._collect(block_for=tid)
        ok, value = self._answers.pop(tid, (False, WorkerLost("no answer")))
        if not ok:
            assert isinstance(value, BaseException), "a failed job's answer is its exception"
            raise value
        return value

    def forget(self, tid: int) -> None:
        self.outstanding_bytes -= self._waiting.pop(tid, 0)
        self._answers.pop(tid, None)

    def close(self) -> None:
        try:
            self._jobs.send(None)
        except OSError:
            pass
        if self._waiting:  # cancelled: what the worker still has queued is not wanted
            self._proc.terminate()
        self._proc.join(10)
        if self._proc.is_alive():
            self._proc.kill()
            self._proc.join(5)
        self._jobs.close()
        self._results.close()


#: The worker process's own indexer (its own store connection, for reading) and spool folder, made
#: by ``_worker_main``.
_WORKER: Indexer | None = None
_SPOOL: str | None = None
_SPOOLED = itertools.count()


def _worker_main(jobs, results, home: str, prices: PriceTable, coach_enabled: bool, spool: str | None) -> None:
    global _WORKER, _SPOOL
    _WORKER = Indexer(Store(home), None, prices=prices, coach_enabled=coach_enabled)  # no search: it only prepares jobs
    _SPOOL = spool
    while True:
        try:
            msg = jobs.recv()
        except EOFError:
            return
        if msg is None:
            return
        tid, job = msg
        try:
            value = _spooled(_WORKER.run_job(job))
            ok = True
        except Exception as e:  # noqa: BLE001 - handed back, reported for the file
            value, ok = e, False
        try:
            results.send((tid, ok, value))
        except Exception as e:  # noqa: BLE001 - e.g. an exception that does not pickle
            results.send((tid, False, RuntimeError(f"{type(value).__name__}: {value} ({e})")))


def _spooled(result):
    """Every answer goes through the spool, so the answers pipe only carries a few bytes per job: the
    worker never waits on it (while this process may wait to hand it a job)."""
    if _SPOOL is None or result is None:
        return result
    path = os.path.join(_SPOOL, f"{os.getpid()}-{next(_SPOOLED)}")
    try:
        with open(path, "wb") as f:
            f.write(pickle.dumps(result, protocol=pickle.HIGHEST_PROTOCOL))
    except OSError:  # a full spool: through the pipe then
        return result
    return _Spooled(path)
