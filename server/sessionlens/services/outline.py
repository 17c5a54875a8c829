"""The outline of a session log (document symbols): turns with their notable events, sub-agent
runs under the call that started them, bounded for huge sessions so every event stays reachable."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

from sessionlens.services import render
from sessionlens.store import FileRow, OutlineRow, Store
from sessionlens.store import outline as so
from sessionlens.store.db import FLAG_SIDECHAIN

if TYPE_CHECKING:
    from sessionlens.models.store import StoredSession, TurnUsage

#: Outline bounds: a turn (or a block of turns) lists at most this many events, the most notable first ...
OUTLINE_TURN_CHILDREN = 100
#: ... within a total of about this many symbols for the whole file (editors choke on tens of thousands) ...
OUTLINE_BUDGET = 3000
#: ... and a session with more turns than this shows blocks of consecutive turns instead of single turns.
OUTLINE_MAX_TURNS = 300
#: A fold ("… K more events") holds every left-out event (in nested line ranges) while the whole outline
#: has at most this many nodes; past it (a rollout of hundreds of MB: hundreds of thousands of events), a
#: fold's line ranges are leaves (at most ``OUTLINE_FOLD_RANGES`` per fold) - the editor goes to the range,
#: the events are its lines - so what is sent stays about ``OUTLINE_BUDGET`` symbols whatever the file's size
#: (an editor's outline and the JSON-RPC answer both slow down past a few thousand).
OUTLINE_REACHABLE_MAX = 4_000
OUTLINE_FOLD_RANGES = 8
OUTLINE_CACHE_FILES = 16
#: A log of more events than this gets its outline from SQL (``_huge_outline``: each turn or block
#: keeps its most notable events, selected by kind and line range; the rest folds into line ranges)
#: instead of from every event (``build_outline``, which a 2.5 M-event rollout took 15 s to build).
OUTLINE_HUGE_EVENTS = 200_000

#: Which events an outline keeps first when it cannot keep them all (lower first).
_PRIORITY = {"subagent": 0, "error": 0, "patch": 2, "tool": 3, "compaction": 3, "message": 4}


@dataclass
class OutlineNode:
    name: str
    kind: str  # session | turn | tool | patch | message | error | compaction | subagent | result | more
    start: int  # 0-based first line
    end: int  # 0-based last line
    detail: str = ""
    end_len: int = 0  # byte length of the last line
    children: list[OutlineNode] = field(default_factory=list)


def _failed(res: OutlineRow | so.Brief | None) -> bool:
    return res is not None and bool(res.is_error or res.exit_code not in (None, 0))


def _event_node(
    r: OutlineRow, results: dict[str, OutlineRow], lines: dict[int, int], spans: dict[int, int], cwd: str | None
) -> OutlineNode | None:
    ln = lines.get(r.seq, r.seq) - 1
    width = spans.get(r.seq, 0)
    kind = r.kind
    if kind in ("tool_call", "patch"):
        files = orjson.loads(r.files) if r.files else []
        name = render.call_name(
            r.tool,
            command=r.command,
            text=r.text,
            files=files,
            cwd=cwd,
            kind=kind,
            extra={"description": r.description} if r.description else None,
        )
        res = results.get(r.call_id) if r.call_id else None
        detail = ""
        if res is not None and _failed(res):
            if kind == "patch":
                detail = "✗ failed"
            else:
                detail = f"✗ exit {res.exit_code}" if res.exit_code is not None else "✗ error"
        return OutlineNode(name=name, kind="tool" if kind == "tool_call" else "patch", start=ln, end=ln, detail=detail, end_len=width)
    if kind == "assistant_message":
        label = render.prompt_name(r.text, 80)
        if not label:
            return None  # a whitespace-only text block says nothing
        return OutlineNode(name=label, kind="message", start=ln, end=ln, end_len=width)
    if kind == "error":
        return OutlineNode(
            name="error: " + (render.error_name(r.text, 70) if r.text else (r.subtype or "")), kind="error", start=ln, end=ln, end_len=width
        )
    if kind == "compaction":
        return OutlineNode(name="context compacted", kind="compaction", start=ln, end=ln, end_len=width)
    if kind == "tool_result" and _failed(r) and not r.call_id:
        return OutlineNode(name="tool error", kind="error", start=ln, end=ln, end_len=width)
    return None


def _tokens(u: TurnUsage) -> int:
    return u.input + u.cache_read + u.cache_write + u.output


def build_outline(db: Store, row: FileRow, s: StoredSession) -> list[OutlineNode]:
    """The (bounded) outline of the session ``s`` stored from file ``row``."""
    if (s.events or 0) > OUTLINE_HUGE_EVENTS:
        return _huge_outline(db, row, s)
    turns = db.turns(s.id)
    spans = dict(db.line_spans(row.id))
    lines = db.line_map(row.id)  # events whose editor line is not their seq (several per line, documents)
    last_line = max([*spans, *lines.values()]) if spans else 1
    rows = db.outline_rows(row.id)
    results = {r.call_id: r for r in rows if r.kind == "tool_result" and r.call_id}
    tusage = db.turn_usage(s.id)
    subs = {x.agent_id: x for x in db.subagent_sessions(s.id) if x.agent_id}
    cwd = s.cwd

    turn_nodes: dict[int, OutlineNode] = {}
    for t in turns:
        u = tusage.get(t.index)
        bits: list[str] = []
        if u is not None:
            bits.append(f"{_tokens(u):,} tok")
            bits.append(render.fmt_usd(u.cost_usd, not u.unknown))
        if t.duration_ms:
            bits.append(render.fmt_duration(t.duration_ms))
        if t.aborted:
            bits.append("aborted")
        prompt = render.prompt_name(t.prompt, 80)
        name = f"Turn {t.index + 1}: {prompt}" if prompt else f"Turn {t.index + 1}"
        turn_nodes[t.index] = OutlineNode(
            name=name,
            kind="turn",
            start=t.start_line - 1,
            end=max(t.end_line, t.start_line) - 1,
            detail=" · ".join(bits),
            end_len=spans.get(t.end_line, 0),
        )
    pre = OutlineNode(name="Session start", kind="turn", start=0, end=0)
    calls: dict[str, OutlineNode] = {}
    for r in rows:
        node = _event_node(r, results, lines, spans, cwd)
        if node is None:
            continue
        if r.kind == "tool_call" and r.call_id:
            calls[r.call_id] = node
        parent = r.parent_call_id
        if (r.flags & FLAG_SIDECHAIN) and parent and parent != r.call_id and parent in calls:
            host = calls[parent]  # inline sub-agent activity nests under its Task call
            host.children.append(node)
            host.end = max(host.end, node.end)
            continue
        found = turn_nodes.get(r.turn) if r.turn is not None else None
        if found is None:
            found = pre
            pre.end = max(pre.end, node.end)
        found.children.append(node)
        found.end = max(found.end, node.end)
    # sub-agent files nest under the call that started them (progress lines name both ids)
    agent_calls = db.agent_calls(row.id)
    compactions = [n for t in [pre, *turn_nodes.values()] for n in t.children if n.kind == "compaction"]
    for agent_id, sub in subs.items():
        sub_host = calls.get(agent_calls.get(agent_id, ""))
        if sub_host is None and agent_id.startswith("acompact") and compactions:
            sub_host = compactions[0]
        if sub_host is None:
            for cid, n in calls.items():
                res = results.get(cid)
                if res is not None and agent_id in (res.text or ""):
                    sub_host = n
                    break
        target = sub_host or (turn_nodes[max(turn_nodes)] if turn_nodes else pre)
        target.children.append(
            OutlineNode(
                name=(
                    f"compaction run {agent_id}"
                    if agent_id.startswith("acompact")
                    else f"sub-agent {agent_id}: {render.prompt_name(sub.title, 60)}"
                ),
                kind="subagent",
                start=target.start,
                end=target.start,
                detail=f"{sub.events} events in {Path(sub.path).name}",
            )
        )
    totals = db.session_totals([s.id])
    detail = f"{s.agent} · {s.turns} turns · {render.fmt_usd(totals.cost_usd, not totals.unknown)}"
    root = OutlineNode(name=s.title or s.id, kind="session", start=0, end=last_line - 1, detail=detail, end_len=spans.get(last_line, 0))
    if pre.children:
        root.children.append(pre)
    root.children.extend(turn_nodes[k] for k in sorted(turn_nodes))
    for n in root.children:
        n.end = max(n.end, n.start)
    bound_outline(root)
    return [root]


def _turn_name(index: int, prompt: str | None) -> str:
    label = render.prompt_name(prompt, 80)
    return f"Turn {index + 1}: {label}" if label else f"Turn {index + 1}"


def _huge_outline(db: Store, row: FileRow, s: StoredSession) -> list[OutlineNode]:
    """The bounded outline of a huge log, from a few queries per turn or block of turns: the same
    shape as ``bound_outline`` makes of ``build_outline`` (turns or blocks, each with its most notable
    events and a "… K more events" fold of line ranges), where a host owns the lines from its first
    turn's start to the next host's, and K counts every event of those lines not shown.

    Candidates are chosen from a few columns of each (``so.Brief``: no text), and only the chosen
    events' rows are read whole, in a few statements for the whole file; the folds' counts too."""
    idxs = so.turn_indexes(db, s.id)
    last, last_len = so.last_seq(db, row.id)
    cwd = s.cwd
    size = max(1, -(-len(idxs) // OUTLINE_MAX_TURNS))
    heads = so.turns_at(db, s.id, idxs[::size])  # the first turn of each block
    # (first turn, last turn's index, turns) of each host
    groups = [(heads[idxs[i]], idxs[min(i + size, len(idxs)) - 1], min(size, len(idxs) - i)) for i in range(0, len(idxs), size)]
    tusage = db.turn_usage(s.id) if size == 1 else {}
    hosts: list[tuple[OutlineNode, int, int]] = []  # (node, first line, last line), 1-based
    if not groups or groups[0][0].start_line > 1:
        hosts.append((OutlineNode(name="Session start", kind="turn", start=0, end=0), 1, groups[0][0].start_line - 1 if groups else last))
    for gi, (first, end_idx, n) in enumerate(groups):
        lo = first.start_line
        hi = groups[gi + 1][0].start_line - 1 if gi + 1 < len(groups) else last
        name = _turn_name(first.idx, first.prompt)
        if n > 1:
            head, _, prompt = name.partition(": ")
            name = f"{head.replace('Turn ', 'Turns ', 1)}–{end_idx + 1}" + (f": {prompt}" if prompt else "")
            detail = f"{n} turns"
        else:
            bits: list[str] = []
            u = tusage.get(first.idx)
            if u is not None:
                bits += [f"{_tokens(u):,} tok", render.fmt_usd(u.cost_usd, not u.unknown)]
            if first.duration_ms:
                bits.append(render.fmt_duration(first.duration_ms))
            if first.aborted:
                bits.append("aborted")
            detail = " · ".join(bits)
        hosts.append((OutlineNode(name=name, kind="turn", start=lo - 1, end=max(hi, lo) - 1, detail=detail), lo, max(hi, lo)))
    cap = max(3, min(OUTLINE_TURN_CHILDREN, OUTLINE_BUDGET // max(len(hosts), 1) - 2))
    ends = so.line_lengths(db, row.id, [hi for _, _, hi in hosts])
    picks = [_pick(db, row.id, lo, hi, cap) for _, lo, hi in hosts]
    full = so.rows_at(db, row.id, [b.seq for chosen, _ in picks for b, p in chosen if p is None])
    folds: list[tuple[OutlineNode, int, int, int]] = []  # (host, first line, last line, events shown)
    for (node, lo, hi), (chosen, results) in zip(hosts, picks):
        node.end_len = ends.get(hi, 0)
        node.children = _chosen_nodes(chosen, full, results, cwd)
        if node.name == "Session start" and not node.children:
            continue  # nothing to show before the first turn
        folds.append((node, lo, hi, len(node.children)))
    _add_folds(db, row.id, folds, ends)
    totals = db.session_totals([s.id])
    detail = f"{s.agent} · {s.turns} turns · {render.fmt_usd(totals.cost_usd, not totals.unknown)}"
    root = OutlineNode(name=s.title or s.id, kind="session", start=0, end=last - 1, detail=detail, end_len=last_len)
    root.children = [n for n, _, _ in hosts if n.children or n.name != "Session start"]
    return [root]


def _brief(p: so.PlacedRow) -> so.Brief:
    r = p.row
    return so.Brief(r.seq, r.kind, r.call_id, r.is_error, r.exit_code, p.line)


def _result_row(b: so.Brief) -> OutlineRow:
    """What ``_event_node`` reads of a call's result: whether and how it failed."""
    return OutlineRow(b.seq, b.kind, None, None, None, None, None, None, 0, b.is_error, b.exit_code, b.call_id, None, None, None)


