"""A session's events grouped for reading: turns of items, each a message, a tool call with its
result (and any sub-agent activity it hosted), or a folded run of bookkeeping lines.

Shared by the HTML and the Markdown transcript so both show the same structure.  Pure: takes the
normalized model (events, turns, usage rows as the store returns them).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sessionlens.models import Event, EventKind, Turn

_FOLDED = (EventKind.META, EventKind.TOKEN_USAGE, EventKind.UNKNOWN)
_CALLS = (EventKind.TOOL_CALL, EventKind.PATCH)


@dataclass
class Item:
    kind: str  # "event" | "call" | "fold"
    event: Event | None = None
    results: list[Event] = field(default_factory=list)  # for calls
    children: list["Item"] = field(default_factory=list)  # sub-agent activity under a call
    folded: list[Event] = field(default_factory=list)  # for folds
    mirrors: list[Event] = field(default_factory=list)  # duplicate lines shown only as anchors

    @property
    def first_seq(self) -> int:
        if self.event is not None:
            return self.event.seq
        return self.folded[0].seq if self.folded else 0

    @property
    def result(self) -> Event | None:
        return self.results[0] if self.results else None


@dataclass
class TurnBlock:
    index: int | None  # None: before the first prompt
    turn: Turn | None
    usage: dict[str, Any]
    items: list[Item] = field(default_factory=list)


def kind_class(ev: Event) -> str:
    """The filter class of an event: user | assistant | reasoning | tool | output | system | meta | error."""
    k = ev.kind
    if ev.is_error and k != EventKind.TOOL_RESULT:
        return "error"
    return {
        EventKind.USER_MESSAGE: "user",
        EventKind.ASSISTANT_MESSAGE: "assistant",
        EventKind.REASONING: "reasoning",
        EventKind.TOOL_CALL: "tool",
        EventKind.PATCH: "tool",
        EventKind.TOOL_RESULT: "output",
        EventKind.COMPACTION: "system",
        EventKind.SYSTEM: "system",
        EventKind.ERROR: "error",
    }.get(k, "meta")


def build(events: list[Event], turns: list[Turn], turn_usage: dict[int, dict]) -> list[TurnBlock]:
    tmap = {t.index: t for t in turns}
    blocks: dict[int | None, TurnBlock] = {}
    order: list[int | None] = []
    calls: dict[str, Item] = {}
    # results first: a call finds its result wherever it comes (results follow calls, mostly)
    results: dict[str, list[Event]] = {}
    for e in events:
        if e.kind == EventKind.TOOL_RESULT and e.call_id and not e.duplicate:
            results.setdefault(e.call_id, []).append(e)
        if e.kind == EventKind.TOOL_RESULT and not e.duplicate:
            for cid in (e.extra or {}).get("call_ids") or []:
                if isinstance(cid, str):
                    results.setdefault(cid, []).append(e)
    placed: set[int] = set()

    def block(tix: int | None) -> TurnBlock:
        b = blocks.get(tix)
        if b is None:
            b = blocks[tix] = TurnBlock(
                tix, tmap.get(tix) if tix is not None else None, turn_usage.get(tix) or {} if tix is not None else {}
            )
            order.append(tix)
        return b

    for t in turns:
        block(t.index)
    for e in events:
        if e.seq in placed:
            continue
        host_items: list[Item]
        parent = calls.get(e.parent_call_id) if (e.sidechain and e.parent_call_id) else None
        host_items = parent.children if parent is not None else block(e.turn).items
        if e.duplicate:
            _fold_into(host_items, e, mirror=True)
            continue
        if e.kind in _CALLS:
            it = Item("call", event=e)
            ids = [e.call_id] if e.call_id else []
            ids += [c for c in (e.extra or {}).get("call_ids") or [] if isinstance(c, str)]
            for cid in ids:
                for r in results.get(cid, []):
                    if r.seq not in placed and r.seq > e.seq:
                        it.results.append(r)
                        placed.add(r.seq)
                calls[cid] = it
            host_items.append(it)
            continue
        if e.kind in _FOLDED:
            _fold_into(host_items, e)
            continue
        host_items.append(Item("event", event=e))
    out = [blocks[k] for k in sorted(order, key=lambda x: -1 if x is None else x)]
    return [b for b in out if b.items or b.turn is not None]


def _fold_into(items: list[Item], e: Event, mirror: bool = False) -> None:
    last = items[-1] if items else None
    if last is None or last.kind != "fold":
        last = Item("fold")
        items.append(last)
    (last.mirrors if mirror else last.folded).append(e)


def fold_summary(item: Item) -> str:
    """``12 progress lines · 3 hook runs · 2 mirrored lines``."""
    counts: dict[str, int] = {}
    for e in item.folded:
        sub = e.subtype or e.kind.value
        if sub.startswith("progress/hook"):
            key = "hook run"
        elif sub.startswith("progress/"):
            key = "progress line"
        elif e.kind == EventKind.TOKEN_USAGE:
            key = "token count"
        elif e.kind == EventKind.UNKNOWN:
            key = "unknown line"
        else:
            key = "bookkeeping line"
        counts[key] = counts.get(key, 0) + 1
    if item.mirrors:
        counts["mirrored line"] = len(item.mirrors)
    return " · ".join(f"{n} {k}{'s' if n != 1 else ''}" for k, n in counts.items())
