"""Agent blame: which session wrote each line of a workspace file (the application API of #22).

The edits index (``store.edits``, built while indexing by ``ingest.edits``) holds, per edit hunk, the
file relative to its session's repository root and hashes of the lines it produced.  Here a file's
current lines are matched against the edits of its repository-relative path (and its earlier names):

* by content, not line number, so a line survives edits around it by people and other sessions; a
  line's writer is the most recent edit that produced exactly that content;
* short or blank lines (``}``, ``end``, an empty line) are never matched alone: they go to the writer
  of a neighbouring line when that edit produced them too;
* a whole-file write does not take over lines an earlier edit already produced (it carried them over);
* with git: a line whose commit (``git blame``) is older than an edit is not that edit's (the line
  already existed: the edit only rewrote it, or never did), lines committed before a session began
  are never its; renames git knows about (``git blame``'s per-commit file names, ``git log -M``)
  bring the edits of the file's earlier names.

git runs with fixed arguments on the workspace file (``git blame --porcelain --contents - -- <file>``
with the editor's text on stdin; ``git log``), never with anything read from a log.  Results are
cached per file text and git state, so a hover is a lookup.
"""

from __future__ import annotations

import hashlib
import logging
import os
import subprocess
import threading
import time
import weakref
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from sessionlens.agents import registry as agent_registry
from sessionlens.ingest.edits import line_hash, normalize, unpack_hashes
from sessionlens.services.links import deep_link_for
from sessionlens.services.masking import mask_text
from sessionlens.services.render.safe_md import md_text
from sessionlens.store import edits as edits_store

if TYPE_CHECKING:
    from sessionlens.services.app import App

log = logging.getLogger(__name__)

GIT_TIMEOUT_S = 10.0
#: a commit's time and an edit's time may disagree by this much (clocks, second resolution)
CLOCK_SLACK_S = 2.0
_CACHE_FILES = 64
STAMP_TTL_S = 1.0
_UNCOMMITTED = "0" * 40


# ---------------------------------------------------------------------------------------------- results
@dataclass(slots=True)
class Writer:
    """The edit a line is attributed to."""

    session_id: str
    agent: str
    file_id: int
    seq: int
    ts: float | None
    turn: int | None
    tool: str | None
    op: str
    path: str  # the edited path (relative to its repository), maybe an earlier name of the file
    title: str | None
    log_path: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "session_id": self.session_id,
            "agent": self.agent,
            "agent_label": agent_registry.label(self.agent),
            "seq": self.seq,
            "ts": _iso(self.ts),
            "turn": self.turn,
            "tool": self.tool,
            "op": self.op,
            "path": self.path,
        }


@dataclass(slots=True)
class FileBlame:
    path: str  # the file (absolute)
    root: str | None  # its repository root (git) or workspace folder
    rel: str  # its path relative to root
    names: list[str]  # rel and its earlier names
    lines: list[Writer | None]  # one per line of the text
    sessions: list[dict[str, Any]] = field(default_factory=list)  # sessions that edited the file, newest first
    git: bool = False  # git history was used

    @property
    def attributed(self) -> int:
        return sum(1 for w in self.lines if w is not None)


def _iso(ts: float | None) -> str | None:
    if ts is None:
        return None
    try:
        return datetime.fromtimestamp(ts, timezone.utc).isoformat().replace("+00:00", "Z")
    except (OverflowError, OSError, ValueError):
        return None


# ---------------------------------------------------------------------------------------------- git
def repo_root(path: str) -> str | None:
    """The git work tree holding ``path`` (a folder with ``.git``, a worktree's ``.git`` file too)."""
    d = os.path.dirname(os.path.abspath(path))
    while True:
        if os.path.exists(os.path.join(d, ".git")):
            return d
        parent = os.path.dirname(d)
        if parent == d:
            return None
        d = parent


