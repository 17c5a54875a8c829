"""Readable renderings of events and sessions as Markdown (LSP hovers, the Markdown transcript for
Neovim and terminals) plus the formatting helpers every renderer shares.

Assistant and user text is Markdown and is rewritten as *safe* Markdown (:mod:`safe_md`); metadata
is escaped minimally or shown as code; no link, HTML or ``command:`` URI comes from log content.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sessionlens.coach.markdown import escape_md  # noqa: F401  (re-exported for callers)
from sessionlens.models import Event, EventKind, Turn
from sessionlens.services.render import blocks as B
from sessionlens.services.render import diff as D
from sessionlens.services.render.safe_md import code_span, fence, md_text, md_to_markdown
from sessionlens.services.render.tools import KIND_LABEL, event_name, one_line, todo_items, tool_input  # noqa: F401  (KIND_LABEL, one_line re-exported)

OUTPUT_EXCERPT = 1500
TEXT_EXCERPT = 3000


def fmt_ts(dt: datetime | None) -> str:
    if dt is None:
        return "—"
    return dt.astimezone().strftime("%Y-%m-%d %H:%M:%S %Z").strip()


def fmt_duration(ms: int | None) -> str:
    if ms is None:
        return "—"
    if ms < 1000:
        return f"{ms} ms"
    s = ms / 1000
    if s < 60:
        return f"{s:.1f} s"
    m, s = divmod(int(s), 60)
    if m < 60:
        return f"{m} min {s} s"
    h, m = divmod(m, 60)
    return f"{h} h {m} min"


def fmt_usd(x: float | None, known: bool = True) -> str:
    if x is None or not known:
        return "unknown"
    if x < 0.01:
        return f"${x:.4f}"
    return f"${x:,.2f}"


def fmt_int(n: int | None) -> str:
    return f"{n or 0:,}"


def excerpt(text: str | None, limit: int) -> str:
    if not text:
        return ""
    if len(text) <= limit:
        return text
    return text[:limit] + f"\n… ({len(text) - limit:,} more characters)"


def usage_lines(u: dict[str, Any] | None) -> list[str]:
    """Tokens (fresh input and cache reads apart) and cost of one request or turn."""
    if not u:
        return []
    parts = [f"in {fmt_int(u.get('input'))}", f"cached {fmt_int(u.get('cache_read'))}"]
    cw = (u.get("cache_write") or 0) + (u.get("cache_write_5m") or 0) + (u.get("cache_write_1h") or 0)
    if cw:
        parts.append(f"cache write {fmt_int(cw)}")
    parts.append(f"out {fmt_int(u.get('output'))}")
    if u.get("reasoning"):
        parts.append(f"(reasoning {fmt_int(u.get('reasoning'))})")
    known = not u.get("unknown") if "unknown" in u else bool(u.get("cost_known"))
    cost = f"**Cost** {md_text(fmt_usd(u.get('cost_usd'), known))}"
    if u.get("model"):
        cost += f" ({md_text(u.get('model'))})"
    return [f"**Tokens** {md_text(' · '.join(parts))}", cost]


def checklist_md(tool: str | None, inp: dict | None) -> str:
    items = todo_items(tool, inp)
    if items is None:
        return ""
    return "\n".join(
        f"- [{'x' if t.done else ' '}] {md_text(t.text)}" + (" *(in progress)*" if t.status == "in_progress" else "") for t in items
    )


def diff_md(call: Event, results: list[Event] | None = None, limit: int = TEXT_EXCERPT) -> str:
    reported = next((r.extra.get("patch") for r in results or [] if isinstance(r.extra.get("patch"), str)), None)
    files = D.diffs_for(call.text, reported=reported, path=call.files[0] if call.files else "")
    if not files:
        return fence(excerpt(call.text, limit), "diff") if call.text else ""
    stats = ", ".join(f"{code_span(f.path)} +{f.added} −{f.removed}" for f in files)
    return stats + "\n\n" + fence(excerpt(D.unified_text(files), limit), "diff")


def _call_input_md(ev: Event, results: list[Event] | None = None) -> list[str]:
    if ev.kind == EventKind.PATCH or (ev.text or "").lstrip().startswith("*** Begin Patch"):
        d = diff_md(ev, results)
        return [d] if d else []
    inp = tool_input(ev)
    chk = checklist_md(ev.tool, inp)
    if chk:
        return [chk]
    if ev.command:
        desc = ev.extra.get("description")
        return ([f"*{md_text(desc)}*"] if isinstance(desc, str) else []) + [fence(excerpt(ev.command, TEXT_EXCERPT), "sh")]
    if inp is not None:
        rows = []
        for k, v in list(inp.items())[:20]:
            if isinstance(v, str) and "\n" not in v and len(v) <= 200:
                rows.append(f"- {md_text(k)}: {code_span(v)}")
            elif isinstance(v, str):
                rows.append(f"- {md_text(k)}:\n\n" + "\n".join("  " + x for x in fence(excerpt(v, 1200)).split("\n")))
            else:
                import orjson

                rows.append(f"- {md_text(k)}: {code_span(excerpt(orjson.dumps(v).decode(), 300))}")
        return ["\n".join(rows)]
    if ev.text:
        return [fence(excerpt(ev.text, OUTPUT_EXCERPT))]
    return []


def _images_md(ev: Event) -> str:
    imgs = (ev.extra or {}).get("images")
    n = imgs if isinstance(imgs, int) else len(imgs) if isinstance(imgs, list) else 0
    return f"*\\[{n} image{'s' if n != 1 else ''}\\]*" if n else ""


def event_markdown(
    ev: Event,
    *,
    result: Event | None = None,
    call: Event | None = None,
    usage: dict | None = None,
    findings: list[dict] | None = None,
    agent: str | None = None,
    cwd: str | None = None,
) -> str:
    """The hover for one event: what it is, when, model, tokens and cost, what a call did and returned."""
    label = KIND_LABEL.get(ev.kind, ev.kind.value)
    if ev.kind in (EventKind.TOOL_CALL, EventKind.PATCH):
        title = f"**{md_text(label)}** · {md_text(event_name(ev, cwd, limit=120))}"
    elif ev.kind == EventKind.META and (ev.subtype or "").startswith("progress/"):
        title = f"**Progress** · {md_text(event_name(ev, cwd, limit=120))}"
    else:
        title = f"**{md_text(label)}**" + (f" · {code_span(ev.tool)}" if ev.tool else "")
    if ev.sidechain or ev.agent_id:
        title += f" · sub-agent {code_span(ev.agent_id or '?')}"
    if ev.duplicate:
        title += " · *mirror of another line*"
    lines = [title, ""]
    meta = [f"line {ev.line}", fmt_ts(ev.timestamp)]
    if ev.turn is not None:
        meta.append(f"turn {ev.turn + 1}")
    meta_md = md_text(" · ".join(meta))
    if ev.model:
        meta_md += " · " + code_span(ev.model)
    if ev.subtype:
        meta_md += " · " + code_span(ev.subtype)
    lines += [meta_md, ""]
    dur = ev.duration_ms if ev.duration_ms is not None else (result.duration_ms if result else None)
    if ev.kind in (EventKind.TOOL_CALL, EventKind.PATCH):
        status = []
        if result is not None:
            if result.extra.get("rejected"):
                status.append("rejected by the user")
            elif result.exit_code is not None:
                status.append(f"exit {result.exit_code}")
            else:
                status.append("error" if result.is_error else "ok")
            status.append(f"result on line {result.line}")
        else:
            status.append("no result recorded")
        if dur is not None:
            status.append(fmt_duration(dur))
        lines.append(md_text(" · ".join(status)))
        lines += [""] + _call_input_md(ev, [result] if result is not None else None)
        if result is not None and result.text:
            lines += ["", "**Output**", fence(excerpt(result.text, OUTPUT_EXCERPT))]
    elif ev.kind == EventKind.TOOL_RESULT:
        st = []
        if ev.exit_code is not None:
            st.append(f"exit {ev.exit_code}")
        if ev.is_error:
            st.append("error")
        if ev.extra.get("rejected"):
            st.append("rejected by the user")
        if dur is not None:
            st.append(fmt_duration(dur))
        if call is not None:
            st.append(f"call on line {call.line}")
        head = md_text(" · ".join(st))
        if call is not None:
            head = f"{code_span(event_name(call, cwd, limit=100))} · " + head if head else code_span(event_name(call, cwd, limit=100))
        if head:
            lines.append(head)
        if ev.text:
            lines.append(fence(excerpt(ev.text, OUTPUT_EXCERPT)))
    elif ev.kind == EventKind.REASONING:
        lines.append(md_to_markdown(excerpt(ev.text, TEXT_EXCERPT)) if ev.text else "*encrypted reasoning (not readable)*")
    elif ev.kind in (EventKind.USER_MESSAGE, EventKind.ASSISTANT_MESSAGE, EventKind.COMPACTION):
        if ev.text:
            lines.append(md_to_markdown(excerpt(ev.text, TEXT_EXCERPT)))
    elif ev.text:
        lines.append(fence(excerpt(ev.text, OUTPUT_EXCERPT)))
    im = _images_md(ev)
    if im:
        lines += ["", im]
    if ev.files and ev.kind != EventKind.PATCH:
        lines += ["", "**Files** " + ", ".join(code_span(f) for f in ev.files[:10])]
    ul = usage_lines(usage)
    if ul:
        lines += [""] + [x + "  " for x in ul]
    for f in findings or []:
        lines += ["", f"⚠ **{md_text(f['rule_id'])}**: {md_text(f['message'])}"]
    return "\n".join(lines).strip() + "\n"


def _md_item(it: B.Item, cwd: str | None, out: list[str], depth: int = 0) -> None:
    pad = "> " * depth

    def emit(s: str) -> None:
        out.extend((pad + x) if pad else x for x in s.split("\n"))
        out.append(pad.rstrip())

    if it.kind == "fold":
        if it.folded:
            emit(f"<sub>⋯ {md_text(B.fold_summary(it))} (lines {it.folded[0].line}–{it.folded[-1].line})</sub>")
        return
    ev = it.event
    assert ev is not None
    anchor = f"<sub>line {ev.line}</sub>"
    k = ev.kind
    if it.kind == "call":
        res = it.result
        status = ""
        if res is not None:
            status = (
                " ✗ " + (f"exit {res.exit_code}" if res.exit_code is not None else "error")
                if (res.is_error or res.exit_code not in (None, 0))
                else " ✓"
            )
        dur = ev.duration_ms if ev.duration_ms is not None else (res.duration_ms if res else None)
        emit(
            f"**🔧 {md_text(event_name(ev, cwd, limit=120))}**{status}"
            + (f" · {fmt_duration(dur)}" if dur is not None else "")
            + f" {anchor}"
        )
        for part in _call_input_md(ev, it.results):
            emit(part)
        for child in it.children:
            _md_item(child, cwd, out, depth + 1)
        for r in it.results:
            if r.text:
                emit(fence(excerpt(r.text, 800)))
        return
    if k == EventKind.USER_MESSAGE:
        emit(f"**🧑 User** {anchor}")
        emit(md_to_markdown(excerpt(ev.text, TEXT_EXCERPT)))
    elif k == EventKind.ASSISTANT_MESSAGE:
        if (ev.text or "").strip():
            emit(f"**🤖 Assistant** {anchor}")
            emit(md_to_markdown(excerpt(ev.text, TEXT_EXCERPT)))
    elif k == EventKind.REASONING:
        if ev.text:
            emit("\n".join("> " + x for x in (f"💭 {anchor}\n\n" + md_to_markdown(excerpt(ev.text, 600))).split("\n")))
    elif k == EventKind.COMPACTION:
        emit(f"**🗜 Context compacted** {anchor}")
    elif k == EventKind.ERROR or ev.is_error:
        emit(f"**⚠ Error** {anchor}")
        if ev.text:
            emit(fence(excerpt(ev.text, 600)))
    elif k == EventKind.TOOL_RESULT:
        emit(f"**Tool output** {code_span(ev.tool or '?')} {anchor}")
        if ev.text:
            emit(fence(excerpt(ev.text, 800)))
    else:
        emit(f"<sub>{md_text(KIND_LABEL.get(k, k.value).lower())} · {md_text(event_name(ev, cwd, limit=140))} · line {ev.line}</sub>")
    im = _images_md(ev)
    if im:
        emit(im)


def turn_markdown(b: B.TurnBlock, cwd: str | None) -> str:
    out: list[str] = []
    t = b.turn
    if b.index is None:
        out.append("## Before the first prompt\n")
    else:
        head = f"## Turn {b.index + 1}"
        if t is not None:
            head += f" · {md_text(fmt_ts(t.started_at))}"
            dur = t.duration_ms or (int((t.ended_at - t.started_at).total_seconds() * 1000) if t.started_at and t.ended_at else None)
            if dur:
                head += f" · {md_text(fmt_duration(dur))}"
        out.append(head + "\n")
        ul = usage_lines(b.usage)
        if ul:
            out.append(" · ".join(ul) + "\n")
    for it in b.items:
        _md_item(it, cwd, out)
    return "\n".join(out)


def _title_md(title: str) -> str:
    """A title (often a prompt's first line, i.e. Markdown) as one line of safe inline Markdown."""
    fenced = False
    for line in md_to_markdown(title).splitlines():
        if line.lstrip().startswith(("```", "~~~")):
            fenced = not fenced  # a fence's content is code: never lifted out of its fence
            continue
        line = line.strip().lstrip("#>").strip()
        if line and not fenced:
            return line
    return md_text(title)


def session_markdown(
    session: dict[str, Any],
    turns: list[Turn],
    events: list[Event],
    totals: dict[str, Any],
    findings: list[dict],
    turn_usage: dict[int, dict],
    *,
    log_missing: bool = False,
) -> str:
    """A whole session as a readable Markdown transcript (Neovim buffer, terminals, virtual documents)."""
    out = [f"# {_title_md(session.get('title') or session['id'])}", ""]
    if log_missing:
        out += ["> The log file no longer exists: this transcript is from the sessionlens store.", ""]
    rows = [
        ("Session", session["id"]),
        ("Agent", session["agent"]),
        ("Project", session.get("project") or "—"),
        ("Working directory", session.get("cwd") or "—"),
        ("Branch / commit", f"{session.get('git_branch') or '—'} / {(session.get('git_commit') or '—')[:12]}"),
        ("Models", ", ".join(session.get("models") or []) or "—"),
        ("CLI version", session.get("cli_version") or "—"),
        ("File", session.get("path") or "—"),
        ("Events / turns", f"{session.get('events', 0):,} / {session.get('turns', 0):,}"),
        (
            "Tokens",
            f"in {totals['input']:,} · cached {totals['cache_read']:,} · cache write {totals['cache_write_5m'] + totals['cache_write_1h']:,} · out {totals['output']:,}",
        ),
        ("Cost", fmt_usd(totals["cost_usd"]) + (f" (+{totals['unknown']} requests with unknown price)" if totals["unknown"] else "")),
    ]
    out.append("| | |\n|---|---|")
    for k, v in rows:
        out.append(f"| {md_text(k, table=True)} | {md_text(str(v), table=True)} |")
    out.append("")
    if findings:
        out.append("## Coach findings\n")
        for f in findings[:50]:
            out.append(f"- line {f['seq']}: **{md_text(f['rule_id'])}** — {md_text(f['message'])}")
        out.append("")
    cwd = session.get("cwd")
    for b in B.build(events, turns, turn_usage):
        out.append(turn_markdown(b, cwd))
    return "\n".join(out)
