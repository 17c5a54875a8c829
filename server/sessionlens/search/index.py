"""The Tantivy full-text index: derived from the store, rebuilt when missing, corrupt or outdated.

Documents are searchable events (messages, reasoning, commands, tool output (its head and tail), patches).
A file's documents are deleted by a query on ``file_id`` (an indexed integer): no per-document
key field (a raw text key per document cost an eighth of the indexing time).
Writes happen only under the store's writer lock (Tantivy allows one writer per index).  A small sync
(an append the language server's watcher saw) may leave the merges its commit started to a thread of
their own (``merge_in_background``): the new documents are searchable from the commit on, and an
append is not held up by a merge of older segments (up to a few hundred ms on a big index); the
next writer, in this process or another one, waits for that merge first.
"""

from __future__ import annotations

import html
import os
import re
import shutil
import threading
import time
from collections.abc import Iterable
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, cast

import orjson
import tantivy

from sessionlens.models.lazy import lazy_logger
from sessionlens.store import Store

log = lazy_logger(__name__)  # (logging imported on first use: models/lazy.py)

SCHEMA_VERSION = 5  # 5: a call's text is not repeated after its command, nor its files after a text naming them
SEARCHABLE_KINDS = (
    "user_message",
    "assistant_message",
    "reasoning",
    "tool_call",
    "tool_result",
    "patch",
    "compaction",
    "error",
)
MAX_TEXT = {"patch": 4000}
#: A tool result is indexed by its first and last characters.
RESULT_HEAD = 1000
RESULT_TAIL = 400
DEFAULT_MAX_TEXT = 6000
#: How long a new writer waits for another process's writer (its background merge) to let go.
WRITER_BUSY_S = 60.0


def build_schema() -> tantivy.Schema:
    b = tantivy.SchemaBuilder()
    b.add_text_field("session", stored=True, tokenizer_name="raw")
    b.add_text_field("agent", stored=True, tokenizer_name="raw")
    b.add_text_field("project", stored=True, tokenizer_name="raw")
    b.add_text_field("kind", stored=True, tokenizer_name="raw")
    b.add_text_field("tool", stored=True, tokenizer_name="raw")
    b.add_text_field("model", stored=True, tokenizer_name="raw")
    b.add_text_field("text", stored=True, tokenizer_name="en_stem")
    b.add_integer_field("ts", stored=True, indexed=True, fast=True)
    b.add_unsigned_field("line", stored=True, indexed=True, fast=True)
    b.add_unsigned_field("file_id", stored=True, indexed=True)
    return b.build()


@dataclass
class SearchFilters:
    agent: str | None = None
    project: str | None = None
    kind: str | None = None
    tool: str | None = None
    session: str | None = None
    model: str | None = None
    since: float | None = None  # unix seconds
    until: float | None = None


@dataclass
class SearchHit:
    session_id: str
    line: int
    path: str
    agent: str | None
    project: str | None
    kind: str | None
    tool: str | None
    model: str | None
    timestamp: float | None
    score: float
    snippet: str
    snippet_html: str
    highlights: list[tuple[int, int]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "session_id": self.session_id,
            "seq": self.line,
            "line": self.line,
            "path": self.path,
            "agent": self.agent,
            "project": self.project,
            "kind": self.kind,
            "tool": self.tool or None,
            "model": self.model or None,
            "timestamp": datetime.fromtimestamp(self.timestamp, timezone.utc).isoformat() if self.timestamp else None,
            "score": round(self.score, 4),
            "snippet": self.snippet,
            "snippet_html": self.snippet_html,
            "highlights": self.highlights,
        }


_WS = re.compile(r"\s+")
_WS1 = re.compile(r"\s")