def _git(root: str, *args: str, stdin: bytes | None = None) -> str | None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env["GIT_OPTIONAL_LOCKS"] = "0"
    env["LC_ALL"] = "C"
    try:
        p = subprocess.run(["git", "-C", root, *args], input=stdin, capture_output=True, timeout=GIT_TIMEOUT_S, env=env, check=False)
    except (OSError, subprocess.SubprocessError) as e:
        log.debug("git %s failed: %s", args[:1], e)
        return None
    if p.returncode != 0:
        log.debug("git %s: %s", args[:1], p.stderr[:300])
        return None
    return p.stdout.decode("utf-8", "replace")


def _git_state(root: str) -> tuple:
    """Changes whenever a commit, checkout or stage happens (stat of HEAD, index, refs)."""
    out: list[tuple[int, int] | None] = []
    for name in ("HEAD", "index", "packed-refs", "ORIG_HEAD"):
        try:
            st = os.stat(os.path.join(root, ".git", name))
            out.append((st.st_mtime_ns, st.st_size))
        except OSError:
            out.append(None)
    return tuple(out)


@dataclass(slots=True)
class _BlameLine:
    commit: str
    time: int | None  # author time (epoch seconds); None: not committed yet
    filename: str


def git_blame(root: str, rel: str, text: str) -> list[_BlameLine] | None:
    """``git blame --porcelain`` of the file with the editor's ``text`` (None: no git, or not tracked)."""
    out = _git(root, "blame", "--porcelain", "--contents", "-", "--", rel, stdin=text.encode("utf-8", "replace"))
    if out is None:
        return None
    info: dict[str, dict[str, Any]] = {}
    lines: list[_BlameLine] = []
    cur: str | None = None
    for ln in out.split("\n"):
        if not ln:
            continue
        if ln.startswith("\t"):
            if cur is not None:
                d = info[cur]
                uncommitted = cur == _UNCOMMITTED
                lines.append(_BlameLine(cur, None if uncommitted else d.get("author-time"), d.get("filename", rel)))
            continue
        head, _, rest = ln.partition(" ")
        if len(head) == 40 and all(c in "0123456789abcdef" for c in head):
            cur = head
            info.setdefault(cur, {})
            continue
        if cur is None:
            continue
        if head in ("author-time", "committer-time"):
            try:
                info[cur][head] = int(rest.strip())
            except ValueError:
                pass
        elif head == "filename":
            info[cur]["filename"] = rest
    return lines


def git_renames(root: str, since: float | None) -> dict[str, set[str]]:
    """Renames in the repository's history (since ``since``): new path -> earlier paths."""
    args = ["log", "-M", "--diff-filter=R", "--name-status", "--format="]
    if since is not None:
        args.append(f"--since={int(since) - 86400}")
    out = _git(root, *args)
    names: dict[str, set[str]] = {}
    for ln in (out or "").split("\n"):
        parts = ln.split("\t")
        if len(parts) == 3 and parts[0].startswith("R"):
            names.setdefault(parts[2], set()).add(parts[1])
    return names


# ---------------------------------------------------------------------------------------------- matching
def _strong(norm: str) -> bool:
    """A line distinctive enough to be matched on its own."""
    return len(norm) >= 6 and sum(ch.isalnum() for ch in norm) >= 3


@dataclass(slots=True)
class _Edit:
    row: edits_store.EditRow
    hashes: frozenset[int]
    when: float


