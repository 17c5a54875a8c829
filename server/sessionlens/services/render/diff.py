"""Minimal diffs of what an edit did, from the normalized model.

Sources (best first):

* a unified diff with line numbers (``@@ -a,b +c,d @@``) — e.g. what a tool result reports it
  changed (adapters put it in the result's ``extra['patch']``) or a patch an agent applied;
* ``--- path / +++ path`` blocks of bare ``@@`` hunks, each old lines then new lines (an
  Edit/MultiEdit/Write input as adapters write it): reduced to a minimal diff with difflib;
* ``*** Begin Patch`` envelopes (Codex ``apply_patch``): per-file hunks as written.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field

CONTEXT = 3
MAX_LINES = 4000

_HUNK = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@(.*)$")


@dataclass
class DiffLine:
    tag: str  # " " | "-" | "+" | "…"
    text: str
    old: int | None = None
    new: int | None = None


@dataclass
class Hunk:
    header: str
    lines: list[DiffLine] = field(default_factory=list)


@dataclass
class FileDiff:
    path: str
    op: str = "update"  # update | add | delete | move
    hunks: list[Hunk] = field(default_factory=list)
    numbered: bool = False  # line numbers are those of the edited file
    note: str = ""

    @property
    def added(self) -> int:
        return sum(1 for h in self.hunks for ln in h.lines if ln.tag == "+")

    @property
    def removed(self) -> int:
        return sum(1 for h in self.hunks for ln in h.lines if ln.tag == "-")


def minimal(old: list[str], new: list[str], *, old_start: int = 1, new_start: int = 1, context: int = CONTEXT) -> list[Hunk]:
    """The minimal hunks turning ``old`` into ``new`` (line numbers from the given starts)."""
    sm = difflib.SequenceMatcher(None, old, new, autojunk=False)
    hunks = []
    for group in sm.get_grouped_opcodes(context):
        i1, j1 = group[0][1], group[0][3]
        i2, j2 = group[-1][2], group[-1][4]
        h = Hunk(header=f"@@ -{old_start + i1},{i2 - i1} +{new_start + j1},{j2 - j1} @@")
        for tag, a1, a2, b1, b2 in group:
            if tag == "equal":
                for k in range(a2 - a1):
                    h.lines.append(DiffLine(" ", old[a1 + k], old_start + a1 + k, new_start + b1 + k))
                continue
            for k in range(a1, a2):
                h.lines.append(DiffLine("-", old[k], old_start + k, None))
            for k in range(b1, b2):
                h.lines.append(DiffLine("+", new[k], None, new_start + k))
        hunks.append(h)
    return hunks


def parse_unified(text: str, path: str = "") -> list[FileDiff]:
    """Unified diff text (``---``/``+++`` headers optional) with numbered hunks."""
    files: list[FileDiff] = []
    cur: FileDiff | None = None
    h: Hunk | None = None
    o = n = 0
    for raw in text.splitlines()[:MAX_LINES]:
        if raw.startswith("--- ") and (h is None or not h.lines or raw[4:].strip()):
            cur = None
            h = None
            pending = raw[4:].strip()
            if pending.startswith("a/"):
                pending = pending[2:]
            files.append(FileDiff(path=pending if pending != "/dev/null" else path, numbered=True))
            cur = files[-1]
            continue
        if raw.startswith("+++ ") and cur is not None and not cur.hunks:
            p = raw[4:].strip()
            if p.startswith("b/"):
                p = p[2:]
            if p and p != "/dev/null":
                cur.path = p
            elif p == "/dev/null":
                cur.op = "delete"
            continue
        m = _HUNK.match(raw)
        if m:
            if cur is None:
                files.append(FileDiff(path=path, numbered=True))
                cur = files[-1]
            o, n = int(m.group(1)), int(m.group(3))
            h = Hunk(header=raw)
            cur.hunks.append(h)
            continue
        if h is None:
            continue
        tag, body = (raw[:1] or " "), raw[1:]
        if tag == "-":
            h.lines.append(DiffLine("-", body, o, None))
            o += 1
        elif tag == "+":
            h.lines.append(DiffLine("+", body, None, n))
            n += 1
        elif tag == "\\":
            continue
        else:
            h.lines.append(DiffLine(" ", body, o, n))
            o += 1
            n += 1
    return [f for f in files if f.hunks or f.op != "update"]


def parse_blocks(text: str) -> list[FileDiff]:
    """``--- p``/``+++ p`` then bare ``@@`` hunks of old-then-new lines: one minimal diff per hunk."""
    files: list[FileDiff] = []
    cur: FileDiff | None = None
    blocks: list[tuple[list[str], list[str], bool]] = []

    def flush():
        if cur is None:
            return
        for old, new, is_new in blocks:
            if is_new:
                cur.op = "add"
                cur.hunks.append(
                    Hunk(
                        header=f"@@ new file, {len(new)} lines @@",
                        lines=[DiffLine("+", x, None, i + 1) for i, x in enumerate(new[:MAX_LINES])],
                    )
                )
                cur.numbered = True
            else:
                hs = minimal(old, new)
                if not hs:
                    cur.note = "no change"
                for hh in hs:  # numbers are relative to the edited snippet, not the file
                    hh.header = "@@"
                cur.hunks.extend(hs)
        blocks.clear()

    lines = text.splitlines()[:MAX_LINES]
    i = 0
    while i < len(lines):
        ln = lines[i]
        if ln.startswith("--- ") and i + 1 < len(lines) and lines[i + 1].startswith("+++ "):
            flush()
            cur = FileDiff(path=lines[i + 1][4:].strip() or ln[4:].strip())
            files.append(cur)
            i += 2
            continue
        if ln.startswith("@@") and cur is not None:
            is_new = "new file" in ln
            old: list[str] = []
            new: list[str] = []
            i += 1
            while (
                i < len(lines)
                and not lines[i].startswith("@@")
                and not (lines[i].startswith("--- ") and i + 1 < len(lines) and lines[i + 1].startswith("+++ "))
            ):
                x = lines[i]
                if x.startswith("-"):
                    old.append(x[1:])
                elif x.startswith("+"):
                    new.append(x[1:])
                i += 1
            blocks.append((old, new, is_new))
            continue
        i += 1
    flush()
    return files


def parse_apply_patch(text: str) -> list[FileDiff]:
    """The ``*** Begin Patch`` format: ``*** Update/Add/Delete File: p``, ``*** Move to: p``, ``@@`` hunks."""
    files: list[FileDiff] = []
    cur: FileDiff | None = None
    h: Hunk | None = None
    for raw in text.splitlines()[:MAX_LINES]:
        s = raw.rstrip("\r")
        for marker, op in (("*** Update File: ", "update"), ("*** Add File: ", "add"), ("*** Delete File: ", "delete")):
            if s.startswith(marker):
                cur = FileDiff(path=s[len(marker) :].strip(), op=op, numbered=op == "add")
                files.append(cur)
                h = Hunk(header="@@") if op != "update" else None
                if h is not None:
                    cur.hunks.append(h)
                break
        else:
            if cur is None or s.startswith("*** End Patch") or s.startswith("*** Begin Patch"):
                continue
            if s.startswith("*** Move to: "):
                cur.op = "move"
                cur.note = "moved to " + s[len("*** Move to: ") :].strip()
                continue
            if s.startswith("*** End of File"):
                continue
            if s.startswith("@@"):
                h = Hunk(header=s)
                cur.hunks.append(h)
                continue
            if h is None:
                h = Hunk(header="@@")
                cur.hunks.append(h)
            tag = s[:1]
            if tag in "+-":
                h.lines.append(DiffLine(tag, s[1:]))
            else:
                h.lines.append(DiffLine(" ", s[1:] if tag == " " else s))
    for f in files:
        if f.op == "add":
            for i, ln in enumerate(x for hh in f.hunks for x in hh.lines):
                ln.new = i + 1
    return files


def diffs_for(text: str | None, *, reported: str | None = None, path: str = "") -> list[FileDiff]:
    """The diff of an edit: ``reported`` (a numbered unified diff from the tool's result) when
    there is one, else ``text`` (the call's patch) in whichever format it is."""
    if reported:
        got = parse_unified(reported, path)
        if got:
            if path:
                for f in got:
                    if not f.path:
                        f.path = path
            return got
    if not text:
        return []
    head = text.lstrip()[:200]
    if head.startswith("*** Begin Patch") or "*** Update File: " in head or "*** Add File: " in head:
        return parse_apply_patch(text)
    if _HUNK.search(text):
        got = parse_unified(text, path)
        if got:
            return got
    return parse_blocks(text)


def unified_text(files: list[FileDiff]) -> str:
    """The diffs as unified-diff text (for Markdown ```diff blocks and terminals)."""
    out: list[str] = []
    for f in files:
        out.append(f"--- {f.path}" + (f" ({f.op})" if f.op not in ("update",) else ""))
        out.append(f"+++ {f.path}" + (f" ({f.note})" if f.note else ""))
        for h in f.hunks:
            out.append(h.header)
            out.extend(ln.tag + ln.text for ln in h.lines)
    return "\n".join(out)