def _doc_text(kind: str, tool: str | None, command: str | None, text: str | None, files: str | None) -> str:
    """The searchable text of an event: its command (once: a Bash call's text *is* its command),
    the files it touched (unless its text names them already) and its text.  Tool names are a
    default search field of their own (a plain ``apply_patch`` finds the calls, see ``search``)."""
    parts = []
    if command:
        parts.append(command)
    if files and not (text and all(f in text for f in _file_list(files))):
        try:
            parts.append(" ".join(orjson.loads(files)))
        except orjson.JSONDecodeError:
            pass
    if text and text.strip() != (command or "").strip():
        if kind == "tool_result" and len(text) > RESULT_HEAD + RESULT_TAIL:
            # where a command says what it does and how it ended (errors, summaries): the middle of a
            # long output (file dumps, progress) is what a search needs least, and costs the most
            parts.append(text[:RESULT_HEAD])
            parts.append(text[-RESULT_TAIL:])
        else:
            parts.append(text[: MAX_TEXT.get(kind, DEFAULT_MAX_TEXT)])
    return "\n".join(parts)


#: The longest text a document takes from an event (what ``Store.searchable_events`` clips to).
MOST_TEXT = max(DEFAULT_MAX_TEXT, *MAX_TEXT.values())


def _add_docs(writer, file_id: int, agent: str, project: str, rows: Iterable[tuple]) -> int:
    """Add the documents of one file's searchable rows (seq, session id, ts, kind, tool, model,
    command, text clipped as ``_clip`` does, files, flags); returns how many had text."""
    n = 0
    add = writer.add_document
    for seq, sid, ts, kind, tool, model, command, text, files, _flags in rows:
        body = _doc_text(kind, tool, command, text, files)
        if not body.strip():
            continue
        doc = tantivy.Document()
        doc.add_text("session", sid)
        doc.add_text("agent", agent)
        doc.add_text("project", project)
        doc.add_text("kind", kind)
        doc.add_text("tool", tool or "")
        doc.add_text("model", model or "")
        doc.add_text("text", body)
        doc.add_integer("ts", int(ts) if ts is not None else 0)
        doc.add_unsigned("line", seq)
        doc.add_unsigned("file_id", file_id)
        add(doc)
        n += 1
    return n


def _clip(kind: str, text: str | None) -> str | None:
    """``text`` as ``Store.searchable_events(clip=...)`` returns it (SQL's ``length``/``substr`` count
    characters, as ``len`` and slices do; a text holding NUL is not clipped here: see ``InlineWriter``)."""
    if text is None:
        return None
    n = len(text)
    if kind == "tool_result" and n > RESULT_HEAD + RESULT_TAIL:
        return text[:RESULT_HEAD] + "\n" + text[-RESULT_TAIL:]
    if n > MOST_TEXT:
        return text[:MOST_TEXT]
    return text


