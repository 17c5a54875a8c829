"""The edits index (agent blame): what each edit event of a session wrote, file by file.

Pure: normalized events in, plain row tuples out (no I/O).  Every agent's edit tool is a ``PATCH``
event whose ``text`` is one of three renderings (see the adapters in ``sessionlens.agents``):

* a unified-diff-like text (Claude Edit/Write/MultiEdit, Copilot edit/create/str_replace, OpenCode
  and Crush edit/write, Cursor JSONL): ``--- path`` / ``+++ path`` headers, ``@@`` hunks (``@@ new
  file @@`` for a whole-file write, ``@@ -a,b +c,d @@`` where a real diff was logged) and ``-``/``+``/
  `` `` lines.  A hunk logged as "old block, then new block" (``-`` lines then ``+`` lines, no
  context) is diffed here, so lines the edit only carried over are not its own;
* an ``apply_patch`` envelope (Codex, OpenCode/Cursor ``patch``/``ApplyPatch``): ``*** Begin Patch``,
  ``*** Add File:`` / ``*** Update File:`` (+ ``*** Move to:``) / ``*** Delete File:``;
* the new text alone (Gemini ``write_file``/``replace``, Pi ``write``/``edit``): every line counts
  as produced, the file is the event's ``files[0]``.

A row names the file relative to the session's repository root (``repo``; the absolute path when
the file lies outside it), so a clone of the repository elsewhere matches by its relative path.
The lines an edit produced are kept as hashes of their whitespace-normalized content
(:func:`line_hash`), packed as little-endian int64s, plus the first line number where the log says.
"""

from __future__ import annotations

import difflib
import hashlib
import posixpath
import re
from array import array
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from sessionlens.agents.common import TRUNCATION_MARK
from sessionlens.models.session import Event, EventKind
from sessionlens.models.versions import EDITS_VERSION as EDITS_VERSION  # bump it there when the rows change

#: "old block, new block" edits larger than this (lines x lines) are compared as sets, not diffed
_DIFF_CELLS = 2_000_000
#: at most this many produced lines are kept per hunk (a generated file of a million lines is no blame)
MAX_LINES = 20_000

_WRITE_TOOLS = frozenset({"Write", "write", "write_file", "create", "create_file"})
_UNIFIED_HUNK = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")
_CLIPPED = TRUNCATION_MARK
_APPLY_HEADERS = ("*** Add File: ", "*** Update File: ", "*** Delete File: ")


def normalize(line: str) -> str:
    """A line's content as blame compares it: surrounding and repeated whitespace do not count."""
    return " ".join(line.split())


def line_hash(line: str) -> int:
    """The signed 64-bit hash of a line's normalized content (stable across processes)."""
    d = hashlib.blake2b(normalize(line).encode("utf-8", "surrogatepass"), digest_size=8).digest()
    return int.from_bytes(d, "little", signed=True)


def pack_hashes(hashes: Iterable[int]) -> bytes:
    a = array("q", hashes)
    if a.itemsize != 8:  # pragma: no cover - every supported platform has 8-byte long long
        raise RuntimeError("int64 arrays needed")
    return a.tobytes() if _LITTLE else _swap(a)


def unpack_hashes(blob: bytes | None) -> array:
    a = array("q")
    if blob:
        a.frombytes(blob[: len(blob) - len(blob) % 8])
        if not _LITTLE:  # pragma: no cover
            a.byteswap()
    return a


_LITTLE = array("q", [1]).tobytes()[0] == 1


def _swap(a: array) -> bytes:  # pragma: no cover - big-endian hosts
    b = array("q", a)
    b.byteswap()
    return b.tobytes()


@dataclass(slots=True)
class Hunk:
    """What one hunk of an edit produced in one file."""

    path: str  # as logged
    op: str  # edit | write | add | delete | move
    lines: list[str] = field(default_factory=list)  # the produced lines (new content the edit wrote)
    start: int | None = None  # 1-based line of the first produced line, when the log says
    old_path: str | None = None  # a move's source


# ---------------------------------------------------------------------------------------------- parsing
def _produced(old: list[str], new: list[str]) -> tuple[list[str], int | None]:
    """The lines of ``new`` that are not carried over from ``old``; the offset of the first in ``new``."""
    if not old:
        return new, 0 if new else None
    out: list[str] = []
    first: int | None = None
    if len(old) * len(new) > _DIFF_CELLS:  # huge blocks (or a hostile log): lines not in the old block
        seen = {normalize(x) for x in old}
        for j, x in enumerate(new):
            if normalize(x) not in seen:
                first = j if first is None else first
                out.append(x)
        return out, first
    sm = difflib.SequenceMatcher(None, [normalize(x) for x in old], [normalize(x) for x in new], autojunk=False)
    for tag, _i1, _i2, j1, j2 in sm.get_opcodes():
        if tag in ("replace", "insert"):
            if first is None:
                first = j1
            out.extend(new[j1:j2])
    return out, first