def attribute(lines: list[str], rows: list[edits_store.EditRow], blame: list[_BlameLine] | None) -> list[_Edit | None]:
    """The writer of each line (pure: the lines, the edits of the file oldest first, git blame)."""
    edits = []
    for r in rows:
        if r.op in ("delete", "move") or not r.nlines:
            continue
        edits.append(_Edit(r, frozenset(unpack_hashes(r.hashes)), r.ts if r.ts is not None else (r.started_at or 0.0)))
    by_hash: dict[int, list[int]] = {}
    for i, e in enumerate(edits):
        for h in e.hashes:
            by_hash.setdefault(h, []).append(i)
    n = len(lines)
    norms = [normalize(x) for x in lines]
    hashes = [line_hash(x) for x in lines]
    out: list[_Edit | None] = [None] * n
    git_ok = blame is not None and len(blame) == n

    def allowed(e: _Edit, i: int) -> bool:
        if not git_ok:
            return True
        b = blame[i]  # type: ignore[index]
        if b.time is None:
            return True  # not committed yet: any edit may have written it
        started = e.row.started_at if e.row.started_at is not None else e.when
        if b.time + CLOCK_SLACK_S < started:
            return False  # committed before the session began
        return not (b.time + CLOCK_SLACK_S < e.when)  # the line was committed before this edit was made

    def pick(i: int) -> _Edit | None:
        cands = by_hash.get(hashes[i])
        if not cands:
            return None
        ok = [j for j in cands if allowed(edits[j], i)]
        if not ok:
            return None
        best = max(ok, key=lambda j: (edits[j].when, j))
        e = edits[best]
        if e.row.op in ("write", "add"):
            # a whole-file write carries over what earlier edits of the file produced
            older = [j for j in ok if j != best and edits[j].when <= e.when and edits[j].row.op not in ("write", "add")]
            if older:
                return edits[max(older, key=lambda j: (edits[j].when, j))]
        return e

    for i in range(n):
        if _strong(norms[i]):
            out[i] = pick(i)
    # weak lines: the writer of a neighbour, when that edit produced this content too (both directions)
    for order in (range(n), range(n - 1, -1, -1)):
        step = 1 if order.step == 1 else -1
        for i in order:
            if out[i] is not None or _strong(norms[i]):
                continue
            j = i - step
            nb = out[j] if 0 <= j < n else None
            if nb is not None and hashes[i] in nb.hashes and allowed(nb, i):
                out[i] = nb
    return out