class InlineWriter:
    """Index a pass's rows while they are written: what ``SearchIndex.sync`` would do for the queue
    entries of each write, applied at the write (same deletes, same documents), from the rows in
    hand instead of reading them back from the store at the end.  The queue entries stay until
    ``commit`` and ``sync(applied=...)`` have run: a crash before loses nothing (the next sync redoes
    them from the store, idempotently).  A file the writer cannot mirror exactly is ``redo``ne by
    ``sync`` from the store."""

    def __init__(self, index: SearchIndex, writer):
        self._index = index
        self._writer = writer
        self.applied: set[int] = set()  # files with documents added here
        self.redo: set[int] = set()  # files left to sync (from the store)
        self.context: dict[int, tuple[str, str]] = {}  # file -> (agent, project) its documents carry
        self._last_seq: dict[int, int] = {}
        self.docs: dict[int, int] = {}  # file -> documents added

    def add(
        self, file_id: int, agent: str, project: str, session_id: str, rows: Iterable[tuple], *, replace: bool, from_seq: int | None
    ) -> None:
        """The documents of one write: ``rows`` (seq, ts, kind, tool, model, command, text, files,
        flags, in seq order) of the events it stored, all under ``session_id``; ``replace``: the write
        began with clearing the file (the queue's 'replace'), else it queued an 'append' from
        ``from_seq`` (None: it queued nothing)."""
        if file_id in self.redo or (not replace and from_seq is None):
            return
        if not replace and from_seq is not None and self._last_seq.get(file_id, -1) >= from_seq:
            self.redo.add(file_id)  # rows written over earlier ones: the store knows best
            return
        if not replace and self.context.setdefault(file_id, (agent, project)) != (agent, project):
            self.redo.add(file_id)  # an earlier write's documents carry another project
            return
        picked = []
        last = -1
        for seq, ts, kind, tool, model, command, text, files, flags in rows:
            last = seq
            if flags & 1 or kind not in _SEARCHABLE:
                continue
            if text is not None and "\x00" in text:  # SQL's length() stops at a NUL: let the store say
                self.redo.add(file_id)
                return
            picked.append((seq, session_id, ts, kind, tool, model, command, _clip(kind, text), files, flags))
        schema = self._index.schema
        if replace:  # the store holds only what this write and the next ones bring
            self._last_seq.pop(file_id, None)
            self.context[file_id] = (agent, project)
            self._writer.delete_documents_by_query(tantivy.Query.term_query(schema, "file_id", file_id))
        else:
            self._writer.delete_documents_by_query(
                tantivy.Query.boolean_query(
                    [
                        (tantivy.Occur.Must, tantivy.Query.term_query(schema, "file_id", file_id)),
                        (tantivy.Occur.Must, tantivy.Query.range_query(schema, "line", tantivy.FieldType.Unsigned, from_seq, None)),
                    ]
                )
            )
        self.applied.add(file_id)
        self._last_seq[file_id] = max(self._last_seq.get(file_id, -1), last)
        n = _add_docs(self._writer, file_id, agent, project, picked)
        self.docs[file_id] = (0 if replace else self.docs.get(file_id, 0)) + n

    def commit(self) -> None:
        writer, self._writer = self._writer, None
        if writer is not None:
            writer.commit()
            writer.wait_merging_threads()
            del writer

    def rollback(self) -> None:
        writer, self._writer = self._writer, None
        if writer is not None:
            try:
                writer.rollback()
            except Exception:  # noqa: BLE001 - what was not committed is gone either way
                log.debug("search writer rollback failed", exc_info=True)
            del writer


_SEARCHABLE = frozenset(SEARCHABLE_KINDS)


def _file_list(files: str) -> list[str]:
    try:
        v = orjson.loads(files)
    except orjson.JSONDecodeError:
        return []
    return [str(x) for x in v] if isinstance(v, list) else []