def _unified(text: str, fallback: str | None) -> list[Hunk]:
    hunks: list[Hunk] = []
    path = fallback
    cur: dict | None = None

    def flush() -> None:
        nonlocal cur
        if cur is None or path is None:
            cur = None
            return
        if cur["context"] or cur["start"] is not None:  # a real diff: '+' lines are the produced ones
            lines = cur["plus"]
            start = cur["plus_at"]
        else:  # "old block, new block": diff them
            lines, off = _produced(cur["minus"], cur["plus"])
            start = None
            if cur["new_file"] and off is not None:
                start = off + 1
        op = "write" if cur["new_file"] else "edit"
        if lines or op == "write":
            hunks.append(Hunk(path=path, op=op, lines=lines[:MAX_LINES], start=start))
        cur = None

    def header_ok() -> bool:
        # a "--- x" / "+++ x" line is a file header outside a hunk, or after a real diff's hunk has
        # all its declared lines (inside a hunk it is a removed "-- x" / added "++ x" line)
        return cur is None or (cur["left"] is not None and cur["left"][0] <= 0 and cur["left"][1] <= 0)

    for ln in text.split("\n"):
        if ln.startswith(("+++ ", "--- ")) and header_ok():
            flush()
            p = ln[4:].strip()
            pre = "b/" if ln.startswith("+") else "a/"
            if p and p not in ("/dev/null", "?"):
                path = p[2:] if p.startswith(pre) and not p.startswith(pre + "/") else p
            continue
        if ln.startswith("@@"):
            flush()
            m = _UNIFIED_HUNK.match(ln)
            left = None
            if m:
                left = [int(m.group(2)) if m.group(2) is not None else 1, int(m.group(4)) if m.group(4) is not None else 1]
            cur = {
                "new_file": ln.startswith("@@ new file"),
                "start": int(m.group(3)) if m else None,
                "left": left,
                "context": False,
                "minus": [],
                "plus": [],
                "plus_at": None,
                "line": int(m.group(3)) if m else None,
            }
            continue
        if cur is None:
            continue
        left = cur["left"]
        if ln.startswith("+"):
            if cur["line"] is not None and cur["plus_at"] is None:
                cur["plus_at"] = cur["line"]
            cur["plus"].append(ln[1:])
            if cur["line"] is not None:
                cur["line"] += 1
            if left is not None:
                left[1] -= 1
        elif ln.startswith("-"):
            cur["minus"].append(ln[1:])
            if left is not None:
                left[0] -= 1
        elif ln.startswith(" "):
            cur["context"] = True
            if cur["line"] is not None:
                cur["line"] += 1
            if left is not None:
                left[0] -= 1
                left[1] -= 1
        elif ln.startswith("\\"):
            continue
    flush()
    return hunks


def _apply_patch(text: str) -> list[Hunk]:
    hunks: list[Hunk] = []
    path: str | None = None
    op = ""
    move_to: str | None = None
    minus: list[str] = []
    plus: list[str] = []
    context = False

    def flush_hunk() -> None:
        nonlocal minus, plus, context
        if path is not None and (plus or minus):
            if op == "add":
                hunks.append(Hunk(path=move_to or path, op="add", lines=plus[:MAX_LINES], start=1))
            elif context:
                hunks.append(Hunk(path=move_to or path, op="edit", lines=plus[:MAX_LINES]))
            else:
                lines, _ = _produced(minus, plus)
                if lines:
                    hunks.append(Hunk(path=move_to or path, op="edit", lines=lines[:MAX_LINES]))
        minus, plus, context = [], [], False

    def flush_file() -> None:
        flush_hunk()
        if path is not None and op == "delete":
            hunks.append(Hunk(path=path, op="delete"))
        if path is not None and move_to:
            hunks.append(Hunk(path=move_to, op="move", old_path=path))

    for ln in text.split("\n"):
        if ln.startswith("*** "):
            if ln.startswith(_APPLY_HEADERS):
                flush_file()
                head, _, p = ln.partition(": ")
                path = p.strip() or None
                op = {"*** Add File": "add", "*** Update File": "update", "*** Delete File": "delete"}[head]
                move_to = None
            elif ln.startswith("*** Move to: "):
                move_to = ln[len("*** Move to: ") :].strip() or None
            elif ln.startswith(("*** End Patch", "*** Begin Patch")):
                continue
            elif ln.startswith("*** End of File"):
                continue
            continue
        if path is None:
            continue
        if ln.startswith("@@"):
            if op != "add":
                flush_hunk()
            continue
        if ln.startswith("+"):
            plus.append(ln[1:])
        elif ln.startswith("-"):
            minus.append(ln[1:])
        elif ln.startswith(" ") or ln == "":
            if op != "add":
                context = True
    flush_file()
    return hunks