# ---------------------------------------------------------------------------------------------- the service
class BlameService:
    """Blame per file, cached by (text, git state, store state)."""

    def __init__(self, app: App):
        self.app = app
        self._cache: OrderedDict[str, tuple[tuple, FileBlame]] = OrderedDict()
        self._renames: dict[str, tuple[tuple, dict[str, set[str]]]] = {}
        self._described: OrderedDict[tuple, dict[str, Any]] = OrderedDict()
        self._stamp: tuple[float, tuple] = (0.0, ())
        self._lock = threading.Lock()

    def _store_stamp(self, conn) -> tuple:
        """What changes when an indexing pass wrote (looked at most once a second: a hover stays a lookup)."""
        now = time.monotonic()
        with self._lock:
            at, stamp = self._stamp
        if now - at < STAMP_TTL_S and stamp:
            return stamp
        stamp = (conn.execute("SELECT max(indexed_at) FROM files").get, conn.execute("SELECT max(rowid) FROM files").get)
        with self._lock:
            self._stamp = (now, stamp)
        return stamp

    def _locate(self, path: str) -> tuple[str | None, str, bool]:
        """(root, path relative to it, root is a git work tree)."""
        root = repo_root(path)
        is_git = root is not None
        if root is None:
            folders = [os.path.realpath(f) for f in self.app.workspace_folders]
            real = os.path.realpath(path)
            inside = [f for f in folders if real == f or real.startswith(f.rstrip("/") + "/")]
            root = max(inside, key=len) if inside else None
        if root is None:
            return None, os.path.abspath(path), False
        return root, os.path.relpath(os.path.abspath(path), root).replace(os.sep, "/"), is_git

    def _names(self, conn, root: str | None, rel: str, is_git: bool) -> list[str]:
        names = [rel]
        if root is None:
            return names
        names.append(os.path.join(root, rel))  # an edit of a file outside any repository: absolute
        for old, _ts in edits_store.moves_to(conn, rel):
            if old not in names:
                names.append(old)
        if is_git:
            key = _git_state(root)
            with self._lock:
                hit = self._renames.get(root)
            if hit is None or hit[0] != key:
                ren = git_renames(root, edits_store.oldest_ts(conn))
                with self._lock:
                    self._renames[root] = (key, ren)
            else:
                ren = hit[1]
            todo = [rel]
            while todo:
                cur = todo.pop()
                for old in ren.get(cur, ()):
                    if old not in names:
                        names.append(old)
                        todo.append(old)
        return names

    def file(self, path: str, text: str | None = None, *, use_git: bool = True) -> FileBlame:
        """Blame of one file (its editor ``text``, else read from disk)."""
        path = os.path.abspath(path)
        if text is None:
            with open(path, encoding="utf-8", errors="replace") as f:
                text = f.read()
        conn = self.app.db().conn
        root, rel, is_git = self._locate(path)
        is_git = is_git and use_git
        key = (
            hashlib.blake2b(text.encode("utf-8", "replace"), digest_size=16).digest(),
            _git_state(root) if is_git and root else None,
            self._store_stamp(conn),
            use_git,
        )
        with self._lock:
            hit = self._cache.get(path)
            if hit is not None and hit[0] == key:
                self._cache.move_to_end(path)
                return hit[1]
        lines = text.split("\n")
        if lines and lines[-1] == "" and text.endswith("\n"):
            lines.pop()
        names = self._names(conn, root, rel, is_git)
        if not edits_store.any_for_paths(conn, names):
            fb = FileBlame(path, root, rel, names, [None] * len(lines))
        else:
            blame = git_blame(root, rel, text) if is_git and root else None
            if blame is not None:
                for b in blame:  # git's names of the file in the commits its lines come from
                    if b.filename not in names:
                        names.append(b.filename)
            rows = edits_store.for_paths(conn, names)
            got = attribute(lines, rows, blame)
            fb = FileBlame(path, root, rel, names, [self._writer(e) if e is not None else None for e in got], git=blame is not None)
            fb.sessions = self._sessions(conn, fb, names)
        with self._lock:
            self._cache[path] = (key, fb)
            self._cache.move_to_end(path)
            while len(self._cache) > _CACHE_FILES:
                self._cache.popitem(last=False)
        return fb

    def sessions_of(self, path: str) -> tuple[str, list[dict[str, Any]]]:
        """The file's repository-relative path and the sessions that edited it (no matching, no
        git blame: what the lens shows, cheap on every keystroke)."""
        path = os.path.abspath(path)
        conn = self.app.db().conn
        root, rel, is_git = self._locate(path)
        names = self._names(conn, root, rel, is_git)
        found = edits_store.sessions_for_paths(conn, names) if edits_store.any_for_paths(conn, names) else []
        out = [x.model_dump() for x in found]  # the blame views' rows
        for s in out:
            s["agent_label"] = agent_registry.label(s["agent"])
            s["title"] = mask_text(s["title"])
            s["last"] = _iso(s["last"])
            s["first"] = _iso(s["first"])
            s["link"] = session_link(s["session_id"])
        return rel, out

    @staticmethod
    def _writer(e: _Edit) -> Writer:
        r = e.row
        return Writer(
            session_id=r.session_id,
            agent=r.agent,
            file_id=r.file_id,
            seq=r.seq,
            ts=r.ts,
            turn=r.turn,
            tool=r.tool,
            op=r.op,
            path=r.path,
            title=r.title,
            log_path=r.log_path,
        )

    def _sessions(self, conn, fb: FileBlame, names: list[str]) -> list[dict[str, Any]]:
        lines_of: dict[str, int] = {}
        for w in fb.lines:
            if w is not None:
                lines_of[w.session_id] = lines_of.get(w.session_id, 0) + 1
        out = [x.model_dump() for x in edits_store.sessions_for_paths(conn, names)]
        for s in out:
            s["lines"] = lines_of.get(s["session_id"], 0)
            s["agent_label"] = agent_registry.label(s["agent"])
            s["title"] = mask_text(s["title"])
            s["last"] = _iso(s["last"])
            s["first"] = _iso(s["first"])
            s["link"] = session_link(s["session_id"])
        return out

    # ------------------------------------------------------------------ presentation
    def describe(self, w: Writer) -> dict[str, Any]:
        """A writer with what people read: the turn's prompt, the log line, the link to the event."""
        key = (w.session_id, w.file_id, w.seq, w.path, w.ts)
        with self._lock:
            hit = self._described.get(key)
        if hit is not None:
            return dict(hit)
        d = self._describe(w)
        with self._lock:
            self._described[key] = d
            while len(self._described) > 4096:
                self._described.popitem(last=False)
        return dict(d)

    def _describe(self, w: Writer) -> dict[str, Any]:
        conn = self.app.db().conn
        prompt = edits_store.turn_prompt(conn, w.session_id, w.turn)
        line = edits_store.event_line(conn, w.file_id, w.seq)
        d = w.to_dict()
        d.update(prompt=mask_text(prompt), title=mask_text(w.title), line=line, log_path=w.log_path, link=session_link(w.session_id, line))
        return d