Pick = tuple[list[tuple[so.Brief, so.PlacedRow | None]], dict[str, OutlineRow]]


def _pick(db: Store, file_id: int, lo: int, hi: int, cap: int) -> Pick:
    """The ``cap`` most notable events of lines ``lo``–``hi`` (errors, failing calls, patches, then
    calls and compactions, then messages) as ``(brief, its row if read already)`` in the order
    ``_chosen_nodes`` sorts them, and the results of the candidate calls (by call id)."""
    cands: dict[int, tuple[so.Brief, so.PlacedRow | None]] = {}
    failed = so.notable_briefs(db, file_id, "tool_result", lo, hi, cap)
    for b in (*so.notable_briefs(db, file_id, "error", lo, hi, cap), *failed, *so.notable_briefs(db, file_id, "patch", lo, hi, cap)):
        cands[b.seq] = (b, None)
    failing = {b.call_id for b in failed if b.call_id}
    if failing:
        for b in so.call_briefs(db, file_id, failing, ("tool_call", "patch")):
            if lo <= b.seq <= hi:
                cands[b.seq] = (b, None)
    if len(cands) < cap:
        for b in so.notable_briefs(db, file_id, "compaction", lo, hi, cap):
            cands.setdefault(b.seq, (b, None))
        for fr in so.first_rows(db, file_id, ("tool_call", "assistant_message"), lo, hi, cap * 2):
            cands.setdefault(fr.row.seq, (_brief(fr), fr))
    calls = [b.call_id for b, _ in cands.values() if b.call_id and b.kind in ("tool_call", "patch")]
    results = {b.call_id: _result_row(b) for b in so.call_briefs(db, file_id, calls, ("tool_result",)) if b.call_id} if calls else {}
    scored: list[tuple[int, int, so.Brief, so.PlacedRow | None]] = []
    for b, p in cands.values():
        rank = _brief_rank(b, p, results)
        if rank is not None:
            line = b.line if isinstance(b.line, int) and b.line != b.seq else b.seq
            scored.append((rank, line - 1, b, p))
    order = sorted(range(len(scored)), key=lambda i: (scored[i][0], scored[i][1]))[:cap]
    return [(scored[i][2], scored[i][3]) for i in order], results