class SearchIndex:
    """One Tantivy index directory (``<home>/index``)."""

    def __init__(self, home: str | Path):
        self.dir = Path(home) / "index"
        self.schema = build_schema()
        self.index: tantivy.Index | None = None
        self._last_reload = 0.0
        self._merging: threading.Thread | None = None  # the last commit's merges, waited for on a thread
        self.background_merges = 0
        self._open()

    # ------------------------------------------------------------------ writers
    def new_writer(self, *, heap_size: int, threads: int = 1):
        """A writer, once this process's background merge is done; another process's writer (its
        own background merge) is waited out for up to ``WRITER_BUSY_S``."""
        self.wait_merges()
        deadline = time.monotonic() + WRITER_BUSY_S
        while True:
            try:
                return self._opened().writer(heap_size=heap_size, num_threads=threads)
            except ValueError as e:
                if "LockBusy" not in str(e) or time.monotonic() >= deadline:
                    raise
                time.sleep(0.02)

    def release_writer(self, writer, *, background: bool = False) -> None:
        """After a commit: wait for the merges it started (``background``: on a thread, see the module)."""
        if not background:
            writer.wait_merging_threads()
            return

        def run() -> None:
            try:
                writer.wait_merging_threads()  # Tantivy's threads merge; this one only holds the writer
            except Exception as e:  # noqa: BLE001 - a failed merge leaves the committed segments as they were
                log.warning("search index merge failed: %s", e)

        t = threading.Thread(target=run, name="sl-search-merge", daemon=True)
        self._merging = t
        self.background_merges += 1
        t.start()

    def wait_merges(self) -> None:
        """Wait for a background merge of this process (before another writer, a rebuild, closing)."""
        t, self._merging = self._merging, None
        if t is not None and t is not threading.current_thread():
            t.join()

    def close(self) -> None:
        self.wait_merges()

    def _opened(self) -> tantivy.Index:
        """The open index (``_open`` always leaves one, rebuilt empty when the old one was unreadable)."""
        if self.index is None:
            raise RuntimeError(f"the search index at {self.dir} is not open")
        return self.index

    # ------------------------------------------------------------------ open / rebuild
    def _version_file(self) -> Path:
        return self.dir / "sessionlens-schema-version"

    def _rebuild_flag(self) -> Path:
        return self.dir / "sessionlens-needs-rebuild"

    def _open(self) -> None:
        ok = False
        if self.dir.exists():
            try:
                ver = int(self._version_file().read_text().strip())
            except (OSError, ValueError):
                ver = -1
            if ver == SCHEMA_VERSION and tantivy.Index.exists(str(self.dir)):
                try:
                    self.index = tantivy.Index(self.schema, path=str(self.dir), reuse=True)
                    self.index.searcher()
                    ok = True
                except Exception as e:  # corrupt or foreign index
                    log.warning("search index at %s is unreadable (%s); rebuilding it from the store", self.dir, e)
        if not ok:
            self._create_fresh()

    def _create_fresh(self) -> None:
        """Replace the index directory by an empty index, atomically: processes opening the same
        home at the same time (CLI, language server) either win the rename or adopt the winner's."""
        if getattr(self, "_merging", None) is not None:
            self.wait_merges()
        tmp = self.dir.with_name(f"{self.dir.name}.new-{os.getpid()}")
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        tantivy.Index(self.schema, path=str(tmp))
        # the flag survives a crash: the next sync re-adds every file from the store
        (tmp / self._rebuild_flag().name).write_text("1")
        (tmp / self._version_file().name).write_text(str(SCHEMA_VERSION))
        if self.dir.exists():  # outdated or corrupt
            old = self.dir.with_name(f"{self.dir.name}.old-{os.getpid()}")
            try:
                os.rename(self.dir, old)
            except OSError:  # another process moved it first
                pass
            shutil.rmtree(old, ignore_errors=True)
        try:
            os.rename(tmp, self.dir)
        except OSError:  # another process created it first: use theirs
            shutil.rmtree(tmp, ignore_errors=True)
        self.index = tantivy.Index(self.schema, path=str(self.dir), reuse=True)

    def mark_built(self) -> None:
        try:
            self._rebuild_flag().unlink()
        except FileNotFoundError:
            pass

    def needs_rebuild(self) -> bool:
        return self._rebuild_flag().exists()

    # ------------------------------------------------------------------ write
    def inline_writer(self, store: Store, *, heap_size: int, threads: int = 1) -> InlineWriter | None:
        """A writer that indexes a pass's rows as they are written (no read-back at the end), or None
        when the queue holds older work (a pass that stopped early, a rebuild): then ``sync`` does it
        all from the store.  Call with the store's writer lock held."""
        if self.needs_rebuild() or store.search_queue(limit=1):
            return None
        return InlineWriter(self, self.new_writer(heap_size=heap_size, threads=threads))

    def sync(
        self,
        store: Store,
        *,
        heap_size: int = 64_000_000,
        threads: int = 1,
        applied: AbstractSet[int] = frozenset(),
        redo: AbstractSet[int] = frozenset(),
        merge_in_background: bool = False,
    ) -> int:
        """Apply the store's search queue to the index.  Call with the store's writer lock held.

        Idempotent: an 'append' first deletes the file's docs at or after ``from_seq``, so a crash
        between the Tantivy commit and the queue clean-up never duplicates documents.

        ``applied``: files whose queued operations an :class:`InlineWriter` has applied already (and
        committed); ``redo``: files whose documents are replaced from the store whatever is queued;
        ``merge_in_background``: see the module (a long-lived process's small syncs).
        """
        if self.needs_rebuild():
            store.enqueue_all_for_search()
        total = 0
        first = True
        while True:
            queue = store.search_queue()
            if not queue and not (first and redo):
                break
            ops: dict[int, tuple[str, int]] = {}
            if first:
                ops.update((fid, ("replace", 0)) for fid in sorted(redo))
                first = False
            for item in queue:
                if item.file_id in applied and item.file_id not in redo:
                    continue
                prev = ops.get(item.file_id)
                if item.op in ("replace", "delete") or prev is None:
                    ops[item.file_id] = (item.op, item.from_seq)
                elif prev[0] == "append":
                    ops[item.file_id] = ("append", min(prev[1], item.from_seq))
            writer = self.new_writer(heap_size=heap_size, threads=threads)
            try:
                for file_id, (op, from_seq) in ops.items():
                    if op in ("replace", "delete"):
                        writer.delete_documents_by_query(tantivy.Query.term_query(self.schema, "file_id", file_id))
                        if op == "delete":
                            continue
                        from_seq = 0
                    else:
                        q = tantivy.Query.boolean_query(
                            [
                                (tantivy.Occur.Must, tantivy.Query.term_query(self.schema, "file_id", file_id)),
                                (
                                    tantivy.Occur.Must,
                                    tantivy.Query.range_query(self.schema, "line", tantivy.FieldType.Unsigned, from_seq, None),
                                ),
                            ]
                        )
                        writer.delete_documents_by_query(q)
                    total += self._add_file(writer, store, file_id, from_seq)
                writer.commit()
            except BaseException:
                try:
                    writer.rollback()
                except Exception:
                    pass
                raise
            self.release_writer(writer, background=merge_in_background)
            del writer
            if queue:
                with store.transaction():
                    store.clear_search_queue(max(item.id for item in queue))
        if self.needs_rebuild():
            self.mark_built()
        self.reload(force=True)
        return total

    def _add_file(self, writer, store: Store, file_id: int, from_seq: int) -> int:
        ctx = store.file_search_context(file_id)
        if not ctx:
            return 0
        return _add_docs(
            writer,
            file_id,
            ctx.agent or "",
            ctx.project or "",
            store.searchable_events(file_id, from_seq, SEARCHABLE_KINDS, clip=(RESULT_HEAD, RESULT_TAIL, MOST_TEXT)),
        )

    # ------------------------------------------------------------------ read
    def reload(self, force: bool = False) -> None:
        now = time.monotonic()
        if force or now - self._last_reload > 0.05:
            try:
                self._opened().reload()
            except Exception as e:
                log.warning("search index reload failed: %s", e)
            self._last_reload = now

    def num_docs(self) -> int:
        self.reload()
        return self._opened().searcher().num_docs

    def _filter_query(self, f: SearchFilters) -> list[tuple[Any, Any]]:
        s = self.schema
        parts = []
        for field_name, value in (("agent", f.agent), ("kind", f.kind), ("tool", f.tool), ("session", f.session), ("model", f.model)):
            if value:
                values = [v.strip() for v in str(value).split(",") if v.strip()]
                if len(values) == 1:
                    parts.append((tantivy.Occur.Must, tantivy.Query.term_query(s, field_name, values[0])))
                else:
                    parts.append((tantivy.Occur.Must, tantivy.Query.term_set_query(s, field_name, values)))
        if f.project:
            parts.append((tantivy.Occur.Must, tantivy.Query.regex_query(s, "project", f"(.*/)?{re.escape(f.project)}")))
        if f.since is not None or f.until is not None:
            parts.append(
                (
                    tantivy.Occur.Must,
                    tantivy.Query.range_query(
                        s,
                        "ts",
                        tantivy.FieldType.Integer,
                        int(f.since) if f.since is not None else 1,  # ts 0 = no timestamp (Cursor): never in a range
                        int(f.until) if f.until is not None else None,
                        include_upper=f.until is None,
                    ),
                )
            )
        return parts

    def search(
        self, query: str, filters: SearchFilters | None = None, *, limit: int = 20, offset: int = 0, paths: dict[int, str] | None = None
    ) -> tuple[int, list[SearchHit], list[str]]:
        """Ranked search.  User text never raises: the lenient parser turns bad syntax into best effort.

        Returns (total matches, hits, query parse warnings).
        """
        self.reload()
        filters = filters or SearchFilters()
        warnings: list[str] = []
        q_text = (query or "").strip()
        parts = self._filter_query(filters)
        text_query = None
        if q_text:
            # the tool name is a default field too: a plain `Edit` or `apply_patch` finds those calls
            fields = ["text", "tool"]
            text_query, errors = (
                self._opened().parse_query_lenient(q_text, fields, conjunction_by_default=True)
                if _supports_conjunction()
                else self._opened().parse_query_lenient(q_text, fields)
            )
            warnings = [str(e) for e in errors]
            parts.insert(0, (tantivy.Occur.Must, text_query))
        if not parts:
            return 0, [], warnings
        q = parts[0][1] if len(parts) == 1 else tantivy.Query.boolean_query(parts)
        searcher = self._opened().searcher()
        if text_query is None:
            res = searcher.search(q, limit=limit, offset=offset, count=True, order_by_field="ts")
        else:
            res = searcher.search(q, limit=limit, offset=offset, count=True)
        snip = None
        if text_query is not None:
            snip = tantivy.SnippetGenerator.create(searcher, text_query, self.schema, "text")
            snip.set_max_num_chars(180)
        hits = []
        for score, addr in res.hits:
            doc = searcher.doc(addr)
            text = doc.get_first("text") or ""
            if snip is not None:
                sn = snip.snippet_from_doc(doc)
                frag = sn.fragment()
                hl = _char_ranges(frag, [(h.start, h.end) for h in sn.highlighted()])
                if not frag:
                    frag, hl = text[:180], []
            else:
                frag, hl = text[:180], []
            hits.append(
                SearchHit(
                    session_id=cast(str, doc.get_first("session")),  # every document has both
                    line=cast(int, doc.get_first("line")),
                    path=(paths or {}).get(cast(int, doc.get_first("file_id")), ""),
                    agent=doc.get_first("agent"),
                    project=doc.get_first("project"),
                    kind=doc.get_first("kind"),
                    tool=doc.get_first("tool"),
                    model=doc.get_first("model"),
                    timestamp=doc.get_first("ts") or None,
                    score=float(score) if isinstance(score, (int, float)) else 0.0,
                    snippet=_WS1.sub(" ", frag),
                    snippet_html=_highlight_html(frag, hl),
                    highlights=hl,
                )
            )
            hits[-1]._file_id = doc.get_first("file_id")  # type: ignore[attr-defined]
        return getattr(res, "count", None) or 0, hits, warnings


_CONJ: bool | None = None


def _supports_conjunction() -> bool:
    global _CONJ
    if _CONJ is None:
        try:
            idx = tantivy.Index(build_schema())
            idx.parse_query_lenient("a b", ["text"], conjunction_by_default=True)
            _CONJ = True
        except TypeError:
            _CONJ = False
    return _CONJ


def _char_ranges(frag: str, byte_ranges: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Tantivy reports highlights as UTF-8 byte offsets; callers index the str by characters."""
    if frag.isascii():
        return byte_ranges
    raw = frag.encode()

    def chars(n: int) -> int:
        return len(raw[:n].decode("utf-8", "ignore"))

    return [(chars(a), chars(b)) for a, b in byte_ranges]


def _highlight_html(frag: str, ranges: list[tuple[int, int]]) -> str:
    out, pos = [], 0
    for a, b in sorted(ranges):
        if a < pos:
            continue
        out.append(html.escape(frag[pos:a]))
        out.append("<b>" + html.escape(frag[a:b]) + "</b>")
        pos = b
    out.append(html.escape(frag[pos:]))
    return _WS.sub(" ", "".join(out)).strip()