def session_link(session_id: str, line: int | None = None) -> str:
    """The ``sessionlens://`` link of a session (at an event's line)."""
    return deep_link_for(session_id, line)


def _short(text: str | None, limit: int = 80) -> str:
    t = " ".join((text or "").split())
    return t if len(t) <= limit else t[: limit - 1] + "…"


def headline(d: dict[str, Any], current: str | None = None) -> str:
    """``Claude Code · 2026-02-11 · turn 3: *Implement spotter-gqc* · Edit of annotation.ex`` (Markdown, escaped)."""
    parts = [md_text(d["agent_label"])]
    if d.get("ts"):
        parts.append(d["ts"][:10])
    what = d.get("prompt") or d.get("title")
    if d.get("turn") is not None:
        parts.append(f"turn {d['turn'] + 1}" + (f": *{md_text(_short(what))}*" if what else ""))
    elif what:
        parts.append(f"*{md_text(_short(what))}*")
    what = f"{md_text(d.get('tool') or d.get('op') or 'edit')} of {md_text(os.path.basename(d['path']))}"
    if current is not None and d["path"] != current and "/" + d["path"] != current:
        what += f" (now {md_text(current)})"
    parts.append(what)
    return " · ".join(parts)


def ago(iso_ts: str | None, now: float | None = None) -> str:
    if not iso_ts:
        return "at an unknown time"
    try:
        t = datetime.fromisoformat(iso_ts.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return "at an unknown time"
    s = max((now if now is not None else time.time()) - t, 0)
    for unit, size in (("year", 365 * 86400), ("month", 30 * 86400), ("day", 86400), ("hour", 3600), ("minute", 60)):
        if s >= size:
            k = int(s // size)
            return f"{k} {unit}{'s' if k != 1 else ''} ago"
    return "just now"


_SERVICES: weakref.WeakKeyDictionary[Any, BlameService] = weakref.WeakKeyDictionary()
_SERVICES_LOCK = threading.Lock()


def service(app: App) -> BlameService:
    """The blame service of an application (one per App, its caches with it)."""
    with _SERVICES_LOCK:
        s = _SERVICES.get(app)
        if s is None:
            s = _SERVICES[app] = BlameService(app)
        return s


def report(app: App, path: str, text: str | None = None, line: int | None = None, *, use_git: bool = True) -> dict[str, Any]:
    """The blame of a file as the ``sessionlens.blame`` command and ``sessionlens blame --json`` answer it."""
    svc = service(app)
    fb = svc.file(path, text, use_git=use_git)
    index = {s["session_id"]: i for i, s in enumerate(fb.sessions)}
    writer = None
    if line is not None and 0 <= line < len(fb.lines) and fb.lines[line] is not None:
        writer = svc.describe(fb.lines[line])  # type: ignore[arg-type]
    return {
        "path": fb.path,
        "rel": fb.rel,
        "root": fb.root,
        "git": fb.git,
        "names": fb.names,
        "line_count": len(fb.lines),
        "attributed": fb.attributed,
        "sessions": fb.sessions,
        "writers": [index.get(w.session_id) if w is not None else None for w in fb.lines],
        "writer": writer,
    }


def hover_info(app: App, path: str, text: str | None, line: int) -> tuple[dict[str, Any] | None, int, str]:
    """What a hover needs: the line's writer (described), how many sessions edited the file, its path."""
    svc = service(app)
    fb = svc.file(path, text)
    w = fb.lines[line] if 0 <= line < len(fb.lines) else None
    return (svc.describe(w) if w is not None else None), len(fb.sessions), fb.rel


def lens_title(sessions: list[dict[str, Any]], now: float | None = None) -> str | None:
    """``edited in 4 agent sessions, last 2 days ago`` (None when no session edited the file)."""
    if not sessions:
        return None
    n = len(sessions)
    last = max((s["last"] for s in sessions if s.get("last")), default=None)
    return f"edited in {n} agent session{'s' if n != 1 else ''}, last {ago(last, now)}"


def hover_markdown(d: dict[str, Any], link: str, others: int = 0, current: str | None = None) -> str:
    """A line's hover: the headline, the link to the edit in its transcript."""
    out = [headline(d, current), "", f"[Open the transcript at this edit]({link})"]
    if others:
        out[-1] += f" · {others} other session{'s' if others != 1 else ''} edited this file"
    return "\n".join(out)


# ---------------------------------------------------------------------------------------------- the web UI
def known_file(repo: str | None, rel: str) -> str | None:
    """The file an edit named, when it exists on this machine in a git work tree rooted where the
    session's repository was (no other file is ever shown: a log's paths are data)."""
    if not repo or not os.path.isabs(repo) or rel.startswith("/") or ".." in rel.split("/"):
        return None
    path = os.path.normpath(os.path.join(repo, rel))
    try:
        real_root = os.path.realpath(repo)
        real = os.path.realpath(path)
    except (OSError, ValueError):
        return None
    if not real.startswith(real_root.rstrip("/") + "/") or not os.path.isfile(real):
        return None
    if repo_root(real) != real_root:
        return None
    return real


def session_files(app: App, session_id: str) -> list[dict[str, Any]]:
    """The files a session edited that exist in their repository here: ``{rel, file_id, seq, hunk}``."""
    s = app.db().get_session(session_id)
    if s is None:
        return []
    out = []
    for repo, rel, seq, hunk in edits_store.files_of(app.db().conn, s.file_id):
        if known_file(repo, rel) is not None:
            out.append({"rel": rel, "file_id": s.file_id, "seq": seq, "hunk": hunk})
    return out


def blame_of_edit(app: App, file_id: int, seq: int, hunk: int) -> dict[str, Any] | None:
    """The blame of the file one edit named (None: no such edit, or the file is not here)."""
    at = edits_store.edit_at(app.db().conn, file_id, seq, hunk)
    if at is None:
        return None
    path = known_file(*at)
    if path is None:
        return None
    with open(path, encoding="utf-8", errors="replace") as f:
        text = f.read()
    rep = report(app, path, text)
    lines = text.split("\n")
    if lines and lines[-1] == "" and text.endswith("\n"):
        lines.pop()
    rep["text"] = lines
    svc = service(app)
    fb = svc.file(path, text)
    rep["line_links"] = [(w.session_id, edits_store.event_line(app.db().conn, w.file_id, w.seq)) if w else None for w in fb.lines]
    return rep