def _brief_rank(b: so.Brief, p: so.PlacedRow | None, results: dict[str, OutlineRow]) -> int | None:
    """``_rank`` of the node ``_event_node`` makes of the event (None: it makes none), from its brief."""
    kind = b.kind
    if kind in ("tool_call", "patch"):
        return 1 if _failed(results.get(b.call_id) if b.call_id else None) else _PRIORITY["tool" if kind == "tool_call" else "patch"]
    if kind == "error":
        return _PRIORITY["error"]
    if kind == "compaction":
        return _PRIORITY["compaction"]
    if kind == "tool_result":
        return _PRIORITY["error"] if b.call_id is None and _failed(b) else None
    if kind == "assistant_message" and p is not None:  # a whitespace-only text makes no node
        return _PRIORITY["message"] if render.prompt_name(p.row.text, 80) else None
    return None


def _chosen_nodes(
    chosen: list[tuple[so.Brief, so.PlacedRow | None]], full: dict[int, so.PlacedRow], results: dict[str, OutlineRow], cwd: str | None
) -> list[OutlineNode]:
    """The nodes of the chosen events, in line order."""
    nodes = []
    for b, known in chosen:
        p = known or full.get(b.seq)
        if p is None:  # gone since it was chosen (a re-index meanwhile)
            continue
        lines = {b.seq: p.line} if isinstance(p.line, int) and p.line != b.seq else {}
        n = _event_node(p.row, results, lines, {b.seq: p.length}, cwd)
        if n is not None:
            nodes.append(n)
    return sorted(nodes, key=lambda n: n.start)