def hunks_of(ev: Event) -> list[Hunk]:
    """The hunks of one edit event (an empty list for any other event, or an edit whose text is gone)."""
    if ev.kind is not EventKind.PATCH and getattr(ev.kind, "value", ev.kind) != "patch":
        return []
    text = ev.text or ""
    if text.endswith(_CLIPPED):  # a clipped text: its last line may be partial
        text = text[: -len(_CLIPPED)]
        text = text[: text.rfind("\n")] if "\n" in text else ""
    fallback = ev.files[0] if ev.files else None
    if "*** Begin Patch" in text[:4096] or text.startswith(_APPLY_HEADERS):
        return _apply_patch(text)
    if text.startswith(("--- ", "+++ ")) or "\n@@" in text[:4096]:
        return _unified(text, fallback)
    if fallback is None or not text:
        return []
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    op = "write" if (ev.tool or "") in _WRITE_TOOLS else "edit"
    return [Hunk(path=fallback, op=op, lines=lines[:MAX_LINES], start=1 if op == "write" else None)]


# ---------------------------------------------------------------------------------------------- paths
def resolve(path: str, *, cwd: str | None, root: str | None) -> tuple[str | None, str] | None:
    """``(repo, path)``: the logged path resolved against the session's folder and made relative to
    its repository root; ``(None, absolute path)`` when it lies outside; None when it cannot be placed."""
    p = path.strip()
    if not p or "\x00" in p or len(p) > 4096:
        return None
    p = p.replace("\\", "/") if re.match(r"^[A-Za-z]:\\", p) is None and "\\" in p and "/" not in p else p
    if p.startswith("file://"):
        p = p[len("file://") :]
    if p.startswith("~"):
        return None
    if not posixpath.isabs(p):
        base = cwd or root
        if not base:
            return None
        p = posixpath.join(base, p)
    p = posixpath.normpath(p)
    if root:
        r = posixpath.normpath(root)
        if p == r:
            return None
        if p.startswith(r.rstrip("/") + "/"):
            return r, p[len(r.rstrip("/")) + 1 :]
    return None, p


def _epoch(ts: datetime | None) -> float | None:
    if ts is None:
        return None
    try:
        return ts.timestamp()
    except (OverflowError, OSError, ValueError):
        return None


def edit_rows(events: Iterable[Event], *, cwd: str | None, root: str | None, commit: str | None) -> list[tuple]:
    """The ``edits`` rows of a parse pass, without the file id the store puts first:
    ``(seq, hunk, repo, path, op, tool, ts, turn, line, nlines, hashes, base_commit, old_path)``.

    An edit whose result (in the same pass) is an error was not applied (a rejected or failed tool
    call): it produced nothing."""
    events = list(events)
    failed = {e.call_id for e in events if e.kind is EventKind.TOOL_RESULT and e.is_error and e.call_id}
    out: list[tuple] = []
    for ev in events:
        if ev.kind is not EventKind.PATCH or ev.duplicate:
            continue
        if ev.call_id and ev.call_id in failed:
            continue
        try:
            hunks = hunks_of(ev)
        except Exception:  # noqa: BLE001 - a hostile patch text costs its own rows only
            continue
        wd = ev.extra.get("workdir") if isinstance(ev.extra, dict) and isinstance(ev.extra.get("workdir"), str) else None
        base = wd if wd and posixpath.isabs(wd) else (posixpath.join(cwd, wd) if wd and cwd else cwd)
        ts = _epoch(ev.timestamp)
        turn = ev.turn if type(ev.turn) is int and 0 <= ev.turn < 2**62 else None
        for i, h in enumerate(hunks):
            where = resolve(h.path, cwd=base, root=root)
            if where is None:
                continue
            old = resolve(h.old_path, cwd=base, root=root) if h.old_path else None
            start = h.start if type(h.start) is int and 0 < h.start < 2**62 else None
            out.append(
                (
                    ev.seq,
                    i,
                    where[0],
                    where[1],
                    h.op,
                    ev.tool,
                    ts,
                    turn,
                    start,
                    len(h.lines),
                    pack_hashes(line_hash(x) for x in h.lines),
                    commit,
                    old[1] if old else None,
                )
            )
    return out