def _add_folds(db: Store, file_id: int, folds: list[tuple[OutlineNode, int, int, int]], ends: dict[int, int]) -> None:
    """A "… K more events" fold for each host ``(node, lo, hi, shown)`` whose lines ``lo``–``hi`` hold events
    not among the ``shown`` (K: those): at most ``OUTLINE_FOLD_RANGES`` line ranges, leaves (the editor goes
    to the range), empty ones left out.  The ranges' events are counted in a few statements for the whole file."""
    spans: list[list[tuple[int, int]]] = []
    for _, lo, hi, _ in folds:
        step = -(-(hi - lo + 1) // min(OUTLINE_FOLD_RANGES, hi - lo + 1))
        spans.append([(a, min(hi, a + step - 1)) for a in range(lo, hi + 1, step)])
    counts = iter(so.counts_in(db, file_id, [r for rs in spans for r in rs]))
    todo: list[tuple[OutlineNode, int, int, int, list[tuple[int, int, int]]]] = []
    for (node, lo, hi, shown), rs in zip(folds, spans):
        ranges = [(a, b, n) for (a, b) in rs if (n := next(counts))]
        rest = sum(n for _, _, n in ranges) - shown
        if rest > 0:
            todo.append((node, lo, hi, rest, ranges))
    range_ends = so.line_lengths(db, file_id, [b for *_, ranges in todo for _, b, _ in ranges])
    for node, lo, hi, rest, ranges in todo:
        kids = [
            OutlineNode(name=f"lines {a}–{b} ({n:,} events)", kind="more", start=a - 1, end=b - 1, end_len=range_ends.get(b, 0))
            for a, b, n in ranges
        ]
        node.children.append(
            OutlineNode(name=f"… {rest:,} more events", kind="more", start=lo - 1, end=hi - 1, end_len=ends.get(hi, 0), children=kids)
        )


class OutlineCache:
    """Outlines per file, until the file (or any file: a sub-agent nests under its parent) is indexed again."""

    def __init__(self) -> None:
        self.entries: dict[str, tuple[tuple[Any, ...], list[OutlineNode]]] = {}

    def get(self, db: Store, path: str, row: FileRow, s: StoredSession) -> list[OutlineNode]:
        # any indexing pass (this file, or a sub-agent file that nests under it) moves files.indexed_at
        key = (row.id, row.size, row.mtime_ns, row.offset, db.last_indexed_at())
        hit = self.entries.get(path)
        if hit is not None and hit[0] == key:
            return hit[1]
        nodes = build_outline(db, row, s)
        if len(self.entries) >= OUTLINE_CACHE_FILES:
            self.entries.pop(next(iter(self.entries)), None)
        self.entries[path] = (key, nodes)
        return nodes

    def clear(self) -> None:
        self.entries.clear()


# ---------------------------------------------------------------------------------------- bounds


def _rank(n: OutlineNode) -> int:
    if n.detail.startswith("✗") or n.children:  # failing calls, calls hosting sub-agent activity
        return 1
    return _PRIORITY.get(n.kind, 5)


def _prune(host: OutlineNode, cap: int, leaf: bool = False) -> None:
    """Keep ``host``'s ``cap`` most notable children (in line order) and fold the rest into one
    "… K more events" child that holds them (in groups of at most ``cap``, by line), so every
    event stays reachable from the outline."""
    kids = host.children
    if len(kids) <= cap:
        return
    order = sorted(range(len(kids)), key=lambda i: (_rank(kids[i]), i))
    keep = set(order[:cap])
    rest = [kids[i] for i in range(len(kids)) if i not in keep]
    more = _group(f"… {len(rest)} more events", rest)
    _chunk(more, cap, leaf)
    host.children = [kids[i] for i in sorted(keep)] + [more]


def _group(name: str, nodes: list[OutlineNode]) -> OutlineNode:
    return OutlineNode(
        name=name,
        kind="more",
        start=min(n.start for n in nodes),
        end=max(n.end for n in nodes),
        end_len=max(nodes, key=lambda n: n.end).end_len,
        children=nodes,
    )


def _chunk(group: OutlineNode, cap: int, leaf: bool = False) -> None:
    """Split a fold's children into nested groups of at most ``cap`` (lines a–b), recursively (``leaf``:
    one level of at most ``OUTLINE_FOLD_RANGES`` groups, each a line range without its events)."""
    kids = group.children
    if len(kids) <= cap:
        return
    size, most = cap, (min(cap, OUTLINE_FOLD_RANGES) if leaf else cap)
    while -(-len(kids) // size) > most:
        size = size * cap if not leaf else size * 2
    parts = [kids[i : i + size] for i in range(0, len(kids), size)]
    group.children = [_group(f"lines {p[0].start + 1}–{p[-1].end + 1} ({len(p)} events)", p) for p in parts]
    for g in group.children:
        if leaf:  # a range is a leaf: hundreds of turns x ranges x their few events broke the budget (12,855 symbols)
            g.children = []
        else:
            _chunk(g, cap)


def bound_outline(root: OutlineNode) -> None:
    """Make a huge session's outline small enough to send and useful to read: beyond
    ``OUTLINE_MAX_TURNS`` turns, consecutive turns fold into blocks; each turn or block keeps its
    most notable events (errors, failing calls, patches, then calls, then messages)."""
    hosts = root.children
    lead = [n for n in hosts[:1] if not n.name.startswith("Turn ")]  # "Session start" stays apart
    hosts = hosts[len(lead) :]
    if len(hosts) > OUTLINE_MAX_TURNS:
        size = -(-len(hosts) // OUTLINE_MAX_TURNS)
        blocks = []
        for i in range(0, len(hosts), size):
            group = hosts[i : i + size]
            first, last = group[0], group[-1]
            head, _, prompt = first.name.partition(": ")
            name = (
                f"{head.replace('Turn ', 'Turns ', 1)}–{last.name.partition(': ')[0].removeprefix('Turn ')}" if first is not last else head
            )
            blocks.append(
                OutlineNode(
                    name=f"{name}: {prompt}" if prompt else name,
                    kind="turn",
                    start=first.start,
                    end=max(n.end for n in group),
                    detail=f"{len(group)} turns",
                    end_len=max(group, key=lambda n: n.end).end_len,
                    children=[c for n in group for c in n.children],
                )
            )
        hosts = blocks
    root.children = hosts = lead + hosts
    cap = max(3, min(OUTLINE_TURN_CHILDREN, OUTLINE_BUDGET // max(len(hosts), 1) - 2))
    size, todo = 0, list(hosts)
    while todo and size <= OUTLINE_REACHABLE_MAX:
        n = todo.pop()
        size += 1
        todo.extend(n.children)
    leaf = size > OUTLINE_REACHABLE_MAX
    stack = list(hosts)
    while stack:
        n = stack.pop()
        if n.kind == "more":
            continue  # folds are already grouped
        _prune(n, cap, leaf)
        stack.extend(c for c in n.children if c.children and c.kind != "more")
